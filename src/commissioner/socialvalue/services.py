"""The only writes for social return and social value: SROI models and outcomes, the proxy library
(form and CSV), commitments and deliveries (form and CSV), and the synthetic demo.

Each function is one transaction and writes the audit trail (commissioner.orgs.services.audit).
Bad input raises ``SvInputError`` naming the field (and the row, for a CSV) and saves nothing; a
user who may not write is refused with ``Refused`` (a PermissionDenied), and the refusal is audited.
Percentages are entered as 0-100 and checked here; methods.sroi gets fractions.
"""

import csv
import functools
import io
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils.timezone import now

from commissioner.methods import sroi
from commissioner.orgs.services import Refused, audit, refuse_unless_editor, snapshot  # noqa: F401  (Refused: for callers)
from commissioner.register.importers import decode
from commissioner.register.models import Contract
from commissioner.socialvalue.models import PERCENTS, Commitment, Delivery, Proxy, SroiModel, SroiOutcome

MAX_NUMBER = Decimal("1e12")
MAX_CSV_BYTES = 2_000_000
MAX_CSV_ROWS = 5000
FIRST_YEAR, LAST_YEAR = 1950, 2100
PERCENT_LABELS = {"deadweight": "Deadweight", "displacement": "Displacement", "attribution": "Attribution",
                  "drop_off": "Drop-off"}
PROXY_COLUMNS = ("name", "unit", "value", "source", "year", "licence")  # and optionally synthetic
DELIVERY_COLUMNS = ("measure", "unit", "period", "amount", "full_time", "part_time", "shared_by", "note")
PERIOD = re.compile(r"^\d{4}(-\d{2}|-Q[1-4]|-\d{4})?$")
PROXY_FIELDS = ("name", "unit", "value", "source", "year", "licence", "owner", "is_private")


class SvInputError(ValueError):
    """Bad input: ``field`` names it; ``problems`` lists every CSV problem (row, column, reason); ``errors`` lists
    every bad field of a form or API call as (field, message), the first of them being ``field`` and ``message``."""

    def __init__(self, field, message, problems=None, errors=None):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.problems = field, message, problems or []
        self.errors = list(errors or [(field, message)])


class _Checks:
    """Runs each field's check and keeps every problem, so one SvInputError names them all (GOV.UK: every error
    at once, each on its field)."""

    def __init__(self):
        self.errors = []

    def __call__(self, parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except SvInputError as e:
            self.errors += [x for x in e.errors if x not in self.errors]
            return None

    def failed(self, field):
        return any(f == field for f, _ in self.errors)

    def done(self):
        if self.errors:
            raise SvInputError(*self.errors[0], errors=self.errors)


def _actor(user):
    return user if user is not None and user.is_authenticated else None


# Parsing ------------------------------------------------------------------------------------------

def parse_number(value, field, *, low=None, high=None, required=True, label=None):
    """A number from a form, CSV or API as a Decimal; blank is None (or an error when required)."""
    label = label or field.replace("_", " ")
    text = "" if value is None else str(value).strip()
    if isinstance(value, bool):
        raise SvInputError(field, f"{label} must be a number, not {value!r}")
    if text == "":
        if required:
            raise SvInputError(field, f"Enter the {label}")
        return None
    cleaned = re.sub(r"[£,\s]", "", text)
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise SvInputError(field, f"{label[0].upper() + label[1:]} must be a number, not '{text[:40]}'") from None
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        raise SvInputError(field, f"{label[0].upper() + label[1:]} must be a number under 1,000,000,000,000")
    if low is not None and number < low or high is not None and number > high:
        span = f"from {low:,} to {high:,}" if high is not None else f"{low:,} or more"
        raise SvInputError(field, f"{label[0].upper() + label[1:]} must be {span}, not {text[:40]}")
    return number


def parse_percent(value, field):
    """A share entered as a percentage from 0 to 100 (blank is 0%: no deadweight, and so on)."""
    label = PERCENT_LABELS.get(field, field).lower()
    number = parse_number(value, field, low=0, high=100, required=False, label=f"{label} (%)")
    return Decimal(0) if number is None else number.quantize(Decimal("0.0001"))


def parse_whole(value, field, *, low, high, label=None):
    label = label or field.replace("_", " ")
    text = "" if value is None else str(value).strip()
    if not re.fullmatch(r"\d+", text) or not low <= int(text) <= high:
        raise SvInputError(field, f"{label[0].upper() + label[1:]} must be a whole number from {low:,} to {high:,}"
                                  f"{f', not {text[:20]!r}' if text else ''}")
    return int(text)


def parse_text(value, field, *, max_length, label=None, required=True):
    text = "" if value is None else str(value).strip()
    label = label or field.replace("_", " ")
    if required and not text:
        raise SvInputError(field, f"Enter the {label}")
    if len(text) > max_length:
        raise SvInputError(field, f"{label[0].upper() + label[1:]} must be {max_length} characters or fewer")
    return text


def _decode(data):
    if len(data) > MAX_CSV_BYTES:
        raise SvInputError("file", "The file is too large: at most 2 MB")
    try:
        return decode(data)[0]  # as the register's importers read files: UTF-8 (BOM or not), UTF-16, Windows-1252
    except UnicodeDecodeError:
        raise SvInputError("file", "The file is not a text (CSV) file") from None


def _header(name):
    return re.sub(r"[^a-z0-9]+", "_", (name or "").strip().lower().lstrip("\ufeff")).strip("_")


def _read_csv(data, *, needed, known):
    text = _decode(data)
    if "\x00" in text:
        raise SvInputError("file", "The file holds NUL characters: it is not a CSV file")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        raise SvInputError("file", f"The file could not be read as CSV: {e}") from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise SvInputError("file", "The file is empty: the first row must name the columns")
    header = [_header(h) for h in rows[0]]
    problems = [{"row": 1, "column": c, "reason": f"the column {c} is needed"} for c in needed if c not in header]
    problems += [{"row": 1, "column": rows[0][i][:40], "reason": f"unknown column; the columns are {', '.join(known)}"}
                 for i, h in enumerate(header) if h and h not in known]
    dupes = {h for h in header if h and header.count(h) > 1}
    problems += [{"row": 1, "column": h, "reason": "the column is given twice"} for h in sorted(dupes)]
    if problems:
        raise SvInputError("file", f"{len(problems)} problem(s) with the columns; nothing was saved", problems)
    if len(rows) - 1 > MAX_CSV_ROWS:
        raise SvInputError("file", f"The file has too many rows: at most {MAX_CSV_ROWS:,}")
    out = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            out.append((number, None))
            continue
        out.append((number, dict(zip(header, [c.strip() for c in cells], strict=False))))
    return out


# Proxy library ------------------------------------------------------------------------------------

PROXY_PARSERS = {
    "name": lambda v: parse_text(v, "name", max_length=300),
    "unit": lambda v: parse_text(v, "unit", max_length=100),
    "value": lambda v: parse_number(v, "value", low=0, label="value (£)").quantize(Decimal("0.01")),
    "source": lambda v: parse_text(v, "source", max_length=1000),
    "year": lambda v: parse_whole(v, "year", low=FIRST_YEAR, high=LAST_YEAR),
    "licence": lambda v: parse_text(v, "licence", max_length=200),
}


def clean_proxy(data, problems=None):
    """The fields of one proxy checked: a dict, or SvInputError naming every bad one (or, with ``problems``,
    every bad field appended to it and None returned)."""
    out, errors = {}, []
    for column, parse in PROXY_PARSERS.items():
        try:
            out[column] = parse(data.get(column))
        except SvInputError as e:
            errors.append(e)
    if errors and problems is None:
        raise SvInputError(errors[0].field, errors[0].message, errors=[(e.field, e.message) for e in errors])
    if problems is not None:
        problems += errors
    return None if errors else out


def _save_proxy(*, actor, owner, fields, synthetic=False):
    row = Proxy.objects.filter(owner=owner, name=fields["name"], unit=fields["unit"]).first()
    before = snapshot(row, PROXY_FIELDS) if row else None
    row = row or Proxy(owner=owner)
    for key, value in fields.items():
        setattr(row, key, value)
    row.synthetic = synthetic
    row.save()
    audit(actor=actor, organisation=owner, action="updated" if before else "created", obj=row, before=before,
          after=snapshot(row, PROXY_FIELDS))
    return row


def save_proxy(*, actor, owner, data, replace=True) -> Proxy:
    """Add a proxy to the council's library, or update the one with the same name and unit (with
    ``replace=False``, as the API's create does, that one is refused instead, naming it)."""
    refuse_unless_editor(actor, owner, "edit the proxy library", owner)
    fields = clean_proxy(data)
    if not replace:
        same = Proxy.objects.filter(owner=owner, name__iexact=fields["name"], unit__iexact=fields["unit"]).first()
        if same is not None:
            raise SvInputError("name", f"The library already has '{same.name[:60]}' per '{same.unit[:30]}' "
                                       f"(id {same.pk}): change that one instead")
    with transaction.atomic():
        return _save_proxy(actor=actor, owner=owner, fields=fields)


def _proxy_values(proxy):
    return {k: getattr(proxy, k) for k in PROXY_PARSERS}


def update_proxy(*, actor, proxy: Proxy, data: dict) -> Proxy:
    """Correct one proxy of the library (fields not given keep their value). Outcomes that used it keep the
    value and source they copied when they were entered."""
    refuse_unless_editor(actor, proxy.owner, "edit the proxy library", proxy)
    fields = clean_proxy({**_proxy_values(proxy), **data})
    if Proxy.objects.filter(owner=proxy.owner, name__iexact=fields["name"], unit__iexact=fields["unit"]) \
            .exclude(pk=proxy.pk).exists():
        raise SvInputError("name", f"The library already has '{fields['name'][:60]}' per '{fields['unit'][:30]}'")
    with transaction.atomic():
        before = snapshot(proxy, PROXY_FIELDS)
        for key, value in fields.items():
            setattr(proxy, key, value)
        proxy.save()
        audit(actor=actor, organisation=proxy.owner, action="updated", obj=proxy, before=before,
              after=snapshot(proxy, PROXY_FIELDS))
    return proxy


def delete_proxy(*, actor, proxy: Proxy) -> None:
    """Remove a proxy from the library; outcomes that used it keep the value and source they copied."""
    refuse_unless_editor(actor, proxy.owner, "delete a proxy", proxy)
    with transaction.atomic():
        audit(actor=actor, organisation=proxy.owner, action="deleted", obj=proxy,
              before={**snapshot(proxy, PROXY_FIELDS), "synthetic": proxy.synthetic})
        proxy.delete()


def import_proxies_csv(*, actor, owner, data: bytes) -> list[Proxy]:
    """Load proxies from a CSV (name, unit, value, source, year, licence). The whole file is checked first:
    any bad row and nothing is saved, every problem listed. A proxy with the same name and unit is updated."""
    refuse_unless_editor(actor, owner, "import proxies", owner)
    rows = _read_csv(data, needed=PROXY_COLUMNS, known=(*PROXY_COLUMNS, "synthetic"))
    problems, parsed, seen = [], [], {}
    for number, record in rows:
        if record is None:
            problems.append({"row": number, "column": "", "reason": "more cells than the header has columns"})
            continue
        errors = []
        fields = clean_proxy(record, errors)
        if errors:
            problems += [{"row": number, "column": e.field, "reason": e.message} for e in errors]
            continue
        flag = record.get("synthetic", "").lower()
        if flag not in ("", "true", "false", "yes", "no"):
            problems.append({"row": number, "column": "synthetic", "reason": f"'{flag[:20]}' is not true or false"})
            continue
        fields["synthetic"] = flag in ("true", "yes")
        key = (fields["name"].lower(), fields["unit"].lower())
        if key in seen:
            problems.append({"row": number, "column": "name", "reason": f"'{fields['name'][:60]}' per "
                             f"'{fields['unit'][:30]}' is already given in row {seen[key]}"})
            continue
        seen[key] = number
        parsed.append(fields)
    if problems:
        raise SvInputError("file", f"{len(problems)} problem(s) in the file; nothing was saved", problems)
    if not parsed:
        raise SvInputError("file", "The file has no proxies")
    with transaction.atomic():
        return [_save_proxy(actor=actor, owner=owner, fields=f, synthetic=f.pop("synthetic")) for f in parsed]


# The shared library of open proxies ----------------------------------------------------------------

OPEN_PROXIES = Path(__file__).resolve().parent / "data" / "open_proxies.csv"
OPEN_COLUMNS = ("code", "name", "unit", "value", "price_year", "price_basis", "publisher", "title", "url", "table",
                "licence")


@functools.cache
def open_proxies() -> tuple[dict, ...]:
    """The openly licensed proxies shipped with Commissioner (data/open_proxies.csv, see its PROVENANCE.md), each
    checked as a council's proxy would be, with the ``source`` a council's copy gets."""
    with OPEN_PROXIES.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        source = (f"{row['publisher']}, {row['title']}: {row['table']} ({row['price_basis']}). {row['url']}")
        fields = clean_proxy({**row, "year": row["price_year"], "source": source})
        out.append({**row, **fields, "price_year": fields["year"]})
    return tuple(out)


def copy_open_proxies(*, actor, owner, codes) -> list[Proxy]:
    """Copy the chosen open proxies (by code) into the council's library, where they can be corrected; a proxy
    of the same name and unit there is updated (the audit trail keeps what it was)."""
    refuse_unless_editor(actor, owner, "edit the proxy library", owner)
    known = {p["code"]: p for p in open_proxies()}
    codes = [str(c).strip() for c in (codes or [])]
    if not codes:
        raise SvInputError("codes", "Choose at least one open proxy to copy")
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise SvInputError("codes", f"No open proxy with the code '{unknown[0][:60]}'")
    with transaction.atomic():
        return [_save_proxy(actor=actor, owner=owner, fields={k: known[c][k] for k in PROXY_PARSERS})
                for c in dict.fromkeys(codes)]


# SROI models --------------------------------------------------------------------------------------

MODEL_FIELDS = ("name", "contract", "service", "inputs", "owner", "is_private")
OUTCOME_FIELDS = ("stakeholder", "indicator", "quantity", "proxy", "proxy_value", "proxy_source", *PERCENTS, "years")


def create_model(*, actor, owner, name, inputs, contract=None, service="", synthetic=False) -> SroiModel:
    """A new SROI model of the council ``owner`` for a contract it holds (a Contract or its OCID) or a named
    service."""
    refuse_unless_editor(actor, owner, "create an SROI model", owner)
    fields = clean_model(owner, {"name": name, "inputs": inputs, "service": service, "contract": contract})
    name, value, service, contract = fields["name"], fields["inputs"], fields["service"], fields["contract"]
    with transaction.atomic():
        row = SroiModel.objects.create(name=name, inputs=value, contract=contract, service=service, owner=owner,
                                       is_private=True, synthetic=synthetic, created_by=_actor(actor))
        audit(actor=actor, organisation=owner, action="created", obj=row, after=snapshot(row, MODEL_FIELDS))
    return row


def clean_model(owner, data):
    """A model's name, value of inputs, service and contract checked together: SvInputError names every bad field.
    ``contract`` is a Contract, an OCID of one of the council's contracts (blank: none) or None."""
    checks = _Checks()
    name = checks(parse_text, data.get("name"), "name", max_length=300)
    value = checks(lambda: parse_number(data.get("inputs"), "inputs", low=0, label="value of inputs (£)")
                   .quantize(Decimal("0.01")))
    service = checks(parse_text, data.get("service"), "service", max_length=300, required=False)
    contract = data.get("contract")
    if isinstance(contract, str):  # an OCID as a form gives it
        contract = checks(contract_of, owner, contract)
    if contract is not None and contract.owner_id != owner.pk:
        checks.errors.append(("contract", "Choose a contract that the council holds"))
    if contract is None and not service and not checks.failed("contract") and not checks.failed("service"):
        checks.errors.append(("service", "Enter the service, or choose a contract"))
    checks.done()
    return {"name": name, "inputs": value, "service": service, "contract": contract}


def contract_of(owner, ocid):
    """The council's own contract with this OCID (blank: None), or SvInputError on the field ``contract``."""
    text = "" if ocid is None else str(ocid).strip()
    if not text:
        return None
    found = Contract.objects.filter(owner=owner, ocid=text[:300]).first() if "\x00" not in text else None
    if found is None:
        raise SvInputError("contract", "Enter the OCID of a contract that the council holds")
    return found


def update_model(*, actor, model: SroiModel, data: dict) -> SroiModel:
    """Change a model's name, value of inputs, service or contract (``contract``: a Contract of the council, or
    None; keys not given keep their value)."""
    refuse_unless_editor(actor, model.owner, "change an SROI model", model)
    merged = {"name": model.name, "inputs": model.inputs, "service": model.service, "contract": model.contract,
              **data}
    fields = clean_model(model.owner, merged)
    name, value, service, contract = fields["name"], fields["inputs"], fields["service"], fields["contract"]
    with transaction.atomic():
        before = snapshot(model, MODEL_FIELDS)
        model.name, model.inputs, model.service, model.contract = name, value, service, contract
        model.save()
        audit(actor=actor, organisation=model.owner, action="updated", obj=model, before=before,
              after=snapshot(model, MODEL_FIELDS))
    return model


def delete_model(*, actor, model: SroiModel) -> None:
    """Delete a model with its outcomes (all of them kept in the audit record)."""
    refuse_unless_editor(actor, model.owner, "delete an SROI model", model)
    with transaction.atomic():
        audit(actor=actor, organisation=model.owner, action="deleted", obj=model,
              before={**snapshot(model, MODEL_FIELDS), "synthetic": model.synthetic,
                      "outcomes": [snapshot(o, OUTCOME_FIELDS) for o in model.outcomes.order_by("id")]})
        model.delete()


def clean_outcome(model, data, exclude=None):
    """The fields of one outcome checked (percentages 0-100), with the proxy from the library if chosen.
    SvInputError names every bad field at once."""
    checks = _Checks()
    fields = {
        "stakeholder": checks(parse_text, data.get("stakeholder"), "stakeholder", max_length=200),
        "indicator": checks(parse_text, data.get("indicator"), "indicator", max_length=300),
        "quantity": checks(lambda: parse_number(data.get("quantity"), "quantity", low=0).quantize(Decimal("0.01"))),
        **{p: checks(parse_percent, data.get(p), p) for p in PERCENTS},
        "years": checks(parse_whole, data.get("years"), "years", low=1, high=sroi.MAX_YEARS,
                        label="benefit period (years)"),
    }
    proxy_id = data.get("proxy")
    if proxy_id not in (None, ""):
        text = str(proxy_id).strip()
        pk = int(text) if text.isdigit() and len(text) <= 12 else 0
        proxy = Proxy.objects.filter(owner=model.owner, pk=pk).first()
        if proxy is None:
            checks.errors.append(("proxy", "Choose a proxy from the council's library"))
        else:
            fields.update(proxy=proxy, proxy_value=proxy.value,
                          proxy_source=f"{proxy.name}: {proxy.source} ({proxy.year}, {proxy.licence})"[:1000])
    else:
        fields.update(proxy=None,
                      proxy_value=checks(lambda: parse_number(data.get("proxy_value"), "proxy_value", low=0,
                                                              label="financial proxy (£ per unit)")
                                         .quantize(Decimal("0.01"))),
                      proxy_source=checks(parse_text, data.get("proxy_source"), "proxy_source", max_length=1000,
                                          label="source of the proxy"))
    if fields["stakeholder"] and fields["indicator"] and SroiOutcome.objects.filter(
            model=model, stakeholder__iexact=fields["stakeholder"], indicator__iexact=fields["indicator"]) \
            .exclude(pk=exclude).exists():
        checks.errors.append(("indicator", (f"The model already has the outcome '{fields['indicator'][:60]}' for "
                                           f"{fields['stakeholder'][:60]}")))
    checks.done()
    return fields


def add_outcome(*, actor, model: SroiModel, data: dict) -> SroiOutcome:
    """Add one outcome to an SROI model."""
    refuse_unless_editor(actor, model.owner, "change an SROI model", model)
    fields = clean_outcome(model, data)
    with transaction.atomic():
        row = SroiOutcome.objects.create(model=model, **fields)
        audit(actor=actor, organisation=model.owner, action="created", obj=row, after=snapshot(row, OUTCOME_FIELDS))
    return row


def outcome_values(outcome):
    """An outcome's fields as a form or the API gives them (a proxy from the library by its id)."""
    return {"stakeholder": outcome.stakeholder, "indicator": outcome.indicator, "quantity": outcome.quantity,
            "proxy": "" if outcome.proxy_id is None else str(outcome.proxy_id), "proxy_value": outcome.proxy_value,
            "proxy_source": outcome.proxy_source, **{p: getattr(outcome, p) for p in PERCENTS},
            "years": outcome.years}


def update_outcome(*, actor, outcome: SroiOutcome, data: dict) -> SroiOutcome:
    """Change an outcome (keys not given keep their value; percentages 0-100). Choosing a proxy from the library
    takes its value and source again; entering a value clears the link to the library."""
    model = outcome.model
    refuse_unless_editor(actor, model.owner, "change an SROI model", outcome)
    merged = {**outcome_values(outcome), **data}
    if ("proxy_value" in data or "proxy_source" in data) and "proxy" not in data:
        merged["proxy"] = ""  # a value entered replaces the library's
    fields = clean_outcome(model, merged, exclude=outcome.pk)
    with transaction.atomic():
        before = snapshot(outcome, OUTCOME_FIELDS)
        for key, value in fields.items():
            setattr(outcome, key, value)
        outcome.save()
        SroiModel.objects.filter(pk=model.pk).update(updated_at=now())
        audit(actor=actor, organisation=model.owner, action="updated", obj=outcome, before=before,
              after=snapshot(outcome, OUTCOME_FIELDS))
    return outcome


def delete_outcome(*, actor, outcome: SroiOutcome) -> None:
    model = outcome.model
    refuse_unless_editor(actor, model.owner, "change an SROI model", outcome)
    with transaction.atomic():
        audit(actor=actor, organisation=model.owner, action="deleted", obj=outcome,
              before={"model": model.pk, **snapshot(outcome, OUTCOME_FIELDS)})
        outcome.delete()
        SroiModel.objects.filter(pk=model.pk).update(updated_at=now())


def method_outcomes(model):
    """The model's outcomes as methods.sroi Outcomes (percentages as fractions)."""
    return [sroi.Outcome(name=f"{o.stakeholder}: {o.indicator}", quantity=float(o.quantity),
                         proxy=float(o.proxy_value), years=o.years,
                         **{p: float(getattr(o, p)) / 100 for p in PERCENTS})
            for o in model.outcomes.all().order_by("id")]


# Commitments and deliveries -----------------------------------------------------------------------

def add_commitment(*, actor, contract, data, synthetic=False) -> Commitment:
    """What the supplier promised on ``contract``: a measure, its unit and the amount over the contract."""
    refuse_unless_editor(actor, contract.owner, "record social value commitments", contract)
    measure, unit, promised = clean_commitment(contract, data).values()
    with transaction.atomic():
        row = Commitment.objects.create(contract=contract, measure=measure, unit=unit, promised=promised,
                                        owner=contract.owner, is_private=True, synthetic=synthetic)
        audit(actor=actor, organisation=contract.owner, action="created", obj=row,
              after={"contract": contract.ocid, "measure": measure, "unit": unit, "promised": str(promised)})
    return row


def clean_commitment(contract, data, exclude=None):
    """A commitment's measure, unit and amount promised checked together (SvInputError names every bad field);
    the contract may have one commitment per measure and unit."""
    checks = _Checks()
    measure = checks(parse_text, data.get("measure"), "measure", max_length=300)
    unit = checks(parse_text, data.get("unit"), "unit", max_length=100)
    promised = checks(lambda: parse_number(data.get("promised"), "promised", low=0, label="amount promised")
                      .quantize(Decimal("0.01")))
    if measure and unit and Commitment.objects.filter(contract=contract, measure__iexact=measure,
                                                      unit__iexact=unit).exclude(pk=exclude).exists():
        checks.errors.append(("measure", (f"The contract already has a commitment for '{measure[:60]}' in "
                                         f"{unit[:30]}")))
    checks.done()
    return {"measure": measure, "unit": unit, "promised": promised}


COMMITMENT_FIELDS = ("contract", "measure", "unit", "promised", "owner", "is_private")
DELIVERY_FIELDS = ("commitment", "period", "amount", "shared_by", "counted", "note")


def update_commitment(*, actor, commitment: Commitment, data: dict) -> Commitment:
    """Change a commitment's measure, unit or amount promised (keys not given keep their value)."""
    refuse_unless_editor(actor, commitment.owner, "record social value commitments", commitment)
    merged = {"measure": commitment.measure, "unit": commitment.unit, "promised": commitment.promised, **data}
    measure, unit, promised = clean_commitment(commitment.contract, merged, exclude=commitment.pk).values()
    with transaction.atomic():
        before = snapshot(commitment, COMMITMENT_FIELDS)
        commitment.measure, commitment.unit, commitment.promised = measure, unit, promised
        commitment.save()
        audit(actor=actor, organisation=commitment.owner, action="updated", obj=commitment, before=before,
              after=snapshot(commitment, COMMITMENT_FIELDS))
    return commitment


def delete_commitment(*, actor, commitment: Commitment) -> None:
    """Delete a commitment with what was delivered against it (all of it kept in the audit record)."""
    refuse_unless_editor(actor, commitment.owner, "delete a social value commitment", commitment)
    with transaction.atomic():
        audit(actor=actor, organisation=commitment.owner, action="deleted", obj=commitment,
              before={**snapshot(commitment, COMMITMENT_FIELDS), "synthetic": commitment.synthetic,
                      "deliveries": [snapshot(d, DELIVERY_FIELDS) for d in commitment.deliveries.order_by("id")]})
        commitment.delete()


def clean_delivery(data):
    """Period, amount (or full-time and part-time staff, counted as FTE: part-time at half) and shared_by.
    SvInputError names every bad field at once."""
    checks = _Checks()
    period = checks(parse_text, data.get("period"), "period", max_length=20)
    if period is not None and not PERIOD.match(period):
        checks.errors.append(("period", f"Period must look like 2024-25, 2025-Q1 or 2025, not '{period[:20]}'"))
    full, part = data.get("full_time"), data.get("part_time")
    if str(full or "").strip() or str(part or "").strip():
        if str(data.get("amount") or "").strip():
            checks.errors.append(("amount", "Give either the amount or the full-time and part-time staff, not both"))
        full_n = checks(parse_number, full, "full_time", low=0, required=False, label="full-time staff")
        part_n = checks(parse_number, part, "part_time", low=0, required=False, label="part-time staff")
        amount = Decimal(str(sroi.fte(float(full_n or 0), float(part_n or 0))))
    else:
        amount = checks(parse_number, data.get("amount"), "amount", low=0, label="amount delivered")
    shared = data.get("shared_by")
    shared_by = 1 if shared in (None, "") else checks(parse_whole, shared, "shared_by", low=1, high=1000,
                                                      label="number of contracts sharing it")
    note = checks(parse_text, data.get("note"), "note", max_length=500, required=False)
    checks.done()
    counted = Decimal(str(sroi.shared_benefit(float(amount), shared_by))).quantize(Decimal("0.0001"))
    return {"period": period, "amount": amount.quantize(Decimal("0.0001")), "shared_by": shared_by,
            "counted": counted, "note": note}


def _save_delivery(*, actor, commitment, fields, synthetic=False):
    row = Delivery.objects.create(commitment=commitment, entered_by=_actor(actor), synthetic=synthetic, **fields)
    audit(actor=actor, organisation=commitment.owner, action="created", obj=row,
          after={"commitment": commitment.pk, **{k: str(v) for k, v in fields.items()}})
    return row


def record_delivery(*, actor, commitment: Commitment, data: dict) -> Delivery:
    """What was delivered against a commitment in one period (one row per period)."""
    refuse_unless_editor(actor, commitment.owner, "record social value delivered", commitment)
    fields = clean_delivery(data)
    if Delivery.objects.filter(commitment=commitment, period=fields["period"]).exists():
        raise SvInputError("period", f"Delivery for {fields['period']} is already recorded for this commitment")
    with transaction.atomic():
        return _save_delivery(actor=actor, commitment=commitment, fields=fields)


def delivery_values(delivery):
    return {"period": delivery.period, "amount": delivery.amount, "shared_by": delivery.shared_by,
            "note": delivery.note, "full_time": "", "part_time": ""}


def update_delivery(*, actor, delivery: Delivery, data: dict) -> Delivery:
    """Correct what was delivered in a period (keys not given keep their value; full-time and part-time staff
    replace the amount)."""
    commitment = delivery.commitment
    refuse_unless_editor(actor, commitment.owner, "record social value delivered", delivery)
    merged = {**delivery_values(delivery), **data}
    if (str(data.get("full_time") or "").strip() or str(data.get("part_time") or "").strip()) \
            and "amount" not in data:
        merged["amount"] = ""
    fields = clean_delivery(merged)
    if Delivery.objects.filter(commitment=commitment, period=fields["period"]).exclude(pk=delivery.pk).exists():
        raise SvInputError("period", f"Delivery for {fields['period']} is already recorded for this commitment")
    with transaction.atomic():
        before = snapshot(delivery, DELIVERY_FIELDS)
        for key, value in fields.items():
            setattr(delivery, key, value)
        delivery.save()
        audit(actor=actor, organisation=commitment.owner, action="updated", obj=delivery, before=before,
              after=snapshot(delivery, DELIVERY_FIELDS))
    return delivery


def delete_delivery(*, actor, delivery: Delivery) -> None:
    commitment = delivery.commitment
    refuse_unless_editor(actor, commitment.owner, "record social value delivered", delivery)
    with transaction.atomic():
        audit(actor=actor, organisation=commitment.owner, action="deleted", obj=delivery,
              before={**snapshot(delivery, DELIVERY_FIELDS), "synthetic": delivery.synthetic})
        delivery.delete()


def import_deliveries_csv(*, actor, contract, data: bytes) -> list[Delivery]:
    """Deliveries for a contract's commitments from a CSV (measure, unit, period, amount or full_time and
    part_time, optionally shared_by and note). The whole file is checked first; nothing is saved if any row
    is wrong."""
    refuse_unless_editor(actor, contract.owner, "record social value delivered", contract)
    rows = _read_csv(data, needed=("measure", "unit", "period"), known=DELIVERY_COLUMNS)
    commitments = {(c.measure.lower(), c.unit.lower()): c for c in Commitment.objects.filter(contract=contract)}
    problems, parsed, seen = [], [], {}
    for number, record in rows:
        if record is None:
            problems.append({"row": number, "column": "", "reason": "more cells than the header has columns"})
            continue
        commitment = commitments.get((record.get("measure", "").lower(), record.get("unit", "").lower()))
        if commitment is None:
            problems.append({"row": number, "column": "measure", "reason": f"the contract has no commitment "
                             f"'{record.get('measure', '')[:60]}' in '{record.get('unit', '')[:30]}'"})
            continue
        try:
            fields = clean_delivery(record)
        except SvInputError as e:
            problems += [{"row": number, "column": field, "reason": message} for field, message in e.errors]
            continue
        key = (commitment.pk, fields["period"])
        if key in seen:
            problems.append({"row": number, "column": "period", "reason": f"{commitment.measure[:60]} "
                             f"{fields['period']} is already given in row {seen[key]}"})
            continue
        if Delivery.objects.filter(commitment=commitment, period=fields["period"]).exists():
            problems.append({"row": number, "column": "period", "reason": f"{commitment.measure[:60]} "
                             f"{fields['period']} is already recorded"})
            continue
        seen[key] = number
        parsed.append((commitment, fields))
    if problems:
        raise SvInputError("file", f"{len(problems)} problem(s) in the file; nothing was saved", problems)
    if not parsed:
        raise SvInputError("file", "The file has no deliveries")
    with transaction.atomic():
        return [_save_delivery(actor=actor, commitment=c, fields=f) for c, f in parsed]


# The demo -----------------------------------------------------------------------------------------

DEMO_MODEL = "Synthetic example: employment support (methods.md worked example)"
# A contract an employment support model (and local jobs and VCSE spend commitments) plausibly belongs to: by
# words in its title first, then by CPV division (80 education and training, 85 health and social work, 98 other
# community, social and personal services), then any contract with a known supplier.
DEMO_WORDS = re.compile(r"(?i)\b(employ\w*|jobs?|skills?|training|apprentic\w*|careers?|welfare to work|"
                        r"into work|back to work)\b")
DEMO_DIVISIONS = ("80", "85", "98")
DEMO_MEASURES = ("Local jobs", "Spend with local VCSEs")


def demo_contract(org):
    """The council's contract the synthetic demo is attached to, chosen the same way every time: a title about
    employment, skills or support; else a CPV division 80, 85 or 98; else the first. Public (OCDS) contracts with
    a known supplier come before the council's own records; ties go by OCID. None if it has no such contract."""
    candidates = list(Contract.objects.filter(owner=org, contract_suppliers__supplier__provider__isnull=False)
                      .distinct().order_by("ocid").only("ocid", "title", "cpv_division", "source"))

    def rank(c):
        fit = 0 if DEMO_WORDS.search(c.title or "") else 1 if (c.cpv_division or "") in DEMO_DIVISIONS else 2
        return fit, c.source != "ocds", c.ocid

    return min(candidates, key=rank, default=None)


def demo(*, la_code="DNC"):
    """A synthetic SROI model (the methods.md worked example) and synthetic commitments and deliveries on one
    contract of the council ``la_code`` (``demo_contract``); all labelled synthetic. Idempotent: run again, it adds
    nothing, and a demo made before the choice of contract changed is moved onto it (audited). Returns the
    contract."""
    from commissioner.orgs.models import Organisation

    org = Organisation.objects.filter(la_code=la_code).first()
    if org is None:
        return None
    contract = demo_contract(org)
    if contract is None:
        return None
    existing = SroiModel.objects.filter(owner=org, synthetic=True).first()
    if existing is not None:
        _move_demo(org, contract)
        return contract
    with transaction.atomic():
        model = SroiModel.objects.create(name=DEMO_MODEL, contract=contract, inputs=Decimal(100000), owner=org,
                                         synthetic=True)
        audit(actor=None, organisation=org, action="created", obj=model, after={"demo": "synthetic"})
        SroiOutcome.objects.create(model=model, stakeholder="Residents out of work (synthetic)",
                                   indicator="People into sustained work", quantity=100, proxy_value=1000,
                                   proxy_source="Synthetic figure for the demo: not a real proxy", deadweight=20,
                                   displacement=10, attribution=25, drop_off=10, years=3)
        jobs = Commitment.objects.create(contract=contract, measure=DEMO_MEASURES[0], unit="FTE",
                                         promised=15, owner=org, synthetic=True)
        vcse = Commitment.objects.create(contract=contract, measure=DEMO_MEASURES[1],
                                         unit="£", promised=30000, owner=org, synthetic=True)
        _save_delivery(actor=None, commitment=jobs, synthetic=True,
                       fields=clean_delivery({"period": "2024-25", "full_time": 10, "part_time": 5}))
        _save_delivery(actor=None, commitment=vcse, synthetic=True,
                       fields=clean_delivery({"period": "2024-25", "amount": 27000, "shared_by": 3}))
    return contract


def _move_demo(org, contract):
    """Move the synthetic demo model and its synthetic commitments (by their demo names) onto ``contract``."""
    with transaction.atomic():
        for model in SroiModel.objects.filter(owner=org, synthetic=True, name=DEMO_MODEL).exclude(contract=contract):
            before = snapshot(model, MODEL_FIELDS)
            model.contract = contract
            model.save(update_fields=["contract"])
            audit(actor=None, organisation=org, action="updated", obj=model, before=before,
                  after={**snapshot(model, MODEL_FIELDS), "demo": "synthetic: moved to a contract that fits"})
        for c in Commitment.objects.filter(owner=org, synthetic=True, measure__in=DEMO_MEASURES).exclude(
                contract=contract):
            if Commitment.objects.filter(contract=contract, measure__iexact=c.measure, unit__iexact=c.unit).exists():
                continue
            before = snapshot(c, COMMITMENT_FIELDS)
            c.contract = contract
            c.save(update_fields=["contract"])
            audit(actor=None, organisation=org, action="updated", obj=c, before=before,
                  after={**snapshot(c, COMMITMENT_FIELDS), "demo": "synthetic: moved to a contract that fits"})
