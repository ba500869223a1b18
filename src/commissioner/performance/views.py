"""Pages for contract performance, council compliance, the forward plan, value tests and reminders.

Reads go through ``queries`` (scoped by orgs.tenancy), writes through ``services``. Performance is
never public: anonymous users are sent to sign in; others who may not see a contract get a 404.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from commissioner.methods import performance as perf
from commissioner.methods import procurement
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation
from commissioner.performance import forms, queries, services
from commissioner.performance.models import Exemption, KpiReturn, Reminder

HOME = ("Home", "/")
PERFORMANCE = ("Performance", "/performance/")


def _contract(request, ocid):
    contract = queries.contract_for(request.user, ocid)
    if contract is None:
        raise Http404("No contract found")
    return contract


def _page_url(contract):
    return reverse("performance-contract", args=[contract.ocid])


def _crumbs(contract):
    return [HOME, PERFORMANCE, (contract.title[:60], _page_url(contract))]


@login_required
@require_safe
def contract_page(request, ocid):
    contract = _contract(request, ocid)
    data = queries.contract_performance(contract)
    for v in data.kpis:
        v.chart = _chart(v)
    return render(request, "performance/contract.html", {
        "p": data, "contract": contract, "breadcrumbs": [HOME, PERFORMANCE],
        "can_edit": tenancy.can_edit(request.user, contract.owner_id),
        "can_submit": tenancy.can_submit_returns(request.user, contract),
        "can_view_record": type(contract).objects.visible_to(request.user).filter(pk=contract.pk).exists(),
        "labels": procurement.RATING_LABELS, "classes": perf.CLASSIFICATION_LABELS,
    })


def _chart(view):
    """Points for the returns chart (SVG drawn in the template): x by order, y scaled to the range."""
    rets = view.returns[-12:]
    if not rets:
        return None
    values = [float(r.value) for r in rets] + [float(view.kpi.target)]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    width, height, pad = 560, 160, 20
    step = (width - 2 * pad) / max(len(rets) - 1, 1)

    def y(v):
        return round(height - pad - (float(v) - low) / span * (height - 2 * pad), 1)

    points = [(round(pad + i * step, 1), y(r.value), r) for i, r in enumerate(rets)]
    return {"width": width, "height": height, "points": points, "target_y": y(view.kpi.target),
            "line": " ".join(f"{x},{yy}" for x, yy, _ in points), "low": low, "high": high}


def _form_page(request, contract, form, *, title, intro="", submit, action, on_valid):
    if request.method == "POST" and form.is_valid():
        try:
            result = on_valid(form.cleaned_data)
        except services.PerformanceError as e:
            form.add_service_error(e)
        else:
            messages.success(request, result)
            return redirect(_page_url(contract))
    status = 400 if request.method == "POST" else 200
    return render(request, "performance/form.html", {
        "form": form, "contract": contract, "title": title, "intro": intro, "submit": submit, "action": action,
        "breadcrumbs": _crumbs(contract)}, status=status)


def _editor(request, contract):
    if not tenancy.can_edit(request.user, contract.owner_id):
        raise PermissionDenied("Only the council's admins and commissioners can do this")


@login_required
@require_http_methods(["GET", "POST"])
def kpi_new(request, ocid):
    contract = _contract(request, ocid)
    _editor(request, contract)
    form = forms.KpiForm(request.POST or None)

    def save(data):
        kpi = services.create_kpi(actor=request.user, contract=contract, data=data)
        return f"KPI '{kpi.name}' added"

    return _form_page(request, contract, form, title="Add a KPI", submit="Add KPI", on_valid=save,
                      action=reverse("performance-kpi-new", args=[contract.ocid]))


@login_required
@require_http_methods(["GET", "POST"])
def return_new(request, ocid):
    contract = _contract(request, ocid)
    if not tenancy.can_submit_returns(request.user, contract):
        raise PermissionDenied("Only the provider and the council's editors can submit returns")
    form = forms.ReturnForm(request.POST or None, kpis=contract.kpis.filter(is_active=True).order_by("name"))

    def save(data):
        ret = services.submit_return(actor=request.user, kpi=data["kpi"], day=data["period"], value=data["value"],
                                     evidence=data["evidence"])
        return (f"Result for {ret.kpi.name}, {ret.period_start:%d %b %Y} to {ret.period_end:%d %b %Y}, saved: "
                f"{perf.CLASSIFICATION_LABELS[ret.classification].lower()}")

    return _form_page(request, contract, form, title="Submit a result", submit="Submit result", on_valid=save,
                      action=reverse("performance-return-new", args=[contract.ocid]))


@login_required
@require_http_methods(["GET", "POST"])
def return_correct(request, ocid, pk):
    contract = _contract(request, ocid)
    if not tenancy.can_submit_returns(request.user, contract):
        raise PermissionDenied("Only the provider and the council's editors can correct returns")
    ret = get_object_or_404(KpiReturn, pk=pk, kpi__contract=contract, is_current=True)
    form = forms.CorrectionForm(request.POST or None, initial={"value": ret.value, "evidence": ret.evidence})

    def save(data):
        new = services.correct_return(actor=request.user, ret=ret, value=data["value"], evidence=data["evidence"],
                                      reason=data["reason"])
        return f"Result for {new.kpi.name} corrected (the original is kept in the history)"

    return _form_page(request, contract, form, submit="Save correction", on_valid=save,
                      title=f"Correct the result for {ret.kpi.name}, {ret.period_start:%d %b %Y} to "
                            f"{ret.period_end:%d %b %Y}",
                      intro=f"The result given was {ret.value.normalize():f} {ret.kpi.unit}.",
                      action=reverse("performance-return-correct", args=[contract.ocid, ret.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def assess(request, ocid):
    contract = _contract(request, ocid)
    _editor(request, contract)
    today = date.today()
    start, end = perf.period_bounds(perf.add_months(today, -12), "annual")
    data = request.POST or None
    form = forms.AssessmentForm(data, initial={"period_start": start, "period_end": end})
    proposal = None
    if form.is_bound and form.is_valid():
        proposal, _ = services.propose(contract, form.cleaned_data["period_start"], form.cleaned_data["period_end"])
    elif not form.is_bound:
        proposal, _ = services.propose(contract, start, end)
        form.initial["rating"] = proposal.rating

    def save(d):
        a = services.record_assessment(actor=request.user, contract=contract, period_start=d["period_start"],
                                       period_end=d["period_end"], rating=d["rating"], reason=d["reason"],
                                       kind=d["kind"])
        return f"Assessment recorded: {procurement.RATING_LABELS[a.rating]}"

    intro = (f"Proposed rating: {procurement.RATING_LABELS[proposal.rating]}. {proposal.explanation}"
             if proposal else "")
    return _form_page(request, contract, form, title="Assess performance (Procurement Act s.71)", intro=intro,
                      submit="Record assessment", on_valid=save,
                      action=reverse("performance-assess", args=[contract.ocid]))


@login_required
@require_http_methods(["GET", "POST"])
def change_new(request, ocid):
    contract = _contract(request, ocid)
    _editor(request, contract)
    form = forms.ChangeForm(request.POST or None, changes=list(contract.changes.order_by("changed_on")))

    def save(d):
        change = services.record_change(
            actor=request.user, contract=contract, kind=d["kind"], changed_on=d["changed_on"],
            value_change=d["value_change"] or 0, term_change_days=d["term_change_days"] or 0, reason=d["reason"],
            linked_to=d["linked_to"])
        verdict = "a contract change notice (UK10) is required" if change.notice_required else \
            "no contract change notice is required"
        return f"Change recorded: {verdict}"

    return _form_page(request, contract, form, title="Record a contract change", submit="Record change",
                      on_valid=save, action=reverse("performance-change-new", args=[contract.ocid]),
                      intro="The register says whether a contract change notice is required (Procurement Act "
                            "s.74-75): more than 10% of the value for goods and services, 15% for works, or 10% "
                            "of the term, adding up linked changes.")


@login_required
@require_http_methods(["GET", "POST"])
def event_new(request, ocid):
    contract = _contract(request, ocid)
    _editor(request, contract)
    form = forms.EventForm(request.POST or None)

    def save(d):
        event = services.record_event(actor=request.user, contract=contract, kind=d["kind"], day=d["day"],
                                      extension_months=d["extension_months"], notice_days=d["notice_days"],
                                      note=d["note"])
        return f"{event.get_kind_display()} on {event.date:%d %b %Y} recorded"

    return _form_page(request, contract, form, title="Record a contract event", submit="Record event",
                      on_valid=save, action=reverse("performance-event-new", args=[contract.ocid]))


@login_required
@require_http_methods(["GET", "POST"])
def exemption(request, ocid):
    contract = _contract(request, ocid)
    _editor(request, contract)
    current = Exemption.objects.filter(contract=contract).first()
    form = forms.ExemptionForm(request.POST or None,
                               initial={"kind": current.kind if current else "", "note": current.note if current else ""})

    def save(d):
        services.set_exemption(actor=request.user, contract=contract, kind=d["kind"], note=d["note"])
        return "Exemption saved" if d["kind"] else "The contract is recorded as not exempt"

    return _form_page(request, contract, form, title="Procurement Act KPIs: exemption", submit="Save",
                      on_valid=save, action=reverse("performance-exemption", args=[contract.ocid]),
                      intro="Contracts worth more than £5,000,000 need at least 3 KPIs (s.52), except frameworks, "
                            "concessions, light-touch contracts and private utilities.")


@login_required
@require_http_methods(["POST"])
def retire(request, ocid, kind, pk):
    """Retire a KPI or an event (POST from the contract page; nothing is deleted)."""
    contract = _contract(request, ocid)
    _editor(request, contract)
    if kind == "kpis":
        obj = get_object_or_404(contract.kpis, pk=pk, is_active=True)
        services.retire_kpi(actor=request.user, kpi=obj)
        messages.success(request, f"KPI '{obj.name}' retired: its results stay in the history")
    else:
        obj = get_object_or_404(contract.events, pk=pk, is_active=True)
        services.retire_event(actor=request.user, event=obj)
        messages.success(request, f"{obj.get_kind_display()} on {obj.date:%d %b %Y} withdrawn")
    return redirect(_page_url(contract))


# Council-wide pages --------------------------------------------------------------------------------

def _organisations(user):
    ids = tenancy.member_org_ids(user)
    qs = Organisation.objects.all() if user.is_superuser else Organisation.objects.filter(pk__in=ids)
    return qs.order_by("name")


@login_required
@require_safe
def overview(request):
    orgs = list(_organisations(request.user).filter(owned_contracts__isnull=False).distinct()[:200]) \
        if request.user.is_superuser else list(_organisations(request.user))
    provider_contracts = []
    if tenancy.provider_ids(request.user):
        provider_contracts = list(queries.performance_contracts(request.user).filter(
            contract_suppliers__supplier__provider_id__in=tenancy.provider_ids(request.user)).distinct()
            .order_by("-end_date")[:200])
    reminders = Reminder.objects.filter(user=request.user, read_at__isnull=True).select_related("contract")[:20]
    return render(request, "performance/overview.html", {
        "organisations": orgs, "provider_contracts": provider_contracts, "reminders": reminders,
        "breadcrumbs": [HOME]})


PAGE_SIZE = 100


def _paged(request, rows):
    """A page of a council-wide list: page_obj, page_range and the total."""
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return {"page_obj": page, "total": len(rows),
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)}


def _org(request, slug):
    org = get_object_or_404(Organisation, slug=slug)
    if not (request.user.is_superuser or org.pk in tenancy.member_org_ids(request.user)):
        raise Http404("No organisation found")
    return org


@login_required
@require_safe
def compliance(request, slug):
    org = _org(request, slug)
    return render(request, "performance/compliance.html", {
        "org": org, **_paged(request, queries.compliance(org)), "breadcrumbs": [HOME, PERFORMANCE],
        "today": date.today(), "synthetic": queries.has_synthetic(org)})


@login_required
@require_safe
def forward_plan(request, slug):
    org = _org(request, slug)
    return render(request, "performance/forward_plan.html", {
        "org": org, **_paged(request, queries.forward_plan(org)), "lead_times": queries.lead_times(),
        "breadcrumbs": [HOME, PERFORMANCE], "today": date.today()})


@login_required
@require_safe
def opportunities(request, slug):
    org = _org(request, slug)
    return render(request, "performance/opportunities.html", {
        "org": org, **_paged(request, queries.opportunities(org)), "settings": queries.value_test_settings(),
        "breadcrumbs": [HOME, PERFORMANCE], "synthetic": queries.has_synthetic(org)})


@login_required
@require_http_methods(["GET", "POST"])
def reminders(request):
    qs = Reminder.objects.filter(user=request.user).select_related("contract")
    if request.method == "POST":
        qs.filter(read_at__isnull=True).update(read_at=timezone.now())
        messages.success(request, "Reminders marked as read")
        return redirect("performance-reminders")
    return render(request, "performance/reminders.html", {"reminders": qs[:200], "breadcrumbs": [HOME, PERFORMANCE]})
