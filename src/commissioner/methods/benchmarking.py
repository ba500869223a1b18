"""Benchmarking councils: nearest neighbours, MAD distance, quartiles, percentile ranks, trends (pure functions).

No Django, no I/O. See docs/methods.md, "Benchmarking councils", for the rules, the choices and worked examples.

Benchmarking is statistics, not money: values are converted with `Decimal(str(x))` (so input may be int, float,
str or Decimal, and NaN, infinity, bool or junk raise ValueError) and then worked in `float`. Results are
unrounded floats; round only for display. `None` means "no value" (missing) everywhere.
"""

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from commissioner.methods.performance import to_decimal

SD_KINDS = ("population", "sample")
TRENDS = ("improving", "worsening", "no change", "not enough data")
TIE_DECIMALS = 12  # nearest-neighbour distances equal to this many decimal places are ties
QUARTILE_WORDS = {1: "top quartile", 2: "second quartile", 3: "third quartile", 4: "bottom quartile"}

# The methods as stated on every page that shows a percentile or a quartile.
PERCENTILE_METHOD = "percentile rank = (values below + half the values equal) / number of values"
QUARTILE_METHOD = "quartiles by linear interpolation (Hyndman and Fan type 7)"


def _number(value, name="value") -> float:
    return float(to_decimal(value, name))


def _present(values, name="value") -> list[float]:
    """The non-missing values as floats, in their order."""
    return [_number(v, name) for v in values if v is not None]


def _check_sd(sd) -> None:
    if sd not in SD_KINDS:
        raise ValueError(f"sd must be 'population' or 'sample', not {sd!r}")


def _mean_and_sd(present: list[float], sd: str) -> tuple[float, float]:
    """Mean and SD of the values present; SD 0.0 when they are all equal (including a single value)."""
    mean = math.fsum(present) / len(present)
    if min(present) == max(present):
        return mean, 0.0
    squares = math.fsum((x - mean) ** 2 for x in present)
    return mean, math.sqrt(squares / (len(present) if sd == "population" else len(present) - 1))


def zscores(values, *, sd="population") -> list[float | None]:
    """Standardise values across councils: (x - mean) / SD, in the same order.

    None stays None and is left out of the mean and SD. `sd` is "population" (divide by n) or "sample"
    (divide by n - 1). When every value present is equal (including a single value) each z-score is 0.0.
    """
    _check_sd(sd)
    numbers = [None if v is None else _number(v, "z-score value") for v in values]
    present = [x for x in numbers if x is not None]
    if not present:
        return [None] * len(numbers)
    mean, spread = _mean_and_sd(present, sd)
    return [None if x is None else (x - mean) / spread if spread else 0.0 for x in numbers]


class Neighbour(NamedTuple):
    """One organisation's distance from the target: rank 1 is the nearest; rebased 1.0 is the farthest."""

    key: object
    distance: float
    rebased: float
    rank: int


def _weights(weights, size: int) -> list[float]:
    if weights is None:
        return [1.0] * size
    weights = list(weights)
    if len(weights) != size:
        raise ValueError(f"weights has {len(weights)} entries but there are {size} indicators")
    result = [_number(w, "weight") for w in weights]
    for w in result:
        if w < 0:
            raise ValueError(f"weights must be zero or more, not {w:g}")
    return result


def nearest_neighbours(data: dict, target, *, weights=None, sd="population", limit=None) -> list[Neighbour]:
    """The other organisations in `data`, nearest to `target` first (CIPFA-style nearest neighbours).

    `data` maps every organisation key to its indicator vector (all the same length; None = missing). Each
    indicator is standardised to z-scores across all organisations in `data` (missing values left out; an
    indicator with no spread contributes 0). The distance is sqrt(sum(w_i * (z_target_i - z_other_i)^2)) over
    the indicators where both have a value; a pair with no such indicator is left out. Rank is ascending
    distance (distances equal to 12 decimal places share the better rank and keep the order of `data`);
    rebased = distance / the largest distance of all neighbours (farthest = 1.0; 0.0 if every distance is 0).
    `limit` keeps the first `limit` neighbours after ranking and rebasing.
    """
    _check_sd(sd)
    if target not in data:
        raise ValueError(f"target {target!r} is not in data")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a whole number of zero or more, not {limit!r}")
    keys = list(data)
    vectors = [list(data[key]) for key in keys]
    size = len(vectors[0])
    for key, vector in zip(keys, vectors, strict=True):
        if len(vector) != size:
            raise ValueError(f"{key!r} has {len(vector)} indicators but {keys[0]!r} has {size}")
    w = _weights(weights, size)
    numbers = [[None if v is None else _number(v, f"{key!r} indicator") for v in vector]
               for key, vector in zip(keys, vectors, strict=True)]
    spreads = []
    for i in range(size):
        present = [row[i] for row in numbers if row[i] is not None]
        spreads.append(_mean_and_sd(present, sd)[1] if present else 0.0)
    rows = dict(zip(keys, numbers, strict=True))

    # z_target - z_other = (x_target - x_other) / SD: the same number, without the rounding noise of
    # subtracting the mean, so equal differences give exactly equal distances.
    mine = rows[target]
    pairs = []
    for key in keys:
        if key == target:
            continue
        other = rows[key]
        common = [i for i in range(size) if mine[i] is not None and other[i] is not None]
        if not common:
            continue
        squares = (w[i] * ((mine[i] - other[i]) / spreads[i]) ** 2 for i in common if spreads[i])
        pairs.append((key, math.sqrt(math.fsum(squares))))
    pairs.sort(key=lambda pair: round(pair[1], TIE_DECIMALS))  # stable: ties keep the order of `data`
    farthest = max((d for _, d in pairs), default=0.0)
    neighbours = []
    for index, (key, distance) in enumerate(pairs):
        tied = neighbours and round(neighbours[-1].distance, TIE_DECIMALS) == round(distance, TIE_DECIMALS)
        rank = neighbours[-1].rank if tied else index + 1
        neighbours.append(Neighbour(key, distance, distance / farthest if farthest else 0.0, rank))
    return neighbours if limit is None else neighbours[:limit]


def _type7(sorted_numbers: list[float], p: float) -> float:
    """Hyndman and Fan type 7 (numpy's default 'linear'): interpolate at h = (n - 1) * p."""
    h = (len(sorted_numbers) - 1) * p
    lo = math.floor(h)
    if lo + 1 >= len(sorted_numbers):
        return sorted_numbers[lo]
    return sorted_numbers[lo] + (h - lo) * (sorted_numbers[lo + 1] - sorted_numbers[lo])


def median(values) -> float | None:
    """The ordinary median (the mean of the two middle values for an even count); None entries are ignored,
    no values gives None."""
    numbers = sorted(_present(values, "median value"))
    return _type7(numbers, 0.5) if numbers else None


def mad(values) -> float | None:
    """Median absolute deviation, unscaled: median(|x - median(x)|). None entries ignored; no values: None."""
    numbers = _present(values, "MAD value")
    middle = median(numbers)
    return None if middle is None else median(abs(x - middle) for x in numbers)


def mad_distance(value, *, median, mad, higher_is_better=True) -> float | None:
    """How many MADs `value` is from the median, signed by polarity: positive = better, negative = worse.

    (value - median) / mad, negated when lower is better. None when the value, median or MAD is missing or
    the MAD is 0 (no spread to compare with).
    """
    if value is None or median is None or mad is None:
        return None
    value, middle, spread = _number(value, "value"), _number(median, "median"), _number(mad, "mad")
    if spread < 0:
        raise ValueError(f"mad must be zero or more, not {spread:g}")
    if spread == 0:
        return None
    distance = (value - middle) / spread
    return distance if higher_is_better else -distance


def quartiles(values) -> tuple[float | None, float | None, float | None]:
    """(Q1, median, Q3) by linear interpolation (Hyndman and Fan type 7, numpy's default). None entries are
    ignored; no values gives (None, None, None)."""
    numbers = sorted(_present(values, "quartile value"))
    if not numbers:
        return None, None, None
    return _type7(numbers, 0.25), _type7(numbers, 0.5), _type7(numbers, 0.75)


def percentile_rank(value, values) -> float:
    """(values below + half the values equal) / number of values x 100, ignoring None entries.

    By size, not polarity (see `position`). ValueError when `value` is missing or there are no values.
    """
    if value is None:
        raise ValueError("percentile_rank needs a value, not None")
    value = _number(value)
    numbers = _present(values, "percentile value")
    if not numbers:
        raise ValueError("percentile_rank needs at least one value to compare with")
    below = sum(1 for x in numbers if x < value)
    equal = sum(1 for x in numbers if x == value)
    return (below + 0.5 * equal) / len(numbers) * 100


class Position(NamedTuple):
    """Where one value stands among a group of values, by polarity (rank 1, percentile 100, quartile 1 = best)."""

    value: float | None
    n: int  # values compared with (not missing)
    missing: int  # None entries in the group
    rank: int | None
    percentile: float | None
    quartile: int | None
    median: float | None
    mad: float | None
    mad_distance: float | None


def position(value, values, *, higher_is_better=True) -> Position:
    """Rank, percentile rank, quartile and MAD distance of `value` among `values`, by polarity.

    `values` is the whole comparison group, normally including the organisation's own value (it is not added).
    None entries are left out of everything and counted in `missing`. Rank is 1 + the number of values strictly
    better (ties share the best rank). Percentile is the percentile rank with "below" meaning worse (100 =
    best). Quartile: for higher-is-better 1 if value >= Q3, 2 if >= median, 3 if >= Q1, else 4; for
    lower-is-better 1 if value <= Q1, 2 if <= median, 3 if <= Q3, else 4. A missing value, or no values to
    compare with, gives rank, percentile and quartile None.
    """
    values = list(values)
    numbers = _present(values, "position value")
    missing = len(values) - len(numbers)
    middle, spread = median(numbers), mad(numbers)
    if value is None:
        return Position(None, len(numbers), missing, None, None, None, middle, spread, None)
    value = _number(value)
    distance = mad_distance(value, median=middle, mad=spread, higher_is_better=higher_is_better)
    if not numbers:
        return Position(value, 0, missing, None, None, None, None, None, None)
    sign = 1 if higher_is_better else -1
    better = sum(1 for x in numbers if sign * x > sign * value)
    rank = better + 1
    percentile = percentile_rank(sign * value, [sign * x for x in numbers])
    q1, q2, q3 = quartiles(numbers)
    if higher_is_better:
        quartile = 1 if value >= q3 else 2 if value >= q2 else 3 if value >= q1 else 4
    else:
        quartile = 1 if value <= q1 else 2 if value <= q2 else 3 if value <= q3 else 4
    return Position(value, len(numbers), missing, rank, percentile, quartile, middle, spread, distance)


def trend(series, *, higher_is_better=True) -> str:
    """"improving", "worsening", "no change" or "not enough data" for a time-ordered series.

    `series` is a list of (period label, value or None), earliest first; labels are not read. The latest
    value present is compared with the earliest value present; fewer than two values present is "not enough
    data". Equal values are "no change" (no tolerance).
    """
    present = []
    for item in series:
        try:
            _label, value = item
        except (TypeError, ValueError) as exc:
            raise ValueError(f"each series entry must be a (period, value) pair, not {item!r}") from exc
        if value is not None:
            present.append(_number(value, "series value"))
    if len(present) < 2:
        return "not enough data"
    first, last = present[0], present[-1]
    if last == first:
        return "no change"
    return "improving" if (last > first) == bool(higher_is_better) else "worsening"


def _one_dp(number: float) -> Decimal:
    return Decimal(repr(number)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def sentence(*, name, position, peer_label, higher_is_better) -> str:
    """Plain English for a position, e.g. "Trafford is in the top quartile of its 15 nearest neighbours, 1.4
    MADs better than their median."

    `peer_label` is put in as given after "of" (e.g. "its 15 nearest neighbours"). The MAD distance is
    worked out again from the position's value, median and MAD with `higher_is_better`, which must match the
    polarity the position was made with (ValueError if it plainly does not). MADs are rounded half-up to 1
    dp; 0.0 reads "at their median". No MAD (or 0) reads "(no spread to compare with)".
    """
    if position.value is None:
        return f"{name} has no value for this period."
    if position.quartile is None:
        return f"{name} has no values from {peer_label} to compare with."
    where = f"{name} is in the {QUARTILE_WORDS[position.quartile]} of {peer_label}"
    distance = mad_distance(position.value, median=position.median, mad=position.mad,
                            higher_is_better=higher_is_better)
    if distance is None:
        return f"{where} (no spread to compare with)."
    if position.mad_distance is not None and position.mad_distance != distance and distance != 0:
        raise ValueError("higher_is_better does not match the polarity the position was worked out with")
    rounded = _one_dp(abs(distance))
    if rounded == 0:
        return f"{where}, at their median."
    return f"{where}, {rounded} MADs {'better' if distance > 0 else 'worse'} than their median."
