"""Peer groups on the web: computed nearest neighbours on measures and weights a user chooses (and saved as
a peer group), a council's own peer groups (made, changed and deleted by its admins and commissioners),
and the code mapping table (changed by site administrators).

Stored peer groups are seen only by their council's members (an imported CIPFA list is not open data);
the nearest-neighbour finder reads published values only, so anyone may use it.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from commissioner.benchmarking import queries, services
from commissioner.benchmarking.models import CodeMapping, Measure, PeerGroup
from commissioner.benchmarking.views import BENCHMARKING, HOME, download
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation
from commissioner.register.forms import GovukFormMixin

MAX_CODES = 400
MAX_WEIGHT = Decimal(1000)
NEIGHBOUR_FIELDS = ["rank", "organisation_code", "la_code", "organisation", "distance", "rebased"]


def _council(slug):
    return get_object_or_404(Organisation, slug=slug)


def _crumbs(org):
    return [HOME, BENCHMARKING, (org.name, reverse("benchmarking-council", args=[org.slug]))]


# -- computed nearest neighbours ----------------------------------------------------------------------

def _choice(request, org):
    """(available measures, chosen [(code, weight)], period, limit, errors) from the GET or POST data."""
    data = request.POST if request.method == "POST" else request.GET
    available = list(Measure.objects.filter(values__organisation=org, values__value__isnull=False).distinct()
                     .order_by("code"))
    known = {m.code for m in available}
    errors = {}
    chosen = []
    for code in dict.fromkeys(c.strip().upper()[:40] for c in data.getlist("m") if c.strip()):
        if code not in known:
            errors["m"] = f"{org.name} has no values for {code}: choose from the list"
            continue
        raw = (data.get(f"w-{code}") or "1").strip()
        try:
            weight = Decimal(raw)
            if not weight.is_finite() or weight < 0 or weight > MAX_WEIGHT:
                raise InvalidOperation
        except InvalidOperation:
            errors[f"w-{code}"] = f"Enter the weight for {code} as a number from 0 to {MAX_WEIGHT}"
            weight = Decimal(1)
        chosen.append((code, weight))
    if chosen and not any(w for _, w in chosen) and not errors:
        errors["m"] = "Give at least one chosen measure a weight above 0"
    limit_raw = (data.get("limit") or str(queries.NEAREST)).strip()
    limit = int(limit_raw) if limit_raw.isdigit() and 1 <= int(limit_raw) <= 100 else None
    if limit is None:
        errors["limit"] = "Enter how many neighbours as a whole number from 1 to 100"
        limit = queries.NEAREST
    return available, chosen, limit, errors


@require_http_methods(["GET", "POST"])
def neighbours(request, slug):
    """Choose measures and weights; see the nearest councils; download them or save them as a peer group."""
    org = _council(slug)
    available, chosen, limit, errors = _choice(request, org)
    result, problem = None, ""
    if chosen and not errors:
        try:
            result = queries.computed_neighbours(org, [c for c, _ in chosen], weights=[w for _, w in chosen],
                                                 limit=limit)
        except ValueError as e:
            problem = str(e)
            errors["m"] = problem
    if request.method == "POST":
        return _save_neighbours(request, org, chosen, result, errors)
    fmt = request.GET.get("format", "")
    if fmt and result is None:
        raise Http404("Choose measures first")
    if fmt in ("csv", "json"):
        rows = [{"rank": n.rank, "organisation_code": n.key.gss_code, "la_code": n.key.la_code,
                 "organisation": n.key.name, "distance": round(n.distance, 6), "rebased": round(n.rebased, 6)}
                for n in result.neighbours]
        meta = {"organisation": org.name, "measures": ", ".join(f"{m.code} ({p}) weight {w}" for (m, p), (_, w)
                                                                in zip(result.measures, chosen, strict=True)),
                "compared": result.compared, "method": result.method}
        return download(f"neighbours-{org.slug}", fmt, NEIGHBOUR_FIELDS, rows, meta)
    if fmt:
        raise Http404("Unknown format: use csv or json")
    weights = dict(chosen)
    return render(request, "benchmarking/neighbours.html", {
        "org": org, "available": [(m, m.code in weights, weights.get(m.code, 1)) for m in available],
        "chosen": chosen, "limit": limit, "result": result, "errors": errors, "method": queries.NEIGHBOUR_METHOD,
        "can_save": request.user.is_authenticated and tenancy.can_edit(request.user, org.pk),
        "query": request.GET.urlencode(), "breadcrumbs": _crumbs(org)}, status=400 if errors else 200)


def _save_neighbours(request, org, chosen, result, errors):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    if not tenancy.can_edit(request.user, org.pk):
        raise PermissionDenied("Only the council's admins and commissioners can save its peer groups")
    name = (request.POST.get("name") or "").strip()
    if not name:
        errors["name"] = "Enter a name for the peer group"
    if result is None and not errors:
        errors["m"] = "Choose at least one measure"
    if errors:
        messages.error(request, "The peer group was not saved: " + "; ".join(errors.values()))
        return redirect(reverse("benchmarking-neighbours", args=[org.slug]))
    source = "computed on " + ", ".join(f"{m.code} {p} (weight {w})" for (m, p), (_, w)
                                        in zip(result.measures, chosen, strict=True))
    try:
        group = services.save_peer_group(actor=request.user, owner=org, name=name, kind=PeerGroup.Kind.COMPUTED,
                                         codes=[n.key.gss_code or n.key.la_code for n in result.neighbours],
                                         source=source)
    except services.BenchmarkError as e:
        messages.error(request, f"The peer group was not saved: {e.message}")
        return redirect(reverse("benchmarking-neighbours", args=[org.slug]))
    messages.success(request, f"Peer group '{group.name}' saved with {group.members.count()} councils")
    return redirect(reverse("benchmarking-peer-groups", args=[org.slug]))


# -- a council's peer groups --------------------------------------------------------------------------

class PeerGroupForm(GovukFormMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=200,
                           error_messages={"required": "Enter the peer group's name",
                                           "max_length": "Enter a name of at most 200 characters"},
                           widget=forms.TextInput(attrs={"class": "govuk-input"}))
    codes = forms.CharField(
        label="Member councils", max_length=20000,
        help_text="ONS (GSS) codes such as E08000009, or three-letter council codes, separated by commas, spaces "
                  "or new lines. Old codes are followed through the code mapping table; the council itself is left "
                  "out.",
        error_messages={"required": "Enter at least one council code",
                        "max_length": "Enter at most 20,000 characters of codes"},
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 6}))

    def clean_codes(self):
        codes = list(dict.fromkeys(c.upper() for c in self.cleaned_data["codes"].replace(",", " ").split()))
        if len(codes) > MAX_CODES:
            raise forms.ValidationError(f"Enter at most {MAX_CODES} council codes")
        bad = [c for c in codes if len(c) > 12 or not c.isalnum()]
        if bad:
            raise forms.ValidationError(f"These are not council codes: {', '.join(b[:12] for b in bad[:10])}")
        return codes


def _editable(request, org):
    if not tenancy.can_edit(request.user, org.pk):
        raise PermissionDenied("Only the council's admins and commissioners can change its peer groups")


@login_required
@require_http_methods(["GET", "POST"])
def peer_groups(request, slug, pk=None):
    """The council's stored peer groups (its members see them) and the form to add or change one."""
    org = _council(slug)
    if not (request.user.is_superuser or org.pk in tenancy.member_org_ids(request.user)):
        raise PermissionDenied("Only the council's members can see its peer groups")
    groups = PeerGroup.objects.filter(owner=org).prefetch_related("members")
    group = get_object_or_404(groups, pk=pk) if pk is not None else None
    can_edit = tenancy.can_edit(request.user, org.pk)
    initial = None
    if group is not None:
        initial = {"name": group.name, "codes": "\n".join(sorted(m.gss_code or m.la_code for m in group.members.all()))}
    form = PeerGroupForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        _editable(request, org)
        if form.is_valid():
            try:
                saved = services.save_peer_group(actor=request.user, owner=org, group=group, **form.cleaned_data)
            except services.BenchmarkError as e:
                form.add_error(e.field if e.field in form.fields else None, e.message)
            else:
                messages.success(request, f"Peer group '{saved.name}' saved with {saved.members.count()} councils")
                return redirect(reverse("benchmarking-peer-groups", args=[org.slug]))
    return render(request, "benchmarking/peer_groups.html", {
        "org": org, "groups": groups, "group": group, "form": form, "can_edit": can_edit,
        "breadcrumbs": _crumbs(org)}, status=400 if form.errors else 200)


@login_required
@require_POST
def peer_group_delete(request, slug, pk):
    org = _council(slug)
    _editable(request, org)
    group = get_object_or_404(PeerGroup, owner=org, pk=pk)
    services.delete_peer_group(actor=request.user, group=group)
    messages.success(request, f"Peer group '{group.name}' deleted")
    return redirect(reverse("benchmarking-peer-groups", args=[org.slug]))


# -- the code mapping table ---------------------------------------------------------------------------

class CodeMappingForm(GovukFormMixin, forms.Form):
    old_code = forms.CharField(label="Old code", max_length=12,
                               help_text="The code a source still uses, e.g. E10000009 (Dorset County Council)",
                               error_messages={"required": "Enter the old code",
                                               "max_length": "Enter a code of at most 12 characters"},
                               widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10"}))
    new_code = forms.CharField(label="New code", max_length=12,
                               help_text="The successor's code, e.g. E06000059 (Dorset Council)",
                               error_messages={"required": "Enter the new code",
                                               "max_length": "Enter a code of at most 12 characters"},
                               widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10"}))
    note = forms.CharField(label="Note (optional)", max_length=300, required=False,
                           error_messages={"max_length": "Enter a note of at most 300 characters"},
                           widget=forms.TextInput(attrs={"class": "govuk-input"}))


@require_http_methods(["GET", "POST"])
def code_mappings(request):
    """The code mapping table (public: it is how data from different sources joins); site administrators
    add and remove mappings."""
    is_admin = request.user.is_authenticated and request.user.is_superuser
    form = CodeMappingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied("Only a site administrator may change the code mapping table")
        if form.is_valid():
            try:
                services.add_code_mapping(actor=request.user, **form.cleaned_data)
            except services.BenchmarkError as e:
                form.add_error("new_code" if "code" in e.field else None, e.message)
            else:
                messages.success(request, f"{form.cleaned_data['old_code'].upper()} now maps to "
                                          f"{form.cleaned_data['new_code'].upper()}")
                return redirect(reverse("benchmarking-code-mappings"))
    fmt = request.GET.get("format", "")
    mappings = list(CodeMapping.objects.all())
    if fmt in ("csv", "json"):
        rows = [{"old_code": m.old_code, "new_code": m.new_code, "note": m.note} for m in mappings]
        return download("code-mappings", fmt, ["old_code", "new_code", "note"], rows,
                        {"meaning": "values filed under the old code are loaded for the new code's council"})
    if fmt:
        raise Http404("Unknown format: use csv or json")
    return render(request, "benchmarking/code_mappings.html", {
        "mappings": mappings, "form": form, "is_admin": is_admin, "breadcrumbs": [HOME, BENCHMARKING]},
        status=400 if form.errors else 200)


@login_required
@require_POST
def code_mapping_delete(request, pk):
    if not request.user.is_superuser:
        raise PermissionDenied("Only a site administrator may change the code mapping table")
    mapping = get_object_or_404(CodeMapping, pk=pk)
    services.delete_code_mapping(actor=request.user, mapping=mapping)
    messages.success(request, f"The mapping from {mapping.old_code} was removed")
    return redirect(reverse("benchmarking-code-mappings"))
