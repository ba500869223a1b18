"""The only writes for market analysis: loading a council spend file and remembering column mappings.

``import_spend`` reads the whole file first (``layouts.parse``): any bad row and nothing is saved, with
every problem listed by row and column. The same file loaded twice is skipped (idempotent); a file
whose months overlap months already loaded for the council is refused, naming them. Payments are
stored in bulk in one transaction, matched to register providers (identifiers first, then the
normalised name), and the load is written to the audit trail. Only the council's admins and
commissioners may load (a refusal is audited); the CLI loads as "system".

``delete_spend_file`` removes a loaded file and its payments (audited); ``set_category_mappings``
records the council's mapping of its spend categories to CPV divisions (audited, one event a change).
"""

import contextlib
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, connection, transaction

from commissioner.market import grants as grant_files
from commissioner.market import layouts
from commissioner.market.models import CategoryMapping, ColumnMapping, Grant, Payment, SpendFile
from commissioner.methods.market import category_key
from commissioner.methods.text import supplier_name_key
from commissioner.orgs.services import Refused, audit, refuse_unless_editor  # noqa: F401  (Refused: for callers)
from commissioner.register.cpv import DIVISIONS
from commissioner.register.models import Provider

MAX_BYTES = 200_000_000  # the largest real file (Trafford 2025-26) is 62 MB
BATCH = 5000
_COMPANY = re.compile(r"^(?:[0-9]{8}|(?:SC|NI|OC|SO|NC|R0|IP|SP|RS|LP|SL|NL|FC|GE|CE|CS)[0-9]{6})$")
_CHARITY = re.compile(r"^[0-9]{6,7}(?:-[0-9]{1,2})?$")


class MarketInputError(ValueError):
    """Bad input: ``field`` names the form/CLI field; ``problems`` lists (row, column, message)."""

    def __init__(self, field, message, problems=None, headers=None):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.problems, self.headers = field, message, problems or [], headers


class DuplicatePayments(MarketInputError):
    """The file repeats payments already loaded for the council (the API answers 409)."""


class AlreadyRemoved(MarketInputError):
    """The file was removed already (a second submission of the same removal)."""


class OtherCouncil(MarketInputError):
    """The file looks like another council's (its layout is that council's, or it names another council): loaded
    only when the user confirms (the form's checkbox, the API's ``confirm_other_council``, the CLI's --force)."""


class MappingNeeded(MarketInputError):
    """The layout is unknown: ``headers`` are the file's header cells (or first row)."""

    def __init__(self, unknown: layouts.UnknownLayout):
        super().__init__("mapping", str(unknown), headers=unknown.headers)
        self.has_header = unknown.has_header


@dataclass
class ImportResult:
    spend_file: SpendFile
    created: bool
    rows: int = 0
    matched: int = 0
    matched_by: dict = field(default_factory=dict)
    message: str = ""


def remembered_mappings() -> dict:
    """{signature: Layout} for every mapping users have given."""
    out = {}
    for m in ColumnMapping.objects.all():
        try:
            out[m.signature] = layouts.Layout.from_mapping(m.mapping, header_cells=m.signature.split("|"))
        except layouts.MappingError:
            continue
    return out


def _clean_mapping(mapping):
    if mapping is None:
        return None
    if not isinstance(mapping, dict):
        raise MarketInputError("mapping", "give the mapping as {field: header name or column number}")
    return {k: v for k, v in mapping.items() if v not in (None, "")}


def read_file(raw: bytes, *, mapping=None):
    """Parse the whole file (no writes). Raises MarketInputError, or MappingNeeded for an unknown layout."""
    if len(raw) > MAX_BYTES:
        raise MarketInputError("file", f"the file is larger than {MAX_BYTES // 1_000_000} MB")
    if not raw.strip():
        raise MarketInputError("file", "the file is empty")
    mapping = _clean_mapping(mapping)
    try:
        if mapping:
            text, _ = layouts.decode(raw)
            first = next(layouts.rows_of(text), None)
            if first is None:
                raise MarketInputError("file", "the file has no rows")
            try:
                layouts.identify(first[1], remembered_mappings())
                has_header = True
            except layouts.UnknownLayout as unknown:
                has_header = unknown.has_header
            layout = layouts.Layout.from_mapping(mapping, header_cells=first[1] if has_header else None)
            return layouts.parse(raw, layout=layout)
        return layouts.parse(raw, mappings=remembered_mappings())
    except layouts.UnknownLayout as unknown:
        raise MappingNeeded(unknown) from None
    except (layouts.SpendFileError, layouts.MappingError) as exc:
        raise MarketInputError("mapping" if isinstance(exc, layouts.MappingError) else "file", str(exc)) from None


class Matcher:
    """Payee -> register provider: Companies House or charity number first, then the normalised name."""

    def __init__(self):
        self.by_company, self.by_charity, self.by_name = {}, {}, {}
        for pk, ch, charity, key in Provider.objects.filter(is_private=False).order_by("-contract_count", "pk") \
                .values_list("pk", "companies_house", "charity_number", "name_key"):
            if ch:
                self.by_company.setdefault(ch.upper(), pk)
            if charity:
                self.by_charity.setdefault(charity, pk)
            if key:
                self.by_name.setdefault(key, pk)
        self.cache = {}

    def match(self, payee: str, supplier_id: str, individual: bool):
        if individual or not payee:
            return None, "", ""
        cache_key = (payee, supplier_id)
        if cache_key in self.cache:
            return self.cache[cache_key]
        key = supplier_name_key(payee)[:300]
        ident = supplier_id.replace(" ", "").upper()
        result = None, "", key
        if ident and _COMPANY.match(ident) and ident in self.by_company:
            result = self.by_company[ident], "identifier", key
        elif ident and _CHARITY.match(ident) and ident in self.by_charity:
            result = self.by_charity[ident], "identifier", key
        elif key in self.by_name:
            result = self.by_name[key], "name", key
        self.cache[cache_key] = result
        return result


def fingerprint(paid_on, amount, payee, reference, description):
    return (paid_on, amount, payee, reference, description)


def find_duplicates(council, rows, months) -> list[str]:
    """Payments of ``rows`` already loaded for the council (same date, amount, payee, reference and
    description), as "N payments in YYYY-MM (from FILE)". Real monthly files share months (late
    payments) but never payments, so months alone are not a duplicate."""
    overlapping = [f for f in SpendFile.objects.filter(council=council).only("name", "months")
                   if set(f.months) & set(months)]
    if not overlapping:
        return []
    existing = {}
    for values in Payment.objects.filter(spend_file__in=overlapping, month__in=months).values_list(
            "paid_on", "amount", "payee", "reference", "description", "spend_file__name").iterator():
        existing[fingerprint(*values[:5])] = values[5]
    found = {}
    for r in rows:
        name = existing.get(fingerprint(r.paid_on, r.amount, r.payee, r.reference, r.description))
        if name is not None:
            key = (r.paid_on.strftime("%Y-%m"), name)
            found[key] = found.get(key, 0) + 1
    return [f"{n:,} payment(s) in {month} (already loaded from {name})" for (month, name), n in sorted(found.items())]


PAYMENT_COLUMNS = ("spend_file_id", "council_id", "line", "paid_on", "month", "amount", "payee", "payee_key",
                   "individual", "supplier_id", "category", "department", "description", "reference", "provider_id",
                   "match", "owner_id", "is_private")


def insert_payments(spend_file, rows, matcher, matched_by):
    """Bulk insert with one prepared INSERT (executemany): several times faster than model instances
    for a year's file, and the same SQL on SQLite and PostgreSQL."""
    table = connection.ops.quote_name(Payment._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in PAYMENT_COLUMNS)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(PAYMENT_COLUMNS))})"
    fixed = (spend_file.pk, spend_file.council_id)
    owner, private = spend_file.owner_id, spend_file.is_private
    batch = []
    with connection.cursor() as cursor:
        for r in rows:
            provider_id, how, key = matcher.match(r.payee, r.supplier_id, r.individual)
            if how:
                matched_by[how] += 1
            batch.append((*fixed, r.line, r.paid_on, f"{r.paid_on.year:04d}-{r.paid_on.month:02d}", r.amount,
                          r.payee, key, r.individual, r.supplier_id, r.category, r.department, r.description,
                          r.reference, provider_id, how, owner, private))
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def other_council(council, parsed) -> str:
    """Why this file looks like another council's ('' when it does not): its layout is used only by another
    council's files, or the file names a council (the LGA schema's OrganisationLabel) that is not this one."""
    from commissioner.orgs.models import Organisation

    code = parsed.layout.council
    if code and council.la_code and code != council.la_code:
        owner = Organisation.objects.filter(la_code=code).only("name").first()
        return (f"its layout ({parsed.layout.label}) is that of {owner.name if owner else code}'s spend files, "
                f"not {council.name}'s")
    from commissioner.orgs.reference import match_council

    named = []
    for text in sorted(parsed.organisations):
        found = match_council(text)
        if found is not None and council.la_code and found[0] != council.la_code:
            named.append(text[:100])
    if named:
        return f"the file says it is from {', '.join(named[:3])}, not {council.name}"
    return ""


def import_spend(*, council, raw: bytes, name: str, actor=None, actor_label="", mapping=None,
                 is_private=False, synthetic=False, confirm_other_council=False) -> ImportResult:
    """Load one spend file for ``council``; nothing is saved unless every row is good. A file that looks like
    another council's raises ``OtherCouncil`` unless ``confirm_other_council``."""
    if actor is not None or not actor_label:
        refuse_unless_editor(actor, council, "load spend files")
    digest = hashlib.sha256(raw).hexdigest()
    existing = SpendFile.objects.filter(council=council, sha256=digest).first()
    if existing is not None:
        return ImportResult(existing, created=False, rows=existing.row_count,
                            message=f"This file was already loaded on {existing.loaded_at:%d %B %Y}: nothing changed")
    parsed = read_file(raw, mapping=mapping)
    if parsed.problems:
        raise MarketInputError("file", f"{len(parsed.problems)} problem(s) in the file: nothing was saved",
                               problems=parsed.problems)
    reason = other_council(council, parsed)
    if reason and not confirm_other_council:
        raise OtherCouncil("confirm_other_council", f"This may be another council's file: {reason}. Check it is "
                                                    f"{council.name}'s, then confirm to load it. Nothing was saved")
    months = sorted({r.paid_on.strftime("%Y-%m") for r in parsed.rows})
    duplicates = find_duplicates(council, parsed.rows, months)
    if duplicates:
        raise DuplicatePayments("file", "this file repeats payments already loaded for this council: "
                               + "; ".join(duplicates) + ". Nothing was saved: remove the earlier file "
                               "first, or load only the new months")
    matcher = Matcher()
    try:
        return _store(council=council, name=name, digest=digest, parsed=parsed, months=months, matcher=matcher,
                      actor=actor, actor_label=actor_label, mapping=mapping, is_private=is_private,
                      synthetic=synthetic)
    except IntegrityError:
        # The same file sent twice at once (a double-clicked upload): the other request stored it.
        existing = SpendFile.objects.filter(council=council, sha256=digest).first()
        if existing is None:
            raise
        return ImportResult(existing, created=False, rows=existing.row_count,
                            message=f"This file was already loaded on {existing.loaded_at:%d %B %Y}: nothing changed")


def _store(*, council, name, digest, parsed, months, matcher, actor, actor_label, mapping, is_private, synthetic):
    with transaction.atomic():
        spend_file = SpendFile.objects.create(
            council=council, name=name[:300], sha256=digest, layout=parsed.layout.code, encoding=parsed.encoding,
            has_header=parsed.has_header, months=months, first_date=min(r.paid_on for r in parsed.rows),
            last_date=max(r.paid_on for r in parsed.rows), row_count=len(parsed.rows),
            redacted_count=sum(1 for r in parsed.rows if r.individual), total=sum(r.amount for r in parsed.rows),
            synthetic=synthetic, loaded_by=actor if actor is not None and actor.is_authenticated else None,
            owner=council, is_private=is_private)
        matched_by = {"identifier": 0, "name": 0}
        insert_payments(spend_file, parsed.rows, matcher, matched_by)
        if mapping and parsed.has_header:
            sig = layouts.signature(parsed.header)
            ColumnMapping.objects.update_or_create(signature=sig, defaults={
                "mapping": _clean_mapping(mapping), "owner": council,
                "created_by": actor if actor is not None and actor.is_authenticated else None})
        audit(actor=actor, actor_label=actor_label, organisation=council, action="create", obj=spend_file,
              after={"name": spend_file.name, "layout": spend_file.layout, "rows": spend_file.row_count,
                     "months": months, "total": str(spend_file.total), "sha256": digest})
    matched = matched_by["identifier"] + matched_by["name"]
    return ImportResult(spend_file, created=True, rows=len(parsed.rows), matched=matched, matched_by=matched_by,
                        message=f"Loaded {len(parsed.rows):,} payments ({parsed.layout.label}); "
                                f"{matched:,} matched to register providers")


# An uploaded file kept between the steps of the upload page (choose the columns, confirm another council's
# file), so the user does not choose it again. Kept on the server's disk, named by council, user and the file's
# SHA-256 (a user can only take back their own file for that council), removed when loaded and after a day.
KEPT_DIR = Path(tempfile.gettempdir()) / "commissioner-market-uploads"
KEPT_SECONDS = 24 * 3600
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _kept_path(council, user, digest):
    return KEPT_DIR / f"{council.pk}-{getattr(user, 'pk', None) or 0}-{digest}.csv"


def keep_upload(*, council, user, raw: bytes) -> str:
    """Keep ``raw`` for the user's next step on this council's upload page; returns its SHA-256."""
    digest = hashlib.sha256(raw).hexdigest()
    KEPT_DIR.mkdir(mode=0o700, exist_ok=True)
    cutoff = time.time() - KEPT_SECONDS
    for old in KEPT_DIR.glob("*.csv"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                old.unlink()
    path = _kept_path(council, user, digest)
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(raw)
        partial.replace(path)
    return digest


def kept_upload(*, council, user, digest: str) -> bytes | None:
    """The file the user kept for this council (None when it is not held: another user's, too old, or unknown)."""
    if not _DIGEST.match(str(digest or "")):
        return None
    path = _kept_path(council, user, digest)
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    return raw if hashlib.sha256(raw).hexdigest() == digest else None


def drop_kept(*, council, user, digest: str) -> None:
    if _DIGEST.match(str(digest or "")):
        with contextlib.suppress(OSError):
            _kept_path(council, user, digest).unlink()


def delete_spend_file(*, spend_file, actor=None, actor_label="") -> int:
    """Remove a loaded file and every payment loaded from it, in one transaction (to reload corrected
    months, or undo a wrong file). The analysis is worked out from the payments on every read, so
    nothing else derives from a file; the council's category and column mappings stay (they describe
    its categories and layouts, not this file's data). Audited with the file's name, rows, period and
    total. Returns the number of payments removed; raises ``AlreadyRemoved`` when another request
    removed it first, and ``Refused`` (audited) for anyone but the council's admins and commissioners."""
    if actor is not None or not actor_label:
        refuse_unless_editor(actor, spend_file.council, "remove spend files", spend_file)
    with transaction.atomic():
        locked = SpendFile.objects.select_for_update().filter(pk=spend_file.pk).first()
        if locked is None:
            raise AlreadyRemoved("file", f"the file {spend_file.name} has already been removed")
        before = {"name": locked.name, "rows": locked.row_count, "period": f"{locked.first_date} to {locked.last_date}",
                  "first_date": str(locked.first_date), "last_date": str(locked.last_date), "months": locked.months,
                  "total": str(locked.total), "layout": locked.layout, "sha256": locked.sha256,
                  "private": locked.is_private}
        removed = Payment.objects.filter(spend_file=locked).delete()[0]
        audit(actor=actor, actor_label=actor_label, organisation=locked.council, action="delete", obj=locked,
              before=before, after={"payments_removed": removed})
        locked.delete()
    return removed


def set_category_mappings(*, council, choices: dict, actor=None, actor_label="") -> int:
    """Map the council's spend categories to CPV divisions: ``choices`` is {category text: division},
    a blank division removing the mapping ("unmapped"). Every division is checked before anything is
    written (a bad one: nothing saved). Each change is one audit event; choices that change nothing
    (a form sent twice) write nothing. Returns the number of mappings changed."""
    if actor is not None or not actor_label:
        refuse_unless_editor(actor, council, "map spend categories to CPV divisions")
    if not isinstance(choices, dict):
        raise MarketInputError("choices", "give the mappings as {category: CPV division}")
    wanted = {}
    for text, division in choices.items():
        key = category_key(text)
        division = (str(division).strip() if division is not None else "")
        if not key:
            raise MarketInputError("category", "a blank category cannot be mapped: it is shown as not stated")
        if division and division not in DIVISIONS:
            raise MarketInputError("division", f"'{division[:10]}' for '{str(text)[:80]}' is not a CPV division "
                                               "(two digits, e.g. 85 for health and social work)")
        wanted[key] = (str(text).strip()[:200], division)
    try:
        return _save_category_mappings(council, wanted, actor, actor_label)
    except IntegrityError:  # the same form sent twice at once: the other request made the row; go again
        return _save_category_mappings(council, wanted, actor, actor_label)


def _save_category_mappings(council, wanted, actor, actor_label):
    user = actor if actor is not None and actor.is_authenticated else None
    changed = 0
    with transaction.atomic():
        existing = {m.key: m for m in CategoryMapping.objects.select_for_update().filter(council=council,
                                                                                        key__in=list(wanted))}
        for key, (text, division) in sorted(wanted.items()):
            current = existing.get(key)
            if current is None and not division or current is not None and current.division == division:
                continue
            if not division:
                audit(actor=actor, actor_label=actor_label, organisation=council, action="delete", obj=current,
                      before={"category": current.category, "division": current.division})
                current.delete()
            elif current is None:
                made = CategoryMapping.objects.create(council=council, key=key, category=text, division=division,
                                                      set_by=user)
                audit(actor=actor, actor_label=actor_label, organisation=council, action="create", obj=made,
                      after={"category": text, "division": division})
            else:
                before = {"category": current.category, "division": current.division}
                current.division, current.set_by = division, user
                current.save(update_fields=["division", "set_by", "updated_at"])
                audit(actor=actor, actor_label=actor_label, organisation=council, action="update", obj=current,
                      before=before, after={"category": current.category, "division": division})
            changed += 1
    return changed


def import_grants(*, council, raw: bytes, name: str, actor=None, actor_label="", is_private=False):
    """Load a council's 360Giving grants file. Whole file first; grants already loaded (same identifier)
    are skipped, so loading the file again (or a later edition) is safe. Returns (created, skipped)."""
    if actor is not None or not actor_label:
        refuse_unless_editor(actor, council, "load grants")
    if len(raw) > MAX_BYTES or not raw.strip():
        raise MarketInputError("file", "the file is empty" if not raw.strip() else "the file is too large")
    try:
        rows, problems = grant_files.parse(raw)
    except layouts.SpendFileError as exc:
        raise MarketInputError("file", str(exc)) from None
    if problems:
        raise MarketInputError("file", f"{len(problems)} problem(s) in the file: nothing was saved", problems=problems)
    known = set(Grant.objects.filter(council=council).values_list("identifier", flat=True))
    new = [r for r in rows if r.identifier not in known]
    matcher = Matcher()
    with transaction.atomic():
        made = []
        for r in new:
            ident = r.company_number or r.charity_number
            provider_id, how, _ = matcher.match(r.recipient_name, ident, r.recipient_name == layouts.REDACTED_NAME)
            if not how and r.charity_number and r.company_number:
                provider_id, how, _ = matcher.match(r.recipient_name, r.charity_number, False)
            made.append(Grant(council=council, identifier=r.identifier, title=r.title, amount=r.amount,
                              award_date=r.award_date, recipient_name=r.recipient_name, recipient_id=r.recipient_id,
                              charity_number=r.charity_number, company_number=r.company_number, postcode=r.postcode,
                              programme=r.programme, provider_id=provider_id, match=how, source_name=name[:300],
                              owner=council, is_private=is_private))
        Grant.objects.bulk_create(made, batch_size=1000)
        if made:
            audit(actor=actor, actor_label=actor_label, organisation=council, action="create", obj=made[0],
                  after={"file": name[:300], "grants": len(made), "skipped": len(rows) - len(new),
                         "total": str(sum(g.amount for g in made))})
    return len(new), len(rows) - len(new)


SAMPLE_COUNCILS = (("hyndburn", "HYN"), ("trafford", "TRF"))
GRANT_SAMPLES = (("trafford", "TRF", "trafford_council_voluntary_sector_grants.csv"),)


def demo() -> int:
    """Load the real spend samples shipped in data/samples/spend (OGL v3.0); safe to run twice."""
    from django.conf import settings

    from commissioner.orgs.services import council_organisation

    root = settings.BASE_DIR / "data" / "samples" / "spend"
    loaded = 0
    for folder, code in SAMPLE_COUNCILS:
        council = council_organisation(code)
        for path in sorted((root / folder).glob("*.csv")):
            if "grants" in path.name:
                continue
            result = import_spend(council=council, raw=path.read_bytes(), name=path.name,
                                  actor_label="demo sample (real spend, OGL v3.0)")
            loaded += result.rows if result.created else 0
    for folder, code, filename in GRANT_SAMPLES:
        path = root / folder / filename
        loaded += import_grants(council=council_organisation(code), raw=path.read_bytes(), name=filename,
                                actor_label="demo sample (real 360Giving grants, OGL v3.0)")[0]
    return loaded
