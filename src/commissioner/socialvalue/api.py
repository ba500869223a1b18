"""API for social return and social value, under /api/v1/socialvalue/...: a council's SROI models and
proxy library, one model with its results and sensitivity table, a contract's commitments with what was
delivered, the shared open proxies; and writes: create, change (PATCH: the fields given) and delete models,
outcomes, commitments, deliveries and proxies, and copy open proxies into a council's library.

Every endpoint needs a session (anonymous clients get 401) and writes need the CSRF token (``X-CSRFToken``).
Records are private to the council that owns them (``visible_to``): another council sees an empty list, or
a 404 for one record. Writes go through ``socialvalue.services``: a user who may see a record but not change
it gets 403 (recorded in the audit trail), bad input 422 naming the field (percentages 0-100).
"""

from django.http import Http404
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import ValidationError
from ninja.security import django_auth

from commissioner.register.schemas import MAX_ID
from commissioner.socialvalue import queries, services

Number = str | int | float | None

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
    id: int
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
    id: int
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
    return _model_detail(_model(request, model_id))


def _model(request, model_id):
    model = queries.model_for(request.user, model_id) if 0 < model_id <= MAX_ID else None
    if model is None:
        raise Http404(f"No SROI model with id {model_id} that you may see.")
    return model


def _model_detail(model):
    result, sensitivity = queries.results(model)
    return {**_model_out(model),
            "outcomes": [{"id": o.pk, "stakeholder": o.stakeholder, "indicator": o.indicator, "quantity": str(o.quantity),
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
    return [_proxy_out(p) for p in queries.proxies(request.user, _org(slug))]


def _proxy_out(p):
    return {"id": p.pk, "name": p.name, "unit": p.unit, "value": str(p.value), "source": p.source,
            "year": p.year, "licence": p.licence, "synthetic": p.synthetic}


# The route ends in /commitments: an ocid may contain '/'.
@router.get("/socialvalue/contracts/{path:ocid}/commitments", response=list[CommitmentOut],
            url_name="socialvalue_commitments")
def list_commitments(request, ocid: Path[str]):
    """The contract's social value commitments, with what was delivered in each period."""
    return [_commitment_out(r) for r in queries.for_contract(request.user, _contract(request, ocid))]


def _contract(request, ocid):
    contract = queries.contract_for(request.user, ocid)
    if contract is None:
        raise Http404(f"No contract with ocid '{ocid[:200]}'.")
    return contract


def _commitment_out(r):
    return {"id": r["commitment"].pk, "measure": r["measure"], "unit": r["unit"], "promised": str(r["promised"]),
            "delivered": None if r["delivered"] is None else str(r["delivered"]),
            "delivered_percent": None if r["share"] is None else round(float(r["share"]), 2),
            "synthetic": r["synthetic"],
            "deliveries": [{"id": d.pk, "period": d.period, "amount": str(d.amount), "shared_by": d.shared_by,
                            "counted": str(d.counted), "note": d.note, "synthetic": d.synthetic}
                           for d in r["deliveries"]]}


# Writes --------------------------------------------------------------------------------------------

PERCENT_FIELDS = {"deadweight": "deadweight_percent", "displacement": "displacement_percent",
                  "attribution": "attribution_percent", "drop_off": "drop_off_percent"}
API_NAMES = {**PERCENT_FIELDS, "proxy": "proxy_id", "contract": "contract_ocid"}


def _invalid(field, message, errors=None):
    return ValidationError([{"loc": ("body", API_NAMES.get(f, f)), "msg": m, "type": "invalid"}
                            for f, m in (errors or [(field, message)])])


def _write(call):
    """Run a service call; its SvInputError becomes a 422 naming every bad field (as the API names them)."""
    try:
        return call()
    except services.SvInputError as e:
        raise _invalid(e.field, e.message, e.errors) from None


def _one(lookup, request, pk, what):
    row = lookup(request.user, pk) if 0 < pk <= MAX_ID else None
    if row is None:
        raise Http404(f"No {what} with id {pk} that you may see.")
    return row


def _given(payload):
    return payload.dict(exclude_unset=True)


class ModelIn(Schema):
    name: str | None = Field(None, description="Required when creating")
    inputs: Number = Field(None, description="Value of inputs in pounds (required when creating)")
    service: str | None = Field(None, description="The service, when the model is not for one contract")
    contract_ocid: str | None = Field(None, description="One of the council's contracts (blank: none)")


def _model_data(model_owner, data):
    out = {k: v for k, v in data.items() if k in ("name", "inputs", "service")}
    if out.get("service", "") is None:
        out["service"] = ""
    if "contract_ocid" in data:
        out["contract"] = str(data["contract_ocid"] or "")  # an OCID: checked with the other fields
    return out


@router.post("/socialvalue/councils/{slug}/models", response={201: ModelDetail},
             url_name="socialvalue_models_create")
def create_model(request, slug: Path[str], payload: ModelIn):
    """Start an SROI model for the council (private to it): name, inputs, and a contract or a service."""
    owner = _org(slug)
    services.refuse_unless_editor(request.user, owner, "create an SROI model", owner)
    data = _given(payload)

    def create():
        return services.create_model(actor=request.user, owner=owner, name=data.get("name"),
                                     inputs=data.get("inputs"), service=data.get("service") or "",
                                     contract=str(data.get("contract_ocid") or ""))

    return Status(201, _model_detail(_write(create)))


@router.patch("/socialvalue/models/{model_id}", response=ModelDetail, url_name="socialvalue_model_update")
def update_model(request, model_id: Path[int], payload: ModelIn):
    """Change a model: the fields given (contract_ocid null or blank: for a service, not a contract)."""
    model = _model(request, model_id)
    _write(lambda: services.update_model(actor=request.user, model=model,
                                         data=_model_data(model.owner, _given(payload))))
    return _model_detail(queries.model_for(request.user, model.pk))


@router.delete("/socialvalue/models/{model_id}", response={204: None}, url_name="socialvalue_model_delete")
def delete_model(request, model_id: Path[int]):
    """Delete a model and its outcomes (the audit trail keeps them)."""
    services.delete_model(actor=request.user, model=_model(request, model_id))
    return Status(204, None)


class OutcomeIn(Schema):
    stakeholder: str | None = None
    indicator: str | None = None
    quantity: Number = None
    proxy_id: int | None = Field(None, description="A proxy of the council's library (its value and source are "
                                                   "copied); else give proxy_value and proxy_source")
    proxy_value: Number = Field(None, description="Pounds per unit")
    proxy_source: str | None = None
    deadweight_percent: Number = Field(None, description="0 to 100 (blank or absent: 0 when creating)")
    displacement_percent: Number = Field(None, description="0 to 100")
    attribution_percent: Number = Field(None, description="0 to 100")
    drop_off_percent: Number = Field(None, description="0 to 100")
    years: Number = Field(None, description="Benefit period: whole years from 1 to 100")


def _outcome_data(payload):
    data = _given(payload)
    out = {k: v for k, v in data.items() if k not in PERCENT_FIELDS.values() and k != "proxy_id"}
    out.update({key: data[name] for key, name in PERCENT_FIELDS.items() if name in data})
    if "proxy_id" in data:
        out["proxy"] = "" if data["proxy_id"] is None else str(data["proxy_id"])
    return out


@router.post("/socialvalue/models/{model_id}/outcomes", response={201: ModelDetail},
             url_name="socialvalue_outcomes_create")
def create_outcome(request, model_id: Path[int], payload: OutcomeIn):
    """Add an outcome; returns the model with its new results."""
    model = _model(request, model_id)
    _write(lambda: services.add_outcome(actor=request.user, model=model, data=_outcome_data(payload)))
    return Status(201, _model_detail(queries.model_for(request.user, model.pk)))


@router.patch("/socialvalue/outcomes/{outcome_id}", response=ModelDetail, url_name="socialvalue_outcome_update")
def update_outcome(request, outcome_id: Path[int], payload: OutcomeIn):
    """Change an outcome (the fields given); returns its model with the new results."""
    outcome = _one(queries.outcome_for, request, outcome_id, "outcome")
    _write(lambda: services.update_outcome(actor=request.user, outcome=outcome, data=_outcome_data(payload)))
    return _model_detail(queries.model_for(request.user, outcome.model_id))


@router.delete("/socialvalue/outcomes/{outcome_id}", response={204: None}, url_name="socialvalue_outcome_delete")
def delete_outcome(request, outcome_id: Path[int]):
    services.delete_outcome(actor=request.user, outcome=_one(queries.outcome_for, request, outcome_id, "outcome"))
    return Status(204, None)


class CommitmentIn(Schema):
    measure: str | None = None
    unit: str | None = None
    promised: Number = Field(None, description="The amount promised over the contract")


def _commitment_detail(request, commitment_id):
    row = queries.commitment_rows([queries.commitment_for(request.user, commitment_id)])[0]
    return _commitment_out(row)


@router.post("/socialvalue/contracts/{path:ocid}/commitments", response={201: CommitmentOut},
             url_name="socialvalue_commitments_create")
def create_commitment(request, ocid: Path[str], payload: CommitmentIn):
    """Record what the supplier promised on the contract (measure, unit, amount)."""
    contract = _contract(request, ocid)
    row = _write(lambda: services.add_commitment(actor=request.user, contract=contract, data=_given(payload)))
    return Status(201, _commitment_detail(request, row.pk))


@router.patch("/socialvalue/commitments/{commitment_id}", response=CommitmentOut,
              url_name="socialvalue_commitment_update")
def update_commitment(request, commitment_id: Path[int], payload: CommitmentIn):
    c = _one(queries.commitment_for, request, commitment_id, "commitment")
    _write(lambda: services.update_commitment(actor=request.user, commitment=c, data=_given(payload)))
    return _commitment_detail(request, c.pk)


@router.delete("/socialvalue/commitments/{commitment_id}", response={204: None},
               url_name="socialvalue_commitment_delete")
def delete_commitment(request, commitment_id: Path[int]):
    """Delete a commitment and what was delivered against it (the audit trail keeps them)."""
    c = _one(queries.commitment_for, request, commitment_id, "commitment")
    services.delete_commitment(actor=request.user, commitment=c)
    return Status(204, None)


class DeliveryIn(Schema):
    period: str | None = Field(None, description="2024-25, 2025-Q1 or 2025")
    amount: Number = None
    full_time: Number = Field(None, description="For jobs, instead of amount: full-time staff")
    part_time: Number = Field(None, description="Part-time staff, counted at half")
    shared_by: Number = Field(None, description="Contracts the benefit is shared by (blank: 1)")
    note: str | None = None


def _delivery_data(payload):
    return {k: ("" if v is None and k in ("full_time", "part_time", "note", "shared_by") else v)
            for k, v in _given(payload).items()}


@router.post("/socialvalue/commitments/{commitment_id}/deliveries", response={201: CommitmentOut},
             url_name="socialvalue_deliveries_create")
def create_delivery(request, commitment_id: Path[int], payload: DeliveryIn):
    """Record what was delivered against a commitment in one period; returns the commitment."""
    c = _one(queries.commitment_for, request, commitment_id, "commitment")
    _write(lambda: services.record_delivery(actor=request.user, commitment=c, data=_delivery_data(payload)))
    return Status(201, _commitment_detail(request, c.pk))


@router.patch("/socialvalue/deliveries/{delivery_id}", response=CommitmentOut,
              url_name="socialvalue_delivery_update")
def update_delivery(request, delivery_id: Path[int], payload: DeliveryIn):
    d = _one(queries.delivery_for, request, delivery_id, "delivery")
    _write(lambda: services.update_delivery(actor=request.user, delivery=d, data=_delivery_data(payload)))
    return _commitment_detail(request, d.commitment_id)


@router.delete("/socialvalue/deliveries/{delivery_id}", response={204: None},
               url_name="socialvalue_delivery_delete")
def delete_delivery(request, delivery_id: Path[int]):
    d = _one(queries.delivery_for, request, delivery_id, "delivery")
    services.delete_delivery(actor=request.user, delivery=d)
    return Status(204, None)


class ProxyIn(Schema):
    name: str | None = None
    unit: str | None = None
    value: Number = Field(None, description="Pounds per unit")
    source: str | None = Field(None, description="Publication, table, page")
    year: Number = Field(None, description="The price year, 1950 to 2100")
    licence: str | None = None


@router.post("/socialvalue/councils/{slug}/proxies", response={201: ProxyOut}, url_name="socialvalue_proxies_create")
def create_proxy(request, slug: Path[str], payload: ProxyIn):
    """Add a proxy to the council's library (one with the same name and unit is refused: PATCH that one)."""
    org = _org(slug)
    row = _write(lambda: services.save_proxy(actor=request.user, owner=org, data=_given(payload), replace=False))
    return Status(201, _proxy_out(row))


@router.patch("/socialvalue/proxies/{proxy_id}", response=ProxyOut, url_name="socialvalue_proxy_update")
def update_proxy(request, proxy_id: Path[int], payload: ProxyIn):
    p = _one(queries.proxy_for, request, proxy_id, "proxy")
    return _proxy_out(_write(lambda: services.update_proxy(actor=request.user, proxy=p, data=_given(payload))))


@router.delete("/socialvalue/proxies/{proxy_id}", response={204: None}, url_name="socialvalue_proxy_delete")
def delete_proxy(request, proxy_id: Path[int]):
    """Remove a proxy from the library; outcomes that used it keep the value and source they copied."""
    services.delete_proxy(actor=request.user, proxy=_one(queries.proxy_for, request, proxy_id, "proxy"))
    return Status(204, None)


class OpenProxyOut(Schema):
    code: str
    name: str
    unit: str
    value: str
    price_year: int
    price_basis: str
    publisher: str
    title: str
    url: str
    table: str
    licence: str


@router.get("/socialvalue/open-proxies", response=list[OpenProxyOut], url_name="socialvalue_open_proxies")
def list_open_proxies(request):
    """The openly licensed proxies shipped with Commissioner (shared, read-only), each with its source."""
    return [{**{k: p[k] for k in OpenProxyOut.model_fields}, "value": str(p["value"])}
            for p in queries.open_proxies()]


class OpenCopyIn(Schema):
    codes: list[str] = Field(..., description="Codes of the open proxies to copy", max_length=100)


@router.post("/socialvalue/councils/{slug}/proxies/open", response=list[ProxyOut],
             url_name="socialvalue_open_proxies_copy")
def copy_open_proxies(request, slug: Path[str], payload: OpenCopyIn):
    """Copy open proxies into the council's library (one with the same name and unit is updated)."""
    org = _org(slug)
    return [_proxy_out(p) for p in _write(lambda: services.copy_open_proxies(actor=request.user, owner=org,
                                                                             codes=payload.codes))]
