"""API for options appraisals, under /api/v1/appraisals...: list, create, read one with its results, change its
settings, add, change and remove an option, replace an option's flows, set the weights, read the evidence on the
linked contracts and give business as usual the scores it suggests.

Every endpoint needs a session (anonymous clients get 401) and POST needs the CSRF token. An appraisal the user
may not see is a 404. Writes go through ``appraisal.services``: a user who may not write gets 403 (recorded in the
audit trail), bad input 422 naming the field.
"""

from datetime import datetime
from typing import Any

from django.http import Http404
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import ValidationError
from ninja.security import django_auth

from commissioner.appraisal import queries, services
from commissioner.appraisal.models import OPTION_KINDS, Option
from commissioner.methods import options_appraisal as calc
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation

router = Router(auth=django_auth, tags=["appraisal"])

MAX_ID = 2**31 - 1
FLOWS_HELP = "Pounds by year, year 0 first: a list of numbers (null for a missing year) or text '1000000, 150000'."


class OptionOut(Schema):
    id: int
    name: str
    kind: str
    partners: str
    costs: list[float | None]
    benefits: list[float | None]
    ob_shares: dict[str, float]
    scores: dict[str, float]
    cost_range: list[float]
    benefit_range: list[float]
    prefilled_from: str
    uplift_percent: float | None = None
    pv_benefits: float | None = None
    pv_costs: float | None = None
    npsv: float | None = None
    bcr: float | None = Field(None, description="null when the present value of costs is 0 or less")
    probability_best: float | None = None
    mcda_score: float | None = None
    missing_years: list[int] = []


class SwitchingOut(Schema):
    option: str
    input: str
    base: float
    switching_value: float | None = None
    change_percent: float | None = None


class AppraisalOut(Schema):
    id: int
    title: str
    service: str
    owner: str
    horizon: int
    bound: str
    discounting: str
    rate: float | None = None
    draws: int
    seed: int
    priorities_area: str
    residents_priorities: dict | None = Field(None, description="The latest result of the council's priority-setting "
                                                                "exercise for the service (participation)")
    weights_given: dict[str, float]
    weights_used: dict[str, float]
    weights_note: str
    contracts: list[str]
    synthetic: bool
    updated_at: datetime
    options: list[OptionOut]
    preferred: str | None = None
    recommendation: str
    what_would_change_it: list[str]
    switching_values: list[SwitchingOut]
    monte_carlo: dict | None = None


class AppraisalSummary(Schema):
    id: int
    title: str
    owner: str
    horizon: int
    synthetic: bool
    updated_at: datetime


class AppraisalIn(Schema):
    title: str = Field(..., max_length=200)
    service: str = Field("", max_length=200)
    description: str = Field("", max_length=5000)
    organisation: str | None = Field(None, description="The council's slug; default the user's council.")
    horizon: Any = Field(10, description="Years after year 0: 1 to 300.")
    bound: str = Field("upper", description="Optimism bias bound: upper or lower.")
    discounting: str = Field("standard", description="standard (declining schedule), health (1.5%) or custom.")
    rate: Any = Field(None, description="The single rate in % a year (custom only), 0 to 20.")
    weights: dict[str, Any] | None = Field(None, description=f"Weights for {', '.join(calc.CRITERION_NAMES)}.")
    contracts: list[str] = Field([], description="OCIDs of contracts in the register.", max_length=50)


class OptionIn(Schema):
    name: str = Field(..., max_length=120)
    kind: str = Field(..., description=f"One of: {', '.join(k for k, _ in OPTION_KINDS)}.")
    partners: str = Field("", max_length=300)
    costs: Any = Field(None, description=FLOWS_HELP + " Blank business as usual takes the register's values.")
    benefits: Any = Field(None, description=FLOWS_HELP)
    ob_shares: Any = Field(None, description="Optimism bias project types and cost shares, e.g. {'outsourcing': 1}.")
    scores: dict[str, Any] | None = Field(None, description="Scores 0-100 by criterion.")
    cost_low: Any = 90
    cost_high: Any = 130
    benefit_low: Any = 70
    benefit_high: Any = 110


class FlowsIn(Schema):
    costs: Any = Field(None, description=FLOWS_HELP + " Omit to keep.")
    benefits: Any = Field(None, description=FLOWS_HELP + " Omit to keep.")
    ob_shares: Any = Field(None, description="Omit to keep.")
    scores: dict[str, Any] | None = Field(None, description="Omit to keep.")


class SettingsIn(Schema):
    title: str | None = Field(None, max_length=200)
    service: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    horizon: Any = Field(None, description="Years after year 0: 1 to 300 (not below an option's years).")
    bound: str | None = Field(None, description="upper or lower.")
    discounting: str | None = Field(None, description="standard, health or custom.")
    rate: Any = Field(None, description="The single rate in % a year (custom only), 0 to 20.")
    draws: Any = Field(None, description="Monte Carlo draws, 1,000 to 200,000.")
    seed: Any = Field(None, description="Monte Carlo seed, a whole number from 0.")
    contracts: list[str] | None = Field(None, description="OCIDs of the linked contracts (replaces them).",
                                        max_length=50)
    priorities_area: str | None = Field(None, max_length=200, description="Service area of the residents' "
                                                                          "priorities shown with the appraisal.")


class OptionChangeIn(FlowsIn):
    name: str | None = Field(None, max_length=120, description="Omit to keep.")
    kind: str | None = Field(None, description="Omit to keep.")
    partners: str | None = Field(None, max_length=300, description="Omit to keep.")
    description: str | None = Field(None, max_length=5000, description="Omit to keep.")


class EvidenceContractOut(Schema):
    ocid: str
    title: str
    annual_value: float | None = None
    providers: str
    performance_visible: bool
    returns: dict[str, int]
    quality_score: float | None = None
    latest_rating: str
    unit_cost: float | None = None
    unit: str
    comparables: int
    cost_score: float | None = None


class EvidenceOut(Schema):
    contracts: list[EvidenceContractOut]
    returns: dict[str, int]
    quality_score: float | None = Field(None, description="Share of current KPI returns met, 0-100.")
    cost_score: float | None = Field(None, description="Share of comparable contracts with a higher unit cost.")
    notes: list[str]
    synthetic: bool


class WeightsIn(Schema):
    weights: dict[str, Any]


def _invalid(field, message):
    return ValidationError([{"loc": ("body", field), "msg": message, "type": "invalid"}])


def _appraisal(request, appraisal_id):
    a = queries.appraisal_for(request.user, appraisal_id) if 0 < appraisal_id <= MAX_ID else None
    if a is None:
        raise Http404(f"No appraisal with id {appraisal_id}.")
    return a


def _priorities_out(p):
    if p is None:
        return None
    return {"exercise": p["exercise"].pk, "title": p["title"], "service_area": p["service_area"],
            "published": p["published"], "synthetic": p["synthetic"], "method": p["method"], "ballots": p["ballots"],
            "rows": p["rows"]}


def _out(a):
    result = services.results(a)
    options = []
    for r in result["options"]:
        options.append({
            "id": r["id"], "name": r["name"], "kind": r["kind"], "partners": r["partners"], "costs": r["costs"],
            "benefits": r["benefits"], "ob_shares": r["ob_shares"], "scores": r["scores"],
            "cost_range": list(r["cost_range"]), "benefit_range": list(r["benefit_range"]),
            "prefilled_from": r["prefilled_from"], "uplift_percent": r["uplift"], "pv_benefits": r["pv_benefits"],
            "pv_costs": r["pv_costs"], "npsv": r["npsv"], "bcr": r["bcr"],
            "probability_best": r["probability_best"], "mcda_score": r["mcda"], "missing_years": r["missing_years"]})
    best = result["preferred"]
    return {"id": a.pk, "title": a.title, "service": a.service, "owner": a.owner.slug, "horizon": a.horizon,
            "bound": a.bound, "discounting": a.discounting, "rate": a.rate, "draws": a.draws, "seed": a.seed,
            "priorities_area": a.priorities_area, "residents_priorities": _priorities_out(queries.priorities(a)),
            "weights_given": a.weights or calc.DEFAULT_WEIGHTS, "weights_used": result["weights"],
            "weights_note": result["weights_note"], "contracts": [c.ocid for c in a.contracts.all()],
            "synthetic": a.synthetic, "updated_at": a.updated_at, "options": options,
            "preferred": result["options"][best]["name"] if best is not None else None,
            "recommendation": result["recommendation"], "what_would_change_it": result["changes"],
            "switching_values": [{"option": s["option"], "input": s["input"], "base": s["base"],
                                  "switching_value": s["switching_value"], "change_percent": s["change"]}
                                 for s in result["switching"]],
            "monte_carlo": result["monte_carlo"]}


@router.get("/appraisals", response=list[AppraisalSummary], url_name="appraisals")
def list_appraisals(request):
    """The appraisals the user may see (their council's, and any public ones)."""
    return [{"id": a.pk, "title": a.title, "owner": a.owner.slug, "horizon": a.horizon, "synthetic": a.synthetic,
             "updated_at": a.updated_at} for a in queries.appraisals(request.user)]


@router.post("/appraisals", response={201: AppraisalOut}, url_name="appraisals_create")
def create_appraisal(request, payload: AppraisalIn):
    """Open an appraisal for the user's council (private to it)."""
    editable = Organisation.objects.filter(pk__in=tenancy.member_org_ids(request.user, tenancy.EDIT_ROLES))
    if payload.organisation:
        if "\x00" in payload.organisation:
            raise _invalid("organisation", "must not contain a NUL character")
        owner = Organisation.objects.filter(slug=payload.organisation[:120]).first()
        if owner is None:
            raise _invalid("organisation", f"no council with slug '{payload.organisation[:60]}'")
    else:
        owner = editable.order_by("name").first()
        if owner is None:
            owner = Organisation.objects.filter(pk__in=tenancy.member_org_ids(request.user)).first()
        if owner is None:
            raise _invalid("organisation", "give the council's slug: you are not a member of one")
    try:
        a = services.create_appraisal(actor=request.user, owner=owner, title=payload.title,
                                      service=payload.service, description=payload.description,
                                      horizon=payload.horizon, bound=payload.bound,
                                      discounting=payload.discounting, rate=payload.rate, weights=payload.weights,
                                      contracts=payload.contracts)
    except services.AppraisalInputError as e:
        raise _invalid(e.field, e.message) from None
    return Status(201, _out(a))


@router.get("/appraisals/{appraisal_id}", response=AppraisalOut, url_name="appraisal")
def get_appraisal(request, appraisal_id: Path[int]):
    """An appraisal with its options and every result: NPSV, BCR, weighted scores, Monte Carlo, switching values,
    the recommendation and what would change it."""
    return _out(_appraisal(request, appraisal_id))


@router.post("/appraisals/{appraisal_id}/options", response={201: AppraisalOut}, url_name="appraisal_options")
def add_option(request, appraisal_id: Path[int], payload: OptionIn):
    """Add a delivery option; returns the appraisal with its new results."""
    a = _appraisal(request, appraisal_id)
    try:
        services.add_option(actor=request.user, appraisal=a, name=payload.name, kind=payload.kind,
                            partners=payload.partners, costs=payload.costs, benefits=payload.benefits,
                            ob_shares=payload.ob_shares, scores=payload.scores, cost_low=payload.cost_low,
                            cost_high=payload.cost_high, benefit_low=payload.benefit_low,
                            benefit_high=payload.benefit_high)
    except services.AppraisalInputError as e:
        raise _invalid(e.field, e.message) from None
    return Status(201, _out(queries.appraisal_for(request.user, a.pk)))


@router.post("/appraisals/{appraisal_id}/options/{option_id}/flows", response=AppraisalOut,
             url_name="appraisal_option_flows")
def set_flows(request, appraisal_id: Path[int], option_id: Path[int], payload: FlowsIn):
    """Replace an option's yearly costs and/or benefits (and optionally its optimism bias and scores)."""
    a = _appraisal(request, appraisal_id)
    option = _option(a, option_id)
    try:
        services.set_flows(actor=request.user, option=option, costs=payload.costs, benefits=payload.benefits,
                           ob_shares=payload.ob_shares, scores=payload.scores)
    except services.AppraisalInputError as e:
        raise _invalid(e.field, e.message) from None
    return _out(queries.appraisal_for(request.user, a.pk))


@router.post("/appraisals/{appraisal_id}/weights", response=AppraisalOut, url_name="appraisal_weights")
def set_weights(request, appraisal_id: Path[int], payload: WeightsIn):
    """Record the council's MCDA weights (normalised when they do not sum to 1; weights_note says so)."""
    a = _appraisal(request, appraisal_id)
    try:
        services.set_weights(actor=request.user, appraisal=a, weights=payload.weights)
    except services.AppraisalInputError as e:
        raise _invalid(e.field, e.message) from None
    return _out(queries.appraisal_for(request.user, a.pk))


def _option(a, option_id):
    option = Option.objects.filter(appraisal=a, pk=option_id).first() if 0 < option_id <= MAX_ID else None
    if option is None:
        raise Http404(f"No option with id {option_id} in this appraisal.")
    return option


@router.patch("/appraisals/{appraisal_id}", response=AppraisalOut, url_name="appraisal_settings")
def change_settings(request, appraisal_id: Path[int], payload: SettingsIn):
    """Change the appraisal's settings; fields left out are kept."""
    a = _appraisal(request, appraisal_id)
    try:
        services.update_appraisal(actor=request.user, appraisal=a, **payload.dict())
    except services.AppraisalInputError as e:
        raise _invalid(e.field, e.message) from None
    return _out(queries.appraisal_for(request.user, a.pk))


@router.patch("/appraisals/{appraisal_id}/options/{option_id}", response=AppraisalOut,
              url_name="appraisal_option")
def change_option(request, appraisal_id: Path[int], option_id: Path[int], payload: OptionChangeIn):
    """Change an option's name, kind, partners, description, flows, optimism bias or scores; omitted fields
    are kept."""
    a = _appraisal(request, appraisal_id)
    option = _option(a, option_id)
    try:
        services.set_flows(actor=request.user, option=option, **payload.dict())
    except services.AppraisalInputError as e:
        raise _invalid(e.field, e.message) from None
    return _out(queries.appraisal_for(request.user, a.pk))


@router.delete("/appraisals/{appraisal_id}/options/{option_id}", response={204: None},
               url_name="appraisal_option_delete")
def delete_option(request, appraisal_id: Path[int], option_id: Path[int]):
    """Remove an option (the audit trail keeps a copy)."""
    a = _appraisal(request, appraisal_id)
    try:
        services.delete_option(actor=request.user, option=_option(a, option_id))
    except services.AppraisalInputError:  # removed meanwhile
        raise Http404(f"No option with id {option_id} in this appraisal.") from None
    return Status(204, None)


def _evidence_out(ev):
    return {"contracts": [{"ocid": e["contract"].ocid, "title": e["contract"].title,
                           "annual_value": e["annual_value"], "providers": e["providers"],
                           "performance_visible": e["performance_visible"], "returns": e["returns"],
                           "quality_score": e["quality"], "latest_rating": e["rating"], "unit_cost": e["unit_cost"],
                           "unit": e["unit"], "comparables": e["comparables"], "cost_score": e["cost"]}
                          for e in ev["contracts"]],
            "returns": ev["counts"], "quality_score": ev["quality"], "cost_score": ev["cost"], "notes": ev["notes"],
            "synthetic": ev["synthetic"]}


@router.get("/appraisals/{appraisal_id}/evidence", response=EvidenceOut, url_name="appraisal_evidence")
def evidence(request, appraisal_id: Path[int]):
    """What the register, performance and benchmarking hold on the linked contracts, and the quality and cost
    scores they suggest for business as usual."""
    a = _appraisal(request, appraisal_id)
    return _evidence_out(queries.evidence(a, request.user))


@router.post("/appraisals/{appraisal_id}/prefill", response=AppraisalOut, url_name="appraisal_prefill")
def prefill(request, appraisal_id: Path[int]):
    """Give the business-as-usual options the quality and cost scores that the evidence suggests."""
    a = _appraisal(request, appraisal_id)
    try:
        services.prefill_scores(actor=request.user, appraisal=a, evidence=queries.evidence(a, request.user))
    except services.AppraisalInputError as e:
        raise _invalid(e.field, e.message) from None
    return _out(queries.appraisal_for(request.user, a.pk))
