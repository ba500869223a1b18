"""Provider pages: the list, one provider with its names and contracts, merge and split.

Who may merge providers or split an identity out of one (shown on the pages too):
- a public provider (from public notices): superusers and anyone with the admin role in any
  organisation, since no single council owns public data;
- a private provider (added by a council): superusers and admins of the organisation that owns it;
- only providers alike may be merged: both public, or both private to the same organisation.
Every merge and split goes through ``register.services`` and is recorded in the audit trail.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods

from commissioner.orgs.tenancy import is_org_admin
from commissioner.orgs.views import HOME, csv_response, is_any_admin, list_context, parse_filters
from commissioner.register import queries, services
from commissioner.register.models import Provider, Supplier, SupplierType

PROVIDER_SORT_LABELS = [
    ("-value", "Highest total value"), ("value", "Lowest total value"), ("-contracts", "Most contracts"),
    ("contracts", "Fewest contracts"), ("name", "Name (A to Z)"), ("-name", "Name (Z to A)"),
]
COMPANIES_HOUSE_URL = "https://find-and-update.company-information.service.gov.uk/company/{}"
CHARITY_URL = "https://register-of-charities.charitycommission.gov.uk/charity-search/-/charity-details/{}"
MERGE_CANDIDATES = 20
CRUMBS = [HOME, ("Providers", reverse_lazy("provider-list"))]
FIELD_LABELS = {"q": "Search", "supplier_type": "Supplier type", "buyer": "Buyer", "sort": "Sort by"}


def may_manage(user, provider):
    """May the user merge into, or split identities out of, this provider? (rule in the module docstring)"""
    if not user.is_authenticated:
        return False
    if provider.is_private:
        return is_org_admin(user, provider.owner_id)
    return is_any_admin(user)


def may_merge(keep, merge):
    return keep.is_private == merge.is_private and (not keep.is_private or keep.owner_id == merge.owner_id)


def _buyers(user):
    return [(o.slug, o.name) for o in queries.organisations(user).order_by("name")]


def _validator(buyers):
    def validate(filters):
        if filters.buyer and filters.buyer not in {slug for slug, _ in buyers}:
            raise queries.FilterError("buyer", f"'{filters.buyer[:40]}' is not a buyer with contracts you can see")
    return validate


@require_GET
def provider_list(request):
    buyers = _buyers(request.user)
    filters, errors = parse_filters(request, queries.ProviderFilters, _validator(buyers), FIELD_LABELS)
    qs = queries.providers(request.user, filters)
    context = list_context(request, qs, errors) | {
        "filters": filters, "types": SupplierType.choices, "buyers": buyers,
        "sorts": PROVIDER_SORT_LABELS, "sort_label": dict(PROVIDER_SORT_LABELS)[filters.sort],
        "breadcrumbs": [HOME],
    }
    return render(request, "register/provider_list.html", context, status=400 if errors else 200)


@require_GET
def provider_csv(request):
    return csv_response(
        request, queries.ProviderFilters,
        lambda f: queries.provider_csv_rows(queries.providers(request.user, f)), "providers.csv",
        _validator(_buyers(request.user)), FIELD_LABELS)


def _visible_provider(user, pk):
    return get_object_or_404(Provider.objects.visible_to(user), pk=pk)


@require_GET
def provider_detail(request, pk):
    provider = _visible_provider(request.user, pk)
    contracts = queries.with_suppliers(queries.provider_contracts(request.user, provider))
    identities = list(queries.provider_identities(request.user, provider))
    context = list_context(request, contracts, {}) | {
        "provider": provider, "breadcrumbs": CRUMBS,
        "totals": queries.provider_totals(request.user, provider),
        "identities": identities,
        "can_manage": may_manage(request.user, provider),
        "companies_house_url": COMPANIES_HOUSE_URL.format(provider.companies_house)
        if provider.companies_house else "",
        "charity_url": CHARITY_URL.format(provider.charity_number) if provider.charity_number else "",
    }
    return render(request, "register/provider_detail.html", context)


def _crumbs(provider):
    return [*CRUMBS, (provider.name, reverse("provider-detail", args=[provider.pk]))]


def _managed_provider(request, pk):
    """The provider, if the user may manage it: sign-in first, 404 when invisible, 403 when not allowed."""
    if not request.user.is_authenticated:
        return None
    provider = _visible_provider(request.user, pk)
    if not may_manage(request.user, provider):
        raise PermissionDenied
    return provider


@require_http_methods(["GET", "POST"])
def provider_merge(request, pk):
    """Find another provider (by id or name), confirm, then merge it into this one."""
    keep = _managed_provider(request, pk)
    if keep is None:
        return redirect_to_login(request.get_full_path())
    context = {"provider": keep, "errors": {}, "query": "", "breadcrumbs": _crumbs(keep)}
    raw = (request.POST if request.method == "POST" else request.GET).get("other", "").strip()
    context["query"] = raw[:200]
    if not raw:
        if request.method == "GET" and "other" not in request.GET:
            return render(request, "register/provider_merge.html", context)
        context["errors"]["other"] = "Enter the ID or name of the provider to merge into this one"
        return render(request, "register/provider_merge.html", context, status=400)
    if not raw.isdigit():
        candidates = queries.providers(request.user, queries.ProviderFilters(q=raw[:200], sort="name"))
        context["candidates"] = [p for p in candidates.exclude(pk=keep.pk)[:MERGE_CANDIDATES]
                                 if may_manage(request.user, p) and may_merge(keep, p)]
        return render(request, "register/provider_merge.html", context)
    merge = Provider.objects.visible_to(request.user).filter(pk=int(raw)).first()
    error = ("There is no provider with that ID" if merge is None else
             "You cannot merge a provider into itself" if merge.pk == keep.pk else
             "You may not merge that provider" if not may_manage(request.user, merge) else
             "Only two public providers, or two private providers of the same organisation, can be merged"
             if not may_merge(keep, merge) else "")
    if error:
        context["errors"]["other"] = error
        return render(request, "register/provider_merge.html", context, status=400)
    if request.method == "POST":
        name = merge.name
        services.merge_providers(keep=keep, merge=merge, actor=request.user)
        messages.success(request, f"Merged ‘{name}’ into ‘{keep.name}’. Its names and contracts are now here.")
        return redirect("provider-detail", pk=keep.pk)
    context["merge"] = merge
    context["merge_identities"] = queries.provider_identities(request.user, merge)
    return render(request, "register/provider_merge.html", context)


@require_http_methods(["GET", "POST"])
def provider_split(request, pk, supplier_pk):
    """Confirm, then give one supplier identity a provider of its own."""
    provider = _managed_provider(request, pk)
    if provider is None:
        return redirect_to_login(request.get_full_path())
    supplier = get_object_or_404(Supplier, pk=supplier_pk, provider=provider)
    if provider.suppliers.count() < 2:
        raise Http404("A provider with one name cannot be split")
    if request.method == "POST":
        new = services.split_supplier(supplier=supplier, actor=request.user)
        messages.success(request, format_html(
            "‘{}’ is now a provider of its own: <a class=\"govuk-notification-banner__link\" href=\"{}\">{}</a>.",
            supplier.name, reverse("provider-detail", args=[new.pk]), new.name))
        return redirect("provider-detail", pk=provider.pk)
    return render(request, "register/provider_split.html",
                  {"provider": provider, "supplier": supplier, "breadcrumbs": _crumbs(provider)})
