"""Benchmarking councils: z-scores, nearest neighbours, MAD distance, quartiles, percentile ranks, trend, sentence.

Worked examples from the design (section 5 "Benchmarking councils"); no database needed.
"""

import math
from decimal import Decimal

import pytest

from commissioner.methods.benchmarking import (
    PERCENTILE_METHOD,
    QUARTILE_METHOD,
    Neighbour,
    Position,
    mad,
    mad_distance,
    median,
    nearest_neighbours,
    percentile_rank,
    position,
    quartiles,
    sentence,
    trend,
    zscores,
)

TEN_TO_EIGHTY = [10, 20, 30, 40, 50, 60, 70, 80]
THREE = {"first": [100, 10], "second": [200, 20], "third": [300, 60]}


# --- zscores -----------------------------------------------------------------------------------------------


def test_zscores_population_and_sample():
    assert [round(z, 4) for z in zscores([100, 200, 300])] == [-1.2247, 0.0, 1.2247]
    assert [round(z, 4) for z in zscores([100, 200, 300], sd="sample")] == [-1.0, 0.0, 1.0]
    assert [round(z, 4) for z in zscores([10, 20, 60])] == [-0.9258, -0.4629, 1.3887]


def test_zscores_missing_values_stay_missing_and_are_left_out():
    assert zscores([100, None, 200, 300]) == pytest.approx([-1.2247449, None, 0.0, 1.2247449])
    assert zscores([None, None]) == [None, None]
    assert zscores([]) == []


def test_zscores_all_equal_are_zero():
    assert zscores([0.1, 0.1, 0.1]) == [0.0, 0.0, 0.0]
    assert zscores([5, None, 5], sd="sample") == [0.0, None, 0.0]
    assert zscores([7], sd="sample") == [0.0]  # one value: no spread, not a division by zero


def test_zscores_accept_decimal_and_str():
    assert zscores([Decimal(100), "200", 300.0]) == pytest.approx([-1.2247449, 0.0, 1.2247449])


@pytest.mark.parametrize("sd", ["pop", "Population", None])
def test_zscores_unknown_sd(sd):
    with pytest.raises(ValueError, match="sd must be"):
        zscores([1, 2, 3], sd=sd)


@pytest.mark.parametrize("bad", ["abc", float("nan"), float("inf"), True])
def test_zscores_reject_non_numbers(bad):
    with pytest.raises(ValueError):
        zscores([1, bad, 3])


# --- nearest_neighbours ------------------------------------------------------------------------------------


def rounded(neighbours):
    return [(n.key, round(n.distance, 4), round(n.rebased, 4), n.rank) for n in neighbours]


def test_nearest_neighbours_worked_example_population_sd():
    assert rounded(nearest_neighbours(THREE, "first")) == [
        ("second", 1.3093, 0.3885, 1),
        ("third", 3.3700, 1.0, 2),
    ]


def test_nearest_neighbours_worked_example_sample_sd():
    assert rounded(nearest_neighbours(THREE, "first", sd="sample")) == [
        ("second", 1.0690, 0.3885, 1),
        ("third", 2.7516, 1.0, 2),
    ]


def test_nearest_neighbours_returns_named_tuples_and_excludes_target():
    result = nearest_neighbours(THREE, "second")
    assert all(isinstance(n, Neighbour) for n in result)
    assert "second" not in [n.key for n in result]
    assert result[-1].rebased == 1.0
    assert Neighbour._fields == ("key", "distance", "rebased", "rank")


def test_nearest_neighbours_weights():
    # Weight 4 on the first indicator: sqrt(4 * 1.5 + 0.2143) and sqrt(4 * 6 + 5.3571).
    result = nearest_neighbours(THREE, "first", weights=[4, 1])
    assert [round(n.distance, 4) for n in result] == [2.4928, 5.4182]
    assert nearest_neighbours(THREE, "first", weights=[1, 1]) == nearest_neighbours(THREE, "first")
    # Zero weight ignores an indicator.
    only_first = nearest_neighbours(THREE, "first", weights=[1, 0])
    assert [round(n.distance, 4) for n in only_first] == [1.2247, 2.4495]
    assert [round(n.rebased, 4) for n in only_first] == [0.5, 1.0]


def test_nearest_neighbours_ties_share_rank_and_keep_data_order():
    # Both indicators hold the same values, so they have the same SD: a, b, c and d are all 1 SD away.
    data = {"t": [0, 0], "a": [1, 0], "b": [0, 1], "c": [-1, 0], "d": [0, -1], "e": [2, 2]}
    result = nearest_neighbours(data, "t")
    assert [(n.key, n.rank) for n in result] == [("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 5)]
    assert len({n.distance for n in result[:4]}) == 1


def test_nearest_neighbours_limit_after_rebasing():
    data = {"t": [0], "a": [1], "b": [2], "c": [4]}
    result = nearest_neighbours(data, "t", limit=2)
    assert [n.key for n in result] == ["a", "b"]
    assert [n.rebased for n in result] == [0.25, 0.5]  # rebased against the farthest of all, c
    assert nearest_neighbours(data, "t", limit=0) == []
    assert len(nearest_neighbours(data, "t", limit=10)) == 3


def test_nearest_neighbours_missing_indicator_skipped_for_that_pair():
    data = {"first": [100, 10], "second": [200, None], "third": [300, 60]}
    result = {n.key: n for n in nearest_neighbours(data, "first")}
    # Indicator 2 z-scores over first and third only: -1 and +1. The pair first-second uses indicator 1 only.
    assert round(result["second"].distance, 4) == 1.2247
    assert round(result["third"].distance, 4) == round(math.sqrt(2.4495**2 + 2**2), 4)


def test_nearest_neighbours_drops_pairs_with_nothing_in_common():
    data = {"t": [1, None], "a": [None, 5], "b": [3, 6], "c": [2, 7]}
    assert [n.key for n in nearest_neighbours(data, "t")] == ["c", "b"]
    assert nearest_neighbours({"t": [None], "a": [1]}, "t") == []


def test_nearest_neighbours_all_identical_rebase_to_zero():
    result = nearest_neighbours({"t": [1, 2], "a": [1, 2], "b": [1, 2]}, "t")
    assert [(n.distance, n.rebased, n.rank) for n in result] == [(0.0, 0.0, 1), (0.0, 0.0, 1)]


def test_nearest_neighbours_only_target():
    assert nearest_neighbours({"t": [1, 2]}, "t") == []


def test_nearest_neighbours_mismatched_lengths():
    with pytest.raises(ValueError, match="indicators"):
        nearest_neighbours({"a": [1, 2], "b": [1, 2, 3]}, "a")


@pytest.mark.parametrize("weights", [[1, -1], [-0.5, 1]])
def test_nearest_neighbours_negative_weights(weights):
    with pytest.raises(ValueError, match="zero or more"):
        nearest_neighbours(THREE, "first", weights=weights)


def test_nearest_neighbours_wrong_number_of_weights():
    with pytest.raises(ValueError, match="weights has 3 entries"):
        nearest_neighbours(THREE, "first", weights=[1, 1, 1])


def test_nearest_neighbours_unknown_sd_target_and_limit():
    with pytest.raises(ValueError, match="sd must be"):
        nearest_neighbours(THREE, "first", sd="unbiased")
    with pytest.raises(ValueError, match="not in data"):
        nearest_neighbours(THREE, "fourth")
    for limit in (-1, 1.5, True):
        with pytest.raises(ValueError, match="limit"):
            nearest_neighbours(THREE, "first", limit=limit)


# --- median, MAD and MAD distance --------------------------------------------------------------------------


def test_median_and_mad():
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert median([None, 5, None]) == 5
    assert median([]) is None
    assert median([None]) is None
    # 1, 1, 2, 2, 4, 6, 9: median 2; deviations 1, 1, 0, 0, 2, 4, 7 -> MAD 1.
    assert mad([1, 1, 2, 2, 4, 6, 9]) == 1
    assert mad([10, 20, None, 30, 40]) == 10
    assert mad([5, 5, 5]) == 0
    assert mad([]) is None


def test_mad_distance_enfield_example():
    assert round(mad_distance(7.7, median=7.6, mad=0.3), 3) == 0.333
    assert round(mad_distance(7.7, median=7.6, mad=0.3, higher_is_better=False), 3) == -0.333
    assert round(mad_distance(Decimal("7.5"), median="7.6", mad=0.3), 3) == -0.333


def test_mad_distance_none_without_spread_or_value():
    assert mad_distance(7.7, median=7.6, mad=0) is None
    assert mad_distance(7.7, median=7.6, mad=None) is None
    assert mad_distance(None, median=7.6, mad=0.3) is None
    assert mad_distance(7.7, median=None, mad=0.3) is None
    with pytest.raises(ValueError, match="mad must be zero or more"):
        mad_distance(7.7, median=7.6, mad=-0.3)


# --- quartiles and percentile ranks ------------------------------------------------------------------------


def test_quartiles_linear_method():
    assert quartiles(TEN_TO_EIGHTY) == (27.5, 45, 62.5)
    assert quartiles(reversed(TEN_TO_EIGHTY)) == (27.5, 45, 62.5)  # order does not matter
    assert quartiles([1, 2, 3, 4, 5]) == (2, 3, 4)
    assert quartiles([7]) == (7, 7, 7)
    assert quartiles([10, None, 20]) == (12.5, 15, 17.5)
    assert quartiles([]) == (None, None, None)


def test_percentile_rank_worked_example():
    assert percentile_rank(60, TEN_TO_EIGHTY) == 68.75  # (5 + 0.5) / 8
    assert percentile_rank(10, TEN_TO_EIGHTY) == 6.25
    assert percentile_rank(85, TEN_TO_EIGHTY) == 100
    assert percentile_rank(5, TEN_TO_EIGHTY) == 0


def test_percentile_rank_ties_and_missing():
    assert percentile_rank(2, [1, 2, 2, 3]) == 50  # (1 + 0.5 x 2) / 4
    assert percentile_rank(60, [*TEN_TO_EIGHTY, None, None]) == 68.75
    with pytest.raises(ValueError, match="at least one value"):
        percentile_rank(60, [None])
    with pytest.raises(ValueError, match="needs a value"):
        percentile_rank(None, TEN_TO_EIGHTY)


def test_method_statements():
    assert PERCENTILE_METHOD == "percentile rank = (values below + half the values equal) / number of values"
    assert QUARTILE_METHOD == "quartiles by linear interpolation (Hyndman and Fan type 7)"


# --- position ----------------------------------------------------------------------------------------------


def test_position_higher_is_better():
    p = position(60, TEN_TO_EIGHTY)
    assert p == Position(value=60, n=8, missing=0, rank=3, percentile=68.75, quartile=2, median=45, mad=20,
                         mad_distance=0.75)


def test_position_lower_is_better_mirrors():
    p = position(60, TEN_TO_EIGHTY, higher_is_better=False)
    assert (p.rank, p.percentile, p.quartile, p.mad_distance) == (6, 31.25, 3, -0.75)
    best = position(10, TEN_TO_EIGHTY, higher_is_better=False)
    assert (best.rank, best.percentile, best.quartile) == (1, 93.75, 1)


@pytest.mark.parametrize(
    ("value", "higher", "lower"),
    [
        (80, 1, 4),
        (62.5, 1, 3),  # exactly Q3
        (62.4, 2, 3),
        (45, 2, 2),  # exactly the median
        (44.9, 3, 2),
        (27.5, 3, 1),  # exactly Q1
        (27.4, 4, 1),
        (10, 4, 1),
    ],
)
def test_position_quartile_boundaries(value, higher, lower):
    assert position(value, TEN_TO_EIGHTY).quartile == higher
    assert position(value, TEN_TO_EIGHTY, higher_is_better=False).quartile == lower


def test_position_ties_share_best_rank():
    values = [5, 7, 7, 7, 9]
    assert position(7, values).rank == 2
    assert position(7, values, higher_is_better=False).rank == 2
    assert position(9, values).rank == 1
    assert position(5, values).rank == 5
    assert position(5, values, higher_is_better=False).rank == 1


def test_position_missing_values_counted_and_left_out():
    p = position(60, [None, *TEN_TO_EIGHTY, None])
    assert (p.n, p.missing, p.rank, p.percentile, p.quartile, p.median) == (8, 2, 3, 68.75, 2, 45)


def test_position_missing_value():
    p = position(None, [None, *TEN_TO_EIGHTY])
    assert p == Position(value=None, n=8, missing=1, rank=None, percentile=None, quartile=None, median=45,
                         mad=20, mad_distance=None)


def test_position_no_values_to_compare_with():
    p = position(5, [None, None])
    assert (p.value, p.n, p.missing, p.rank, p.percentile, p.quartile, p.median) == (5, 0, 2, None, None, None,
                                                                                     None)


def test_position_no_spread():
    p = position(3, [3, 3, 3])
    assert (p.rank, p.percentile, p.quartile, p.mad, p.mad_distance) == (1, 50, 1, 0, None)


# --- trend -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series", "higher_is_better", "expected"),
    [
        ([("2022", 5), ("2023", 6), ("2024", 7)], True, "improving"),
        ([("2022", 5), ("2023", 6), ("2024", 7)], False, "worsening"),
        ([("2022", 7), ("2023", 4), ("2024", 6)], True, "worsening"),
        ([("2022", 7), ("2023", 4), ("2024", 6)], False, "improving"),
        ([("2022", 5), ("2023", 9), ("2024", 5)], True, "no change"),
        ([("2022", None), ("2023", 5), ("2024", 6), ("2025", None)], True, "improving"),  # first/last present
        ([("2022", 5), ("2023", None)], True, "not enough data"),
        ([("2022", 5)], True, "not enough data"),
        ([], True, "not enough data"),
    ],
)
def test_trend(series, higher_is_better, expected):
    assert trend(series, higher_is_better=higher_is_better) == expected


def test_trend_defaults_to_higher_is_better_and_checks_pairs():
    assert trend([("Q1", "1.5"), ("Q2", Decimal(2))]) == "improving"
    with pytest.raises(ValueError, match="pair"):
        trend([5, 6])


# --- sentence ----------------------------------------------------------------------------------------------

PEERS = "its 15 nearest neighbours"


def make_position(value, *, quartile=1, median=10.0, mad=1.0, higher_is_better=True):
    distance = mad_distance(value, median=median, mad=mad, higher_is_better=higher_is_better)
    return Position(value, 16, 0, 1, 90.0, quartile, median, mad, distance)


def test_sentence_better():
    p = make_position(11.4)
    assert sentence(name="Trafford", position=p, peer_label=PEERS, higher_is_better=True) == (
        "Trafford is in the top quartile of its 15 nearest neighbours, 1.4 MADs better than their median."
    )


def test_sentence_lower_is_better_polarity():
    p = make_position(8.6, higher_is_better=False)
    assert sentence(name="Trafford", position=p, peer_label=PEERS, higher_is_better=False) == (
        "Trafford is in the top quartile of its 15 nearest neighbours, 1.4 MADs better than their median."
    )
    worse = make_position(11.4, quartile=4, higher_is_better=False)
    assert sentence(name="Trafford", position=worse, peer_label=PEERS, higher_is_better=False) == (
        "Trafford is in the bottom quartile of its 15 nearest neighbours, 1.4 MADs worse than their median."
    )


@pytest.mark.parametrize(("quartile", "words"), [(1, "top"), (2, "second"), (3, "third"), (4, "bottom")])
def test_sentence_quartile_words(quartile, words):
    p = make_position(9.0, quartile=quartile)
    assert sentence(name="Bury", position=p, peer_label="all metropolitan districts", higher_is_better=True) == (
        f"Bury is in the {words} quartile of all metropolitan districts, 1.0 MADs worse than their median."
    )


def test_sentence_at_median_and_rounding():
    p = make_position(10.0, quartile=2)
    assert sentence(name="Trafford", position=p, peer_label=PEERS, higher_is_better=True) == (
        "Trafford is in the second quartile of its 15 nearest neighbours, at their median."
    )
    tiny = make_position(10.04, quartile=2)  # rounds to 0.0
    assert sentence(name="Trafford", position=tiny, peer_label=PEERS, higher_is_better=True).endswith(
        ", at their median.")
    half = make_position(10.25, quartile=2, mad=0.5)  # exactly 0.5 MADs
    assert "0.5 MADs better" in sentence(name="Trafford", position=half, peer_label=PEERS, higher_is_better=True)
    half_up = make_position(10.25, quartile=2, mad=1.0)  # 0.25 -> 0.3 (half-up)
    assert "0.3 MADs better" in sentence(name="Trafford", position=half_up, peer_label=PEERS,
                                         higher_is_better=True)


@pytest.mark.parametrize("spread", [0.0, None])
def test_sentence_no_spread(spread):
    p = make_position(12, mad=spread)
    assert sentence(name="Trafford", position=p, peer_label=PEERS, higher_is_better=True) == (
        "Trafford is in the top quartile of its 15 nearest neighbours (no spread to compare with)."
    )


def test_sentence_missing_value():
    p = position(None, TEN_TO_EIGHTY)
    assert sentence(name="Trafford", position=p, peer_label=PEERS, higher_is_better=True) == (
        "Trafford has no value for this period."
    )


def test_sentence_no_values_to_compare_with():
    p = position(5, [None])
    assert sentence(name="Trafford", position=p, peer_label=PEERS, higher_is_better=True) == (
        "Trafford has no values from its 15 nearest neighbours to compare with."
    )


def test_sentence_from_position():
    p = position(60, TEN_TO_EIGHTY)
    assert sentence(name="Trafford", position=p, peer_label="8 councils", higher_is_better=True) == (
        "Trafford is in the second quartile of 8 councils, 0.8 MADs better than their median."
    )


def test_sentence_polarity_must_match_position():
    p = position(60, TEN_TO_EIGHTY, higher_is_better=True)
    with pytest.raises(ValueError, match="polarity"):
        sentence(name="Trafford", position=p, peer_label=PEERS, higher_is_better=False)
