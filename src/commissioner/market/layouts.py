"""Reading council spend files ("spend over £500/£250", Local Government Transparency Code 2015).

One small ``Layout`` per known publisher layout (in the spirit of UK-Polling-Stations' importer
subclasses): the header it is recognised by and which column holds each field. A file is decoded
(UTF-8 with or without BOM, else Windows-1252), split into rows (CRLF, LF or bare CR), blank rows
dropped, then matched against the layouts by its header signature. A file without a header row is
recognised by the shape of its first row. An unknown layout raises ``UnknownLayout`` with its headers,
and is read with a mapping the user gives (``Layout.from_mapping``), which the app then remembers.

Nothing here touches the database. Every problem is collected with its row and column; the caller
saves nothing when there is any.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

FIELDS = {
    "payee": "Supplier (payee) name",
    "date": "Payment date",
    "amount": "Amount in pounds",
    "category": "Service category (expense type or service area)",
    "department": "Department or cost centre",
    "description": "Description or purpose",
    "reference": "Transaction or invoice reference",
    "supplier_id": "Supplier identifier (VAT, Companies House or charity number)",
}
REQUIRED = ("payee", "date", "amount")

# Payees that are private individuals: never stored by name.
REDACTED_MARKERS = ("redacted", "personal data", "data protection", "private individual", "individual",
                    "withheld", "gdpr")
_TITLE = re.compile(r"^(mr|mrs|ms|miss|mx|dr)\.?\s+\S", re.IGNORECASE)
_ORG_WORDS = re.compile(r"\b(ltd|limited|plc|llp|t/a|ta|trading|services|council|trust|cic|association|"
                        r"group|company|co|centre|club|society|partnership|associates|practice|church|school|academy|uk)\b", re.IGNORECASE)
REDACTED_NAME = "Redacted personal data"


def normalise_header(text: str) -> str:
    text = (text or "").replace("\ufeff", "").replace("œ", "£").strip().lower()
    text = re.sub(r"\s+", " ", text)
    return text.rstrip(":").strip()


def signature(cells) -> str:
    """The header signature: non-blank header cells, normalised, joined with '|'."""
    return "|".join(h for h in (normalise_header(c) for c in cells) if h)


@dataclass(frozen=True)
class Layout:
    code: str
    label: str
    headers: tuple[str, ...] = ()  # accepted signatures (normalised); empty for a file without a header
    columns: dict = field(default_factory=dict)  # field -> header name (normalised), or 0-based index
    positional: bool = False
    council: str = ""  # the la_code of the council whose files use this layout (blank: any council's)
    category_split: str = ""  # e.g. ' : ' : keep the part before it ('FACILITIES MGT : Lifts', 'CONSULTANCY :Traffic Planning')

    def locate(self, header_cells) -> dict[str, int]:
        """Field -> column index for this file."""
        if self.positional:
            return dict(self.columns)
        names = [normalise_header(c) for c in header_cells]
        out = {}
        for name, header in self.columns.items():
            if isinstance(header, int):
                out[name] = header
            elif header in names:
                out[name] = names.index(header)
        return out

    @classmethod
    def from_mapping(cls, mapping: dict, header_cells=None) -> "Layout":
        """A layout from a user's mapping {field: header name or 1-based column number}."""
        unknown = sorted(set(mapping) - set(FIELDS))
        if unknown:
            raise MappingError(f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(FIELDS)}")
        missing = [f for f in REQUIRED if not mapping.get(f)]
        if missing:
            raise MappingError(f"the mapping must name a column for {', '.join(missing)}")
        names = [normalise_header(c) for c in (header_cells or [])]
        columns = {}
        for name, value in mapping.items():
            if value in (None, ""):
                continue
            if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
                number = int(value)
                if number < 1:
                    raise MappingError(f"{name}: column numbers start at 1")
                columns[name] = number - 1
                continue
            if not isinstance(value, str):
                raise MappingError(f"{name}: give a header name or a column number")
            header = normalise_header(value)
            if header_cells is not None and header not in names:
                raise MappingError(f"{name}: there is no column headed '{value}' in the file")
            columns[name] = header
        sig = signature(header_cells or [])
        return cls(code="mapped", label="Mapped by a user", headers=(sig,) if sig else (), columns=columns,
                   positional=header_cells is None or not sig)


LAYOUTS = (
    Layout("trafford-lga", "Trafford: LGA spend schema with ProClass (2025 onward)",
           headers=(("organisationlabel|organisationuri|effectivedate|organisationalunit|beneficiaryname|"
                    "beneficiaryotherid|paymentdate|transactionnumber|amount|irrecoverablevatamount|purpose|"
                    "proclasslabel|proclasscode|invoicenumber|profitcentre|vatregistrationnumber"),),
           columns={"payee": "beneficiaryname", "date": "paymentdate", "amount": "amount",
                    "category": "proclasslabel", "department": "organisationalunit", "description": "purpose",
                    "reference": "transactionnumber", "supplier_id": "vatregistrationnumber"},
           council="TRF", category_split=":"),
    Layout("hyndburn-2017", "Hyndburn 2017-2023: Net Amount(£) (also the mis-encoded 'Net Amount(œ)')",
           headers=("service cost centre|account detail|description|hbc ref no|name|payment date|net amount(£)",),
           columns={"payee": "name", "date": "payment date", "amount": "net amount(£)",
                    "category": "service cost centre", "department": "account detail",
                    "description": "description", "reference": "hbc ref no"}, council="HYN"),
    Layout("hyndburn-2023", "Hyndburn 2023: Payment Date, Net Amount (£)",
           headers=("service cost centre|account detail|description|hbc ref no|name|payment date|net amount (£)",),
           columns={"payee": "name", "date": "payment date", "amount": "net amount (£)",
                    "category": "service cost centre", "department": "account detail",
                    "description": "description", "reference": "hbc ref no"}, council="HYN"),
    Layout("hyndburn-2021-plus", "Hyndburn October 2021: first header cell '+'",
           headers=("+|account detail|description|hbc ref no|name|payment date|net amount(£)",),
           columns={"payee": "name", "date": "payment date", "amount": "net amount(£)", "category": 0,
                    "department": "account detail", "description": "description", "reference": "hbc ref no"}, council="HYN"),
    Layout("hyndburn-2022-recid", "Hyndburn late 2022: Net Amount, RecId",
           headers=("service cost centre|account detail|description|hbc ref no|name|payment date|net amount|recid",),
           columns={"payee": "name", "date": "payment date", "amount": "net amount",
                    "category": "service cost centre", "department": "account detail",
                    "description": "description", "reference": "hbc ref no"}, council="HYN"),
    Layout("hyndburn-2024", "Hyndburn 2024 onward: Department Area, Service Area, padded with empty columns",
           headers=("department area|service area|description|line|hbc ref no.|name|payment date|amount paid",),
           columns={"payee": "name", "date": "payment date", "amount": "amount paid", "category": "service area",
                    "department": "department area", "description": "description", "reference": "hbc ref no."}, council="HYN"),
    Layout("hyndburn-2025-noheader", "Hyndburn 2025 without a header row (the 2024 layout, 17 columns)",
           columns={"department": 0, "category": 2, "description": 4, "reference": 9, "payee": 11, "date": 14,
                    "amount": 16},
           positional=True, council="HYN"),
)
BY_CODE = {layout.code: layout for layout in LAYOUTS}
KNOWN_SIGNATURES = {sig: layout for layout in LAYOUTS for sig in layout.headers}


class SpendFileError(ValueError):
    """The file cannot be read at all (encoding, empty, too large)."""


class MappingError(ValueError):
    pass


class UnknownLayout(ValueError):
    """No known layout matches: ``headers`` are the file's header cells (or its first row)."""

    def __init__(self, headers, has_header=True):
        super().__init__("This file's layout is not one we know: choose a column for each field")
        self.headers = [h for h in headers]
        self.has_header = has_header
        self.signature = signature(headers) if has_header else ""


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding found: 'utf-8-sig', 'utf-8' or 'cp1252'."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        # cp1252 leaves five bytes undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
        raise SpendFileError(f"the file is neither UTF-8 nor Windows-1252 text (byte {exc.start + 1})") from None


def rows_of(text: str):
    """(line number, cells) for every non-blank row; line numbers count rows as a spreadsheet would."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, cells in enumerate(reader, start=1):
            if any(c.strip() for c in cells):
                yield number, cells
    except csv.Error as exc:
        raise SpendFileError(f"row {reader.line_num}: not valid CSV ({exc})") from None


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_EXCEL_EPOCH = date(1899, 12, 30)
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
_DMONY = re.compile(r"^(\d{1,2})[\s\-]([A-Za-z]{3,9})[\s\-,]+(\d{2}|\d{4})$")


def _year(y: str) -> int:
    n = int(y)
    return n + 2000 if len(y) == 2 else n


def parse_date(text: str) -> date:
    """dd/mm/yyyy, dd/mm/yy, yyyy-mm-dd, dd-Mon-yy, '17 July 2023' or an Excel serial day number."""
    try:
        return _parse_date(text)
    except ValueError as exc:
        message = str(exc)
        if "not a date we can read" in message or "blank" in message:
            raise
        raise ValueError(f"'{(text or '').strip()[:30]}' is not a real date ({message})") from None


def _parse_date(text: str) -> date:
    t = (text or "").strip()
    if not t:
        raise ValueError("the date is blank")
    if t.isdigit() and 20000 <= int(t) <= 80000:  # Excel serial: 1954-2119
        return _EXCEL_EPOCH + timedelta(days=int(t))
    if m := _ISO.match(t):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := _DMY.match(t):
        return date(_year(m[3]), int(m[2]), int(m[1]))
    if m := _DMONY.match(t):
        month = _MONTHS.get(m[2][:3].lower())
        if month and (len(m[2]) == 3 or m[2].lower() in {datetime(2000, month, 1).strftime("%B").lower(),
                                                         datetime(2000, month, 1).strftime("%b").lower() + "t",
                                                         "sept"}):
            return date(_year(m[3]), month, int(m[1]))
    raise ValueError(f"'{t[:30]}' is not a date we can read (dd/mm/yyyy, yyyy-mm-dd, 5-Oct-21, "
                     "17 July 2023 or an Excel day number)")


MAX_AMOUNT = Decimal("1e11")  # £100bn: more than any council spends in a year


def parse_amount(text: str) -> Decimal:
    """Pounds: '£1,234.50', '1234.5', '-50', '(50.00)' or '50.00-' (credit notes are negative)."""
    t = (text or "").strip()
    if not t:
        raise ValueError("the amount is blank")
    negative = False
    if t.startswith("(") and t.endswith(")"):
        negative, t = True, t[1:-1]
    if t.endswith("-"):
        negative, t = True, t[:-1]
    cleaned = re.sub(r"[£œ,\s]", "", t)
    if cleaned.upper().endswith("CR"):
        negative, cleaned = True, cleaned[:-2]
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{text.strip()[:30]}' is not an amount in pounds") from None
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise ValueError(f"'{text.strip()[:30]}' is not a plausible amount")
    return -value if negative else value


def is_individual(name: str) -> bool:
    """Is this payee a private individual (already redacted by the council, or 'Mr A Smith')?"""
    low = name.strip().lower()
    if not low:
        return False
    if any(marker in low for marker in REDACTED_MARKERS):
        return True
    return bool(_TITLE.match(low)) and not _ORG_WORDS.search(low)


@dataclass
class Row:
    line: int
    payee: str
    paid_on: date
    amount: Decimal
    category: str
    department: str
    description: str
    reference: str
    supplier_id: str
    individual: bool


@dataclass
class Parsed:
    layout: Layout
    encoding: str
    has_header: bool
    header: list
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # (line, column, message)
    skipped_headers: int = 0
    organisations: set = field(default_factory=set)  # council names the file itself gives (a few at most)


# Columns in which a file names the council that published it (the LGA spend schema's OrganisationLabel).
ORGANISATION_HEADERS = ("organisationlabel", "organisation label", "organisation name", "organisation",
                        "council", "body name", "local authority")


def _looks_positional(layout: Layout, cells) -> bool:
    need = max(v for v in layout.columns.values())
    if len(cells) <= need:
        return False
    try:
        parse_date(cells[layout.columns["date"]])
        parse_amount(cells[layout.columns["amount"]])
    except ValueError:
        return False
    return bool(cells[layout.columns["payee"]].strip())


def identify(first_cells, mappings=None) -> tuple[Layout, bool]:
    """The layout of a file from its first non-blank row, and whether that row is a header.
    ``mappings`` is {signature: Layout} remembered from users."""
    sig = signature(first_cells)
    if sig in KNOWN_SIGNATURES:
        return KNOWN_SIGNATURES[sig], True
    if mappings and sig in mappings:
        return mappings[sig], True
    for layout in LAYOUTS:
        if layout.positional and _looks_positional(layout, first_cells):
            return layout, False
    looks_like_header = not any(_parses(c) for c in first_cells)
    raise UnknownLayout(first_cells, has_header=looks_like_header)


def _parses(cell):
    c = cell.strip()
    if not c:
        return False
    for fn in (parse_date, parse_amount):
        try:
            fn(c)
            return True
        except ValueError:
            pass
    return False


def parse(raw: bytes, *, mappings=None, layout: Layout | None = None, max_problems=500) -> Parsed:
    """Read a whole spend file. Raises SpendFileError or UnknownLayout; bad rows go to ``problems``."""
    text, encoding = decode(raw)
    rows = rows_of(text)
    first = next(rows, None)
    if first is None:
        raise SpendFileError("the file has no rows")
    first_line, first_cells = first
    if layout is None:
        layout, has_header = identify(first_cells, mappings)
    else:
        has_header = bool(layout.headers) and signature(first_cells) in layout.headers
        if not layout.positional and not has_header:
            raise MappingError("the mapping names headers, but the file's first row is not that header")
    header = list(first_cells) if has_header else []
    where = layout.locate(header)
    missing = [f for f in REQUIRED if f not in where]
    if missing:
        raise MappingError(f"no column for {', '.join(missing)}")
    header_sigs = set(KNOWN_SIGNATURES) | set(layout.headers)
    out = Parsed(layout=layout, encoding=encoding, has_header=has_header, header=header)
    labels = {name: (header[i].strip() if has_header and i < len(header) and header[i].strip()
                     else f"column {i + 1}") for name, i in where.items()}
    split = layout.category_split
    names_at = [i for i, h in enumerate(header) if normalise_header(h) in ORGANISATION_HEADERS]
    dates, people = {}, {}  # a year's file has a few hundred dates and a few thousand payees

    def cell(cells, name):
        i = where.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    def take(line, cells):
        if signature(cells) in header_sigs:  # a header row repeated inside the file
            out.skipped_headers += 1
            return
        for i in names_at:  # the council the file says it is from (LGA schema: OrganisationLabel)
            if i < len(cells) and cells[i].strip() and len(out.organisations) < 10:
                out.organisations.add(cells[i].strip()[:200])
        bad = False
        payee = cell(cells, "payee")  # blank in a few real files: kept as "not stated", never guessed
        text = cell(cells, "date")
        paid_on = dates.get(text)
        if paid_on is None:
            try:
                paid_on = parse_date(text)
                if not date(1990, 1, 1) <= paid_on <= date(2100, 12, 31):
                    raise ValueError(f"{paid_on.isoformat()} is outside 1990-2100")
                dates[text] = paid_on
            except ValueError as exc:
                out.problems.append((line, labels["date"], str(exc)))
                bad = True
        try:
            amount = parse_amount(cell(cells, "amount"))
        except ValueError as exc:
            out.problems.append((line, labels["amount"], str(exc)))
            bad = True
        if bad:
            return
        category = cell(cells, "category")
        if split and split in category:
            category = category.split(split)[0].strip()
        if category.upper() in ("NA", "N/A", "NOT CLASSIFIED"):
            category = ""
        supplier_id = cell(cells, "supplier_id")
        if supplier_id.upper() in ("NA", "N/A"):
            supplier_id = ""
        individual = people.get(payee)
        if individual is None:
            individual = people[payee] = is_individual(payee)
        out.rows.append(Row(line, REDACTED_NAME if individual else payee[:300], paid_on, amount,
                            category[:200], cell(cells, "department")[:200],
                            "" if individual else cell(cells, "description")[:300],
                            cell(cells, "reference")[:100], "" if individual else supplier_id[:40], individual))

    if not has_header:
        take(first_line, first_cells)
    for line, cells in rows:
        take(line, cells)
        if len(out.problems) >= max_problems:
            out.problems.append((line, "", f"stopped after {max_problems} problems"))
            break
    if not out.rows and not out.problems:
        raise SpendFileError("the file has a header but no payments")
    return out
