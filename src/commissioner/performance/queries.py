"""Reads for contract performance, council compliance, the forward plan and value tests.

Everything is scoped here through ``orgs.tenancy`` (performance is never public) and read in a few
queries per page, whatever the number of contracts: the rules themselves are the pure functions
of ``methods.procurement`` and ``methods.performance``.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max, Q

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
        contract=contract, kpis=views, periods=by_period, assessments=assessments,
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
                                      terminated_on=terminated_on, assessed_since_termination=terminated_assessed)


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


# Council-wide pages --------------------------------------------------------------------------------

def council_contracts(org):
    return Contract.objects.filter(owner=org)


def has_synthetic(org):
    """Does any KPI, result or assessment of the council's contracts come from the demo's generator?"""
    return (Kpi.objects.filter(contract__owner=org, synthetic=True).exists()
            or Assessment.objects.filter(contract__owner=org, synthetic=True).exists())


@dataclass
class Breach:
    contract: Contract
    rule: str
    detail: str


def compliance(org, today=None):
    """Every breach of the Procurement Act rules across the council's contracts."""
    today = today or date.today()
    contracts = list(council_contracts(org).filter(
        Q(status__in=(*LIVE, Status.TERMINATED))).select_related("act_exemption").only(
        "id", "ocid", "title", "value", "status", "start_date", "end_date", "owner_id", "act_exemption__kind"))
    ids = [c.id for c in contracts]
    act = dict(Kpi.objects.filter(contract_id__in=ids, is_active=True, is_act_kpi=True).values("contract_id")
               .annotate(n=Count("id")).values_list("contract_id", "n"))
    last = dict(Assessment.objects.filter(contract_id__in=ids, is_current=True).values("contract_id")
                .annotate(last=Max("assessed_on")).values_list("contract_id", "last"))
    out = []
    for c in contracts:
        exempt = _exemption(c) is not None
        required = procurement.kpis_required(c.value, exempt=exempt)
        if required and c.status in LIVE and act.get(c.id, 0) < required:
            out.append(Breach(c, "s.52 KPIs", f"worth £{c.value:,.0f}: {act.get(c.id, 0)} of the {required} "
                                              "Procurement Act KPIs required"))
        due = _assessment_due(c, last.get(c.id), today)
        if due:
            out.append(Breach(c, "s.71 assessment", due))
    return out


@dataclass
class PlanItem:
    contract: Contract
    decision: date
    end: date
    why: str
    lead_months: int


def forward_plan(org, today=None, months=18):
    """Contracts needing a recommissioning decision in the next ``months``, by decision date."""
    today = today or date.today()
    horizon = perf.add_months(today, months)
    contracts = list(council_contracts(org).filter(status__in=LIVE, end_date__gte=today).only(
        "id", "ocid", "title", "value", "end_date", "start_date", "owner_id"))
    events = _events_by_contract([c.id for c in contracts])
    changes = defaultdict(Decimal)
    for cid, v in ContractChange.objects.filter(contract_id__in=[c.id for c in contracts]).values_list(
            "contract_id", "value_change"):
        changes[cid] += v
    items = []
    for c in contracts:
        breaks = [e.date for e in events[c.id] if e.kind == ContractEvent.Kind.BREAK and e.date >= today]
        end = min([c.end_date, *breaks])
        value = (c.value or Decimal(0)) + changes[c.id]
        lead = perf.lead_time_months(value, lead_times())
        decision = perf.decision_date(end_date=c.end_date, value=value, lead_times=lead_times(),
                                      break_date=min(breaks) if breaks else None)
        if decision <= horizon:
            why = "break clause" if end != c.end_date else "end of the contract"
            items.append(PlanItem(c, decision, end, why, lead))
    items.sort(key=lambda i: (i.decision, i.contract.ocid))
    return items


def opportunities(org, today=None):
    """[(contract, flags)] for the council's live contracts with at least one value-test flag."""
    today = today or date.today()
    cfg = value_test_settings()
    contracts = list(council_contracts(org).filter(status__in=LIVE).only(
        "id", "ocid", "title", "value", "start_date", "end_date", "review_date", "cpv_division", "owner_id"))
    ids = [c.id for c in contracts]
    events = _events_by_contract(ids)
    changes = defaultdict(list)
    for ch in ContractChange.objects.filter(contract_id__in=ids).order_by("changed_on"):
        changes[ch.contract_id].append(ch)
    kpis = defaultdict(list)
    for k in Kpi.objects.filter(contract_id__in=ids, is_active=True):
        kpis[k.contract_id].append(k)
    rets = defaultdict(list)
    for r in KpiReturn.objects.filter(kpi__contract_id__in=ids, kpi__is_active=True, is_current=True).order_by(
            "period_start").values("kpi_id", "classification"):
        rets[r["kpi_id"]].append(r["classification"])
    shares = _supplier_shares(org)
    unit_prices = _unit_prices(ids)
    out = []
    for c in contracts:
        views = [KpiView(k, [], [], None, perf.trailing_misses(rets[k.id])) for k in kpis[c.id]]
        flags = contract_flags(c, views, events[c.id], changes[c.id], today)
        price = unit_prices.get(c.id)
        if price is not None:
            flags += [f for f in perf.value_test_flags(
                today=today, trailing_misses=0, upcoming_decisions=[], unit_price=price[0],
                comparable_unit_prices=price[1], last_change_or_review=today, settings=cfg)
                if f.code == "price_above_median"]
        share = shares.get(c.cpv_division, {}).get(c.id)
        if share is not None:
            flags += [f for f in perf.value_test_flags(
                today=today, trailing_misses=0, upcoming_decisions=[], last_change_or_review=today,
                supplier_share=share, settings=cfg) if f.code == "dependency"]
        if flags:
            out.append((c, flags))
    return out


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


def _unit_prices(contract_ids):
    """{contract id: (its unit price, [unit prices of comparable contracts])}: the latest unit-cost KPI
    (unit starting with '£ per') of each contract, compared within the same CPV division and unit
    across the register."""
    unit_kpis = Kpi.objects.filter(is_active=True, unit__istartswith="£ per").select_related("contract")
    latest = {}
    for r in KpiReturn.objects.filter(kpi__in=unit_kpis, is_current=True).order_by("period_start").values(
            "kpi_id", "value", "kpi__contract_id", "kpi__unit", "kpi__contract__cpv_division"):
        latest[r["kpi__contract_id"], r["kpi__unit"].lower()] = (r["value"], r["kpi__contract__cpv_division"])
    groups = defaultdict(list)
    for (cid, unit), (value, div) in latest.items():
        groups[div, unit].append((cid, value))
    out = {}
    wanted = set(contract_ids)
    for members in groups.values():
        for cid, value in members:
            if cid in wanted:
                out[cid] = (value, [v for other, v in members if other != cid])
    return out
