"""Positions of every value in a group at once (pure functions, no Django, no I/O).

``positions(values)`` gives exactly ``[benchmarking.position(v, values) for v in values]`` (the same floats,
worked out by the same functions of ``methods.benchmarking``) in O(n log n) instead of O(n^2): the median,
MAD and quartiles are worked out once for the group, and each value's rank and percentile come from
binary search in the sorted values. At national scale (350 councils a measure) the difference is
about 0.5 s a measure.
"""

from bisect import bisect_left, bisect_right

from commissioner.methods import benchmarking as bm


class Group:
    """A group of values (None = missing), ready to place any value in it: ``group.position(value)``."""

    def __init__(self, values, *, higher_is_better=True):
        values = list(values)
        numbers = [bm._number(v, "position value") for v in values if v is not None]
        self.higher_is_better = bool(higher_is_better)
        self.sorted = sorted(numbers)
        self.n = len(numbers)
        self.missing = len(values) - self.n
        self.median = bm.median(self.sorted)
        self.mad = bm.mad(self.sorted)
        self.quartiles = bm.quartiles(self.sorted)

    def position(self, value) -> bm.Position:
        """``benchmarking.position(value, values)`` for a value of the group (or any value: it is not added)."""
        if value is None:
            return bm.Position(None, self.n, self.missing, None, None, None, self.median, self.mad, None)
        value = bm._number(value)
        distance = bm.mad_distance(value, median=self.median, mad=self.mad, higher_is_better=self.higher_is_better)
        if not self.n:
            return bm.Position(value, 0, self.missing, None, None, None, None, None, None)
        s, n = self.sorted, self.n
        lo, hi = bisect_left(s, value), bisect_right(s, value)
        equal = hi - lo
        if self.higher_is_better:
            better, worse = n - hi, lo
        else:
            better, worse = lo, n - hi
        percentile = (worse + 0.5 * equal) / n * 100
        q1, q2, q3 = self.quartiles
        if self.higher_is_better:
            quartile = 1 if value >= q3 else 2 if value >= q2 else 3 if value >= q1 else 4
        else:
            quartile = 1 if value <= q1 else 2 if value <= q2 else 3 if value <= q3 else 4
        return bm.Position(value, n, self.missing, better + 1, percentile, quartile, self.median, self.mad, distance)


def positions(values, *, higher_is_better=True) -> list[bm.Position]:
    """``[benchmarking.position(v, values, higher_is_better=...) for v in values]``, in O(n log n)."""
    values = list(values)
    group = Group(values, higher_is_better=higher_is_better)
    return [group.position(v) for v in values]
