"""API for social return and social value, under /api/v1/socialvalue/...: a council's SROI models and
proxy library, one model with its results and sensitivity table, and a contract's commitments with
what was delivered. Read-only: changes are made on the pages (through ``socialvalue.services``).

Every endpoint needs a session (anonymous clients get 401). Records are private to the council that
owns them (``visible_to``): another council sees an empty list, or a 404 for one model.
"""

from django.http import Http404
from ninja import Path, Router, Schema
from ninja.security import django_auth

from commissioner.register.schemas import MAX_ID
from commissioner.socialvalue import queries

router = Router(auth=django_auth, tags=["socialvalue"])


class ModelOut(Schema):
    id: int
    name: str
    owner: str
    contract_ocid: str | None = None
    service: str
    inputs: str
    synthetic: bool


class OutcomeOut(Schema):
    stakeholder: str
    indicator: str
    quantity: str
    proxy_value: str
    proxy_source: str
    deadweight_percent: str
    displacement_percent: str
    attribution_percent: str
    drop_off_percent: str
    years: int


class SwitchingOut(Schema):
    outcome: str
    assumption: str
    current: float
    switching_value: float | None = None
    unit: str


class ModelDetail(ModelOut):
    outcomes: list[OutcomeOut]
    yearly_impact: list[float]
    present_value: float
    ratio: float | None = None
    net_ratio: float | None = None
    payback_months: float | None = None
    sensitivity: list[SwitchingOut]


class ProxyOut(Schema):
    id: int
    name: str
    unit: str
    value: str
    source: str
    year: int
    licence: str
    synthetic: bool


class DeliveryOut(Schema):
    period: str
    amount: str
    shared_by: int
    counted: str
    note: str
    synthetic: bool


class CommitmentOut(Schema):
    id: int
    measure: str
    unit: str
    promised: str
    delivered: str | None = None
    delivered_percent: float | None = None
    deliveries: list[DeliveryOut]
    synthetic: bool


def _org(slug):
    org = queries.organisation(slug)
    if org is None:
        raise Http404(f"No organisation '{slug[:100]}'.")
    return org


def _model_out(m):
    return {"id": m.pk, "name": m.name, "owner": m.owner.name, "contract_ocid": m.contract.ocid if m.contract else None,
            "service": m.service, "inputs": str(m.inputs), "synthetic": m.synthetic}


@router.get("/socialvalue/councils/{slug}/models", response=list[ModelOut], url_name="socialvalue_models")
def list_models(request, slug: Path[str]):
    """The council's SROI models that you may see."""
    return [_model_out(m) for m in queries.models_of(request.user, _org(slug))]


@router.get("/socialvalue/models/{model_id}", response=ModelDetail, url_name="socialvalue_model")
def model_detail(request, model_id: int = Path(..., ge=1, le=MAX_ID)):
    """One SROI model: outcomes (shares in percent), results and the switching value of every assumption."""
    model = queries.model_for(request.user, model_id)
    if model is None:
        raise Http404(f"No SROI model with id {model_id} that you may see.")
    result, sensitivity = queries.results(model)
    return {**_model_out(model),
            "outcomes": [{"stakeholder": o.stakeholder, "indicator": o.indicator, "quantity": str(o.quantity),
                          "proxy_value": str(o.proxy_value), "proxy_source": o.proxy_source,
                          "deadweight_percent": str(o.deadweight), "displacement_percent": str(o.displacement),
                          "attribution_percent": str(o.attribution), "drop_off_percent": str(o.drop_off),
                          "years": o.years} for o in model.outcomes.all().order_by("id")],
            "yearly_impact": result.yearly, "present_value": result.present_value, "ratio": result.ratio,
            "net_ratio": result.net_ratio, "payback_months": result.payback_months,
            "sensitivity": [{"outcome": s["outcome"], "assumption": s["key"], "current": s["current"],
                             "switching_value": s["switching"], "unit": "percent" if s["percent"] else "number"}
                            for s in sensitivity]}


@router.get("/socialvalue/councils/{slug}/proxies", response=list[ProxyOut], url_name="socialvalue_proxies")
def list_proxies(request, slug: Path[str]):
    """The council's library of financial proxies that you may see."""
    return [{"id": p.pk, "name": p.name, "unit": p.unit, "value": str(p.value), "source": p.source,
             "year": p.year, "licence": p.licence, "synthetic": p.synthetic}
            for p in queries.proxies(request.user, _org(slug))]


# The route ends in /commitments: an ocid may contain '/'.
@router.get("/socialvalue/contracts/{path:ocid}/commitments", response=list[CommitmentOut],
            url_name="socialvalue_commitments")
def list_commitments(request, ocid: Path[str]):
    """The contract's social value commitments, with what was delivered in each period."""
    contract = queries.contract_for(request.user, ocid)
    if contract is None:
        raise Http404(f"No contract with ocid '{ocid[:200]}'.")
    return [{"id": r["commitment"].pk, "measure": r["measure"], "unit": r["unit"], "promised": str(r["promised"]),
             "delivered": None if r["delivered"] is None else str(r["delivered"]),
             "delivered_percent": None if r["share"] is None else round(float(r["share"]), 2),
             "synthetic": r["synthetic"],
             "deliveries": [{"period": d.period, "amount": str(d.amount), "shared_by": d.shared_by,
                             "counted": str(d.counted), "note": d.note, "synthetic": d.synthetic}
                            for d in r["deliveries"]]}
            for r in queries.for_contract(request.user, contract)]
