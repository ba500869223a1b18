"""Long-format indicator files (the Trafford Data Lab corporate-plan layout) into measures and values.

A long file has one row per area, period, indicator and measure::

    area_code, area_name, period, indicator, measure, unit, value

Each (indicator, measure) pair becomes one ``Measure``. The Trafford Data Lab files shipped in
``data/samples/trafford/`` have hand-checked definitions, units and polarities (``TRAFFORD``);
any other pair gets a derived code (``IND-...``), the unit worked out from ``measure`` and
``unit``, and the polarity "none" until someone sets it. Note: the files' ``unit`` column holds a
subject ("Waste", "Persons"), not a unit, except "Tonnes" for the waste counts: the unit is "%"
for a Percentage, else taken from the subject ("tonnes", "people").

Periods: every period is read with ``importers.normalise_period`` ("2022/23" -> "2022-23", a
financial or academic year; "2023" stays a calendar year). A measure holds one kind of period:

* a known measure may have a rule for what its calendar labels mean (DfE's NEET series labels
  the December-to-February average by the year it ends in: "2023" is 2022-23);
* otherwise the kind already stored for the measure wins, else the kind of most of its rows in the
  file (financial on a tie); a row of the other kind cannot be placed (a calendar year 2023 could
  be 2022-23 or 2023-24) and is a problem: nothing is loaded.

Areas: councils (found by ``services.CodeResolver``) are loaded and ranked. England
(E92000001) and other national totals are not organisations we rank: they are reported in the
summary and kept, with their values, in the import record (``ImportRun.counts["reference"]``).
Electoral wards (E05) and other areas that are not councils are skipped and reported as "not a
council" (row numbers given). Any other unknown code, a duplicate row, text in a value or a
period that cannot be read is a problem: the whole file is checked first and nothing is loaded.
"""

import csv
import hashlib
import html
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from commissioner.benchmarking.importers import PeriodError, Problem, normalise_period, parse_value
from commissioner.benchmarking.models import ImportRun, Measure, MeasureValue, Polarity
from commissioner.benchmarking.services import (
    CodeResolver,
    ImportSummary,
    _Writer,
    define_measure,
    save_reference_values,
)
from commissioner.orgs.models import Organisation
from commissioner.orgs.services import audit
from commissioner.register.importers import decode, sniff_delimiter

TRAFFORD_SAMPLES = settings.BASE_DIR / "data" / "samples" / "trafford"
TRAFFORD_FILES = [
    "climate/household_waste_recycling.csv",
    "climate/household_waste_not_recycled.csv",
    "poverty/neet.csv",
    "poverty/real_living_wage.csv",
    "poverty/children_poverty.csv",
]
LICENCE = "OGL v3.0"
TRAFFORD_URL = "https://github.com/traffordDataLab/corporate_plan"
TRAFFORD_SOURCE = "Trafford Data Lab corporate plan indicators (traffordDataLab/corporate_plan, commit 7c6549cb)"
ATTRIBUTION = ("Contains data from Trafford Data Lab (traffordDataLab/corporate_plan) and public sector "
               "information (DEFRA, DfE, ONS, DWP/HMRC) licensed under the Open Government Licence v3.0.")

COLUMNS = ["area_code", "area_name", "period", "indicator", "measure", "unit", "value"]
REQUIRED = ["area_code", "period", "indicator", "measure", "value"]

# National totals: not ranked, kept as reference values in the import record.
REFERENCE_AREAS = {"E92": "country (England)", "K02": "United Kingdom", "K03": "Great Britain",
                   "K04": "England and Wales", "W92": "country (Wales)", "S92": "country (Scotland)",
                   "N92": "country (Northern Ireland)"}
# ONS geographies that are not councils: skipped and reported.
NOT_COUNCILS = {"E00": "output area", "E01": "lower layer super output area", "E02": "middle layer super output area",
                "E04": "parish", "E05": "electoral ward", "E11": "metropolitan county", "E12": "region",
                "E13": "inner or outer London", "E14": "parliamentary constituency", "E38": "sub-ICB location",
                "E54": "integrated care board", "E30": "travel to work area", "E63": "ward (statistical)"}

FINANCIAL, CALENDAR = "financial", "calendar"
AS_PUBLISHED = "as published"
YEAR_ENDING = "year ending"  # a calendar label Y means the year Y-1 to Y


def period_kind(label: str) -> str:
    return FINANCIAL if "-" in label else CALENDAR


def place_period(raw, rule=AS_PUBLISHED) -> tuple[str, int]:
    """(label, start year) for a period under a measure's rule; PeriodError if it cannot be read."""
    label, start = normalise_period(raw)
    if rule == YEAR_ENDING and period_kind(label) == CALENDAR:
        end = int(label)
        return f"{end - 1}-{end % 100:02d}", end - 1
    return label, start


def chosen_kind(kinds: Counter, stored: str | None = None) -> str:
    """The one kind of period a measure keeps: what it already holds, else most of the file's rows
    (financial years on a tie)."""
    if stored:
        return stored
    return CALENDAR if kinds[CALENDAR] > kinds[FINANCIAL] else FINANCIAL


@dataclass(frozen=True)
class Spec:
    code: str
    name: str
    unit: str
    polarity: str
    polarity_note: str
    definition: str
    source: str
    period_rule: str = AS_PUBLISHED
    period_note: str = ""


_AMONG_16 = (" The file covers Trafford and its 15 CIPFA nearest neighbours (2021 model), plus England: ranks "
             "here are among those 16 councils; England is a reference value, not ranked.")
_WASTE = "DEFRA ENV18 local authority collected waste statistics"
_FY = "financial years as published (2021/22 -> 2021-22)"

TRAFFORD = {
    ("household waste sent for reuse, recycling or composting", "percentage"): Spec(
        "TDL-WASTE-RECYCLED-PCT", "Household waste sent for reuse, recycling or composting", "%", Polarity.HIGHER,
        "more household waste reused, recycled or composted is better",
        "Percentage of household waste collected by the council that was sent for reuse, recycling or composting, "
        "by financial year (DEFRA ENV18)." + _AMONG_16, f"{_WASTE}, via {TRAFFORD_SOURCE}", period_note=_FY),
    ("household waste sent for reuse, recycling or composting", "frequency"): Spec(
        "TDL-WASTE-RECYCLED-TONNES", "Household waste sent for reuse, recycling or composting (tonnes)", "tonnes",
        Polarity.NONE, "a tonnage grows with the size of the council: context, neither higher nor lower is better",
        "Tonnes of household waste collected by the council that were sent for reuse, recycling or composting, "
        "by financial year (DEFRA ENV18). The file covers Trafford and its 15 CIPFA nearest neighbours "
        "(2021 model); it has no England row for tonnages.", f"{_WASTE}, via {TRAFFORD_SOURCE}", period_note=_FY),
    ("household waste not sent for reuse, recycling or composting", "percentage"): Spec(
        "TDL-WASTE-NOT-RECYCLED-PCT", "Household waste not sent for reuse, recycling or composting", "%",
        Polarity.LOWER, "less household waste left unrecycled is better",
        "Percentage of household waste collected by the council that was not sent for reuse, recycling or "
        "composting (residual waste), by financial year (DEFRA ENV18)." + _AMONG_16,
        f"{_WASTE}, via {TRAFFORD_SOURCE}", period_note=_FY),
    ("household waste not sent for reuse, recycling or composting", "frequency"): Spec(
        "TDL-WASTE-NOT-RECYCLED-TONNES", "Household waste not sent for reuse, recycling or composting (tonnes)",
        "tonnes", Polarity.NONE,
        "a tonnage grows with the size of the council: context, neither higher nor lower is better",
        "Tonnes of household waste collected by the council that were not sent for reuse, recycling or "
        "composting, by financial year (DEFRA ENV18). The file covers Trafford and its 15 CIPFA nearest "
        "neighbours (2021 model); it has no England row for tonnages.", f"{_WASTE}, via {TRAFFORD_SOURCE}",
        period_note=_FY),
    ("16 to 17 year olds not in education, employment or training (neet) or whose activity is not known",
     "percentage"): Spec(
        "TDL-NEET-OR-NOT-KNOWN-PCT",
        "16 to 17 year olds not in education, employment or training (NEET) or whose activity is not known", "%",
        Polarity.LOWER, "fewer young people NEET or not known is better",
        "Percentage of academic age 16 and 17 year olds who were not in education, employment or training, or "
        "whose activity was not known (DfE NEET and participation: local authority figures; the December to "
        "February average of the academic year)." + _AMONG_16,
        f"Department for Education, NEET and participation: local authority figures, via {TRAFFORD_SOURCE}",
        period_note="academic years as published (2022/23 -> 2022-23; the December to February window falls in "
                    "financial year 2022-23 too)"),
    ("16-17 year olds not in education, employment or training (neet)", "percentage"): Spec(
        "TDL-NEET-PCT", "16 to 17 year olds not in education, employment or training (NEET)", "%", Polarity.LOWER,
        "fewer young people NEET is better",
        "Percentage of academic age 16 and 17 year olds who were not in education, employment or training "
        "(DfE NEET and participation: local authority figures; the December to February average). Activity not "
        "known is not counted: see TDL-NEET-OR-NOT-KNOWN-PCT for the measure that counts it. The source labels each "
        "year by the year its window ends (2023 for December 2022 to February 2023): stored here as the academic "
        "year 2022-23, like its sibling measure (Thurrock, with no activity not known, has the same value in both "
        "every year only with this alignment)." + _AMONG_16,
        f"Department for Education, NEET and participation: local authority figures, via {TRAFFORD_SOURCE}",
        period_rule=YEAR_ENDING,
        period_note="published as the year its December to February window ends: 2023 is stored as 2022-23"),
    ("employees paid at or above the real living wage by work geography", "percentage"): Spec(
        "TDL-LIVING-WAGE-PCT", "Employees paid at or above the real living wage (by workplace)", "%",
        Polarity.HIGHER, "more employees paid at least the real living wage is better (the file counts those at or "
                         "above it, not those below)",
        "Percentage of employees working in the council's area who are paid at or above the real living wage set "
        "by the Living Wage Foundation (ONS Annual Survey of Hours and Earnings, April of each year)." + _AMONG_16,
        f"ONS Annual Survey of Hours and Earnings (ASHE), via {TRAFFORD_SOURCE}",
        period_note="calendar years as published (ASHE's reference date is in April of the year)"),
    ("children in relative low income families (under 16s)", "percentage"): Spec(
        "TDL-CHILD-POVERTY-REL-PCT", "Children in relative low income families (under 16s)", "%", Polarity.LOWER,
        "fewer children in low income families is better",
        "Percentage of children under 16 living in a family whose income is below 60% of the median income of the "
        "year, before housing costs; the family must have claimed Universal Credit, Tax Credits or Housing "
        "Benefit in the year (DWP/HMRC children in low income families). The file covers Trafford and its "
        "children's services statistical neighbours (not CIPFA's), plus England and Trafford's wards: ranks here "
        "are among those councils; England is a reference value and the wards are not loaded.",
        f"DWP/HMRC Children in low income families: local area statistics, via {TRAFFORD_SOURCE}",
        period_note=_FY),
    ("children in absolute low income families (under 16s)", "percentage"): Spec(
        "TDL-CHILD-POVERTY-ABS-PCT", "Children in absolute low income families (under 16s)", "%", Polarity.LOWER,
        "fewer children in low income families is better",
        "Percentage of children under 16 living in a family whose income is below 60% of the 2010/11 median income "
        "adjusted for inflation, before housing costs; the family must have claimed Universal Credit, Tax Credits "
        "or Housing Benefit in the year (DWP/HMRC children in low income families). The file covers Trafford and "
        "its children's services statistical neighbours (not CIPFA's), plus England: ranks here are among those "
        "councils; England is a reference value.",
        f"DWP/HMRC Children in low income families: local area statistics, via {TRAFFORD_SOURCE}",
        period_note=_FY),
}

TRAFFORD_CODES = {spec.code for spec in TRAFFORD.values()}
SUBJECT_UNITS = {"tonnes": "tonnes", "persons": "people", "people": "people", "households": "households",
                 "pounds": "£", "gbp": "£"}


def unit_for(measure: str, subject: str) -> str:
    """A real unit: "%" for a percentage, else from the subject column ("Tonnes" -> "tonnes", "Persons" -> "people")."""
    m, s = measure.strip().lower(), subject.strip().lower()
    if m in ("percentage", "percent", "%", "proportion (%)"):
        return "%"
    unit = SUBJECT_UNITS.get(s, s)
    if m in ("rate", "rate per 1,000", "rate per 100,000"):
        return f"{m} {unit}".strip()[:60]
    return unit[:60]


def derived_code(indicator: str, measure: str) -> str:
    """A stable code for a pair we have no spec for: IND-<indicator words>-<PCT|N|...>, at most 40 characters."""
    words = re.findall(r"[A-Z0-9]+", indicator.upper())
    suffix = {"PERCENTAGE": "PCT", "FREQUENCY": "N", "COUNT": "N", "RATE": "RATE"}.get(
        measure.strip().upper(), "".join(re.findall(r"[A-Z0-9]+", measure.upper()))[:6] or "V")
    code = "-".join(["IND", *words, suffix])
    if len(code) > 40:
        digest = hashlib.sha1(f"{indicator.strip().lower()}|{measure.strip().lower()}".encode()).hexdigest()[:6]
        keep = 40 - len(suffix) - len(digest) - 2
        code = f"{'-'.join(['IND', *words])[:keep].rstrip('-')}-{digest}-{suffix}"
    return code


def read_metadata(csv_path) -> dict:
    """The title, plain text and first source link of ``metadata/<name>.md`` beside a file (empty if none)."""
    path = Path(csv_path)
    for candidate in (path.parent / "metadata" / f"{path.stem}.md", path.with_suffix(".md")):
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8", errors="replace")
            break
    else:
        return {}
    links = re.findall(r'href="([^"]+)"', text)
    title, paragraphs = "", []
    for block in re.split(r"\n\s*\n", text):
        plain = html.unescape(re.sub(r"<[^>]+>", "", block)).strip()
        plain = re.sub(r"\s+", " ", plain)
        if not plain or plain.startswith("Note: the following links") or "download" in block.lower():
            continue
        if plain.startswith("#"):
            title = title or plain.lstrip("# ").rstrip(".")
            continue
        paragraphs.append(plain)
    return {"title": title, "text": " ".join(paragraphs), "source_url": links[0] if links else ""}


@dataclass
class LongRow:
    row: int
    area_code: str
    area_name: str
    raw_period: str
    indicator: str
    measure: str
    subject: str
    raw_value: str


@dataclass
class IndicatorSummary(ImportSummary):
    """What an indicator file import did: the usual counts, the measures, and the rows not loaded as values."""

    file_rows: int = 0
    measures: dict = field(default_factory=dict)  # code -> {name, unit, polarity, rows, councils, periods, rule}
    reference: dict = field(default_factory=dict)  # code -> {area_code: {"name", "values": {period: value}}}
    reference_changed: int = 0  # reference rows created or changed
    skipped: dict = field(default_factory=dict)  # reason -> [row numbers]

    @property
    def reference_rows(self) -> int:
        return sum(len(a["values"]) for m in self.reference.values() for a in m.values())

    @property
    def skipped_rows(self) -> int:
        return sum(len(rows) for rows in self.skipped.values())

    def as_dict(self):
        return {**super().as_dict(), "file_rows": self.file_rows, "measures": self.measures,
                "reference_rows": self.reference_rows, "reference": self.reference,
                "skipped_rows": self.skipped_rows, "skipped": {k: _ranges(v) for k, v in self.skipped.items()}}

    def lines(self):
        yield from super().lines()
        if self.problems:
            return
        for code, m in self.measures.items():
            yield (f"  {code}: {m['rows']} values for {m['councils']} councils, {len(m['periods'])} periods "
                   f"{m['periods'][0]} to {m['periods'][-1]} ({m['rule']})")
        for code, areas in self.reference.items():
            for area, ref in areas.items():
                yield (f"  not ranked: {len(ref['values'])} {code} values for {ref['name']} ({area}), a national "
                       "total kept as a reference value in the import record")
        for reason, rows in self.skipped.items():
            yield f"  skipped {len(rows)} rows: {reason} (rows {_ranges(rows)})"


def _ranges(rows) -> str:
    """"2-4, 7" for [2, 3, 4, 7]."""
    out, rows = [], sorted(rows)
    start = prev = None
    for r in rows + [None]:
        if start is not None and r == prev + 1:
            prev = r
            continue
        if start is not None:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
        start = prev = r
    return ", ".join(out)


def read_long_csv(data: bytes) -> tuple[list, list, int]:
    """(rows, problems, number of data rows) of a long-format file: header and blank cells checked; nothing
    else decided here."""
    text, _ = decode(data)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text)))
    while records and not any(c.strip() for c in records[0]):
        records.pop(0)
    if not records:
        return [], [Problem(0, "file", "the file is empty")], 0
    header = [h.strip().lower().replace(" ", "_") for h in records[0]]
    where = {name: header.index(name) for name in COLUMNS if name in header}
    missing = [name for name in REQUIRED if name not in where]
    if missing:
        return [], [Problem(1, "header", f"no {', '.join(missing)} column (a long-format file has "
                                         f"{', '.join(COLUMNS)}; found {', '.join(h for h in header if h)[:200]})")], 0
    rows, problems, count = [], [], 0
    for number, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        count += 1

        def cell(name, cells=cells):
            i = where.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        row = LongRow(number, cell("area_code").upper(), cell("area_name"), cell("period"), cell("indicator"),
                      cell("measure"), cell("unit"), cell("value"))
        blank = [name for name in ("area_code", "period", "indicator", "measure") if not getattr(
            row, {"period": "raw_period"}.get(name, name))]
        for name in blank:
            problems.append(Problem(number, name, f"no {name.replace('_', ' ')}"))
        if not blank:
            rows.append(row)
    if not rows and not problems:
        problems.append(Problem(0, "file", "no rows of data"))
    return rows, problems, count


def _spec(row, metadata) -> Spec:
    key = (row.indicator.lower(), row.measure.lower())
    if key in TRAFFORD:
        return TRAFFORD[key]
    name = row.indicator if row.measure.lower() == "percentage" else f"{row.indicator} ({row.measure.lower()})"
    definition = metadata.get("text") or f"{row.indicator}: {row.measure.lower()}."
    return Spec(derived_code(row.indicator, row.measure), name[:300], unit_for(row.measure, row.subject),
                Polarity.NONE, "not stated by the file: set the polarity on the measure", definition,
                "long-format indicator file", period_note="as published")


def import_long_csv(path, *, actor=None, label="") -> IndicatorSummary:
    """Load one long-format indicator file: all or nothing, idempotent (a second import changes nothing).

    Only a site administrator (or the command line, actor None) may: the file holds many councils' values.
    """
    path = Path(path)
    summary = IndicatorSummary(label=label or path.name)
    if actor is not None and not (actor.is_authenticated and actor.is_superuser):
        summary.problems = [Problem(0, "file", "only a site administrator may import indicator files (they hold "
                                               "many councils' values)")]
        summary.refused = True
        return summary
    try:
        data = path.read_bytes()
    except OSError as e:
        summary.problems = [Problem(0, "file", f"cannot read {path.name}: {e.strerror or e}")]
        return summary
    rows, problems, summary.file_rows = read_long_csv(data)
    metadata = read_metadata(path)
    resolver = CodeResolver()
    specs, by_measure = {}, defaultdict(list)
    loaded = []  # (row, spec, value, kind of area, organisation key)
    for r in rows:
        prefix = r.area_code[:3]
        if resolver.known(r.area_code):
            area = "council"
        elif prefix in REFERENCE_AREAS:
            area = "reference"
        elif prefix in NOT_COUNCILS:
            summary.skipped.setdefault(f"{NOT_COUNCILS[prefix]} ({prefix}...): not a council", []).append(r.row)
            continue
        else:
            problems.append(Problem(r.row, "area_code", f"unknown organisation code {r.area_code[:20]}"
                                    + (f" ({r.area_name[:60]})" if r.area_name else "")))
            continue
        try:
            value = parse_value(r.raw_value)
        except ValueError as e:
            problems.append(Problem(r.row, "value", str(e)))
            continue
        spec = _spec(r, metadata)
        if spec.code in specs and specs[spec.code][1] != (r.indicator.lower(), r.measure.lower()):
            problems.append(Problem(r.row, "indicator", f"{r.indicator[:60]} / {r.measure} gives the same code "
                                    f"{spec.code} as another indicator in the file: rename one"))
            continue
        specs.setdefault(spec.code, (spec, (r.indicator.lower(), r.measure.lower())))
        by_measure[spec.code].append((r, value, area))
    # Periods: one kind per measure.
    stored = {}
    for code, period in (MeasureValue.objects.filter(measure__code__in=list(specs))
                         .values_list("measure__code", "period").distinct()):
        stored.setdefault(code, period_kind(period))
    for code, items in by_measure.items():
        spec = specs[code][0]
        placed = []
        for r, value, area in items:
            try:
                placed.append((r, value, area, *place_period(r.raw_period, spec.period_rule)))
            except PeriodError as e:
                problems.append(Problem(r.row, "period", str(e)))
        kinds = Counter(period_kind(p[3]) for p in placed)
        kind = chosen_kind(kinds, stored.get(code))
        for r, value, area, period, start in placed:
            if period_kind(period) != kind:
                example = "2022-23" if kind == FINANCIAL else "2023"
                problems.append(Problem(r.row, "period", f"'{r.raw_period}' is a {period_kind(period)} year but "
                                        f"{code} holds {kind} years ({example}): it cannot be placed"
                                        + (" (2023 could be 2022-23 or 2023-24)" if kind == FINANCIAL else "")))
                continue
            loaded.append((r, spec, value, area, period, start))
    # Duplicates, after code mapping.
    seen = {}
    for r, spec, value, area, period, start in loaded:
        who = resolver.peek(r.area_code) if area == "council" else (None, r.area_code)
        key = (spec.code, who[0] or who[1], period)
        if key in seen:
            problems.append(Problem(r.row, "area_code", f"duplicate: {r.area_code} {period} {spec.code} is also on "
                                    f"row {seen[key]}" + (" (after code mapping)" if area == "council" else "")))
            continue
        seen[key] = r.row
    if problems:
        summary.problems = sorted(problems, key=lambda p: (p.row, p.column))
        return summary
    with transaction.atomic():
        run = ImportRun(kind="indicators", label=summary.label[:300],
                        actor=actor if actor is not None and actor.is_authenticated else None)
        measures = {}
        for code, (spec, _) in specs.items():
            existing = Measure.objects.filter(code=code).first()
            if existing is not None and code not in TRAFFORD_CODES:
                measures[code] = existing  # a derived measure: keep what an administrator set
                continue
            measures[code], created = define_measure(data={
                "code": code, "name": spec.name, "definition": spec.definition, "unit": spec.unit,
                "polarity": spec.polarity, "polarity_note": spec.polarity_note, "source": spec.source,
                "source_url": TRAFFORD_URL if code in TRAFFORD_CODES else metadata.get("source_url", "")[:200],
                "licence": LICENCE if code in TRAFFORD_CODES else ""})
            summary.measures_created += created
        before = Organisation.objects.count()
        writer = _Writer(list(measures.values()), run, summary)
        orgs, councils = {}, defaultdict(set)
        periods = defaultdict(set)
        for r, spec, value, area, period, start in loaded:
            periods[spec.code].add((start, period))
            if area == "reference":
                ref = summary.reference.setdefault(spec.code, {}).setdefault(
                    r.area_code, {"name": r.area_name or REFERENCE_AREAS[r.area_code[:3]], "values": {}})
                ref["values"][period] = None if value is None else _text(value)
                continue
            org = orgs.get(r.area_code) or resolver.resolve(r.area_code)
            orgs[r.area_code] = org
            councils[spec.code].add(org.pk)
            note = "" if value is not None else ("blank in the source" if not r.raw_value
                                                 else f"'{r.raw_value[:20]}' in the source (suppressed)")
            writer.add(measures[spec.code], org, period, start, value, note=note)
        writer.save()
        summary.reference_changed = save_reference_values(measures, summary.reference, run if run.pk else None)
        for code, (spec, _) in specs.items():
            summary.measures[code] = {
                "name": measures[code].name, "unit": measures[code].unit, "polarity": measures[code].polarity,
                "rows": sum(1 for item in loaded if item[1].code == code and item[3] == "council"),
                "councils": len(councils[code]), "periods": [p for _, p in sorted(periods[code])],
                "rule": spec.period_note or AS_PUBLISHED}
        summary.organisations = len({o.pk for o in orgs.values()})
        summary.organisations_created = Organisation.objects.count() - before
        if summary.created or summary.updated or summary.measures_created or summary.reference_changed:
            run.counts = summary.as_dict()
            run.save()
            audit(actor=actor, actor_label="" if actor else "indicator import", action="imported", obj=run,
                  after={k: v for k, v in summary.as_dict().items() if k not in ("problems", "reference")})
        elif run.pk:
            run.delete()
    return summary


def _text(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def load_trafford_samples(*, actor=None, write=None) -> list:
    """Import the five Trafford Data Lab files shipped in data/samples/trafford (idempotent).

    ``write``, if given, receives the report lines of each file that changed something or had a problem.
    """
    out = []
    for name in TRAFFORD_FILES:
        summary = import_long_csv(TRAFFORD_SAMPLES / name, actor=actor, label=f"trafford/{name}")
        out.append(summary)
        if write is not None and (summary.problems or summary.created or summary.updated):
            for line in summary.lines():
                write(line)
    return out
