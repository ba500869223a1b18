"""Priority setting without money: residents rank or weight priorities for a service area. Pure, no Django.

Two ballot kinds, one result table (see docs/participation.md, "Priority setting"):

- **Ranks** (a Borda count that allows short ballots): with m priorities, the priority a ballot ranks r-th
  (1 = first) gets m - r + 1 points; priorities it leaves out get 0. So with 4 priorities a ballot
  "B, A" gives B 4 and A 3; a ranked priority always gets more than an unranked one. The score of a priority
  is its total points; `mean` is the total divided by the number of ballots (all ballots, short or not).
- **Weights**: each ballot gives every priority a weight from 0 to `max_weight` (a priority left out counts
  0). The score is the mean weight over all ballots; `total` is the sum.

Rows come highest score first; equal scores share a rank ("2=") and keep the order the priorities were given.
Scores are exact (`Fraction` for means, shown rounded by the caller).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

KINDS = ("rank", "weight")


@dataclass(frozen=True)
class PriorityRow:
    priority: str
    total: int | Fraction  # points (ranks) or the sum of weights
    mean: Fraction  # points or weight per ballot
    score: int | Fraction  # what the rows are ordered by: total points (ranks) or mean weight (weights)
    first: int  # ballots that ranked it first (ranks) or gave it their highest weight (weights)
    supporters: int  # ballots that ranked it, or gave it a weight above 0
    rank: int
    tied: bool


def priority_scores(priorities: Sequence[str], ballots: Sequence, *, kind: str = "rank",
                    max_weight=None) -> list[PriorityRow]:
    """The priorities ordered by score. `ballots`: for ranks, sequences of priorities (first choice first);
    for weights, mappings {priority: weight}. Raises ValueError naming the ballot (1-based) at fault."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    names = list(priorities)
    if len(set(names)) != len(names):
        raise ValueError("a priority is given twice")
    m = len(names)
    total = dict.fromkeys(names, 0)
    first = dict.fromkeys(names, 0)
    supporters = dict.fromkeys(names, 0)
    for number, ballot in enumerate(ballots, 1):
        if kind == "rank":
            ranked = list(ballot)
            unknown = [p for p in ranked if p not in total]
            if unknown:
                raise ValueError(f"ballot {number}: unknown priority {unknown[0]}")
            if len(set(ranked)) != len(ranked):
                raise ValueError(f"ballot {number}: a priority is ranked twice")
            for r, p in enumerate(ranked, 1):
                total[p] += m - r + 1
                supporters[p] += 1
            if ranked:
                first[ranked[0]] += 1
        else:
            weights = dict(ballot)
            unknown = [p for p in weights if p not in total]
            if unknown:
                raise ValueError(f"ballot {number}: unknown priority {unknown[0]}")
            for p, w in weights.items():
                if isinstance(w, bool) or not isinstance(w, int | Fraction) and not hasattr(w, "as_integer_ratio"):
                    raise ValueError(f"ballot {number}: weight of {p} is not a number")
                w = Fraction(w)
                if w < 0 or (max_weight is not None and w > max_weight):
                    top = f" to {max_weight}" if max_weight is not None else " or more"
                    raise ValueError(f"ballot {number}: weight {w} for {p} is not from 0{top}")
                total[p] += w
                if w > 0:
                    supporters[p] += 1
            top = max(weights.values(), default=0)
            if top > 0:
                for p, w in weights.items():
                    if w == top:
                        first[p] += 1
    n = len(ballots)
    rows = []
    for p in names:
        mean = Fraction(total[p], n) if n else Fraction(0)
        score = total[p] if kind == "rank" else mean
        tot = total[p]
        if isinstance(tot, Fraction) and tot.denominator == 1:
            tot = int(tot)
        rows.append((p, tot, mean, score))
    order = sorted(range(m), key=lambda i: -rows[i][3])
    out = []
    for i in order:
        p, tot, mean, score = rows[i]
        rank = next(k for k, j in enumerate(order, 1) if rows[j][3] == score)
        tied = sum(1 for j in order if rows[j][3] == score) > 1
        out.append(PriorityRow(priority=p, total=tot, mean=mean, score=score, first=first[p],
                               supporters=supporters[p], rank=rank, tied=tied))
    return out
