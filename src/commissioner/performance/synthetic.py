"""Synthetic contract performance for the demo: KPIs, providers' returns and assessments.

No public source publishes providers' performance returns, so the demo makes them up,
deterministically, for the contracts of the sample register. Every row made here is marked
``synthetic`` (and returns have the source "generated"): the contract performance page shows a
warning whenever a figure is synthetic, and the rows say so in the API and exports.

What is made, for each public OCDS contract that is awarded or signed and has a start date, an
end date and a supplier (and no KPIs yet):

- 2 to 5 KPIs chosen by the contract's CPV division (care services get visits on time,
  complaints per 1,000 people supported, days from referral to first contact, satisfaction and a
  unit cost in "£ per hour"; works get milestones, defects and safety; and so on). Contracts worth
  more than £5m get at least 3, and 3 of them are marked Procurement Act KPIs (s.52).
- Returns, quarterly for most KPIs and monthly for some, for every period from the contract's
  start whose end (or the contract's end, if earlier) is before ``today``. A few are missing, as
  when a provider is late.
- A pattern per contract, drawn from the seed: near target (most), drifting down, failing, or
  seasonal (a winter dip).
- For contracts that had run more than 12 months by ``today``, most get a yearly Procurement Act
  assessment (s.71) of the 12 months before each anniversary.

``today`` defaults to the date of the latest release in the register (11 March 2025 for the
sample), never the clock, so the same seed and the same data always give the same figures. Each
contract has its own random stream (seeded with the seed and its ocid), so its figures do not
depend on which other contracts are generated or in what order.

Everything is written through ``performance.services`` (permission checks and the audit trail) by a
superuser made for the purpose, "synthetic-data", which cannot sign in. The generator is
idempotent: contracts that already have KPIs, of whatever origin, are left alone.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef
from django.utils import timezone

from commissioner.methods import performance as perf
from commissioner.methods import procurement
from commissioner.register.models import Contract, Source, Status

DEFAULT_SEED = 2025
GENERATOR_USERNAME = "synthetic-data"
LIVE = (Status.AWARDED, Status.CONTRACT)

PATTERNS = ("near", "drifting", "failing", "seasonal")
PATTERN_WEIGHTS = (65, 15, 10, 10)
MONTHLY_SHARE = 0.3  # of KPIs reported monthly; the rest quarterly
LATE_SHARE = 0.15  # of contracts whose provider has not sent the latest period's returns
MISSING_SHARE = 0.02  # of other returns missing
ASSESSED_SHARE = 0.75  # of contracts running more than 12 months that have been assessed
OVERRULED_SHARE = 0.15  # of assessments where the officer chose another rating than the proposal
SYNTHETIC_NOTE = "Synthetic: made up by the demo's generator, not real performance data."


@dataclass(frozen=True)
class KpiTemplate:
    name: str
    definition: str
    unit: str
    targets: tuple  # one is chosen per contract
    direction: str
    tolerance: Decimal
    places: int = 1
    spread: Decimal | None = None  # the size of a typical deviation (default: the tolerance)
    high: Decimal | None = None  # largest possible value (100 for percentages)
    always: bool = False  # always chosen for this kind of contract


def _t(name, definition, unit, targets, direction, tolerance, places=1, spread=None, always=False):
    return KpiTemplate(name, definition, unit, tuple(Decimal(str(t)) for t in targets), direction,
                       Decimal(str(tolerance)), places, None if spread is None else Decimal(str(spread)),
                       Decimal(100) if unit == "%" else None, always)


SATISFIED = _t("People satisfied with the service", "Respondents to the provider's survey who are satisfied or "
               "very satisfied, as a percentage of all respondents.", "%", (85, 80, 90), "higher", 3)
COMPLAINTS_USERS = _t("Complaints per 1,000 people supported", "Formal complaints received in the period per "
                      "1,000 people supported.", "per 1,000 users", (4, 5, 6), "lower", 1)
MILESTONES = _t("Milestones met on time", "Contract milestones met by their agreed date, as a percentage of the "
                "milestones due in the period.", "%", (90, 95), "higher", 4)

CATALOGUE = {
    "care": [
        _t("Visits delivered on time", "Planned visits started within 15 minutes of the agreed time, as a "
           "percentage of all planned visits.", "%", (95, 92, 90), "higher", 2),
        COMPLAINTS_USERS,
        _t("Days from referral to first contact", "Average working days from an accepted referral to the first "
           "contact with the person.", "days", (3, 5, 7), "lower", 1),
        _t("People satisfied with their support", "People answering satisfied or very satisfied in the "
           "provider's survey, as a percentage of all who answered.", "%", (85, 80, 90), "higher", 3),
        _t("Unit cost of care", "The charge for the period divided by the hours of care delivered.", "£ per hour",
           (21.50, 22.75, 24.00, 25.50), "lower", "0.50", places=2, always=True),
        _t("Care plans reviewed on time", "Care and support plans reviewed by their due date, as a percentage of "
           "the plans due for review.", "%", (95, 90), "higher", 3),
    ],
    "community": [
        _t("Referrals contacted within 2 working days", "Referrals contacted within 2 working days of receipt, "
           "as a percentage of all referrals.", "%", (90, 95), "higher", 3),
        _t("Days to first contact", "Average working days from referral to the first contact.", "days", (2, 3),
           "lower", "0.5"),
        _t("Cases closed with a positive outcome", "Cases closed with the outcomes agreed in the support plan met, "
           "as a percentage of cases closed.", "%", (70, 75), "higher", 4),
        SATISFIED,
        COMPLAINTS_USERS,
    ],
    "education": [
        _t("Learners completing their programme", "Learners who complete, as a percentage of those who started "
           "a programme due to end in the period.", "%", (85, 80), "higher", 3),
        _t("Sessions delivered as planned", "Sessions delivered on the planned date, as a percentage of the "
           "sessions planned.", "%", (98, 95), "higher", 2),
        _t("Participants satisfied", "Participants rating the training good or excellent, as a percentage of "
           "those who gave a rating.", "%", (85, 90), "higher", 3),
        _t("Cost per learner hour", "The charge for the period divided by the learner hours delivered.",
           "£ per learner hour", (12.50, 15.00, 18.00), "lower", "0.50", places=2),
        MILESTONES,
    ],
    "environment": [
        _t("Collections made on schedule", "Scheduled collections made on the scheduled day, as a percentage "
           "of all scheduled collections.", "%", (99, 98.5), "higher", "0.5", places=2),
        _t("Missed collections per 100,000", "Reported missed collections per 100,000 scheduled collections.",
           "per 100,000 collections", (50, 80), "lower", 10, places=0),
        _t("Streets at an acceptable standard of cleanliness", "Streets inspected that meet the cleanliness "
           "standard, as a percentage of streets inspected.", "%", (92, 95), "higher", 2),
        _t("Complaints per 1,000 households", "Formal complaints per 1,000 households served.",
           "per 1,000 households", (2, 3), "lower", "0.5", places=2),
        SATISFIED,
    ],
    "works": [
        MILESTONES,
        _t("Defects put right within 28 days", "Defects reported that were put right within 28 days, as a "
           "percentage of defects reported.", "%", (95, 90), "higher", 3),
        _t("Reportable safety incidents (RIDDOR)", "Incidents reported under RIDDOR on the contract in the "
           "period.", "incidents", (0,), "lower", 0, places=0, spread=1),
        _t("Local people employed on the contract", "Workers on the contract living in the council's area, as a "
           "percentage of all workers on the contract.", "%", (25, 30), "higher", 5),
        _t("Spend with local suppliers", "Spend with suppliers based in the council's area, as a percentage of "
           "the contract's spend in the period.", "%", (30, 40), "higher", 5),
    ],
    "repairs": [
        _t("Repairs completed within target time", "Repairs completed within the target time for their "
           "priority, as a percentage of repairs completed.", "%", (95, 92), "higher", 2),
        _t("Repairs right first time", "Repairs completed at the first visit, as a percentage of repairs "
           "completed.", "%", (90, 85), "higher", 3),
        _t("Emergency call-outs attended within 4 hours", "Emergency call-outs attended within 4 hours, as a "
           "percentage of emergency call-outs.", "%", (98, 99), "higher", 1),
        _t("Days to complete a routine repair", "Average calendar days from report to completion of a routine "
           "repair.", "days", (10, 14, 20), "lower", 2),
        SATISFIED,
    ],
    "digital": [
        _t("System availability", "Minutes the service was available in the agreed hours, as a percentage of "
           "the agreed hours.", "%", (99.5, 99.8), "higher", "0.2", places=2),
        _t("Priority 1 incidents resolved within 4 hours", "Priority 1 incidents resolved within 4 hours, as a "
           "percentage of priority 1 incidents.", "%", (95, 90), "higher", 3),
        _t("Service desk calls answered within 60 seconds", "Calls answered within 60 seconds, as a percentage "
           "of calls to the service desk.", "%", (90, 85), "higher", 3),
        _t("Users satisfied with the service", "Users rating the service good or excellent in the quarterly "
           "survey, as a percentage of those who answered.", "%", (85, 80), "higher", 3),
        MILESTONES,
    ],
    "transport": [
        _t("Journeys on time", "Journeys arriving within 10 minutes of the scheduled time, as a percentage of "
           "journeys made.", "%", (95, 97), "higher", 2),
        _t("Complaints per 1,000 journeys", "Formal complaints per 1,000 journeys made.", "per 1,000 journeys",
           (1.0, 1.5), "lower", "0.3", places=2),
        _t("Vehicles passing inspection first time", "Vehicles passing the council's inspection at the first "
           "attempt, as a percentage of vehicles inspected.", "%", (95, 98), "higher", 2),
        _t("Cost per journey", "The charge for the period divided by the journeys made.", "£ per journey",
           (18.00, 22.50, 27.00), "lower", "0.75", places=2),
        SATISFIED,
    ],
    "professional": [
        _t("Deliverables accepted first time", "Deliverables accepted by the council without rework, as a "
           "percentage of deliverables submitted.", "%", (90, 85), "higher", 3),
        MILESTONES,
        _t("Client satisfaction", "The council's contract manager's rating, as a percentage of the best "
           "possible score.", "%", (85, 80), "higher", 3),
        _t("Average day rate", "The charge for the period divided by the days worked.", "£ per day",
           (650, 750, 850), "lower", 15, places=2),
        _t("Queries answered within 5 working days", "Queries from the council answered within 5 working days, "
           "as a percentage of queries raised.", "%", (95, 90), "higher", 2),
    ],
    "goods": [
        _t("Orders delivered complete and on time", "Orders delivered in full by the agreed date, as a "
           "percentage of orders due.", "%", (95, 98), "higher", 2),
        _t("Items returned as faulty", "Items returned as faulty or damaged, as a percentage of items "
           "delivered.", "%", (1.0, 2.0), "lower", "0.5", places=2),
        _t("Days from order to delivery", "Average working days from order to delivery.", "days", (5, 10),
           "lower", 1),
        _t("Faults fixed within the agreed time", "Faults fixed within the agreed time, as a percentage of "
           "faults reported.", "%", (95, 90), "higher", 2),
        _t("Spend with local suppliers", "Spend with suppliers based in the council's area, as a percentage of "
           "the contract's spend in the period.", "%", (20, 30), "higher", 5),
    ],
}

# CPV division (first two digits) to catalogue; other divisions follow the contract's main category.
DIVISIONS = {
    "85": "care", "98": "community", "80": "education", "90": "environment", "77": "environment",
    "45": "works", "50": "repairs", "51": "repairs",
    "72": "digital", "48": "digital", "64": "digital", "32": "digital",
    "60": "transport", "63": "transport",
    "79": "professional", "71": "professional", "73": "professional", "66": "professional", "75": "professional",
    "70": "professional", "92": "professional", "55": "professional",
}


def catalogue_for(cpv_division, main_category=""):
    """The name of the KPI catalogue for a contract."""
    if cpv_division in DIVISIONS:
        return DIVISIONS[cpv_division]
    if main_category in ("goods", "works"):
        return main_category
    if cpv_division and cpv_division < "45":  # divisions 03-44 are goods
        return "goods"
    return "professional"


# Pure parts: patterns and values ----------------------------------------------------------------------

def contract_pattern(seed, ocid):
    """The pattern of a contract's results: near, drifting, failing or seasonal."""
    return random.Random(f"{seed}:{ocid}:pattern").choices(PATTERNS, PATTERN_WEIGHTS)[0]


def winter_share(start, end):
    """The share of the months from ``start`` to ``end`` that are December, January or February."""
    months = []
    day = start.replace(day=1)
    while day <= end:
        months.append(day.month)
        day = perf.add_months(day, 1)
    return sum(1 for m in months if m in (12, 1, 2)) / len(months) if months else 0.0


def pattern_values(pattern, periods, *, target, direction, tolerance, seed, spread=None, places=1, low=0, high=None):
    """One value per period (a list of (start, end) dates) following the pattern; no database, no clock.

    The offset from the target is in units of ``spread`` (default: the tolerance), positive when
    better than the target: near target +0.6 give or take 0.45; drifting from +0.9 down to -1.9 over
    the periods; failing always 1.5 or more worse (a miss); seasonal near target with a dip of 2.6
    for winter months (December to February, in proportion to the period's winter months). Values
    are rounded half-up to ``places`` and kept between ``low`` and ``high``.
    """
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {', '.join(PATTERNS)}, not {pattern!r}")
    if direction not in perf.DIRECTIONS:
        raise ValueError(f"direction must be 'higher' or 'lower', not {direction!r}")
    rng = random.Random(seed)
    target = perf.to_decimal(target, "target")
    scale = float(perf.to_decimal(spread if spread is not None else tolerance, "spread")) or 1.0
    sign = 1 if direction == "higher" else -1
    quantum = Decimal(1).scaleb(-places)
    n = len(periods)
    out = []
    for i, (start, end) in enumerate(periods):
        noise = rng.gauss(0, 0.45)
        if pattern == "near":
            offset = 0.6 + noise
        elif pattern == "drifting":
            offset = 0.9 - 2.8 * (i / (n - 1) if n > 1 else 1.0) + 0.6 * noise
        elif pattern == "failing":
            offset = -(1.5 + abs(noise) * 2)
        else:
            offset = 0.7 + 0.6 * noise - 2.6 * winter_share(start, end)
        value = Decimal(float(target) + sign * offset * scale).quantize(quantum, rounding=ROUND_HALF_UP)
        if low is not None:
            value = max(value, Decimal(low))
        if high is not None:
            value = min(value, Decimal(high))
        out.append(value)
    return out


def return_periods(start, end, frequency, today):
    """The KPI's periods from the contract's ``start`` whose end (or the contract's ``end``, if earlier) is
    before ``today``: the periods a provider could have reported on by then."""
    last = min(end, today - timedelta(days=1))
    if last < start:
        return []
    return [(s, e) for s, e in perf.periods_between(start, last, frequency) if min(e, end) < today]


# The database side ------------------------------------------------------------------------------------

def data_today():
    """The date of the latest release in the register (local date): the demo's "today"."""
    latest = Contract.objects.filter(source=Source.OCDS).aggregate(m=Max("published"))["m"]
    return timezone.localdate(latest) if latest else date.today()


def generator_user():
    """The superuser that writes synthetic rows (made once; inactive, with no password: it cannot sign in)."""
    from commissioner.orgs.services import audit

    User = get_user_model()
    user = User.objects.filter(username=GENERATOR_USERNAME).first()
    if user is None:
        user = User(username=GENERATOR_USERNAME, is_superuser=True, is_staff=False, is_active=False,
                    first_name="Synthetic data generator")
        user.set_unusable_password()
        user.save()
        audit(actor_label="demo", action="user-created", obj=user,
              after={"username": GENERATOR_USERNAME, "purpose": "writes the demo's synthetic performance data"})
    return user


def eligible_contracts(contracts=None):
    """Contracts the generator may fill: awarded or signed, with a start, an end and a supplier, and no
    KPIs yet. By default the register's public OCDS contracts (never a council's own records)."""
    if contracts is None:
        qs = Contract.objects.filter(source=Source.OCDS, is_private=False)
    elif hasattr(contracts, "model"):
        qs = contracts
    else:
        qs = Contract.objects.filter(pk__in=[c.pk for c in contracts])
    from commissioner.performance.models import Kpi
    from commissioner.register.models import ContractSupplier

    return (qs.filter(status__in=LIVE, start_date__isnull=False, end_date__isnull=False,
                      end_date__gte=F("start_date"))
            .filter(Exists(ContractSupplier.objects.filter(contract=OuterRef("pk"))))
            .exclude(Exists(Kpi.objects.filter(contract=OuterRef("pk")))).order_by("ocid"))


def generate(*, seed=DEFAULT_SEED, today=None, contracts=None, actor=None):
    """Make synthetic KPIs, returns and assessments; returns counts of what was made.

    ``today``: default the latest release date in the register (see ``data_today``). ``contracts``: a
    queryset or list to narrow the contracts (default: the register's public OCDS contracts).
    ``actor``: a superuser to write as (default: the "synthetic-data" user). Contracts with KPIs are
    skipped, so running it again makes nothing new; one contract is written per transaction.
    """
    today = today or data_today()
    counts = {"contracts": 0, "kpis": 0, "returns": 0, "assessments": 0}
    todo = list(eligible_contracts(contracts))
    if not todo:
        return counts
    actor = actor or generator_user()
    if not actor.is_superuser:
        raise ValueError("the generator writes as a superuser")
    for contract in todo:
        with transaction.atomic():
            made = _contract(contract, seed=seed, today=today, actor=actor)
        counts["contracts"] += 1
        for key, n in made.items():
            counts[key] += n
    return counts


def _contract(contract, *, seed, today, actor, key=None):
    from commissioner.performance import services
    from commissioner.performance.models import Assessment, KpiReturn

    key = key or contract.ocid  # the random stream's name: the ocid, or a stable key for made-up contracts
    rng = random.Random(f"{seed}:{key}")
    pattern = contract_pattern(seed, key)
    act = procurement.kpis_required(contract.value, exempt=False)
    templates = CATALOGUE[catalogue_for(contract.cpv_division, contract.main_category)]
    n = max(rng.randint(2, 5), act)
    chosen = [t for t in templates if t.always]
    chosen += rng.sample([t for t in templates if not t.always], min(n, len(templates)) - len(chosen))
    late = rng.random() < LATE_SHARE
    made = {"kpis": 0, "returns": 0, "assessments": 0}
    series = []
    for i, t in enumerate(chosen):
        frequency = "monthly" if rng.random() < MONTHLY_SHARE else "quarterly"
        target = rng.choice(t.targets)
        kpi = services.create_kpi(actor=actor, contract=contract, synthetic=True, data={
            "name": t.name, "definition": f"{t.definition} {SYNTHETIC_NOTE}", "unit": t.unit, "target": target,
            "direction": t.direction, "tolerance": t.tolerance, "frequency": frequency,
            "weight": rng.choice((1, 1, 1, 2)), "is_act_kpi": i < act})
        made["kpis"] += 1
        # Most of a patterned contract's KPIs follow its pattern; the first always does.
        kpi_pattern = pattern if i == 0 or rng.random() < 0.75 else "near"
        periods = return_periods(contract.start_date, contract.end_date, frequency, today)
        values = pattern_values(kpi_pattern, periods, target=target, direction=t.direction, tolerance=t.tolerance,
                                spread=t.spread, places=t.places, high=t.high, seed=f"{seed}:{key}:{i}")
        series.append((kpi, periods, values))
    latest_end = max((p[-1][1] for _, p, _ in series if p), default=None)
    for kpi, periods, values in series:
        for (start, end), value in zip(periods, values, strict=True):
            if (late and end == latest_end) or rng.random() < MISSING_SHARE:
                continue
            services.submit_return(actor=actor, kpi=kpi, day=start, value=value, evidence=SYNTHETIC_NOTE,
                                   source=KpiReturn.Source.GENERATED, synthetic=True)
            made["returns"] += 1
    if rng.random() < ASSESSED_SHARE:
        year = 1
        while (anniversary := perf.add_months(contract.start_date, 12 * year)) <= min(today, contract.end_date):
            assessed_on = anniversary + timedelta(days=rng.randint(7, 40))
            if assessed_on > today:
                break
            start = perf.add_months(contract.start_date, 12 * (year - 1))
            end = anniversary - timedelta(days=1)
            proposal, _ = services.propose(contract, start, end)
            rating, reason = proposal.rating, ""
            if proposal.rating != "other" and rng.random() < OVERRULED_SHARE:
                rating = procurement.RATINGS[max(procurement.RATINGS.index(proposal.rating) - 1, 0)] \
                    if proposal.rating != "good" else "approaching"
                reason = ("Synthetic: the officer weighed the provider's recovery plan and complaints "
                          "evidence against the KPI results.")
            services.record_assessment(actor=actor, contract=contract, period_start=start, period_end=end,
                                       rating=rating, reason=reason, kind=Assessment.Kind.PERIODIC,
                                       assessed_on=assessed_on, synthetic=True)
            made["assessments"] += 1
            year += 1
    return made


# A provider serving several councils ----------------------------------------------------------------

CROSS_COUNCIL_REFERENCE = "synthetic-cross-council"
CROSS_COUNCIL_NOTE = ("Synthetic: a made-up contract, so that the demo shows a provider serving several councils "
                      "(the sample has none in care services). Not a real contract.")


def cross_council(*, seed=DEFAULT_SEED, today=None, home=None, providers=2, extra=2, actor=None):
    """Made-up contracts so that the demo's provider benchmarking shows a care provider serving several
    councils (the sample register has no provider holding care contracts with more than one council).

    For the first ``providers`` public providers (longest-running first) of the sample's live care contracts (CPV 85) with
    a council in a region, ``extra`` more contracts like the real one (same provider, service, value and
    term) with other councils of that region, drawn from the seed, and with ``home`` (the demo's council)
    first when given. Each is public, titled "Synthetic: ...", described as made up, with the reference
    ``synthetic-cross-council:<ocid>:<council>``; its KPIs, returns and assessments are made as by
    ``generate`` (seeded by that reference, labelled synthetic). Written through ``register.services`` and
    ``performance.services``; idempotent (a reference already there is skipped). Ends by rebuilding the
    provider benchmarking summary (cheap, and it fills a database made before the summary existed).
    """
    from commissioner.benchmarking.providers import rebuild_summaries
    from commissioner.orgs.models import Organisation
    from commissioner.register.models import ContractSupplier
    from commissioner.register.services import create_local_contract

    today = today or data_today()
    counts = {"contracts": 0, "kpis": 0, "returns": 0, "assessments": 0}
    originals = (Contract.objects.filter(source=Source.OCDS, is_private=False, cpv_division="85", status__in=LIVE,
                                         start_date__isnull=False, end_date__isnull=False,
                                         end_date__gte=F("start_date"), buyer__kind=Organisation.Kind.COUNCIL)
                 .exclude(buyer__region="")
                 .filter(Exists(ContractSupplier.objects.filter(contract=OuterRef("pk"))))
                 .select_related("buyer").order_by("start_date", "ocid"))  # the longest-running first
    seen = []
    for original in originals:
        if len(seen) >= providers:
            break
        provider = original.contract_suppliers.order_by("id").first().supplier.provider
        if provider.pk in seen or provider.is_private:
            continue
        seen.append(provider.pk)
        rng = random.Random(f"{seed}:cross:{original.ocid}")
        others = list(Organisation.objects.filter(kind=Organisation.Kind.COUNCIL, region=original.buyer.region)
                      .exclude(pk=original.buyer_id).exclude(pk=getattr(home, "pk", None)).order_by("slug"))
        chosen = [home] if home is not None and home.pk != original.buyer_id else []
        chosen += rng.sample(others, min(max(extra - len(chosen), 0), len(others)))
        for council in chosen:
            reference = f"{CROSS_COUNCIL_REFERENCE}:{original.ocid}:{council.slug}"[:200]
            if Contract.objects.filter(reference=reference).exists():
                continue
            actor = actor or generator_user()
            with transaction.atomic():
                contract = create_local_contract(
                    owner=council, actor=actor, title=f"Synthetic: {original.title}"[:1000],
                    description=CROSS_COUNCIL_NOTE, delivery_model="market", provider_name=provider.name,
                    supplier_type=provider.supplier_type, value=original.value, start_date=original.start_date,
                    end_date=original.end_date, cpv=original.cpv, is_private=False, reference=reference,
                    companies_house=provider.companies_house, charity_number=provider.charity_number)
                made = _contract(contract, seed=seed, today=today, actor=actor, key=reference)
            counts["contracts"] += 1
            for k, n in made.items():
                counts[k] += n
    rebuild_summaries()
    return counts
