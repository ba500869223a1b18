"""API endpoints for contract performance: a contract's KPIs, returns, assessments, changes and events;
submitting and correcting returns; a council's compliance and forward plan.

Performance is never public, so every endpoint needs a session: anonymous clients get 401, as from
/me. Reads go through ``performance.queries``: a contract whose performance you may not see is a
404, exactly like one that does not exist. Writes go through ``performance.services``, which decide
who may submit (403, recorded in the audit trail) and what is valid (422 naming the field; 409 for
a return already in for the period, or a return already corrected).
"""

from datetime import date
from typing import Annotated

from django.http import Http404
from ninja import Body, Field, Path, Query, Router, Status
from ninja.errors import ValidationError
from ninja.security import django_auth

from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation
from commissioner.performance import queries, services
from commissioner.performance.models import KpiReturn
from commissioner.performance.schemas import (
    FIRST_DAY,
    LAST_DAY,
    MAX_EVIDENCE,
    MAX_REASON,
    VALUE_HELP,
    Breach,
    ContractPerformanceOut,
    Day,
    KpiOut,
    NumberOrText,
    PlanItem,
    ReturnOut,
)
from commissioner.register.api import contract_or_404, paginate
from commissioner.register.schemas import MAX_ID, PageParams, QueryParams, Text, api_url, page_of

router = Router(auth=django_auth, tags=["performance"])

CONFLICT = {"responses": {409: {
    "description": "Conflict: a return is already in for the period, or the return was already corrected.",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}}}


class AsAtParams(QueryParams):
    as_at: date = Field(None, ge=FIRST_DAY, le=LAST_DAY,
                       description="Work it out as at this date (YYYY-MM-DD); default today.")


class _Items(list):
    """A list that ``paginate`` can count like a queryset."""

    def count(self, *args):
        return super().count(*args) if args else len(self)


# Errors -----------------------------------------------------------------------------------------

# Where each field named by services.PerformanceError is in the request.
FIELD_PLACES = {"return": ("return_id", "path")}


def _invalid(field, message):
    """A 422 problem naming ``field``, through the API's own validation-error handler."""
    name, where = FIELD_PLACES.get(field, (field, "body"))
    return ValidationError([{"loc": (where, name), "msg": message, "type": "invalid"}])


def _conflict(request, error, code):
    from commissioner.api import problem  # not at import time: commissioner.api imports this module

    name, where = FIELD_PLACES.get(error.field, (error.field, "body"))
    return problem(request, 409, f"{name}: {error.message}",
                   errors=[{"name": name, "in": where, "detail": error.message, "code": code}])


def _is_duplicate_period(error, kpi, day):
    """Did services refuse the period because a return is already in for it (rather than for the term)?"""
    if error.field != "period":
        return False
    try:
        services.return_period(kpi, day)
    except services.PerformanceError:
        return False
    return True


def _refuse_unless_may_submit(user, contract):
    """Refuse as services do (403, the attempt recorded in the audit trail) before telling anyone whether a
    KPI id belongs to the contract."""
    if not tenancy.can_submit_returns(user, contract):
        refusal = services.Refused(user, contract, "submit returns")
        refusal.log()
        raise refusal


# Request bodies: each field is a body parameter of its own, so that a problem names it as sent ("kpi",
# not "payload.kpi"), and a body that is not a JSON object is a problem naming "body".
KpiField = Annotated[int, Body(..., ge=1, le=MAX_ID, description="The KPI's id (see the contract's performance).")]
PeriodField = Annotated[Day, Body(..., ge=FIRST_DAY, le=LAST_DAY, description=(
    "Any day in the period (YYYY-MM-DD): 2025-05-15 for a quarterly KPI is April to June 2025."))]
ValueField = Annotated[NumberOrText, Body(..., description=VALUE_HELP)]
EvidenceField = Annotated[Text | None, Body(None, max_length=MAX_EVIDENCE, description=(
    "Where the figure comes from, and anything that explains it."))]
ReturnId = Annotated[int, Path(..., ge=1, le=MAX_ID, description="The return's id.")]
CorrectedValueField = Annotated[NumberOrText, Body(..., description=VALUE_HELP)]
CorrectedEvidenceField = Annotated[Text | None, Body(None, max_length=MAX_EVIDENCE, description=(
    "Leave it out to keep the original return's evidence."))]
ReasonField = Annotated[Text, Body(..., max_length=MAX_REASON, description="Why the return is corrected.")]


# One contract -----------------------------------------------------------------------------------

KPI_OUT_FIELDS = [name for name in KpiOut.model_fields if name != "returns"]


def _kpi(view):
    return {**{name: getattr(view.kpi, name) for name in KPI_OUT_FIELDS}, "returns": view.returns}


# Before /performance/contracts/{ocid}: an ocid may contain '/', so that route would also match '.../returns'.
@router.post("/performance/contracts/{path:ocid}/returns", response={201: ReturnOut}, url_name="submit_return",
             openapi_extra=CONFLICT)
def submit_return(request, ocid: Path[Text], kpi: KpiField, period: PeriodField, value: ValueField,
                  evidence: EvidenceField):
    """Submit a return: the provider's result for one KPI and period (one per period: correct it after)."""
    # The provider of a private contract sees it only here; anyone else who can see it in the register is
    # refused by services (403, audited); a contract they cannot see at all is a 404.
    contract = queries.contract_for(request.user, ocid) or contract_or_404(request.user, ocid)
    found = contract.kpis.filter(pk=kpi).first()
    if found is None:
        _refuse_unless_may_submit(request.user, contract)
        raise _invalid("kpi", f"the contract has no KPI with id {kpi}")
    try:
        ret = services.submit_return(actor=request.user, kpi=found, day=period, value=value,
                                     evidence=evidence or "", source=KpiReturn.Source.API)
    except services.PerformanceError as e:
        if _is_duplicate_period(e, found, period):
            return _conflict(request, e, "duplicate")
        raise _invalid(e.field, e.message) from None
    return Status(201, ret)


@router.get("/performance/contracts/{path:ocid}", response=ContractPerformanceOut, url_name="contract_performance")
def contract_performance(request, ocid: Path[Text]):
    """A contract's KPIs with their current returns, its assessments, changes and events, and where it stands
    against the Procurement Act."""
    contract = queries.contract_for(request.user, ocid)
    if contract is None:
        raise Http404(f"No contract with ocid '{ocid[:200]}' whose performance you may see.")
    data = queries.contract_performance(contract)
    context = {"request": request}
    return {
        "contract": contract, "owner": contract.owner,
        "synthetic": data.synthetic or any(a.synthetic for a in data.assessments),
        "act": {"kpis_required": data.kpis_required, "act_kpis": data.act_kpis,
                "assessment_due": data.assessment_due,
                "exemption": data.exemption.kind if data.exemption is not None else None},
        "kpis": [_kpi(view) for view in data.kpis], "assessments": data.assessments, "changes": data.changes,
        "events": data.events, "returns_url": api_url(context, "submit_return", ocid=contract.ocid),
    }


@router.post("/performance/returns/{return_id}/correction", response={201: ReturnOut}, url_name="correct_return",
             openapi_extra=CONFLICT)
def correct_return(request, return_id: ReturnId, value: CorrectedValueField, evidence: CorrectedEvidenceField,
                   reason: ReasonField):
    """Correct a return: a new return replaces it, and the original stays in the history (is_current false)."""
    ret = KpiReturn.objects.select_related("kpi__contract").filter(pk=return_id).first()
    if ret is None or queries.contract_for(request.user, ret.kpi.contract.ocid) is None:
        raise Http404(f"No return with id {return_id} that you may see.")
    try:
        new = services.correct_return(actor=request.user, ret=ret, value=value, evidence=evidence, reason=reason)
    except services.PerformanceError as e:
        if e.field == "return":
            return _conflict(request, e, "already_corrected")
        raise _invalid(e.field, e.message) from None
    return Status(201, new)


# A council --------------------------------------------------------------------------------------


def council_or_404(user, slug):
    """The organisation if the user is one of its members (or a superuser); else 404, as on the pages."""
    org = Organisation.objects.filter(slug=slug).first()
    if org is None or not (user.is_superuser or org.pk in tenancy.member_org_ids(user)):
        raise Http404(f"No organisation '{slug[:120]}' of yours.")
    return org


@router.get("/performance/councils/{slug}/compliance", response=page_of(Breach, "BreachPage"))
def council_compliance(request, slug: Path[Text], params: Query[AsAtParams], paging: Query[PageParams]):
    """Every breach of the Procurement Act rules (s.52 KPIs, s.71 assessments) across the council's contracts."""
    org = council_or_404(request.user, slug)
    return paginate(request, _Items(queries.compliance(org, today=params.as_at)), paging)


@router.get("/performance/councils/{slug}/forward-plan", response=page_of(PlanItem, "PlanPage"))
def council_forward_plan(request, slug: Path[Text], params: Query[AsAtParams], paging: Query[PageParams]):
    """The council's contracts needing a recommissioning decision in the next 18 months, by decision date."""
    org = council_or_404(request.user, slug)
    return paginate(request, _Items(queries.forward_plan(org, today=params.as_at)), paging)
