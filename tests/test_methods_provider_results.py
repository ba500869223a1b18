"""Provider results: pure functions, with values checked by hand."""

from decimal import Decimal

import pytest

from commissioner.methods import provider_results as pr


def test_share_met_counts_every_current_return_once():
    # 6 met of 6 + 2 + 1 + 1 = 10 returns.
    counts = {"met": 6, "slightly_below": 2, "below": 1, "significantly_below": 1}
    assert pr.share_met(counts) == 0.6
    # The classification codes of the returns are accepted too: 3 of 4.
    assert pr.share_met({"met": 3, "slightlyBelow": 1}) == 0.75
    assert pr.share_met({"met": 0, "below": 4}) == 0.0  # none met is 0, a real figure


def test_no_returns_is_missing_not_zero():
    assert pr.share_met({}) is None
    assert pr.share_met({"met": 0, "below": 0}) is None
    assert pr.results_score({}) is None


def test_results_score_uses_the_procurement_act_points():
    # (3 x 2 + 2 x 1 + 1 x 1 + 0 x 1) / 5 = 9 / 5 = 1.8
    assert pr.results_score({"met": 2, "slightly_below": 1, "below": 1, "significantly_below": 1}) == 1.8
    assert pr.results_score({"met": 4}) == 3.0


@pytest.mark.parametrize("bad", [{"met": -1}, {"met": 1.5}, {"met": True}, {"bogus": 1}])
def test_bad_counts_are_refused(bad):
    with pytest.raises(ValueError):
        pr.share_met(bad)


def test_rating_scores():
    assert [pr.rating_score(r) for r in ("good", "approaching", "requires_improvement", "inadequate")] == [3, 2, 1, 0]
    assert pr.rating_score("other") is None
    assert pr.rating_score(None) is None
    with pytest.raises(ValueError):
        pr.rating_score("excellent")


def test_ratings_spread_lists_every_rating_in_order():
    spread = pr.ratings_spread(["good", "good", "inadequate", "", None, "other"])
    assert spread == {"good": 2, "approaching": 0, "requires_improvement": 0, "inadequate": 1, "other": 1}
    assert list(spread) == ["good", "approaching", "requires_improvement", "inadequate", "other"]
    assert pr.ratings_spread({"approaching": 3}) == {"good": 0, "approaching": 3, "requires_improvement": 0,
                                                     "inadequate": 0, "other": 0}
    with pytest.raises(ValueError):
        pr.ratings_spread(["outstanding"])


def test_mean_rating_score_leaves_other_out():
    # good 3, good 3, requires improvement 1: 7 / 3; "other" is not scored.
    assert pr.mean_rating_score(["good", "good", "requires_improvement", "other"]) == pytest.approx(7 / 3)
    assert pr.mean_rating_score(["other"]) is None


def test_rank_shares_ties_and_leaves_missing_out():
    items = [("a", 0.5), ("b", 0.9), ("c", None), ("d", 0.5), ("e", 0.2)]
    ranking = pr.rank(items)
    assert ranking.ranked == [("b", 1), ("a", 2), ("d", 2), ("e", 4)]
    assert ranking.missing == [("c", None)]


def test_rank_lower_is_better_for_unit_costs():
    costs = [("x", Decimal("24.00")), ("y", Decimal("21.50")), ("z", Decimal("24.00")), ("w", None)]
    ranking = pr.rank(costs, higher_is_better=False)
    assert ranking.ranked == [("y", 1), ("x", 2), ("z", 2)]
    assert [item for item, _ in ranking.missing] == ["w"]


def test_rank_refuses_text():
    with pytest.raises(ValueError):
        pr.rank([("a", "0.5")])


def test_percentile_by_share_met_matches_the_methods_example():
    # methods.md section 5: 60 among 10, 20, ..., 80 is (5 + 0.5) / 8 = 68.75%.
    assert pr.percentile(60, [10, 20, 30, 40, 50, 60, 70, 80]) == 68.75


def test_percentiles_of_many_values_at_once_match_one_at_a_time():
    values = [0.5, None, 0.9, 0.5, 0.2, 1.0]
    present = [v for v in values if v is not None]
    assert pr.percentiles(values) == [None if v is None else pr.percentile(v, present) for v in values]
    # 0.5 among 0.2, 0.5, 0.5, 0.9, 1.0: (1 + 0.5 x 2) / 5 = 40%.
    assert pr.percentiles(values)[0] == 40.0
    assert pr.percentiles([None]) == [None]


def test_median_keeps_pence_and_ignores_missing():
    assert pr.median([Decimal("21.50"), None, Decimal("24.00"), Decimal("22.75")]) == Decimal("22.75")
    assert pr.median([Decimal("21.50"), Decimal("24.00")]) == Decimal("22.75")
    assert pr.median([1.0, 2.0, 4.0, 10.0]) == 3.0
    assert pr.median([None]) is None


def test_main_unit_is_the_most_common():
    assert pr.main_unit({"£ per hour": 5, "£ per journey": 2}) == "£ per hour"
    assert pr.main_unit({"£ per day": 2, "£ per hour": 2}) == "£ per day"  # a tie: first by name
    assert pr.main_unit({}) is None


def test_percent_rounds_half_up():
    assert pr.percent(0.8125) == 81.3  # 81.25 rounds up
    assert pr.percent(2 / 3) == 66.7
    assert pr.percent(None) is None
