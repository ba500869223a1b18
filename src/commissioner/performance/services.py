"""The only place that writes KPIs, returns, assessments, contract changes and events.

Every function checks permission through ``orgs.tenancy`` and records the change in the audit
trail. Bad input raises ``PerformanceError`` naming the field; nothing is half-written (each
function is one transaction). Nothing is deleted: KPIs and events are retired, returns and
assessments corrected by a newer row.
"""

import functools
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from commissioner.methods import performance as perf
from commissioner.methods import procurement
from commissioner.orgs import services as orgs_services
from commissioner.orgs import tenancy
from commissioner.orgs.services import audit, snapshot
from commissioner.performance.models import (
    Assessment,
    ContractChange,
    ContractEvent,
    Direction,
    Frequency,
    Kpi,
    KpiReturn,
    ProviderUser,
)

KPI_FIELDS = ["name", "definition", "unit", "target", "direction", "tolerance", "frequency", "weight",
              "is_act_kpi", "is_active"]
RETURN_FIELDS = ["kpi", "period_start", "period_end", "value", "classification", "evidence", "source",
                 "is_current", "correction_reason"]
ASSESSMENT_FIELDS = ["kind", "period_start", "period_end", "proposed_rating", "rating", "reason", "assessed_on"]
CHANGE_FIELDS = ["kind", "changed_on", "value_change", "term_change_days", "reason", "linked_to",
                 "value_before", "value_after", "notice_required"]
EVENT_FIELDS = ["kind", "date", "extension_months", "notice_days", "note", "is_active"]


class PerformanceError(ValueError):
    """Bad input: ``field`` names what was wrong (for forms, the API and CSV rows)."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def decimal_value(raw, field="value", *, allow_negative=True):
    """A number from a form, a CSV cell or JSON (commas and a leading pound sign allowed)."""
    if isinstance(raw, bool) or raw is None or (isinstance(raw, str) and not raw.strip()):
        raise PerformanceError(field, "enter a number")
    text = str(raw).strip().replace(",", "").removeprefix("£")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise PerformanceError(field, f"'{str(raw)[:40]}' is not a number") from None
    if not value.is_finite():
        raise PerformanceError(field, "enter a finite number")
    if abs(value) > settings.MAX_AMOUNT:
        raise PerformanceError(field, f"{value:,} is beyond the largest amount accepted ({settings.MAX_AMOUNT:,})")
    if not allow_negative and value < 0:
        raise PerformanceError(field, "must not be negative")
    return value


class Refused(orgs_services.Refused):
    """A user tried what they may not for a contract: refused, and the attempt is logged once the work is
    undone (only for a signed-in user: an anonymous attempt is no one's)."""

    def __init__(self, user, contract, what):
        super().__init__(user, contract, what, contract.owner, message=f"you may not {what} for this contract")
        self.contract = contract

    def log(self):
        if self.user is not None and self.user.is_authenticated:
            super().log()


def _require(allowed, user, what, contract):
    if not allowed:
        raise Refused(user, contract, what)


def atomic(fn):
    """One transaction; a refusal is logged in the audit trail after the transaction is undone."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with transaction.atomic():
                return fn(*args, **kwargs)
        except Refused as e:
            e.log()
            raise
    return wrapper


# KPIs ---------------------------------------------------------------------------------------------

def _kpi_fields(data):
    out = {}
    name = str(data.get("name") or "").strip()
    if not name:
        raise PerformanceError("name", "enter the KPI's name")
    out["name"] = name[:200]
    out["definition"] = str(data.get("definition") or "").strip()
    unit = str(data.get("unit") or "").strip()
    if not unit:
        raise PerformanceError("unit", "enter the unit (for example %, visits or days)")
    out["unit"] = unit[:40]
    out["target"] = decimal_value(data.get("target"), "target")
    direction = data.get("direction") or Direction.HIGHER
    if direction not in Direction.values:
        raise PerformanceError("direction", "choose higher or lower is better")
    out["direction"] = direction
    out["tolerance"] = decimal_value(data.get("tolerance", 0) or 0, "tolerance", allow_negative=False)
    frequency = data.get("frequency") or Frequency.QUARTERLY
    if frequency not in Frequency.values:
        raise PerformanceError("frequency", "choose monthly, quarterly or annual")
    out["frequency"] = frequency
    weight = decimal_value(data.get("weight", 1) if data.get("weight") not in (None, "") else 1, "weight",
                           allow_negative=False)
    if weight > 1000:
        raise PerformanceError("weight", "a weight of more than 1,000 is not accepted")
    out["weight"] = weight
    out["is_act_kpi"] = bool(data.get("is_act_kpi"))
    return out


@atomic
def create_kpi(*, actor, contract, data, synthetic=False):
    _require(tenancy.can_edit(actor, contract.owner_id), actor, "define KPIs", contract)
    kpi = Kpi.objects.create(contract=contract, synthetic=synthetic, **_kpi_fields(data))
    _summarise(contract)
    audit(actor=actor, organisation=contract.owner, action="created", obj=kpi, after=snapshot(kpi, KPI_FIELDS))
    return kpi


@atomic
def update_kpi(*, actor, kpi, data):
    contract = kpi.contract
    _require(tenancy.can_edit(actor, contract.owner_id), actor, "change KPIs", contract)
    before = snapshot(kpi, KPI_FIELDS)
    for k, v in _kpi_fields(data).items():
        setattr(kpi, k, v)
    kpi.save()
    # Results are classified against the KPI as it is now.
    for ret in kpi.returns.filter(is_current=True):
        cls = classify_return(kpi, ret.value)
        if cls != ret.classification:
            KpiReturn.objects.filter(pk=ret.pk).update(classification=cls)
    _count_misses(kpi)
    _summarise(contract)
    audit(actor=actor, organisation=contract.owner, action="updated", obj=kpi, before=before,
          after=snapshot(kpi, KPI_FIELDS))
    return kpi


def _retire(actor, obj, fields, what):
    """Retire a KPI or an event (never deleted): it stays in the history, marked inactive."""
    contract = obj.contract
    _require(tenancy.can_edit(actor, contract.owner_id), actor, what, contract)
    before = snapshot(obj, fields)
    obj.is_active = False
    obj.save()
    audit(actor=actor, organisation=contract.owner, action="retired", obj=obj, before=before,
          after=snapshot(obj, fields))
    return obj


@atomic
def retire_kpi(*, actor, kpi):
    kpi = _retire(actor, kpi, KPI_FIELDS, "retire KPIs")
    _summarise(kpi.contract)
    return kpi


# Returns ------------------------------------------------------------------------------------------

def classify_return(kpi, value):
    return perf.classify(value, target=kpi.target, direction=kpi.direction, tolerance=kpi.tolerance)


def return_period(kpi, day):
    """The KPI's period holding ``day``, checked against the contract's term."""
    if not isinstance(day, date):
        raise PerformanceError("period", "enter the period as a date")
    start, end = perf.period_bounds(day, kpi.frequency)
    c = kpi.contract
    if c.start_date and end < c.start_date:
        raise PerformanceError("period", f"the period {start:%d %b %Y} to {end:%d %b %Y} ends before the "
                                         f"contract starts ({c.start_date:%d %b %Y})")
    if c.end_date and start > c.end_date:
        raise PerformanceError("period", f"the period {start:%d %b %Y} to {end:%d %b %Y} starts after the "
                                         f"contract ends ({c.end_date:%d %b %Y})")
    return start, end


def check_return(kpi, day, raw_value):
    """Validate one return without writing: (period start, period end, value, classification)."""
    if not kpi.is_active:
        raise PerformanceError("kpi", f"the KPI '{kpi.name}' is retired")
    start, end = return_period(kpi, day)
    value = decimal_value(raw_value)
    return start, end, value, classify_return(kpi, value)


@atomic
def submit_return(*, actor, kpi, day, value, evidence="", source=KpiReturn.Source.FORM, synthetic=False):
    """A first return for a KPI and period. A second one for the same period is refused: correct it."""
    contract = kpi.contract
    _require(tenancy.can_submit_returns(actor, contract), actor, "submit returns", contract)
    start, end, value, cls = check_return(kpi, day, value)
    if KpiReturn.objects.filter(kpi=kpi, period_start=start, is_current=True).exists():
        raise PerformanceError("period", f"a return for {kpi.name}, {start:%d %b %Y} to {end:%d %b %Y}, is "
                                         "already in: correct that one instead")
    try:
        with transaction.atomic():
            ret = KpiReturn.objects.create(kpi=kpi, period_start=start, period_end=end, value=value,
                                           classification=cls, evidence=str(evidence or "")[:5000],
                                           source=source, submitted_by=_user(actor), synthetic=synthetic)
    except IntegrityError:  # the same return submitted twice at once
        raise PerformanceError("period", "a return for this period was submitted at the same time") from None
    _count_misses(kpi)
    _summarise(contract)
    audit(actor=actor, organisation=contract.owner, action="created", obj=ret, after=snapshot(ret, RETURN_FIELDS))
    return ret


@atomic
def correct_return(*, actor, ret, value, evidence=None, reason):
    """Replace a return's value; the original stays in the history."""
    kpi = KpiReturn.objects.select_for_update().get(pk=ret.pk).kpi
    contract = kpi.contract
    _require(tenancy.can_submit_returns(actor, contract), actor, "correct returns", contract)
    ret.refresh_from_db()
    if not ret.is_current:
        raise PerformanceError("return", "this return has already been corrected: correct the latest one")
    reason = str(reason or "").strip()
    if not reason:
        raise PerformanceError("reason", "say why the return is corrected")
    value = decimal_value(value)
    before = snapshot(ret, RETURN_FIELDS)
    KpiReturn.objects.filter(pk=ret.pk).update(is_current=False)
    new = KpiReturn.objects.create(
        kpi=kpi, period_start=ret.period_start, period_end=ret.period_end, value=value,
        classification=classify_return(kpi, value), evidence=ret.evidence if evidence is None else str(evidence)[:5000],
        source=ret.source, submitted_by=_user(actor), supersedes=ret, correction_reason=reason[:500],
        synthetic=ret.synthetic)
    _count_misses(kpi)
    _summarise(contract)
    audit(actor=actor, organisation=contract.owner, action="corrected", obj=new, before=before,
          after=snapshot(new, RETURN_FIELDS))
    return new


def _count_misses(kpi):
    """Keep Kpi.trailing_misses (read by the council-wide value tests) equal to the rule on its results."""
    results = kpi.returns.filter(is_current=True).order_by("period_start").values_list("classification", flat=True)
    n = perf.trailing_misses(list(results))
    if n != kpi.trailing_misses:
        Kpi.objects.filter(pk=kpi.pk).update(trailing_misses=n)
        kpi.trailing_misses = n


def _summarise(contract):
    """Keep the provider benchmarking summary (``ProviderContractSummary``) equal to the contract's results."""
    from commissioner.benchmarking.providers import refresh_summaries

    refresh_summaries([contract.pk])


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


# Assessments ------------------------------------------------------------------------------------

def kpi_results(contract, period_start, period_end):
    """[(kpi, latest current return of a period overlapping the given one, or None)] for the contract's
    active KPIs."""
    out = []
    for kpi in contract.kpis.filter(is_active=True).order_by("name", "id"):
        ret = (kpi.returns.filter(is_current=True, period_end__gte=period_start, period_start__lte=period_end)
               .order_by("-period_start").first())
        out.append((kpi, ret))
    return out


def propose(contract, period_start, period_end):
    results = kpi_results(contract, period_start, period_end)
    proposal = procurement.propose_rating([(k.weight, r.classification if r else None) for k, r in results])
    return proposal, results


@atomic
def record_assessment(*, actor, contract, period_start, period_end, rating, reason="", kind=Assessment.Kind.PERIODIC,
                      assessed_on=None, synthetic=False):
    _require(tenancy.can_edit(actor, contract.owner_id), actor, "assess performance", contract)
    if period_end < period_start:
        raise PerformanceError("period_end", "the end must be on or after the start")
    if rating not in procurement.RATINGS:
        raise PerformanceError("rating", "choose a rating")
    if kind not in Assessment.Kind.values:
        raise PerformanceError("kind", "choose periodic or on termination")
    proposal, results = propose(contract, period_start, period_end)
    reason = str(reason or "").strip()
    if rating != proposal.rating and not reason:
        raise PerformanceError("reason", f"the proposed rating is {procurement.RATING_LABELS[proposal.rating]}: "
                                         "say why you chose another")
    previous = contract.assessments.filter(is_current=True, period_start=period_start, kind=kind).first()
    if previous:
        Assessment.objects.filter(pk=previous.pk).update(is_current=False)
    a = Assessment.objects.create(
        contract=contract, kind=kind, period_start=period_start, period_end=period_end,
        proposed_rating=proposal.rating, proposed_score=proposal.score, rating=rating, reason=reason,
        explanation=proposal.explanation, assessed_by=_user(actor), assessed_on=assessed_on or date.today(),
        supersedes=previous, synthetic=synthetic,
        kpi_results=[{"kpi": k.name, "weight": str(k.weight), "value": str(r.value) if r else None,
                      "classification": r.classification if r else None} for k, r in results])
    _summarise(contract)
    audit(actor=actor, organisation=contract.owner, action="created", obj=a,
          before=snapshot(previous, ASSESSMENT_FIELDS) if previous else None, after=snapshot(a, ASSESSMENT_FIELDS))
    return a


# Changes and events -------------------------------------------------------------------------------

def current_value(contract):
    """The contract's value with every recorded value change."""
    base = contract.value if contract.value is not None else Decimal(0)
    return base + sum((c.value_change for c in contract.changes.all()), Decimal(0))


def contract_term_days(contract):
    if contract.start_date and contract.end_date and contract.end_date > contract.start_date:
        return (contract.end_date - contract.start_date).days
    return None


def change_kind_of(contract):
    return "works" if contract.main_category == "works" else "goods" if contract.main_category == "goods" \
        else "services"


@atomic
def record_change(*, actor, contract, kind, changed_on, value_change=0, term_change_days=0, reason, linked_to=None):
    _require(tenancy.can_edit(actor, contract.owner_id), actor, "record changes", contract)
    if kind not in ContractChange.Kind.values:
        raise PerformanceError("kind", "choose value, term or scope")
    reason = str(reason or "").strip()
    if not reason:
        raise PerformanceError("reason", "say why the contract changes")
    value_change = decimal_value(value_change or 0, "value_change").quantize(Decimal("0.01"))
    try:
        term_change_days = int(term_change_days or 0)
    except (TypeError, ValueError):
        raise PerformanceError("term_change_days", "enter a whole number of days") from None
    if abs(term_change_days) > 36500:
        raise PerformanceError("term_change_days", "a change of more than 100 years is not accepted")
    if linked_to is not None and linked_to.contract_id != contract.pk:
        raise PerformanceError("linked_to", "a linked change must be on the same contract")
    Contract = type(contract)
    Contract.objects.select_for_update().filter(pk=contract.pk).first()  # changes to one contract in turn
    before = current_value(contract)
    after = before + value_change
    if after < 0:
        raise PerformanceError("value_change", f"the contract's value would be negative ({after:,.2f})")
    group = _linked_group(linked_to)
    original = contract.value
    verdict = None
    if original is not None and original > 0:
        verdict = procurement.change_notice_required(
            original_value=original, original_term_days=contract_term_days(contract), kind=change_kind_of(contract),
            value_changes=[c.value_change for c in group] + [value_change],
            term_changes=[c.term_change_days for c in group] + [term_change_days])
    change = ContractChange.objects.create(
        contract=contract, kind=kind, changed_on=changed_on, value_change=value_change,
        term_change_days=term_change_days, reason=reason, linked_to=linked_to, value_before=before,
        value_after=after, recorded_by=_user(actor),
        notice_required=bool(verdict and verdict.required) or kind == ContractChange.Kind.SCOPE,
        verdict=_verdict_json(verdict, kind))
    audit(actor=actor, organisation=contract.owner, action="created", obj=change, after=snapshot(change, CHANGE_FIELDS))
    return change


def _linked_group(change):
    """Every change linked with ``change`` (following links both ways), including it."""
    if change is None:
        return []
    seen, todo = {}, [change]
    while todo:
        c = todo.pop()
        if c.pk in seen:
            continue
        seen[c.pk] = c
        if c.linked_to_id:
            todo.append(c.linked_to)
        todo.extend(c.linked.all())
    return list(seen.values())


def _verdict_json(verdict, kind):
    if verdict is None:
        return {"required": kind == ContractChange.Kind.SCOPE,
                "reasons": ["the contract has no value to compare the change with"]}
    reasons = list(verdict.reasons)
    if kind == ContractChange.Kind.SCOPE:
        reasons.append("a change of scope needs a change notice unless it is a permitted modification: "
                       "check it against Schedule 8")
    return {"required": verdict.required or kind == ContractChange.Kind.SCOPE,
            "value_change": str(verdict.value_change), "value_pct": str(verdict.value_pct),
            "value_limit_pct": str(verdict.value_limit_pct), "term_change_days": verdict.term_change_days,
            "term_pct": None if verdict.term_pct is None else str(verdict.term_pct), "reasons": reasons}


@atomic
def record_event(*, actor, contract, kind, day, extension_months=None, notice_days=None, note=""):
    _require(tenancy.can_edit(actor, contract.owner_id), actor, "record events", contract)
    if kind not in ContractEvent.Kind.values:
        raise PerformanceError("kind", "choose the kind of event")
    if not isinstance(day, date):
        raise PerformanceError("date", "enter a date")
    for field, v, top in (("extension_months", extension_months, 600), ("notice_days", notice_days, 3650)):
        if v is not None and not (0 <= int(v) <= top):
            raise PerformanceError(field, f"enter a number from 0 to {top}")
    if kind == ContractEvent.Kind.EXTENSION and not extension_months:
        raise PerformanceError("extension_months", "say how long the extension is")
    event = ContractEvent.objects.create(contract=contract, kind=kind, date=day, extension_months=extension_months,
                                         notice_days=notice_days, note=str(note or "")[:500])
    audit(actor=actor, organisation=contract.owner, action="created", obj=event, after=snapshot(event, EVENT_FIELDS))
    return event


@atomic
def retire_event(*, actor, event):
    return _retire(actor, event, EVENT_FIELDS, "retire events")


# Provider users ---------------------------------------------------------------------------------

@atomic
def link_provider_user(*, actor, user, provider):
    """Let ``user`` act for ``provider`` (its contracts with every council): superusers, or the CLI
    (actor None), only."""
    if actor is not None and not (actor.is_authenticated and actor.is_superuser):
        raise PermissionDenied("only a superuser can link a user to a provider")
    link, _ = ProviderUser.objects.update_or_create(user=user, defaults={"provider": provider})
    audit(actor=actor, action="linked", obj=link, after={"user": user.get_username(), "provider": provider.pk})
    return link


@atomic
def set_exemption(*, actor, contract, kind, note=""):
    """Record (or clear, with kind "") why the contract needs no KPIs under s.52."""
    from commissioner.performance.models import Exemption

    _require(tenancy.can_edit(actor, contract.owner_id), actor, "record exemptions", contract)
    if kind and kind not in Exemption.Kind.values:
        raise PerformanceError("kind", "choose why the contract is exempt")
    old = Exemption.objects.filter(contract=contract).first()
    before = {"kind": old.kind, "note": old.note} if old else None
    new, _ = Exemption.objects.update_or_create(contract=contract, defaults={"kind": kind or "", "note": str(note)[:500]})
    audit(actor=actor, organisation=contract.owner, action="exemption-set", obj=contract, before=before,
          after={"kind": new.kind, "note": new.note})
    return new


@atomic
def apply_returns(*, actor, contract, rows, source=KpiReturn.Source.CSV):
    """Submit many first returns for one contract (a CSV upload): all or nothing.

    ``rows``: mappings with ``kpi`` (one of the contract's KPIs), ``day`` (any day in the period), ``value`` and,
    optionally, ``evidence`` and ``row`` (where the row came from, for the errors; else its position from 1).
    Every row goes through ``submit_return`` (the same checks as a single return, a period already given
    included) in one transaction. If any row is refused nothing is written, and the ``PerformanceError``
    raised carries ``errors``: [(row, field, message)] for every refused row. With no rows, it only checks
    that the actor may submit returns (a refusal is audited, as everywhere). Returns the new returns.
    """
    _require(tenancy.can_submit_returns(actor, contract), actor, "upload returns", contract)
    rows = list(rows)
    created, errors = [], []
    for position, row in enumerate(rows, start=1):
        where = row.get("row", position)
        kpi = row.get("kpi")
        if not isinstance(kpi, Kpi) or kpi.contract_id != contract.pk:
            errors.append((where, "kpi", "not one of this contract's KPIs"))
            continue
        try:
            created.append(submit_return(actor=actor, kpi=kpi, day=row.get("day"), value=row.get("value"),
                                         evidence=row.get("evidence") or "", source=source))
        except PerformanceError as e:  # submit_return's own savepoint is undone; the rest waits for the end
            errors.append((where, e.field, e.message))
    if errors:  # raised inside the transaction: every return written above is undone
        error = PerformanceError("rows", f"{len(errors):,} of the {len(rows):,} returns were refused: none was saved")
        error.errors = errors
        raise error
    return created
