"""Request and response schemas of the performance API (/api/v1/performance/...).

Inputs are only typed here (JSON types, lengths, NUL characters, a sane range of dates): the values
themselves are checked by ``performance.services``, the one place for those rules, so the API accepts
exactly what the forms and the CSV upload accept.
"""

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import BeforeValidator, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from commissioner.register.schemas import OrgRef, api_url

MAX_VALUE_TEXT = 40  # as the forms
MAX_EVIDENCE = 5000  # as services keep
MAX_REASON = 500
# Days outside this range cannot be in a contract's term, and keep period arithmetic within the calendar.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2200, 12, 31)


def _number_or_text(value):
    """A JSON number or a string: parsed by services.decimal_value, like a form field or a CSV cell."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PydanticCustomError("number_type", "must be a number or a numeric string")
    if isinstance(value, str):
        if "\x00" in value:
            raise PydanticCustomError("nul_character", "must not contain NUL characters")
        if len(value) > MAX_VALUE_TEXT:
            raise PydanticCustomError("string_too_long", f"must be at most {MAX_VALUE_TEXT} characters")
    return value


def _iso_date_text(value):
    """Only 'YYYY-MM-DD' text: pydantic would also read a number as seconds since 1970."""
    if not isinstance(value, str):
        raise PydanticCustomError("date_type", "enter the date as text, YYYY-MM-DD")
    return value


NumberOrText = Annotated[
    Any, PlainValidator(_number_or_text),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "maxLength": MAX_VALUE_TEXT}]}),
]
Day = Annotated[date, BeforeValidator(_iso_date_text)]

VALUE_HELP = ("The result, in the KPI's unit: a JSON number or a numeric string ('1,234.5' and a leading '£' "
              "are allowed).")


# Responses --------------------------------------------------------------------------------------


class ReturnOut(Schema):
    """A provider's result for one KPI and period."""

    id: int
    kpi: int = Field(..., description="The KPI's id.")
    period_start: date
    period_end: date
    value: float
    classification: str = Field(..., description="met, slightlyBelow, below or significantlyBelow.")
    evidence: str
    source: str = Field(..., description="How it came in: form, csv, api, ocds or generated.")
    submitted_at: datetime
    is_current: bool = Field(..., description="False once a correction has replaced it.")
    supersedes: int | None = Field(..., description="The id of the return this one corrects.")
    correction_reason: str
    synthetic: bool = Field(..., description="Made by the demo's generator, not real.")
    correction_url: str = Field(..., description="POST here to correct it.")

    @staticmethod
    def resolve_kpi(obj):
        return obj.kpi_id

    @staticmethod
    def resolve_supersedes(obj):
        return obj.supersedes_id

    @staticmethod
    def resolve_correction_url(obj, context):
        return api_url(context, "correct_return", return_id=obj.pk)


class KpiOut(Schema):
    id: int
    name: str
    definition: str
    unit: str
    target: float
    direction: str = Field(..., description="higher or lower (which way is better).")
    tolerance: float = Field(..., description="How far from the target still counts as slightly below.")
    frequency: str = Field(..., description="monthly, quarterly or annual (financial year).")
    weight: float
    is_act_kpi: bool = Field(..., description="One of the contract's Procurement Act KPIs (s.52).")
    is_active: bool
    synthetic: bool
    returns: list[ReturnOut] = Field(..., description="Its current returns, oldest period first.")


class AssessmentOut(Schema):
    """A Procurement Act s.71 assessment: the rating proposed from the KPI results and the one confirmed."""

    id: int
    kind: str = Field(..., description="periodic or termination.")
    period_start: date
    period_end: date
    proposed_rating: str
    proposed_score: float | None
    rating: str
    reason: str = Field(..., description="Why the rating differs from the proposal.")
    explanation: str
    kpi_results: list[dict[str, Any]]
    assessed_on: date
    is_current: bool
    supersedes: int | None
    synthetic: bool

    @staticmethod
    def resolve_supersedes(obj):
        return obj.supersedes_id


class ChangeOut(Schema):
    """A contract modification (s.74-75) and whether it needs a contract change notice (UK10)."""

    id: int
    kind: str = Field(..., description="value, term or scope.")
    changed_on: date
    value_change: float
    term_change_days: int
    reason: str
    linked_to: int | None = Field(..., description="An earlier change this one is added up with.")
    value_before: float | None
    value_after: float | None
    notice_required: bool
    verdict: dict[str, Any] = Field(..., description="How the need for a notice was worked out.")

    @staticmethod
    def resolve_linked_to(obj):
        return obj.linked_to_id


class EventOut(Schema):
    id: int
    kind: str = Field(..., description="break, extension, notice, review, end or max_end.")
    date: date
    extension_months: int | None
    notice_days: int | None
    note: str
    is_active: bool


class ActSummary(Schema):
    """Where the contract stands against the Procurement Act 2023."""

    kpis_required: int = Field(..., description="Procurement Act KPIs the contract needs (s.52).")
    act_kpis: int = Field(..., description="Active KPIs marked as Procurement Act KPIs.")
    assessment_due: str | None = Field(..., description="What s.71 assessment is due, if any.")
    exemption: str | None = Field(..., description="Why it needs no KPIs (framework, concession, ...), if so.")


class ContractRef(Schema):
    ocid: str
    title: str
    value: float | None
    start_date: date | None
    end_date: date | None
    url: str = Field(..., description="The contract in the register.")
    performance_url: str

    @staticmethod
    def resolve_url(obj, context):
        return api_url(context, "contract_detail", ocid=obj.ocid)

    @staticmethod
    def resolve_performance_url(obj, context):
        return api_url(context, "contract_performance", ocid=obj.ocid)


class ContractPerformanceOut(Schema):
    contract: ContractRef
    owner: OrgRef
    synthetic: bool = Field(..., description="True when any figure shown was made by the demo's generator.")
    act: ActSummary
    kpis: list[KpiOut] = Field(..., description="Active KPIs first, then retired ones.")
    assessments: list[AssessmentOut] = Field(..., description="Newest first, superseded ones included.")
    changes: list[ChangeOut]
    events: list[EventOut]
    returns_url: str = Field(..., description="POST a new return here.")


class Breach(Schema):
    contract: ContractRef
    rule: str = Field(..., description="s.52 KPIs or s.71 assessment.")
    detail: str


class PlanItem(Schema):
    contract: ContractRef
    decision: date = Field(..., description="When the recommissioning decision is due.")
    end: date = Field(..., description="The end of the contract, or an earlier break clause.")
    why: str = Field(..., description="end of the contract, or break clause.")
    lead_months: int = Field(..., description="The lead time for a contract of this value.")
