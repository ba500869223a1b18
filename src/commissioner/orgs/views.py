"""Pages for organisations and the audit trail, and the list-page helpers the provider pages share.

Who may do what (shown on the pages too):
- organisation pages are public: organisations are public bodies; their contracts list shows only
  what the user may see (``queries``).
- correcting which organisation a buyer name belongs to: superusers and anyone with the admin role
  in any organisation (buyer names come from public notices, so no single council owns them).
- the audit trail: superusers see every event; organisation admins see their organisations' events
  and the changes they made themselves; everyone else is refused.
"""

from functools import wraps

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from commissioner.orgs import services
from commissioner.orgs.forms import AliasCorrectionForm
from commissioner.orgs.models import Organisation, OrganisationAlias
from commissioner.orgs.tenancy import member_org_ids
from commissioner.register import queries

ORG_SORT_LABELS = [
    ("-contracts", "Most contracts"), ("contracts", "Fewest contracts"), ("-value", "Highest total value"),
    ("value", "Lowest total value"), ("name", "Name (A to Z)"), ("-name", "Name (Z to A)"),
]
LATEST_CONTRACTS = 10
HOME = ("Home", reverse_lazy("home"))
ORG_CRUMBS = [HOME, ("Organisations", reverse_lazy("organisation-list"))]
ORG_FIELD_LABELS = {"q": "Search", "kind": "Kind", "region": "Region", "sort": "Sort by"}
AUDIT_FIELD_LABELS = {"model": "Record type", "action": "Action", "actor": "Changed by",
                      "date_from": "From date", "date_to": "To date"}


# --- helpers shared with the provider pages ----------------------------------------------------------

def is_any_admin(user):
    """Superusers and users with the admin role in at least one organisation."""
    return bool(user.is_authenticated and (user.is_superuser or member_org_ids(user, ("admin",))))


def parse_filters(request, filters_class, validate=None, labels=None):
    """(filters, errors): ``errors`` maps a parameter (the id of its field) to a message naming it."""
    try:
        filters = filters_class.from_params(request.GET)
        if validate is not None:
            validate(filters)
        return filters, {}
    except queries.FilterError as e:
        return filters_class(), {e.field: f"{(labels or {}).get(e.field, e.field)}: {e.message}"}


def list_context(request, qs, errors, per_page=None):
    """Context shared by the paginated pages: the page of results (for includes/pagination.html) and counts."""
    page = Paginator(qs, per_page or settings.REGISTER_PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page_obj": page, "count": page.paginator.count, "errors": errors,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
    }


def csv_response(request, filters_class, rows_for, filename, validate=None, labels=None):
    """Stream the CSV of exactly the filtered list; a bad filter is a 400 naming the parameter."""
    filters, errors = parse_filters(request, filters_class, validate, labels)
    if errors:
        return render(request, "orgs/bad_request.html", {"errors": errors}, status=400)
    response = StreamingHttpResponse(queries.csv_lines(rows_for(filters)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def admin_required(view):
    """Sign-in for anonymous users, 403 for signed-in users who are not admins."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_any_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)
    return wrapped


# --- organisations -----------------------------------------------------------------------------------

def _regions():
    return list(Organisation.objects.exclude(region="").order_by("region").values_list("region", flat=True)
                .distinct())


def _validate_org_filters(filters):
    if filters.region and not Organisation.objects.filter(region=filters.region).exists():
        raise queries.FilterError("region", f"'{filters.region[:40]}' is not a region we hold")


@require_GET
def organisation_list(request):
    filters, errors = parse_filters(request, queries.OrgFilters, _validate_org_filters, ORG_FIELD_LABELS)
    qs = queries.organisations(request.user, filters)
    context = list_context(request, qs, errors) | {
        "filters": filters, "kinds": Organisation.Kind.choices, "regions": [(r, r) for r in _regions()],
        "sorts": ORG_SORT_LABELS, "sort_label": dict(ORG_SORT_LABELS)[filters.sort], "breadcrumbs": [HOME],
    }
    return render(request, "orgs/organisation_list.html", context, status=400 if errors else 200)


@require_GET
def organisation_csv(request):
    return csv_response(
        request, queries.OrgFilters,
        lambda f: queries.organisation_csv_rows(queries.organisations(request.user, f)), "organisations.csv",
        _validate_org_filters, ORG_FIELD_LABELS)


def _organisation_page(request, organisation, alias_forms=None, status=200):
    contracts = queries.contracts(request.user, queries.ContractFilters(buyer=organisation.slug))
    can_correct = is_any_admin(request.user)
    aliases = list(organisation.aliases.all())
    forms = alias_forms or {}
    for alias in aliases:
        form = forms.get(alias.pk)
        alias.field_name = alias.field_id = AliasCorrectionForm(alias=alias)["organisation"].html_name
        alias.label = f"Organisation for ‘{alias.name}’"
        alias.selected = form.data.get(alias.field_name, "") if form else organisation.slug
        alias.error = form.errors["organisation"][0] if form and "organisation" in form.errors else ""
    context = {
        "organisation": organisation, "breadcrumbs": ORG_CRUMBS,
        "aliases": aliases,
        "can_correct": can_correct,
        "org_options": ([(o.slug, AliasCorrectionForm.base_fields["organisation"].label_from_instance(o))
                         for o in Organisation.objects.order_by("name")] if can_correct else []),
        "contracts": contracts[:LATEST_CONTRACTS],
        "contract_count": contracts.count(),
        "contracts_href": "/contracts/?" + urlencode({"buyer": organisation.slug}),
        "dashboard_href": f"/organisations/{organisation.slug}/dashboard/",
        "errors": {a.field_id: a.error for a in aliases if a.error},
        "replaced_by": Organisation.objects.filter(la_code=organisation.replaced_by).first()
        if organisation.replaced_by else None,
    }
    return render(request, "orgs/organisation_detail.html", context, status=status)


@require_GET
def organisation_detail(request, slug):
    return _organisation_page(request, get_object_or_404(Organisation, slug=slug))


@require_POST
def alias_correct(request, slug, pk):
    """Point a buyer name at another organisation; its contracts move with it (audited)."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("organisation-detail", args=[slug]))
    if not is_any_admin(request.user):
        raise PermissionDenied
    organisation = get_object_or_404(Organisation, slug=slug)
    alias = get_object_or_404(OrganisationAlias, pk=pk, organisation=organisation)
    form = AliasCorrectionForm(request.POST, alias=alias)
    if not form.is_valid():
        return _organisation_page(request, organisation, {alias.pk: form}, status=400)
    target = form.cleaned_data["organisation"]
    services.correct_alias(alias=alias, organisation=target, actor=request.user)
    messages.success(request, f"‘{alias.name}’ now belongs to {target.name}. Its contracts moved with it.")
    return redirect("organisation-detail", slug=target.slug)


# --- audit trail -------------------------------------------------------------------------------------

def _display(value):
    if value is None or value == "":
        return "(empty)"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return str(value)


def _field_label(model_label, name):
    """The model field's verbose name where we know it ("companies house"), else the key with spaces."""
    try:
        field = apps.get_model(model_label)._meta.get_field(name)
    except (LookupError, ValueError, FieldDoesNotExist):
        field = None
    # A reverse relation (a deleted record's children kept in its audit entry) has no verbose name.
    return str(getattr(field, "verbose_name", None) or name.replace("_", " "))


def field_changes(before, after, model_label=""):
    """Rows (field, before, after, changed) for the union of the fields in two snapshots."""
    before, after = before or {}, after or {}
    fields = list(before) + [k for k in after if k not in before]
    return [
        {"field": _field_label(model_label, name), "before": _display(before.get(name)) if name in before else "",
         "after": _display(after.get(name)) if name in after else "",
         "changed": name in before and name in after and before[name] != after[name]}
        for name in fields
    ]


@require_GET
@admin_required
def audit_list(request):
    filters, errors = parse_filters(request, queries.AuditFilters, labels=AUDIT_FIELD_LABELS)
    qs = queries.audit_events(request.user, filters)
    scope = queries.audit_scope(request.user)
    context = list_context(request, qs, errors) | {
        "filters": filters,
        "models": [(m, m) for m in scope.order_by("model").values_list("model", flat=True).distinct()],
        "actions": [(a, a) for a in scope.order_by("action").values_list("action", flat=True).distinct()],
        "everything": request.user.is_superuser, "breadcrumbs": [HOME],
    }
    for event in context["page_obj"]:
        event.changes = field_changes(event.before, event.after, event.model)
    return render(request, "orgs/audit_list.html", context, status=400 if errors else 200)
