"""API for participatory budgeting and priority setting, under /api/v1/participation/...

Reads: the exercises you may see (open, closed and published ones are public; drafts only to the council's
members), one exercise with its projects, its results (published: everyone; closed: the council's members),
a receipt check, and a council's priority-setting result for a service area. Write: casting a ballot (no
account; the CSRF header as on every unsafe request; a letter or emailed code verifies the voter). Errors are
problem details: 422 a bad ballot (each problem in ``errors``), 409 a code already used, 429 too many ballots
from one address, 404 anything you may not see.
"""

from django.http import Http404
from ninja import Path, Query, Router, Schema, Status
from ninja.errors import HttpError

from commissioner.orgs.auth import client_ip
from commissioner.participation import queries, services
from commissioner.register.schemas import MAX_ID

router = Router(tags=["participation"])


class ProjectOut(Schema):
    id: str
    title: str
    description: str
    cost: str | None = None
    category: str
    area: str


class ExerciseOut(Schema):
    id: int
    owner: str
    kind: str
    title: str
    status: str
    ballot_type: str
    budget: str | None = None
    rule: str
    tie_break: str
    verification: str
    opens_at: str | None = None
    closes_at: str | None = None
    synthetic: bool


class ExerciseDetail(ExerciseOut):
    description: str
    service_area: str
    min_choices: int | None = None
    max_choices: int | None = None
    points_total: str | None = None
    max_points: str | None = None
    eligible_areas: list[str]
    minimum_age: int | None = None
    projects: list[ProjectOut]


class ResultRow(Schema):
    project_id: str
    title: str
    cost: str | None = None
    votes: int | None = None
    points: str | None = None
    funded: bool | None = None
    status: str | None = None
    explanation: str | None = None
    rank: int | None = None
    score: float | None = None
    mean: float | None = None


class ResultsOut(Schema):
    exercise: int
    kind: str
    rule: str
    published: bool
    ballots: int
    funded_cost: str | None = None
    synthetic: bool
    rows: list[ResultRow]


class BallotIn(Schema):
    code: str
    nonce: str
    choices: list[str] | None = None
    points: dict[str, str] | None = None
    ranks: dict[str, str] | None = None
    area: str | None = None
    age: str | None = None


class ReceiptOut(Schema):
    receipt: str
    created: bool


class CheckedOut(Schema):
    counted: bool
    choices: list[str]
    points: list[str] | None = None


def _out(e):
    return {"id": e.pk, "owner": e.owner.name, "kind": e.kind, "title": e.title, "status": e.status,
            "ballot_type": e.ballot_type, "budget": None if e.budget is None else str(e.budget), "rule": e.rule,
            "tie_break": e.tie_break, "verification": e.verification,
            "opens_at": e.opens_at.isoformat() if e.opens_at else None,
            "closes_at": e.closes_at.isoformat() if e.closes_at else None, "synthetic": e.synthetic}


def _exercise(request, pk):
    exercise = queries.exercise_for(request.user, pk)
    if exercise is None:
        raise Http404(f"No exercise with id {pk} that you may see.")
    return exercise


@router.get("/participation/exercises", response=list[ExerciseOut], url_name="participation_exercises")
def list_exercises(request):
    """The exercises you may see, newest first."""
    return [_out(e) for e in queries.exercises(request.user)]


@router.get("/participation/exercises/{exercise_id}", response=ExerciseDetail, url_name="participation_exercise")
def exercise_detail(request, exercise_id: int = Path(..., ge=1, le=MAX_ID)):
    """One exercise with its projects (or priorities)."""
    e = _exercise(request, exercise_id)
    return {**_out(e), "description": e.description, "service_area": e.service_area, "min_choices": e.min_choices,
            "max_choices": e.max_choices, "points_total": None if e.points_total is None else str(e.points_total),
            "max_points": None if e.max_points is None else str(e.max_points), "eligible_areas": e.eligible_areas,
            "minimum_age": e.minimum_age,
            "projects": [{"id": p.code, "title": p.title, "description": p.description,
                          "cost": None if p.cost is None else str(p.cost), "category": p.category, "area": p.area}
                         for p in queries.projects(e)]}


@router.get("/participation/exercises/{exercise_id}/results", response=ResultsOut, url_name="participation_results")
def exercise_results(request, exercise_id: int = Path(..., ge=1, le=MAX_ID)):
    """The count by the exercise's rule, with why each project was or was not funded; for priority setting the
    Borda points or mean weights."""
    e = _exercise(request, exercise_id)
    if not queries.can_see_results(request.user, e):
        raise Http404(f"The results of exercise {exercise_id} are not published.")
    if e.is_priorities:
        data = queries.priority_results(e)
        rows = [{"project_id": r["code"], "title": r["title"], "rank": r["rank"], "score": r["score"],
                 "mean": r["mean"]} for r in data["rows"]]
        return {"exercise": e.pk, "kind": e.kind, "rule": data["method"], "published": e.status == "published",
                "ballots": data["ballots"], "synthetic": e.synthetic, "rows": rows}
    data = queries.results(e)
    rows = [{"project_id": r["code"], "title": r["title"], "cost": str(r["cost"]), "votes": r["votes"],
             "points": None if r["points"] is None else str(r["points"]), "funded": r["funded"],
             "status": r["status"], "explanation": r["explanation"]} for r in data["rows"]]
    return {"exercise": e.pk, "kind": e.kind, "rule": e.rule, "published": e.status == "published",
            "ballots": data["ballots"], "funded_cost": str(data["funded_cost"]), "synthetic": e.synthetic,
            "rows": rows}


@router.post("/participation/exercises/{exercise_id}/ballots", response={201: ReceiptOut, 200: ReceiptOut},
             url_name="participation_ballot")
def cast_ballot(request, payload: BallotIn, exercise_id: int = Path(..., ge=1, le=MAX_ID)):
    """Cast a ballot with a letter or emailed code. ``nonce``: a random string of 16+ characters you choose per
    ballot; sending the same nonce and code again returns the same receipt (200) instead of a second vote."""
    e = _exercise(request, exercise_id)
    wait = services.rate_limited(client_ip(request))
    if wait:
        raise HttpError(429, f"Too many ballots from your address: try again in {wait} seconds.")
    try:
        receipt, created = services.cast_ballot(exercise=e, **payload.dict())
    except services.BallotRefused as error:
        if error.duplicate:
            raise HttpError(409, str(error)) from None
        if error.closed:
            raise HttpError(409, str(error)) from None
        from commissioner.api import invalid_parameters

        return invalid_parameters(request, [{"name": f, "in": "body", "detail": m, "code": "invalid"}
                                            for f, m in error.errors])
    return Status(201 if created else 200, {"receipt": receipt, "created": created})


@router.get("/participation/exercises/{exercise_id}/receipts/{receipt}", response=CheckedOut,
            url_name="participation_receipt")
def check_receipt(request, receipt: Path[str], exercise_id: int = Path(..., ge=1, le=MAX_ID)):
    """Was the ballot with this receipt counted? Its content, never its voter."""
    e = _exercise(request, exercise_id)
    ballot = queries.ballot_for_receipt(e, receipt[:60])
    if ballot is None:
        raise Http404("No ballot with this receipt in this exercise.")
    return {"counted": True, "choices": ballot.choices, "points": ballot.points}


@router.get("/participation/councils/{slug}/priorities", response=ResultsOut, url_name="participation_priorities")
def council_priorities(request, slug: Path[str], service_area: Query[str]):
    """A council's latest priority-setting result for a service area (what the options appraisal reads)."""
    org = queries.organisation(slug)
    if org is None:
        raise Http404(f"No organisation '{slug[:100]}'.")
    found = queries.priorities_for(org, service_area[:200])
    if found is None or queries.exercise_for(request.user, found["exercise"].pk) is None \
            or not queries.can_see_results(request.user, found["exercise"]):
        raise Http404(f"No priority-setting result for '{service_area[:100]}' that you may see.")
    e = found["exercise"]
    return {"exercise": e.pk, "kind": e.kind, "rule": found["method"], "published": found["published"],
            "ballots": found["ballots"], "synthetic": e.synthetic,
            "rows": [{"project_id": r["code"], "title": r["title"], "rank": r["rank"], "score": r["score"],
                      "mean": r["mean"]} for r in found["rows"]]}
