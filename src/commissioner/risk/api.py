"""API for supplier financial risk, under /api/v1/risk/...: a contract's supplier accounts and
assessments (list and create).

Every endpoint needs a session (anonymous clients get 401) and POST needs the CSRF token. A contract
the user may not see is a 404; a council's accounts and assessments are private to it (another
council sees an empty list for a public contract). A provider's own users list and add the accounts of
their provider on a contract it holds (owned by the contract's council, marked entered by the supplier) and
see none of the council's assessments (an empty list). Writes go through ``risk.services``: a user who may
not write gets 403 (recorded in the audit trail), bad input 422 naming the field.
"""

from datetime import datetime
from typing import Any

from django.http import Http404
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import ValidationError
from ninja.security import django_auth

from commissioner.methods import supplier_risk
from commissioner.risk import queries, services
from commissioner.risk.models import FIGURE_NAMES, SupplierAccounts

router = Router(auth=django_auth, tags=["risk"])

MONEY_HELP = "Pounds: a JSON number or a numeric string ('1,234', '£1,234', '(1,234)' for negative); null if not given."


class AccountsOut(Schema):
    id: int
    provider: int = Field(..., alias="provider_id")
    year: int
    turnover: str | None = None
    operating_profit: str | None = None
    profit_after_tax: str | None = None
    current_assets: str | None = None
    stock: str | None = None
    current_liabilities: str | None = None
    borrowing: str | None = None
    shareholder_funds: str | None = None
    net_assets: str | None = None
    interest: str | None = None
    cash: str | None = None
    audited: bool
    source: str
    entered_by_supplier: bool = Field(False, description="The supplier's own user gave this year.")
    supplier_user: str | None = Field(None, description="The supplier's user who gave it.")
    supplier_entered_at: datetime | None = None
    corrected_at: datetime | None = Field(None, description="When the council's officers corrected the supplier's "
                                                            "figures (the supplier's stay in supplier_figures).")
    supplier_figures: dict | None = Field(None, description="The figures (and audited) as the supplier gave them.")
    synthetic: bool


class AccountsIn(Schema):
    provider: int | None = Field(None, description="The provider's id; default the contract's first supplier.")
    year: int | str = Field(..., description="The year the accounts end in, e.g. 2024.")
    turnover: Any = Field(None, description=MONEY_HELP)
    operating_profit: Any = Field(None, description=MONEY_HELP)
    profit_after_tax: Any = Field(None, description=MONEY_HELP)
    current_assets: Any = Field(None, description=MONEY_HELP)
    stock: Any = Field(None, description=MONEY_HELP)
    current_liabilities: Any = Field(None, description=MONEY_HELP)
    borrowing: Any = Field(None, description=MONEY_HELP)
    shareholder_funds: Any = Field(None, description=MONEY_HELP)
    net_assets: Any = Field(None, description=MONEY_HELP)
    interest: Any = Field(None, description=MONEY_HELP)
    cash: Any = Field(None, description=MONEY_HELP)
    audited: bool = False


class FactorOut(Schema):
    name: str
    status: str
    explanation: str


class LegacyOut(Schema):
    passes: bool | None = None
    rule: str = ""
    explanation: str = ""


class AssessmentOut(Schema):
    id: int
    provider: int = Field(..., alias="provider_id")
    annual_value: str
    criticality: str
    mitigations: list[str]
    lots: int
    audited_accounts_required: bool
    credit_score: str | None = None
    rating: str
    exposure: str
    exposure_ratio: float | None = None
    health: str
    factors: list[FactorOut]
    mitigation_notes: list[str]
    moves: list[str]
    legacy: LegacyOut
    accounts_used: list[dict]
    synthetic: bool
    is_current: bool
    supersedes: int | None = Field(None, alias="supersedes_id")
    assessed_at: datetime


class AssessmentIn(Schema):
    provider: int | None = Field(None, description="The provider's id; default the contract's first supplier.")
    annual_value: Any = Field(..., description="The contract's value a year. " + MONEY_HELP)
    criticality: str = Field("medium", description="low, medium or high")
    mitigations: list[str] = Field([], description=f"Any of: {', '.join(supplier_risk.MITIGATIONS)}.")
    lots: int = Field(1, description="1 or more; exposure is measured on one lot when lotting is a mitigation.")
    audited_accounts_required: bool = True
    credit_score: float | None = Field(None, description="0-100, optional.")


def _contract(request, ocid):
    contract = queries.contract_for(request.user, ocid)
    if contract is None:
        raise Http404(f"No contract with ocid '{ocid[:200]}'.")
    return contract


def _provider(request, contract, pk):
    everyone = services.providers_of(contract)
    if pk is not None:  # named: the service refuses it if the user may not write for it
        providers = everyone
    else:  # by default the contract's first supplier (for a supplier's user: their own)
        providers = queries.providers_for(request.user, contract, everyone)
    if pk is None:
        if not providers:
            raise _invalid("provider", "the contract has no supplier to assess")
        return providers[0]
    found = next((p for p in providers if p.pk == pk), None)
    if found is None:
        raise _invalid("provider", f"the contract has no provider with id {pk}")
    return found


def _invalid(field, message):
    return ValidationError([{"loc": ("body", field), "msg": message, "type": "invalid"}])


def _accounts_out(a: SupplierAccounts):
    return {"id": a.pk, "provider_id": a.provider_id, "year": a.year, "audited": a.audited, "source": a.source,
            "synthetic": a.synthetic, "entered_by_supplier": a.entered_by_supplier,
            "supplier_user": a.supplier_username or None, "supplier_entered_at": a.supplier_entered_at,
            "corrected_at": a.corrected_at, "supplier_figures": a.supplier_figures,
            **{n: (str(v) if (v := getattr(a, n)) is not None else None) for n in FIGURE_NAMES}}


def _assessment_out(a):
    return {**{k: getattr(a, k) for k in ("id", "provider_id", "criticality", "mitigations", "lots",
                                          "audited_accounts_required", "rating", "exposure", "exposure_ratio",
                                          "health", "factors", "mitigation_notes", "moves", "legacy",
                                          "accounts_used", "synthetic", "is_current", "supersedes_id",
                                          "assessed_at")},
            "annual_value": str(a.annual_value),
            "credit_score": None if a.credit_score is None else str(a.credit_score)}


# Routes end in /accounts or /assessments: an ocid may contain '/'.
@router.get("/risk/contracts/{path:ocid}/accounts", response=list[AccountsOut], url_name="risk_accounts")
def list_accounts(request, ocid: Path[str]):
    """The accounts of the contract's suppliers held by its council (private to that council)."""
    contract = _contract(request, ocid)
    out = []
    for provider in queries.providers_for(request.user, contract, services.providers_of(contract)):
        out += [_accounts_out(a) for a in queries.accounts(request.user, contract, provider)]
    return out


@router.post("/risk/contracts/{path:ocid}/accounts", response={201: AccountsOut}, url_name="risk_accounts_create")
def create_accounts(request, ocid: Path[str], payload: AccountsIn):
    """Add (or replace) one year of a supplier's accounts: the council's admins and commissioners, or the
    supplier's own user (their provider only; a year the council entered or corrected is refused, 422)."""
    contract = _contract(request, ocid)
    services.refuse_unless_may_submit(request.user, contract, None, "enter accounts")
    provider = _provider(request, contract, payload.provider)
    try:
        row = services.save_accounts(actor=request.user, contract=contract, provider=provider,
                                     data=payload.dict(), source=SupplierAccounts.Source.ENTERED)
    except services.RiskInputError as e:
        raise _invalid(e.field, e.message) from None
    return Status(201, _accounts_out(row))


@router.get("/risk/contracts/{path:ocid}/assessments", response=list[AssessmentOut], url_name="risk_assessments")
def list_assessments(request, ocid: Path[str]):
    """The contract's financial risk assessments, newest first (superseded ones have is_current false)."""
    contract = _contract(request, ocid)
    return [_assessment_out(a) for a in queries.assessments(request.user, contract)]


@router.post("/risk/contracts/{path:ocid}/assessments", response={201: AssessmentOut},
             url_name="risk_assessments_create")
def create_assessment(request, ocid: Path[str], payload: AssessmentIn):
    """Assess a supplier's financial risk on this contract, with the accounts held; it supersedes the last."""
    contract = _contract(request, ocid)
    services.refuse_unless_editor(request.user, contract.owner, "assess financial risk", contract)
    provider = _provider(request, contract, payload.provider)
    try:
        row = services.assess(actor=request.user, contract=contract, provider=provider,
                              annual_value=payload.annual_value, criticality=payload.criticality,
                              mitigations=payload.mitigations, lots=payload.lots,
                              audited_accounts_required=payload.audited_accounts_required,
                              credit_score=payload.credit_score)
    except services.RiskInputError as e:
        raise _invalid(e.field, e.message) from None
    return Status(201, _assessment_out(row))
