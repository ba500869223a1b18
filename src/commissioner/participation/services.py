"""The only writes for participatory budgeting and priority setting: exercises and their projects, status
changes, letter codes, emailed codes, ballots, .pb imports, the rate limit, and the synthetic demo.

Council writes check ``refuse_unless_editor`` (refusals are audited) and run in one transaction with an audit
event. Residents' writes (asking for an emailed code, casting a ballot) need no account: they are checked
here, whole, and refused with ``BallotRefused`` (every problem, by field) before anything is saved.

Privacy (docs/participation.md): codes, addresses and receipts are stored as keyed hashes (HMAC-SHA256 with
the SECRET_KEY). Casting a ballot marks the verification record used and creates the ballot in the same
transaction, but nothing links them: no foreign key, no shared id, no timestamp on either; the audit event
for a ballot names the exercise only. ``methods.pb`` (NumPy) is imported inside the functions that count.
"""

import hashlib
import hmac
import random
import re
import secrets
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from commissioner.methods import pabulib
from commissioner.orgs.services import Refused, audit, refuse_unless_editor, snapshot  # noqa: F401 (Refused: callers)
from commissioner.participation.models import Ballot, BallotAttempt, EmailVoter, Exercise, Project, VoterCode

MAX_NUMBER = Decimal("1e13")
MAX_PB_BYTES = 20_000_000
MAX_CODES = 5000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to type from a letter
EMAIL_CODE_HOURS = 24
EMAIL_CODE_COOLDOWN = 300  # seconds before the same address may be sent another code
LONDON = ZoneInfo("Europe/London")
BUDGET_TYPES = ("approval", "choose-1", "cumulative", "ordinal")
PRIORITY_TYPES = ("ordinal", "weights")
EXERCISE_FIELDS = ("kind", "title", "description", "service_area", "budget", "ballot_type", "min_choices",
                   "max_choices", "points_total", "max_points", "opens_at", "closes_at", "eligible_areas",
                   "minimum_age", "rule", "threshold", "tie_break", "verification", "status", "is_private")
RULE_FIELDS = ("rule", "threshold", "tie_break")
PB_RULES = {"greedy": "greedy", "greedy-threshold": "greedy-threshold", "greedy-no-skip": "greedy-no-skip",
            "mes-add1": "equalshares/add1", "mes": "equalshares", "mes-greedy": "equalshares/greedy"}


class ParticipationInputError(ValueError):
    """Bad input from a council user: ``field`` names it; ``problems`` lists every problem of a .pb file
    (section, line, field, reason)."""

    def __init__(self, field, message, problems=None, more=0, errors=None):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.problems, self.more = field, message, problems or [], more
        self.errors = list(errors or [(field, message)])  # every bad field of a form, (field, message)


class _Errors:
    """Collects the ParticipationInputError of each independent check, so a form shows every problem at once."""

    def __init__(self):
        self.errors = []

    def __call__(self, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except ParticipationInputError as e:
            self.errors += [x for x in e.errors if x not in self.errors]
            return None

    def add(self, field, message):
        self.errors.append((field, message))

    def has(self, *fields):
        return any(f in fields for f, _ in self.errors)

    def raise_any(self):
        if self.errors:
            raise ParticipationInputError(*self.errors[0], errors=self.errors)


class BallotRefused(ValueError):
    """A ballot (or a request for a code) that cannot be accepted: ``errors`` is a list of (field, message);
    ``duplicate`` when the code or address has voted already, ``closed`` when voting is not open."""

    def __init__(self, errors, *, duplicate=False, closed=False):
        super().__init__("; ".join(m for _, m in errors))
        self.errors, self.duplicate, self.closed = list(errors), duplicate, closed


# Keyed hashes ---------------------------------------------------------------------------------------

def keyed_digest(purpose, value):
    """HMAC-SHA256 of ``value`` under the SECRET_KEY, per purpose (code, email, receipt, address)."""
    key = hashlib.sha256(f"commissioner.participation:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()


def normalise_code(code):
    return re.sub(r"[\s\-]+", "", str(code or "")).upper()[:64]


def code_digest(exercise, code):
    return keyed_digest("code", f"{exercise.pk}:{normalise_code(code)}")


def address_digest(exercise, email):
    return keyed_digest("email", f"{exercise.pk}:{email.strip().lower()}")


def receipt_for(exercise, nonce):
    """The receipt of the ballot sent with the form nonce ``nonce``: the same nonce gives the same receipt, so
    a repeated submission (a double click) finds its ballot instead of casting another."""
    raw = hmac.new(settings.SECRET_KEY.encode(), f"receipt:{exercise.pk}:{nonce}".encode(), hashlib.sha256).digest()
    letters = "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in raw[:16])
    return "-".join(letters[i:i + 4] for i in range(0, 16, 4))


def receipt_digest(exercise, receipt):
    return keyed_digest("receipt", f"{exercise.pk}:{normalise_code(receipt)}")


def new_nonce():
    return secrets.token_urlsafe(24)


def _new_code(rng=None):
    pick = (rng.choice if rng else secrets.choice)
    letters = "".join(pick(CODE_ALPHABET) for _ in range(12))
    return "-".join(letters[i:i + 4] for i in range(0, 12, 4))


# Parsing --------------------------------------------------------------------------------------------

def _label(field):
    return field.replace("_", " ")


def parse_number(value, field, *, low=None, required=True, whole=False, label=None):
    label = label or _label(field)
    text = "" if value is None else str(value).strip()
    if isinstance(value, bool):
        raise ParticipationInputError(field, f"{label.capitalize()} must be a number")
    if not text:
        if required:
            raise ParticipationInputError(field, f"Enter the {label}")
        return None
    try:
        number = Decimal(re.sub(r"[£,\s]", "", text))
    except InvalidOperation:
        raise ParticipationInputError(field, f"{label.capitalize()} must be a number, not '{text[:40]}'") from None
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        raise ParticipationInputError(field, f"{label.capitalize()} must be a number under 10,000,000,000,000")
    if whole and number != number.to_integral_value():
        raise ParticipationInputError(field, f"{label.capitalize()} must be a whole number, not '{text[:40]}'")
    if low is not None and number < low:
        raise ParticipationInputError(field, f"{label.capitalize()} must be {low} or more, not {text[:40]}")
    return int(number) if whole else number


def parse_text(value, field, *, max_length, required=True, label=None):
    text = "" if value is None else str(value).strip()
    label = label or _label(field)
    if "\x00" in text:
        raise ParticipationInputError(field, f"{label.capitalize()} holds a NUL character")
    if required and not text:
        raise ParticipationInputError(field, f"Enter the {label}")
    if len(text) > max_length:
        raise ParticipationInputError(field, f"{label.capitalize()} must be {max_length:,} characters or fewer")
    return text


def parse_choice(value, field, choices, label=None):
    text = str(value or "").strip()
    if text not in dict(choices):
        raise ParticipationInputError(field, f"Choose the {label or _label(field)}")
    return text


def parse_date(value, field, label=None):
    label = label or _label(field)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ParticipationInputError(field, f"Enter the {label}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParticipationInputError(field, f"{label.capitalize()} must be a real date, as YYYY-MM-DD") from None


def start_of(day):
    return datetime.combine(day, time.min, tzinfo=LONDON)


def clean_exercise(data, *, kind=None):
    """The fields of an exercise checked, or ParticipationInputError naming the first bad one, with every bad
    field in its ``errors``."""
    kind = kind or parse_choice(data.get("kind") or "budget", "kind", Exercise.Kind.choices, "kind of exercise")
    check = _Errors()
    out = {"kind": kind,
           "title": check(parse_text, data.get("title"), "title", max_length=300),
           "description": check(parse_text, data.get("description"), "description", max_length=10_000,
                                required=False),
           "service_area": check(parse_text, data.get("service_area"), "service_area", max_length=200,
                                 required=kind == "priorities")}
    types = PRIORITY_TYPES if kind == "priorities" else BUDGET_TYPES
    ballot_type = str(data.get("ballot_type") or "").strip()
    if ballot_type not in types:
        names = {"ordinal": "ranking", "weights": "weights"}
        check.add("ballot_type", "Choose the ballot type: " + (
            "ranking or weights" if kind == "priorities" else "approval, choose one, cumulative or ordinal")
            if not ballot_type else f"A {names.get(ballot_type, ballot_type)} ballot does not suit this exercise")
    out["ballot_type"] = ballot_type
    if kind == "budget":
        out["budget"] = check(parse_number, data.get("budget"), "budget", low=Decimal("0.01"), label="budget (£)")
    else:
        out["budget"] = None
    whole = {"required": False, "whole": True, "low": 0}
    out["min_choices"] = check(parse_number, data.get("min_choices"), "min_choices", label="fewest choices", **whole)
    out["max_choices"] = check(parse_number, data.get("max_choices"), "max_choices", label="most choices", **whole)
    if ballot_type == "choose-1":
        out["min_choices"] = out["max_choices"] = 1
    if out["max_choices"] == 0:
        check.add("max_choices", "Most choices must be 1 or more (or blank: no limit)")
    elif out["min_choices"] is not None and out["max_choices"] is not None and out["min_choices"] > out["max_choices"]:
        check.add("min_choices", f"Fewest choices ({out['min_choices']}) must not be more than "
                                 f"most choices ({out['max_choices']})")
    out["points_total"] = out["max_points"] = None
    if ballot_type == "cumulative":
        out["points_total"] = check(parse_number, data.get("points_total"), "points_total", whole=True, low=1,
                                    label="points each voter shares out")
    if ballot_type == "weights":
        out["max_points"] = check(parse_number, data.get("max_points") or "10", "max_points", whole=True, low=1,
                                  label="highest weight")
    opens = check(parse_date, data.get("opens_on"), "opens_on", "date voting opens")
    closes = check(parse_date, data.get("closes_on"), "closes_on", "date voting closes")
    if opens is not None and closes is not None:
        if closes < opens:
            check.add("closes_on", "The date voting closes must not be before the date it opens")
        out["opens_at"], out["closes_at"] = start_of(opens), start_of(closes + timedelta(days=1))
    areas = str(data.get("eligible_areas") or "")
    out["eligible_areas"] = [a.strip()[:200] for a in re.split(r"[,\n]", areas) if a.strip()][:200]
    out["minimum_age"] = check(parse_number, data.get("minimum_age"), "minimum_age", required=False, whole=True,
                               low=0, label="minimum age")
    if out["minimum_age"] is not None and out["minimum_age"] > 120:
        check.add("minimum_age", "Minimum age must be from 0 to 120")
    out.update(check(clean_rule, data, kind=kind) or {})
    out["verification"] = check(parse_choice, data.get("verification") or "code", "verification",
                                Exercise.Verification.choices, "way voters are verified")
    check.raise_any()
    return out


def clean_rule(data, *, kind="budget"):
    if kind == "priorities":
        return {"rule": "greedy", "threshold": None, "tie_break": "order"}
    rule = parse_choice(data.get("rule") or "greedy", "rule", Exercise.Rule.choices, "counting rule")
    threshold = None
    if rule == "greedy-threshold":
        threshold = parse_number(data.get("threshold"), "threshold", low=0, label="minimum support")
    tie_break = parse_choice(data.get("tie_break") or "cost,id", "tie_break", Exercise.TieBreak.choices,
                             "tie-break")
    return {"rule": rule, "threshold": threshold, "tie_break": tie_break}


# Exercises ------------------------------------------------------------------------------------------

def create_exercise(*, actor, owner, data, synthetic=False) -> Exercise:
    """A draft exercise for the council ``owner`` (private until opened)."""
    refuse_unless_editor(actor, owner, "run participatory budgeting", owner)
    fields = clean_exercise(data)
    with transaction.atomic():
        exercise = Exercise.objects.create(owner=owner, is_private=True, synthetic=synthetic, **fields)
        audit(actor=actor, organisation=owner, action="created", obj=exercise,
              after=snapshot(exercise, EXERCISE_FIELDS))
    return exercise


def update_exercise(*, actor, exercise, data) -> Exercise:
    """Change a draft's settings; once voting has started only the counting rule and tie-break, until the
    results are published."""
    refuse_unless_editor(actor, exercise.owner, "change the exercise", exercise)
    if exercise.status == Exercise.Status.PUBLISHED:
        raise ParticipationInputError("rule", "The results are published: the exercise can no longer change")
    if exercise.status == Exercise.Status.DRAFT and exercise.source != "pb":
        fields = clean_exercise(data, kind=exercise.kind)
    else:
        fields = clean_rule(data, kind=exercise.kind)
    with transaction.atomic():
        exercise = Exercise.objects.select_for_update().get(pk=exercise.pk)
        before = snapshot(exercise, EXERCISE_FIELDS)
        for key, value in fields.items():
            setattr(exercise, key, value)
        exercise.save()
        audit(actor=actor, organisation=exercise.owner, action="updated", obj=exercise, before=before,
              after=snapshot(exercise, EXERCISE_FIELDS))
    return exercise


PROJECT_FIELDS = ("code", "title", "description", "cost", "category", "area")


def clean_project(exercise, data):
    title = parse_text(data.get("title"), "title", max_length=300, label="name of the project")
    code = parse_text(data.get("code"), "code", max_length=100, required=False, label="project id")
    if code and not re.fullmatch(r"[A-Za-z0-9_.\-]+", code):
        raise ParticipationInputError("code", "Project id may hold only letters, digits, '.', '-' and '_'")
    if not code:
        taken = set(exercise.projects.values_list("code", flat=True))
        n = exercise.projects.count() + 1
        while str(n) in taken:
            n += 1
        code = str(n)
    elif exercise.projects.filter(code=code).exists():
        raise ParticipationInputError("code", f"The exercise already has a project with id {code}")
    same = exercise.projects.filter(title__iexact=title).first()
    if same is not None:
        raise ParticipationInputError("title", f"The exercise already has a project called '{same.title[:80]}'")
    cost = None
    if not exercise.is_priorities:
        cost = parse_number(data.get("cost"), "cost", low=Decimal("0.01"), label="cost (£)")
        if exercise.budget is not None and cost > exercise.budget:
            raise ParticipationInputError("cost", f"The cost (£{cost:,}) is more than the whole budget "
                                                  f"(£{exercise.budget:,})")
    return {"code": code, "title": title, "cost": cost,
            "description": parse_text(data.get("description"), "description", max_length=5000, required=False),
            "category": parse_text(data.get("category"), "category", max_length=200, required=False),
            "area": parse_text(data.get("area"), "area", max_length=200, required=False)}


def add_project(*, actor, exercise, data) -> Project:
    what = "add a priority" if exercise.is_priorities else "add a project"
    refuse_unless_editor(actor, exercise.owner, what, exercise)
    if exercise.status != Exercise.Status.DRAFT:
        raise ParticipationInputError("title", "Projects can only be added while the exercise is a draft")
    fields = clean_project(exercise, data)
    with transaction.atomic():
        position = exercise.projects.count() + 1
        project = Project.objects.create(exercise=exercise, position=position, **fields)
        audit(actor=actor, organisation=exercise.owner, action="created", obj=project,
              after=snapshot(project, PROJECT_FIELDS))
    return project


TRANSITIONS = {"open": ("draft", "open"), "close": ("open", "closed"), "publish": ("closed", "published")}


def change_status(*, actor, exercise, action) -> Exercise:
    """Draft -> open -> closed -> published. Opening checks that people can vote in it."""
    refuse_unless_editor(actor, exercise.owner, f"{action} the exercise", exercise)
    if action not in TRANSITIONS:
        raise ParticipationInputError("action", f"Unknown action {action!r}: open, close or publish")
    before_status, after_status = TRANSITIONS[action]
    with transaction.atomic():
        exercise = Exercise.objects.select_for_update().get(pk=exercise.pk)
        if exercise.status != before_status:
            raise ParticipationInputError("action", f"Only a {before_status} exercise can be "
                                                    f"{'published' if action == 'publish' else action + 'ed'}; "
                                                    f"this one is {exercise.get_status_display().lower()}")
        if action == "open":
            _check_ready(exercise)
        before = snapshot(exercise, ("status", "is_private"))
        exercise.status = after_status
        if action in ("open", "publish"):
            exercise.is_private = False
        exercise.save()
        audit(actor=actor, organisation=exercise.owner, action=f"exercise-{action}", obj=exercise, before=before,
              after=snapshot(exercise, ("status", "is_private")))
    return exercise


def _check_ready(exercise):
    n = exercise.projects.count()
    need = 2 if exercise.is_priorities else 1
    what = "priorities" if exercise.is_priorities else "projects"
    if n < need:
        raise ParticipationInputError("action", f"Add at least {need} {what} before opening the vote")
    if exercise.min_choices and exercise.min_choices > n:
        raise ParticipationInputError("action", f"Voters must choose at least {exercise.min_choices} {what}, "
                                                f"but the exercise has only {n}")
    if exercise.opens_at is None or exercise.closes_at is None:
        raise ParticipationInputError("action", "Set the dates voting opens and closes before opening the vote")


# Letter codes and emailed codes ---------------------------------------------------------------------

def generate_codes(*, actor, exercise, count, rng=None) -> list[str]:
    """A batch of one-time codes for letters. Only their hashes are kept: the list returned is the only copy."""
    refuse_unless_editor(actor, exercise.owner, "issue voting codes", exercise)
    if exercise.verification != Exercise.Verification.CODE:
        raise ParticipationInputError("count", "This exercise verifies voters by email, not by letter codes")
    if exercise.status not in (Exercise.Status.DRAFT, Exercise.Status.OPEN):
        raise ParticipationInputError("count", "Voting has closed: no more codes can be issued")
    count = parse_number(count, "count", whole=True, low=1, label="number of codes")
    if count > MAX_CODES:
        raise ParticipationInputError("count", f"At most {MAX_CODES:,} codes at a time")
    with transaction.atomic():
        batch = (exercise.codes.order_by("-batch").values_list("batch", flat=True).first() or 0) + 1
        codes, rows, seen = [], [], set()
        while len(codes) < count:
            code = _new_code(rng)
            digest = code_digest(exercise, code)
            if digest in seen:
                continue
            seen.add(digest)
            codes.append(code)
            rows.append(VoterCode(exercise=exercise, digest=digest, batch=batch))
        VoterCode.objects.bulk_create(rows, batch_size=1000)
        audit(actor=actor, organisation=exercise.owner, action="codes-issued", obj=exercise,
              after={"batch": batch, "codes": count})
    return codes


def request_email_code(*, exercise, email, now=None) -> None:
    """Send a one-time code to ``email`` (Django's email backend). The address is kept only as a keyed hash;
    an address that has voted is refused."""
    _check_voting_open(exercise, now)
    if exercise.verification != Exercise.Verification.EMAIL:
        raise BallotRefused([("email", "This exercise uses codes sent by letter, not email")])
    email = str(email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise BallotRefused([("email", "Enter an email address in the correct format, like name@example.com")]) \
            from None
    digest = address_digest(exercise, email)
    token = _new_code()
    now = now or timezone.now()
    with transaction.atomic():
        voter, _ = EmailVoter.objects.select_for_update().get_or_create(exercise=exercise, address_digest=digest)
        if voter.used:
            raise BallotRefused([("email", ("This email address has already been used to vote in this exercise: "
                                           "each resident votes once"))], duplicate=True)
        issued = voter.expires_at - timedelta(hours=EMAIL_CODE_HOURS) if voter.expires_at else None
        if issued is not None and voter.token_digest and (now - issued).total_seconds() < EMAIL_CODE_COOLDOWN:
            # Nobody may flood an address, or cancel the code a resident is about to use, by asking again.
            raise BallotRefused([("email", ("We sent a code to this address a few minutes ago and it still works: "
                                           "check your email, including any spam folder, or ask again in "
                                           f"{EMAIL_CODE_COOLDOWN // 60} minutes"))])
        voter.token_digest = code_digest(exercise, token)
        voter.expires_at = now + timedelta(hours=EMAIL_CODE_HOURS)
        voter.save()
        audit(actor=None, actor_label="resident", organisation=exercise.owner, action="email-code-sent",
              obj=exercise, after={"exercise": exercise.pk})
    send_mail(f"Your code to vote: {exercise.title[:120]}",
              f"Your one-time code to vote in \"{exercise.title}\" is:\n\n    {token}\n\n"
              f"Enter it on the voting page: {settings.REMINDER_BASE_URL}/participate/{exercise.pk}/vote/?code={token}\n"
              f"It works once, for {EMAIL_CODE_HOURS} hours. If you did not ask for it, ignore this email.\n",
              None, [email])


# Ballots --------------------------------------------------------------------------------------------

def _check_voting_open(exercise, now=None):
    now = now or timezone.now()
    if exercise.status != Exercise.Status.OPEN:
        raise BallotRefused([("choices", (f"Voting is not open: this exercise is "
                                         f"{exercise.get_status_display().lower()}"))], closed=True)
    if exercise.opens_at and now < exercise.opens_at:
        raise BallotRefused([("choices", (f"Voting opens on {exercise.opens_at.astimezone(LONDON):%-d %B %Y}: "
                                         f"come back then"))], closed=True)
    if exercise.closes_at and now >= exercise.closes_at:
        last = (exercise.closes_at - timedelta(days=1)).astimezone(LONDON)
        raise BallotRefused([("choices", f"Voting closed at the end of {last:%-d %B %Y}")], closed=True)


def _whole(value, field, label, errors):
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{1,9}", text):
        errors.append((field, f"{label} must be a whole number, 0 or more, not '{text[:20]}'"))
        return None
    return int(text)


def clean_ballot(exercise, *, choices=None, points=None, ranks=None, area=None, age=None):
    """The ballot as (choices in order, points or None), or BallotRefused with every problem.

    approval / choose-1: ``choices``, the project ids ticked. cumulative and weights: ``points``,
    {project id: points}. ordinal: ``ranks``, {project id: rank (1 = first)}, or ``choices`` in order.
    """
    errors = []
    projects = list(exercise.projects.order_by("position", "id").values_list("code", flat=True))
    known = set(projects)
    what = "priorities" if exercise.is_priorities else "projects"
    kind = exercise.ballot_type
    chosen, given = [], None
    if kind in ("cumulative", "weights", "scoring"):
        given_map = {}
        for code, value in dict(points or {}).items():
            code = str(code)
            if code not in known:
                errors.append(("choices", f"Your ballot names a project that is not in this exercise: {code[:40]}"))
                continue
            n = _whole(value, f"points-{code}", f"Points for {code[:40]}", errors)
            if n:
                given_map[code] = n
        chosen = [p for p in projects if p in given_map]
        given = [given_map[p] for p in chosen]
        top = exercise.points_total if kind == "cumulative" else exercise.max_points
        if kind == "cumulative" and top is not None and sum(given) > top:
            errors.append(("choices", f"You gave {sum(given)} points: you have {int(top)} to share out"))
        if kind == "weights" and top is not None:
            for p, n in zip(chosen, given, strict=True):
                if n > top:
                    errors.append((f"points-{p}", f"The weight for {p} is {n}: at most {int(top)}"))
        if not chosen and not errors:
            errors.append(("choices", "Give points to at least one of the " + what if kind == "cumulative"
                           else "Give a weight to at least one of the " + what))
    elif kind == "ordinal":
        if ranks is not None:
            order = {}
            for code, value in dict(ranks).items():
                code = str(code)
                if code not in known:
                    errors.append(("choices", (f"Your ballot names a project that is not in this exercise: "
                                              f"{code[:40]}")))
                    continue
                n = _whole(value, f"rank-{code}", f"The rank of {code[:40]}", errors)
                if n:
                    order.setdefault(n, []).append(code)
            for n, codes in sorted(order.items()):
                if len(codes) > 1:
                    errors.append(("choices", f"Rank {n} is given to {len(codes)} {what}: give each rank once"))
            if order and sorted(order) != list(range(1, len(order) + 1)):
                errors.append(("choices", (f"Use ranks 1, 2, 3 ... without gaps (you gave "
                                          f"{', '.join(str(n) for n in sorted(order))})")))
            chosen = [c for n in sorted(order) for c in order[n]]
        else:
            chosen = [str(c) for c in (choices or [])]
    else:
        chosen = [str(c) for c in (choices or [])]
    if kind not in ("cumulative", "weights", "scoring"):
        unknown = [c for c in chosen if c not in known]
        if unknown:
            errors.append(("choices", (f"Your ballot names a project that is not in this exercise: "
                                      f"{', '.join(u[:40] for u in unknown[:5])}")))
        if len(set(chosen)) != len(chosen):
            errors.append(("choices", "Your ballot names a project more than once"))
        n = len(chosen)
        low = 1 if exercise.min_choices is None else max(exercise.min_choices, 1)
        high = exercise.max_choices
        verb = "Rank" if kind == "ordinal" else "Choose"
        if kind == "choose-1" and n != 1:
            errors.append(("choices", "Choose one project" if n == 0 else f"Choose only one project (you chose {n})"))
        elif n < low:
            noun = what if low != 1 else ("priority" if exercise.is_priorities else "project")
            errors.append(("choices", f"{verb} at least {low} {noun} (you chose {n})"))
        elif high is not None and n > high:
            errors.append(("choices", f"{verb} at most {high} {what} (you chose {n})"))
    if exercise.eligible_areas:
        areas = {a.lower(): a for a in exercise.eligible_areas}
        if not str(area or "").strip():
            errors.append(("area", "Choose the area you live in"))
        elif str(area).strip().lower() not in areas:
            errors.append(("area", (f"Only residents of {', '.join(exercise.eligible_areas)} may vote in this "
                                   f"exercise")))
        else:
            area = areas[str(area).strip().lower()]
    else:
        area = ""
    if exercise.minimum_age is not None:
        years = _whole(age, "age", "Your age", errors)
        if years is None and not any(f == "age" for f, _ in errors):
            errors.append(("age", "Enter your age in years"))
        elif years is not None and years < exercise.minimum_age:
            errors.append(("age", f"You must be {exercise.minimum_age} or older to vote in this exercise"))
        elif years is not None and years > 120:
            errors.append(("age", "Enter your age in years, from 0 to 120"))
    if errors:
        raise BallotRefused(errors)
    return chosen, given, area


def cast_ballot(*, exercise, code, nonce, choices=None, points=None, ranks=None, area=None, age=None, now=None):
    """Check and record one ballot. Returns (receipt, created): ``created`` False when the same form was sent
    again (a double click), in which case the first ballot stands and its receipt is given again.

    The code is a letter code or an emailed code (by the exercise's verification). The ballot and the spent
    code are written in one transaction with nothing linking them."""
    _check_voting_open(exercise, now)
    nonce = str(nonce or "").strip()[:100]
    if len(nonce) < 16:
        raise BallotRefused([("choices", "The form has expired: open the voting page again")])
    receipt = receipt_for(exercise, nonce)
    r_digest = receipt_digest(exercise, receipt)
    errors = []  # every problem at once: the ballot's and the code's
    try:
        chosen, given, area = clean_ballot(exercise, choices=choices, points=points, ranks=ranks, area=area, age=age)
    except BallotRefused as e:
        errors.extend(e.errors)
    now = now or timezone.now()
    records = record = None
    if not normalise_code(code):
        errors.append(("code", "Enter your voting code" if exercise.verification == "code"
                       else "Enter the code we emailed you"))
    else:
        c_digest = code_digest(exercise, code)
        if exercise.verification == Exercise.Verification.CODE:
            records = VoterCode.objects.filter(exercise=exercise, digest=c_digest)
        else:
            records = EmailVoter.objects.filter(exercise=exercise, token_digest=c_digest)
        record = records.first()
        if record is None or (exercise.verification == "email" and record.expires_at and record.expires_at < now):
            errors.append(("code", ("This code is not one we issued for this exercise (or it has expired): "
                                    "check it and try again")))
    if errors:
        raise BallotRefused(errors)
    try:
        with transaction.atomic():
            if Ballot.objects.filter(exercise=exercise, receipt_digest=r_digest).exists():
                if records.filter(pk=record.pk, used=True).exists():
                    return receipt, False  # the same form and code again (a double click): the ballot is in
                raise BallotRefused([("code", ("This form has already been used to vote: open the voting page "
                                              "again to vote with another code"))])
            spent = records.filter(pk=record.pk, used=False).update(used=True)
            if not spent:
                raise BallotRefused([("code", "This code has already been used to vote: each resident votes once")],
                                    duplicate=True)
            Ballot.objects.create(exercise=exercise, receipt_digest=r_digest, choices=chosen,
                                  points=None if given is None else [str(p) for p in given], area=area or "")
            # The audit trail records that a ballot was cast in the exercise: not which ballot, nor which code.
            audit(actor=None, actor_label="resident", organisation=exercise.owner, action="ballot-cast",
                  obj=exercise, after={"exercise": exercise.pk})
    except IntegrityError:
        if Ballot.objects.filter(exercise=exercise, receipt_digest=r_digest).exists():
            return receipt, False
        raise
    return receipt, True


# Rate limit -----------------------------------------------------------------------------------------

def rate_limited(address, *, now=None) -> int:
    """Record one ballot or code request from ``address`` and return the seconds to wait (0: go ahead).

    At most PARTICIPATION_RATE_LIMIT (30) within PARTICIPATION_RATE_WINDOW_SECONDS (3,600) per address, counted
    in the database (BallotAttempt) so it holds across server processes. Addresses are kept as keyed hashes."""
    limit = int(getattr(settings, "PARTICIPATION_RATE_LIMIT", 30))
    window = timedelta(seconds=int(getattr(settings, "PARTICIPATION_RATE_WINDOW_SECONDS", 3600)))
    now = now or timezone.now()
    digest = keyed_digest("address", address or "unknown")
    recent = list(BallotAttempt.objects.filter(address_digest=digest, at__gte=now - window)
                  .order_by("-at").values_list("at", flat=True)[:limit])
    if len(recent) >= limit:
        return max(1, int((recent[-1] + window - now).total_seconds()) + 1)
    BallotAttempt.objects.create(address_digest=digest)
    BallotAttempt.objects.filter(at__lt=now - window * 2).delete()  # old attempts are not kept
    return 0


# .pb files ------------------------------------------------------------------------------------------

def _pb_date(value):
    value = (value or "").strip()
    m = re.fullmatch(r"(\d{2})\.(\d{2})\.(\d{4})", value)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if re.fullmatch(r"\d{4}", value):
            return date(int(value), 1, 1)
    except ValueError:
        return None
    return None


def _problems(errors):
    return [{"section": p.section, "line": p.line, "field": p.field or "", "reason": p.message} for p in errors]


def import_pb(*, actor, owner, data: bytes, name="", synthetic=False, actor_label="") -> Exercise:
    """A pabulib .pb file as a closed exercise with its ballots (voter ids kept as the ballots' labels).
    The file is checked whole first (methods.pabulib.check): any problem and nothing is saved."""
    if actor is not None or not actor_label:
        refuse_unless_editor(actor, owner, "import a .pb file", owner)
    if len(data) > MAX_PB_BYTES:
        raise ParticipationInputError("file", f"The file is too large: at most {MAX_PB_BYTES // 1_000_000} MB")
    if not data.strip():
        raise ParticipationInputError("file", "The file is empty")
    try:
        pb = pabulib.loads(data)
    except pabulib.PbFileError as error:
        raise ParticipationInputError(
            "file", f"{len(error.problems) + error.more} problem(s) in the .pb file; nothing was saved",
            _problems(error.problems), error.more) from None
    from commissioner.methods import pb as rules

    kind_map = {"approval": "approval", "choose-1": "choose-1", "cumulative": "cumulative", "ordinal": "ordinal",
                "scoring": "scoring"}
    notes = []
    try:
        settings_ = rules.rule_settings(pb.meta)
        if settings_["rule"] == "greedy":
            rule = "greedy" if settings_["skip"] and settings_["threshold"] is None else (
                "greedy-threshold" if settings_["threshold"] is not None else "greedy-no-skip")
        else:
            rule = "mes-add1" if settings_["completion"] == "add1" else "mes"
        threshold = settings_.get("threshold")
    except ValueError:
        rule, threshold = "greedy", None
        notes.append(f"META rule {pb.rule!r} has no counting rule here: counted by greedy")
    title = (pb.meta.get("description") or "").strip() or f"{pb.meta.get('unit', '')} {pb.meta.get('instance', '')}"
    opens, closes = _pb_date(pb.meta.get("date_begin")), _pb_date(pb.meta.get("date_end"))
    if closes and len(pb.meta.get("date_end", "").strip()) == 4:
        closes = date(closes.year, 12, 31)
    limits = {k: pb.meta_int(k) if k in ("min_length", "max_length") else None for k in ("min_length", "max_length")}
    points_total = pb.meta.get("max_sum_points", "").strip() if pb.vote_type == "cumulative" else ""
    max_points = pb.meta.get("max_points", "").strip() if pb.vote_type == "scoring" else ""
    project_columns, vote_columns = list(pb.project_columns), list(pb.vote_columns)
    with transaction.atomic():
        exercise = Exercise.objects.create(
            owner=owner, is_private=True, kind="budget", title=title[:300],
            description=(f"Imported from {name[:200]}. " if name else "Imported .pb file. ") + " ".join(notes),
            budget=Decimal(pb.budget), currency=(pb.meta.get("currency") or "").strip()[:3],
            ballot_type=kind_map[pb.vote_type], min_choices=limits["min_length"], max_choices=limits["max_length"],
            points_total=Decimal(pabulib.parse_number(points_total)) if points_total else None,
            max_points=Decimal(pabulib.parse_number(max_points)) if max_points else None,
            opens_at=start_of(opens) if opens else None,
            closes_at=start_of(closes + timedelta(days=1)) if closes else None,
            rule=rule, threshold=threshold, tie_break="cost,id", verification="code", status="closed",
            source="pb", source_name=name[:300], pb_meta=[[k, v] for k, v in pb.meta.items()],
            pb_columns={"projects": project_columns, "votes": vote_columns}, synthetic=synthetic)
        Project.objects.bulk_create([
            Project(exercise=exercise, code=p.project_id, position=i, cost=Decimal(p.cost),
                    title=(p.fields.get("name") or "").strip()[:300] or f"Project {p.project_id}"[:300],
                    description=(p.fields.get("description") or "").strip()[:5000],
                    category=(p.fields.get("category") or "").strip()[:200],
                    area=(p.fields.get("neighborhood") or p.fields.get("district") or "").strip()[:200],
                    extra=p.fields)
            for i, p in enumerate(pb.projects.values(), 1)], batch_size=1000)
        rows = []
        for i, v in enumerate(pb.votes, 1):
            digest = keyed_digest("receipt", f"{exercise.pk}:imported:{i}")
            rows.append(Ballot(exercise=exercise, receipt_digest=digest, choices=list(v.vote),
                               points=None if v.points is None else [str(p) for p in v.points],
                               source="imported", voter_label=v.voter_id[:100], extra=v.fields, position=i))
        Ballot.objects.bulk_create(rows, batch_size=2000)
        audit(actor=actor, actor_label=actor_label, organisation=owner, action="pb-imported", obj=exercise,
              after={"file": name[:200], "projects": len(pb.projects), "ballots": len(pb.votes),
                     "rule": rule, "synthetic": synthetic})
    return exercise


# The demo -------------------------------------------------------------------------------------------

DEMO_FILE = settings.BASE_DIR / "data" / "samples" / "participation" / "doncaster_demo_2025.pb"
DEMO_OPEN = "Synthetic demo: Doncaster parks fund 2026 (open for voting)"
DEMO_PRIORITIES = "Synthetic demo: adult social care priorities"
DEMO_CODES = tuple(f"DEMO-VOTE-{n:04d}" for n in range(1, 21))
DEMO_PROJECTS = (  # id, title, cost, category, area, description (all made up)
    ("P1", "Play area repairs, Hexthorpe Park", 18000, "Parks", "Hexthorpe",
     "Replace the broken swings and resurface the toddlers' play area."),
    ("P2", "Wildflower meadows on three verges", 9000, "Environment", "Bessacarr",
     "Sow wildflowers on three grass verges and cut them twice a year, for bees and butterflies."),
    ("P3", "Outdoor gym, Sandall Park", 22000, "Parks", "Wheatley",
     "Eight pieces of free outdoor exercise equipment by the lake, with signs showing how to use them."),
    ("P4", "Benches and bins along the riverside path", 7500, "Parks", "Town Centre",
     "Ten benches and twelve litter bins along the riverside path."),
    ("P5", "Community orchard", 12000, "Environment", "Balby",
     "Plant 40 fruit trees on the green by the community centre, looked after by local volunteers."),
)
DEMO_PRIORITY_OPTIONS = (
    ("A", "Help to stay independent at home"), ("B", "Shorter waits for an assessment"),
    ("C", "Support for unpaid carers"), ("D", "Day opportunities and company"),
    ("E", "Better information and advice"), ("F", "Care workers paid and trained well"),
)


def demo(*, la_code="DNC"):
    """For the demo council: the synthetic .pb example imported and published, an open exercise residents can
    vote in with a printed demo code, and a published priority-setting exercise. Deterministic, labelled
    synthetic, idempotent. Returns a line for the demo's output."""
    from commissioner.orgs.models import Organisation

    org = Organisation.objects.filter(la_code=la_code).first()
    if org is None:
        return "Participatory budgeting demo: no demo council"
    if not Exercise.objects.filter(owner=org, synthetic=True, source="pb").exists():
        exercise = import_pb(actor=None, actor_label="demo", owner=org, data=DEMO_FILE.read_bytes(),
                             name=DEMO_FILE.name, synthetic=True)
        Exercise.objects.filter(pk=exercise.pk).update(status="published", is_private=False)
    open_ex = Exercise.objects.filter(owner=org, synthetic=True, title=DEMO_OPEN).first()
    if open_ex is None:
        with transaction.atomic():
            open_ex = Exercise.objects.create(
                owner=org, is_private=False, synthetic=True, title=DEMO_OPEN, budget=Decimal(40000),
                description="A synthetic demo exercise: the projects are made up. Choose up to 2 projects; vote with "
                            "one of the demo codes (DEMO-VOTE-0001 to DEMO-VOTE-0020).",
                ballot_type="approval", min_choices=1, max_choices=2, opens_at=start_of(date(2026, 1, 1)),
                closes_at=start_of(date(2031, 1, 1)), eligible_areas=[], minimum_age=16, rule="greedy",
                verification="code", status="open")
            for i, (code, title, cost, category, area, description) in enumerate(DEMO_PROJECTS, 1):
                Project.objects.create(exercise=open_ex, code=code, title=title, cost=cost, category=category,
                                       area=area, position=i, description=description)
            VoterCode.objects.bulk_create([VoterCode(exercise=open_ex, digest=code_digest(open_ex, c), batch=1)
                                           for c in DEMO_CODES])
            audit(actor=None, actor_label="demo", organisation=org, action="created", obj=open_ex,
                  after={"demo": "synthetic", "codes": len(DEMO_CODES)})
    if not Exercise.objects.filter(owner=org, synthetic=True, title=DEMO_PRIORITIES).exists():
        rng = random.Random(2026)
        with transaction.atomic():
            pri = Exercise.objects.create(
                owner=org, is_private=False, synthetic=True, kind="priorities", title=DEMO_PRIORITIES,
                service_area="Adult social care", ballot_type="ordinal", max_choices=3, rule="greedy",
                tie_break="order", opens_at=start_of(date(2025, 9, 1)), closes_at=start_of(date(2025, 10, 1)),
                description="Synthetic demo: 120 made-up residents ranked up to three priorities.",
                status="published")
            codes = [c for c, _ in DEMO_PRIORITY_OPTIONS]
            for i, (code, title) in enumerate(DEMO_PRIORITY_OPTIONS, 1):
                Project.objects.create(exercise=pri, code=code, title=title, position=i)
            appeal = [6, 5, 4, 2, 1, 3]
            for i in range(120):
                pool, ranking = list(codes), []
                for _ in range(rng.choice((1, 2, 3, 3))):
                    pick = rng.choices(pool, weights=[appeal[codes.index(c)] for c in pool])[0]
                    pool.remove(pick)
                    ranking.append(pick)
                Ballot.objects.create(exercise=pri, receipt_digest=keyed_digest("receipt", f"{pri.pk}:demo:{i}"),
                                      choices=ranking, source="demo", position=i + 1)
            audit(actor=None, actor_label="demo", organisation=org, action="created", obj=pri,
                  after={"demo": "synthetic", "ballots": 120})
    return (f"Participatory budgeting (synthetic demo): vote at /participate/{open_ex.pk}/vote/ with a demo code "
            f"such as {DEMO_CODES[0]} (each works once; {', '.join(DEMO_CODES[1:3])} ... {DEMO_CODES[-1]})")
