"""Procurement Act 2023 rules (methods.md section 4): worked examples and boundaries. No database needed."""

from datetime import date
from decimal import Decimal

import pytest

from commissioner.methods.procurement import (
    EXEMPT_KINDS,
    KPI_THRESHOLD,
    MIN_KPIS,
    NOTICE_TYPES,
    RATING_LABELS,
    RATINGS,
    assessment_due,
    change_notice_required,
    kpis_required,
    propose_rating,
)

# --- s.52 KPIs ---------------------------------------------------------------------------------------------


def test_kpi_constants():
    assert KPI_THRESHOLD == Decimal(5000000)
    assert MIN_KPIS == 3
    assert EXEMPT_KINDS == ("framework", "concession", "light_touch", "utility")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5_000_000, 0),  # exactly the threshold: none
        (5_000_001, 3),  # worked example
        ("5000000.00", 0),
        ("5000000.01", 3),
        (5_000_001.0, 3),
        (Decimal(12000000), 3),
        (0, 0),
        (None, 0),
    ],
)
def test_kpis_required(value, expected):
    assert kpis_required(value, exempt=False) == expected


def test_kpis_required_exempt():
    assert kpis_required(5_000_001, exempt=True) == 0
    assert kpis_required(50_000_000, exempt=True) == 0


def test_kpis_required_rejects_non_numbers():
    with pytest.raises(ValueError, match="value_incl_vat"):
        kpis_required("five million", exempt=False)


# --- s.71 ratings ------------------------------------------------------------------------------------------


def test_rating_names():
    assert RATINGS == ("good", "approaching", "requires_improvement", "inadequate", "other")
    assert [RATING_LABELS[r] for r in RATINGS] == [
        "Good", "Approaching target", "Requires improvement", "Inadequate", "Other",
    ]


@pytest.mark.parametrize(
    ("results", "rating", "score"),
    [
        ([(1, "met"), (1, "met"), (1, "met")], "good", "3.00"),
        ([(1, "met"), (1, "slightlyBelow")], "good", "2.50"),  # 2.5 exactly: Good
        ([(99, "met"), (101, "slightlyBelow")], "good", "2.50"),  # 499/200 = 2.495, rounds half-up to 2.50
        ([(1, "met"), (1, "slightlyBelow"), (1, "slightlyBelow")], "approaching", "2.33"),  # 7/3
        ([(3, "met"), (1, "significantlyBelow")], "approaching", "2.25"),  # weighted: 9/4
        ([(1, "slightlyBelow")] * 3 + [(1, "below")], "approaching", "1.75"),  # 7/4 exactly
        ([(149, "slightlyBelow"), (51, "below")], "approaching", "1.75"),  # 349/200 = 1.745 -> 1.75
        ([(1, "slightlyBelow"), (1, "below"), (1, "below")], "requires_improvement", "1.33"),  # 4/3
        ([(2, "slightlyBelow"), (1, "significantlyBelow"), (1, "below")], "requires_improvement", "1.25"),  # 5/4
        ([(1, "below"), (1, "below")], "requires_improvement", "1.00"),  # 1.0 exactly
        ([(1, "below"), (1, "significantlyBelow")], "inadequate", "0.50"),
        ([(1, "significantlyBelow")] * 3, "inadequate", "0.00"),
    ],
)
def test_rating_bands(results, rating, score):
    proposal = propose_rating(results)
    assert proposal.rating == rating
    assert proposal.score == Decimal(score)
    assert str(proposal.score) == score


def test_rating_weights_with_half_weight_mean():
    # (0.5*3 + 0.25*1 + 0.25*1) / 1 = 2.00: Approaching target
    proposal = propose_rating([("0.5", "met"), (0.25, "below"), (Decimal("0.25"), "below")])
    assert (proposal.rating, proposal.score) == ("approaching", Decimal("2.00"))
    assert proposal.counted_weight == Decimal("1.00")
    assert proposal.total_weight == Decimal("1.00")


def test_rating_ignores_missing_and_other_results_when_enough_weight():
    # Exactly half the weight has a result: still rated, on the counted KPIs only.
    proposal = propose_rating([(1, "met"), (1, None)])
    assert (proposal.rating, proposal.score) == ("good", Decimal("3.00"))
    assert (proposal.counted_weight, proposal.total_weight) == (1, 2)
    proposal = propose_rating([(2, "below"), (1, "other"), (1, None)])
    assert (proposal.rating, proposal.score) == ("requires_improvement", Decimal("1.00"))


def test_rating_other_when_less_than_half_the_weight_has_a_result():
    proposal = propose_rating([(1, "met"), (3, None)])
    assert proposal.rating == "other"
    assert proposal.score is None
    assert (proposal.counted_weight, proposal.total_weight) == (1, 4)
    assert proposal.explanation == (
        "Other: only 1 of 2 KPIs has a result to score, weight 1 of 4, which is less than half the total weight."
    )
    assert propose_rating([(1, "other"), (2, "other"), (1, "met")]).rating == "other"


def test_rating_other_when_nothing_to_score():
    assert propose_rating([]).rating == "other"
    assert propose_rating([]).explanation == "Other: no KPIs were given."
    none = propose_rating([(1, None), (1, "other")])
    assert (none.rating, none.score) == ("other", None)
    assert none.explanation == "Other: none of the 2 KPIs has a result to score."
    zero_weight = propose_rating([(0, "met"), (0, "met")])  # counted weight zero
    assert (zero_weight.rating, zero_weight.counted_weight) == ("other", 0)


def test_rating_explanation_names_the_numbers():
    proposal = propose_rating([(1, "met"), (1, "met"), (1, "below"), (1, None)])
    assert proposal.rating == "approaching"
    assert proposal.explanation == (
        "Approaching target: weighted score 2.33 out of 3 (1.75 to 2.49) from 3 of 4 KPIs with a result, "
        "weight 3 of 4."
    )
    assert proposal.label == "Approaching target"


def test_rating_rejects_bad_input():
    with pytest.raises(ValueError, match="zero or more"):
        propose_rating([(-1, "met"), (2, "met")])
    with pytest.raises(ValueError, match="unknown classification"):
        propose_rating([(1, "excellent")])


# --- s.71 assessment due -----------------------------------------------------------------------------------


def test_assessment_due_12_months_after_start():
    start = date(2024, 4, 1)
    assert assessment_due(start=start, last_assessed=None, today=date(2025, 3, 31)) is None
    assert assessment_due(start=start, last_assessed=None, today=date(2025, 4, 1)) == (
        "12 months since the contract started on 1 April 2024 with no assessment (due 1 April 2025)"
    )
    assert assessment_due(start=start, last_assessed=None, today=date(2026, 1, 1)) is not None


def test_assessment_due_12_months_after_last_assessment():
    kwargs = dict(start=date(2020, 1, 1), last_assessed=date(2024, 6, 15))
    assert assessment_due(**kwargs, today=date(2025, 6, 14)) is None
    assert assessment_due(**kwargs, today=date(2025, 6, 15)) == (
        "12 months since the last assessment on 15 June 2024 (due 15 June 2025)"
    )
    # The last assessment, not the start, is the reference date.
    assert assessment_due(start=date(2020, 1, 1), last_assessed=date(2025, 1, 1), today=date(2025, 6, 1)) is None
    assert assessment_due(start=None, last_assessed=date(2024, 1, 10), today=date(2025, 1, 10)) is not None


def test_assessment_due_uses_calendar_months_from_29_february():
    start = date(2024, 2, 29)
    assert assessment_due(start=start, last_assessed=None, today=date(2025, 2, 27)) is None
    assert assessment_due(start=start, last_assessed=None, today=date(2025, 2, 28)) == (
        "12 months since the contract started on 29 February 2024 with no assessment (due 28 February 2025)"
    )


def test_assessment_not_due_without_dates():
    assert assessment_due(start=None, last_assessed=None, today=date(2025, 1, 1)) is None
    assert assessment_due(start=date(2025, 6, 1), last_assessed=None, today=date(2025, 1, 1)) is None  # future


def test_assessment_due_on_termination():
    reason = assessment_due(
        start=date(2024, 9, 1), last_assessed=None, today=date(2025, 3, 10), terminated_on=date(2025, 3, 1)
    )
    assert reason == "on termination: the contract was terminated on 1 March 2025 and not assessed since"
    expired = assessment_due(start=date(2024, 3, 1), last_assessed=None, today=date(2025, 4, 1),
                             terminated_on=date(2025, 3, 1), expired=True)
    assert expired == "on termination: the contract ended on 1 March 2025 and not assessed since"
    assert assessment_due(
        start=date(2020, 9, 1), last_assessed=date(2021, 1, 1), today=date(2025, 3, 10),
        terminated_on=date(2025, 3, 1), assessed_since_termination=True,
    ) is None


# --- s.74-75 change notices --------------------------------------------------------------------------------


def services(*value_changes, **kwargs):
    kwargs.setdefault("original_term_days", None)
    return change_notice_required(original_value=2_000_000, kind="services", value_changes=value_changes, **kwargs)


def test_change_exactly_10_percent_needs_no_notice():
    verdict = services(200_000)
    assert verdict.required is False
    assert verdict.value_change == Decimal(200000)
    assert verdict.value_pct == Decimal("10.00")
    assert verdict.value_limit_pct == Decimal(10)
    assert verdict.term_change_days == 0
    assert verdict.term_pct is None
    assert verdict.reasons == [
        ("No notice needed: the value changes by +£200,000 (+10.00% of 2,000,000), within the 10% limit for "
        "goods and services; the term is unchanged.")
    ]


def test_change_one_pound_over_10_percent_needs_a_notice():
    verdict = services(200_001)
    assert verdict.required is True
    assert verdict.value_change == Decimal(200001)
    assert verdict.value_pct == Decimal("10.00")  # rounded for display; the test uses the exact amount
    assert verdict.reasons == [
        ("The value changes by +£200,001 (+10.00% of 2,000,000), £1 more than the 10% limit for goods and "
        "services allows.")
    ]


def test_works_limit_is_15_percent():
    works = dict(original_value=2_000_000, original_term_days=None, kind="works")
    verdict = change_notice_required(**works, value_changes=[300_000])
    assert (verdict.required, verdict.value_pct, verdict.value_limit_pct) == (False, Decimal("15.00"), 15)
    assert change_notice_required(**works, value_changes=[300_001]).required is True
    # The same +15% on goods needs a notice.
    goods = change_notice_required(original_value=2_000_000, original_term_days=None, kind="goods",
                                   value_changes=[300_000])
    assert (goods.required, goods.value_limit_pct) == (True, 10)


def test_mixed_contracts_use_the_goods_and_services_limit():
    verdict = change_notice_required(original_value=1_000_000, original_term_days=None, kind="mixed",
                                     value_changes=[100_001])
    assert (verdict.required, verdict.value_limit_pct) == (True, 10)


def test_linked_changes_are_aggregated():
    assert services(120_000).required is False  # +6% alone
    verdict = services(120_000, 120_000)  # two linked +6% changes
    assert verdict.required is True
    assert verdict.value_change == Decimal(240000)
    assert verdict.value_pct == Decimal("12.00")
    assert verdict.reasons == [
        ("The value changes by +£240,000 (+12.00% of 2,000,000), £40,000 more than the 10% limit for goods and "
        "services allows.")
    ]


def test_negative_changes():
    assert services(-200_000).required is False
    verdict = services(-250_000)
    assert verdict.required is True
    assert verdict.value_change == Decimal(-250000)
    assert verdict.value_pct == Decimal("-12.50")
    assert verdict.reasons[0].startswith("The value changes by -£250,000 (-12.50% of 2,000,000), £50,000 more")
    # Linked changes that partly cancel: +300,000 and -150,000 is +150,000 (7.5%).
    offset = services(300_000, -150_000)
    assert (offset.required, offset.value_change, offset.value_pct) == (False, Decimal(150000), Decimal("7.50"))


def test_term_limit_is_10_percent():
    within = services(0, original_term_days=1000, term_changes=[100])
    assert (within.required, within.term_change_days, within.term_pct) == (False, 100, Decimal("10.00"))
    assert within.reasons == [
        ("No notice needed: the value changes by +£0 (+0.00% of 2,000,000), within the 10% limit for goods and "
        "services; the term changes by +100 days (+10.00% of 1,000 days), within the 10% limit.")
    ]
    over = services(0, original_term_days=1000, term_changes=[101])
    assert (over.required, over.term_change_days, over.term_pct) == (True, 101, Decimal("10.10"))
    assert over.reasons == ["The term changes by +101 days (+10.10% of 1,000 days), more than the 10% limit."]
    assert services(0, original_term_days=1000, term_changes=[-101]).required is True
    linked = services(0, original_term_days=1000, term_changes=[60, 50])
    assert (linked.required, linked.term_change_days, linked.term_pct) == (True, 110, Decimal("11.00"))


def test_value_and_term_both_over_give_two_reasons():
    verdict = services(250_000, original_term_days=365, term_changes=[40])
    assert verdict.required is True
    assert verdict.term_pct == Decimal("10.96")
    assert len(verdict.reasons) == 2


def test_term_test_needs_a_known_term():
    unknown = services(50_000, original_term_days=None, term_changes=[400])
    assert (unknown.required, unknown.term_change_days, unknown.term_pct) == (False, 400, None)
    assert unknown.reasons[0].endswith("the term changes by +400 days, not tested as the original term is unknown.")
    assert services(0, original_term_days=0, term_changes=[30]).term_pct is None


def test_change_accepts_strings_and_floats():
    verdict = change_notice_required(original_value="2000000.00", original_term_days=1000, kind="services",
                                     value_changes=[199_999.5, "0.50"], term_changes=["100"])
    assert (verdict.required, verdict.value_change, verdict.value_pct) == (False, Decimal("200000.00"),
                                                                           Decimal("10.00"))


@pytest.mark.parametrize("original", [0, -1, "0.00", None])
def test_change_needs_a_positive_original_value(original):
    with pytest.raises(ValueError, match="original_value"):
        change_notice_required(original_value=original, original_term_days=None, kind="services",
                               value_changes=[1])


def test_change_rejects_bad_input():
    with pytest.raises(ValueError, match="kind"):
        change_notice_required(original_value=1, original_term_days=None, kind="supplies", value_changes=[1])
    with pytest.raises(ValueError, match="whole days"):
        services(0, original_term_days=100, term_changes=[1.5])
    with pytest.raises(ValueError, match="original_term_days"):
        services(0, original_term_days=-5, term_changes=[1])
    with pytest.raises(ValueError, match="value change"):
        services("a lot")


# --- notice types ------------------------------------------------------------------------------------------


def test_notice_types():
    assert list(NOTICE_TYPES) == [f"UK{n}" for n in range(1, 13)]
    assert NOTICE_TYPES["UK1"] == "Pipeline"
    assert NOTICE_TYPES["UK2"] == "Preliminary market engagement"
    assert NOTICE_TYPES["UK6"] == "Contract award"
    assert NOTICE_TYPES["UK9"] == "Contract performance"
    assert NOTICE_TYPES["UK10"] == "Contract change"
    assert NOTICE_TYPES["UK12"] == "Procurement termination"
