"""Providers' results uploaded as a CSV file, for one contract.

The whole file is checked before anything is written. Every problem is reported with its row
(the spreadsheet's: the header is row 1), its column (as the file names it) and the reason; if
there is any, nothing is saved. A clean file goes through ``services.apply_returns``: every row
through the same checks as a single return, in one transaction, all or nothing.

Columns (headers in any case, with the usual variants): ``kpi`` (the KPI's name as defined on
the contract, or its number), ``period`` (any day in the period: 2025-04-15, 15/04/2025,
15 Apr 2025, April 2025), ``value`` (a number; thousands commas, a leading £ and a trailing %
allowed) and ``evidence`` (optional). Files are decoded as the register importer does (UTF-8 with
or without a byte-order mark, UTF-16 with one, else Windows-1252) and split on commas,
semicolons, tabs or pipes.

A result already given for a KPI and period is refused: changing it is a correction, made on
the contract's performance page with a reason. Evidence is stored as written, formulas and all
(``=``, ``+``, ``-``, ``@``): it is text here and only a risk in a spreadsheet, so exports defuse it.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from commissioner.orgs import tenancy
from commissioner.performance import forms, services, views
from commissioner.performance.models import KpiReturn
from commissioner.register import importers
from commissioner.register.models import Contract

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_EVIDENCE = 5000
MAX_VALUE_TEXT = 40
MAX_SHOWN = 1000  # problems listed on the page (all are counted)
HEADER_SCAN = 10  # title rows allowed above the header
DELIMITERS = (",", ";", "\t", "|")
PLACES = Decimal("0.0001")  # KpiReturn.value has 4 decimal places

# Canonical columns, the header spellings accepted (normalised: lower case, words only), and what
# each column holds (shown on the page).
COLUMNS = {
    "kpi": ["kpi", "kpi name", "kpi id", "kpi number", "kpi no", "kpi ref", "kpi reference", "kpi title",
            "key performance indicator", "performance indicator", "indicator", "measure", "metric",
            "name of kpi"],
    "period": ["period", "period date", "day", "date", "any day in the period", "day in period",
               "reporting period", "period start", "period start date", "period end", "period end date",
               "period ending", "period from", "month", "quarter", "return period", "date of return",
               "reporting date", "period covered"],
    "value": ["value", "result", "results", "actual", "actual value", "kpi value", "kpi result", "figure",
              "score", "outturn", "performance", "achieved", "amount", "measure value", "actual result"],
    "evidence": ["evidence", "notes", "note", "comment", "comments", "commentary", "explanation", "source",
                 "evidence notes", "supporting evidence", "narrative", "remarks"],
}
REQUIRED = ("kpi", "period", "value")
_SYNONYMS = {" ".join(re.findall(r"[a-z0-9]+", s)): key for key, spellings in COLUMNS.items() for s in spellings}
# Words that tell a column when its header is not one of the spellings above (checked in this order).
_KEYWORDS = (
    ("evidence", {"evidence", "note", "notes", "comment", "comments", "commentary", "explanation"}),
    ("value", {"value", "result", "results", "actual", "outturn", "figure", "score", "achieved"}),
    ("period", {"period", "date", "day", "month", "quarter"}),
    ("kpi", {"kpi", "kpis", "indicator", "measure", "metric"}),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (or another zip file)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file"),
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
)
SAVE_AS = "in your spreadsheet, choose Save As, 'CSV UTF-8', and upload that file"


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused. ``row`` is the spreadsheet's row (header = 1); None: the whole file."""

    row: int | None
    column: str
    reason: str


@dataclass
class ParsedReturns:
    rows: list = field(default_factory=list)       # {"row", "kpi", "day", "value", "evidence"}
    problems: list = field(default_factory=list)   # Problem
    labels: dict = field(default_factory=dict)     # canonical column -> the file's header
    notes: list = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ","

    def problem(self, row, column, reason):
        self.problems.append(Problem(row, self.labels.get(column, column), reason))


# -- the file ----------------------------------------------------------------------------------------

def column_for_header(text) -> str | None:
    """The canonical column for a header ("KPI name", "Result (%)", "Period (any day)"), or None."""
    words = re.findall(r"[a-z0-9]+", str(text).replace("\ufeff", "").lower())
    key = " ".join(words)
    if not key:
        return None
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    for column, keywords in _KEYWORDS:
        if keywords & set(words):
            return column
    return None


def _header(records):
    """(index, {column index: canonical column}, [(column label, problem)]) of the header: the first of the first
    rows naming two or more of the columns, else the first row that is not blank (None: every row is blank)."""
    first, best = None, None
    for i, record in enumerate(records[:HEADER_SCAN]):
        if not any(c.strip() for c in record):
            continue
        if first is None:
            first = i
        found = [column_for_header(c) for c in record]
        if len({f for f in found if f}) >= 2:
            best = i
            break
    index = best if best is not None else first
    columns, problems = {}, []
    if index is None:
        return None, columns, problems
    for col, name in enumerate(column_for_header(c) for c in records[index]):
        if name is None:
            continue
        if name in columns.values():
            other = next(c for c, n in columns.items() if n == name)
            kept, extra = records[index][other].strip()[:40], records[index][col].strip()[:40]
            problems.append((extra, f"two columns give the {name}: '{kept}' and '{extra}': keep one"))
            continue
        columns[col] = name
    return index, columns, problems


def _score(text, delimiter):
    """How well the first rows read with this delimiter: the most columns a header row names."""
    sample = "\n".join(text.splitlines()[:HEADER_SCAN])
    try:
        rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
    except csv.Error:
        return 0
    return max((len({column_for_header(c) for c in row} - {None}) for row in rows), default=0)


def choose_delimiter(text) -> str:
    """The delimiter under which a header names most columns (so a ';' in the evidence of a ',' file does not
    fool it); the register importer's guess when no header reads either way."""
    scores = {d: _score(text, d) for d in DELIMITERS}
    best = max(scores.values())
    if best == 0:
        return importers.sniff_delimiter(text)
    return next(d for d in DELIMITERS if scores[d] == best)


def _file_problem(data: bytes) -> str | None:
    """Why the bytes cannot be a CSV file, or None."""
    if not data.strip():
        return "The selected file is empty"
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            return f"The file is {what}, not a CSV file: {SAVE_AS}"
    if data.lstrip()[:1] in (b"{", b"["):
        return "The file is JSON, not a CSV file"
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = data[:2000]
        if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
            return f"The file is in UTF-16 without a byte-order mark, which cannot be read: {SAVE_AS}"
        return f"The file is not a CSV file (it holds binary data): {SAVE_AS}"
    return None


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding as the register importer reads them, but strict: a file that says it is UTF-8 (with a
    byte-order mark) or UTF-16 must be. Raises UnicodeDecodeError."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    return importers.decode(data)


def parse_period(raw) -> date:
    """Any day in the period: 2025-04-15, 15/04/2025, 15 Apr 2025, an Excel day number; April 2025 or 2025-04 (the
    first of the month). Raises ValueError with the reason."""
    text = " ".join(str(raw or "").split())
    if not text:
        raise ValueError("enter a day in the period, for example 15/04/2025")
    lowered = text.lower()
    if (m := re.fullmatch(r"([a-z]+)\.?[ \-/]+(\d{4})", lowered)) and m[1] in importers.MONTHS:
        return date(int(m[2]), importers.MONTHS[m[1]], 1)
    if (m := re.fullmatch(r"(\d{4})-(\d{1,2})", lowered)) and 1 <= int(m[2]) <= 12:
        return date(int(m[1]), int(m[2]), 1)
    try:
        day = importers.parse_uk_date(text)
    except ValueError as e:
        reason = str(e).replace(" (use dd/mm/yyyy)", "")
        raise ValueError(f"{reason}: enter a day in the period, for example 15/04/2025 or 2025-04-15") from None
    if day is None:  # a placeholder such as 'n/a' or 'TBC'
        raise ValueError(f"'{text[:40]}' is not a date: enter a day in the period, for example 15/04/2025")
    return day


def parse_value(raw) -> Decimal:
    """A result: a number, with thousands commas, a leading £ and a trailing % allowed. Raises PerformanceError."""
    text = " ".join(str(raw or "").split())
    if len(text) > MAX_VALUE_TEXT:
        raise services.PerformanceError("value", f"'{text[:20]}…' is too long to be a result "
                                                 f"({len(text):,} characters)")
    text = text.removesuffix("%").strip()
    if "," in text and not re.fullmatch(r"[-+]?£?\d{1,3}(,\d{3})+(\.\d*)?", text):
        if re.fullmatch(r"[-+]?£?\d+,\d{1,2}", text):
            raise services.PerformanceError("value", f"'{text}' has a decimal comma: write it with a full stop "
                                                     f"({text.replace(',', '.')})")
        raise services.PerformanceError("value", f"'{text}' is not a number")
    value = services.decimal_value(text)
    quantized = value.quantize(PLACES)
    return quantized if quantized != value else value


class KpiFinder:
    """The contract's KPIs by name (exactly, else ignoring case) or number."""

    def __init__(self, contract):
        self.kpis = list(contract.kpis.all().order_by("id"))
        self.by_id = {k.pk: k for k in self.kpis}
        self.by_name, self.by_fold = {}, {}
        for k in self.kpis:
            name = " ".join(k.name.split())
            self.by_name.setdefault(name, []).append(k)
            self.by_fold.setdefault(name.casefold(), []).append(k)

    def find(self, raw):
        """The KPI, or raise ValueError with the reason."""
        text = " ".join(str(raw or "").split())
        if not text:
            raise ValueError("enter the KPI's name (or its number)")
        found = self.by_name.get(text) or self.by_fold.get(text.casefold())
        if found:
            if len(found) == 1:
                return found[0]
            active = [k for k in found if k.is_active]
            if len(active) == 1:
                return active[0]
            numbers = ", ".join(str(k.pk) for k in found)
            raise ValueError(f"{len(found)} KPIs are called '{text[:60]}': give its number instead ({numbers})")
        if m := re.fullmatch(r"#?(\d{1,12})", text):
            kpi = self.by_id.get(int(m[1]))
            if kpi is None:
                raise ValueError(f"this contract has no KPI number {m[1]}")
            return kpi
        raise ValueError(f"'{text[:60]}' is not one of this contract's KPIs: give the name as it is defined (see the "
                         "list on this page) or its number")


def read_returns(data: bytes, contract) -> ParsedReturns:
    """Parse and check a file of results for the contract. Nothing is written."""
    out = ParsedReturns()
    reason = _file_problem(data)
    if reason:
        out.problem(None, "", reason)
        return out
    try:
        text, out.encoding = decode(data)
    except UnicodeDecodeError as e:
        out.problem(None, "", f"The file cannot be read as text (byte {e.start + 1:,} is not valid in its encoding): "
                              f"{SAVE_AS}")
        return out
    if m := _CONTROL.search(text):
        line = text.count("\n", 0, m.start()) + 1
        out.problem(None, "", f"The file is not a plain-text CSV file (it holds control characters, first on line "
                              f"{line:,}): it may be in another encoding or a spreadsheet's own format: {SAVE_AS}")
        return out
    if not text.strip():
        out.problem(None, "", "The selected file is empty")
        return out
    out.delimiter = choose_delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=out.delimiter, strict=False))
    except csv.Error as e:
        out.problem(None, "", f"The file is not a readable CSV file ({e}): {SAVE_AS}")
        return out
    start, columns, header_problems = _header(records)
    if start is None:
        out.problem(None, "", f"The file has no header row in its first {HEADER_SCAN} rows: the first row names the "
                              "columns kpi, period, value and evidence")
        return out
    header = records[start]
    out.labels = {name: header[col].strip() for col, name in columns.items()}
    for label, reason in header_problems:
        out.problems.append(Problem(start + 1, label, reason))
    found = ", ".join(f"'{c.strip()[:30]}'" for c in header if c.strip())[:300]
    for name in REQUIRED:
        if name not in columns.values():
            accepted = ", ".join(COLUMNS[name][1:5])
            out.problem(start + 1, name, f"there is no {name} column (also accepted: {accepted}); the header row "
                                         f"has {found or 'nothing'}")
    if start:
        out.notes.append("Row 1 is above the header and was not read" if start == 1 else
                         f"Rows 1 to {start} are above the header and were not read")
    unused = [h.strip() for col, h in enumerate(header) if h.strip() and col not in columns]
    if unused:
        out.notes.append("Columns not used: " + ", ".join(f"'{h[:40]}'" for h in unused[:10]))
    data_rows = [(i + 1, r) for i, r in enumerate(records[start + 1:], start=start + 1) if any(c.strip() for c in r)]
    if len(data_rows) > MAX_ROWS:
        out.problem(None, "", f"The file has {len(data_rows):,} rows of results: the most accepted in one file is "
                              f"{MAX_ROWS:,}. Split it into smaller files")
        return out
    if out.problems:  # without the columns, the rows cannot be read
        return out
    if not data_rows:
        out.problem(None, "", "The file has a header but no results under it")
        return out
    by_name = {name: col for col, name in columns.items()}
    finder = KpiFinder(contract)
    for number, record in data_rows:
        cells = {name: record[col].strip() if col < len(record) else "" for name, col in by_name.items()}
        row = {"row": number}
        try:
            row["kpi"] = finder.find(cells["kpi"])
        except ValueError as e:
            out.problem(number, "kpi", str(e))
        try:
            row["day"] = parse_period(cells["period"])
        except ValueError as e:
            out.problem(number, "period", str(e))
        try:
            row["value"] = parse_value(cells["value"])
        except services.PerformanceError as e:
            out.problem(number, "value", e.message)
        evidence = cells.get("evidence", "")
        if len(evidence) > MAX_EVIDENCE:
            out.problem(number, "evidence", f"the evidence is {len(evidence):,} characters long: the most accepted is "
                                            f"{MAX_EVIDENCE:,}")
        row["evidence"] = evidence
        if {"kpi", "day", "value"} <= row.keys():
            out.rows.append(row)
    check_rows(contract, out)
    return out


def check_rows(contract, out: ParsedReturns):
    """Each row as ``services.check_return`` sees it (retired KPI, period outside the term, value), then each KPI
    and period once: not twice in the file, nor already given."""
    given = set(KpiReturn.objects.filter(kpi__contract=contract, is_current=True)
                .values_list("kpi_id", "period_start"))
    seen = {}
    for row in out.rows:
        kpi = row["kpi"]
        try:
            start, end, _, _ = services.check_return(kpi, row["day"], row["value"])
        except services.PerformanceError as e:
            out.problem(row["row"], e.field if e.field in COLUMNS else "", e.message)
            continue
        key = (kpi.pk, start)
        period = f"{start:%d %b %Y} to {end:%d %b %Y}"
        if key in seen:
            out.problem(row["row"], "period", f"row {seen[key]} already gives {kpi.name} for {period} (the KPI is "
                                              f"{kpi.get_frequency_display().lower()}): give each period once")
        elif key in given:
            out.problem(row["row"], "period", f"a result for {kpi.name}, {period}, is already in: to change it, "
                                              "correct it on the contract's performance page")
        else:
            seen[key] = row["row"]
    out.problems.sort(key=lambda p: (p.row is not None, p.row or 0))


# -- the page ----------------------------------------------------------------------------------------

class UploadForm(forms.PerformanceForm):
    file = django_forms.FileField(
        label="CSV file of results", allow_empty_file=True,
        help_text=f"A CSV file of at most {MAX_BYTES // (1024 * 1024)} MB and {MAX_ROWS:,} rows, with the columns "
                  "kpi, period, value and evidence (optional)",
        error_messages={"required": "Select a CSV file of results", "invalid": "Select a CSV file of results",
                        "missing": "Select a CSV file of results"},
        widget=django_forms.FileInput(attrs={"class": "govuk-file-upload", "accept": ".csv,text/csv,text/plain"}))

    def mark_error(self):
        widget = self.fields["file"].widget
        widget.attrs["class"] = "govuk-file-upload govuk-file-upload--error"
        widget.attrs["aria-describedby"] = "id_file_helptext id_file_error"


def _upload_contract(request, ocid):
    """The contract, if the user may submit its returns. A refusal is audited (services._require); a user who may
    not even see the contract gets a 404, as on the other performance pages, not a 403 that confirms it exists."""
    contract = Contract.objects.select_related("owner").filter(ocid=ocid).first()
    if contract is None:
        raise Http404("No contract found")
    try:
        services.apply_returns(actor=request.user, contract=contract, rows=[])
    except PermissionDenied:
        if not (tenancy.can_view_performance(request.user, contract)
                or Contract.objects.visible_to(request.user).filter(pk=contract.pk).exists()):
            raise Http404("No contract found") from None
        raise
    return contract


def _read(upload) -> bytes | None:
    if upload.size is not None and upload.size > MAX_BYTES:
        return None
    data = b"".join(upload.chunks())
    return None if len(data) > MAX_BYTES else data


def _size(n):
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1):,} KB"


@login_required
@require_http_methods(["GET", "POST"])
def returns_upload(request, ocid):
    contract = _upload_contract(request, ocid)
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    problems, notes = [], []
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        data = _read(upload)
        if data is None:
            problems = [Problem(None, "", f"The file is {_size(upload.size)}: the most accepted is "
                                          f"{MAX_BYTES // (1024 * 1024)} MB (and {MAX_ROWS:,} rows). Split it into "
                                          "smaller files")]
        else:
            parsed = read_returns(data, contract)
            problems, notes = parsed.problems, parsed.notes
            if not problems:
                try:
                    created = services.apply_returns(actor=request.user, contract=contract, rows=parsed.rows)
                except services.PerformanceError as e:  # changed since the check (another upload at the same time)
                    problems = [Problem(row, parsed.labels.get(f, f if f in COLUMNS else ""), reason)
                                for row, f, reason in getattr(e, "errors", [(None, e.field, e.message)])]
                else:
                    n = len(created)
                    messages.success(request, f"{n:,} result{'' if n == 1 else 's'} uploaded from "
                                              f"{upload.name[:100]}")
                    for note in notes:
                        messages.info(request, note)
                    return redirect(views._page_url(contract))
        file_problems = [p.reason for p in problems if p.row is None]
        rows = sorted({p.row for p in problems if p.row is not None})
        if rows:
            n = len(problems) - len(file_problems)
            file_problems.append(
                f"The file has {n:,} problem{'' if n == 1 else 's'} in {len(rows):,} row{'' if len(rows) == 1 else 's'}"
                ": nothing was saved. Fix them and upload the file again")
        for reason in file_problems:
            form.add_error("file", reason)
    if form.errors:
        form.mark_error()
    row_problems = [p for p in problems if p.row is not None]
    return render(request, "performance/upload.html", {
        "form": form, "contract": contract, "breadcrumbs": views._crumbs(contract),
        "problems": problems, "row_problems": row_problems[:MAX_SHOWN], "hidden": max(len(row_problems) - MAX_SHOWN, 0),
        "notes": notes, "columns": COLUMNS, "max_rows": MAX_ROWS, "max_mb": MAX_BYTES // (1024 * 1024),
        "kpis": [k for k in contract.kpis.order_by("name", "id") if k.is_active],
        "action": reverse("performance-returns-upload", args=[contract.ocid]),
    }, status=400 if posted else 200)
