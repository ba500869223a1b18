"""KPI classification, reporting periods, forward plan and value tests. No database needed."""

from datetime import date
from decimal import Decimal

import pytest

from commissioner.methods.performance import (
    CLASSIFICATION_LABELS,
    CLASSIFICATIONS,
    DEFAULT_LEAD_TIMES,
    DEFAULT_VALUE_TEST_SETTINGS,
    ValueFlag,
    add_months,
    classify,
    decision_date,
    lead_time_months,
    median,
    period_bounds,
    periods_between,
    trailing_misses,
    value_test_flags,
)

# --- add_months --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),  # clamped to the month end
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 1, 15), -1, date(2024, 12, 15)),
        (date(2027, 3, 31), -18, date(2025, 9, 30)),
        (date(2025, 5, 20), 0, date(2025, 5, 20)),
        (date(2025, 12, 1), 1, date(2026, 1, 1)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_add_months_needs_whole_months():
    with pytest.raises(TypeError):
        add_months(date(2025, 1, 1), 1.5)


# --- classify ----------------------------------------------------------------------------------------------


def test_classification_names():
    assert CLASSIFICATIONS == ("met", "slightlyBelow", "below", "significantlyBelow")
    assert [CLASSIFICATION_LABELS[c] for c in CLASSIFICATIONS] == ["Met", "Slightly below", "Below",
                                                                  "Significantly below"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (95, "met"),
        (90, "met"),  # shortfall 0
        (88, "slightlyBelow"),  # shortfall 2 = tolerance
        ("87.9", "below"),  # shortfall 2.1
        (81, "below"),  # shortfall 9 = max(2 x 2, 10% of 90)
        ("80.9", "significantlyBelow"),
    ],
)
def test_classify_higher_is_better(value, expected):
    assert classify(value, target=90, direction="higher", tolerance=2) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4, "met"),
        (5, "met"),
        (6, "slightlyBelow"),  # shortfall 1 = tolerance
        ("6.01", "below"),
        (7, "below"),  # shortfall 2 = max(2 x 1, 10% of 5)
        ("7.01", "significantlyBelow"),
    ],
)
def test_classify_lower_is_better(value, expected):
    assert classify(value, target=5, direction="lower", tolerance=1) == expected


def test_classify_without_tolerance():
    assert classify("89.99", target=90, direction="higher") == "below"  # nothing is "slightly" below
    assert classify(81, target=90, direction="higher") == "below"
    assert classify("80.99", target=90, direction="higher") == "significantlyBelow"
    assert classify(0, target=0, direction="lower") == "met"
    assert classify("0.1", target=0, direction="lower") == "significantlyBelow"


def test_classify_twice_tolerance_wins_when_larger_than_10_percent():
    assert classify(7, target=10, direction="higher", tolerance=3) == "slightlyBelow"
    assert classify(4, target=10, direction="higher", tolerance=3) == "below"  # shortfall 6 = 2 x 3
    assert classify("3.9", target=10, direction="higher", tolerance=3) == "significantlyBelow"


def test_classify_accepts_decimal_and_float():
    assert classify(Decimal("88.5"), target=90.0, direction="higher", tolerance="1.5") == "slightlyBelow"


def test_classify_rejects_bad_input():
    with pytest.raises(ValueError, match="direction"):
        classify(1, target=2, direction="up")
    with pytest.raises(ValueError, match="tolerance"):
        classify(1, target=2, direction="higher", tolerance=-1)
    with pytest.raises(ValueError, match="value"):
        classify(None, target=2, direction="higher")


# --- periods -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "frequency", "expected"),
    [
        (date(2025, 2, 15), "monthly", (date(2025, 2, 1), date(2025, 2, 28))),
        (date(2024, 2, 10), "monthly", (date(2024, 2, 1), date(2024, 2, 29))),
        (date(2025, 12, 31), "monthly", (date(2025, 12, 1), date(2025, 12, 31))),
        (date(2025, 2, 15), "quarterly", (date(2025, 1, 1), date(2025, 3, 31))),
        (date(2024, 11, 30), "quarterly", (date(2024, 10, 1), date(2024, 12, 31))),
        (date(2025, 4, 1), "quarterly", (date(2025, 4, 1), date(2025, 6, 30))),
        (date(2025, 2, 15), "annual", (date(2024, 4, 1), date(2025, 3, 31))),
        (date(2025, 3, 31), "annual", (date(2024, 4, 1), date(2025, 3, 31))),
        (date(2025, 4, 1), "annual", (date(2025, 4, 1), date(2026, 3, 31))),
    ],
)
def test_period_bounds(day, frequency, expected):
    assert period_bounds(day, frequency) == expected


def test_period_bounds_rejects_unknown_frequency():
    with pytest.raises(ValueError, match="frequency"):
        period_bounds(date(2025, 1, 1), "weekly")


def test_periods_between():
    assert periods_between(date(2025, 2, 15), date(2025, 7, 1), "quarterly") == [
        (date(2025, 1, 1), date(2025, 3, 31)),
        (date(2025, 4, 1), date(2025, 6, 30)),
        (date(2025, 7, 1), date(2025, 9, 30)),
    ]
    assert periods_between(date(2025, 1, 31), date(2025, 3, 1), "monthly") == [
        (date(2025, 1, 1), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 2, 28)),
        (date(2025, 3, 1), date(2025, 3, 31)),
    ]
    assert periods_between(date(2024, 1, 1), date(2025, 4, 1), "annual") == [
        (date(2023, 4, 1), date(2024, 3, 31)),
        (date(2024, 4, 1), date(2025, 3, 31)),
        (date(2025, 4, 1), date(2026, 3, 31)),
    ]
    assert periods_between(date(2025, 5, 5), date(2025, 5, 5), "monthly") == [(date(2025, 5, 1), date(2025, 5, 31))]
    assert len(periods_between(date(2024, 1, 1), date(2025, 12, 31), "monthly")) == 24


def test_periods_between_rejects_start_after_end():
    with pytest.raises(ValueError, match="after end"):
        periods_between(date(2025, 2, 1), date(2025, 1, 1), "monthly")


# --- trailing misses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("classifications", "expected"),
    [
        ([], 0),
        (["met", "below", "significantlyBelow"], 2),
        (["below", "below", "below"], 3),
        (["below", "below", None], 0),  # no result for the latest period ends the run
        (["below", None, "below"], 1),
        (["below", "slightlyBelow"], 0),  # slightly below is not a miss
        (["below", "other", "significantlyBelow"], 1),
        (["met", "met"], 0),
    ],
)
def test_trailing_misses(classifications, expected):
    assert trailing_misses(classifications) == expected


def test_trailing_misses_accepts_any_iterable():
    assert trailing_misses(c for c in ("met", "below", "below")) == 2


# --- forward plan ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "months"),
    [
        (0, 6),
        (99_999, 6),
        (100_000, 9),
        ("999999.99", 9),
        (1_000_000, 12),
        (4_999_999, 12),
        (5_000_000, 18),
        (80_000_000, 18),
        (None, 6),
    ],
)
def test_lead_time_months_default(value, months):
    assert DEFAULT_LEAD_TIMES == ((0, 6), (100_000, 9), (1_000_000, 12), (5_000_000, 18))
    assert lead_time_months(value, DEFAULT_LEAD_TIMES) == months


def test_lead_time_months_sorts_the_pairs():
    unsorted = [(1000, 3), (0, 1)]
    assert lead_time_months(500, unsorted) == 1
    assert lead_time_months(1000, unsorted) == 3
    assert lead_time_months(None, unsorted) == 1
    assert lead_time_months(50, [(100, 4), (200, 5)]) == 4  # below every min_value: the first entry


@pytest.mark.parametrize(
    "lead_times",
    [[], [(0, -1)], [(0, 6), (0, 9)], [(0,)], [(0, 1.5)], [("lots", 6)]],
)
def test_lead_time_months_rejects_bad_tables(lead_times):
    with pytest.raises(ValueError):
        lead_time_months(10, lead_times)


def test_decision_date():
    # 6,000,000 needs 18 months before the end.
    assert decision_date(end_date=date(2027, 3, 31), value=6_000_000) == date(2025, 9, 30)
    assert decision_date(end_date=date(2026, 3, 31), value=50_000) == date(2025, 9, 30)
    # 500,000 needs 9 months; 31 August less 9 months is 30 November (clamped).
    assert decision_date(end_date=date(2026, 8, 31), value="500000") == date(2025, 11, 30)
    assert decision_date(end_date=date(2026, 3, 31), value=None) == date(2025, 9, 30)


def test_decision_date_uses_the_earlier_break_date():
    assert decision_date(end_date=date(2027, 3, 31), value=2_000_000, break_date=date(2026, 8, 31)) == date(
        2025, 8, 31)
    # A break date after the end date changes nothing.
    assert decision_date(end_date=date(2026, 3, 31), value=150_000, break_date=date(2026, 6, 30)) == date(
        2025, 6, 30)


def test_decision_date_with_own_lead_times():
    assert decision_date(end_date=date(2026, 1, 31), value=10, lead_times=[(0, 1)]) == date(2025, 12, 31)
    assert decision_date(end_date=date(2026, 1, 31), value=10, lead_times=[(0, 0)]) == date(2026, 1, 31)


# --- median ------------------------------------------------------------------------------------------------


def test_median():
    assert median([3, 1, 2]) == Decimal(2)
    assert median([4, 1, 3, 2]) == Decimal("2.5")  # mean of the two middle values
    assert median(["22.5", 20, 30.0, 22]) == Decimal("22.25")
    assert median([Decimal(7)]) == Decimal(7)
    assert median([None, 5]) == Decimal(5)  # None entries are ignored
    assert median([]) is None
    assert median([None]) is None
    assert isinstance(median([1, 2]), Decimal)


# --- value tests -------------------------------------------------------------------------------------------

TODAY = date(2025, 6, 1)


def flags(**overrides):
    """Flags for a contract that raises none, with `overrides` applied."""
    kwargs = dict(
        today=TODAY, trailing_misses=0, upcoming_decisions=[], unit_price=None, comparable_unit_prices=(),
        last_change_or_review=date(2024, 1, 1), supplier_share=None,
    )
    kwargs.update(overrides)
    return value_test_flags(**kwargs)


def codes(found):
    return [f.code for f in found]


def test_value_test_defaults():
    assert DEFAULT_VALUE_TEST_SETTINGS == {
        "misses": 2, "decision_months": 6, "min_comparables": 3, "stale_years": 3, "dependency_share": Decimal("0.5"),
    }
    assert flags() == []


def test_underperforming():
    assert flags(trailing_misses=2) == [ValueFlag("underperforming", "Underperforming",
                                                  "below target in the last 2 periods")]
    assert flags(trailing_misses=3)[0].evidence == "below target in the last 3 periods"
    assert flags(trailing_misses=1) == []
    assert flags(trailing_misses=2, settings={"misses": 3}) == []
    assert flags(trailing_misses=1, settings={"misses": 1})[0].evidence == "below target in the last 1 period"


def test_decision_soon():
    found = flags(upcoming_decisions=[(date(2025, 12, 1), "re-procurement decision")])  # exactly 6 months ahead
    assert found == [ValueFlag("decision_soon", "Decision due soon", "re-procurement decision due 1 December 2025")]
    assert flags(upcoming_decisions=[(date(2025, 12, 2), "re-procurement decision")]) == []
    assert codes(flags(upcoming_decisions=[(TODAY, "break clause decision")])) == ["decision_soon"]
    assert flags(upcoming_decisions=[(date(2025, 5, 31), "overdue decision")]) == []  # before today
    assert flags(upcoming_decisions=[(date(2025, 10, 1), "x")], settings={"decision_months": 3}) == []
    both = flags(upcoming_decisions=[(date(2025, 11, 30), "extension decision"), (date(2025, 7, 31), "break")])
    assert both[0].evidence == "break due 31 July 2025; extension decision due 30 November 2025"


def test_price_above_median():
    found = flags(unit_price="25.50", comparable_unit_prices=[20, 22, "22.5", 30])
    assert found == [ValueFlag(
        "price_above_median", "Unit price above the median",
        "unit price 25.50 is above the median of 22.25 across 4 comparable contracts (14.6% higher)",
    )]
    odd = flags(unit_price=120, comparable_unit_prices=[100, 90, 110])
    assert odd[0].evidence == "unit price 120 is above the median of 100 across 3 comparable contracts (20% higher)"
    assert flags(unit_price="22.25", comparable_unit_prices=[20, 22, "22.5", 30]) == []  # equal to the median
    assert flags(unit_price=10, comparable_unit_prices=[20, 22, 30]) == []
    assert flags(unit_price=40, comparable_unit_prices=[20, 22]) == []  # too few comparables
    assert flags(unit_price=40, comparable_unit_prices=[20, 22, None]) == []  # None is not a comparable
    assert codes(flags(unit_price=40, comparable_unit_prices=[20, 22], settings={"min_comparables": 2})) == [
        "price_above_median"]
    assert flags(unit_price=None, comparable_unit_prices=[1, 2, 3]) == []


def test_stale():
    assert flags(last_change_or_review=None) == [ValueFlag("stale", "No recent change or review",
                                                           "no change or review recorded")]
    assert flags(last_change_or_review=date(2022, 6, 1)) == []  # exactly 3 years ago
    assert flags(last_change_or_review=date(2022, 5, 31))[0].evidence == (
        "last change or review on 31 May 2022, more than 3 years ago"
    )
    assert flags(last_change_or_review=date(2024, 5, 31), settings={"stale_years": 1})[0].evidence == (
        "last change or review on 31 May 2024, more than 1 year ago"
    )


def test_dependency():
    assert flags(supplier_share="0.5") == [ValueFlag("dependency", "Dependent on one supplier",
                                                     "supplier share is 50% (flagged at 50% or more)")]
    assert flags(supplier_share=0.625)[0].evidence == "supplier share is 62.5% (flagged at 50% or more)"
    assert flags(supplier_share="0.49") == []
    assert flags(supplier_share=Decimal("0.7"), settings={"dependency_share": 0.75}) == []
    assert flags(supplier_share=1, settings={"dependency_share": "0.75"})[0].evidence == (
        "supplier share is 100% (flagged at 75% or more)"
    )


def test_all_flags_in_order():
    found = flags(
        trailing_misses=4, upcoming_decisions=[(date(2025, 9, 1), "end of contract decision")], unit_price=50,
        comparable_unit_prices=[10, 20, 30], last_change_or_review=None, supplier_share="0.9",
    )
    assert codes(found) == ["underperforming", "decision_soon", "price_above_median", "stale", "dependency"]


def test_value_test_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown value test setting"):
        flags(settings={"miss": 2})
    with pytest.raises(ValueError, match="trailing_misses"):
        flags(trailing_misses=-1)
    with pytest.raises(ValueError, match="supplier_share"):
        flags(supplier_share="1.2")
    with pytest.raises(ValueError, match="stale_years"):
        flags(settings={"stale_years": -1})
