"""Options appraisal pages: the list (and a form to open one), an appraisal with its options, assumptions,
results, charts with tables, recommendation and what would change it; forms to add and change options and set the
weights; CSV/JSON downloads of every table; the PDF report.

Reads go through ``queries`` (orgs.tenancy's ``visible_to``); writes through ``services``. Anonymous users are
sent to sign in; an appraisal the user may not see is a 404.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from commissioner.appraisal import charts, forms, queries, services
from commissioner.appraisal.models import Option
from commissioner.core.downloads import table_response
from commissioner.methods import options_appraisal as calc
from commissioner.methods.appraisal import OPTIMISM_BIAS, discount_factors
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation

HOME = ("Home", "/")
LIST = ("Options appraisals", "/appraisals/")
TABLES = ("options", "flows", "results", "mcda", "switching", "weights")


def _money(x):
    if x is None:
        return None
    return f"\u2011£{abs(x):,.0f}" if x < 0 else f"£{x:,.0f}"  # a non-breaking hyphen: the sign stays put


def _editable_orgs(user):
    return list(Organisation.objects.filter(pk__in=tenancy.member_org_ids(user, tenancy.EDIT_ROLES)).order_by("name"))


@login_required
@require_safe
def index(request):
    return _index(request)


def _index(request, form=None, status=200):
    orgs = _editable_orgs(request.user)
    rows = queries.appraisals(request.user)
    if request.GET.get("format"):
        header = ["id", "title", "service", "owner", "horizon", "options", "updated_at", "synthetic"]
        data = [[a.pk, a.title, a.service, a.owner.name, a.horizon, a.options.count(), a.updated_at.isoformat(),
                 a.synthetic] for a in rows]
        return _respond(request.GET["format"], "appraisals", header, data)
    return render(request, "appraisal/index.html", {
        "appraisals": rows, "form": form or forms.NewAppraisalForm(), "orgs": orgs, "breadcrumbs": [HOME],
        "synthetic": any(a.synthetic for a in rows)}, status=status)


@login_required
@require_POST
def create(request):
    orgs = _editable_orgs(request.user)
    wanted = request.POST.get("organisation")
    owner = next((o for o in orgs if str(o.pk) == wanted), orgs[0] if orgs else None)
    if owner is None:
        raise services.Refused(request.user, None, "open an appraisal")
    form = forms.NewAppraisalForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            a = services.create_appraisal(
                actor=request.user, owner=owner, title=d["title"], service=d["service"], horizon=d["horizon"],
                bound=d["bound"], discounting=d["discounting"], rate=d["rate"],
                contracts=[c.strip() for c in d["contracts"].splitlines() if c.strip()])
        except services.AppraisalInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, "Appraisal opened. Add the options, starting with business as usual.")
            return redirect("appraisal-detail", pk=a.pk)
    return _index(request, form=form, status=400)


def _appraisal(request, pk):
    a = queries.appraisal_for(request.user, pk)
    if a is None:
        raise Http404("No appraisal found")
    return a


def _flows_text(values):
    return ", ".join("" if v is None else f"{v:g}" for v in values)


def context_for(a, result):
    """What the page and the PDF show (shared, so that they say the same)."""
    rows = result["options"]
    best = result["preferred"]
    weights_given = a.weights or calc.DEFAULT_WEIGHTS
    for i, r in enumerate(rows):
        r["preferred"] = i == best
        r["npsv_shown"], r["pv_b_shown"], r["pv_c_shown"] = (_money(r["npsv"]), _money(r["pv_benefits"]),
                                                             _money(r["pv_costs"]))
        r["pv_c_raw_shown"] = _money(r["pv_costs_before_ob"])
        r["bcr_shown"] = f"{r['bcr']:.4f}" if r["bcr"] is not None else None
        r["mean_shown"], r["p10_shown"], r["p90_shown"] = (_money(r["mean_npsv"]), _money(r["p10"]),
                                                           _money(r["p90"]))
        r["prob_shown"] = f"{r['probability_best']:.1%}"
        total = sum(r["ob_shares"].values()) or 1
        r["ob_shown"] = ", ".join(f"{OPTIMISM_BIAS[k]['label']} {v / total:.0%}"
                                  for k, v in r["ob_shares"].items()) or "None"
        r["score_cells"] = [r["scores"].get(c) for c in calc.CRITERION_NAMES]
        r["missing_shown"] = ", ".join(str(y) for y in r["missing_years"])
    npsv_chart = charts.bars([(r["name"], r["npsv"]) for r in rows], _money, "Net present social value by option")
    prob_chart = charts.bars([(r["name"], r["probability_best"] * 100) for r in rows], lambda v: f"{v:.1f}%",
                             "Probability that each option is best")
    weights = [(label, weights_given.get(c), result["weights"][c]) for c, label in calc.CRITERIA]
    for s in result["switching"]:
        if s["switching_value"] is None:
            s["shown"] = None
        elif s["unit"] == "rate":
            s["shown"] = f"{s['switching_value']:.2%} (base {s['base']:.1%})"
        else:
            s["shown"] = f"{s['change']:+.1f}%"
    return {"appraisal": a, "result": result, "rows": rows, "preferred": rows[best] if best is not None else None,
            "npsv_chart": npsv_chart, "prob_chart": prob_chart, "weights": weights, "criteria": calc.CRITERIA,
            "discounting_label": a.get_discounting_display() + (f": {a.rate:.2%}" if a.rate is not None else ""),
            "contracts": list(a.contracts.all()), "synthetic": a.synthetic, "priorities": queries.priorities(a)}


@login_required
@require_safe
def detail(request, pk):
    a = _appraisal(request, pk)
    fmt = request.GET.get("format", "")
    if fmt:
        table = request.GET.get("table", "results")
        if table not in TABLES:
            raise Http404("Unknown table: use " + ", ".join(TABLES))
        header, data = table_rows(a, services.results(a), table)
        return _respond(fmt, f"appraisal-{a.pk}-{table}", header, data)
    return _page(request, a)


def _page(request, a, *, option_form=None, weights_form=None, status=200):
    result = services.results(a)
    ctx = context_for(a, result)
    if weights_form is None:
        weights_form = forms.WeightsForm(initial={f"weight_{c}": f"{v:g}" for c, v in
                                                  (a.weights or calc.DEFAULT_WEIGHTS).items()})
    option_form = option_form or forms.OptionForm(initial={"kind": "bau" if not a.options.exists() else "in_house"})
    ctx.update(evidence=queries.evidence(a, request.user), can_edit=tenancy.can_edit(request.user, a.owner_id),
               option_form=option_form,
               weights_form=weights_form, all_forms=[option_form, weights_form],
               errors=bool(option_form.errors or weights_form.errors), breadcrumbs=[HOME, LIST],
               score_fields=[option_form[f"score_{c}"] for c in calc.CRITERION_NAMES],
               range_fields=[option_form[n] for n in ("cost_low", "cost_high", "benefit_low", "benefit_high")],
               tables=TABLES)
    return render(request, "appraisal/detail.html", ctx, status=status)


def _option_args(d):
    return {"costs": d["costs"], "benefits": d["benefits"], "ob_shares": d["ob_shares"], "partners": d["partners"],
            "description": d["description"], "scores": {c: d[f"score_{c}"] for c in calc.CRITERION_NAMES}}


@login_required
@require_POST
def add_option(request, pk):
    a = _appraisal(request, pk)
    services.refuse_unless_editor(request.user, a.owner, "add an option", a)
    form = forms.OptionForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            o = services.add_option(actor=request.user, appraisal=a, name=d["name"], kind=d["kind"],
                                    cost_low=d["cost_low"], cost_high=d["cost_high"],
                                    benefit_low=d["benefit_low"], benefit_high=d["benefit_high"], **_option_args(d))
        except services.AppraisalInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, f"Option added: {o.name}" +
                             (f" (costs from the register: {o.prefilled_from})" if o.prefilled_from else ""))
            return redirect("appraisal-detail", pk=a.pk)
    return _page(request, a, option_form=form, status=400)


def _option_to_change(request, pk, option_id, attempt):
    """The appraisal and its option for a page that changes it: 404 if not visible, refused (audited) unless the
    user may edit it."""
    a = _appraisal(request, pk)
    option = Option.objects.filter(appraisal=a, pk=option_id).first()
    if option is None:
        raise Http404("No option found")
    services.refuse_unless_editor(request.user, a.owner, attempt, option)
    return a, option


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit_option(request, pk, option_id):
    a, option = _option_to_change(request, pk, option_id, "change an option")
    if request.method == "POST":
        form = forms.OptionForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.set_flows(actor=request.user, option=option, name=d["name"], kind=d["kind"],
                                   ranges=(d["cost_low"], d["cost_high"], d["benefit_low"], d["benefit_high"]),
                                   **_option_args(d))
            except services.AppraisalInputError as e:
                form.add_service_error(e)
            else:
                messages.success(request, f"Option changed: {option.name}")
                return redirect("appraisal-detail", pk=a.pk)
        status = 400
    else:
        form = forms.OptionForm(initial={
            "name": option.name, "kind": option.kind, "partners": option.partners, "description": option.description,
            "costs": _flows_text(option.costs), "benefits": _flows_text(option.benefits),
            "ob_shares": ", ".join(f"{k} {v:g}" for k, v in option.ob_shares.items()),
            "cost_low": f"{option.cost_low:g}", "cost_high": f"{option.cost_high:g}",
            "benefit_low": f"{option.benefit_low:g}", "benefit_high": f"{option.benefit_high:g}",
            **{f"score_{c}": f"{v:g}" for c, v in option.scores.items()}})
        status = 200
    return render(request, "appraisal/option.html", {
        "appraisal": a, "option": option, "form": form, "synthetic": a.synthetic,
        "breadcrumbs": [HOME, LIST, (a.title[:60], reverse("appraisal-detail", args=[a.pk]))]}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def delete_option(request, pk, option_id):
    """A confirmation page (GET), then the option is removed (POST)."""
    a, option = _option_to_change(request, pk, option_id, "remove an option")
    if request.method == "POST":
        try:
            services.delete_option(actor=request.user, option=option)
        except services.AppraisalInputError as e:  # removed meanwhile (another tab)
            messages.error(request, e.message[:1].upper() + e.message[1:] + ".")
        else:
            messages.success(request, f"Option removed: {option.name}")
        return redirect("appraisal-detail", pk=a.pk)
    return render(request, "appraisal/delete_option.html", {
        "appraisal": a, "option": option, "synthetic": a.synthetic,
        "breadcrumbs": [HOME, LIST, (a.title[:60], reverse("appraisal-detail", args=[a.pk]))]})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit_settings(request, pk):
    """The appraisal's settings: title, service, horizon, optimism bias, discounting, linked contracts, the
    Monte Carlo draws and seed."""
    a = _appraisal(request, pk)
    services.refuse_unless_editor(request.user, a.owner, "change the appraisal", a)
    status = 200
    if request.method == "POST":
        form = forms.SettingsForm(request.POST, areas=queries.priority_areas(a),
                                  initial={"priorities_area": a.priorities_area})
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.update_appraisal(
                    actor=request.user, appraisal=a, title=d["title"], service=d["service"],
                    description=d["description"], horizon=d["horizon"], bound=d["bound"],
                    discounting=d["discounting"], rate=d["rate"], draws=d["draws"], seed=d["seed"],
                    priorities_area=d["priorities_area"],
                    contracts=[c.strip() for c in d["contracts"].splitlines() if c.strip()])
            except services.AppraisalInputError as e:
                form.add_service_error(e)
            else:
                messages.success(request, "Appraisal settings saved")
                return redirect("appraisal-detail", pk=a.pk)
        status = 400
    else:
        form = forms.SettingsForm(initial={
            "title": a.title, "service": a.service, "description": a.description, "horizon": a.horizon,
            "bound": a.bound, "discounting": a.discounting,
            "rate": "" if a.rate is None else f"{a.rate * 100:g}",
            "contracts": "\n".join(c.ocid for c in a.contracts.all().order_by("ocid")),
            "draws": a.draws, "seed": a.seed, "priorities_area": a.priorities_area}, areas=queries.priority_areas(a))
    return render(request, "appraisal/settings.html", {
        "appraisal": a, "form": form, "synthetic": a.synthetic,
        "breadcrumbs": [HOME, LIST, (a.title[:60], reverse("appraisal-detail", args=[a.pk]))]}, status=status)


@login_required
@require_POST
def prefill(request, pk):
    """Give business as usual the quality and cost scores that the linked contracts' evidence suggests."""
    a = _appraisal(request, pk)
    services.refuse_unless_editor(request.user, a.owner, "prefill the scores", a)
    try:
        changed = services.prefill_scores(actor=request.user, appraisal=a,
                                          evidence=queries.evidence(a, request.user))
    except services.AppraisalInputError as e:
        messages.error(request, e.message[:1].upper() + e.message[1:])
    else:
        messages.success(request, "Scores from the evidence given to " + ", ".join(o.name for o in changed))
    return redirect(reverse("appraisal-detail", args=[a.pk]) + "#evidence")


@login_required
@require_POST
def weights(request, pk):
    a = _appraisal(request, pk)
    services.refuse_unless_editor(request.user, a.owner, "set the weights", a)
    form = forms.WeightsForm(request.POST)
    if form.is_valid():
        try:
            services.set_weights(actor=request.user, appraisal=a,
                                 weights={c: form.cleaned_data[f"weight_{c}"] for c in calc.CRITERION_NAMES})
        except services.AppraisalInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, "Weights recorded")
            return redirect("appraisal-detail", pk=a.pk)
    return _page(request, a, weights_form=form, status=400)


@login_required
@require_safe
def report(request, pk):
    from commissioner.appraisal import pdf

    a = _appraisal(request, pk)
    body = pdf.render_pdf(a, context_for(a, services.results(a)))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="appraisal-{a.pk}.pdf"'
    return response


# Downloads -------------------------------------------------------------------------------------------

def _n(x):
    return None if x is None else round(x, 2)


def table_rows(a, result, table):
    """(header, rows) of one table; every row says whether the data is synthetic."""
    syn = a.synthetic
    rows = result["options"]
    if table == "options":
        return (["option", "kind", "partners", "optimism_bias", "uplift_percent", "years", "missing_years",
                 "prefilled_from", "warnings", "synthetic"],
                [[r["name"], r["kind"], r["partners"], json.dumps(r["ob_shares"]), r["uplift"], r["years"],
                  " ".join(map(str, r["missing_years"])), r["prefilled_from"], " ".join(r["warnings"]), syn]
                 for r in rows])
    if table == "flows":
        out = []
        for r in rows:
            years = max(len(r["costs"]), len(r["benefits"]))
            factors = discount_factors(max(years - 1, 0), calc.schedule_for(a.discounting, a.rate))
            for y in range(years):
                c = r["costs"][y] if y < len(r["costs"]) else None
                b = r["benefits"][y] if y < len(r["benefits"]) else None
                out.append([r["name"], y, c, None if c is None else round(c * (1 + r["uplift"] / 100), 2), b,
                            round(factors[y], 6), syn])
        return ["option", "year", "cost", "cost_with_optimism_bias", "benefit", "discount_factor", "synthetic"], out
    if table == "results":
        return (["option", "pv_benefits", "pv_costs_before_optimism_bias", "uplift_percent", "pv_costs", "npsv", "bcr",
                 "probability_best", "mean_npsv", "p10_npsv", "p90_npsv", "mcda_score", "preferred", "synthetic"],
                [[r["name"], _n(r["pv_benefits"]), _n(r["pv_costs_before_ob"]), r["uplift"], _n(r["pv_costs"]),
                  _n(r["npsv"]), None if r["bcr"] is None else round(r["bcr"], 4), r["probability_best"],
                  _n(r["mean_npsv"]), _n(r["p10"]), _n(r["p90"]), round(r["mcda"], 4), i == result["preferred"],
                  syn] for i, r in enumerate(rows)])
    if table == "mcda":
        return (["option", "criterion", "score", "weight", "weighted", "synthetic"],
                [[r["name"], c, r["scores"].get(c), round(result["weights"][c], 6),
                  None if r["scores"].get(c) is None else round(r["scores"][c] * result["weights"][c], 4), syn]
                 for r in rows for c in calc.CRITERION_NAMES])
    if table == "weights":
        given = a.weights or calc.DEFAULT_WEIGHTS
        return (["criterion", "weight_given", "weight_used", "normalised", "synthetic"],
                [[c, given.get(c), round(result["weights"][c], 6), result["weights_normalised"], syn]
                 for c in calc.CRITERION_NAMES])
    return (["option", "input", "base", "switching_value", "change_percent", "synthetic"],
            [[s["option"], s["input"], s["base"], s["switching_value"],
              None if s["change"] is None else round(s["change"], 4), syn] for s in result["switching"]])


def _respond(fmt, name, header, rows):
    return table_response(name, fmt, header, rows, meta={"table": name})
