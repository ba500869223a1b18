"""Reading benchmarking files: the Oflog adult social care file and tidy CSVs
(organisation code, period, value). Nothing here writes: ``services`` applies a clean file.

Tidy CSVs are decoded and split as the register importer does (UTF-8 with or without BOM, UTF-16,
Windows-1252; comma, semicolon, tab or pipe). Headers are matched loosely ("Organisation code",
"ONS code", "GSS code", "area_code", "LA code"; "Period", "Year", "Financial year"; "Value").
Every bad row is reported with its row number, column and reason.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from commissioner.register.importers import decode, normalise_header, sniff_delimiter

MAX_VALUE = Decimal("1e15")

COLUMNS = {
    "code": ["organisation code", "organisation", "org code", "ons code", "gss code", "gss", "area code",
             "area_code", "local authority code", "la code", "code", "council code", "geography code"],
    "period": ["period", "year", "financial year", "time period", "date"],
    "value": ["value", "measure value", "result", "score"],
}
_HEADERS = {normalise_header(h): key for key, names in COLUMNS.items() for h in names}


class PeriodError(ValueError):
    pass


def normalise_period(raw) -> tuple[str, int]:
    """A period label and the year it starts.

    Financial years: "2022-23", "2022/23", "2022-2023", "2022/2023", "2022 to 2023", "FY2023",
    "FY 2022-23", "FY22/23" all give "2022-23" (FY2023 is the year ending March 2023). A calendar
    year "2023" stays "2023". Anything else is refused.
    """
    text = re.sub(r"\s+", " ", str(raw or "").strip()).upper()
    if not text:
        raise PeriodError("enter the period (for example 2022-23)")
    fy = text.startswith("FY")
    body = text[2:].strip(" -") if fy else text
    m = re.fullmatch(r"(\d{4}|\d{2}) ?(?:-|/|TO|–) ?(\d{4}|\d{2})", body)
    if m:
        a, b = m.groups()
        start = int(a) if len(a) == 4 else 2000 + int(a)
        end = int(b) if len(b) == 4 else (start // 100) * 100 + int(b)
        if end < start and len(b) == 2:
            end += 100
        if end != start + 1:
            raise PeriodError(f"'{str(raw)[:20]}' is not a financial year (the years must follow each other)")
        return _check(f"{start}-{end % 100:02d}", start, raw)
    m = re.fullmatch(r"\d{4}|\d{2}", body)
    if m and fy:
        end = int(body) if len(body) == 4 else 2000 + int(body)
        return _check(f"{end - 1}-{end % 100:02d}", end - 1, raw)
    if m and len(body) == 4:
        return _check(body, int(body), raw)
    raise PeriodError(f"'{str(raw)[:20]}' is not a period we recognise: use 2022-23, 2022/23, FY2023 or 2023")


def _check(label, start, raw):
    if not 1950 <= start <= 2100:
        raise PeriodError(f"'{str(raw)[:20]}' is outside the years accepted (1950 to 2100)")
    return label, start


def parse_value(raw) -> Decimal | None:
    """A number, or None for a blank cell (missing, never 0). Text raises ValueError."""
    text = str(raw if raw is not None else "").strip().replace(",", "").removesuffix("%").strip()
    if text == "" or text.lower() in ("na", "n/a", "..", ":", "x", "[x]", "[c]", "c", "-", "missing", "null"):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{str(raw)[:40]}' is not a number") from None
    if not value.is_finite():
        raise ValueError("enter a finite number")
    if abs(value) >= MAX_VALUE:
        raise ValueError(f"{value} is beyond the largest value accepted")
    return value


@dataclass
class Problem:
    row: int
    column: str
    reason: str

    def __str__(self):
        return f"row {self.row}, {self.column}: {self.reason}" if self.row else f"{self.column}: {self.reason}"


@dataclass
class TidyRow:
    row: int
    code: str
    period: str
    period_sort: int
    value: Decimal | None
    raw_period: str = ""


@dataclass
class TidyFile:
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ","


def read_tidy_csv(source) -> TidyFile:
    """Parse a tidy CSV (path, bytes or text): rows, and every problem found (nothing applied here)."""
    out = TidyFile()
    if isinstance(source, (str, Path)) and not (isinstance(source, str) and "\n" in source):
        data = Path(source).read_bytes()
    elif isinstance(source, str):
        data = source.encode("utf-8")
    else:
        data = bytes(source)
    text, out.encoding = decode(data)
    out.delimiter = sniff_delimiter(text)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=out.delimiter))
    while records and not any(c.strip() for c in records[0]):
        records.pop(0)
    if not records:
        out.problems.append(Problem(0, "file", "the file is empty"))
        return out
    header = records[0]
    where = {}
    for i, h in enumerate(header):
        key = _HEADERS.get(normalise_header(h))
        if key and key not in where:
            where[key] = i
    for key, label in (("code", "organisation code"), ("period", "period"), ("value", "value")):
        if key not in where:
            out.problems.append(Problem(1, "header", f"no {label} column (headers found: "
                                                     f"{', '.join(h.strip() for h in header if h.strip())[:200]})"))
    if out.problems:
        return out
    seen = {}
    for number, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue

        def cell(key, cells=cells):
            i = where[key]
            return cells[i].strip() if i < len(cells) else ""

        code, raw_period, raw_value = cell("code").upper(), cell("period"), cell("value")
        bad = False
        if not code:
            out.problems.append(Problem(number, header[where["code"]].strip(), "no organisation code"))
            bad = True
        try:
            period, start = normalise_period(raw_period)
        except PeriodError as e:
            out.problems.append(Problem(number, header[where["period"]].strip(), str(e)))
            period, start, bad = "", 0, True
        try:
            value = parse_value(raw_value)
        except ValueError as e:
            out.problems.append(Problem(number, header[where["value"]].strip(), str(e)))
            value, bad = None, True
        if bad:
            continue
        key = (code, period)
        if key in seen:
            out.problems.append(Problem(number, header[where["code"]].strip(),
                                        f"duplicate: {code} {period} is also on row {seen[key]}"))
            continue
        seen[key] = number
        out.rows.append(TidyRow(number, code, period, start, value, raw_period))
    if not out.rows and not out.problems:
        out.problems.append(Problem(0, "file", "no rows of data"))
    return out


# -- Oflog -----------------------------------------------------------------------------------------

OFLOG_SOURCE = ("Office for Local Government (Oflog) adult social care measures, as used by the "
                "oflog-automated-text prototype (communitiesuk/oflog-automated-text, commit 8036fa87)")
OFLOG_URL = "https://github.com/communitiesuk/oflog-automated-text"
OFLOG_LICENCE = "Open Government Licence v3.0"
OFLOG_COLUMNS = ["Financial year", "Local authority code", "Local authority name", "Grouping", "Entity_Name",
                 "Region", "Measure", "Code", "Value", "MEDIAN", "MADs_from_median", "rank_order"]

# Names as in the file; definitions, units and polarity are ours (see data/samples/oflog/PROVENANCE.md).
OFLOG_MEASURES = {
    "ASC1": ("Carer-reported quality of life", ("Carer-reported quality of life score (ASCOF 1D), from the "
             "biennial Survey of Adult Carers in England."), "score out of 12", "higher",
             "a better quality of life scores higher"),
    "ASC2": ("Social care-related quality of life (adjusted)", ("Adjusted social care-related quality of life "
             "score of people who use services, from the Adult Social Care Survey."), "score", "higher",
             "a better quality of life scores higher"),
    "ASC3": ("Ease of finding information about services: service users", ("Percentage of people who use "
             "services who find it easy to find information about services."), "%", "higher",
             "more people finding information easily is better"),
    "ASC4": ("Ease of finding information about support: carers", ("Percentage of carers who find it easy to "
             "find information about support."), "%", "higher", "more carers finding information easily is better"),
    "ASC5": ("Outcome of short-term services: sequel to service", ("Percentage of people who received short-term "
             "services whose sequel was no ongoing support or support of a lower level."), "%", "higher",
             "more people needing no or less ongoing support after reablement is better"),
    "ASC6": ("Requests for support resulting in a service", ("Requests for support from new clients that "
             "resulted in a service, per 100,000 adults."), "per 100,000 adults", "none",
             "Oflog ranks it in neither direction (rank_order None): a context measure"),
    "ASC7": ("Adult social care workforce turnover rate", ("Turnover rate of directly employed adult social care "
             "staff (Skills for Care workforce estimates)."), "%", "lower", "lower staff turnover is better"),
}


@dataclass
class OflogRow:
    row: int
    code: str
    gss: str
    name: str
    period: str
    period_sort: int
    value: Decimal | None
    file_measure: str
    median: str
    mads: str


def read_oflog(path) -> tuple[list, list]:
    """(rows, problems) from ASC_data.csv."""
    text, _ = decode(Path(path).read_bytes())
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in OFLOG_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [Problem(1, "header", f"not the Oflog file: no {', '.join(missing)} column")]
    rows, problems, seen = [], [], {}
    for number, r in enumerate(reader, start=2):
        code = r["Code"].strip()
        if code not in OFLOG_MEASURES:
            problems.append(Problem(number, "Code", f"unknown measure '{code[:20]}'"))
            continue
        try:
            period, start = normalise_period(r["Financial year"])
        except PeriodError as e:
            problems.append(Problem(number, "Financial year", str(e)))
            continue
        try:
            value = parse_value(r["Value"])
        except ValueError as e:
            problems.append(Problem(number, "Value", str(e)))
            continue
        gss = r["Local authority code"].strip().upper()
        key = (code, gss, period)
        if key in seen:
            problems.append(Problem(number, "Local authority code", f"duplicate of row {seen[key]}"))
            continue
        seen[key] = number
        rows.append(OflogRow(number, code, gss, r["Local authority name"].strip(), period, start, value,
                             r["Measure"].strip(), r["MEDIAN"], r["MADs_from_median"]))
    return rows, problems
