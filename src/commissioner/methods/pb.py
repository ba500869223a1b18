"""Participatory budgeting rules on plain data: greedy (with a threshold, without skipping) and Equal Shares.

No Django, no I/O. Input is a budget, `{project id: cost}` and the ballots (each a sequence of project ids,
with points for cumulative, scoring and ordinal votes). `prepare` checks them once and builds numpy arrays;
every rule takes the prepared `Election`. Each result says, for every project, why it was or was not funded.
See docs/methods.md, "Participatory budgeting", for the rules and the conventions chosen.

- `greedy`: projects in order of support (approval votes, or points), ties broken by `tie_break`
  (default: lower cost, then lower id); a project is funded when it fits the money left, otherwise skipped
  (`skip=True`) or the count stops there (`skip=False`: pabulib's `greedy-no-skip`). With `threshold`, a
  project with less support than the threshold is not funded (pabulib's `greedy-threshold`, META
  `min_project_score_threshold`: at least that many votes, or points for cumulative and ordinal files).
- `equal_shares`: the Method of Equal Shares (utility "approval": each supporter gains 1, the project with
  the lowest maximum payment per supporter, rho, is bought first; utility "cost": each supporter gains the
  project's cost, lowest rho / cost first; utility "points": each supporter gains the points they gave and
  pays in proportion to them, lowest payment per point first), then an optional completion:
  "add1" (equalshares.net: raise every voter's budget by 1 currency unit and count again, as long as the
  outcome stays within the budget), "add1-greedy" (add1, then greedy by votes), "greedy" (greedy by votes
  over the money left), or None.

Support and costs are exact (int or Decimal) in greedy; Equal Shares works in float64 with ties within a
relative 1e-9 treated as ties (and broken by `tie_break`); the budget check of each outcome is exact.

Explanations are written with a `Wording`: by default exact, as files and tests read them ("3. 22 votes:
funded, cost 35000 within the 100000 left"); a page can pass its own (money as "£35,000", "Considered 3rd: ").
"""

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

TIE_BREAKS = ("cost", "-cost", "votes", "id", "order")
DEFAULT_TIE_BREAK = ("cost", "id")
MES_UTILITIES = ("approval", "cost", "points")
MES_COMPLETIONS = (None, "add1", "add1-greedy", "greedy")
RELATIVE_TIE = 1e-9
MAX_ADD1_ROUNDS = 100_000


def _exact(value) -> str:
    """Money as computed: exact amounts as they are ("35000"), Equal Shares' float amounts to 2 places."""
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def _numbered(position: int) -> str:
    return f"{position}. "


def _listed(project_ids: Sequence[str]) -> str:
    return ", ".join(project_ids)


@dataclass(frozen=True)
class Wording:
    """How explanations write money (`money`: an amount, int, Decimal or float), a project's place in the greedy
    order (`considered`: the text before the rest, e.g. "3. ") and the projects it tied with (`projects`: ids)."""

    money: Callable[[object], str] = _exact
    considered: Callable[[int], str] = _numbered
    projects: Callable[[Sequence[str]], str] = _listed


EXACT = Wording()


@dataclass(frozen=True)
class Election:
    """Checked, indexed input: project ids in the order given, exact costs, and the ballots as arrays."""

    budget: int | Decimal
    projects: tuple[str, ...]
    costs: tuple[int | Decimal, ...]
    n_voters: int
    voter_of: np.ndarray  # one entry per (voter, project) pair: the voter's index
    project_of: np.ndarray  # ... the project's index
    weight_of: np.ndarray | None  # ... the points given (None: no points)
    votes: tuple[int, ...]  # approval count per project
    points: tuple[int | Decimal, ...] | None  # points per project (exact), None without points

    def index(self, project_id: str) -> int:
        return self.projects.index(project_id)


@dataclass
class ProjectResult:
    """Why one project was or was not funded."""

    project_id: str
    cost: int | Decimal
    votes: int
    points: int | Decimal | None
    funded: bool
    status: str  # funded, skipped, below_threshold, stopped, unaffordable, no_support, not_reached, over_budget
    explanation: str
    position: int | None = None  # greedy: place in the order considered; MES: the round it was bought in
    support: int | Decimal | None = None  # what greedy ordered by (votes or points)
    remaining_before: int | Decimal | None = None  # money left when it was considered (greedy, completion)
    tied_with: tuple[str, ...] = ()  # projects with the same support (greedy) or rho (MES round)
    rho: float | None = None  # MES: the most a supporter paid (or would pay) per unit of utility
    supporters_money: float | None = None  # MES: supporters' money left when bought, or at the end
    phase: str | None = None  # MES: "equal shares" or "completion"


@dataclass
class Outcome:
    """The funded projects in the order chosen and a `ProjectResult` for every project."""

    rule: str
    budget: int | Decimal
    funded: list[str]
    cost: int | Decimal
    projects: dict[str, ProjectResult]
    tie_break: tuple[str, ...]
    per_voter_budget: float | None = None  # MES: the per-voter money of the final count
    add1_rounds: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> int | Decimal:
        return self.budget - self.cost

    def funded_set(self) -> set[str]:
        return set(self.funded)


def _natural(project_id: str):
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", project_id) if part
    )


def _check_number(value, what):
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        if isinstance(value, float) and math.isfinite(value):
            return Decimal(str(value))
        raise ValueError(f"{what} must be a number (int or Decimal), not {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value}")
    return value


def prepare(
    budget,
    costs: Mapping[str, object],
    ballots: Sequence[Sequence[str]],
    points: Sequence[Sequence[object]] | None = None,
    *,
    ordinal: bool = False,
) -> Election:
    """Check and index an election. Raises ValueError naming the project or ballot (1-based) at fault.

    `points[i]` gives a number for each project of `ballots[i]`. For ordinal ballots without points
    (`ordinal=True`), a ballot of length L gives L points to its first project, L - 1 to the next, ...
    (Kraków's files state 3,2,1 for three ranks: the same thing).
    """
    budget = _check_number(budget, "budget")
    if budget <= 0:
        raise ValueError(f"budget must be positive, not {budget}")
    projects = tuple(str(p) for p in costs)
    exact = []
    for pid in projects:
        cost = _check_number(costs[pid], f"cost of project {pid}")
        if cost <= 0:
            raise ValueError(f"cost of project {pid} must be positive, not {cost}")
        exact.append(cost)
    index = {pid: i for i, pid in enumerate(projects)}
    if points is not None and len(points) != len(ballots):
        raise ValueError(f"{len(points)} lists of points for {len(ballots)} ballots")
    try:
        flat = [index[p] for ballot in ballots for p in ballot]
    except KeyError as exc:
        bad = exc.args[0]
        number = next(i for i, b in enumerate(ballots, 1) if bad in b)
        raise ValueError(f"ballot {number}: unknown project {bad}") from None
    lengths = np.fromiter((len(b) for b in ballots), dtype=np.int64, count=len(ballots))
    voter_of = np.repeat(np.arange(len(ballots), dtype=np.int64), lengths)
    project_of = np.asarray(flat, dtype=np.int64)
    if len(project_of):
        pair = np.sort(voter_of * len(projects) + project_of)
        same = np.flatnonzero(pair[1:] == pair[:-1])
        if len(same):
            dup = int(pair[same[0]])
            raise ValueError(f"ballot {dup // len(projects) + 1}: project {projects[dup % len(projects)]} given twice")
    weight_of = None
    exact_points = None
    if points is not None:
        flat_points = []
        for number, (ballot, given) in enumerate(zip(ballots, points, strict=True), 1):
            if len(given) != len(ballot):
                raise ValueError(f"ballot {number}: {len(given)} points for {len(ballot)} projects")
            for value in given:
                value = _check_number(value, f"ballot {number}: points")
                if value < 0:
                    raise ValueError(f"ballot {number}: negative points {value}")
                flat_points.append(value)
    elif ordinal:
        flat_points = [len(b) - i for b in ballots for i in range(len(b))]
    if points is not None or ordinal:
        totals = [0] * len(projects)
        for j, value in zip(flat, flat_points, strict=True):
            totals[j] += value
        exact_points = tuple(totals)
        weight_of = np.asarray([float(v) for v in flat_points], dtype=np.float64)
    votes = np.bincount(project_of, minlength=len(projects)) if len(project_of) else np.zeros(len(projects), int)
    return Election(
        budget=budget,
        projects=projects,
        costs=tuple(exact),
        n_voters=len(ballots),
        voter_of=voter_of,
        project_of=project_of,
        weight_of=weight_of,
        votes=tuple(int(v) for v in votes),
        points=exact_points,
    )


def _tie_key(election: Election, tie_break: Sequence[str]):
    for rule in tie_break:
        if rule not in TIE_BREAKS:
            raise ValueError(f"unknown tie-break {rule!r} (one of {', '.join(TIE_BREAKS)})")

    def key(j):
        parts = []
        for rule in tie_break:
            if rule == "cost":
                parts.append(election.costs[j])
            elif rule == "-cost":
                parts.append(-election.costs[j])
            elif rule == "votes":
                parts.append(-election.votes[j])
            elif rule == "id":
                parts.append(_natural(election.projects[j]))
            else:
                parts.append(j)
        parts.append(j)  # the order given settles anything left, so the result is always determined
        return tuple(parts)

    return key


def _supporters(n):
    return f"{n} supporter" if n == 1 else f"{n} supporters"


def _tie_words(tie_break):
    words = {
        "cost": "lower cost",
        "-cost": "higher cost",
        "votes": "more votes",
        "id": "lower id",
        "order": "order given",
    }
    return ", then ".join(words[t] for t in tie_break)


def greedy(
    election: Election,
    *,
    by: str = "votes",
    threshold=None,
    skip: bool = True,
    tie_break: Sequence[str] = DEFAULT_TIE_BREAK,
    wording: Wording = EXACT,
) -> Outcome:
    """Greedy by votes or points. `threshold`: minimum support to be funded. `skip=False`: stop at the first misfit.
    `wording`: how the explanations write money, places and ties (default: exact)."""
    money, considered = wording.money, wording.considered
    if by not in ("votes", "points"):
        raise ValueError(f"by must be 'votes' or 'points', not {by!r}")
    if by == "points" and election.points is None:
        raise ValueError("greedy by points needs ballots with points")
    tie_break = tuple(tie_break)
    support = election.votes if by == "votes" else election.points
    unit = "votes" if by == "votes" else "points"
    tie_key = _tie_key(election, tie_break)
    order = sorted(range(len(election.projects)), key=lambda j: (-support[j], *tie_key(j)))
    groups: dict = {}
    for j in order:
        groups.setdefault(support[j], []).append(election.projects[j])
    remaining = election.budget
    funded: list[str] = []
    results: dict[str, ProjectResult] = {}
    stopped_at = None
    for position, j in enumerate(order, 1):
        pid, cost, s = election.projects[j], election.costs[j], support[j]
        tied = tuple(p for p in groups[s] if p != pid)
        base = dict(
            project_id=pid,
            cost=cost,
            votes=election.votes[j],
            points=None if election.points is None else election.points[j],
            position=position,
            support=s,
            remaining_before=remaining,
            tied_with=tied,
        )
        tie_note = (
            f" (tied on {s} {unit} with {wording.projects(tied)}; order by {_tie_words(tie_break)})" if tied else ""
        )
        if threshold is not None and s < threshold:
            results[pid] = ProjectResult(
                **base,
                funded=False,
                status="below_threshold",
                explanation=f"{considered(position)}{s} {unit}, below the minimum of {threshold}: not funded{tie_note}",
            )
        elif stopped_at is not None:
            results[pid] = ProjectResult(
                **base,
                funded=False,
                status="stopped",
                explanation=f"{considered(position)}{s} {unit}: not considered, the count stopped at project "
                f"{stopped_at} (greedy without skipping){tie_note}",
            )
        elif cost <= remaining:
            remaining -= cost
            funded.append(pid)
            results[pid] = ProjectResult(
                **base,
                funded=True,
                status="funded",
                explanation=f"{considered(position)}{s} {unit}: funded, cost {money(cost)} within the "
                f"{money(base['remaining_before'])} left"
                f"{tie_note}",
            )
        else:
            if not skip:
                stopped_at = pid
            results[pid] = ProjectResult(
                **base,
                funded=False,
                status="skipped" if skip else "stopped",
                explanation=f"{considered(position)}{s} {unit}: not funded, cost {money(cost)} is more than the "
                f"{money(remaining)} left"
                + ("" if skip else "; the count stops here (greedy without skipping)")
                + tie_note,
            )
    rule = "greedy" + ("-threshold" if threshold is not None else "") + ("" if skip else "-no-skip")
    return Outcome(
        rule=rule,
        budget=election.budget,
        funded=funded,
        cost=election.budget - remaining,
        projects=results,
        tie_break=tie_break,
    )


def _rho(money: np.ndarray, cost: float) -> float:
    """The least rho with sum(min(money, rho)) = cost (money: the supporters' money, any order)."""
    ordered = np.sort(money)
    n = len(ordered)
    before = np.concatenate(([0.0], np.cumsum(ordered)[:-1]))
    rho = (cost - before) / (n - np.arange(n))
    ok = rho <= ordered * (1 + 1e-12)
    return float(rho[int(np.argmax(ok))])


class _MesData:
    """Supporters of each project as index arrays (built once, reused by every count)."""

    def __init__(self, election: Election):
        if election.n_voters == 0:
            raise ValueError("Equal Shares needs at least one ballot")
        order = np.argsort(election.project_of, kind="stable")
        voters = election.voter_of[order]
        bounds = np.concatenate(([0], np.cumsum(np.bincount(election.project_of, minlength=len(election.projects)))))
        self.supporters = [voters[bounds[j] : bounds[j + 1]] for j in range(len(election.projects))]
        self.cost = np.asarray([float(c) for c in election.costs], dtype=np.float64)
        self.weights = None
        if election.weight_of is not None:
            weights = election.weight_of[order]
            self.weights = [weights[bounds[j] : bounds[j + 1]] for j in range(len(election.projects))]
            # a supporter who gave 0 points gains nothing and pays nothing: not a supporter
            for j, w in enumerate(self.weights):
                keep = w > 0
                if not keep.all():
                    self.supporters[j], self.weights[j] = self.supporters[j][keep], w[keep]


def _alpha(money: np.ndarray, utility: np.ndarray, cost: float) -> float:
    """The least alpha with sum(min(money, alpha * utility)) = cost (cardinal utilities)."""
    order = np.argsort(money / utility, kind="stable")
    m, u = money[order], utility[order]
    before = np.concatenate(([0.0], np.cumsum(m)[:-1]))
    after = np.cumsum(u[::-1])[::-1]  # utility of this supporter and all richer ones
    alpha = (cost - before) / after
    ok = alpha * u <= m * (1 + 1e-12)
    return float(alpha[int(np.argmax(ok))])


def _mes_count(election: Election, data: _MesData, per_voter: float, utility: str, tie_key):
    """One run of Equal Shares with `per_voter` money each: the rounds as (j, rho, tied, money_before)."""
    money = np.full(election.n_voters, per_voter, dtype=np.float64)
    cost = data.cost
    lower: dict[int, float] = {}
    for j in range(len(election.projects)):
        if len(data.supporters[j]):
            if utility == "points":
                lower[j] = cost[j] / float(data.weights[j].sum())
            else:
                lower[j] = cost[j] / len(data.supporters[j]) / (cost[j] if utility == "cost" else 1.0)
    rounds = []
    dropped: dict[int, float] = {}
    while lower:
        best_key = np.inf
        best: list[tuple[int, float, float]] = []
        for j in sorted(lower, key=lower.__getitem__):
            if lower[j] > best_key * (1 + RELATIVE_TIE):
                break
            theirs = money[data.supporters[j]]
            total = float(theirs.sum())
            if total < cost[j] * (1 - 1e-12):
                dropped[j] = total
                del lower[j]
                continue
            if utility == "points":
                rho = key = _alpha(theirs, data.weights[j], cost[j])
            else:
                rho = _rho(theirs, cost[j])
                key = rho / cost[j] if utility == "cost" else rho
            lower[j] = key
            if key < best_key * (1 - RELATIVE_TIE):
                best_key, best = key, [(j, rho, total)]
            elif key <= best_key * (1 + RELATIVE_TIE):
                best.append((j, rho, total))
        if not best:
            break
        best.sort(key=lambda item: tie_key(item[0]))
        j, rho, total = best[0]
        tied = tuple(election.projects[k] for k, _, _ in best[1:])
        sup = data.supporters[j]
        payment = rho * data.weights[j] if utility == "points" else rho
        money[sup] = np.maximum(money[sup] - payment, 0.0)
        del lower[j]
        rounds.append((j, rho, tied, total))
    return rounds, dropped, money


def equal_shares(
    election: Election,
    *,
    utility: str = "cost",
    completion: str | None = "add1",
    tie_break: Sequence[str] = DEFAULT_TIE_BREAK,
    exhaustive_stop: bool = True,
    wording: Wording = EXACT,
) -> Outcome:
    """Method of Equal Shares with a completion (see the module docstring).

    add1 starts from budget / voters each and adds 1 per voter while the count stays within the budget;
    with `exhaustive_stop` it also stops as soon as no unfunded project fits the money left (equalshares.net's
    "exhaustive" option, and pabutools' `voter_budget_increment=1`). `wording`: how the explanations write money
    and ties (default: exact).
    """
    say_money = wording.money
    if utility not in MES_UTILITIES:
        raise ValueError(f"utility must be one of {MES_UTILITIES}, not {utility!r}")
    if utility == "points" and election.points is None:
        raise ValueError("Equal Shares with utility 'points' needs ballots with points")
    if completion not in MES_COMPLETIONS:
        raise ValueError(f"completion must be one of {MES_COMPLETIONS}, not {completion!r}")
    tie_break = tuple(tie_break)
    tie_key = _tie_key(election, tie_break)
    data = _MesData(election)
    n = election.n_voters
    per_voter = float(election.budget) / n
    rounds, dropped, money = _mes_count(election, data, per_voter, utility, tie_key)
    add1_rounds = 0

    def spent(rs):
        return sum((election.costs[j] for j, *_ in rs), 0)

    def exhaustive(rs):
        left = election.budget - spent(rs)
        chosen = {j for j, *_ in rs}
        return all(election.costs[j] > left for j in range(len(election.projects)) if j not in chosen)

    if completion in ("add1", "add1-greedy"):
        while add1_rounds < MAX_ADD1_ROUNDS:
            if exhaustive_stop and exhaustive(rounds):
                break
            trial = _mes_count(election, data, per_voter + 1, utility, tie_key)
            if spent(trial[0]) > election.budget:
                break
            per_voter += 1
            add1_rounds += 1
            rounds, dropped, money = trial
    results: dict[str, ProjectResult] = {}
    funded: list[str] = []
    unit = {"approval": "per supporter", "cost": "per unit of cost", "points": "per point"}[utility]
    for number, (j, rho, tied, total) in enumerate(rounds, 1):
        pid = election.projects[j]
        funded.append(pid)
        tie_note = f" (tied with {wording.projects(tied)}; chosen by {_tie_words(tie_break)})" if tied else ""
        paid = f"each paid {rho:,.4f} per point given" if utility == "points" else f"each paid at most {say_money(rho)}"
        results[pid] = ProjectResult(
            project_id=pid,
            cost=election.costs[j],
            votes=election.votes[j],
            points=None if election.points is None else election.points[j],
            funded=True,
            status="funded",
            explanation=f"round {number}: funded by its {_supporters(election.votes[j])}, who had "
            f"{say_money(total)} left; {paid}{tie_note}",
            position=number,
            rho=rho / float(election.costs[j]) if utility == "cost" else rho,
            supporters_money=total,
            tied_with=tied,
            phase="equal shares",
        )
    remaining = election.budget - spent(rounds)
    if completion in ("greedy", "add1-greedy"):
        support, unit_name = (election.points, "points") if utility == "points" else (election.votes, "votes")
        order = sorted(
            (j for j in range(len(election.projects)) if election.projects[j] not in results),
            key=lambda j: (-support[j], *tie_key(j)),
        )
        for j in order:
            pid, cost = election.projects[j], election.costs[j]
            if support[j] and cost <= remaining:
                funded.append(pid)
                results[pid] = ProjectResult(
                    project_id=pid,
                    cost=cost,
                    votes=election.votes[j],
                    points=None if election.points is None else election.points[j],
                    funded=True,
                    status="funded",
                    explanation=f"completion: {support[j]} {unit_name}, cost {say_money(cost)} within the "
                    f"{say_money(remaining)} left",
                    position=len(funded),
                    remaining_before=remaining,
                    phase="completion",
                )
                remaining -= cost
    for j, pid in enumerate(election.projects):
        if pid in results:
            continue
        theirs = float(money[data.supporters[j]].sum())
        cost = election.costs[j]
        common = dict(
            project_id=pid,
            cost=cost,
            votes=election.votes[j],
            points=None if election.points is None else election.points[j],
            funded=False,
            supporters_money=theirs,
            remaining_before=remaining,
        )
        if not election.votes[j]:
            results[pid] = ProjectResult(**common, status="no_support", explanation="no votes: not funded")
        elif j in dropped or theirs < float(cost):
            results[pid] = ProjectResult(
                **common,
                status="unaffordable",
                explanation=f"its {_supporters(election.votes[j])} have {say_money(theirs)} left, less than its cost "
                f"{say_money(cost)}",
            )
        else:
            results[pid] = ProjectResult(
                **common,
                status="over_budget",
                explanation=f"cost {say_money(cost)} is more than the {say_money(remaining)} of the budget left",
            )
    name = {
        None: "equal shares",
        "add1": "equal shares, add1",
        "add1-greedy": "equal shares, add1 then greedy",
        "greedy": "equal shares, then greedy",
    }[completion]
    notes = [f"utility: {utility} ({unit})", f"per-voter budget {per_voter:,.4f} after {add1_rounds} add1 step(s)"]
    return Outcome(
        rule=name,
        budget=election.budget,
        funded=funded,
        cost=election.budget - remaining,
        projects=results,
        tie_break=tie_break,
        per_voter_budget=per_voter,
        add1_rounds=add1_rounds,
        notes=notes,
    )


def rule_settings(meta: Mapping[str, str]) -> dict:
    """How to count a pabulib file by its META: the rule function's name and keyword arguments.

    greedy / greedy-threshold / greedy-no-skip: by votes for approval and choose-1, by points for
    cumulative, scoring and ordinal; the threshold is `min_project_score_threshold` in the same unit.
    equalshares (and equalshares/add1): Equal Shares (with add1 completion), cost utilities for approval and
    choose-1 ballots, the points as utilities otherwise. Anything else: ValueError.
    """
    rule = meta.get("rule", "").strip()
    vote_type = meta.get("vote_type", "").strip()
    by = "votes" if vote_type in ("approval", "choose-1") else "points"
    if rule in ("greedy", "greedy-threshold", "greedy-no-skip"):
        settings = {"rule": "greedy", "by": by, "skip": rule != "greedy-no-skip", "threshold": None}
        if rule == "greedy-threshold":
            value = meta.get("min_project_score_threshold", "").strip()
            if not value:
                raise ValueError("rule greedy-threshold without min_project_score_threshold in META")
            settings["threshold"] = int(value)
        return settings
    if rule in ("equalshares", "equalshares/add1"):
        utility = "cost" if by == "votes" else "points"
        return {"rule": "equal_shares", "utility": utility, "completion": "add1" if rule.endswith("add1") else None}
    raise ValueError(f"no counting rule for META rule {rule!r}")


def count(
    election: Election, settings: Mapping, *, tie_break: Sequence[str] = DEFAULT_TIE_BREAK, wording: Wording = EXACT
) -> Outcome:
    """Run the rule described by `rule_settings`."""
    options = {k: v for k, v in settings.items() if k != "rule"}
    if settings["rule"] == "greedy":
        return greedy(election, tie_break=tie_break, wording=wording, **options)
    return equal_shares(election, tie_break=tie_break, wording=wording, **options)
