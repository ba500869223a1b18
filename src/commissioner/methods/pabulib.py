"""Read, check and write pabulib `.pb` files (participatory budgeting elections): pure functions, no Django.

The format (https://pabulib.org/format; Stolicki, Szufa and Talmon, "Pabulib: A Participatory Budgeting
Library", arXiv:2012.06539) is one UTF-8 text file in three sections, each a `;`-separated table with a
header row, quoted as CSV is (`"` around a field, `""` for a quote inside it):

    META                    PROJECTS                          VOTES
    key;value               project_id;cost;...;selected      voter_id;vote;points;...
    budget;100000           3;7200;...;1                      v1;3,9,13;...

Lists inside a field (the projects of a vote, its points, categories) are separated by commas.

What the reader accepts: a UTF-8 byte-order mark, CRLF or LF line endings, blank lines, section names in
any case, a comma as the decimal mark in a number that is a single value (`cost`, `budget`, META limits:
the pabulib checker's "comma in float"; in `points`, where a comma separates the list, it cannot be).
Costs, budgets and points are `int` when whole and `Decimal` otherwise, never float.

What it checks, in the spirit of the pabulib checker (each problem names the section, the line and the
field): the three sections in order with their header rows; the required META keys (`REQUIRED_META`);
`vote_type` one of `VOTE_TYPES`; `budget`, `num_projects`, `num_votes` and the ballot limits are numbers;
`num_projects` and `num_votes` equal the rows counted; dates `dd.mm.yyyy` or `yyyy`, begin not after end;
`currency` an ISO 4217 code; `language` two lower-case letters; duplicate project ids and voter ids; costs
positive numbers; `selected` 0-3 and the cost of the selected (1) projects within the budget; the `votes`
and `score` columns whole numbers not below zero and equal to the counts from the VOTES section; voter ids
without commas; each vote naming known projects, once each, between `min_length` and `max_length` of
them (exactly one for choose-1); points (required for cumulative and scoring) one number per project
voted for, each within `min_points`/`max_points` and their sum within `min_sum_points`/`max_sum_points`;
`sex` M, F or O; `age` a whole number 0-120; `voting_method` internet or paper.

`loads`/`load` return a `PbFile` or raise `PbFileError` listing every problem found; `check`/`check_file`
return the problems without raising. `dumps`/`dump` write a `PbFile` back (and refuse to write an invalid
one); `loads(dumps(f)) == f` for every file that `loads` accepts. `ballot_problems` checks one ballot against
the META limits, for ballots cast in the product as for files.
"""

import csv
import io
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

VOTE_TYPES = ("approval", "ordinal", "cumulative", "choose-1", "scoring")
REQUIRED_META = (
    "description",
    "country",
    "unit",
    "instance",
    "num_projects",
    "num_votes",
    "budget",
    "vote_type",
    "rule",
    "date_begin",
    "date_end",
)
INT_META = (
    "num_projects",
    "num_votes",
    "min_length",
    "max_length",
    "min_project_score_threshold",
    "fully_funded",
    "experimental",
)
NUMBER_META = (
    "budget",
    "min_sum_cost",
    "max_sum_cost",
    "min_points",
    "max_points",
    "min_sum_points",
    "max_sum_points",
    "default_score",
    "min_project_cost",
    "max_project_cost",
)
SEXES = ("M", "F", "O")
VOTING_METHODS = ("internet", "paper")
MAX_REPORTED = 200  # problems kept in detail; the count of the rest is still given

# ISO 4217 alphabetic codes (current, plus a few still met in older data).
_CURRENCY_CODES = """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
    GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
    LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP
    SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
    ZMW ZWG ZWL"""
CURRENCIES = frozenset(_CURRENCY_CODES.split())
_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$|^(\d{4})$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (section, line, field) and what."""

    section: str  # "file", "META", "PROJECTS" or "VOTES"
    line: int | None  # physical line number, 1-based
    field: str | None  # META key or column name
    message: str

    def __str__(self):
        where = self.section + (f" line {self.line}" if self.line else "") + (f", {self.field}" if self.field else "")
        return f"{where}: {self.message}"


class PbFileError(ValueError):
    """The file is not a valid .pb file; `problems` lists everything found, in file order."""

    def __init__(self, problems, more=0):
        self.problems = list(problems)
        self.more = more
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        extra = len(self.problems) - 20 + more
        tail = f"\n  ... and {extra} more" if extra > 0 else ""
        super().__init__(f"invalid .pb file ({len(self.problems) + more} problems):\n{shown}{tail}")


@dataclass
class PbProject:
    """A row of PROJECTS: its id, its cost and the other columns as written (strings)."""

    project_id: str
    cost: int | Decimal
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def selected(self) -> int | None:
        """The official outcome: 1 funded, 0 not (2, 3: the checker's other codes); None when absent."""
        value = self.fields.get("selected", "")
        return int(value) if value.strip().isdigit() else None


@dataclass
class PbVote:
    """A row of VOTES: the voter id, the projects in the order given, their points (or None) and other columns."""

    voter_id: str
    vote: tuple[str, ...]
    points: tuple[int | Decimal, ...] | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class PbFile:
    """A parsed .pb file. Column lists keep the file's order so that `dumps` writes the same table."""

    meta: dict[str, str]
    projects: dict[str, PbProject]
    votes: list[PbVote]
    project_columns: tuple[str, ...] = ("project_id", "cost")
    vote_columns: tuple[str, ...] = ("voter_id", "vote")

    @property
    def budget(self) -> int | Decimal:
        return parse_number(self.meta["budget"])

    @property
    def vote_type(self) -> str:
        return self.meta["vote_type"]

    @property
    def rule(self) -> str:
        return self.meta.get("rule", "")

    def meta_int(self, key: str) -> int | None:
        """A whole-number META value, or None when the key is absent or empty."""
        value = self.meta.get(key, "").strip()
        return int(parse_number(value)) if value else None

    def costs(self) -> dict[str, int | Decimal]:
        return {pid: p.cost for pid, p in self.projects.items()}

    def selected(self) -> list[str] | None:
        """Ids of the officially funded projects (`selected` 1) in file order; None when there is no column."""
        if "selected" not in self.project_columns:
            return None
        return [pid for pid, p in self.projects.items() if p.selected == 1]

    def ballots(self) -> list[tuple[str, ...]]:
        """Each vote's project ids, in the order given (for `methods.pb`)."""
        return [v.vote for v in self.votes]

    def points(self) -> list[tuple[int | Decimal, ...]] | None:
        """Each vote's points (for `methods.pb`), or None when no vote has points."""
        if all(v.points is None for v in self.votes):
            return None
        return [v.points if v.points is not None else () for v in self.votes]


def parse_number(text: str) -> int | Decimal:
    """'7200' -> 7200, '12.5' and '12,5' -> Decimal('12.5'); ValueError for anything else."""
    cleaned = text.strip().replace(",", ".")
    if not cleaned:
        raise ValueError("empty")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    if value == value.to_integral_value() and "e" not in cleaned.lower():
        return int(value)
    return value


def _format_number(value) -> str:
    return str(value)


def _decode(source) -> tuple[str | None, list[Problem]]:
    if isinstance(source, str):
        text = source
    else:
        try:
            text = bytes(source).decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, [Problem("file", None, None, f"not UTF-8 (byte {exc.start} cannot be decoded)")]
    return text.removeprefix("\ufeff"), []


class _Collector:
    def __init__(self):
        self.problems: list[Problem] = []
        self.more = 0

    def add(self, section, line, fld, message):
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(Problem(section, line, fld, message))
        else:
            self.more += 1


def _parse(source) -> tuple[PbFile | None, list[Problem], int]:
    text, problems = _decode(source)
    if text is None:
        return None, problems, 0
    out = _Collector()
    meta: dict[str, str] = {}
    meta_lines: dict[str, int] = {}
    projects: dict[str, PbProject] = {}
    project_lines: dict[str, int] = {}
    votes: list[PbVote] = []
    vote_lines: list[int] = []
    headers: dict[str, tuple[str, ...]] = {}
    seen_sections: list[str] = []
    section = None
    expect_header = False
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"', strict=False)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.add(section or "file", reader.line_num, None, f"cannot read the line: {exc}")
            start = reader.line_num + 1
            continue
        line = start
        start = reader.line_num + 1
        if not row or all(not cell.strip() for cell in row):
            continue
        first = row[0].strip()
        if len(row) == 1 and first.upper() in ("META", "PROJECTS", "VOTES"):
            name = first.upper()
            order = ("META", "PROJECTS", "VOTES")
            if name in seen_sections:
                out.add(name, line, None, f"section {name} appears twice")
            elif seen_sections and order.index(name) < order.index(seen_sections[-1]):
                out.add(
                    name, line, None, f"section {name} comes after {seen_sections[-1]} (order: META, PROJECTS, VOTES)"
                )
            seen_sections.append(name)
            section = name
            expect_header = True
            continue
        if section is None:
            out.add("file", line, None, "text before the META section (the file must start with META)")
            continue
        if expect_header:
            expect_header = False
            header = tuple(cell.strip() for cell in row)
            headers[section] = header
            required = {"META": ("key", "value"), "PROJECTS": ("project_id", "cost"), "VOTES": ("voter_id", "vote")}
            for column in required[section]:
                if column not in header:
                    out.add(section, line, column, f"the header row has no {column} column")
            if section == "META" and header[:2] != ("key", "value"):
                out.add(section, line, None, "the header row must be 'key;value'")
            duplicates = sorted({c for c in header if header.count(c) > 1})
            for column in duplicates:
                out.add(section, line, column, f"column {column} appears more than once in the header")
            continue
        header = headers.get(section, ())
        if section == "META":
            key = row[0].strip()
            if len(row) != 2:
                out.add("META", line, key or None, f"expected 2 fields (key;value), found {len(row)}")
            if not key:
                out.add("META", line, None, "empty key")
                continue
            if key in meta:
                out.add("META", line, key, f"key {key} given twice (first on line {meta_lines[key]})")
                continue
            meta[key] = ";".join(row[1:])
            meta_lines[key] = line
            continue
        if len(row) != len(header):
            out.add(section, line, None, f"expected {len(header)} fields as in the header, found {len(row)}")
            continue
        values = dict(zip(header, row, strict=True))
        if section == "PROJECTS":
            pid = values.get("project_id", "").strip()
            if not pid:
                out.add("PROJECTS", line, "project_id", "empty project_id")
                continue
            if pid in projects:
                out.add(
                    "PROJECTS", line, "project_id", f"duplicate project_id {pid} (first on line {project_lines[pid]})"
                )
                continue
            raw_cost = values.get("cost", "")
            try:
                cost = parse_number(raw_cost)
                if cost <= 0:
                    out.add("PROJECTS", line, "cost", f"project {pid}: cost {raw_cost.strip()} is not positive")
            except ValueError:
                out.add("PROJECTS", line, "cost", f"project {pid}: cost {raw_cost!r} is not a number")
                cost = 0
            others = {k: v for k, v in values.items() if k not in ("project_id", "cost")}
            projects[pid] = PbProject(pid, cost, others)
            project_lines[pid] = line
        else:
            voter = values.get("voter_id", "").strip()
            raw_vote = values.get("vote", "").strip()
            vote = tuple(p.strip() for p in raw_vote.split(",")) if raw_vote else ()
            points = None
            if "points" in values and values["points"].strip():
                try:
                    points = tuple(parse_number(p) for p in values["points"].split(","))
                except ValueError:
                    out.add("VOTES", line, "points", f"voter {voter}: points {values['points']!r} are not numbers")
            others = {k: v for k, v in values.items() if k not in ("voter_id", "vote", "points")}
            votes.append(PbVote(voter, vote, points, others))
            vote_lines.append(line)
    for name in ("META", "PROJECTS", "VOTES"):
        if name not in seen_sections:
            out.add(name, None, None, f"section {name} is missing")
        elif name not in headers:
            out.add(name, None, None, f"section {name} has no header row")
    pb = PbFile(
        meta=meta,
        projects=projects,
        votes=votes,
        project_columns=headers.get("PROJECTS", ("project_id", "cost")),
        vote_columns=headers.get("VOTES", ("voter_id", "vote")),
    )
    if "META" in headers:
        _check_meta(pb, meta_lines, out)
    if "PROJECTS" in headers:
        _check_projects(pb, project_lines, meta_lines, out)
    if "VOTES" in headers:
        _check_votes(pb, vote_lines, out)
    if "PROJECTS" in headers and "VOTES" in headers:
        _check_counts(pb, project_lines, out)
    ordered = sorted(out.problems, key=lambda p: (("file", "META", "PROJECTS", "VOTES").index(p.section), p.line or 0))
    return pb, ordered, out.more


def _meta_number(pb, key, out, line, *, whole=False):
    value = pb.meta.get(key, "").strip()
    if not value:
        return None
    try:
        number = parse_number(value)
    except ValueError:
        out.add("META", line, key, f"{key} {value!r} is not a number")
        return None
    if whole and not isinstance(number, int):
        out.add("META", line, key, f"{key} {value!r} is not a whole number")
        return None
    return number


def _date_key(value):
    m = _DATE.match(value.strip())
    if not m:
        return None
    if m.group(4):
        return (int(m.group(4)), 0, 0)
    return (int(m.group(3)), int(m.group(2)), int(m.group(1)))


def _check_meta(pb, lines, out):
    for key in REQUIRED_META:
        if key not in pb.meta or not pb.meta[key].strip():
            out.add("META", None, key, f"required key {key} is missing or empty")
    for key in INT_META:
        if key in pb.meta:
            _meta_number(pb, key, out, lines.get(key), whole=True)
    for key in NUMBER_META:
        if key in pb.meta:
            number = _meta_number(pb, key, out, lines.get(key))
            if key == "budget" and number is not None and number <= 0:
                out.add("META", lines.get(key), key, f"budget {pb.meta[key]} is not positive")
    vote_type = pb.meta.get("vote_type", "").strip()
    if vote_type and vote_type not in VOTE_TYPES:
        out.add(
            "META",
            lines.get("vote_type"),
            "vote_type",
            f"unknown vote_type {vote_type!r} (one of {', '.join(VOTE_TYPES)})",
        )
    dates = {}
    for key in ("date_begin", "date_end"):
        value = pb.meta.get(key, "").strip()
        if value:
            dates[key] = _date_key(value)
            if dates[key] is None:
                out.add("META", lines.get(key), key, f"{key} {value!r} is not a date as dd.mm.yyyy or yyyy")
    if dates.get("date_begin") and dates.get("date_end"):
        b, e = dates["date_begin"], dates["date_end"]
        if (b[0], b[1] or 1, b[2] or 1) > (e[0], e[1] or 12, e[2] or 31):
            out.add("META", lines.get("date_begin"), "date_begin", "date_begin is after date_end")
    currency = pb.meta.get("currency")
    if currency is not None and currency.strip() not in CURRENCIES:
        out.add("META", lines.get("currency"), "currency", f"currency {currency!r} is not an ISO 4217 code")
    language = pb.meta.get("language")
    if language is not None and not re.fullmatch(r"[a-z]{2}", language.strip()):
        out.add("META", lines.get("language"), "language", f"language {language!r} is not an ISO 639-1 code")
    for low, high in (("min_length", "max_length"), ("min_points", "max_points"), ("min_sum_points", "max_sum_points")):
        try:
            lo, hi = parse_number(pb.meta.get(low, "")), parse_number(pb.meta.get(high, ""))
        except ValueError:
            continue
        if lo > hi:
            out.add("META", lines.get(low), low, f"{low} {lo} is greater than {high} {hi}")


def _check_projects(pb, lines, meta_lines, out):
    selected_cost = 0
    for pid, project in pb.projects.items():
        line = lines[pid]
        for column in ("votes", "score"):
            value = project.fields.get(column)
            filled = value is not None and value.strip() and value.strip().lower() != "none"
            if filled and not value.strip().isdigit():
                out.add("PROJECTS", line, column, f"project {pid}: {column} {value!r} is not a whole number >= 0")
        value = project.fields.get("selected")
        if value is not None and value.strip() not in ("0", "1", "2", "3"):
            out.add("PROJECTS", line, "selected", f"project {pid}: selected {value!r} is not 0, 1, 2 or 3")
        if project.selected == 1:
            selected_cost += project.cost
    try:
        budget = parse_number(pb.meta.get("budget", ""))
    except ValueError:
        budget = None
    if budget is not None and selected_cost > budget and pb.meta.get("fully_funded", "").strip() != "1":
        out.add(
            "PROJECTS",
            None,
            "selected",
            f"the selected projects cost {selected_cost}, more than the budget {pb.meta['budget'].strip()}",
        )


def _limit(pb, key):
    try:
        return parse_number(pb.meta.get(key, ""))
    except ValueError:
        return None


BALLOT_LIMITS = ("min_length", "max_length", "min_points", "max_points", "min_sum_points", "max_sum_points")


def ballot_problems(
    vote,
    points,
    projects,
    vote_type="approval",
    *,
    min_length=None,
    max_length=None,
    min_points=None,
    max_points=None,
    min_sum_points=None,
    max_sum_points=None,
) -> list[tuple[str, str]]:
    """What is wrong with one ballot, as (field, message) pairs; empty when it is valid.

    `vote`: the project ids chosen, in order; `points`: one number per project (or None); `projects`: the
    valid ids (any container). The limits are pabulib's META keys; choose-1 means exactly one choice. Used by
    the file checker, and meant for ballots cast in the product, so both refuse the same things.
    """
    problems = []
    n = len(vote)
    unknown = [p for p in vote if p not in projects]
    if unknown:
        problems.append(("vote", f"unknown project id(s) {', '.join(unknown)}"))
    if len(set(vote)) != n:
        repeated = sorted({p for p in vote if vote.count(p) > 1})
        problems.append(("vote", f"project(s) {', '.join(repeated)} voted for more than once"))
    if vote_type == "choose-1":
        min_length, max_length = 1, 1
    if min_length is not None and n < min_length:
        problems.append(("vote", f"{n} choices, fewer than min_length {min_length}"))
    if max_length is not None and n > max_length:
        problems.append(("vote", f"{n} choices, more than max_length {max_length}"))
    if vote_type in ("cumulative", "scoring") and points is None and n:
        problems.append(("points", f"no points for a {vote_type} vote"))
    if points is not None:
        if len(points) != n:
            problems.append(("points", f"{len(points)} points for {n} projects voted for"))
        if any(p < 0 for p in points):
            problems.append(("points", "negative points"))
        if min_points is not None and any(p < min_points for p in points):
            problems.append(("points", f"points below min_points {min_points}"))
        if max_points is not None and any(p > max_points for p in points):
            problems.append(("points", f"points above max_points {max_points}"))
        total = sum(points)
        if min_sum_points is not None and total < min_sum_points:
            problems.append(("points", f"points sum to {total}, below min_sum_points {min_sum_points}"))
        if max_sum_points is not None and total > max_sum_points:
            problems.append(("points", f"points sum to {total}, above max_sum_points {max_sum_points}"))
    return problems


def _check_votes(pb, lines, out):
    vote_type = pb.meta.get("vote_type", "").strip()
    limits = {key: _limit(pb, key) for key in BALLOT_LIMITS}
    first_line: dict[str, int] = {}
    for vote, line in zip(pb.votes, lines, strict=True):
        voter = vote.voter_id
        if not voter:
            out.add("VOTES", line, "voter_id", "empty voter_id")
        elif voter in first_line:
            out.add("VOTES", line, "voter_id", f"duplicate voter_id {voter} (first on line {first_line[voter]})")
        else:
            first_line[voter] = line
        if "," in voter:
            out.add("VOTES", line, "voter_id", f"voter_id {voter!r} contains a comma")
        for column, message in ballot_problems(vote.vote, vote.points, pb.projects, vote_type, **limits):
            out.add("VOTES", line, column, f"voter {voter}: {message}")
        sex = vote.fields.get("sex")
        if sex is not None and sex.strip() and sex.strip() not in SEXES:
            out.add("VOTES", line, "sex", f"voter {voter}: sex {sex!r} is not M, F or O")
        age = vote.fields.get("age")
        filled = age is not None and age.strip() and age.strip().lower() != "none"
        if filled and (not age.strip().isdigit() or int(age) > 120):
            out.add("VOTES", line, "age", f"voter {voter}: age {age!r} is not a whole number from 0 to 120")
        method = vote.fields.get("voting_method")
        if method is not None and method.strip() and method.strip() not in VOTING_METHODS:
            out.add("VOTES", line, "voting_method", f"voter {voter}: voting_method {method!r} is not internet or paper")


def _check_counts(pb, project_lines, out):
    for key, actual, what in (
        ("num_projects", len(pb.projects), "projects"),
        ("num_votes", len(pb.votes), "votes"),
    ):
        value = pb.meta.get(key, "").strip()
        if value.isdigit() and int(value) != actual:
            out.add("META", None, key, f"{key} is {value} but the file has {actual} {what}")
    counted_votes: dict[str, int] = dict.fromkeys(pb.projects, 0)
    counted_score: dict[str, int | Decimal] = dict.fromkeys(pb.projects, 0)
    for vote in pb.votes:
        for i, pid in enumerate(vote.vote):
            if pid in counted_votes:
                counted_votes[pid] += 1
                if vote.points is not None and i < len(vote.points):
                    counted_score[pid] += vote.points[i]
    has_points = any(v.points is not None for v in pb.votes)
    for pid, project in pb.projects.items():
        value = project.fields.get("votes", "").strip()
        if value.isdigit() and int(value) != counted_votes[pid]:
            out.add(
                "PROJECTS",
                project_lines[pid],
                "votes",
                f"project {pid}: votes is {value} but {counted_votes[pid]} votes in VOTES name it",
            )
        value = project.fields.get("score", "").strip()
        if has_points and value.isdigit() and int(value) != counted_score[pid]:
            out.add(
                "PROJECTS",
                project_lines[pid],
                "score",
                f"project {pid}: score is {value} but the points in VOTES add up to {counted_score[pid]}",
            )


def check(source) -> list[Problem]:
    """Every problem in a .pb file given as text or bytes (empty list: valid)."""
    _, problems, _ = _parse(source)
    return problems


def check_file(path) -> list[Problem]:
    with open(path, "rb") as handle:
        return check(handle.read())


def loads(source) -> PbFile:
    """Parse a .pb file given as text or bytes; raise PbFileError listing every problem."""
    pb, problems, more = _parse(source)
    if problems:
        raise PbFileError(problems, more)
    return pb


def load(path: str | os.PathLike) -> PbFile:
    """Parse the .pb file at `path` (read as bytes: UTF-8, BOM tolerated, CRLF or LF)."""
    with open(path, "rb") as handle:
        return loads(handle.read())


def dumps(pb: PbFile, *, newline: str = "\n", validate: bool = True) -> str:
    """The .pb text of `pb`: META, PROJECTS, VOTES with the columns in the order kept from the file.

    With `validate` (default) the text is checked as `loads` would and PbFileError raised if it is not a
    valid file (wrong counts in META, unknown projects in votes, ...): an export is never an invalid file.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", quotechar='"', lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key, value in pb.meta.items():
        writer.writerow([key, value])
    writer.writerow(["PROJECTS"])
    writer.writerow(pb.project_columns)
    for project in pb.projects.values():
        row = []
        for column in pb.project_columns:
            if column == "project_id":
                row.append(project.project_id)
            elif column == "cost":
                row.append(_format_number(project.cost))
            else:
                row.append(project.fields.get(column, ""))
        writer.writerow(row)
    writer.writerow(["VOTES"])
    writer.writerow(pb.vote_columns)
    for vote in pb.votes:
        row = []
        for column in pb.vote_columns:
            if column == "voter_id":
                row.append(vote.voter_id)
            elif column == "vote":
                row.append(",".join(vote.vote))
            elif column == "points":
                row.append("" if vote.points is None else ",".join(_format_number(p) for p in vote.points))
            else:
                row.append(vote.fields.get(column, ""))
        writer.writerow(row)
    text = buffer.getvalue()
    if validate:
        _, problems, more = _parse(text)
        if problems:
            raise PbFileError(problems, more)
    return text


def dump(pb: PbFile, path: str | os.PathLike, *, newline: str = "\n", validate: bool = True) -> None:
    text = dumps(pb, newline=newline, validate=validate)  # before opening: nothing is written for a bad file
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
