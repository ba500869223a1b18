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
from commissioner.benchmarking.models import CodeMapping, ImportRun, Measure, MeasureValue, PeerGroup, Polarity
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

    def add(self, measure, org, period, start, value, note=""):
        if value is not None:
            value = value.quantize(PLACES)  # as the database keeps it, so a second import compares equal
        summary = self.summary
        summary.rows += 1
        summary.missing += value is None
        existing = self.existing.get((measure.pk, org.pk, period))
        if existing is None:
            self.new.append(MeasureValue(measure=measure, organisation=org, period=period, period_sort=start,
                                         value=value, note=note))
            summary.created += 1
        elif existing.value != value or existing.period_sort != start:
            existing.value, existing.period_sort = value, start
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
        MeasureValue.objects.bulk_update(self.changed, ["value", "period_sort", "import_run", "updated_at"],
                                         batch_size=1000)


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


def _may_submit(actor, org_id) -> bool:
    if actor is None:
        return True  # the command line: whoever runs it holds the database
    return tenancy.can_edit(actor, org_id)


def import_tidy_csv(source, *, measure: Measure, actor=None, label="") -> ImportSummary:
    """Load a tidy CSV (organisation code, period, value) for one measure: all or nothing.

    A council's user may only submit values for their own council (admins and commissioners);
    site administrators and the command line without --as may submit any council's.
    """
    summary = ImportSummary(label=label or getattr(source, "name", "upload"))
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
        if actor is not None and not _may_submit(actor, org_id):
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
        if refused and actor is not None and actor.is_authenticated:
            own = Organisation.objects.filter(pk__in=tenancy.member_org_ids(actor)).first()
            audit(actor=actor, organisation=own, action="refused", obj=measure,
                  after={"attempt": "submit benchmarking values", "codes": sorted(refused)[:50],
                         "file": summary.label})
        return summary
    with transaction.atomic():
        run = ImportRun.objects.create(kind="csv", label=summary.label[:300],
                                       actor=actor if actor is not None and actor.is_authenticated else None)
        orgs = set()
        writer = _Writer([measure], run, summary)
        for r in parsed.rows:
            org = resolver.resolve(r.code)
            orgs.add(org.pk)
            writer.add(measure, org, r.period, r.period_sort, r.value)
        writer.save()
        summary.organisations = len(orgs)
        run.counts = summary.as_dict()
        run.save()
        audit(actor=actor, actor_label="" if actor else "csv import", action="imported", obj=run,
              organisation=None, after={"measure": measure.code, **{k: v for k, v in summary.as_dict().items()
                                                                    if k != "problems"}})
    return summary


# -- peer groups -------------------------------------------------------------------------------------

@transaction.atomic
def save_peer_group(*, actor=None, owner: Organisation, name: str, codes, kind=PeerGroup.Kind.OWN,
                    source="") -> PeerGroup:
    """A council's own (or imported) peer group from organisation codes; unknown codes are refused."""
    if actor is not None and not tenancy.can_edit(actor, owner.pk):
        raise BenchmarkError("owner", "you may only save peer groups for your own council")
    name = str(name or "").strip()[:200]
    if not name:
        raise BenchmarkError("name", "enter the peer group's name")
    resolver = CodeResolver()
    codes = [str(c).strip().upper() for c in codes if str(c).strip()]
    unknown = [c for c in codes if not resolver.known(c)]
    if unknown:
        raise BenchmarkError("codes", f"unknown organisation code(s): {', '.join(unknown[:20])}")
    members = {resolver.resolve(c) for c in codes}
    members.discard(owner)
    group, _ = PeerGroup.objects.update_or_create(owner=owner, name=name,
                                                  defaults={"kind": kind, "source": source[:300]})
    group.members.set(members)
    audit(actor=actor, actor_label="" if actor else "benchmarking", organisation=owner, action="saved", obj=group,
          after={"members": sorted(m.gss_code or m.slug for m in members), "kind": kind, "source": source})
    return group


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
