"""The demo's synthetic performance data: pure patterns, and the generator on the real sample register."""

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from commissioner.methods import performance as perf
from commissioner.methods import procurement
from commissioner.orgs.models import AuditEvent
from commissioner.performance import queries, services, synthetic
from commissioner.performance.models import Assessment, Kpi, KpiReturn
from commissioner.register.models import Contract

SAMPLE_TODAY = date(2025, 3, 11)  # the latest release in the sample
QUARTERS_2024 = perf.periods_between(date(2024, 1, 1), date(2024, 12, 31), "quarterly")


# --- pure parts --------------------------------------------------------------------------------------------

def values(pattern, **kw):
    args = {"target": 95, "direction": "higher", "tolerance": 2, "seed": "2025:test", "high": 100} | kw
    return [str(v) for v in synthetic.pattern_values(pattern, QUARTERS_2024, **args)]


def test_pattern_values_are_exact_for_a_fixed_seed():
    assert values("near") == ["95.3", "97.0", "96.9", "96.1"]
    assert values("drifting") == ["96.3", "95.4", "93.5", "91.1"]
    assert values("failing") == ["90.2", "90.3", "90.7", "91.8"]
    assert values("seasonal") == ["92.4", "96.9", "96.8", "94.6"]  # Jan-Mar dips, Oct-Dec a little
    # Lower is better: failing is above the target; pence kept.
    assert values("failing", target="21.50", tolerance="0.50", direction="lower", places=2, seed="x",
                  high=None) == ["22.66", "22.69", "23.01", "22.33"]


def test_patterns_classify_as_their_names_say():
    def classes(pattern, **kw):
        return [perf.classify(v, target=95, direction="higher", tolerance=2) for v in values(pattern, **kw)]

    assert set(classes("near")) == {"met"}
    assert classes("drifting")[0] == "met" and classes("drifting")[-1] in perf.MISSES
    for seed in ("a", "b", "c", "d"):
        assert all(c in perf.MISSES for c in classes("failing", seed=seed))


def test_values_stay_in_range_and_are_rounded():
    top = synthetic.pattern_values("near", QUARTERS_2024 * 5, target="99.8", direction="higher", tolerance="0.2",
                                   places=2, high=100, seed="s")
    assert max(top) <= 100 and all(v == v.quantize(Decimal("0.01")) for v in top)
    zero = synthetic.pattern_values("near", QUARTERS_2024 * 5, target=0, direction="lower", tolerance=0, spread=1,
                                    places=0, seed="s")
    assert min(zero) == 0 and all(v == v.to_integral_value() for v in zero)


def test_bad_pattern_or_direction_is_refused():
    with pytest.raises(ValueError, match="pattern"):
        synthetic.pattern_values("sideways", QUARTERS_2024, target=1, direction="higher", tolerance=1, seed=1)
    with pytest.raises(ValueError, match="direction"):
        synthetic.pattern_values("near", QUARTERS_2024, target=1, direction="up", tolerance=1, seed=1)


def test_contract_pattern_is_drawn_from_the_seed():
    assert [synthetic.contract_pattern(2025, f"ocds-{i}") for i in range(8)] == [
        "failing", "near", "near", "near", "failing", "near", "near", "failing"]
    drawn = Counter(synthetic.contract_pattern(2025, f"ocds-{i}") for i in range(2000))
    assert drawn["near"] > 1100 and set(drawn) == set(synthetic.PATTERNS)


def test_winter_share_and_return_periods():
    assert synthetic.winter_share(date(2024, 1, 1), date(2024, 3, 31)) == pytest.approx(2 / 3)
    assert synthetic.winter_share(date(2024, 4, 1), date(2024, 6, 30)) == 0
    assert synthetic.winter_share(date(2024, 12, 1), date(2024, 12, 31)) == 1
    # Only periods that ended before today; the first one is the period holding the start.
    assert synthetic.return_periods(date(2024, 11, 15), date(2025, 6, 30), "quarterly", SAMPLE_TODAY) == [
        (date(2024, 10, 1), date(2024, 12, 31))]
    # A contract that ended mid-period reports on that period once it has ended.
    assert synthetic.return_periods(date(2024, 11, 15), date(2025, 2, 10), "monthly", SAMPLE_TODAY)[-1] == (
        date(2025, 2, 1), date(2025, 2, 28))
    assert synthetic.return_periods(date(2025, 4, 1), date(2026, 3, 31), "monthly", SAMPLE_TODAY) == []


def test_catalogue_by_cpv_division():
    assert synthetic.catalogue_for("85") == "care"
    assert "£ per hour" in {t.unit for t in synthetic.CATALOGUE["care"] if t.always}
    assert synthetic.catalogue_for("45") == "works"
    assert synthetic.catalogue_for("38") == "goods"
    assert synthetic.catalogue_for("99", "works") == "works"
    assert synthetic.catalogue_for("", "") == "professional"
    for name, templates in synthetic.CATALOGUE.items():
        assert len(templates) >= 5, name
        assert len({t.name for t in templates}) == len(templates), name


# --- the generator on the sample -----------------------------------------------------------------------------

def snapshot():
    """Every generated figure, in a stable order."""
    return sorted(
        (r.kpi.contract.ocid, r.kpi.name, r.kpi.frequency, str(r.kpi.target), r.kpi.is_act_kpi,
         r.period_start.isoformat(), str(r.value), r.classification)
        for r in KpiReturn.objects.select_related("kpi__contract"))


@pytest.mark.django_db
def test_generate_on_the_sample_register():
    assert synthetic.data_today() == SAMPLE_TODAY
    counts = synthetic.generate()
    assert counts["contracts"] > 100 and counts["kpis"] > 2 * counts["contracts"]
    assert counts["returns"] > 500 and counts["assessments"] > 0
    assert Kpi.objects.count() == counts["kpis"] and KpiReturn.objects.count() == counts["returns"]

    # Every generated row is labelled synthetic.
    assert not Kpi.objects.filter(synthetic=False).exists()
    assert not KpiReturn.objects.exclude(synthetic=True, source=KpiReturn.Source.GENERATED).exists()
    assert not Assessment.objects.filter(synthetic=False).exists()
    assert all(synthetic.SYNTHETIC_NOTE in k.definition for k in Kpi.objects.all())

    # Only eligible contracts: awarded or signed, with dates and a supplier; 2-5 KPIs each.
    filled = Contract.objects.filter(kpis__isnull=False).distinct()
    assert set(filled.values_list("status", flat=True)) <= {"awarded", "contract"}
    per_contract = Counter(Kpi.objects.values_list("contract_id", flat=True))
    assert set(per_contract.values()) <= {2, 3, 4, 5} and len(set(per_contract.values())) > 2
    for c in filled:
        assert c.start_date and c.end_date and c.contract_suppliers.exists()
        act = c.kpis.filter(is_act_kpi=True).count()
        assert act == (3 if c.value and c.value > procurement.KPI_THRESHOLD else 0), c.ocid
    assert Kpi.objects.filter(frequency="monthly").exists() and Kpi.objects.filter(frequency="quarterly").exists()
    care = Kpi.objects.filter(contract__cpv_division="85")
    assert care.exists() and care.filter(unit="£ per hour").count() == len({k.contract_id for k in care})

    # Returns only for periods that ended before the data's today, and within the contract's term.
    for r in KpiReturn.objects.select_related("kpi__contract"):
        c = r.kpi.contract
        assert min(r.period_end, c.end_date) < SAMPLE_TODAY and r.period_end >= c.start_date

    # Realistic patterns: all four drawn, most classifications met, some KPIs failing (2+ misses in a row).
    patterns = Counter(synthetic.contract_pattern(synthetic.DEFAULT_SEED, c.ocid) for c in filled)
    assert set(patterns) == set(synthetic.PATTERNS) and patterns.most_common(1)[0][0] == "near"
    classes = Counter(KpiReturn.objects.values_list("classification", flat=True))
    assert classes["met"] > sum(classes.values()) / 2 and classes["below"] + classes["significantlyBelow"] > 0
    failing = [c for c in filled if max(v.misses for v in queries.contract_performance(c, SAMPLE_TODAY).kpis) >= 2]
    assert failing
    assert queries.contract_performance(failing[0], SAMPLE_TODAY).synthetic

    # Assessments only for contracts that had run 12 months, assessed after each anniversary.
    for a in Assessment.objects.select_related("contract"):
        assert perf.add_months(a.contract.start_date, 12) <= a.assessed_on <= SAMPLE_TODAY
        assert a.rating == a.proposed_rating or a.reason

    # Written through the services by the generator's superuser, which cannot sign in.
    user = get_user_model().objects.get(username=synthetic.GENERATOR_USERNAME)
    assert user.is_superuser and not user.is_active and not user.has_usable_password()
    assert AuditEvent.objects.filter(actor=user, model="performance.KpiReturn").count() == counts["returns"]

    # Idempotent: a second run makes nothing and changes nothing.
    before = snapshot()
    assert synthetic.generate() == {"contracts": 0, "kpis": 0, "returns": 0, "assessments": 0}
    assert snapshot() == before


@pytest.mark.django_db
def test_same_seed_and_today_give_the_same_figures_from_a_fresh_state():
    some = list(Contract.objects.filter(status="awarded", start_date__lt=date(2024, 10, 1)).order_by("ocid")[:12])

    def run(contracts, **kw):
        with transaction.atomic():
            counts = synthetic.generate(contracts=contracts, **({"today": SAMPLE_TODAY} | kw))
            figures = snapshot()
            transaction.set_rollback(True)  # back to the fresh state
        return counts, figures

    counts, first = run(some)
    assert counts["returns"] > 20
    assert run(some) == (counts, first)
    # Each contract has its own stream: the order and the other contracts do not matter.
    assert run(list(reversed(some)))[1] == first
    assert run(some[:3])[1] == [row for row in first if row[0] in {c.ocid for c in some[:3]}]
    # Another seed, or another today, gives other figures.
    assert run(some, seed=7)[1] != first
    later = run(some[:3], today=date(2025, 9, 30))[1]
    assert len(later) > len([row for row in first if row[0] in {c.ocid for c in some[:3]}])


@pytest.mark.django_db
def test_contracts_with_kpis_are_left_alone(users):
    contract = Contract.objects.filter(status="awarded", start_date__lt=date(2024, 6, 1),
                                       contract_suppliers__isnull=False).order_by("ocid").first()
    services.create_kpi(actor=users["superuser"], contract=contract,
                        data={"name": "A real KPI", "unit": "%", "target": 90})
    assert synthetic.generate(contracts=[contract])["contracts"] == 0
    assert list(contract.kpis.values_list("name", "synthetic")) == [("A real KPI", False)]
    # Contracts that are not eligible are never filled, even when asked for.
    planned = Contract.objects.exclude(status__in=("awarded", "contract")).first()
    assert synthetic.generate(contracts=Contract.objects.filter(pk=planned.pk))["contracts"] == 0


@pytest.mark.django_db
def test_the_generator_writes_as_a_superuser_only(users):
    some = list(synthetic.eligible_contracts()[:1])
    with pytest.raises(ValueError, match="superuser"):
        synthetic.generate(contracts=some, actor=users["admin"])
    counts = synthetic.generate(contracts=some, actor=users["superuser"])
    assert counts["contracts"] == 1
    assert set(AuditEvent.objects.filter(model="performance.Kpi").values_list("actor_label", flat=True)) == {"root"}
