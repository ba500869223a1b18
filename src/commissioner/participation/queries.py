"""Reads for participatory budgeting and priority setting, scoped by orgs.tenancy (``visible_to``), and the
counts worked out on read: ``methods.pb`` for budgets (imported inside the functions: it needs NumPy),
``methods.priorities`` for priority setting. ``priorities_for`` is what the options appraisal reads."""

import re
from decimal import Decimal

from commissioner.methods import pabulib
from commissioner.methods.priorities import priority_scores
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation
from commissioner.participation import services
from commissioner.participation.models import Ballot, Exercise, VoterCode
from commissioner.register.templatetags.money import money

MAX_ID = 2**31 - 1


def organisation(slug):
    if not re.fullmatch(r"[-\w]{1,120}", slug or "", flags=re.ASCII):
        return None
    return Organisation.objects.filter(slug=slug).first()


def member_councils(user):
    """The organisations the user belongs to (where their council's exercises are run)."""
    return list(Organisation.objects.filter(pk__in=tenancy.member_org_ids(user)).order_by("name"))


def exercises(user, owner=None):
    qs = Exercise.objects.visible_to(user).select_related("owner")
    if owner is not None:
        qs = qs.filter(owner=owner)
    return list(qs.order_by("-created_at", "-id"))


def exercise_for(user, pk):
    if not isinstance(pk, int) or not 0 < pk <= MAX_ID:
        return None
    return Exercise.objects.visible_to(user).select_related("owner").filter(pk=pk).first()


def can_see_results(user, exercise):
    """Published results: everyone who can see the exercise. Closed, not yet published: the council's members."""
    if exercise.status == Exercise.Status.PUBLISHED:
        return True
    if exercise.status != Exercise.Status.CLOSED:
        return False
    return bool(user and user.is_authenticated and (user.is_superuser
                                                    or exercise.owner_id in tenancy.member_org_ids(user)))


def projects(exercise):
    return list(exercise.projects.order_by("position", "id"))


def _number(value):
    d = Decimal(value)
    return int(d) if d == d.to_integral_value() else d.normalize()


def tie_break(exercise):
    return tuple(exercise.tie_break.split(","))


def ballots(exercise):
    return list(Ballot.objects.filter(exercise=exercise).order_by("position", "receipt_digest")
                .values_list("choices", "points"))


def election(exercise, rows=None):
    """The exercise as a ``methods.pb`` Election: costs, ballots, and points where the ballots have them (an
    ordinal ballot without points gives L, L - 1, ... 1 to its L choices)."""
    from commissioner.methods import pb as rules

    rows = ballots(exercise) if rows is None else rows
    costs = {p.code: _number(p.cost) for p in projects(exercise)}
    choices = [tuple(c) for c, _ in rows]
    with_points = bool(rows) and all(p is not None for _, p in rows)
    points = [tuple(pabulib.parse_number(x) for x in p) for _, p in rows] if with_points else None
    return rules.prepare(_number(exercise.budget), costs, choices, points,
                         ordinal=exercise.ballot_type == "ordinal" and not with_points)


def ordinal(n):
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _projects_words(ids):
    ids = list(ids)
    if len(ids) == 1:
        return f"project {ids[0]}"
    return "projects " + ", ".join(ids[:-1]) + f" and {ids[-1]}"


def page_wording(exercise):
    """How the results page writes the count's explanations: money in whole pounds ("£35,000"), the place in
    the count in words ("3rd in order of support, with 22 votes: ..."), ties naming the projects. Downloads, the
    API and the command line keep the exact wording of ``methods.pb``."""
    from commissioner.methods import pb as rules

    currency = exercise.currency or "GBP"
    return rules.Wording(money=lambda value: money(value, currency),
                         considered=lambda n: f"{ordinal(n)} in order of support, with ",
                         projects=_projects_words)


def count(exercise, election_=None, wording=None):
    """The outcome by the exercise's rule and tie-break (``methods.pb``); ``wording``: how the explanations are
    written (default: exact, as in downloads)."""
    from commissioner.methods import pb as rules

    words = {"wording": wording} if wording is not None else {}
    el = election_ or election(exercise)
    by = "votes" if exercise.ballot_type in ("approval", "choose-1") else "points"
    tb = tie_break(exercise)
    rule = exercise.rule
    if rule.startswith("greedy"):
        threshold = None
        if rule == "greedy-threshold" and exercise.threshold is not None:
            threshold = _number(exercise.threshold)
        return rules.greedy(el, by=by, threshold=threshold, skip=rule != "greedy-no-skip", tie_break=tb, **words)
    if el.n_voters == 0:  # nobody voted: nothing is funded, each project says why
        return rules.greedy(el, by=by, tie_break=tb, **words)
    utility = "cost" if by == "votes" else "points"
    completion = {"mes-add1": "add1", "mes-greedy": "greedy", "mes": None}[rule]
    return rules.equal_shares(el, utility=utility, completion=completion, tie_break=tb, **words)


STATUS_WORDS = {"funded": "Funded", "skipped": "Not funded: did not fit", "below_threshold": "Below the minimum",
                "stopped": "Not funded: count stopped", "unaffordable": "Not funded: supporters' share too small",
                "no_support": "No votes", "over_budget": "Not funded: over the budget left"}


def results(exercise, *, for_page=False):
    """Every project with its votes, points, cost, whether funded and why (the count's explanation: exact, or
    ``for_page`` in plain words, money in whole pounds)."""
    outcome = count(exercise, wording=page_wording(exercise) if for_page else None)
    rows = []
    for p in projects(exercise):
        r = outcome.projects[p.code]
        rows.append({"project": p, "code": p.code, "title": p.title, "cost": p.cost, "votes": r.votes,
                     "points": r.points, "funded": r.funded, "status": r.status,
                     "status_label": STATUS_WORDS.get(r.status, r.status),
                     "explanation": r.explanation[:1].upper() + r.explanation[1:] if for_page else r.explanation,
                     "position": r.position, "tied_with": list(r.tied_with)})
    order = {pid: i for i, pid in enumerate(outcome.funded)}
    rows.sort(key=lambda r: (not r["funded"], order.get(r["code"], 0), -(r["points"] or r["votes"] or 0),
                             r["project"].position))
    n = Ballot.objects.filter(exercise=exercise).count()
    return {"outcome": outcome, "rows": rows, "ballots": n, "funded_cost": outcome.cost,
            "remaining": outcome.remaining, "notes": outcome.notes}


def priority_results(exercise):
    """Ranks: Borda points (m - r + 1 for the r-th of m priorities); weights: the mean weight."""
    options = projects(exercise)
    titles = {p.code: p.title for p in options}
    rows_ = ballots(exercise)
    if exercise.ballot_type == "weights":
        data = [{c: Decimal(x) for c, x in zip(choices, points or [], strict=False)} for choices, points in rows_]
        table = priority_scores([p.code for p in options], data, kind="weight", max_weight=exercise.max_points)
    else:
        table = priority_scores([p.code for p in options], [c for c, _ in rows_], kind="rank")
    method = (f"mean weight (0 to {exercise.max_points or 10:g})" if exercise.ballot_type == "weights"
              else f"Borda points: the r-th of {len(options)} priorities gets {len(options)} - r + 1, unranked 0")
    m = len(options)
    if exercise.ballot_type == "weights":
        top = _number(exercise.max_points or 10)
        plain = (f"Each ballot gave every priority a weight from 0 to {top} (a priority left blank counts as 0). "
                 "A priority's score is its average weight over all the ballots: the highest score comes first, "
                 "and equal scores share a rank.")
    else:
        plain = (f"Each ballot ranked the priorities: a first choice scores {m} point{'s' if m != 1 else ''}"
                 + (f", a second {m - 1}, and so on" if m > 1 else "")
                 + "; a priority left out scores 0. A priority's score is its points added up over all the "
                   "ballots: the highest score comes first, and equal scores share a rank.")
    return {"method": method, "plain": plain, "ballots": len(rows_), "kind": "weight" if exercise.ballot_type == "weights" else "rank",
            "rows": [{"code": r.priority, "title": titles[r.priority], "score": float(r.score),
                      "total": float(r.total), "mean": float(r.mean), "first": r.first, "supporters": r.supporters,
                      "rank": r.rank, "tied": r.tied} for r in table]}


def priorities_for(organisation, service_area):
    """The latest closed or published priority-setting result of ``organisation`` for ``service_area``
    (case-insensitive), for the options appraisal: None when there is none. Rows are ordered best first."""
    exercise = (Exercise.objects.filter(owner=organisation, kind=Exercise.Kind.PRIORITIES,
                                        service_area__iexact=str(service_area or "").strip(),
                                        status__in=(Exercise.Status.CLOSED, Exercise.Status.PUBLISHED))
                .order_by("-closes_at", "-id").first())
    if exercise is None:
        return None
    return {"exercise": exercise, "title": exercise.title, "service_area": exercise.service_area,
            "published": exercise.status == Exercise.Status.PUBLISHED, "synthetic": exercise.synthetic,
            **priority_results(exercise)}


def ballot_for_receipt(exercise, receipt):
    """The ballot with this receipt (its content, never its voter), or None."""
    if not services.normalise_code(receipt):
        return None
    return Ballot.objects.filter(exercise=exercise, receipt_digest=services.receipt_digest(exercise, receipt)).first()


def code_counts(exercise):
    qs = VoterCode.objects.filter(exercise=exercise)
    return {"issued": qs.count(), "used": qs.filter(used=True).count()}


def demo_codes(exercise):
    """The demo codes (DEMO-VOTE-0001 ...) still unused, for the synthetic demo exercise only."""
    if not exercise.synthetic or exercise.status != Exercise.Status.OPEN:
        return []
    unused = set(VoterCode.objects.filter(exercise=exercise, used=False).values_list("digest", flat=True))
    return [c for c in services.DEMO_CODES if services.code_digest(exercise, c) in unused]


# .pb export -----------------------------------------------------------------------------------------

def _pb_value(value):
    return str(_number(value))


def _date(dt, end=False):
    from datetime import timedelta

    if dt is None:
        return ""
    local = (dt - timedelta(days=1) if end else dt).astimezone(services.LONDON)
    return f"{local:%d.%m.%Y}"


def pb_file(exercise) -> pabulib.PbFile:
    """The exercise as a pabulib file: an imported one with its META and columns as read (counts brought up to
    date); one run here with the standard columns, `selected` from the count when results are ready."""
    if exercise.is_priorities:
        raise ValueError("A priority-setting exercise has no costs: download its results as CSV instead")
    plist = projects(exercise)
    brows = list(Ballot.objects.filter(exercise=exercise).order_by("position", "receipt_digest"))
    selected = None
    if exercise.results_ready and exercise.source != "pb":
        selected = set(count(exercise).funded)
    if exercise.source == "pb":
        meta = {k: v for k, v in exercise.pb_meta}
        pcols = tuple(exercise.pb_columns.get("projects") or ("project_id", "cost"))
        vcols = tuple(exercise.pb_columns.get("votes") or ("voter_id", "vote"))
    else:
        vote_type = exercise.ballot_type
        meta = {"description": exercise.title, "country": "United Kingdom", "unit": exercise.owner.name,
                "instance": f"{exercise.opens_at.year}" if exercise.opens_at else "", "num_projects": "",
                "num_votes": "", "budget": _pb_value(exercise.budget), "vote_type": vote_type,
                "rule": services.PB_RULES.get(exercise.rule, exercise.rule),
                "date_begin": _date(exercise.opens_at), "date_end": _date(exercise.closes_at, end=True),
                "currency": exercise.currency or "GBP", "language": "en"}
        if exercise.rule == "greedy-threshold" and exercise.threshold is not None:
            meta["min_project_score_threshold"] = _pb_value(exercise.threshold)
        if exercise.min_choices is not None:
            meta["min_length"] = str(exercise.min_choices)
        if exercise.max_choices is not None:
            meta["max_length"] = str(exercise.max_choices)
        if exercise.points_total is not None:
            meta["max_sum_points"] = _pb_value(exercise.points_total)
        if exercise.synthetic:
            meta["comment"] = "synthetic demo data"
        pcols = ("project_id", "cost", "votes", *(("score",) if vote_type != "approval" and vote_type != "choose-1"
                                                    else ()), "name", "category", "neighborhood", "description",
                 *(("selected",) if selected is not None else ()))
        has_points = any(b.points is not None for b in brows)
        vcols = ("voter_id", "vote", *(("points",) if has_points or vote_type == "ordinal" else ()))
    meta["num_projects"] = str(len(plist))
    meta["num_votes"] = str(len(brows))
    votes_count = {p.code: 0 for p in plist}
    score = {p.code: 0 for p in plist}
    out_votes = []
    for i, b in enumerate(brows, 1):
        pts = tuple(pabulib.parse_number(x) for x in b.points) if b.points is not None else None
        if pts is None and exercise.ballot_type == "ordinal" and exercise.source != "pb":
            pts = tuple(range(len(b.choices), 0, -1))
        for j, c in enumerate(b.choices):
            votes_count[c] += 1
            if pts is not None:
                score[c] += pts[j]
        fields = dict(b.extra) if exercise.source == "pb" else {}
        out_votes.append(pabulib.PbVote(voter_id=b.voter_label or f"v{i}", vote=tuple(b.choices), points=pts,
                                        fields={k: v for k, v in fields.items() if k in vcols}))
    out_projects = {}
    for p in plist:
        if exercise.source == "pb":
            fields = dict(p.extra)
        else:
            fields = {"votes": str(votes_count[p.code]), "name": p.title, "category": p.category,
                      "neighborhood": p.area, "description": p.description}
            if "score" in pcols:
                fields["score"] = str(score[p.code])
            if selected is not None:
                fields["selected"] = "1" if p.code in selected else "0"
        out_projects[p.code] = pabulib.PbProject(project_id=p.code, cost=_number(p.cost), fields=fields)
    return pabulib.PbFile(meta=meta, projects=out_projects, votes=out_votes, project_columns=pcols,
                          vote_columns=vcols)


def pb_text(exercise) -> str:
    return pabulib.dumps(pb_file(exercise))
