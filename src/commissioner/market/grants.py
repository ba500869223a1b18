"""Reading 360Giving grant files (the 360Giving Data Standard's flat CSV: "Identifier", "Amount
Awarded", "Award Date", "Recipient Org:Name", ...). Pure: nothing here touches the database."""

import csv
import io
from dataclasses import dataclass
from datetime import date

from commissioner.market.layouts import SpendFileError, decode, is_individual, parse_amount, parse_date
from commissioner.methods.market import find_postcode

REQUIRED = ("Identifier", "Title", "Amount Awarded", "Award Date", "Recipient Org:Name")


@dataclass
class GrantRow:
    line: int
    identifier: str
    title: str
    amount: object
    award_date: date
    recipient_name: str
    recipient_id: str
    charity_number: str
    company_number: str
    postcode: str
    programme: str


def parse(raw: bytes):
    """(rows, problems): every problem as (row, column, message); a missing column raises SpendFileError."""
    text, _ = decode(raw)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = [h.strip() for h in (reader.fieldnames or [])]
    missing = [h for h in REQUIRED if h not in headers]
    if missing:
        raise SpendFileError(f"not a 360Giving file: no column {', '.join(missing)}")
    rows, problems, seen = [], [], set()
    for number, raw_row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw_row.items() if isinstance(v, str)}
        if not any(row.values()):
            continue
        bad = False
        ident = row["Identifier"]
        if not ident:
            problems.append((number, "Identifier", "the grant identifier is blank"))
            bad = True
        elif ident in seen:
            problems.append((number, "Identifier", f"'{ident[:60]}' appears twice in the file"))
            bad = True
        seen.add(ident)
        try:
            amount = parse_amount(row["Amount Awarded"])
            if amount < 0:
                raise ValueError("a grant cannot be negative")
        except ValueError as exc:
            problems.append((number, "Amount Awarded", str(exc)))
            bad = True
        try:
            awarded = parse_date(row["Award Date"][:10])
        except ValueError as exc:
            problems.append((number, "Award Date", str(exc)))
            bad = True
        name = row["Recipient Org:Name"]
        if not name:
            problems.append((number, "Recipient Org:Name", "the recipient is blank"))
            bad = True
        if bad:
            continue
        rows.append(GrantRow(
            number, ident[:200], row["Title"][:400], amount, awarded,
            "Redacted personal data" if is_individual(name) else name[:300], row.get("Recipient Org:Identifier", "")[:200],
            row.get("Recipient Org:Charity Number", "")[:20], row.get("Recipient Org:Company Number", "")[:20],
            (find_postcode(row.get("Recipient Org:Postal Code", "")) or "")[:10],
            row.get("Grant Programme:Title", "")[:200]))
    if not rows and not problems:
        raise SpendFileError("the file has a header but no grants")
    return rows, problems
