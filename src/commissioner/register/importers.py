"""Council contract registers (Local Government Transparency Code 2015) imported from CSV.

Each file is read whole (registers are small), decoded (UTF-8, UTF-8 with BOM, cp1252) and
split on its delimiter (comma, semicolon or tab). Headers are matched to the Code's fields
whatever their spelling ("Contract Reference", "Reference Number", "Supplier Name",
"Contractor", "Total Value", ...). Every row is checked before anything is written; each
problem is reported with its file, row and column, and a bad row is left out whole.

Valid rows become synthetic OCDS releases (one per contracting process: rows that share a
reference are the lots or suppliers of one process) and go through the OCDS importer, so
storage, history, the audit trail and exports work as for open data. The releases are
deterministic: importing the same register again changes nothing; a changed row gives a new
release dated at the import, and the contract's history shows what changed.

Row numbers are the spreadsheet's: the header is row 1 (or lower, after title rows).
"""

import csv
import hashlib
import io
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import orjson
from django.conf import settings
from django.utils import timezone

from commissioner.methods.text import clean_text, supplier_name_key
from commissioner.ocds import mapping, reader
from commissioner.ocds import services as ocds_services
from commissioner.ocds.models import ImportRun, Release
from commissioner.orgs.models import Organisation
from commissioner.orgs.services import organisation_for_buyer
from commissioner.register.models import Source

# Canonical fields, with the header spellings seen in council registers (normalised: lower case,
# words only, "&" as "and", units such as "(£)" and "ex VAT" dropped).
FIELDS = {
    "reference": ("Reference", [
        "reference", "ref", "contract reference", "contract ref", "reference number", "reference no", "ref no",
        "ref number", "contract reference number", "contract ref no", "contract number", "contract no",
        "contract id", "id", "unique reference", "unique id", "procurement reference", "tender reference",
        "our ref", "council reference", "contract code"]),
    "title": ("Title", [
        "title", "contract title", "contract name", "name of contract", "contract", "subject", "subject matter",
        "project title", "project name", "service", "name of service", "lot title", "contract subject"]),
    "description": ("Description", [
        "description", "contract description", "description of goods and services",
        "description of goods and or services", "description of the goods and or services", "goods and services",
        "details", "summary", "scope", "description of contract", "short description", "purpose",
        "service description", "contract details"]),
    "supplier": ("Supplier", [
        "supplier", "supplier name", "suppliers", "supplier names", "contractor", "contractor name", "contractors",
        "provider", "provider name", "name of supplier", "name of contractor", "name of provider", "vendor",
        "vendor name", "awarded to", "successful supplier", "supplier organisation", "organisation name"]),
    "companies_house": ("Company number", [
        "company number", "company registration number", "company reg number", "company reg no", "company no",
        "companies house number", "companies house no", "companies house registration number",
        "registered company number", "crn", "supplier company number", "company registration no",
        "supplier company registration number", "company registration", "registration number",
        "registered number"]),
    "charity": ("Charity number", [
        "charity number", "charity registration number", "registered charity number", "charity no",
        "charity reg no", "charity reg number", "charity commission number", "supplier charity number",
        "charity registration no", "charity"]),
    "sme": ("SME", [
        "sme", "is sme", "sme supplier", "sme flag", "small or medium enterprise", "small medium enterprise",
        "sme status", "supplier is sme", "is the supplier an sme"]),
    "vcse": ("VCSE", [
        "vcse", "is vcse", "vcs", "vcse flag", "vcse supplier", "voluntary community or social enterprise",
        "voluntary or community sector", "voluntary and community sector", "third sector", "vcse status",
        "voluntary sector", "supplier is vcse", "is the supplier a vcse"]),
    "sme_vcse": ("SME/VCSE", [
        "sme vcse", "sme or vcse", "sme vcs", "sme and vcse", "sme or vcs", "sme vcse flag", "sme vcse status",
        "sme vcse supplier", "sme or vcse supplier", "sme voluntary",
        "small or medium enterprise or voluntary or community sector organisation",
        "sme or voluntary community sector"]),
    "start": ("Start date", [
        "start date", "start", "contract start", "contract start date", "commencement date",
        "date of commencement", "start of contract", "from", "from date", "effective date", "contract from"]),
    "end": ("End date", [
        "end date", "end", "contract end", "contract end date", "expiry date", "expiry", "contract expiry",
        "contract expiry date", "end of contract", "to", "to date", "finish date", "contract to", "expires"]),
    "review": ("Review date", [
        "review date", "review", "contract review date", "date of review", "next review date", "review point"]),
    "value": ("Value", [
        "value", "total value", "estimated value", "contract value", "total contract value",
        "estimated total value", "value of contract", "estimated contract value", "total estimated value",
        "contract amount", "amount", "total amount", "whole life value", "lifetime value", "total cost",
        "contract sum", "estimated total contract value", "value of the contract", "total contract amount"]),
    "route": ("Procurement route", [
        "procurement route", "route", "procurement method", "procurement procedure", "procedure",
        "route to market", "award procedure", "method", "procurement type", "tender type",
        "procurement process", "award route", "procurement route used"]),
    "cpv": ("CPV code", ["cpv", "cpv code", "cpv codes", "cpv classification", "main cpv code"]),
}
_FILLER = {"y", "n", "yes", "no", "gbp", "inc", "incl", "including", "exc", "excl", "ex", "excluding", "vat",
           "the", "of", "yyyy", "mm", "dd", "if", "known", "applicable", "flag"}
_IGNORED_HINTS = {"annual": "the register takes the contract's total value, not an annual figure"}

BLANK = {"", "-", "--", "n/a", "na", "n.a.", "n a", "tbc", "tbd", "tba", "unknown", "not known", "not applicable",
         "none", "nil return", "various", "variable", "see notes"}
MONTHS = {m: i for i, names in enumerate([
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
    ("nov", "november"), ("dec", "december")], start=1) for m in names}
EXCEL_EPOCH = date(1899, 12, 30)
YES = {"yes", "y", "true", "t", "1"}
NO = {"no", "n", "false", "f", "0"}
HEADER_SCAN = 10  # title rows allowed above the header


class RowError(ValueError):
    """One problem with one cell."""

    def __init__(self, field_name, reason):
        super().__init__(reason)
        self.field, self.reason = field_name, reason


# -- cells ---------------------------------------------------------------------------------------------

def _blank(raw) -> bool:
    return raw is None or " ".join(str(raw).lower().split()) in BLANK


def _two_digit_year(yy: int) -> int:
    return 2000 + yy if yy < 70 else 1900 + yy


def parse_uk_date(raw) -> date | None:
    """A date as councils write it: dd/mm/yyyy, d/m/yy, 1 April 2024, 2024-04-01, an Excel serial number."""
    if _blank(raw):
        return None
    text = " ".join(str(raw).strip().lower().split())
    try:
        d = _parse_date_text(text)
    except ValueError:
        d = None
    if d is None:
        raise ValueError(f"'{str(raw).strip()[:40]}' is not a date (use dd/mm/yyyy)")
    if not 1950 <= d.year <= 2200:
        raise ValueError(f"'{str(raw).strip()[:40]}' has an implausible year {d.year}")
    return d


def _parse_date_text(text):
    time_part = r"(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + time_part, text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})" + time_part, text):
        year = int(m[3]) if len(m[3]) == 4 else _two_digit_year(int(m[3]))
        return date(year, int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?[ \-/]+([a-z]+)\.?,?[ \-/]+(\d{4}|\d{2})" + time_part, text):
        if m[2] in MONTHS:
            year = int(m[3]) if len(m[3]) == 4 else _two_digit_year(int(m[3]))
            return date(year, MONTHS[m[2]], int(m[1]))
        return None
    if m := re.fullmatch(r"([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})", text):
        if m[1] in MONTHS:
            return date(int(m[3]), MONTHS[m[1]], int(m[2]))
        return None
    if m := re.fullmatch(r"(\d{5})(?:\.0+)?", text):  # Excel serial day number (1954 to 2119)
        serial = int(m[1])
        if 20000 <= serial <= 80000:
            return EXCEL_EPOCH + timedelta(days=serial)
    return None


_AMOUNT_PREFIX = re.compile(r"^(?:up to|approx\.?|approximately|circa|c\.|est\.?|estimated)\s*")
_MULTIPLIERS = {"k": 1000, "thousand": 1000, "m": 10**6, "mn": 10**6, "million": 10**6, "bn": 10**9,
                "billion": 10**9}


def parse_amount(raw, *, max_amount=None) -> Decimal | None:
    """An amount in pounds: '£1,234.56', '1 234', '£1.2m', '250k'. Negative, annual or odd values are refused."""
    if _blank(raw):
        return None
    shown = str(raw).strip()[:40]
    text = " ".join(str(raw).lower().replace("\u00a0", " ").split())
    text = _AMOUNT_PREFIX.sub("", text)
    if re.search(r"\b(per annum|p\.?a\.?|per year|a year|annual|pcm|per month|per week|per hour)\b", text):
        raise ValueError(f"'{shown}' is a rate, not the contract's total value")
    if text.startswith("-") or text.startswith("(") and text.endswith(")") or "-£" in text:
        raise ValueError(f"'{shown}' is negative")
    text = text.replace("£", "").replace("gbp", "").strip()
    multiplier = 1
    if m := re.fullmatch(r"(.*?)\s*(k|thousand|mn|m|million|bn|billion)", text):
        text, multiplier = m[1], _MULTIPLIERS[m[2]]
    text = text.replace(" ", "")
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    elif re.fullmatch(r"\d+,\d{1,2}", text):
        raise ValueError(f"'{shown}' uses a decimal comma: write pounds and pence with a full stop")
    if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", text):
        raise ValueError(f"'{shown}' is not an amount")
    try:
        value = (Decimal(text) * multiplier).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"'{shown}' is not an amount") from None
    if max_amount is not None and value > max_amount:
        raise ValueError(f"'{shown}' is absurd (more than £{max_amount:,})")
    return value


def parse_flag(raw, what) -> bool | None:
    if _blank(raw):
        return None
    text = " ".join(str(raw).strip().lower().split())
    if text in YES or text == what:
        return True
    if text in NO or text in (f"not {what}", f"non {what}", f"non-{what}"):
        return False
    raise ValueError(f"'{str(raw).strip()[:40]}' is not yes or no")


def parse_sme_vcse(raw) -> tuple[str, bool | None]:
    """(scale, vcse) from a combined 'SME/VCSE' column: 'SME', 'VCSE', 'Both', 'Yes', 'No', 'Large', ..."""
    if _blank(raw):
        return "", None
    text = " ".join(re.split(r"[^a-z]+", str(raw).lower())).strip()
    words = set(text.split())
    if text in ("both", "sme and vcse", "sme vcse", "vcse sme", "sme and vcs", "sme vcs"):
        return "sme", True
    if words & {"vcse", "vcs", "voluntary", "charity", "vcfs", "community"}:
        return ("sme" if "sme" in words else ""), True
    if "sme" in words and not words & {"non", "not"}:
        return "sme", None
    if text in YES:  # an SME or a VCSE organisation, we cannot tell which: SME is what most of them are
        return "sme", None
    if text in NO or text in ("neither", "large", "non sme", "not sme", "large enterprise", "large company"):
        return "large", False
    raise ValueError(f"'{str(raw).strip()[:40]}' is not SME, VCSE, both, yes or no")


def parse_company_number(raw) -> str:
    """A Companies House number, 8 characters; leading zeros lost by spreadsheets are put back."""
    if _blank(raw):
        return ""
    text = str(raw).strip().upper()
    text = re.sub(r"\.0+$", "", text)
    text = re.sub(r"[\s\-]", "", text)
    if text.isdigit() and len(text) <= 8:
        return text.zfill(8)
    if m := re.fullmatch(r"([A-Z]{1,2})(\d{1,7})([A-Z]?)", text):
        width = 8 - len(m[1]) - len(m[3])
        if len(m[2]) <= width:
            return m[1] + m[2].zfill(width) + m[3]
    raise ValueError(f"'{str(raw).strip()[:40]}' is not a Companies House number")


def parse_charity_number(raw) -> tuple[str, str]:
    """(scheme, number): GB-CHC (England and Wales), GB-SC (Scotland, SC...), GB-NIC (Northern Ireland)."""
    if _blank(raw):
        return "", ""
    text = re.sub(r"\.0+$", "", str(raw).strip().upper()).replace(" ", "")
    if re.fullmatch(r"SC\d{6}", text):
        return "GB-SC", text
    if m := re.fullmatch(r"NIC?(\d{5,6})", text):
        return "GB-NIC", m[1]
    if re.fullmatch(r"\d{5,8}(-\d{1,2})?", text):
        return "GB-CHC", text
    raise ValueError(f"'{str(raw).strip()[:40]}' is not a charity number")


def procurement_method(route: str) -> str:
    """The OCDS procurementMethod for a route where the words leave no doubt; '' otherwise."""
    text = route.lower()
    if re.search(r"\bopen\b", text):
        return "open"
    if re.search(r"restricted|competitive (dialogue|flexible|procedure with negotiation)|negotiated with", text):
        return "selective"
    if re.search(r"direct award|waiver|exemption|single (tender|source)|sole supplier", text):
        return "direct"
    if re.search(r"quot(e|ation)|\brfq\b", text):
        return "limited"
    return ""


# -- files ---------------------------------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding: UTF-8 with or without a byte-order mark, UTF-16 with one, else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter giving the widest rows among the first lines: comma, semicolon, tab or pipe."""
    sample = "\n".join(text.splitlines()[:HEADER_SCAN + 5])
    best, best_width = ",", 0
    for delimiter in (",", ";", "\t", "|"):
        rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
        width = max((len([c for c in row if c.strip()]) for row in rows), default=0)
        if width > best_width:
            best, best_width = delimiter, width
    return best


def normalise_header(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", str(text).replace("\ufeff", "").lower().replace("&", " and "))
    if "no" in words and not {"yes", "y"} & set(words):  # "Ref No", "Company No": a number
        words = ["number" if w == "no" else w for w in words]
    kept = [w for w in words if w not in _FILLER]
    return " ".join(kept or words)


_SYNONYMS = {normalise_header(syn): key for key, (_, syns) in FIELDS.items() for syn in syns}


def field_for_header(text: str) -> str | None:
    """The canonical field for a column header, or None."""
    key = normalise_header(text)
    if not key:
        return None
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    words = set(key.split())
    if "annual" in words or "annum" in words:
        return None
    if "charity" in words:
        return "charity"
    if words & {"company", "companies", "crn"}:
        return "companies_house"
    if "sme" in words:
        return "sme_vcse" if words & {"vcse", "vcs", "voluntary"} else "sme"
    if words & {"vcse", "vcs", "voluntary"}:
        return "vcse"
    if "review" in words:
        return "review"
    if words & {"start", "commencement"}:
        return "start"
    if words & {"end", "expiry", "expires", "expiration"}:
        return "end"
    if words & {"value", "amount", "cost"}:
        return "value"
    if words & {"supplier", "suppliers", "contractor", "contractors", "provider", "vendor"}:
        return "supplier"
    if words & {"route", "procedure"} or {"procurement", "method"} <= words:
        return "route"
    if "cpv" in words:
        return "cpv"
    if "title" in words:
        return "title"
    if "description" in words:
        return "description"
    if words & {"reference", "ref"}:
        return "reference"
    return None


@dataclass
class RegisterRow:
    source: str
    row: int
    reference: str = ""
    title: str = ""
    description: str = ""
    supplier: str = ""
    companies_house: str = ""
    charity_scheme: str = ""
    charity: str = ""
    scale: str = ""
    vcse: bool | None = None
    start: date | None = None
    end: date | None = None
    review: date | None = None
    value: Decimal | None = None
    route: str = ""
    cpv: str = ""

    def content(self) -> dict:
        """What the row says (not where it sits in the file)."""
        return {k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v)
                for k, v in self.__dict__.items() if k not in ("source", "row")}


@dataclass
class ParsedFile:
    source: str
    rows: list = field(default_factory=list)       # RegisterRow
    errors: list = field(default_factory=list)     # (source, position, column, reason)
    notes: list = field(default_factory=list)
    read: int = 0
    encoding: str = ""
    delimiter: str = ","


def _header_row(records):
    """(index, {column index: field}) of the first row that reads as a register header."""
    for i, record in enumerate(records[:HEADER_SCAN]):
        fields = {}
        for col, cell in enumerate(record):
            f = field_for_header(cell)
            if f and f not in fields.values():
                fields[col] = f
        if len(fields) >= 2 and {"title", "description"} & set(fields.values()):
            return i, fields
    return None, {}


def read_register_file(path, *, max_amount=None) -> ParsedFile:
    """Parse and check one register CSV. Nothing is written."""
    name = str(path)
    out = ParsedFile(source=name)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        out.errors.append((name, "file", "", f"cannot read: {e.strerror or e}"))
        return out
    if not data.strip():
        out.errors.append((name, "file", "", "empty file"))
        return out
    if data.lstrip()[:1] in (b"{", b"["):
        out.errors.append((name, "file", "", "this is JSON, not CSV: import it with 'commissioner import ocds'"))
        return out
    text, out.encoding = decode(data)
    out.delimiter = sniff_delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=out.delimiter))
    except csv.Error as e:
        out.errors.append((name, "file", "", f"not a readable CSV file: {e}"))
        return out
    start, columns = _header_row(records)
    if start is None:
        found = ", ".join(repr(c.strip()) for c in (records[0] if records else []) if c.strip())[:300]
        out.errors.append((name, "row 1", "", ("no header row with a title or description column "
                                             f"(looked in the first {HEADER_SCAN} rows; first row: {found or 'empty'})")))
        return out
    header = records[start]
    labels = {col: header[col].strip() for col in columns}
    if start:
        out.notes.append(f"{name}: rows 1 to {start} are above the header and were skipped")
    unused = [h.strip() for col, h in enumerate(header) if h.strip() and col not in columns]
    for h in unused:
        hint = next((v for k, v in _IGNORED_HINTS.items() if k in normalise_header(h).split()), "not a register field")
        out.notes.append(f"{name}: column '{h}' not used ({hint})")
    has_title = "title" in columns.values()
    if not has_title:
        out.notes.append(f"{name}: no title column; the description is used as the title")
    by_field = {f: col for col, f in columns.items()}
    for offset, record in enumerate(records[start + 1:], start=start + 2):
        if not any(c.strip() for c in record):
            continue
        cells = {f: clean_text(record[col]) if col < len(record) else "" for f, col in by_field.items()}
        first = (cells.get("title") or cells.get("description") or cells.get("reference") or "").lower()
        if first in ("total", "totals", "grand total") and not cells.get("supplier"):
            out.notes.append(f"{name}: row {offset} is a total line and was skipped")
            continue
        out.read += 1
        row, errors = _parse_row(cells, name, offset, has_title, max_amount)
        for f, reason in errors:
            column = labels.get(by_field.get(f), FIELDS[f][0]) if f else ""
            out.errors.append((name, f"row {offset}", column, reason))
        if not errors:
            out.rows.append(row)
    return out


def _parse_row(cells, name, number, has_title, max_amount):
    row, errors = RegisterRow(source=name, row=number), []

    def take(f, parse):
        try:
            return parse(cells.get(f, ""))
        except ValueError as e:
            errors.append((f, str(e)))
            return None

    row.reference = cells.get("reference", "")[:200]
    row.title = cells.get("title", "") if has_title else cells.get("description", "")
    row.description = cells.get("description", "") if has_title else ""
    if not row.title:
        errors.append(("title" if has_title else "description", "the title is empty"))
    row.supplier = cells.get("supplier", "")[:300]
    row.companies_house = take("companies_house", parse_company_number) or ""
    row.charity_scheme, row.charity = take("charity", parse_charity_number) or ("", "")
    sme = take("sme", lambda v: parse_flag(v, "sme"))
    vcse = take("vcse", lambda v: parse_flag(v, "vcse"))
    combined = take("sme_vcse", parse_sme_vcse) or ("", None)
    row.scale = combined[0] or ("sme" if sme else "large" if sme is False else "")
    row.vcse = vcse if vcse is not None else combined[1]
    row.start = take("start", parse_uk_date)
    row.end = take("end", parse_uk_date)
    row.review = take("review", parse_uk_date)
    row.value = take("value", lambda v: parse_amount(v, max_amount=max_amount))
    row.route = cells.get("route", "")[:300]
    cpv = cells.get("cpv", "")
    if cpv:
        m = re.match(r"\s*(\d{8})(?:-\d)?\b", cpv)
        if m:
            row.cpv = m[1]
        else:
            errors.append(("cpv", f"'{cpv[:40]}' is not a CPV code (8 digits, e.g. 85311000-2)"))
    if row.start and row.end and row.end < row.start:
        errors.append(("end", f"the end date {row.end:%d/%m/%Y} is before the start date {row.start:%d/%m/%Y}"))
    return row, errors


# -- releases ------------------------------------------------------------------------------------------

def _slug(text: str, limit: int = 100) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:limit].strip("-")


def _hash(value) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def ocid_for(org_slug: str, row: RegisterRow) -> str:
    """The process a row belongs to: its reference, else its title, supplier and start date."""
    if row.reference and _slug(row.reference):
        key = _slug(row.reference)
    else:
        key = "row-" + _hash([row.title.lower(), supplier_name_key(row.supplier), str(row.start)])[:12]
    return f"{mapping.REGISTER_OCID_PREFIX}{org_slug}-{key}"[:200]


def _supplier_party(row: RegisterRow):
    if not (row.supplier or row.companies_house or row.charity):
        return None
    identifiers = []
    if row.companies_house:
        identifiers.append({"scheme": "GB-COH", "id": row.companies_house})
    if row.charity:
        identifiers.append({"scheme": row.charity_scheme, "id": row.charity})
    if identifiers:
        pid = f"{identifiers[0]['scheme']}-{identifiers[0]['id']}"
    else:
        pid = "supplier-" + _hash(supplier_name_key(row.supplier))[:12]
    # Explicit nulls: a flag taken out of the register is taken out of the record too.
    return {"id": pid, "name": row.supplier or pid, "roles": ["supplier"],
            "identifier": identifiers[0] if identifiers else None,
            "additionalIdentifiers": identifiers[1:] or None,
            "details": {"scale": row.scale or None, "vcse": row.vcse}}


def _period(row):
    if not (row.start or row.end):
        return None
    return {"startDate": f"{row.start.isoformat()}T00:00:00Z" if row.start else None,
            "endDate": f"{row.end.isoformat()}T23:59:59Z" if row.end else None}


def _award_ids(rows):
    """Stable ids: a row keeps its award and contract ids when its value, dates or title change.

    The id comes from the supplier (rows sharing a reference are one process with several
    suppliers); the title tells apart two rows with the same supplier.
    """
    ids, seen = [], set()
    for row in rows:
        who = row.companies_house or row.charity or supplier_name_key(row.supplier)
        key = "award-" + _hash(who)[:12]
        if key in seen:
            key = "award-" + _hash([who, row.title.lower()])[:12]
        base, n = key, 1
        while key in seen:
            n += 1
            key = f"{base}-{n}"
        seen.add(key)
        ids.append(key)
    return ids


def unique_rows(rows):
    """Rows in a stable order (by content), exact repeats dropped."""
    by_content = {}
    for row in rows:
        by_content.setdefault(_hash(row.content()), row)
    return [by_content[k] for k in sorted(by_content)]


def release_body(ocid: str, rows: list, buyer_party: dict, previous_award_ids=()) -> dict:
    """The synthetic release for one process (without id and date): deterministic in the rows.

    Every field the register can fill is written, null when the cell is empty, so that a value
    removed from the register is removed from the compiled record. Awards of an earlier import
    that are no longer in the register (``previous_award_ids``) are marked cancelled.
    """
    rows = unique_rows(rows)
    first = rows[0]
    parties, awards, contracts = [buyer_party], [], []
    for row, key in zip(rows, _award_ids(rows), strict=True):
        party = _supplier_party(row)
        value = {"amount": _number(row.value), "currency": "GBP"} if row.value is not None else None
        award = {"id": key, "status": "active", "title": row.title, "value": value,
                 "suppliers": [{"id": party["id"], "name": party["name"]}] if party else None,
                 "contractPeriod": _period(row)}
        contract = {"id": key, "awardID": key, "title": row.title, "status": "active", "value": value,
                    "period": _period(row), "x_reviewDate": row.review.isoformat() if row.review else None}
        if party is not None and all(p["id"] != party["id"] for p in parties):
            parties.append(party)
        awards.append(award)
        contracts.append(contract)
    current = {a["id"] for a in awards}
    for gone in sorted(set(previous_award_ids) - current):
        awards.append({"id": gone, "status": "cancelled"})
        contracts.append({"id": gone, "awardID": gone, "status": "cancelled"})
    tender = {"id": first.reference or ocid, "title": first.title, "status": "complete",
              "description": first.description or None, "procurementMethodDetails": first.route or None,
              "procurementMethod": procurement_method(first.route) or None,
              "items": [{"id": "1", "classification": {"scheme": "CPV", "id": first.cpv}}] if first.cpv else None}
    return {
        "ocid": ocid, "tag": ["contract"], "initiationType": "tender", "language": "en",
        "parties": parties, "buyer": {"id": buyer_party["id"], "name": buyer_party["name"]},
        "tender": tender, "awards": awards, "contracts": contracts,
    }


def _buyer_party(org: Organisation) -> dict:
    if org.la_code:
        return {"id": f"GB-LAE-{org.la_code}", "name": org.name, "roles": ["buyer"],
                "identifier": {"scheme": "GB-LAE", "id": org.la_code, "legalName": org.name}}
    return {"id": f"commissioner-{org.slug}", "name": org.name, "roles": ["buyer"]}


def build_releases(groups: dict, org: Organisation, now: datetime) -> list:
    """[(ocid, rows, release)]: an unchanged process keeps the release (id and date) it already has."""
    buyer_party = _buyer_party(org)
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    held, previous = {}, {}  # ocid -> {release id: (date, the date as written in the release)}
    for ocid, rid, when, text in Release.objects.filter(ocid__in=list(groups)).values_list(
            "ocid", "release_id", "date", "data__date"):
        held.setdefault(ocid, {})[rid] = (when, text)
    for ocid, compiled in ocds_services.compiled_releases(list(held)).items():
        previous[ocid] = [a.get("id") for a in compiled.get("awards") or []
                          if isinstance(a, dict) and isinstance(a.get("id"), str)]
    out = []
    for ocid, rows in groups.items():
        body = release_body(ocid, rows, buyer_party, previous.get(ocid, ()))
        rid = "register-" + _hash(body)[:24]
        mine = held.get(ocid, {})
        date_text = stamp
        if rid in mine:
            latest = max((when for when, _ in mine.values() if when is not None), default=None)
            if mine[rid][0] == latest:  # the process is as we last imported it: keep that release as it is
                date_text = mine[rid][1]
            else:  # the register went back to an earlier state: a new release, so it wins over the later one
                rid = f"{rid}-{now.astimezone(UTC):%Y%m%d%H%M%S}"
        out.append((ocid, rows, {"ocid": ocid, "id": rid, "date": date_text} | body))
    return out


# -- the import ----------------------------------------------------------------------------------------

@dataclass
class RegisterSummary:
    files: int = 0
    read: int = 0                                     # data rows read
    valid: int = 0
    rejected: list = field(default_factory=list)     # (source, position, column, reason)
    notes: list = field(default_factory=list)
    ocds: ocds_services.ImportSummary = field(default_factory=ocds_services.ImportSummary)
    seconds: float = 0.0

    @property
    def processes(self):
        return self.ocds.read

    def as_dict(self):
        return {"files": self.files, "read": self.read, "valid": self.valid, "rejected": len(self.rejected),
                "notes": len(self.notes), "processes": self.processes, "releases_new": self.ocds.releases_new,
                "releases_unchanged": self.ocds.releases_unchanged, "releases_updated": self.ocds.releases_updated,
                "contracts_created": self.ocds.contracts_created, "contracts_updated": self.ocds.contracts_updated,
                "contracts_unchanged": self.ocds.contracts_unchanged, "seconds": round(self.seconds, 2)}

    def lines(self):
        o = self.ocds
        yield (f"read {self.read} rows from {self.files} file{'s' if self.files != 1 else ''}: {self.valid} valid, "
               f"{len(self.rejected)} rejected; {self.processes} contracting processes")
        yield (f"releases: {o.releases_new} new, {o.releases_updated} updated, {o.releases_unchanged} unchanged; "
               f"contracts: {o.contracts_created} created, {o.contracts_updated} updated, "
               f"{o.contracts_unchanged} unchanged ({self.seconds:.1f} s)")
        for note in self.notes[:100]:
            yield f"note: {note}"
        for source, position, column, reason in self.rejected[:500]:
            yield f"rejected: {source}, {position}" + (f", column '{column}'" if column else "") + f": {reason}"
        if len(self.rejected) > 500:
            yield f"... and {len(self.rejected) - 500} more rejected"


def resolve_buyer(buyer: str) -> Organisation:
    """The organisation whose register this is: an organisation slug, or a name (matched to a council)."""
    org = Organisation.objects.filter(slug=buyer.strip()).first()
    return org or organisation_for_buyer(buyer)


def import_register_csv(paths, *, buyer, private=False, actor=None, progress=None, now=None) -> RegisterSummary:
    """Import council contract register CSVs for ``buyer``. Bad rows are reported and left out; never raises
    on bad data."""
    started = time.monotonic()
    paths = [str(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    now = now or timezone.now()
    org = resolve_buyer(buyer)
    summary = RegisterSummary(files=len(paths))
    max_amount = settings.MAX_AMOUNT
    groups = {}
    for path in paths:
        parsed = read_register_file(path, max_amount=max_amount)
        summary.read += parsed.read
        summary.rejected += parsed.errors
        summary.notes += parsed.notes
        summary.valid += len(parsed.rows)
        for row in parsed.rows:
            groups.setdefault(ocid_for(org.slug, row), []).append(row)
    for ocid, rows in groups.items():
        if len(rows) > 1:
            where = ", ".join(f"{Path(r.source).name} row {r.row}" for r in rows[:10])
            contents = {_hash(r.content()) for r in rows}
            if len(contents) < len(rows):
                summary.notes.append(f"{where}: repeated rows, imported once ({ocid})")
            if len(contents) > 1:
                summary.notes.append(f"{where}: same reference, imported as one contracting process with "
                                     f"{len(contents)} awards ({ocid})")
    label = f"register import {', '.join(paths)[:150]}"
    run = ImportRun.objects.create(kind="register", source=", ".join(paths)[:500],
                                   actor=actor if actor is not None and actor.is_authenticated else None)
    importer = ocds_services.Importer(actor=actor, source_label=label, progress=progress,
                                      source=Source.REGISTER, private=private)
    importer.orgs[org.name.lower()] = org  # the buyer party names this organisation: never re-match it
    chunk = []
    for ocid, rows, release in build_releases(groups, org, now):
        where = ", ".join(f"row {r.row}" for r in rows[:20])
        item = reader.Item(source=rows[0].source, position=where, release=release)
        importer.summary.read += 1
        try:
            mapping.validate_release(release, max_amount=max_amount)
        except mapping.InvalidRelease as e:  # the row checks above should have caught it
            importer.reject(item, str(e), ocid)
            continue
        chunk.append((item, release))
        if len(chunk) >= ocds_services.CHUNK:
            importer._flush(chunk)
            chunk = []
    if chunk:
        importer._flush(chunk)
    summary.ocds = importer.summary
    summary.rejected += [(s, p, "", f"{reason}" + (f" (ocid {o})" if o else ""))
                         for s, p, o, reason in importer.summary.rejected]
    summary.seconds = time.monotonic() - started
    run.finished_at = timezone.now()
    run.counts = summary.as_dict()
    run.errors = [list(r) for r in summary.rejected[:1000]]
    run.save()
    return summary
