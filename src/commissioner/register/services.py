"""The only place that writes providers, suppliers and contracts."""

import functools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import ClassVar

import orjson
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

from commissioner.methods.text import clean_text, supplier_name_key
from commissioner.orgs.services import audit, snapshot
from commissioner.register.models import (
    Contract,
    ContractSupplier,
    DeliveryModel,
    Provider,
    Source,
    Supplier,
    SupplierType,
)

CONTRACT_AUDIT_FIELDS = [
    "title", "status", "buyer", "owner", "value", "tender_value", "award_value", "currency", "start_date",
    "end_date", "procurement_method", "cpv", "is_private", "delivery_model",
]
PROVIDER_AUDIT_FIELDS = ["name", "supplier_type", "scale", "is_vcse", "companies_house", "charity_number"]
SUPPLIER_AUDIT_FIELDS = ["key", "name", "provider", "match", "locked"]


def supplier_type_for(*, scale: str, is_vcse, current: str = SupplierType.UNKNOWN) -> str:
    """The register's supplier type from what notices declare; council-set types are kept."""
    if current in (SupplierType.PUBLIC, SupplierType.INHOUSE, SupplierType.LATC, SupplierType.SHARED):
        return current
    if is_vcse:
        return SupplierType.VCSE
    if scale == "sme":
        return SupplierType.SME
    if scale == "large":
        return SupplierType.LARGE
    return SupplierType.UNKNOWN


def _find_provider(*, companies_house: str, charity_number: str, name_key: str):
    """Merge rule: company or charity identifier first, then the normalised name."""
    if companies_house:
        p = Provider.objects.filter(companies_house=companies_house, is_private=False).first()
        if p:
            return p, Supplier.Match.IDENTIFIER, f"Companies House {companies_house}"
    if charity_number:
        p = Provider.objects.filter(charity_number=charity_number, is_private=False).first()
        if p:
            return p, Supplier.Match.IDENTIFIER, f"charity number {charity_number}"
    if name_key:
        p = Provider.objects.filter(name_key=name_key, is_private=False).first()
        if p:
            return p, Supplier.Match.NAME, f"normalised name '{name_key}'"
    return None, Supplier.Match.NEW, ""


def upsert_supplier(*, key: str, name: str, scheme: str = "", identifier: str = "", scale: str = "",
                    is_vcse=None, companies_house: str = "", charity_number: str = "",
                    identifiers=None, address=None, owner=None, is_private: bool = False,
                    supplier_type: str = "", actor_label: str = "import") -> Supplier:
    """Find or create the supplier with this key and link it to a provider (merging where it can)."""
    name = clean_text(name)[:300] or key
    name_key = supplier_name_key(name)[:300]
    supplier = Supplier.objects.select_related("provider").filter(key=key).first()
    fields = {"name": name, "scheme": scheme[:40], "identifier": identifier[:120], "scale": scale[:10],
              "is_vcse": is_vcse, "companies_house": companies_house[:12], "charity_number": charity_number[:12],
              "identifiers": identifiers or [], "address": address or {}}
    if supplier is None:
        provider, match, detail = (None, Supplier.Match.NEW, "")
        if not is_private:
            provider, match, detail = _find_provider(
                companies_house=companies_house, charity_number=charity_number, name_key=name_key)
        if provider is None:
            provider = Provider.objects.create(
                name=name, name_key=name_key, scale=scale, is_vcse=is_vcse, companies_house=companies_house,
                charity_number=charity_number, owner=owner, is_private=is_private,
                supplier_type=supplier_type or supplier_type_for(scale=scale, is_vcse=is_vcse))
            audit(actor_label=actor_label, action="created", obj=provider,
                  after=snapshot(provider, PROVIDER_AUDIT_FIELDS))
        supplier = Supplier.objects.create(key=key[:300], provider=provider, match=match, match_detail=detail,
                                           **fields)
    else:
        changed = any(getattr(supplier, k) != v for k, v in fields.items())
        if changed:
            for k, v in fields.items():
                setattr(supplier, k, v)
            supplier.save()
    _refresh_provider_facts(supplier.provider, scale=scale, is_vcse=is_vcse, companies_house=companies_house,
                            charity_number=charity_number, actor_label=actor_label)
    return supplier


def _refresh_provider_facts(provider, *, scale, is_vcse, companies_house, charity_number, actor_label):
    before = snapshot(provider, PROVIDER_AUDIT_FIELDS)
    if scale and not provider.scale:
        provider.scale = scale
    if is_vcse is not None and provider.is_vcse is None:
        provider.is_vcse = is_vcse
    if is_vcse and not provider.is_vcse:
        provider.is_vcse = True
    if companies_house and not provider.companies_house:
        provider.companies_house = companies_house
    if charity_number and not provider.charity_number:
        provider.charity_number = charity_number
    provider.supplier_type = supplier_type_for(scale=provider.scale, is_vcse=provider.is_vcse,
                                               current=provider.supplier_type)
    after = snapshot(provider, PROVIDER_AUDIT_FIELDS)
    if after != before:
        provider.save()
        audit(actor_label=actor_label, action="updated", obj=provider, before=before, after=after)


def refresh_provider_totals(provider_ids):
    """Recompute each provider's count and value of PUBLIC contracts (each contract once).

    Stored totals are shown to everyone, so private contracts never count here; pages that
    show a member their council's private contracts add those up from the visible rows.
    """
    ids = set(provider_ids)
    if not ids:
        return
    per_provider = {}
    rows = (Contract.objects.filter(is_private=False, contract_suppliers__supplier__provider_id__in=ids)
            .values_list("contract_suppliers__supplier__provider_id", "id", "value").distinct())
    for provider_id, contract_id, value in rows:
        per_provider.setdefault(provider_id, {})[contract_id] = value or Decimal(0)
    for p in Provider.objects.filter(id__in=ids).only("id", "contract_count", "total_value"):
        contracts = per_provider.get(p.id, {})
        n, total = len(contracts), sum(contracts.values(), Decimal(0))
        if p.contract_count != n or p.total_value != total:
            Provider.objects.filter(id=p.id).update(contract_count=n, total_value=total)


def public_contract_links(contract_ids, out=None):
    """{provider id: {contract id: value}} over these contracts that are public: what they add to their
    providers' totals (each contract once per provider)."""
    out = {} if out is None else out
    if contract_ids:
        for provider_id, contract_id, value in ContractSupplier.objects.filter(
                contract_id__in=contract_ids, contract__is_private=False).values_list(
                "supplier__provider_id", "contract_id", "contract__value"):
            out.setdefault(provider_id, {})[contract_id] = value or Decimal(0)
    return out


class TotalsShift:
    """Moves of providers' stored totals (count and value of public contracts), gathered over several
    changes and written together: ``add`` the public_contract_links of the same contracts taken before and
    after they changed, then ``write``, in the transaction of the changes. For totals that were right this
    gives what refresh_provider_totals gives, at the cost of the changed contracts only (not of every
    contract of a provider, which made a chunked import quadratic)."""

    def __init__(self):
        self.deltas = {}  # provider id -> [count, value]

    def add(self, before, after):
        for pid in before.keys() | after.keys():
            was, now = before.get(pid, {}), after.get(pid, {})
            if was != now:
                d = self.deltas.setdefault(pid, [0, Decimal(0)])
                d[0] += len(now) - len(was)
                d[1] += sum(now.values(), Decimal(0)) - sum(was.values(), Decimal(0))

    def write(self):
        deltas = {pid: d for pid, d in self.deltas.items() if d != [0, 0]}
        self.deltas = {}
        if not deltas:
            return
        conn = connections[DEFAULT_DB_ALIAS]
        prep = Provider._meta.get_field("total_value").get_db_prep_save
        rows = [(max(0, n + deltas[pid][0]), prep(total + deltas[pid][1], conn), pid)
                for pid, n, total in Provider.objects.filter(id__in=deltas).values_list(
                    "id", "contract_count", "total_value")]
        q = conn.ops.quote_name
        with conn.cursor() as cursor:
            cursor.executemany(f"UPDATE {q(Provider._meta.db_table)} SET {q('contract_count')} = %s, "
                               f"{q('total_value')} = %s WHERE {q('id')} = %s", rows)


class JSONText(bytes):
    """A JSON value already serialised (UTF-8 bytes), for a JSONField: stored without parsing it again."""

    def value(self):
        return orjson.loads(bytes(self))


def _jsonable(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_text(value):
    """A JSONField's value as the JSON text we store (None stays None, SQL NULL)."""
    if value is None:
        return None
    if isinstance(value, JSONText):
        return value.decode()
    return dumps(value).decode()


def dumps(value) -> bytes:
    """JSON of ``value`` by orjson; keys that are not strings (rare: values made in code, not read from
    JSON) are written as strings, at the second try, as that option costs half as much again."""
    try:
        return orjson.dumps(value, default=_jsonable)
    except orjson.JSONEncodeError:
        return orjson.dumps(value, default=_jsonable, option=orjson.OPT_NON_STR_KEYS)


def json_bytes(value):
    """A JSONField's value as the UTF-8 JSON we store (None stays None), for _placeholder's CAST."""
    if value is None:
        return None
    if isinstance(value, JSONText):
        return bytes(value)
    return dumps(value)


def _placeholder(field, conn):
    """The INSERT's placeholder of ``field``: JSON goes to SQLite as bytes (json_bytes), cast to TEXT,
    which takes the bytes as they are (UTF-8, the database's encoding)."""
    return "CAST(%s AS TEXT)" if isinstance(field, models.JSONField) and conn.vendor == "sqlite" else "%s"


def _plain(value):
    return value.value() if isinstance(value, JSONText) else value


_SIMPLE = (models.CharField, models.TextField, models.BooleanField, models.IntegerField, models.ForeignKey)


def _as_is(field, conn):
    """Python types whose values go to the database unchanged for ``field`` (None always does)."""
    if isinstance(field, (models.CharField, models.TextField)):
        return frozenset((str, type(None)))
    if isinstance(field, _SIMPLE):  # (SQLite stores booleans as 0 and 1, and takes an int for less: _converter)
        return frozenset((int, type(None))) if conn.vendor == "sqlite" else frozenset((int, bool, type(None)))
    return frozenset((type(None),))


def _plain_str(value):
    return str.__str__(value) if isinstance(value, str) else value


def _converter(field, conn):
    """A function giving the database value of ``field`` for a Python value: what bulk_create would send,
    with the common cases short-cut (the generic path costs more than the INSERT itself)."""
    prep, ops = field.get_db_prep_save, conn.ops
    if isinstance(field, models.JSONField):
        # JSON goes as text (PostgreSQL casts it to jsonb): orjson is much faster than json.dumps. On
        # SQLite as the UTF-8 bytes orjson makes, which the INSERT casts to TEXT (see _placeholder): no
        # decoding to str, and no encoding back (by pickle, for rows made in the import's worker, and by
        # the driver).
        return json_bytes if conn.vendor == "sqlite" else json_text
    if isinstance(field, (models.CharField, models.TextField)):
        # Plain str, not a choices enum (a str subclass the driver takes as it is): rows made in the
        # import's worker cross a pipe, and unpickling an enum member costs a lookup each time.
        return lambda v: v if v is None or type(v) is str else _plain_str(prep(v, conn))
    if isinstance(field, _SIMPLE):  # values of the field's own type go as they are
        if conn.vendor == "sqlite":  # a bool as the int SQLite stores (binding a bool costs three times more)
            return lambda v: v if v is None or type(v) is int else int(v) if type(v) is bool else prep(v, conn)
        return lambda v: v if v is None or type(v) in (int, bool) else prep(v, conn)
    if isinstance(field, models.DecimalField):
        digits, places, to_python = field.max_digits, field.decimal_places, field.to_python
        if conn.vendor == "sqlite":  # what Django's adapter for SQLite sends (register_adapter(Decimal, str)),
            # made here: a str crosses the import's pipe for a fraction of a Decimal's cost
            return lambda v: None if v is None else str(ops.adapt_decimalfield_value(to_python(v), digits, places))
        return lambda v: None if v is None else ops.adapt_decimalfield_value(to_python(v), digits, places)
    if isinstance(field, models.DateTimeField):
        utc_text = conn.vendor == "sqlite" and conn.timezone_name == "UTC"  # stored as naive UTC text there

        def to_datetime(v):
            if v is None:
                return None
            if type(v) is datetime and v.tzinfo is not None:
                if utc_text and v.tzinfo is UTC:  # what adapt_datetimefield_value gives, without its detours
                    return str(v.replace(tzinfo=None))
                return ops.adapt_datetimefield_value(v)
            return prep(v, conn)  # naive: made aware (with Django's warning) as bulk_create would
        return to_datetime
    if isinstance(field, models.DateField):
        return lambda v: None if v is None else ops.adapt_datefield_value(v) if type(v) is date else prep(v, conn)
    return lambda v: prep(v, conn)


class InsertPlan:
    """How rows of ``model`` go into the database as ``bulk_create`` would send them, without model
    instances: ``values(rows)`` turns dicts of attname -> Python value into lists of database values
    (missing fields get their default, auto_now(_add) fields the current time); ``insert(values)``
    runs one executemany. Values may be made in one process and inserted in another of the same
    settings (the import's worker does). No ids are returned. Insert inside a transaction."""

    _plans: ClassVar = {}

    def __init__(self, model, conn):
        self.conn = conn
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.attnames = [f.attname for f in self.fields]
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            conn.ops.quote_name(model._meta.db_table),
            ", ".join(conn.ops.quote_name(f.column) for f in self.fields),
            ", ".join(_placeholder(f, conn) for f in self.fields))
        self.converters = [(f.attname, _as_is(f, conn), _converter(f, conn)) for f in self.fields]

    @classmethod
    def of(cls, model):
        conn = connections[DEFAULT_DB_ALIAS]
        plan = cls._plans.get((model, conn.vendor))
        if plan is None:
            plan = cls._plans[model, conn.vendor] = cls(model, conn)
        return plan

    def index(self, attname):
        return self.attnames.index(attname)

    def maker(self):
        """A function turning one row (a dict) into its database values, as ``values`` does; the current
        time for auto_now(_add) fields is read now, once."""
        now = timezone.now()
        columns = []
        for f, (attname, as_is, conv) in zip(self.fields, self.converters, strict=True):
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                default = f.get_db_prep_save(now, self.conn)
            else:
                default = _plain_str(f.get_db_prep_save(f.get_default(), self.conn))  # (a choices enum: str)
                if type(default) is bool:
                    default = conv(default)  # (an int on SQLite)
            columns.append((attname, default, as_is, conv))
        missing = object()

        # One comprehension, values of the column's own type passed as they are (the loop costs more
        # than the INSERT itself on big imports).
        def make(row):
            return [default if (v := row.get(attname, missing)) is missing else v if v.__class__ in as_is else conv(v)
                    for attname, default, as_is, conv in columns]
        return make

    def values(self, rows):
        make = self.maker()
        return [make(row) for row in rows]

    def insert(self, values):
        if values:
            with self.conn.cursor() as cursor:
                cursor.executemany(self.sql, values)


def insert_rows(model, rows):
    """INSERT ``rows`` (dicts of attname -> Python value) in one executemany: see InsertPlan."""
    if rows:
        plan = InsertPlan.of(model)
        plan.insert(plan.values(rows))


def _links_of(contract_ids):
    out = {}
    for cid, s, a, v in ContractSupplier.objects.filter(contract_id__in=contract_ids).values_list(
            "contract_id", "supplier_id", "award_id", "value"):
        out.setdefault(cid, []).append((s, a, v))
    return {cid: sorted(links, key=str) for cid, links in out.items()}


_RELATIONS = {"owner": "owner_id", "buyer": "buyer_id"}  # Contract's foreign keys: name -> attname


def _contract_row(ocid, fields):
    """Contract ``fields`` (names as for the model; relations as instances or ids) as a row of attnames."""
    row = {"ocid": ocid}
    for k, v in fields.items():
        if k in _RELATIONS:
            k, v = _RELATIONS[k], v.pk if isinstance(v, models.Model) else v
        row[k] = v
    return row


_PLAIN = frozenset((str, int, float, bool, type(None)))


@functools.cache
def contract_columns():
    """Contract attname -> its index in an InsertPlan row."""
    return {name: i for i, name in enumerate(InsertPlan.of(Contract).attnames)}


@functools.cache
def _audit_columns():
    at = contract_columns()
    fields = [Contract._meta.get_field(name) for name in CONTRACT_AUDIT_FIELDS]
    return [(f.name, at[f.attname], Decimal(10) ** -f.decimal_places if isinstance(f, models.DecimalField) else None)
            for f in fields]


def _row_snapshot(row):
    """snapshot() of a new contract (CONTRACT_AUDIT_FIELDS) from its row of database values, as the
    saved contract reads."""
    out = {}
    for name, i, places in _audit_columns():
        v = row[i]
        if places is not None and v is not None and v.__class__ is not str:  # (a str is quantized already:
            v = Decimal(str(v)).quantize(places)                              # _converter, on SQLite)
        out[name] = v if v.__class__ in _PLAIN else str(v)
    return out


def _new_ids(model, ocids):
    """{ocid: id} of rows just inserted in this transaction, in this order. On SQLite the ids of one
    INSERT run are consecutive and end at last_insert_rowid() (checked at both ends); elsewhere, and if
    the check fails, they are read back."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor == "sqlite" and ocids:
        q = conn.ops.quote_name
        with conn.cursor() as cursor:
            cursor.execute("SELECT last_insert_rowid()")
            last = cursor.fetchone()[0]
            first = last - len(ocids) + 1
            cursor.execute(f"SELECT {q('id')}, {q('ocid')} FROM {q(model._meta.db_table)} WHERE {q('id')} IN (%s, %s)",
                           [first, last])
            ends = dict(cursor.fetchall())
        if ends == {first: ocids[0], last: ocids[-1]}:
            return {ocid: first + i for i, ocid in enumerate(ocids)}
    return dict(model.objects.filter(ocid__in=ocids).values_list("ocid", "pk"))


def existing_contracts(ocids) -> dict:
    """{ocid: Contract} for the ocids that have one."""
    return {c.ocid: c for c in Contract.objects.filter(ocid__in=list(ocids))}


def contract_rows(rows) -> list:
    """New contracts' rows as database values (see apply_contracts), made ahead: ``rows`` are dicts of
    Contract fields by attname, with "ocid"."""
    return InsertPlan.of(Contract).values(rows)


def apply_contracts(batch, *, actor=None, actor_label="import", keep_totals=False, existing=None, touched=None):
    """Create or update many contracts with their supplier links, auditing each change.

    ``batch`` is [(ocid, fields, [(supplier, award_id, value)])]. Returns the outcome of each:
    "created", "updated" or "unchanged". Call inside a transaction. A JSON field may be given as
    ``JSONText`` (already serialised). For a contract that does not exist yet, ``fields`` may instead be
    its whole row as database values (a list, from contract_rows). With ``keep_totals`` the providers'
    stored totals move by what the changed contracts took away and add (TotalsShift), written here, in the
    same transaction; or, if ``keep_totals`` is a TotalsShift, added to it for the caller to write later in
    the same transaction. ``existing`` (existing_contracts of the batch) saves a query. Provider benchmarking's
    summary rows of the created and relinked contracts are refreshed here, or, when ``touched`` (a set) is
    given, their ids are added to it for the caller to refresh once at the end of a bulk import
    (``benchmarking.providers.refresh_after_import``).
    """
    from commissioner.orgs.models import AuditEvent

    if existing is None:
        existing = existing_contracts(b[0] for b in batch)
    old_links = _links_of([c.pk for c in existing.values()]) if existing else {}
    outcomes, events, new_rows, new_links, relinked, changes = [], [], [], [], [], []
    label = (actor_label or (actor.get_username() if actor is not None else "system"))[:200]
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    user_id = user.pk if user is not None else None
    model_label = Contract._meta.label
    cents = Decimal("0.01")
    provider_of = {}  # supplier id -> provider id
    for ocid, fields, suppliers in batch:
        for s, _, _ in suppliers:
            provider_of[s.id] = s.provider_id
        links = {(s.id, a, None if v is None else Decimal(str(v)).quantize(cents)) for s, a, v in suppliers}
        links = sorted(links, key=str) if len(links) > 1 else list(links)
        contract = existing.get(ocid)
        if contract is None:
            new_rows.append((fields if isinstance(fields, list) else _contract_row(ocid, fields), links))
            outcomes.append("created")
            continue
        if isinstance(fields, list):
            raise TypeError(f"contract {ocid} exists: its fields must be given as values, not as a new row")
        fields = {k: _plain(v) for k, v in fields.items()}
        changed = any(getattr(contract, k) != _field_value(contract, k, v) for k, v in fields.items())
        if not changed and old_links.get(contract.pk, []) == links:
            outcomes.append("unchanged")
            continue
        changes.append((contract, fields, links))
        outcomes.append("updated")
    totals_before = public_contract_links([c.pk for c, _, _ in changes]) if keep_totals else None
    for contract, fields, links in changes:
        before = snapshot(contract, CONTRACT_AUDIT_FIELDS)
        for k, v in fields.items():
            # As the database returns it, so the audit trail shows stored values.
            setattr(contract, k, _field_value(contract, k, v))
        contract.save()
        relinked.append(contract.pk)
        new_links += [{"contract_id": contract.pk, "supplier_id": s, "award_id": a, "value": v}
                      for s, a, v in links]
        events.append({"actor_id": user_id, "actor_label": label, "organisation_id": contract.owner_id,
                       "action": "updated", "model": model_label, "object_pk": str(contract.pk),
                       "object_repr": str(contract)[:300], "before": before,
                       "after": snapshot(contract, CONTRACT_AUDIT_FIELDS)})
    if relinked:
        ContractSupplier.objects.filter(contract_id__in=relinked).delete()
    totals_after = {}
    if new_rows:
        plan = InsertPlan.of(Contract)
        made = iter(plan.values([row for row, _ in new_rows if not isinstance(row, list)]))
        values = [row if isinstance(row, list) else next(made) for row, _ in new_rows]
        plan.insert(values)
        at = contract_columns()
        ids = _new_ids(Contract, [row[at["ocid"]] for row in values])
        for row, (_, links) in zip(values, new_rows, strict=True):
            pk = ids[row[at["ocid"]]]
            new_links += [{"contract_id": pk, "supplier_id": s, "award_id": a, "value": v} for s, a, v in links]
            events.append({"actor_id": user_id, "actor_label": label, "organisation_id": row[at["owner_id"]],
                           "action": "created", "model": model_label, "object_pk": str(pk),
                           "object_repr": str(row[at["title"]])[:300], "after": _row_snapshot(row)})
            if keep_totals and links and not row[at["is_private"]]:  # as public_contract_links reads it back
                value = row[at["value"]]
                value = Decimal(0) if value is None else Decimal(str(value)).quantize(cents)
                for s, _, _ in links:
                    totals_after.setdefault(provider_of[s], {})[pk] = value
    insert_rows(ContractSupplier, new_links)
    changed_ids = {link["contract_id"] for link in new_links} | set(relinked)
    if touched is not None:
        touched |= changed_ids
    else:
        from commissioner.benchmarking.providers import refresh_summaries  # provider benchmarking's summary rows

        refresh_summaries(changed_ids)
    insert_rows(AuditEvent, events)
    if keep_totals:
        shift = keep_totals if isinstance(keep_totals, TotalsShift) else TotalsShift()
        shift.add(totals_before, public_contract_links(relinked, totals_after))
        if shift is not keep_totals:
            shift.write()
    return outcomes


def _field_value(contract, name, value):
    """Coerce a new value as the database would store it, so unchanged data compares equal."""
    f = contract._meta.get_field(name)
    if value is None:
        return None
    if isinstance(f, models.DecimalField):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return value


def save_contract(*, ocid: str, fields: dict, suppliers: list, actor=None, actor_label: str = ""):
    """Create or update one contract. Returns (contract, outcome)."""
    outcome = apply_contracts([(ocid, fields, suppliers)], actor=actor, actor_label=actor_label)[0]
    return Contract.objects.get(ocid=ocid), outcome


def search_text(*parts) -> str:
    return " ".join(clean_text(p).lower() for p in parts if p)[:20000]


@transaction.atomic
def create_local_contract(*, owner, actor, title: str, description: str = "", delivery_model: str,
                          provider_name: str, supplier_type: str, value=None, start_date=None, end_date=None,
                          review_date=None, cpv: str = "", is_private: bool = True, reference: str = "",
                          companies_house: str = "", charity_number: str = "") -> Contract:
    """A contract the open data does not hold: in-house, LATC, shared service, grant, ..."""
    import uuid

    from commissioner.register.cpv import division_name  # noqa: F401  (names resolved on pages)

    ocid = f"local-{owner.slug}-{uuid.uuid4().hex[:12]}"
    key = (f"GB-COH-{companies_house}" if companies_house else
           f"GB-CHC-{charity_number}" if charity_number else
           f"local:{owner.pk}:{supplier_name_key(provider_name)}")
    supplier = upsert_supplier(
        key=key, name=provider_name, companies_house=companies_house, charity_number=charity_number,
        is_vcse=True if supplier_type == SupplierType.VCSE else None, owner=owner,
        is_private=is_private and not (companies_house or charity_number), supplier_type=supplier_type,
        actor_label=actor.get_username())
    fields = {
        "owner": owner, "buyer": owner, "buyer_name": owner.name, "title": clean_text(title)[:1000],
        "description": clean_text(description), "reference": reference[:200], "status": "contract",
        "cpv": cpv, "cpv_division": cpv[:2], "value": value, "award_value": value, "start_date": start_date,
        "end_date": end_date, "review_date": review_date,
        "delivery_model": delivery_model or DeliveryModel.INHOUSE, "source": Source.MANUAL, "is_private": is_private, "release_count": 0,
        "search_text": search_text(title, description, provider_name, owner.name),
    }
    contract, _ = save_contract(ocid=ocid, fields=fields, suppliers=[(supplier, "", value)], actor=actor)
    refresh_provider_totals([supplier.provider_id])
    return contract


@transaction.atomic
def merge_providers(*, keep: Provider, merge: Provider, actor) -> Provider:
    """Move every supplier identity of ``merge`` onto ``keep`` (reversible with ``split_supplier``)."""
    if keep.pk == merge.pk:
        raise ValueError("cannot merge a provider into itself")
    moved = list(merge.suppliers.all())
    for s in moved:
        before = snapshot(s, SUPPLIER_AUDIT_FIELDS)
        s.provider, s.match, s.match_detail, s.locked = keep, Supplier.Match.MANUAL, f"merged by {actor}", True
        s.save()
        audit(actor=actor, action="merged", obj=s, before=before, after=snapshot(s, SUPPLIER_AUDIT_FIELDS))
    audit(actor=actor, action="deleted-after-merge", obj=merge, before=snapshot(merge, PROVIDER_AUDIT_FIELDS))
    merge.delete()
    refresh_provider_totals([keep.pk])
    from commissioner.benchmarking.providers import refresh_provider_summaries

    refresh_provider_summaries([keep.pk])
    return keep


@transaction.atomic
def split_supplier(*, supplier: Supplier, actor) -> Provider:
    """Undo a merge: give this supplier identity a provider of its own, and keep imports from re-merging it."""
    before = snapshot(supplier, SUPPLIER_AUDIT_FIELDS)
    old = supplier.provider
    provider = Provider.objects.create(
        name=supplier.name, name_key=supplier_name_key(supplier.name), scale=supplier.scale,
        is_vcse=supplier.is_vcse, companies_house=supplier.companies_house,
        charity_number=supplier.charity_number, owner=old.owner, is_private=old.is_private,
        supplier_type=supplier_type_for(scale=supplier.scale, is_vcse=supplier.is_vcse))
    supplier.provider, supplier.match, supplier.match_detail, supplier.locked = (
        provider, Supplier.Match.MANUAL, f"split by {actor}", True)
    supplier.save()
    audit(actor=actor, action="split", obj=supplier, before=before, after=snapshot(supplier, SUPPLIER_AUDIT_FIELDS))
    if not old.suppliers.exists():
        old.delete()
        changed = [provider.pk]
    else:
        changed = [provider.pk, old.pk]
    refresh_provider_totals(changed)
    from commissioner.benchmarking.providers import refresh_provider_summaries

    refresh_provider_summaries(changed)
    return provider
