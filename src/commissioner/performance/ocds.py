"""Contract KPIs and results as OCDS: the metrics extension plus the Cabinet Office UK extension.

Export (``export_performance``): one release per contract with KPIs, in an OCDS 1.1 release package.

- ``contracts[0].agreedMetrics[]``: one Metric per KPI (``id`` "kpi-<pk>", ``title`` = name,
  ``description`` = definition) with one target Observation (``id`` "target", ``measure`` = target,
  ``unit.name`` = unit, ``period`` = the contract's term when known).
- ``contracts[0].implementation.metrics[]``: the same Metric ``id`` with one Observation per current
  return (``id`` "return-<period start>", ``period``, ``measure`` = value, ``unit``, ``notes`` = evidence,
  ``measureClassification`` = {"id": met|slightlyBelow|below|significantlyBelow}, the UK extension's field).
  The id is per KPI and period, not per row: a correction is a new row, and a reader merging our
  releases by id must see the corrected value replace the old one, not a second result for the period.
- What no standard field holds is under ``x_commissioner``: the KPI's direction, tolerance, frequency,
  weight, Procurement Act flag and whether it is retired; the latest current assessment (the UK
  extension has no rating or assessment field: its UK9 support is ``measureClassification`` and the
  ``implementationNotice`` document type); and ``{"synthetic": true}`` on every metric, observation and
  assessment made by the demo's generator, with the package's ``x_note`` saying so.

Import (``import_performance``): a release package (or any shape ``ocds.reader`` reads) whose ocids are
contracts in our register. Per release, in one transaction: KPIs missing from the contract are created
from ``agreedMetrics`` (matched by title) through ``services.create_kpi``; results from
``implementation.metrics[].observations[]`` through ``services.submit_return`` (source OCDS). A result
already held for the period with the same value is skipped; with another value it is a conflict,
reported and left alone (a correction is made on the contract's page, with a reason). Everything
refused is reported with its file, position, ocid, field and reason; nothing raises on bad data.
"""

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from commissioner.methods import procurement
from commissioner.ocds import reader
from commissioner.orgs import tenancy
from commissioner.performance import services
from commissioner.performance.models import Assessment, Direction, Frequency, Kpi, KpiReturn
from commissioner.register.models import Contract

LONDON = ZoneInfo("Europe/London")
PLACES = Decimal("0.0001")  # KpiReturn.value and Kpi.target have 4 decimal places
MAX_TITLE = 200             # Kpi.name
MAX_NOTES = 5000            # KpiReturn.evidence, as services keep it
MAX_TEXT_NUMBER = 40        # a measure given as text (as the forms and the CSV upload)
BATCH = 200
RAW = "https://raw.githubusercontent.com"
EXTENSIONS = [  # the vendored commits (ocds/vendor/PROVENANCE.md)
    f"{RAW}/open-contracting-extensions/ocds_metrics_extension/fad91df868907e339e5b3b4af5c334e02b80fa4f/extension.json",
    f"{RAW}/cabinetoffice/ocds_uk_extension/aa0e43b84dfad0cb9b839a8135e0bc4b285d32fc/extension.json",
]
CLASSIFICATION_LABELS = {"met": "Met", "slightlyBelow": "Slightly below", "below": "Below",
                         "significantlyBelow": "Significantly below", "other": "Other"}
SYNTHETIC_NOTE = ("This package includes synthetic figures made by Commissioner's demo generator, not real "
                  "results: each such metric, observation and assessment has x_commissioner.synthetic = true.")


# -- export ------------------------------------------------------------------------------------------

def number(value):
    """A Decimal as a JSON number that reads back to the same Decimal (text if no float can)."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value.normalize())


def _moment(day, end=False):
    """A day as an OCDS date-time at UK local time: its start, or its last second."""
    at = dt.time(23, 59, 59) if end else dt.time(0, 0)
    return dt.datetime.combine(day, at, tzinfo=LONDON).isoformat()


def _period(start, end):
    out = {}
    if start:
        out["startDate"] = _moment(start)
    if end:
        out["endDate"] = _moment(end, end=True)
    return out


def _synthetic(obj, flag):
    if flag:
        obj.setdefault("x_commissioner", {})["synthetic"] = True
    return obj


def _metric_id(kpi):
    return f"kpi-{kpi.pk}"


def agreed_metric(kpi, contract):
    target = {"id": "target", "measure": number(kpi.target), "unit": {"name": kpi.unit}}
    if period := _period(contract.start_date, contract.end_date):
        target["period"] = period
    metric = {"id": _metric_id(kpi), "title": kpi.name}
    if kpi.definition:
        metric["description"] = kpi.definition
    metric["observations"] = [_synthetic(target, kpi.synthetic)]
    metric["x_commissioner"] = {
        "direction": kpi.direction, "tolerance": number(kpi.tolerance), "frequency": kpi.frequency,
        "weight": number(kpi.weight), "isActKpi": kpi.is_act_kpi, "active": kpi.is_active}
    return _synthetic(metric, kpi.synthetic)


def observation(ret, kpi):
    obs = {"id": f"return-{ret.period_start.isoformat()}", "period": _period(ret.period_start, ret.period_end),
           "measure": number(ret.value), "unit": {"name": kpi.unit}}
    if ret.evidence:
        obs["notes"] = ret.evidence
    if ret.classification:
        obs["measureClassification"] = {"id": ret.classification,
                                        "description": CLASSIFICATION_LABELS.get(ret.classification,
                                                                                 ret.classification)}
    return _synthetic(obs, ret.synthetic)


def assessment_json(a):
    out = {"rating": a.rating, "ratingLabel": procurement.RATING_LABELS.get(a.rating, a.rating),
           "proposedRating": a.proposed_rating, "kind": a.kind, "period": _period(a.period_start, a.period_end),
           "assessedOn": a.assessed_on.isoformat()}
    if a.proposed_score is not None:
        out["proposedScore"] = number(a.proposed_score)
    if a.reason:
        out["reason"] = a.reason
    if a.synthetic:
        out["synthetic"] = True
    return out


def _ocds_contract(compiled, contract):
    """(contract id, award id) from the compiled release we hold for the ocid, else made up from our pk."""
    contracts = [c for c in (compiled or {}).get("contracts") or [] if isinstance(c, dict) and c.get("id")]
    live = [c for c in contracts if c.get("status") not in ("cancelled", "terminated")] or contracts
    if live:
        chosen = live[0]
        award = chosen.get("awardID")
        return str(chosen["id"]), str(award if award not in (None, "") else chosen["id"])
    awards = [a for a in (compiled or {}).get("awards") or [] if isinstance(a, dict) and a.get("id")]
    own = f"contract-{contract.pk}"
    return own, str(awards[0]["id"]) if awards else own


def release_for(contract, kpis, assessment, compiled, now):
    contract_id, award_id = _ocds_contract(compiled, contract)
    ocds_contract = {"id": contract_id, "awardID": award_id}
    metrics = []
    for kpi in kpis:
        current = sorted((r for r in kpi.returns.all() if r.is_current), key=lambda r: r.period_start)
        if current:
            metrics.append(_synthetic({"id": _metric_id(kpi), "title": kpi.name,
                                       "observations": [observation(r, kpi) for r in current]}, kpi.synthetic))
    ocds_contract["agreedMetrics"] = [agreed_metric(k, contract) for k in kpis]
    if metrics:
        ocds_contract["implementation"] = {"metrics": metrics}
    if assessment is not None:
        ocds_contract["x_commissioner"] = {"assessment": assessment_json(assessment)}
    return {
        "ocid": contract.ocid,
        "id": f"commissioner-performance-{contract.pk}-{now:%Y%m%dT%H%M%SZ}",
        "date": now.isoformat(),
        "tag": ["contractUpdate", "implementationUpdate"] if metrics else ["contractUpdate"],
        "initiationType": "tender",
        "language": "en",
        "contracts": [ocds_contract],
    }


def _synthetic_included(contracts):
    ids = contracts.values("pk")
    return (Kpi.objects.filter(contract__in=ids, synthetic=True).exists()
            or KpiReturn.objects.filter(kpi__contract__in=ids, is_current=True, synthetic=True).exists()
            or Assessment.objects.filter(contract__in=ids, is_current=True, synthetic=True).exists())


def export_performance(contracts, out, *, user, operator=False):
    """Write an OCDS release package of the KPIs and results of ``contracts`` to ``out`` (binary).

    Only the contracts whose performance ``user`` may see are written (performance is never public).
    ``operator=True`` is for the command line without ``--as``: whoever runs it holds the database, and the
    caller has already narrowed ``contracts`` to one council's; ``user`` is then ignored.
    Returns {"releases", "kpis", "returns", "synthetic"}.
    """
    from commissioner.ocds.services import compiled_releases

    if not operator:
        contracts = tenancy.performance_contracts(contracts, user)
    pks = list(contracts.filter(kpis__isnull=False).values_list("pk", flat=True).distinct())
    scoped = Contract.objects.filter(pk__in=pks)
    now = timezone.now().astimezone(dt.UTC).replace(microsecond=0)
    synthetic = _synthetic_included(scoped)
    head = {"uri": "urn:commissioner:performance-export", "version": "1.1", "extensions": EXTENSIONS,
            "publishedDate": now.isoformat(), "publisher": {"name": "Commissioner export"},
            "license": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}
    if synthetic:
        head["x_note"] = SYNTHETIC_NOTE
    out.write(orjson.dumps(head)[:-1] + b',"releases":[')
    counts = {"releases": 0, "kpis": 0, "returns": 0, "synthetic": synthetic}
    ordered = list(scoped.order_by("ocid").values_list("pk", flat=True))
    for i in range(0, len(ordered), BATCH):
        batch = list(Contract.objects.filter(pk__in=ordered[i:i + BATCH]).order_by("ocid").prefetch_related(
            Prefetch("kpis", queryset=Kpi.objects.order_by("id").prefetch_related(
                Prefetch("returns", queryset=KpiReturn.objects.filter(is_current=True))))))
        compiled = compiled_releases([c.ocid for c in batch])
        latest = {}
        for a in Assessment.objects.filter(contract__in=batch, is_current=True).order_by("-assessed_on", "-id"):
            latest.setdefault(a.contract_id, a)
        for contract in batch:
            kpis = list(contract.kpis.all())
            release = release_for(contract, kpis, latest.get(contract.pk), compiled.get(contract.ocid), now)
            if counts["releases"]:
                out.write(b",")
            out.write(orjson.dumps(release))
            counts["releases"] += 1
            counts["kpis"] += len(kpis)
            counts["returns"] += sum(len(k.returns.all()) for k in kpis)
    out.write(b"]}\n")
    return counts


# -- import ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rejection:
    source: str
    position: str
    ocid: str | None
    field: str
    reason: str


@dataclass
class PerformanceImportSummary:
    releases: int = 0             # releases read
    contracts: int = 0            # releases applied to a contract in our register
    without_metrics: int = 0      # releases with no agreedMetrics nor implementation metrics (left alone)
    kpis_created: int = 0
    kpis_skipped: int = 0         # already on the contract (matched by title)
    returns_created: int = 0
    returns_skipped: int = 0      # already held for the period with the same value
    rejected: list = field(default_factory=list)  # Rejection

    def reject(self, source, position, ocid, field_, reason):
        self.rejected.append(Rejection(source, position, ocid, field_, reason))

    @property
    def created(self):
        return self.kpis_created + self.returns_created

    @property
    def skipped(self):
        return self.kpis_skipped + self.returns_skipped

    def as_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "rejected"} | {"rejected": len(self.rejected)}

    def lines(self):
        yield (f"read {self.releases} releases: {self.contracts} applied to contracts, {self.without_metrics} "
               f"without metrics, {len(self.rejected)} rejections")
        yield (f"KPIs: {self.kpis_created} created, {self.kpis_skipped} already present; results: "
               f"{self.returns_created} created, {self.returns_skipped} already present")
        for r in self.rejected[:200]:
            yield (f"rejected: {r.source}, {r.position}" + (f", ocid {r.ocid}" if r.ocid else "")
                   + (f", {r.field}" if r.field else "") + f": {r.reason}")
        if len(self.rejected) > 200:
            yield f"... and {len(self.rejected) - 200} more rejected"


class _Bad(ValueError):
    def __init__(self, field_, reason):
        super().__init__(reason)
        self.field, self.reason = field_, reason


def _short(value, n=40):
    text = str(value)
    return text if len(text) <= n else text[:n] + "…"


def parse_measure(obs, where):
    """The numeric result of an observation: ``measure`` (a number or numeric text), else ``value.amount``."""
    from commissioner.performance.upload import parse_value

    if "measure" in obs and obs["measure"] is not None:
        raw, at = obs["measure"], f"{where}.measure"
    elif isinstance(obs.get("value"), dict) and obs["value"].get("amount") is not None:
        raw, at = obs["value"]["amount"], f"{where}.value.amount"
    else:
        cls = obs.get("measureClassification")
        only = (f" (only a classification, '{_short(cls.get('id'))}')"
                if isinstance(cls, dict) and cls.get("id") else "")
        raise _Bad(f"{where}.measure", f"no numeric measure{only}: Commissioner keeps numeric results only")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise _Bad(at, f"must be a number, not {reader._kind(raw)}")
    if isinstance(raw, str) and len(raw) > MAX_TEXT_NUMBER:
        raise _Bad(at, f"'{_short(raw, 20)}' is too long to be a number ({len(raw):,} characters)")
    try:
        value = parse_value(raw if isinstance(raw, str) else repr(raw) if isinstance(raw, float) else str(raw))
    except services.PerformanceError as e:
        raise _Bad(at, e.message) from None
    return value.quantize(PLACES)


DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


MIDNIGHT = re.compile(r"\d{4}-\d{2}-\d{2}T00:00(:00(\.0+)?)?(Z|[+-]\d{2}:?\d{2})?")


def parse_day(raw, at):
    """The date part of an OCDS date-time (the publisher's local date), or None when absent."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not (m := DAY.match(raw)):
        raise _Bad(at, f"'{_short(raw)}' is not a date-time (YYYY-MM-DDThh:mm:ss±hh:mm)")
    try:
        day = dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise _Bad(at, f"'{_short(raw)}' is not a real date") from None
    if not dt.date(1900, 1, 1) <= day <= dt.date(2200, 12, 31):
        raise _Bad(at, f"'{_short(raw)}' is outside the years 1900 to 2200")
    return day


@dataclass(frozen=True)
class Period:
    start: dt.date | None
    end: dt.date | None
    exclusive_end: bool = False  # the end is a midnight: it may be the first moment after the period

    def ends(self):
        """The last days the end may mean: the day itself, or (a midnight) the day before."""
        return {self.end, self.end - dt.timedelta(days=1)} if self.exclusive_end else {self.end}

    def day(self):
        """A day inside the period."""
        if self.start:
            return self.start
        return self.end - dt.timedelta(days=1) if self.exclusive_end else self.end


def parse_period(obs, where):
    period = obs.get("period")
    if not isinstance(period, dict) or not (period.get("startDate") or period.get("endDate")):
        raise _Bad(f"{where}.period", "no period: each result needs period.startDate and period.endDate")
    start = parse_day(period.get("startDate"), f"{where}.period.startDate")
    end = parse_day(period.get("endDate"), f"{where}.period.endDate")
    if start and end and end < start:
        raise _Bad(f"{where}.period", f"ends ({end}) before it starts ({start})")
    exclusive = end is not None and bool(MIDNIGHT.fullmatch(period["endDate"])) and end != start
    return Period(start, end, exclusive)


def _frequency_from(periods):
    """monthly, quarterly or annual from the length of the first period that has both ends."""
    for p in periods:
        if p.start and p.end:
            days = (max(p.ends()) - p.start).days + 1
            return Frequency.MONTHLY if days <= 31 else Frequency.QUARTERLY if days <= 92 else Frequency.ANNUAL
    return Frequency.QUARTERLY


def _objects(value, at):
    """A list of objects at ``at`` (None: empty); raises _Bad for anything else."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(at, f"must be an array, not {reader._kind(value)}")
    return value


def _x(obj):
    x = obj.get("x_commissioner")
    return x if isinstance(x, dict) else {}


def _text(value, at, limit):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Bad(at, f"must be text, not {reader._kind(value)}")
    value = " ".join(value.split()) if limit == MAX_TITLE else value.strip()
    if len(value) > limit:
        raise _Bad(at, f"is {len(value):,} characters long: the most accepted is {limit:,}")
    return value


class _ContractImport:
    """One release applied to one contract (the caller holds the transaction)."""

    def __init__(self, summary, item, ocid, contract, actor):
        self.summary, self.item, self.ocid, self.contract, self.actor = summary, item, ocid, contract, actor
        self.kpis = list(contract.kpis.all().order_by("id"))
        self.by_metric_id = {}
        self.retire = []         # KPIs created here that the file says are retired (retired after their results)

    def reject(self, field_, reason):
        self.summary.reject(self.item.source, self.item.position, self.ocid, field_, reason)

    def find(self, title):
        fold = " ".join(title.split()).casefold()
        found = [k for k in self.kpis if " ".join(k.name.split()).casefold() == fold]
        if len(found) > 1:
            found = [k for k in found if k.is_active] or found
        if len(found) > 1:
            raise _Bad("title", f"{len(found)} KPIs of this contract are called '{_short(title, 60)}'")
        return found[0] if found else None

    # agreed metrics -> KPIs
    def agreed(self, metric, where, periods):
        title = _text(metric.get("title"), f"{where}.title", MAX_TITLE)
        if not title:
            raise _Bad(f"{where}.title", "no title: a KPI is matched and named by the metric's title")
        target, target_at = None, f"{where}.observations"
        observations = _objects(metric.get("observations"), f"{where}.observations")
        chosen = [(i, o) for i, o in enumerate(observations) if isinstance(o, dict) and o.get("id") == "target"] \
            or [(i, o) for i, o in enumerate(observations) if isinstance(o, dict)]
        if chosen:
            i, target_obs = chosen[0]
            target_at = f"{where}.observations[{i}]"
        try:
            kpi = self.find(title)
        except _Bad as e:
            raise _Bad(f"{where}.title", e.reason) from None
        if kpi is None and not chosen:
            raise _Bad(target_at, "no target observation: a KPI needs a target")
        if chosen:
            target = parse_measure(target_obs, target_at)
        if kpi is not None:
            self.summary.kpis_skipped += 1
            if target is not None and target != kpi.target:
                self.reject(f"{target_at}.measure", f"conflict: the KPI '{kpi.name}' has the target "
                                                    f"{kpi.target.normalize():f}, the file {target.normalize():f}: left "
                                                    "as it is (change the KPI on the contract's page)")
            return kpi
        unit = target_obs.get("unit") if isinstance(target_obs.get("unit"), dict) else {}
        unit_name = unit.get("name")
        if unit_name is None and isinstance(target_obs.get("value"), dict):
            unit_name = target_obs["value"].get("currency")
        x = _x(metric)
        data = {"name": title, "definition": _text(metric.get("description"), f"{where}.description", 10_000),
                "unit": _text(unit_name, f"{target_at}.unit.name", 40), "target": target,
                "direction": x.get("direction") or Direction.HIGHER,
                "tolerance": x.get("tolerance", 0), "frequency": x.get("frequency") or _frequency_from(periods),
                "weight": x.get("weight", 1), "is_act_kpi": x.get("isActKpi") is True}
        if data["tolerance"] is None:
            data["tolerance"] = 0
        for key in ("tolerance", "weight"):
            if isinstance(data[key], (bool, dict, list)):
                raise _Bad(f"{where}.x_commissioner.{key}", "must be a number")
        fields = {"name": f"{where}.title", "definition": f"{where}.description", "unit": f"{target_at}.unit.name",
                  "target": f"{target_at}.measure"}
        try:
            kpi = services.create_kpi(actor=self.actor, contract=self.contract, data=data,
                                      synthetic=x.get("synthetic") is True)
        except services.PerformanceError as e:
            raise _Bad(fields.get(e.field, f"{where}.x_commissioner.{e.field}"), e.message) from None
        self.kpis.append(kpi)
        if x.get("active") is False:
            self.retire.append(kpi)
        self.summary.kpis_created += 1
        return kpi

    # implementation observations -> returns
    def result(self, kpi, obs, where, synthetic_metric):
        period = parse_period(obs, where)
        value = parse_measure(obs, where)
        notes = _text(obs.get("notes"), f"{where}.notes", MAX_NOTES)
        try:
            bounds = services.return_period(kpi, period.day())
        except services.PerformanceError as e:
            raise _Bad(f"{where}.period", e.message) from None
        if period.start and period.end and (period.start != bounds[0] or bounds[1] not in period.ends()):
            raise _Bad(f"{where}.period", f"{period.start} to {period.end} is not one of the KPI's {kpi.frequency} "
                                          f"periods (the one holding {period.start} is {bounds[0]} to {bounds[1]})")
        held = KpiReturn.objects.filter(kpi=kpi, period_start=bounds[0], is_current=True).first()
        if held is not None:
            if held.value == value:
                self.summary.returns_skipped += 1
                return
            raise _Bad(f"{where}.measure", f"conflict: {kpi.name}, {bounds[0]} to {bounds[1]}, already has the result "
                                           f"{held.value.normalize():f}, the file {value.normalize():f}: left as it "
                                           "is (correct it on the contract's page, with a reason)")
        synthetic = synthetic_metric or _x(obs).get("synthetic") is True
        try:
            services.submit_return(actor=self.actor, kpi=kpi, day=bounds[0], value=value, evidence=notes,
                                   source=KpiReturn.Source.OCDS, synthetic=synthetic)
        except services.PerformanceError as e:
            raise _Bad(f"{where}.measure" if e.field == "value" else f"{where}.{e.field}", e.message) from None
        self.summary.returns_created += 1

    def run(self, sections):
        """``sections``: [(contract index, agreed metrics, implementation metrics)], already checked as arrays."""
        periods_by_id = {}
        for _, _, implemented in sections:
            for metric in implemented:
                if isinstance(metric, dict) and isinstance(metric.get("id"), str):
                    for o in _objects_or_empty(metric.get("observations")):
                        with contextlib.suppress(_Bad):
                            if isinstance(o, dict):
                                periods_by_id.setdefault(metric["id"], []).append(parse_period(o, ""))
        titles = set()
        for ci, agreed, _ in sections:
            for mi, metric in enumerate(agreed):
                where = f"contracts[{ci}].agreedMetrics[{mi}]"
                if not isinstance(metric, dict):
                    self.reject(where, f"a metric must be an object, not {reader._kind(metric)}")
                    continue
                title = metric.get("title")
                fold = " ".join(title.split()).casefold() if isinstance(title, str) else None
                if fold and fold in titles:
                    self.reject(f"{where}.title", f"another agreed metric of this release is called "
                                                  f"'{_short(title, 60)}': KPIs are matched by title")
                    continue
                titles.add(fold)
                try:
                    kpi = self.agreed(metric, where, periods_by_id.get(metric.get("id"), []))
                except _Bad as e:
                    self.reject(e.field, e.reason)
                    continue
                if isinstance(metric.get("id"), str):
                    self.by_metric_id[metric["id"]] = kpi
        for ci, _, implemented in sections:
            for mi, metric in enumerate(implemented):
                where = f"contracts[{ci}].implementation.metrics[{mi}]"
                if not isinstance(metric, dict):
                    self.reject(where, f"a metric must be an object, not {reader._kind(metric)}")
                    continue
                try:
                    kpi = self._kpi_for(metric, where)
                    observations = _objects(metric.get("observations"), f"{where}.observations")
                except _Bad as e:
                    self.reject(e.field, e.reason)
                    continue
                synthetic = _x(metric).get("synthetic") is True
                for oi, obs in enumerate(observations):
                    at = f"{where}.observations[{oi}]"
                    if not isinstance(obs, dict):
                        self.reject(at, f"an observation must be an object, not {reader._kind(obs)}")
                        continue
                    try:
                        self.result(kpi, obs, at, synthetic)
                    except _Bad as e:
                        self.reject(e.field, e.reason)
        for kpi in self.retire:
            services.retire_kpi(actor=self.actor, kpi=kpi)

    def _kpi_for(self, metric, where):
        mid = metric.get("id")
        if isinstance(mid, str) and mid in self.by_metric_id:
            return self.by_metric_id[mid]
        title = metric.get("title")
        if isinstance(title, str) and title.strip():
            try:
                kpi = self.find(title)
            except _Bad as e:
                raise _Bad(f"{where}.title", e.reason) from None
            if kpi is not None:
                return kpi
        raise _Bad(f"{where}.id", f"no agreed metric with the id '{_short(mid)}' in this release, and no KPI of this "
                                  f"contract called '{_short(title)}'")


def _objects_or_empty(value):
    return value if isinstance(value, list) else []


def _sections(release):
    """[(contract index, agreed metrics, implementation metrics)] of a release; raises _Bad on a wrong shape."""
    out = []
    for ci, c in enumerate(_objects(release.get("contracts"), "contracts")):
        if not isinstance(c, dict):
            raise _Bad(f"contracts[{ci}]", f"a contract must be an object, not {reader._kind(c)}")
        agreed = _objects(c.get("agreedMetrics"), f"contracts[{ci}].agreedMetrics")
        implementation = c.get("implementation")
        if implementation is not None and not isinstance(implementation, dict):
            raise _Bad(f"contracts[{ci}].implementation", f"must be an object, not {reader._kind(implementation)}")
        implemented = _objects((implementation or {}).get("metrics"), f"contracts[{ci}].implementation.metrics")
        if agreed or implemented:
            out.append((ci, agreed, implemented))
    return out


def _items(path_or_file):
    if hasattr(path_or_file, "read"):
        fh = getattr(path_or_file, "buffer", path_or_file)
        yield from reader.read_stream(fh, str(getattr(path_or_file, "name", "<file>")))
    else:
        yield from reader.read(path_or_file)


def import_performance(path_or_file, *, actor, progress=None) -> PerformanceImportSummary:
    """Load KPIs and results from OCDS (a path, a folder, '-' or a binary file). Never raises on bad data."""
    summary = PerformanceImportSummary()
    visible = Contract.objects.visible_to(actor)
    refused = set()  # contracts whose refusal is logged already (once per contract and import)

    def refuse(contract):
        if contract.pk not in refused:
            refused.add(contract.pk)
            services.Refused(actor, contract, "import OCDS performance data").log()

    for item in _items(path_or_file):
        if progress is not None:
            progress(1)
        if item.error:
            summary.reject(item.source, item.position, None, "", item.error)
            continue
        summary.releases += 1
        release = item.release
        ocid = release.get("ocid")
        ocid_text = ocid if isinstance(ocid, str) else None
        try:
            sections = _sections(release)
        except _Bad as e:
            summary.reject(item.source, item.position, ocid_text, e.field, e.reason)
            continue
        if not sections:
            summary.without_metrics += 1
            continue
        if not ocid_text or not ocid_text.strip():
            summary.reject(item.source, item.position, None, "ocid", "no ocid: the release names no contracting process")
            continue
        contract = Contract.objects.select_related("owner").filter(ocid=ocid_text).first()
        seen = contract is not None and (visible.filter(pk=contract.pk).exists()
                                         or tenancy.can_view_performance(actor, contract))
        if contract is None or not seen:
            if contract is not None:  # another council's private contract: refused (and logged), named as unknown
                refuse(contract)
            summary.reject(item.source, item.position, ocid_text, "ocid",
                           "no contract with this ocid in the register (that you may see)")
            continue
        if not tenancy.can_edit(actor, contract.owner_id):
            refuse(contract)
            summary.reject(item.source, item.position, ocid_text, "ocid",
                           f"refused: you may not change the KPIs and results of this contract (owned by "
                           f"{contract.owner})")
            continue
        counts = dict(summary.__dict__, rejected=len(summary.rejected))
        try:
            with transaction.atomic():
                _ContractImport(summary, item, ocid_text, contract, actor).run(sections)
        except PermissionDenied as e:  # a service refused (a role changed meanwhile): all of this release undone
            if isinstance(e, services.Refused):
                e.log()  # its own log was in the transaction just undone
            kept = summary.rejected[:counts.pop("rejected")]
            summary.__dict__.update(counts, rejected=kept)
            summary.reject(item.source, item.position, ocid_text, "ocid", f"refused: {e}")
            continue
        summary.contracts += 1
    return summary
