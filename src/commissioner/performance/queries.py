"""Reads for contract performance, council compliance, the forward plan and value tests.

Everything is scoped here through ``orgs.tenancy`` (performance is never public) and read in a few
queries per page, whatever the number of contracts: the rules themselves are the pure functions
of ``methods.procurement`` and ``methods.performance``.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery, Sum

from commissioner.methods import performance as perf
from commissioner.methods import procurement
from commissioner.orgs import tenancy
from commissioner.performance.models import Assessment, ContractChange, ContractEvent, Exemption, Kpi, KpiReturn
from commissioner.register.models import Contract, ContractSupplier, Status

LIVE = (Status.AWARDED, Status.CONTRACT)


def lead_times():
    return tuple(getattr(settings, "FORWARD_PLAN_LEAD_TIMES", perf.DEFAULT_LEAD_TIMES))


def value_test_settings():
    return {**perf.DEFAULT_VALUE_TEST_SETTINGS, **getattr(settings, "VALUE_TEST_SETTINGS", {})}


def performance_contracts(user):
    return tenancy.performance_contracts(Contract.objects.all(), user)


def contract_for(user, ocid):
    """The contract if the user may see its performance, else None."""
    contract = Contract.objects.select_related("owner", "buyer").filter(ocid=ocid).first()
    if contract is None or not tenancy.can_view_performance(user, contract):
        return None
    return contract


@dataclass
class KpiView:
    kpi: Kpi
    returns: list  # current returns, oldest first
    history: list  # superseded returns
    latest: KpiReturn | None = None
    misses: int = 0


@dataclass
class ContractPerformance:
    contract: Contract
    kpis: list
    periods: list  # [(start, end, proposal)] newest first
    overall: object  # the proposal from each active KPI's latest result
    assessments: list
    changes: list
    events: list
    exemption: object
    kpis_required: int
    act_kpis: int
    assessment_due: str | None
    synthetic: bool
    flags: list = field(default_factory=list)


def contract_performance(contract, today=None):
    today = today or date.today()
    kpis = list(contract.kpis.order_by("-is_active", "name", "id"))
    rets = defaultdict(list)
    old = defaultdict(list)
    for r in KpiReturn.objects.filter(kpi__contract=contract).order_by("period_start", "submitted_at"):
        (rets if r.is_current else old)[r.kpi_id].append(r)
    views = []
    for k in kpis:
        current = rets[k.id]
        views.append(KpiView(k, current, old[k.id], current[-1] if current else None,
                             perf.trailing_misses([r.classification for r in current])))
    # Ratings per period: the KPIs' own periods (the longest frequency among active KPIs).
    active = [v for v in views if v.kpi.is_active]
    periods = {}
    for v in active:
        for r in v.returns:
            periods[r.period_start] = max(periods.get(r.period_start, r.period_end), r.period_end)
    by_period = []
    for start in sorted(periods, reverse=True)[:12]:
        end = periods[start]
        results = []
        for v in active:
            inside = [r for r in v.returns if start <= r.period_start <= end]
            results.append((v.kpi.weight, inside[-1].classification if inside else None))
        by_period.append((start, end, procurement.propose_rating(results)))
    assessments = list(contract.assessments.select_related("assessed_by").order_by("-assessed_on", "-id"))
    exemption = _exemption(contract)
    act_kpis = sum(1 for v in active if v.kpi.is_act_kpi)
    current = [a for a in assessments if a.is_current]
    out = ContractPerformance(
        contract=contract, kpis=views, periods=by_period,
        overall=procurement.propose_rating([(v.kpi.weight, v.latest.classification if v.latest else None)
                                            for v in active]), assessments=assessments,
        changes=list(contract.changes.select_related("recorded_by").order_by("changed_on", "id")),
        events=list(contract.events.order_by("date", "id")), exemption=exemption,
        kpis_required=procurement.kpis_required(contract.value, exempt=exemption is not None), act_kpis=act_kpis,
        assessment_due=_assessment_due(contract, max((a.assessed_on for a in current), default=None), today),
        synthetic=(any(k.synthetic for k in kpis) or any(r.synthetic for v in views for r in v.returns + v.history)
                   or any(a.synthetic for a in assessments)))
    out.flags = contract_flags(contract, views, out.events, out.changes, today)
    return out


def _exemption(contract):
    """The contract's s.52 exemption, or None when it is not exempt."""
    try:
        exemption = contract.act_exemption
    except Exemption.DoesNotExist:
        return None
    return exemption if exemption.kind else None


def _assessment_due(contract, last, today, terminated_assessed=False):
    if contract.status not in (*LIVE, Status.TERMINATED):
        return None
    # A contract that has ended (terminated, or past its end date) is assessed once on termination,
    # not every 12 months.
    ended = contract.status == Status.TERMINATED or (contract.end_date is not None and contract.end_date < today)
    terminated_on = contract.end_date if ended else None
    if terminated_on and last and last >= terminated_on:
        terminated_assessed = True
    return procurement.assessment_due(start=contract.start_date, last_assessed=last, today=today,
                                      terminated_on=terminated_on, assessed_since_termination=terminated_assessed,
                                      expired=ended and contract.status != Status.TERMINATED)


def _events_by_contract(contract_ids):
    out = defaultdict(list)
    for e in ContractEvent.objects.filter(contract_id__in=contract_ids, is_active=True).order_by("date"):
        out[e.contract_id].append(e)
    return out


def _upcoming(events, contract, today):
    """[(date, what)] decisions ahead: break clauses, extension options, notice dates, the end."""
    out = [(e.date, e.get_kind_display().lower()) for e in events
           if e.kind in (ContractEvent.Kind.BREAK, ContractEvent.Kind.EXTENSION, ContractEvent.Kind.NOTICE)
           and e.date >= today]
    if contract.end_date and contract.end_date >= today:
        out.append((contract.end_date, "end of the contract"))
    return sorted(out)


def contract_flags(contract, views, events, changes, today):
    """Value-test flags of one contract (the market-wide ones: unit price and dependency, need the
    register, see opportunities())."""
    misses = max((v.misses for v in views if v.kpi.is_active), default=0)
    last = max([c.changed_on for c in changes] + [e.date for e in events if e.kind == ContractEvent.Kind.REVIEW
                                                  and e.date <= today]
               + ([contract.review_date] if contract.review_date and contract.review_date <= today else [])
               + ([contract.start_date] if contract.start_date else []), default=None)
    return perf.value_test_flags(today=today, trailing_misses=misses, upcoming_decisions=_upcoming(events, contract, today),
                                 last_change_or_review=last, settings=value_test_settings())


# Council-wide pages ---------------------------------------------------------------------------------
# These read every live contract of a council at once, so they read plain rows (values), join on the
# council rather than pass thousands of ids, and leave to the database what it counts faster.

def council_contracts(org):
    return Contract.objects.filter(owner=org)


def has_synthetic(org):
    """Does any KPI, result or assessment of the council's contracts come from the demo's generator?"""
    return (Kpi.objects.filter(contract__owner=org, synthetic=True).exists()
            or Assessment.objects.filter(contract__owner=org, synthetic=True).exists())


class Row(SimpleNamespace):
    """A contract as a plain row (what the council pages show of it)."""

    @property
    def pk(self):
        return self.id


def _rows(qs, *fields):
    return [Row(**d) for d in qs.values(*fields)]


@dataclass
class Breach:
    contract: Row
    rule: str
    detail: str


def compliance(org, today=None):
    """Every breach of the Procurement Act rules across the council's contracts."""
    today = today or date.today()
    contracts = _rows(council_contracts(org).filter(status__in=(*LIVE, Status.TERMINATED)).order_by("title", "id"),
                      "id", "ocid", "title", "value", "status", "start_date", "end_date", "act_exemption__kind")
    act = dict(Kpi.objects.filter(contract__owner=org, is_active=True, is_act_kpi=True).values("contract_id")
               .annotate(n=Count("id")).values_list("contract_id", "n"))
    last = dict(Assessment.objects.filter(contract__owner=org, is_current=True).values("contract_id")
                .annotate(last=Max("assessed_on")).values_list("contract_id", "last"))
    out = []
    for c in contracts:
        required = procurement.kpis_required(c.value, exempt=bool(c.act_exemption__kind))
        if required and c.status in LIVE and act.get(c.id, 0) < required:
            out.append(Breach(c, "s.52 KPIs", f"worth £{c.value:,.0f}: {act.get(c.id, 0)} of the {required} "
                                              "Procurement Act KPIs required"))
        due = _assessment_due(c, last.get(c.id), today)
        if due:
            out.append(Breach(c, "s.71 assessment", due))
    return out


@dataclass
class PlanItem:
    contract: Row
    decision: date
    end: date
    why: str
    lead_months: int


def forward_plan(org, today=None, months=18):
    """Contracts needing a recommissioning decision in the next ``months``, by decision date."""
    today = today or date.today()
    horizon = perf.add_months(today, months)
    lead = lead_times()
    contracts = _rows(council_contracts(org).filter(status__in=LIVE, end_date__gte=today),
                      "id", "ocid", "title", "value", "start_date", "end_date")
    breaks = dict(ContractEvent.objects.filter(contract__owner=org, is_active=True, kind=ContractEvent.Kind.BREAK,
                                               date__gte=today).values("contract_id").annotate(first=Min("date"))
                  .values_list("contract_id", "first"))
    changes = dict(ContractChange.objects.filter(contract__owner=org).values("contract_id")
                   .annotate(total=Sum("value_change")).values_list("contract_id", "total"))
    items = []
    for c in contracts:
        first_break = breaks.get(c.id)
        value = (c.value or Decimal(0)) + (changes.get(c.id) or 0)
        decision = perf.decision_date(end_date=c.end_date, value=value, lead_times=lead, break_date=first_break)
        if decision <= horizon:
            early = first_break is not None and first_break < c.end_date
            items.append(PlanItem(c, decision, first_break if early else c.end_date,
                                  "break clause" if early else "end of the contract", perf.lead_time_months(value, lead)))
    items.sort(key=lambda i: (i.decision, i.contract.ocid))
    return items


def _trailing_misses(org):
    """{contract id: the most results below target in a row at the end, over its active KPIs}
    (Kpi.trailing_misses, kept by services)."""
    out = {}
    for cid, n in Kpi.objects.filter(contract__owner=org, contract__status__in=LIVE, is_active=True,
                                     trailing_misses__gt=0).values_list("contract_id", "trailing_misses"):
        out[cid] = max(out.get(cid, 0), n)
    return out


def opportunities(org, today=None):
    """[(contract, flags)] for the council's live contracts with at least one value-test flag."""
    today = today or date.today()
    cfg = value_test_settings()
    contracts = _rows(council_contracts(org).filter(status__in=LIVE).order_by("title", "id"),
                      "id", "ocid", "title", "start_date", "end_date", "review_date", "cpv_division")
    upcoming, reviews = defaultdict(list), defaultdict(list)
    for cid, kind, day, label in _event_rows(org, today):
        if kind == ContractEvent.Kind.REVIEW:
            reviews[cid].append(day)
        else:
            upcoming[cid].append((day, label))
    changed = dict(ContractChange.objects.filter(contract__owner=org).values("contract_id")
                   .annotate(last=Max("changed_on")).values_list("contract_id", "last"))
    misses = _trailing_misses(org)
    shares = _supplier_shares(org)
    prices = _unit_prices(org, cfg)
    out = []
    for c in contracts:
        decisions = sorted(upcoming[c.id] + ([(c.end_date, "end of the contract")]
                                             if c.end_date and c.end_date >= today else []))
        last = max([d for d in (changed.get(c.id), c.review_date, c.start_date, *reviews[c.id])
                    if d is not None and d <= today], default=None)
        price, comparables, middle = prices.get(c.id, (None, (), None))
        flags = perf.value_test_flags(
            today=today, trailing_misses=misses.get(c.id, 0), upcoming_decisions=decisions, unit_price=price,
            comparable_unit_prices=comparables, comparable_median=middle, last_change_or_review=last,
            supplier_share=shares.get(c.cpv_division, {}).get(c.id), settings=cfg)
        if flags:
            out.append((c, flags))
    return out


def _event_rows(org, today):
    """(contract id, kind, date, what) of the council's active events that matter to the value tests:
    reviews already held and break, extension and notice dates ahead."""
    labels = dict(ContractEvent.Kind.choices)
    rows = ContractEvent.objects.filter(contract__owner=org, is_active=True).filter(
        Q(kind=ContractEvent.Kind.REVIEW, date__lte=today)
        | Q(kind__in=(ContractEvent.Kind.BREAK, ContractEvent.Kind.EXTENSION, ContractEvent.Kind.NOTICE),
            date__gte=today)).values_list("contract_id", "kind", "date")
    return [(cid, kind, day, labels[kind].lower()) for cid, kind, day in rows]


def _supplier_shares(org):
    """{cpv division: {contract id: share of the council's spend in that division with the contract's
    largest supplier}} for divisions where the council has more than one contract."""
    rows = ContractSupplier.objects.filter(contract__owner=org, contract__status__in=LIVE).exclude(
        contract__cpv_division="").values_list("contract_id", "contract__cpv_division", "supplier__provider_id",
                                               "contract__value")
    spend = defaultdict(lambda: defaultdict(Decimal))
    contracts_of = defaultdict(lambda: defaultdict(set))
    for cid, div, provider, value in rows:
        spend[div][provider] += value or 0
        contracts_of[div][provider].add(cid)
    out = {}
    for div, by_provider in spend.items():
        total = sum(by_provider.values())
        if total <= 0 or sum(len(s) for s in contracts_of[div].values()) < 2:
            continue
        for provider, amount in by_provider.items():
            for cid in contracts_of[div][provider]:
                out.setdefault(div, {})[cid] = max(out.get(div, {}).get(cid, 0), amount / total)
    return out


def _unit_prices(org, cfg):
    """{contract id: (its unit price, the unit prices of comparable contracts)} for the council's contracts
    whose latest unit-cost result (a KPI whose unit starts with '£ per') is above the median of the other
    contracts of the same CPV division and unit across the register; the flag itself is
    methods.performance.value_test_flags'."""
    latest = {}
    newest = (KpiReturn.objects.filter(kpi=OuterRef("pk"), is_current=True).order_by("-period_start")
              .values("value")[:1])
    divisions = council_contracts(org).filter(status__in=LIVE).values("cpv_division")
    for cid, unit, div, owner, value in (
            Kpi.objects.filter(is_active=True, unit__istartswith="£ per", contract__cpv_division__in=divisions)
            .annotate(latest=Subquery(newest)).exclude(latest=None).order_by("id")
            .values_list("contract_id", "unit", "contract__cpv_division", "contract__owner_id", "latest")):
        latest[cid, unit.lower()] = (value, div, owner)
    groups = defaultdict(list)
    for (cid, unit), (value, div, owner) in latest.items():
        groups[div, unit].append((value, cid, owner))
    out = {}
    for members in groups.values():
        if len(members) <= cfg["min_comparables"]:
            continue
        members.sort(key=lambda m: m[0])
        values = [m[0] for m in members]
        for i, (value, cid, owner) in enumerate(members):
            middle = _median_without(values, i)
            if owner == org.pk and value > middle:
                out[cid] = (value, values[:i] + values[i + 1:], middle)
    return out


def _median_without(sorted_values, i):
    """The median of ``sorted_values`` without the one at ``i`` (as methods.performance.median)."""
    n = len(sorted_values) - 1

    def at(k):
        return sorted_values[k if k < i else k + 1]

    return at(n // 2) if n % 2 else (at(n // 2 - 1) + at(n // 2)) / 2
