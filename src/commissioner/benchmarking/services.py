"""The only place that writes measures, values, code mappings and peer groups.

Imports are one transaction each and validate the whole file first: a file with any problem
(unknown organisation code, duplicate row, text in a value, a period we cannot read, a council
submitting another council's values) loads nothing and reports every problem with its row,
column and reason. A refused submission is logged in the audit trail (action ``refused``).
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from commissioner.benchmarking import importers
from commissioner.benchmarking.importers import Problem
from commissioner.benchmarking.models import (
    Adoption,
    CodeMapping,
    ImportRun,
    Measure,
    MeasureValue,
    MeasureVersion,
    PeerGroup,
    Polarity,
    ReferenceValue,
)
from commissioner.benchmarking.summary import refresh_positions
from commissioner.orgs import reference, tenancy
from commissioner.orgs.models import Organisation
from commissioner.orgs.services import audit, council_organisation, snapshot

OFLOG_SAMPLE = settings.BASE_DIR / "data" / "samples" / "oflog" / "ASC_data.csv"
PLACES = Decimal("1e-10")
MEASURE_FIELDS = ["code", "name", "definition", "unit", "polarity", "polarity_note", "source", "source_url",
                  "licence", "synthetic", "version"]


class BenchmarkError(ValueError):
    """Bad input: ``field`` names what was wrong."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class NotAllowed(BenchmarkError):
    """The actor may not do this (the attempt is recorded in the audit trail, action ``refused``)."""


# -- organisation codes ------------------------------------------------------------------------------

class CodeResolver:
    """Organisation codes (GSS or three-letter) to organisations: the code mapping table first (old code
    -> successor), then organisations' GSS codes, former GSS codes and la_codes, then the councils
    reference (creating the council's organisation on first use)."""

    def __init__(self):
        self.mapping = dict(CodeMapping.objects.values_list("old_code", "new_code"))
        self.by_code = {}
        orgs = list(Organisation.objects.filter(kind=Organisation.Kind.COUNCIL).only(
            "id", "name", "la_code", "gss_code", "former_gss_codes"))
        for org in orgs:
            for former in filter(None, (c.strip() for c in org.former_gss_codes.replace("|", ",").split(","))):
                self.by_code.setdefault(former.upper(), org)
        for org in orgs:
            if org.gss_code:
                self.by_code[org.gss_code.upper()] = org
        for org in orgs:
            if org.la_code:
                self.by_code[org.la_code.upper()] = org
        self.reference = {}
        for c in reference.councils().values():
            self.reference[c.code.upper()] = c.code
            if c.gss_code:
                self.reference[c.gss_code.upper()] = c.code

    def mapped(self, code):
        code, seen = code.strip().upper(), set()
        while code in self.mapping and code not in seen:
            seen.add(code)
            code = self.mapping[code].strip().upper()
        return code

    def known(self, code) -> bool:
        code = self.mapped(code)
        return code in self.by_code or code in self.reference

    def resolve(self, code) -> Organisation | None:
        """The organisation (created from the reference when needed), or None."""
        code = self.mapped(code)
        if code in self.by_code:
            return self.by_code[code]
        if code in self.reference:
            org = council_organisation(self.reference[code])
            self.by_code[code] = org
            return org
        return None

    def peek(self, code):
        """(organisation id or None, la_code or None) without creating anything."""
        code = self.mapped(code)
        if code in self.by_code:
            return self.by_code[code].pk, self.by_code[code].la_code
        return None, self.reference.get(code)


# -- measures ----------------------------------------------------------------------------------------

def _measure_fields(data):
    out = {}
    code = str(data.get("code") or "").strip().upper()
    if not code or len(code) > 40 or not all(ch.isalnum() or ch in "-_." for ch in code):
        raise BenchmarkError("code", "enter a code of up to 40 letters, digits, dots, hyphens or underscores")
    out["code"] = code
    name = str(data.get("name") or "").strip()
    if not name:
        raise BenchmarkError("name", "enter the measure's name")
    out["name"] = name[:300]
    polarity = str(data.get("polarity") or Polarity.HIGHER).strip().lower()
    if polarity not in Polarity.values:
        raise BenchmarkError("polarity", "choose higher, lower or none")
    out["polarity"] = polarity
    for key, size in (("definition", None), ("unit", 60), ("polarity_note", 300), ("source", 300),
                      ("source_url", 200), ("licence", 200)):
        value = str(data.get(key) or "").strip()
        out[key] = value[:size] if size else value
    out["synthetic"] = bool(data.get("synthetic"))
    return out


@transaction.atomic
def define_measure(*, actor=None, data, owner=None) -> tuple[Measure, bool]:
    """Create a measure, or update the one with this code (version + 1 when its meaning changes)."""
    if actor is not None and not (actor.is_authenticated and actor.is_superuser) and not (
            owner is not None and tenancy.can_edit(actor, owner.pk)):
        raise BenchmarkError("measure", "only a site administrator may define national measures")
    fields = _measure_fields(data)
    measure = Measure.objects.filter(code=fields["code"]).first()
    if measure is None:
        measure = Measure.objects.create(owner=owner, **fields)
        audit(actor=actor, actor_label="" if actor else "benchmarking", organisation=owner, action="created",
              obj=measure, after=snapshot(measure, MEASURE_FIELDS))
        return measure, True
    before = snapshot(measure, MEASURE_FIELDS)
    changed = {k: v for k, v in fields.items() if getattr(measure, k) != v}
    if changed:
        for k, v in changed.items():
            setattr(measure, k, v)
        if {"definition", "unit", "polarity"} & set(changed):
            measure.version += 1
        measure.save()
        if "polarity" in changed:
            refresh_positions([measure.pk])
        audit(actor=actor, actor_label="" if actor else "benchmarking", organisation=measure.owner,
              action="updated", obj=measure, before=before, after=snapshot(measure, MEASURE_FIELDS))
    return measure, False


@transaction.atomic
def add_code_mapping(*, old_code, new_code, note="", actor=None) -> CodeMapping:
    old, new = old_code.strip().upper(), new_code.strip().upper()
    if not old or not new or old == new:
        raise BenchmarkError("code", "enter two different codes")
    if actor is not None and not (actor.is_authenticated and actor.is_superuser):
        raise BenchmarkError("code", "only a site administrator may change the code mapping table")
    mapping, _ = CodeMapping.objects.update_or_create(old_code=old, defaults={"new_code": new, "note": note[:300]})
    audit(actor=actor, actor_label="" if actor else "benchmarking", action="mapped", obj=mapping,
          after={"old_code": old, "new_code": new, "note": note})
    return mapping


@transaction.atomic
def delete_code_mapping(*, actor=None, mapping: CodeMapping):
    if actor is not None and not (actor.is_authenticated and actor.is_superuser):
        raise BenchmarkError("code", "only a site administrator may change the code mapping table")
    audit(actor=actor, actor_label="" if actor else "benchmarking", action="deleted", obj=mapping,
          before={"old_code": mapping.old_code, "new_code": mapping.new_code, "note": mapping.note})
    mapping.delete()


# -- values ------------------------------------------------------------------------------------------

@dataclass
class ImportSummary:
    label: str = ""
    measures_created: int = 0
    organisations: int = 0
    organisations_created: int = 0
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    problems: list = field(default_factory=list)
    refused: bool = False

    @property
    def applied(self) -> bool:
        return not self.problems

    def as_dict(self):
        return {"label": self.label, "applied": self.applied, "measures_created": self.measures_created,
                "organisations": self.organisations, "organisations_created": self.organisations_created,
                "rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "missing": self.missing, "problems": [str(p) for p in self.problems]}

    def lines(self):
        if self.problems:
            yield f"Nothing loaded from {self.label}: {len(self.problems)} problem(s)"
            for p in self.problems:
                yield f"  {p}"
            return
        yield (f"Loaded {self.label}: {self.rows} rows for {self.organisations} organisations "
               f"({self.created} new, {self.updated} changed, {self.unchanged} unchanged; {self.missing} missing)")


class _Writer:
    """Creates, updates or leaves alone each value, in bulk: a second import of the same file changes nothing."""

    def __init__(self, measures, run, summary):
        self.run, self.summary = run, summary
        self.existing = {(v.measure_id, v.organisation_id, v.period): v
                         for v in MeasureValue.objects.filter(measure__in=measures)}
        self.new, self.changed = [], []

    def add(self, measure, org, period, start, value, note="", version=1):
        if value is not None:
            value = value.quantize(PLACES)  # as the database keeps it, so a second import compares equal
        summary = self.summary
        summary.rows += 1
        summary.missing += value is None
        existing = self.existing.get((measure.pk, org.pk, period))
        if existing is None:
            self.new.append(MeasureValue(measure=measure, organisation=org, period=period, period_sort=start,
                                         value=value, note=note, version=version))
            summary.created += 1
        elif existing.value != value or existing.period_sort != start or existing.version != version:
            existing.value, existing.period_sort, existing.version = value, start, version
            self.changed.append(existing)
            summary.updated += 1
        else:
            summary.unchanged += 1

    def save(self):
        if not (self.new or self.changed):
            return
        if self.run.pk is None:
            self.run.save()
        for v in self.new:
            v.import_run = self.run
        now = timezone.now()
        for v in self.changed:
            v.import_run, v.updated_at = self.run, now
        MeasureValue.objects.bulk_create(self.new, batch_size=1000)
        MeasureValue.objects.bulk_update(self.changed, ["value", "period_sort", "version", "import_run", "updated_at"],
                                         batch_size=1000)
        refresh_positions({v.measure_id for v in self.new + self.changed})


def save_reference_values(measures, reference, run=None) -> int:
    """Store areas that are not councils (England, regions) beside a measure's values: ``reference`` maps a
    measure code to {area code: {"name", "values": {period: value text or None}}}. Returns how many rows were
    created or changed (a second import of the same file changes nothing)."""
    changed = 0
    for code, areas in reference.items():
        measure = measures[code]
        existing = {(r.area_code, r.period): r for r in ReferenceValue.objects.filter(measure=measure)}
        for area_code, area in areas.items():
            for period, text in area["values"].items():
                value = None if text is None else Decimal(text).quantize(PLACES)
                row = existing.get((area_code, period))
                if row is None:
                    ReferenceValue.objects.create(measure=measure, area_code=area_code, area_name=area["name"][:200],
                                                  period=period, value=value, import_run=run)
                elif (row.value, row.area_name) != (value, area["name"][:200]):
                    row.value, row.area_name, row.import_run = value, area["name"][:200], run
                    row.save()
                else:
                    continue
                changed += 1
    return changed


def import_oflog(path=None, *, actor=None) -> ImportSummary:
    """Load the Oflog adult social care measures and values (idempotent: a second run changes nothing)."""
    path = Path(path or OFLOG_SAMPLE)
    summary = ImportSummary(label=path.name)
    rows, problems = importers.read_oflog(path)
    resolver = CodeResolver()
    targets = {}
    for r in rows:
        if not resolver.known(r.gss):
            problems.append(Problem(r.row, "Local authority code", f"unknown organisation code {r.gss} ({r.name})"))
            continue
        org_id, la_code = resolver.peek(r.gss)
        key = (r.code, org_id or la_code, r.period)
        if key in targets:
            problems.append(Problem(r.row, "Local authority code", f"{r.gss} {r.period} is the same organisation "
                                    f"and period as row {targets[key]} (after code mapping)"))
        targets[key] = r.row
    if problems:
        summary.problems = problems
        return summary
    with transaction.atomic():
        run = ImportRun(kind="oflog", label=path.name, actor=actor if actor and actor.is_authenticated else None)
        measures = {}
        for code, (name, definition, unit, polarity, note) in importers.OFLOG_MEASURES.items():
            measure, created = define_measure(data={
                "code": code, "name": name, "definition": definition, "unit": unit, "polarity": polarity,
                "polarity_note": note, "source": importers.OFLOG_SOURCE, "source_url": importers.OFLOG_URL,
                "licence": importers.OFLOG_LICENCE})
            measures[code] = measure
            summary.measures_created += created
        before = Organisation.objects.count()
        orgs = {}
        writer = _Writer(list(measures.values()), run, summary)
        for r in rows:
            org = orgs.get(r.gss) or resolver.resolve(r.gss)
            orgs[r.gss] = org
            writer.add(measures[r.code], org, r.period, r.period_sort, r.value,
                       note="" if r.value is not None else "blank in the source")
        writer.save()
        summary.organisations = len({o.pk for o in orgs.values()})
        summary.organisations_created = Organisation.objects.count() - before
        if summary.created or summary.updated or summary.measures_created:
            run.counts = summary.as_dict()
            run.save()
            audit(actor=actor, actor_label="" if actor else "oflog import", action="imported", obj=run,
                  after={k: v for k, v in summary.as_dict().items() if k != "problems"})
        elif run.pk:
            run.delete()
    return summary


def participants(measure) -> dict:
    """{organisation id: version} of the councils using a local value measure: its owner (always on the latest
    version) and its adopters (on the version each adopted)."""
    out = dict(Adoption.objects.filter(measure=measure).values_list("organisation_id", "version"))
    if measure.owner_id is not None:
        out[measure.owner_id] = measure.version
    return out


def upload_refusal(actor, measure) -> str | None:
    """Why the actor may not submit values for this measure at all (None: they may, for some councils).

    National and source measures (no owner) take values only from site administrators and the command line
    (``actor`` None): a council cannot overwrite a published figure. A local value measure takes values, once
    published, from the admins and commissioners of the councils using it, each for their own council."""
    if measure.is_local and measure.status != Measure.Status.PUBLISHED:
        return f"{measure.code} is {measure.get_status_display().lower()}: values can be recorded only while it " \
               "is published"
    if actor is None or (actor.is_authenticated and actor.is_superuser):
        return None
    if not measure.is_local:
        return (f"{measure.code} is a national measure from its source: only site administrators may load its "
                "values")
    if not actor.is_authenticated:
        return "sign in to record values"
    if not set(tenancy.member_org_ids(actor, tenancy.EDIT_ROLES)) & set(participants(measure)):
        return (f"only the admins and commissioners of the councils using {measure.code} may record its values: "
                "adopt it first")
    return None


def may_upload(actor, measure) -> bool:
    return actor is not None and actor.is_authenticated and upload_refusal(actor, measure) is None


def log_refusal(actor, measure, attempt, **extra):
    """Record a refused attempt in the audit trail (nothing for the command line or an anonymous visitor)."""
    if actor is not None and actor.is_authenticated:
        own = Organisation.objects.filter(pk__in=tenancy.member_org_ids(actor)).first()
        audit(actor=actor, organisation=own, action="refused", obj=measure, after={"attempt": attempt, **extra})


def import_tidy_csv(source, *, measure: Measure, actor=None, label="") -> ImportSummary:
    """Load a tidy CSV (organisation code, period, value) for one measure: all or nothing.

    National measures: site administrators and the command line only (``upload_refusal``). Local value
    measures: only rows for the councils using the measure, and a council's user (admin or commissioner) only
    for their own council; each value is stored under the version its council uses.
    """
    summary = ImportSummary(label=label or getattr(source, "name", "upload"))
    refusal = upload_refusal(actor, measure)
    if refusal is not None:
        summary.problems, summary.refused = [Problem(0, "measure", refusal)], True
        log_refusal(actor, measure, "submit benchmarking values", reason=refusal, file=summary.label[:200])
        return summary
    using = participants(measure) if measure.is_local else None
    parsed = importers.read_tidy_csv(source)
    problems = list(parsed.problems)
    resolver = CodeResolver()
    refused = set()
    targets = {}
    for r in parsed.rows:
        if not resolver.known(r.code):
            problems.append(Problem(r.row, "organisation code", f"unknown organisation code '{r.code[:20]}'"))
            continue
        org_id, la_code = resolver.peek(r.code)
        key = (org_id or la_code, r.period)
        if key in targets:
            problems.append(Problem(r.row, "organisation code", f"duplicate: {r.code} {r.period} is the same "
                                    f"organisation and period as row {targets[key]} (after code mapping)"))
            continue
        targets[key] = r.row
        if using is not None and org_id not in using:
            problems.append(Problem(r.row, "organisation code", f"{r.code} does not use {measure.code}: a council "
                                    "adopts the measure before it records values"))
            continue
        if actor is not None and not tenancy.can_edit(actor, org_id):
            problems.append(Problem(r.row, "organisation code", f"you may only submit values for your own "
                                    f"council, not {r.code}"))
            refused.add(r.code)
    kinds = {"calendar" if "-" not in r.period else "financial" for r in parsed.rows}
    kinds |= {"calendar" if "-" not in p else "financial"
              for p in measure.values.values_list("period", flat=True).distinct()}
    if len(kinds) > 1:
        problems.append(Problem(0, "period", "financial years (2022-23) and calendar years (2023) are mixed for "
                                             f"{measure.code}: use one kind of period"))
    if problems:
        summary.problems = problems
        summary.refused = bool(refused)
        if refused:
            log_refusal(actor, measure, "submit benchmarking values", codes=sorted(refused)[:50], file=summary.label)
        return summary
    with transaction.atomic():
        run = ImportRun.objects.create(kind="csv", label=summary.label[:300],
                                       actor=actor if actor is not None and actor.is_authenticated else None)
        orgs = set()
        writer = _Writer([measure], run, summary)
        for r in parsed.rows:
            org = resolver.resolve(r.code)
            orgs.add(org.pk)
            writer.add(measure, org, r.period, r.period_sort, r.value,
                       version=using[org.pk] if using is not None else measure.version)
        writer.save()
        summary.organisations = len(orgs)
        run.counts = summary.as_dict()
        run.save()
        audit(actor=actor, actor_label="" if actor else "csv import", action="imported", obj=run,
              organisation=None, after={"measure": measure.code, **{k: v for k, v in summary.as_dict().items()
                                                                    if k != "problems"}})
    return summary


# -- local value measures ----------------------------------------------------------------------------

LOCAL_FIELDS = ["code", "kind", "status", "name", "definition", "unit", "polarity", "collection", "synthetic",
                "version", "owner"]
MEANING = ("definition", "unit", "polarity", "collection")  # a change to any of these is a new version
LIMITS = {"name": 300, "definition": 5000, "unit": 60, "collection": 5000}
MAX_NOTE = 200


def _clean_local(data) -> dict:
    """The fields of a local value measure from user input; BenchmarkError naming the first bad one."""
    out = {}
    for key, limit in LIMITS.items():
        value = str(data.get(key) or "").strip()
        if "\x00" in value:
            raise BenchmarkError(key, "remove the null character")
        if len(value) > limit:
            raise BenchmarkError(key, f"use at most {limit:,} characters (this has {len(value):,})")
        out[key] = value
    if not out["name"]:
        raise BenchmarkError("name", "enter the measure's name")
    if not out["definition"]:
        raise BenchmarkError("definition", "enter the definition: what is counted, and how it is worked out")
    if not out["unit"]:
        raise BenchmarkError("unit", "enter the unit, for example % or £ per resident")
    if not out["collection"]:
        raise BenchmarkError("collection", "say how the values are collected")
    polarity = str(data.get("polarity") or "").strip().lower()
    if polarity not in Polarity.values:
        raise BenchmarkError("polarity", "choose whether higher or lower is better (or neither)")
    out["polarity"] = polarity
    return out


def _require_edit(actor, org, measure_or_org, attempt):
    """NotAllowed (audited) unless the actor may act for ``org`` (None actor: the command line)."""
    if actor is None or tenancy.can_edit(actor, org.pk):
        return
    log_refusal(actor, measure_or_org, attempt, organisation=org.la_code or org.slug)
    raise NotAllowed("organisation", f"only the admins and commissioners of {org.name} may {attempt}")


def require_owner(*, actor, measure, attempt):
    """NotAllowed (audited) unless the actor may manage this local measure (its owner's editors)."""
    _local(measure)
    _require_edit(actor, measure.owner, measure, attempt)


def _version_row(measure, actor):
    MeasureVersion.objects.update_or_create(
        measure=measure, version=measure.version,
        defaults={"name": measure.name, "definition": measure.definition, "unit": measure.unit,
                  "polarity": measure.polarity, "collection": measure.collection,
                  "created_by": actor if actor is not None and actor.is_authenticated else None})


def _label(actor):
    return "" if actor else "benchmarking"


def define_local_measure(*, actor=None, owner: Organisation, data, synthetic=False) -> Measure:
    """A council's new local value measure, as a draft, with a code of its own (LV-<la_code>-<n>)."""
    _require_edit(actor, owner, owner, "define local value measures")
    fields = _clean_local(data)
    with transaction.atomic():
        prefix = f"LV-{(owner.la_code or str(owner.pk)).upper()}-"
        taken = [int(c[len(prefix):]) for c in Measure.objects.filter(code__startswith=prefix)
                 .values_list("code", flat=True) if c[len(prefix):].isdigit()]
        measure = Measure.objects.create(
            code=f"{prefix}{max(taken, default=0) + 1}", kind=Measure.Kind.LOCAL, status=Measure.Status.DRAFT,
            owner=owner, version=1, synthetic=bool(synthetic),
            source=f"{owner.name} (local value measure)", **fields)
        audit(actor=actor, actor_label=_label(actor), organisation=owner, action="created", obj=measure,
              after=snapshot(measure, LOCAL_FIELDS))
    return measure


def _local(measure):
    if not measure.is_local:
        raise BenchmarkError("measure", f"{measure.code} is not a local value measure")


def changes(measure, data) -> tuple[dict, bool]:
    """(the fields that would change, whether that makes a new version) for an edit of a local measure."""
    fields = _clean_local(data)
    changed = {k: v for k, v in fields.items() if getattr(measure, k) != v}
    new_version = measure.status != Measure.Status.DRAFT and bool(set(MEANING) & set(changed))
    return changed, new_version


def update_local_measure(*, actor=None, measure: Measure, data) -> tuple[Measure, bool]:
    """Edit a local measure: (measure, made a new version). A draft changes freely; once published, a change to
    its definition, unit, polarity or collection is version + 1 (adopters stay on theirs), a name alone is not."""
    require_owner(actor=actor, measure=measure, attempt="change this measure")
    if measure.status == Measure.Status.RETIRED:
        raise BenchmarkError("status", f"{measure.code} is retired: it cannot be changed")
    changed, new_version = changes(measure, data)
    if not changed:
        return measure, False
    with transaction.atomic():
        measure = Measure.objects.select_for_update().get(pk=measure.pk)
        before = snapshot(measure, LOCAL_FIELDS)
        for k, v in changed.items():
            setattr(measure, k, v)
        if new_version:
            measure.version += 1
        measure.save()
        if "polarity" in changed:
            refresh_positions([measure.pk])
        if measure.status == Measure.Status.PUBLISHED:
            _version_row(measure, actor)
        audit(actor=actor, actor_label=_label(actor), organisation=measure.owner,
              action="new version" if new_version else "updated", obj=measure, before=before,
              after=snapshot(measure, LOCAL_FIELDS))
    return measure, new_version


def _set_status(actor, measure, status, attempt, allowed_from):
    _local(measure)
    _require_edit(actor, measure.owner, measure, attempt)
    if measure.status == status:
        return measure  # twice is once
    if measure.status not in allowed_from:
        raise BenchmarkError("status", f"{measure.code} is {measure.get_status_display().lower()}: it cannot be "
                                       f"{status} now")
    with transaction.atomic():
        before = snapshot(measure, LOCAL_FIELDS)
        measure.status = status
        measure.save(update_fields=["status", "updated_at"])
        if status == Measure.Status.PUBLISHED:
            _version_row(measure, actor)
        audit(actor=actor, actor_label=_label(actor), organisation=measure.owner, action=status, obj=measure,
              before=before, after=snapshot(measure, LOCAL_FIELDS))
    return measure


def publish(*, actor=None, measure: Measure) -> Measure:
    """Publish a draft (or bring back a retired measure): other councils may then adopt it."""
    return _set_status(actor, measure, Measure.Status.PUBLISHED, "publish this measure",
                       (Measure.Status.DRAFT, Measure.Status.RETIRED))


def retire(*, actor=None, measure: Measure) -> Measure:
    """Retire a published measure: no new adoptions or values; what was recorded stays."""
    return _set_status(actor, measure, Measure.Status.RETIRED, "retire this measure", (Measure.Status.PUBLISHED,))


def adopt(*, actor=None, measure: Measure, organisation: Organisation) -> tuple[Adoption, bool]:
    """The council starts using a published local measure at its current version ((adoption, created);
    adopting twice changes nothing)."""
    _local(measure)
    _require_edit(actor, organisation, measure, "adopt measures for their council")
    if organisation.pk == measure.owner_id:
        raise BenchmarkError("organisation", f"{organisation.name} defined {measure.code}: it uses it already")
    existing = Adoption.objects.filter(measure=measure, organisation=organisation).first()
    if existing is not None:
        return existing, False
    if measure.status != Measure.Status.PUBLISHED:
        raise BenchmarkError("status", f"{measure.code} is {measure.get_status_display().lower()}: only a "
                                       "published measure can be adopted")
    with transaction.atomic():
        adoption = Adoption.objects.create(measure=measure, organisation=organisation, version=measure.version,
                                           adopted_by=actor if actor is not None and actor.is_authenticated
                                           else None)
        audit(actor=actor, actor_label=_label(actor), organisation=organisation, action="adopted", obj=measure,
              after={"organisation": organisation.la_code or organisation.slug, "version": adoption.version})
    return adoption, True


def _adoption(actor, measure, organisation, attempt):
    _local(measure)
    _require_edit(actor, organisation, measure, attempt)
    adoption = Adoption.objects.filter(measure=measure, organisation=organisation).first()
    if adoption is None:
        raise BenchmarkError("organisation", f"{organisation.name} does not use {measure.code}")
    return adoption


def move_to_latest(*, actor=None, measure: Measure, organisation: Organisation) -> Adoption:
    """An adopter moves to the measure's latest version (its earlier values keep their version)."""
    adoption = _adoption(actor, measure, organisation, "change which version their council uses")
    if adoption.version == measure.version:
        return adoption
    with transaction.atomic():
        before = adoption.version
        adoption.version = measure.version
        adoption.save(update_fields=["version"])
        audit(actor=actor, actor_label=_label(actor), organisation=organisation, action="moved version",
              obj=measure, before={"version": before}, after={"version": adoption.version})
    return adoption


def withdraw_adoption(*, actor=None, measure: Measure, organisation: Organisation) -> None:
    """The council stops using the measure; the values it recorded stay (shown, but no new ones)."""
    adoption = _adoption(actor, measure, organisation, "stop using measures for their council")
    with transaction.atomic():
        version = adoption.version
        adoption.delete()
        audit(actor=actor, actor_label=_label(actor), organisation=organisation, action="withdrew", obj=measure,
              before={"organisation": organisation.la_code or organisation.slug, "version": version})


@dataclass
class Recorded:
    value: MeasureValue
    created: bool
    changed: bool


def record_value(*, actor=None, measure: Measure, organisation: Organisation, period, value, note="") -> Recorded:
    """One value of a local measure for one council and period, under the version the council uses.

    The same submission twice changes nothing (and is not audited twice); a different value for the period
    replaces the earlier one (audited with both)."""
    _local(measure)
    if measure.status != Measure.Status.PUBLISHED:
        raise BenchmarkError("measure", upload_refusal(None, measure))
    _require_edit(actor, organisation, measure, "record values for their council")
    refusal = upload_refusal(actor, measure)
    if refusal is not None:
        log_refusal(actor, measure, "record values", reason=refusal)
        raise NotAllowed("organisation", refusal)
    version = participants(measure).get(organisation.pk)
    if version is None:
        raise BenchmarkError("organisation", f"{organisation.name} does not use {measure.code}: adopt it first")
    try:
        label, start = importers.normalise_period(period)
    except ValueError as e:
        raise BenchmarkError("period", str(e)) from None
    try:
        number = importers.parse_value(value)
    except ValueError as e:
        raise BenchmarkError("value", str(e)) from None
    if number is None:
        raise BenchmarkError("value", "enter a number (leave the period out if there is no value)")
    number = number.quantize(PLACES)
    note = str(note or "").strip()
    if len(note) > MAX_NOTE:
        raise BenchmarkError("note", f"use at most {MAX_NOTE} characters (this has {len(note):,})")
    kinds = {"calendar" if "-" not in p else "financial"
             for p in measure.values.exclude(period=label).values_list("period", flat=True).distinct()}
    if kinds and ("calendar" if "-" not in label else "financial") not in kinds:
        raise BenchmarkError("period", f"{measure.code} has {kinds.pop()} years: use the same kind of period")
    with transaction.atomic():
        existing = (MeasureValue.objects.select_for_update()
                    .filter(measure=measure, organisation=organisation, period=label).first())
        if existing is not None and (existing.value, existing.version, existing.note) == (number, version, note):
            return Recorded(existing, False, False)
        before = None if existing is None else {"value": str(existing.value), "version": existing.version,
                                                "note": existing.note}
        if existing is None:
            existing = MeasureValue.objects.create(measure=measure, organisation=organisation, period=label,
                                                   period_sort=start, value=number, note=note, version=version)
        else:
            existing.value, existing.version, existing.note, existing.period_sort = number, version, note, start
            existing.save()
        refresh_positions([measure.pk])
        audit(actor=actor, actor_label=_label(actor), organisation=organisation, action="recorded", obj=measure,
              before=before, after={"organisation": organisation.la_code or organisation.slug, "period": label,
                                    "value": str(number), "version": version, "note": note})
    return Recorded(existing, before is None, True)


DEMO_SOURCE = "synthetic demo values (made up, seeded): not real data"
DEMO_MEASURES = [
    ("DNC", {"name": "Share of contract spend with local VCSE organisations",
             "definition": "Spend on contracts with voluntary, community and social enterprise organisations based "
                           "in the borough, as a percentage of all contract spend in the financial year.",
             "unit": "%", "polarity": "higher",
             "collection": "From the council's spend over £500 data, matched to the local VCSE directory; "
                           "collected once a year by the procurement team."},
     ["MRT", "LDS", "TRF"]),
    ("LDS", {"name": "Apprenticeships created through council contracts per £1m of contract spend",
             "definition": "New apprenticeship starts reported by suppliers under social value commitments, per "
                           "£1 million of contract spend in the financial year.",
             "unit": "starts per £1m", "polarity": "higher",
             "collection": "Suppliers' social value returns, checked by contract managers at the annual review."},
     ["MRT", "DNC"]),
]
DEMO_PERIODS = ["2022-23", "2023-24"]


def demo_local_measures() -> list[Measure]:
    """Two example local value measures, published and adopted by other councils, with synthetic values
    (seeded, labelled synthetic). A second run changes nothing."""
    import random

    from commissioner.orgs.services import council_organisation

    out = []
    for owner_code, data, adopters in DEMO_MEASURES:
        owner = council_organisation(owner_code)
        measure = Measure.objects.filter(kind=Measure.Kind.LOCAL, owner=owner, name=data["name"]).first()
        if measure is None:
            measure = define_local_measure(owner=owner, data=data, synthetic=True)
            measure.source, measure.licence = DEMO_SOURCE, "OGL v3.0"
            measure.save(update_fields=["source", "licence"])
        publish(measure=measure)
        rng = random.Random(f"{owner_code}:{data['name']}")
        for code in [owner_code, *adopters]:
            org = council_organisation(code)
            if org.pk != owner.pk:
                adopt(measure=measure, organisation=org)
            for period in DEMO_PERIODS:
                record_value(measure=measure, organisation=org, period=period,
                             value=str(round(rng.uniform(2, 30), 1)), note="synthetic")
        out.append(measure)
    return out


# -- peer groups -------------------------------------------------------------------------------------

@transaction.atomic
def save_peer_group(*, actor=None, owner: Organisation, name: str, codes, kind=PeerGroup.Kind.OWN,
                    source="", group: PeerGroup | None = None) -> PeerGroup:
    """A council's own (or imported, or computed) peer group from organisation codes; unknown codes are
    refused. Saving under an existing name replaces that group's members; ``group`` changes that group
    (its name included)."""
    if actor is not None and not tenancy.can_edit(actor, owner.pk):
        raise BenchmarkError("owner", "you may only save peer groups for your own council")
    name = str(name or "").strip()[:200]
    if not name:
        raise BenchmarkError("name", "enter the peer group's name")
    resolver = CodeResolver()
    codes = [str(c).strip().upper() for c in codes if str(c).strip()]
    unknown = [c for c in codes if not resolver.known(c)]
    if unknown:
        raise BenchmarkError("codes", f"unknown organisation code(s): {', '.join(c[:12] for c in unknown[:20])}")
    members = {resolver.resolve(c) for c in codes}
    members.discard(owner)
    if not members:
        raise BenchmarkError("codes", "enter at least one council other than the group's own")
    clash = PeerGroup.objects.filter(owner=owner, name=name).exclude(pk=getattr(group, "pk", None)).first()
    if group is not None and clash is not None:
        raise BenchmarkError("name", f"{owner.name} already has a peer group named '{name}'")
    created = False
    if group is None:
        group, created = PeerGroup.objects.get_or_create(owner=owner, name=name,
                                                         defaults={"kind": kind, "source": source[:300]})
    before = None if created else {"name": group.name,
                                   "members": sorted(m.gss_code or m.slug for m in group.members.all())}
    group.name, group.kind, group.source = name, kind, source[:300]
    group.save()
    group.members.set(members)
    audit(actor=actor, actor_label="" if actor else "benchmarking", organisation=owner, action="saved", obj=group,
          before=before, after={"name": name, "members": sorted(m.gss_code or m.slug for m in members),
                                "kind": kind, "source": source})
    return group


@transaction.atomic
def delete_peer_group(*, actor=None, group: PeerGroup):
    if actor is not None and not tenancy.can_edit(actor, group.owner_id):
        raise BenchmarkError("owner", "you may only delete your own council's peer groups")
    audit(actor=actor, actor_label="" if actor else "benchmarking", organisation=group.owner, action="deleted",
          obj=group, before={"name": group.name, "kind": group.kind,
                             "members": sorted(m.gss_code or m.slug for m in group.members.all())})
    group.delete()


def nearest_neighbour_codes(path, code) -> list[str]:
    """The neighbours of ``code`` in a nearest-neighbour JSON file ({code: [codes]}; the code itself and
    duplicates are dropped, order kept)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if code not in data:
        raise BenchmarkError("code", f"{code} is not in {Path(path).name}")
    out = []
    for c in data[code]:
        if c != code and c not in out:
            out.append(c)
    return out


def load_nearest_neighbours(*, actor=None, owner: Organisation, path, name="CIPFA nearest neighbours",
                            source="CIPFA Nearest Neighbours model (CIPFA's terms, not OGL)") -> PeerGroup:
    codes = nearest_neighbour_codes(path, owner.gss_code)
    return save_peer_group(actor=actor, owner=owner, name=name, codes=codes, kind=PeerGroup.Kind.IMPORTED,
                           source=source)
