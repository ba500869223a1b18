"""Social return and social value pages: a council's SROI models and promised-vs-delivered summary,
one SROI model (results and sensitivity), the council's proxy library (form, CSV import/export), a
contract's commitments and deliveries, and a supplier's commitments across councils.

Reads go through ``queries`` (``visible_to``); writes through ``services`` (audited). Every table
has a CSV and JSON download (``?table=...&format=csv|json``) that says whether rows are synthetic.
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from commissioner.core.downloads import table_response
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation
from commissioner.socialvalue import forms, queries, services
from commissioner.socialvalue.templatetags.sv_format import number, places, pounds

HOME = ("Home", "/")


def _num(v):
    return None if v is None else str(v)


def _download(request, name, tables, table, fmt):
    if fmt not in ("csv", "json") or table not in tables:
        raise Http404(f"Unknown table or format: tables {', '.join(tables)}; formats csv, json")
    header, rows = tables[table]()
    return table_response(f"{name}-{table}", fmt, header, rows, meta={"table": table})


def _org(slug):
    org = queries.organisation(slug)
    if org is None:
        raise Http404("No organisation found")
    return org


def _commitment_table(rows, with_owner=False):
    header = ["contract_ocid", "contract", *(["council"] if with_owner else []), "measure", "unit", "promised",
              "delivered", "delivered_percent", "periods", "synthetic"]
    return header, [[r["contract"].ocid, r["contract"].title, *([r["commitment"].owner.name] if with_owner else []),
                     r["measure"], r["unit"], _num(r["promised"]), _num(r["delivered"]),
                     None if r["share"] is None else round(float(r["share"]), 1), r["periods"], r["synthetic"]]
                    for r in rows]


def _grouped_table(rows):
    header = ["measure", "unit", "promised", "delivered", "delivered_percent", "contracts", "synthetic"]
    return header, [[g["measure"], g["unit"], _num(g["promised"]), _num(g["delivered"]),
                     None if g["share"] is None else round(float(g["share"]), 1), g["contracts"], g["synthetic"]]
                    for g in queries.grouped(rows)]


# Where social value work starts ------------------------------------------------------------------

@login_required
@require_safe
def index(request):
    """The user's councils (each with its SROI models, commitments and proxy library) and the open proxies."""
    councils = queries.councils_for(request.user)
    return render(request, "socialvalue/index.html", {"councils": councils, "breadcrumbs": [HOME]})


# A council ----------------------------------------------------------------------------------------

def _council_page(request, org, *, model_form=None, status=200):
    models_ = queries.models_of(request.user, org)
    rows = queries.for_council(request.user, org)
    context = {"org": org, "models": models_, "rows": rows, "groups": queries.grouped(rows),
               "can_edit": tenancy.can_edit(request.user, org.pk), "model_form": model_form or forms.ModelForm(),
               "synthetic": any(m.synthetic for m in models_) or any(r["synthetic"] for r in rows),
               "breadcrumbs": [HOME, ("Social value", reverse("socialvalue-index"))]}
    return render(request, "socialvalue/council.html", context, status=status)


@login_required
@require_safe
def council(request, slug):
    org = _org(slug)
    fmt = request.GET.get("format", "")
    if fmt:
        rows = queries.for_council(request.user, org)
        return _download(request, f"social-value-{org.slug}", {
            "promised": lambda: _grouped_table(rows),
            "commitments": lambda: _commitment_table(rows),
            "models": lambda: (["id", "name", "contract_ocid", "service", "inputs", "synthetic"],
                               [[m.pk, m.name, m.contract.ocid if m.contract else None, m.service, str(m.inputs),
                                 m.synthetic] for m in queries.models_of(request.user, org)]),
        }, request.GET.get("table", "promised"), fmt)
    return _council_page(request, org)


@login_required
@require_POST
def model_create(request, slug):
    org = _org(slug)
    services.refuse_unless_editor(request.user, org, "create an SROI model", org)
    form = forms.ModelForm(request.POST)
    ok, model = form.submit(
        lambda d: services.create_model(actor=request.user, owner=org, name=d["name"], inputs=d["inputs"],
                                        contract=d["contract"], service=d["service"]),
        check=lambda d: services.clean_model(org, d))
    if ok:
        messages.success(request, "SROI model created: add its outcomes")
        return redirect(reverse("socialvalue-model", args=[model.pk]))
    return _council_page(request, org, model_form=form, status=400)


# One SROI model -----------------------------------------------------------------------------------

def _model(request, pk):
    model = queries.model_for(request.user, pk)
    if model is None:
        raise Http404("No SROI model found")
    return model


def _model_page(request, model, *, outcome_form=None, status=200):
    result, sensitivity = queries.results(model)
    library = queries.proxies(request.user, model.owner)
    context = {"model": model, "outcomes": list(model.outcomes.all().order_by("id")), "result": result,
               "sensitivity": sensitivity, "can_edit": tenancy.can_edit(request.user, model.owner_id),
               "outcome_form": outcome_form or forms.OutcomeForm(proxies=library),
               "years": [{"year": i + 1, "impact": v} for i, v in enumerate(result.yearly)],
               "breadcrumbs": [HOME, ("Social value", reverse("socialvalue-council", args=[model.owner.slug]))]}
    return render(request, "socialvalue/model.html", context, status=status)


@login_required
@require_safe
def model_detail(request, pk):
    model = _model(request, pk)
    fmt = request.GET.get("format", "")
    if fmt:
        def outcomes():
            return (["stakeholder", "indicator", "quantity", "proxy_value", "proxy_source", "deadweight_percent",
                     "displacement_percent", "attribution_percent", "drop_off_percent", "years", "synthetic"],
                    [[o.stakeholder, o.indicator, str(o.quantity), str(o.proxy_value), o.proxy_source,
                      str(o.deadweight), str(o.displacement), str(o.attribution), str(o.drop_off), o.years,
                      model.synthetic] for o in model.outcomes.all().order_by("id")])

        def results():
            r, _ = queries.results(model)
            return (["measure", "value", "synthetic"],
                    [["present_value", round(r.present_value, 2), model.synthetic],
                     ["inputs", round(r.inputs, 2), model.synthetic],
                     ["ratio", None if r.ratio is None else round(r.ratio, 4), model.synthetic],
                     ["net_ratio", None if r.net_ratio is None else round(r.net_ratio, 4), model.synthetic],
                     ["payback_months", None if r.payback_months is None else round(r.payback_months, 2),
                      model.synthetic],
                     *[[f"impact_year_{i + 1}", round(v, 2), model.synthetic] for i, v in enumerate(r.yearly)]])

        def sensitivity():
            _, s = queries.results(model)
            return (["outcome", "assumption", "current", "switching_value", "unit", "synthetic"],
                    [[x["outcome"], x["key"], round(x["current"], 4),
                      None if x["switching"] is None else round(x["switching"], 4),
                      "percent" if x["percent"] else "number", model.synthetic] for x in s])

        return _download(request, f"sroi-{model.pk}", {"outcomes": outcomes, "results": results,
                                                       "sensitivity": sensitivity},
                         request.GET.get("table", "results"), fmt)
    return _model_page(request, model)


@login_required
@require_POST
def outcome_add(request, pk):
    model = _model(request, pk)
    services.refuse_unless_editor(request.user, model.owner, "change an SROI model", model)
    form = forms.OutcomeForm(request.POST, proxies=queries.proxies(request.user, model.owner))
    ok, _ = form.submit(lambda d: services.add_outcome(actor=request.user, model=model, data=d),
                        check=lambda d: services.clean_outcome(model, d))
    if ok:
        messages.success(request, "Outcome added")
        return redirect(reverse("socialvalue-model", args=[model.pk]))
    return _model_page(request, model, outcome_form=form, status=400)


# The proxy library --------------------------------------------------------------------------------

PROXY_HEADER = ["name", "unit", "value", "source", "year", "licence", "synthetic"]


def _proxies_page(request, org, *, proxy_form=None, upload_form=None, open_form=None, problems=None, status=200):
    rows = queries.proxies(request.user, org)
    context = {"org": org, "proxies": rows, "can_edit": tenancy.can_edit(request.user, org.pk),
               "proxy_form": proxy_form or forms.ProxyForm(), "upload_form": upload_form or forms.UploadForm(),
               "open_form": open_form or forms.OpenProxiesForm(proxies=queries.open_proxies()),
               "problems": problems or [], "synthetic": any(p.synthetic for p in rows),
               "errors": bool((proxy_form and proxy_form.errors) or (upload_form and upload_form.errors)
                              or (open_form and open_form.errors)),
               "breadcrumbs": [HOME, ("Social value", reverse("socialvalue-council", args=[org.slug]))]}
    return render(request, "socialvalue/proxies.html", context, status=status)


@login_required
@require_safe
def proxies(request, slug):
    org = _org(slug)
    fmt = request.GET.get("format", "")
    if fmt:
        return _download(request, f"proxies-{org.slug}", {"proxies": lambda: (PROXY_HEADER, [
            [p.name, p.unit, str(p.value), p.source, p.year, p.licence, p.synthetic]
            for p in queries.proxies(request.user, org)])}, request.GET.get("table", "proxies"), fmt)
    return _proxies_page(request, org)


@login_required
@require_POST
def proxy_add(request, slug):
    org = _org(slug)
    services.refuse_unless_editor(request.user, org, "edit the proxy library", org)
    form = forms.ProxyForm(request.POST)
    ok, p = form.submit(lambda d: services.save_proxy(actor=request.user, owner=org, data=d),
                        check=services.clean_proxy)
    if ok:
        messages.success(request, f"Proxy saved: {p.name}")
        return redirect(reverse("socialvalue-proxies", args=[org.slug]))
    return _proxies_page(request, org, proxy_form=form, status=400)


@login_required
@require_POST
def proxy_upload(request, slug):
    org = _org(slug)
    services.refuse_unless_editor(request.user, org, "import proxies", org)
    form = forms.UploadForm(request.POST, request.FILES)
    problems = []
    if form.is_valid():
        try:
            rows = services.import_proxies_csv(actor=request.user, owner=org,
                                               data=form.cleaned_data["file"].read(services.MAX_CSV_BYTES + 1))
        except services.SvInputError as e:
            problems = e.problems
            form.add_error("file", e.message)
        else:
            messages.success(request, f"{len(rows)} proxies loaded")
            return redirect(reverse("socialvalue-proxies", args=[org.slug]))
    return _proxies_page(request, org, upload_form=form, problems=problems, status=400)


# A contract's commitments -------------------------------------------------------------------------

def _contract(request, ocid):
    contract = queries.contract_for(request.user, ocid)
    if contract is None:
        raise Http404("No contract found")
    return contract


def _contract_page(request, contract, *, commitment_form=None, delivery_form=None, upload_form=None,
                   problems=None, status=200):
    rows = queries.for_contract(request.user, contract)
    commitments = [r["commitment"] for r in rows]
    context = {"contract": contract, "rows": rows, "can_edit": tenancy.can_edit(request.user, contract.owner_id),
               "commitment_form": commitment_form or forms.CommitmentForm(),
               "delivery_form": delivery_form or forms.DeliveryForm(commitments=commitments),
               "upload_form": upload_form or forms.UploadForm(), "problems": problems or [],
               "synthetic": any(r["synthetic"] for r in rows),
               "all_forms": [f for f in (commitment_form, delivery_form, upload_form) if f is not None],
               "providers": list({cs.supplier.provider for cs in contract.contract_suppliers
                                  .select_related("supplier__provider") if cs.supplier.provider}),
               "breadcrumbs": [HOME, ("Contracts", "/contracts/"),
                               (contract.title[:60], reverse("contract-detail", args=[contract.ocid]))]}
    context["errors"] = any(f.errors for f in context["all_forms"])
    return render(request, "socialvalue/contract.html", context, status=status)


@login_required
@require_safe
def contract_page(request, ocid):
    contract = _contract(request, ocid)
    fmt = request.GET.get("format", "")
    if fmt:
        rows = queries.for_contract(request.user, contract)
        return _download(request, f"social-value-{contract.pk}", {
            "commitments": lambda: _commitment_table(rows),
            "deliveries": lambda: (["measure", "unit", "period", "amount", "shared_by", "counted", "note", "synthetic"],
                                   [[r["measure"], r["unit"], d.period, str(d.amount), d.shared_by, str(d.counted),
                                     d.note, d.synthetic] for r in rows for d in r["deliveries"]]),
        }, request.GET.get("table", "commitments"), fmt)
    return _contract_page(request, contract)


@login_required
@require_POST
def commitment_add(request, ocid):
    contract = _contract(request, ocid)
    services.refuse_unless_editor(request.user, contract.owner, "record social value commitments", contract)
    form = forms.CommitmentForm(request.POST)
    ok, _ = form.submit(lambda d: services.add_commitment(actor=request.user, contract=contract, data=d),
                        check=lambda d: services.clean_commitment(contract, d))
    if ok:
        messages.success(request, "Commitment recorded")
        return redirect(reverse("socialvalue-contract", args=[contract.ocid]))
    return _contract_page(request, contract, commitment_form=form, status=400)


@login_required
@require_POST
def delivery_add(request, ocid):
    contract = _contract(request, ocid)
    services.refuse_unless_editor(request.user, contract.owner, "record social value delivered", contract)
    commitments = [r["commitment"] for r in queries.for_contract(request.user, contract)]
    form = forms.DeliveryForm(request.POST, commitments=commitments)

    def save(d):
        commitment = next(c for c in commitments if str(c.pk) == d["commitment"])
        return services.record_delivery(actor=request.user, commitment=commitment, data=d)

    ok, _ = form.submit(save, check=services.clean_delivery)
    if ok:
        messages.success(request, "Delivery recorded")
        return redirect(reverse("socialvalue-contract", args=[contract.ocid]))
    return _contract_page(request, contract, delivery_form=form, status=400)


@login_required
@require_POST
def delivery_upload(request, ocid):
    contract = _contract(request, ocid)
    services.refuse_unless_editor(request.user, contract.owner, "record social value delivered", contract)
    form = forms.UploadForm(request.POST, request.FILES)
    problems = []
    if form.is_valid():
        try:
            rows = services.import_deliveries_csv(actor=request.user, contract=contract,
                                                  data=form.cleaned_data["file"].read(services.MAX_CSV_BYTES + 1))
        except services.SvInputError as e:
            problems = e.problems
            form.add_error("file", e.message)
        else:
            messages.success(request, f"{len(rows)} deliveries recorded")
            return redirect(reverse("socialvalue-contract", args=[contract.ocid]))
    return _contract_page(request, contract, upload_form=form, problems=problems, status=400)


# A supplier ---------------------------------------------------------------------------------------

@login_required
@require_safe
def provider_page(request, pk):
    provider = queries.provider_for(request.user, pk)
    if provider is None:
        raise Http404("No provider found")
    rows = queries.for_provider(request.user, provider)
    fmt = request.GET.get("format", "")
    if fmt:
        return _download(request, f"social-value-provider-{provider.pk}", {
            "promised": lambda: _grouped_table(rows), "commitments": lambda: _commitment_table(rows, True)},
            request.GET.get("table", "promised"), fmt)
    return render(request, "socialvalue/provider.html", {
        "provider": provider, "rows": rows, "groups": queries.grouped(rows),
        "synthetic": any(r["synthetic"] for r in rows), "breadcrumbs": [HOME]})


# Changing and deleting ----------------------------------------------------------------------------
#
# Each record has a "change" page (its form, prefilled) and a "delete" page (a confirmation). Both are for
# the owning council's admins and commissioners: anyone else who can see the record is refused (403, in
# the audit trail), anyone who cannot see it gets 404.

def _plain(value):
    """A stored number as a person would type it: 20.0000 -> 20, 1250.50 -> 1250.5."""
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _form_page(request, *, form, title, caption, action, back, prefixed=(), status=200, intro=""):
    return render(request, "socialvalue/edit.html", {
        "form": form, "title": title, "caption": caption, "action": action, "back": back, "prefixed": prefixed,
        "intro": intro, "breadcrumbs": [HOME, (caption[:60], back)]}, status=status)


def _confirm_page(request, *, title, caption, rows, consequence, action, back):
    return render(request, "socialvalue/delete.html", {
        "title": title, "caption": caption, "rows": rows, "consequence": consequence, "action": action,
        "back": back, "breadcrumbs": [HOME, (caption[:60], back)]})


def _change(request, *, form_class, initial, save, check, title, caption, back, done, form_kwargs=None,
            prefixed=(), intro=""):
    """GET: the form prefilled; POST: saved through ``save(cleaned_data)``; every problem (the form's and
    ``check``'s, the service's checks) shown at once, each on its field."""
    form_kwargs = form_kwargs or {}
    if request.method == "POST":
        form = form_class(request.POST, **form_kwargs)
        ok, _ = form.submit(save, check=check)
        if ok:
            messages.success(request, done)
            return redirect(back)
        return _form_page(request, form=form, title=title, caption=caption, action=request.path, back=back,
                          prefixed=prefixed, status=400, intro=intro)
    return _form_page(request, form=form_class(initial=initial, **form_kwargs), title=title, caption=caption,
                      action=request.path, back=back, prefixed=prefixed, intro=intro)


def _delete(request, *, remove, title, caption, rows, consequence, back, done, after):
    if request.method == "POST":
        remove()
        messages.success(request, done)
        return redirect(after)
    return _confirm_page(request, title=title, caption=caption, rows=rows, consequence=consequence,
                         action=request.path, back=back)


EDIT_METHODS = require_http_methods(["GET", "HEAD", "POST"])


@login_required
@EDIT_METHODS
def model_edit(request, pk):
    model = _model(request, pk)
    services.refuse_unless_editor(request.user, model.owner, "change an SROI model", model)

    def save(d):
        services.update_model(actor=request.user, model=model, data={
            "name": d["name"], "inputs": d["inputs"], "service": d["service"], "contract": d["contract"]})

    back = reverse("socialvalue-model", args=[model.pk])
    return _change(request, form_class=forms.ModelForm, save=save, back=back,
                   check=lambda d: services.clean_model(model.owner, d), done="SROI model changed",
                   title="Change the SROI model", caption=model.name, prefixed=("inputs",), initial={
                       "name": model.name, "service": model.service, "inputs": _plain(model.inputs),
                       "contract": model.contract.ocid if model.contract else ""})


@login_required
@EDIT_METHODS
def model_delete(request, pk):
    model = _model(request, pk)
    services.refuse_unless_editor(request.user, model.owner, "delete an SROI model", model)
    count = model.outcomes.count()
    return _delete(
        request, remove=lambda: services.delete_model(actor=request.user, model=model),
        title="Delete this SROI model?", caption=model.name, back=reverse("socialvalue-model", args=[model.pk]),
        rows=[("Model", model.name), ("For", model.contract.title if model.contract else model.service),
              ("Value of inputs", pounds(model.inputs)), ("Outcomes", str(count))],
        consequence=f"The model and its {count} outcome{'' if count == 1 else 's'} will be deleted. The audit trail "
                    "keeps a record of them.",
        done="SROI model deleted", after=reverse("socialvalue-council", args=[model.owner.slug]))


def _outcome(request, pk):
    outcome = queries.outcome_for(request.user, pk)
    if outcome is None:
        raise Http404("No outcome found")
    return outcome


@login_required
@EDIT_METHODS
def outcome_edit(request, pk):
    outcome = _outcome(request, pk)
    model = outcome.model
    services.refuse_unless_editor(request.user, model.owner, "change an SROI model", outcome)
    initial = {k: _plain(v) for k, v in services.outcome_values(outcome).items()}
    if outcome.proxy_id is not None:  # the library's value and source come with the choice
        initial.update(proxy_value="", proxy_source="")
    return _change(
        request, form_class=forms.OutcomeForm, form_kwargs={"proxies": queries.proxies(request.user, model.owner)},
        save=lambda d: services.update_outcome(actor=request.user, outcome=outcome, data=d),
        check=lambda d: services.clean_outcome(model, d, exclude=outcome.pk),
        back=reverse("socialvalue-model", args=[model.pk]), done="Outcome changed", initial=initial,
        title="Change the outcome", caption=model.name, prefixed=("proxy_value",),
        intro="Percentages are from 0 to 100. Choose a proxy from the library, or leave it at None and enter one.")


@login_required
@EDIT_METHODS
def outcome_delete(request, pk):
    outcome = _outcome(request, pk)
    model = outcome.model
    services.refuse_unless_editor(request.user, model.owner, "change an SROI model", outcome)
    back = reverse("socialvalue-model", args=[model.pk])
    return _delete(
        request, remove=lambda: services.delete_outcome(actor=request.user, outcome=outcome),
        title="Delete this outcome?", caption=model.name, back=back,
        rows=[("Stakeholder", outcome.stakeholder), ("Indicator", outcome.indicator),
              ("Quantity", _plain(outcome.quantity)), ("Proxy", f"£{number(outcome.proxy_value, places(outcome.proxy_value))} per unit"),
              ("Benefit period", f"{outcome.years} years")],
        consequence="The model's results will be worked out again without it.", done="Outcome deleted", after=back)


def _commitment(request, pk):
    commitment = queries.commitment_for(request.user, pk)
    if commitment is None:
        raise Http404("No commitment found")
    return commitment


@login_required
@EDIT_METHODS
def commitment_edit(request, pk):
    c = _commitment(request, pk)
    services.refuse_unless_editor(request.user, c.owner, "record social value commitments", c)
    return _change(
        request, form_class=forms.CommitmentForm,
        save=lambda d: services.update_commitment(actor=request.user, commitment=c, data=d),
        check=lambda d: services.clean_commitment(c.contract, d, exclude=c.pk),
        back=reverse("socialvalue-contract", args=[c.contract.ocid]), done="Commitment changed",
        title="Change the commitment", caption=c.contract.title[:100],
        initial={"measure": c.measure, "unit": c.unit, "promised": _plain(c.promised)})


@login_required
@EDIT_METHODS
def commitment_delete(request, pk):
    c = _commitment(request, pk)
    services.refuse_unless_editor(request.user, c.owner, "delete a social value commitment", c)
    count = c.deliveries.count()
    back = reverse("socialvalue-contract", args=[c.contract.ocid])
    return _delete(
        request, remove=lambda: services.delete_commitment(actor=request.user, commitment=c),
        title="Delete this commitment?", caption=c.contract.title[:100], back=back,
        rows=[("Measure", c.measure), ("Unit", c.unit), ("Promised", _plain(c.promised)),
              ("Periods delivered", str(count))],
        consequence=f"The commitment and what was delivered against it ({count} period{'' if count == 1 else 's'}) "
                    "will be deleted. The audit trail keeps a record of them.",
        done="Commitment deleted", after=back)


def _delivery(request, pk):
    delivery = queries.delivery_for(request.user, pk)
    if delivery is None:
        raise Http404("No delivery found")
    return delivery


@login_required
@EDIT_METHODS
def delivery_edit(request, pk):
    d = _delivery(request, pk)
    c = d.commitment
    services.refuse_unless_editor(request.user, c.owner, "record social value delivered", d)
    return _change(
        request, form_class=forms.DeliveryEditForm,
        save=lambda data: services.update_delivery(actor=request.user, delivery=d, data=data),
        check=services.clean_delivery,
        back=reverse("socialvalue-contract", args=[c.contract.ocid]), done="Delivery changed",
        title=f"Change what was delivered: {c.measure} ({c.unit})", caption=c.contract.title[:100],
        initial={"period": d.period, "amount": _plain(d.amount), "shared_by": d.shared_by, "note": d.note},
        intro="Give either the amount or, for jobs, the full-time and part-time staff (part-time counted at half).")


@login_required
@EDIT_METHODS
def delivery_delete(request, pk):
    d = _delivery(request, pk)
    c = d.commitment
    services.refuse_unless_editor(request.user, c.owner, "record social value delivered", d)
    back = reverse("socialvalue-contract", args=[c.contract.ocid])
    return _delete(
        request, remove=lambda: services.delete_delivery(actor=request.user, delivery=d),
        title="Delete what was delivered in this period?", caption=c.contract.title[:100], back=back,
        rows=[("Commitment", f"{c.measure} ({c.unit})"), ("Period", d.period), ("Amount", _plain(d.amount)),
              ("Counted here", _plain(d.counted))],
        consequence="Promised against delivered will be worked out again without it.", done="Delivery deleted",
        after=back)


def _proxy(request, pk):
    proxy = queries.proxy_for(request.user, pk)
    if proxy is None:
        raise Http404("No proxy found")
    return proxy


@login_required
@EDIT_METHODS
def proxy_edit(request, pk):
    p = _proxy(request, pk)
    services.refuse_unless_editor(request.user, p.owner, "edit the proxy library", p)
    return _change(
        request, form_class=forms.ProxyForm,
        save=lambda d: services.update_proxy(actor=request.user, proxy=p, data=d),
        check=services.clean_proxy,
        back=reverse("socialvalue-proxies", args=[p.owner.slug]), done="Proxy changed",
        title="Change the proxy", caption=p.owner.name, prefixed=("value",),
        initial={"name": p.name, "unit": p.unit, "value": _plain(p.value), "source": p.source, "year": p.year,
                 "licence": p.licence},
        intro="Outcomes that already use this proxy keep the value and source they copied.")


@login_required
@EDIT_METHODS
def proxy_delete(request, pk):
    p = _proxy(request, pk)
    services.refuse_unless_editor(request.user, p.owner, "delete a proxy", p)
    back = reverse("socialvalue-proxies", args=[p.owner.slug])
    return _delete(
        request, remove=lambda: services.delete_proxy(actor=request.user, proxy=p),
        title="Delete this proxy?", caption=p.owner.name, back=back,
        rows=[("Name", p.name), ("Unit", p.unit), ("Value", f"£{p.value:,}"), ("Source", p.source),
              ("Price year", str(p.year)), ("Licence", p.licence)],
        consequence="Outcomes that use it keep the value and source they copied.", done="Proxy deleted", after=back)


# The shared library of open proxies ---------------------------------------------------------------

OPEN_HEADER = ["code", "name", "unit", "value", "price_year", "price_basis", "publisher", "title", "url", "table",
               "licence"]


@login_required
@require_safe
def open_proxies_page(request):
    rows = queries.open_proxies()
    if request.GET.get("format", ""):
        return _download(request, "open-proxies", {"proxies": lambda: (OPEN_HEADER, [
            [str(p[k]) if k == "value" else p[k] for k in OPEN_HEADER] for p in rows])},
            request.GET.get("table", "proxies"), request.GET.get("format", ""))
    councils = [o for o in Organisation.objects.filter(pk__in=tenancy.member_org_ids(request.user,
                                                                                    tenancy.EDIT_ROLES))
                .order_by("name")]
    return render(request, "socialvalue/open_proxies.html", {"proxies": rows, "councils": councils,
                                                             "breadcrumbs": [HOME, ("Social value", reverse("socialvalue-index"))]})


@login_required
@require_POST
def open_proxies_copy(request, slug):
    org = _org(slug)
    services.refuse_unless_editor(request.user, org, "edit the proxy library", org)
    form = forms.OpenProxiesForm(request.POST, proxies=queries.open_proxies())
    if form.is_valid():
        try:
            rows = services.copy_open_proxies(actor=request.user, owner=org, codes=form.cleaned_data["codes"])
        except services.SvInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, f"{len(rows)} open {'proxy' if len(rows) == 1 else 'proxies'} copied into "
                                      "the library")
            return redirect(reverse("socialvalue-proxies", args=[org.slug]))
    return _proxies_page(request, org, open_form=form, status=400)
