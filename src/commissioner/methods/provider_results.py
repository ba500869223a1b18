"""Provider results compared across councils and within a service category: pure functions, no Django.

- Share met: current KPI returns classified "met" / all current returns (met, slightly below, below,
  significantly below). No returns: None (missing), never 0.
- Results score: the mean of the points of the Procurement Act proposal (met 3, slightly below 2,
  below 1, significantly below 0), out of 3. No returns: None.
- Rating score: good 3, approaching 2, requires improvement 1, inadequate 0; "other" and none: None.
- Ranks: standard competition ranking ("1, 2, 2, 4"): 1 + the number of strictly better values, so
  ties share the best rank. Missing values are not ranked; they are returned apart and counted.
- Unit costs: lower is better; the median of the contracts' latest unit costs (linear method).
"""

from bisect import bisect_left, bisect_right
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from commissioner.methods import benchmarking as bm
from commissioner.methods.procurement import RATING_POINTS, RATINGS

CLASSIFICATION_KEYS = {"met": "met", "slightlyBelow": "slightly_below", "below": "below",
                       "significantlyBelow": "significantly_below"}
RATING_SCORES = {"good": 3, "approaching": 2, "requires_improvement": 1, "inadequate": 0}
RANKING_METHOD = ("providers ranked by the share of their current KPI returns that met target, highest first; "
                  "standard competition ranking (ties share the best rank: 1, 2, 2, 4); providers with no "
                  "current returns are listed as missing and not ranked")
SHARE_METHOD = "share met = current returns classified met / all current returns (corrected returns count once)"
UNIT_COST_METHOD = ("unit cost = the latest current value of each contract's KPI in pounds (unit starting with £); "
                    "a provider's figure is the median of its contracts' (linear method); lower is better; only "
                    "the category's most common unit (among its public contracts, nationally) is compared")
PERCENTILE_METHOD = bm.PERCENTILE_METHOD + " (by share met: 100 = best)"


def _count(counts, key) -> int:
    value = counts.get(key, 0) or 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"the count of {key} must be a whole number of 0 or more, not {value!r}")
    return value


def _normalise(counts) -> dict:
    """Counts keyed met, slightly_below, below, significantly_below (the classification codes accepted too)."""
    out = {k: 0 for k in CLASSIFICATION_KEYS.values()}
    for key in counts:
        name = CLASSIFICATION_KEYS.get(key, key)
        if name not in out:
            raise ValueError(f"unknown classification {key!r}: use {', '.join(CLASSIFICATION_KEYS)}")
        out[name] += _count(counts, key)
    return out


def share_met(counts) -> float | None:
    """Share of the returns that met target (0 to 1), or None when there are no returns."""
    c = _normalise(counts)
    total = sum(c.values())
    return c["met"] / total if total else None


def results_score(counts) -> float | None:
    """Mean points per return (met 3, slightly below 2, below 1, significantly below 0), or None."""
    c = _normalise(counts)
    total = sum(c.values())
    if not total:
        return None
    points = sum(RATING_POINTS[code] * c[key] for code, key in CLASSIFICATION_KEYS.items())
    return points / total


def rating_score(rating) -> int | None:
    """Points of a Procurement Act rating (good 3 ... inadequate 0); "other" or none: None."""
    if rating in (None, "", "other"):
        return None
    if rating not in RATING_SCORES:
        raise ValueError(f"unknown rating {rating!r}: use {', '.join(RATINGS)}")
    return RATING_SCORES[rating]


def ratings_spread(ratings) -> dict:
    """Number of contracts per rating, in the order good ... other (every rating present, zeros included).

    ``ratings``: an iterable of ratings (one per contract) or a mapping rating -> count."""
    counts = Counter()
    if hasattr(ratings, "items"):
        for rating in ratings:
            counts[rating] += _count(ratings, rating)
    else:
        for rating in ratings:
            if rating:
                counts[rating] += 1
    unknown = set(counts) - set(RATINGS)
    if unknown:
        raise ValueError(f"unknown rating {min(unknown)!r}: use {', '.join(RATINGS)}")
    return {r: counts[r] for r in RATINGS}


def mean_rating_score(ratings) -> float | None:
    """The mean rating score of the rated contracts ("other" left out), or None when none is scored."""
    spread = ratings_spread(ratings)
    scored = [(RATING_SCORES[r], n) for r, n in spread.items() if r in RATING_SCORES and n]
    total = sum(n for _, n in scored)
    return sum(s * n for s, n in scored) / total if total else None


class Ranking(NamedTuple):
    ranked: list  # [(item, rank)], best first
    missing: list  # [(item, None)] in the order given


def rank(items, *, higher_is_better=True) -> Ranking:
    """Standard competition ranks of ``items`` [(item, value)]: 1 + the number of strictly better values.

    Values that are None are missing: returned apart, never ranked. Ties share the best rank (1, 2, 2, 4).
    The ranked list is ordered best first; items with equal values keep their given order."""
    present, missing = [], []
    for item, value in items:
        if value is None:
            missing.append((item, None))
        else:
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                raise ValueError(f"rank needs numbers or None, not {value!r}")
            present.append((item, value))
    sign = 1 if higher_is_better else -1
    ordered = sorted(present, key=lambda iv: -sign * iv[1])
    out = []
    for position, (item, value) in enumerate(ordered):
        if position and ordered[position - 1][1] == value:
            out.append((item, out[-1][1]))
        else:
            out.append((item, position + 1))
    return Ranking(out, missing)


def percentile(value, values) -> float:
    """Percentile rank of ``value`` among ``values`` (higher is better): (below + half equal) / n x 100."""
    return bm.percentile_rank(value, values)


def percentiles(values) -> list:
    """The percentile rank of each value among the values present (as ``percentile``), in O(n log n); None
    stays None."""
    present = sorted(v for v in values if v is not None)
    n = len(present)
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        below = bisect_left(present, v)
        equal = bisect_right(present, v) - below
        out.append((below + 0.5 * equal) / n * 100)
    return out


def median(values):
    """The median of the values that are present (linear method), as a Decimal when all are Decimals; None
    when none is present."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(isinstance(v, Decimal) for v in present):
        ordered = sorted(present)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return bm.median(present)


def main_unit(unit_counts) -> str | None:
    """The most common unit (mapping unit -> number of contracts); ties: the first by name; none: None."""
    items = [(u, n) for u, n in dict(unit_counts).items() if u and n]
    if not items:
        return None
    return min(items, key=lambda un: (-un[1], un[0]))[0]


def percent(share) -> float | None:
    """A share (0 to 1) as a percentage to one decimal place; None stays None."""
    if share is None:
        return None
    return float((Decimal(str(share)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
