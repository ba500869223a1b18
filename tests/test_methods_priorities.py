"""methods.priorities: Borda points for rankings (short ballots allowed) and mean weights, worked by hand."""

from fractions import Fraction

import pytest

from commissioner.methods.priorities import priority_scores


def test_borda_points_with_short_ballots():
    # 4 priorities: first 4 points, second 3, third 2, fourth 1, unranked 0.
    rows = priority_scores(["A", "B", "C", "D"], [["B", "A"], ["A"], ["C", "B", "A", "D"]], kind="rank")
    by = {r.priority: r for r in rows}
    assert by["A"].total == 3 + 4 + 2 == 9
    assert by["B"].total == 4 + 3 == 7
    assert by["C"].total == 4
    assert by["D"].total == 1
    assert [r.priority for r in rows] == ["A", "B", "C", "D"]
    assert by["A"].mean == Fraction(9, 3) and by["A"].first == 1 and by["A"].supporters == 3
    assert by["B"].first == 1 and by["C"].first == 1 and by["D"].first == 0
    assert [r.rank for r in rows] == [1, 2, 3, 4] and not any(r.tied for r in rows)


def test_ties_share_a_rank_and_keep_the_given_order():
    rows = priority_scores(["A", "B", "C"], [["A", "B"], ["B", "A"], ["C"]], kind="rank")
    assert [(r.priority, r.total, r.rank, r.tied) for r in rows] == [("A", 5, 1, True), ("B", 5, 1, True),
                                                                      ("C", 3, 3, False)]


def test_mean_weights():
    ballots = [{"A": 10, "B": 5}, {"A": 0, "B": 7, "C": 7}, {}]
    rows = priority_scores(["A", "B", "C"], ballots, kind="weight", max_weight=10)
    by = {r.priority: r for r in rows}
    assert by["B"].score == Fraction(12, 3) == 4
    assert by["A"].score == Fraction(10, 3)
    assert by["C"].score == Fraction(7, 3)
    assert [r.priority for r in rows] == ["B", "A", "C"]
    assert by["A"].supporters == 1 and by["B"].supporters == 2
    assert by["A"].first == 1 and by["B"].first == 1 and by["C"].first == 1  # B and C tie at 7 on ballot 2


@pytest.mark.parametrize("ballots, kind, message", [
    ([["A", "Z"]], "rank", "ballot 1: unknown priority Z"),
    ([["A"], ["B", "B"]], "rank", "ballot 2: a priority is ranked twice"),
    ([{"A": 11}], "weight", "ballot 1: weight 11 for A is not from 0 to 10"),
    ([{"A": -1}], "weight", "ballot 1: weight -1 for A is not from 0 to 10"),
    ([{"A": "x"}], "weight", "ballot 1: weight of A is not a number"),
])
def test_bad_ballots_are_refused_naming_the_ballot(ballots, kind, message):
    with pytest.raises(ValueError, match=message):
        priority_scores(["A", "B"], ballots, kind=kind, max_weight=10)


def test_no_ballots_scores_zero_and_unknown_kind_is_refused():
    rows = priority_scores(["A", "B"], [], kind="rank")
    assert [(r.total, r.mean, r.rank, r.tied) for r in rows] == [(0, 0, 1, True), (0, 0, 1, True)]
    with pytest.raises(ValueError, match="kind must be one of"):
        priority_scores(["A"], [], kind="approval")
