"""The only writes for supplier financial risk: accounts (form or CSV) and assessments.

Each function is one transaction and writes the audit trail (commissioner.orgs.services.audit).
Bad input raises ``RiskInputError`` naming the field (and the row, for a CSV) and saves nothing;
a user who may not write is refused with ``Refused`` (a PermissionDenied), and the refusal is audited.
"""

import csv
import io
import re
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from commissioner.methods import supplier_risk
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation
from commissioner.orgs.services import Refused, audit, refuse_unless_editor, snapshot
from commissioner.register.importers import decode
from commissioner.register.models import Contract, Provider
from commissioner.risk.models import FIGURE_NAMES, FIGURES, RiskAssessment, SupplierAccounts

LABELS = dict(FIGURES)
# Figures that cannot be negative; the others (profits, funds, net assets) may be.
NON_NEGATIVE = ("turnover", "current_assets", "stock", "current_liabilities", "borrowing", "interest", "cash")
MAX_MONEY = Decimal("1e15")  # £1,000 trillion: more than any firm's turnover; larger is a typing slip
FIRST_YEAR, LAST_YEAR = 1950, 2100
MAX_CSV_BYTES = 2_000_000
MAX_CSV_ROWS = 5000
ACCOUNT_AUDIT_FIELDS = ("provider", "year", *FIGURE_NAMES, "source", "audited", "owner", "entered_by",
                        "entered_by_supplier", "supplier_user", "supplier_entered_at", "corrected_at")


class RiskInputError(ValueError):
    """Bad input: ``field`` names it (a form or API field); ``problems`` lists every CSV problem."""

    def __init__(self, field, message, problems=None):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.problems = field, message, problems or []


def parse_money(value, field):
    """A figure in pounds from a form, CSV or API: blank is missing (None), never 0. Accepts £, commas and
    (brackets) for a negative figure."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise RiskInputError(field, f"must be a number in pounds, not {value!r}")
    if isinstance(value, (int, float, Decimal)):
        text = str(value)
    else:
        text = str(value).strip()
    if text == "":
        return None
    negative = text.startswith("(") and text.endswith(")")
    cleaned = re.sub(r"[£,\s]", "", text.strip("()"))
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise RiskInputError(field, f"must be a number in pounds, not '{text[:40]}'") from None
    if not number.is_finite():
        raise RiskInputError(field, "must be a finite number")
    if negative:
        number = -number
    if abs(number) >= MAX_MONEY:
        raise RiskInputError(field, f"'{text[:40]}' is too large: give the figure in pounds, under £1,000 trillion")
    return number.quantize(Decimal("0.01"))


def parse_year(value, field="year"):
    text = str(value if value is not None else "").strip()
    if not text:
        raise RiskInputError(field, "is needed (the year the accounts end in, for example 2024)")
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise RiskInputError(field, f"must be a year from {FIRST_YEAR} to {LAST_YEAR}, not '{text[:20]}'")
    return int(text)


def _figure(name, raw, field):
    value = parse_money(raw, field)
    if value is not None and value < 0 and name in NON_NEGATIVE:
        raise RiskInputError(field, f"{LABELS[name].lower()} cannot be negative")
    return value


def clean_figures(data):
    """Every figure of ``data`` checked: a dict of Decimals or None, or RiskInputError for the first bad one."""
    return {name: _figure(name, data.get(name), name) for name in FIGURE_NAMES}


def _supplier_copy(figures, audited):
    return {**{n: (str(v) if v is not None else None) for n, v in figures.items()}, "audited": bool(audited)}


def _save_year(*, actor, provider, owner, year, figures, audited, source, synthetic=False, by_supplier=False):
    """Add or replace one year. ``by_supplier``: the provider's own user gives it; it may replace only figures
    the supplier gave that the council has not corrected (the council's officers have the last word)."""
    # Writers of a council's accounts queue on its row (PostgreSQL; SQLite writers queue anyway), so two
    # submissions of the same year at once update one row instead of failing on the unique constraint.
    Organisation.objects.select_for_update(no_key=True).filter(pk=owner.pk).values_list("pk", flat=True).first()
    row = SupplierAccounts.objects.filter(owner=owner, provider=provider, year=year).first()
    if by_supplier and row is not None and not (row.entered_by_supplier and row.corrected_at is None):
        how = "corrected" if row.entered_by_supplier else "entered"
        raise RiskInputError("year", f"{owner.name} already holds figures for {year} {how} by its officers: ask "
                                     "them to change them")
    audited = bool(audited)
    if row is not None and row.audited == audited and row.synthetic == synthetic and all(
            getattr(row, n) == figures.get(n) for n in FIGURE_NAMES) and (
            not by_supplier or row.supplier_user_id == getattr(actor, "pk", None)):
        return row  # the same figures again (a form sent twice): nothing changes, nothing to audit
    before = snapshot(row, ACCOUNT_AUDIT_FIELDS) if row else None
    if row is None:
        row = SupplierAccounts(owner=owner, provider=provider, year=year)
    for name in FIGURE_NAMES:
        setattr(row, name, figures.get(name))
    row.audited, row.source, row.synthetic, row.is_private = audited, source, synthetic, True
    row.entered_by = actor if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    if by_supplier:
        row.entered_by_supplier, row.supplier_user, row.supplier_username = True, actor, actor.get_username()
        row.supplier_entered_at, row.corrected_at = now, None
        row.supplier_figures = _supplier_copy({n: figures.get(n) for n in FIGURE_NAMES}, audited)
    elif row.entered_by_supplier:
        row.corrected_at = now  # the supplier's figures stay in supplier_figures (and the audit trail)
    row.save()
    audit(actor=actor, organisation=owner,
          action="created" if before is None else ("corrected" if row.corrected_at == now else "updated"), obj=row,
          before=before, after=snapshot(row, ACCOUNT_AUDIT_FIELDS))
    return row


def refuse_unless_may_submit(actor, contract, provider, what):
    """Raise (and log) ``Refused`` unless the actor may give the contract's council accounts of ``provider``:
    the council's editors, or the provider's own users when it holds the contract (orgs.tenancy). With
    ``provider`` None: of any provider of the contract they act for."""
    if provider is not None:
        allowed = tenancy.can_submit_accounts(actor, contract, provider.pk)
    else:
        allowed = tenancy.can_edit(actor, contract.owner_id) or tenancy.is_provider_of(actor, contract)
    if not allowed:
        refusal = Refused(actor, contract, what, contract.owner, message=(
            f"Only the council's admins and commissioners, or the supplier's own users, can {what}"))
        refusal.log()
        raise refusal


def acts_as_supplier(actor, contract):
    """True when the actor gives figures as the supplier (a provider's user, not one of the council's editors)."""
    return not tenancy.can_edit(actor, contract.owner_id) and tenancy.is_provider_of(actor, contract)


def providers_of(contract):
    """The contract's providers, in the order of its suppliers."""
    seen = {}
    for cs in contract.contract_suppliers.select_related("supplier__provider").order_by("id"):
        provider = cs.supplier.provider
        if provider is not None:
            seen.setdefault(provider.pk, provider)
    return list(seen.values())


def save_accounts(*, actor, contract: Contract, provider: Provider, data: dict,
                  source=SupplierAccounts.Source.ENTERED) -> SupplierAccounts:
    """Add or update one year's accounts of ``provider`` for the council that owns ``contract``: by one of the
    council's editors, or by the provider's own user (marked entered by the supplier; owned by the council)."""
    refuse_unless_may_submit(actor, contract, provider, "enter accounts")
    if provider is None or provider.pk not in {p.pk for p in providers_of(contract)}:
        raise RiskInputError("provider", "choose one of the contract's providers")
    with transaction.atomic():
        return _save_accounts(actor=actor, contract=contract, provider=provider, data=data, source=source)


def _save_accounts(*, actor, contract, provider, data, source):
    year = parse_year(data.get("year"))
    figures = clean_figures(data)
    return _save_year(actor=actor, provider=provider, owner=contract.owner, year=year, figures=figures,
                      audited=data.get("audited", False), source=source,
                      by_supplier=acts_as_supplier(actor, contract))


CSV_PROVIDER_COLUMNS = ("provider_id", "companies_house")


def _csv_header(name):
    return re.sub(r"[^a-z0-9]+", "_", (name or "").strip().lower().lstrip("\ufeff")).strip("_")


def import_accounts_csv(*, actor, contract: Contract, data: bytes) -> list[SupplierAccounts]:
    """Import accounts from a CSV (columns: provider_id or companies_house, year, the figures, optionally
    audited). The whole file is checked first: any bad row and nothing is saved, every problem listed. A provider's
    own user may give only their provider's accounts."""
    refuse_unless_may_submit(actor, contract, None, "import accounts")
    with transaction.atomic():
        return _import_accounts_csv(actor=actor, contract=contract, data=data)


def _import_accounts_csv(*, actor, contract, data):
    if len(data) > MAX_CSV_BYTES:
        raise RiskInputError("file", "is too large: at most 2 MB")
    try:
        text, _ = decode(data)  # as the register's importers read files: UTF-8 (BOM or not), UTF-16, Windows-1252
    except UnicodeDecodeError:
        raise RiskInputError("file", "is not a text (CSV) file") from None
    reader = csv.reader(io.StringIO(text))
    rows = list(reader)
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise RiskInputError("file", "is empty: the first row must name the columns")
    header = [_csv_header(h) for h in rows[0]]
    problems = []
    if not any(c in header for c in CSV_PROVIDER_COLUMNS):
        problems.append("Columns: a provider_id or companies_house column is needed")
    if "year" not in header:
        problems.append("Columns: a year column is needed")
    unknown = [rows[0][i] for i, h in enumerate(header)
               if h and h not in (*CSV_PROVIDER_COLUMNS, "year", "audited", *FIGURE_NAMES)]
    if unknown:
        problems.append(f"Columns: unknown column(s) {', '.join(repr(u[:40]) for u in unknown)}; the figures are "
                        f"{', '.join(FIGURE_NAMES)}")
    if problems:
        raise RiskInputError("file", problems[0], problems)
    if len(rows) - 1 > MAX_CSV_ROWS:
        raise RiskInputError("file", f"has too many rows: at most {MAX_CSV_ROWS}")
    by_supplier = acts_as_supplier(actor, contract)
    if by_supplier:  # the supplier's user: their own provider only (it holds this contract)
        visible = Provider.objects.filter(pk__in=tenancy.provider_ids(actor))
        own = ", ".join(f"{p.name} (id {p.pk})" for p in visible.order_by("id"))
    else:
        visible = Provider.objects.visible_to(actor)
    parsed, seen = [], {}
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            problems.append(f"Row {number}: {len(cells)} cells, but the header has {len(header)} columns")
            continue
        record = dict(zip(header, [c.strip() for c in cells], strict=False))
        row_problems = []
        provider = None
        pid, ch = record.get("provider_id", ""), record.get("companies_house", "")
        if pid:
            if not pid.isdigit():
                row_problems.append(f"Row {number}, column provider_id: '{pid[:30]}' is not a provider id")
            else:
                provider = visible.filter(pk=int(pid)).first()
                if provider is None and by_supplier:
                    row_problems.append(f"Row {number}, column provider_id: you can give the accounts of {own} "
                                        f"only, not of provider {pid[:30]}")
                elif provider is None:
                    row_problems.append(f"Row {number}, column provider_id: no provider with id {pid[:30]}")
        elif ch:
            provider = visible.filter(companies_house__iexact=ch).order_by("id").first()
            if provider is None and by_supplier:
                row_problems.append(f"Row {number}, column companies_house: you can give the accounts of {own} "
                                    f"only, not of Companies House number '{ch[:20]}'")
            elif provider is None:
                row_problems.append(f"Row {number}, column companies_house: no provider with Companies House "
                                    f"number '{ch[:20]}'")
        else:
            row_problems.append(f"Row {number}: give a provider_id or a companies_house number")
        year = None
        try:
            year = parse_year(record.get("year"))
        except RiskInputError as e:
            row_problems.append(f"Row {number}, column year: {e.message}")
        figures = {}
        for name in FIGURE_NAMES:
            try:
                figures[name] = _figure(name, record.get(name), name)
            except RiskInputError as e:
                row_problems.append(f"Row {number}, column {name}: {e.message}")
        audited = record.get("audited", "").lower()
        if audited not in ("", "yes", "no", "true", "false", "y", "n", "1", "0"):
            row_problems.append(f"Row {number}, column audited: '{audited[:20]}' is not yes or no")
        if provider is not None and year is not None:
            key = (provider.pk, year)
            if key in seen:
                row_problems.append(f"Row {number}: {provider.name} {year} is already given in row {seen[key]}")
            else:
                seen[key] = number
        if row_problems:
            problems.extend(row_problems)
            continue
        parsed.append((provider, year, figures, audited in ("yes", "true", "y", "1")))
    if problems:
        raise RiskInputError("file", f"{len(problems)} problem(s); nothing was saved", problems)
    if not parsed:
        raise RiskInputError("file", "has no rows of accounts")
    saved = []
    for provider, year, figures, audited in parsed:
        try:
            saved.append(_save_year(actor=actor, provider=provider, owner=contract.owner, year=year,
                                    figures={n: figures.get(n) for n in FIGURE_NAMES}, audited=audited,
                                    source=SupplierAccounts.Source.CSV, by_supplier=by_supplier))
        except RiskInputError as e:  # a year the council holds itself: the whole file is undone
            problems.append(f"Row {seen[(provider.pk, year)]}, column year: {e.message}")
    if problems:
        raise RiskInputError("file", f"{len(problems)} problem(s); nothing was saved", problems)
    return saved


def latest_accounts(contract, provider):
    """Up to three most recent years held by the contract's council for ``provider`` (newest first)."""
    return list(SupplierAccounts.objects.filter(owner=contract.owner, provider=provider).order_by("-year")[:3])


def annual_value_of(contract):
    """The contract's value a year: the value over its term in years (at least one), or None."""
    if contract.value is None:
        return None
    if contract.start_date and contract.end_date and contract.end_date > contract.start_date:
        months = max(12, round((contract.end_date - contract.start_date).days / 365.25 * 12))
        return (contract.value * 12 / months).quantize(Decimal("0.01"))
    return contract.value


def assess(*, actor, contract: Contract, provider: Provider, annual_value, criticality="medium", mitigations=(),
           lots=1, audited_accounts_required=True, credit_score=None) -> RiskAssessment:
    """Assess the financial risk of ``provider`` on ``contract`` and store the result; it supersedes the last."""
    refuse_unless_editor(actor, contract.owner, "assess financial risk", contract)
    with transaction.atomic():
        return _assess(actor=actor, contract=contract, provider=provider, annual_value=annual_value,
                       criticality=criticality, mitigations=mitigations, lots=lots,
                       audited_accounts_required=audited_accounts_required, credit_score=credit_score)


def _assess(*, actor, contract, provider, annual_value, criticality="medium", mitigations=(), lots=1,
            audited_accounts_required=True, credit_score=None, synthetic=False):
    if provider is None or provider.pk not in {p.pk for p in providers_of(contract)}:
        raise RiskInputError("provider", "choose one of the contract's providers")
    value = parse_money(annual_value, "annual_value")
    if value is None:
        raise RiskInputError("annual_value", "is needed: the contract's value a year, in pounds")
    score = None
    if credit_score not in (None, ""):
        try:
            score = Decimal(str(credit_score).strip())
        except InvalidOperation:
            raise RiskInputError("credit_score", f"must be a number from 0 to 100, not '{str(credit_score)[:20]}'") \
                from None
        if not score.is_finite() or not 0 <= score <= 100:
            raise RiskInputError("credit_score", "must be from 0 to 100")
        score = score.quantize(Decimal("0.1"))
    try:
        lots = int(lots)
    except (TypeError, ValueError):
        raise RiskInputError("lots", f"must be a whole number of 1 or more, not '{str(lots)[:20]}'") from None
    if lots > 1000:
        raise RiskInputError("lots", "must be 1,000 or fewer")
    # Two assessments at the same moment: the contract's row is the lock (PostgreSQL: select_for_update; SQLite:
    # every write transaction begins IMMEDIATE, so writers queue), so the second writer sees the first one's
    # assessment as current and supersedes it. The database refuses a second current row whatever happens
    # (the risk_one_current_assessment constraint).
    Contract.objects.select_for_update(no_key=True).filter(pk=contract.pk).values_list("pk", flat=True).first()
    years = latest_accounts(contract, provider)
    try:
        result = supplier_risk.assess(
            annual_value=float(value), accounts=[a.as_method() for a in years], criticality=criticality,
            mitigations=list(mitigations), lots=lots, audited_accounts_required=bool(audited_accounts_required),
            credit_score=float(score) if score is not None else None)
    except supplier_risk.RiskError as e:
        field = {"annual contract value": "annual_value", "credit score": "credit_score"}.get(e.field, e.field)
        raise RiskInputError(field, e.message) from None
    previous = RiskAssessment.objects.filter(contract=contract, provider=provider, is_current=True).first()
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
    row = RiskAssessment.objects.create(
        contract=contract, provider=provider, owner=contract.owner, is_private=True, annual_value=value,
        criticality=criticality, mitigations=list(dict.fromkeys(mitigations)), lots=lots,
        audited_accounts_required=bool(audited_accounts_required), credit_score=score,
        accounts_used=[{"year": a.year, "audited": a.audited, "synthetic": a.synthetic,
                        "entered_by_supplier": a.entered_by_supplier, "corrected_by_council": a.corrected_by_council,
                        **{n: (str(v) if (v := getattr(a, n)) is not None else None) for n in FIGURE_NAMES}}
                       for a in years],
        rating=result.rating, exposure=result.exposure, exposure_ratio=result.exposure_ratio, health=result.health,
        factors=[{"name": f.name, "status": f.status, "explanation": f.explanation} for f in result.factors],
        mitigation_notes=list(result.mitigations), moves=list(result.moves), legacy=dict(result.legacy),
        synthetic=synthetic or any(a.synthetic for a in years),
        assessed_by=actor if actor is not None and actor.is_authenticated else None, supersedes=previous)
    audit(actor=actor, organisation=contract.owner, action="created", obj=row,
          before={"superseded": previous.pk, "rating": previous.rating} if previous else None,
          after={"contract": contract.ocid, "provider": provider.pk, "rating": row.rating,
                 "exposure": row.exposure, "health": row.health, "annual_value": str(value),
                 "criticality": criticality, "mitigations": row.mitigations, "lots": lots})
    return row


# The demo ---------------------------------------------------------------------------------------

DEMO_YEARS = (2022, 2023, 2024)


def demo(*, la_code="MRT"):
    """Synthetic accounts (labelled synthetic) for the provider of one contract of the council ``la_code``, and an
    assessment of it; idempotent (does nothing when the synthetic accounts are there). Returns the contract."""
    from commissioner.orgs.models import Organisation

    org = Organisation.objects.filter(la_code=la_code).first()
    if org is None:
        return None
    # a published contract (not one the performance demo made up), the same on every run
    contract = (Contract.objects.filter(owner=org, source="ocds", contract_suppliers__supplier__provider__isnull=False,
                                        value__gt=0).order_by("ocid").distinct().first())
    if contract is None:
        return None
    provider = providers_of(contract)[0]
    if SupplierAccounts.objects.filter(owner=org, provider=provider, synthetic=True).exists():
        return contract
    annual = float(annual_value_of(contract) or 100000)
    base = annual / 0.6  # a small firm: the contract is 60% of its turnover
    with transaction.atomic():
        for i, year in enumerate(DEMO_YEARS):
            t = base * (0.92 + 0.04 * i)
            figures = {"turnover": t, "operating_profit": t * 0.06, "profit_after_tax": t * 0.045,
                       "current_assets": t * 0.3, "stock": t * 0.02, "current_liabilities": t * 0.18,
                       "borrowing": t * 0.05, "shareholder_funds": t * 0.2, "net_assets": t * 0.2,
                       "interest": t * 0.004, "cash": t * 0.12}
            _save_year(actor=None, provider=provider, owner=org, year=year, audited=False,
                       source=SupplierAccounts.Source.ENTERED, synthetic=True,
                       figures={k: Decimal(str(round(v, 2))) for k, v in figures.items()})
        _assess(actor=None, contract=contract, provider=provider, annual_value=round(annual, 2),
               criticality="medium", mitigations=["payment_profile"], audited_accounts_required=False,
               synthetic=True)
    return contract

