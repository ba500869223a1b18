"""Reads for benchmarking: the catalogue, a measure's table, a council's summary, exports.

Positions (rank, percentile, quartile, MADs) come from ``methods.benchmarking.position`` against
the chosen peer group: national (every council with a row for the measure and period), the same
type of council, the same region, or a stored peer group the user may see. Missing values are
listed as missing and counted, never ranked.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Count, Q

from commissioner.benchmarking.models import Measure, MeasureValue, PeerGroup, Polarity, ReferenceValue
from commissioner.methods import benchmarking as bm
from commissioner.methods.positions import Group
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation

PERCENTILE_METHOD = bm.PERCENTILE_METHOD
QUARTILE_METHOD = bm.QUARTILE_METHOD
MAD_METHOD = ("distance from the median in median absolute deviations (unscaled MAD), positive = better "
              "(for a context measure, positive = higher)")
TREND_WORDS = {"improving": "rising", "worsening": "falling"}  # for context measures


@dataclass
class Peer:
    key: str
    label: str  # after "of" in a sentence: "all 150 councils with a row"
    description: str  # for the page: "National: every council with a value ..."
    member_ids: set | None = None  # None: everyone with a row


def visible_measures(user=None):
    """The measures a user may read: all but drafts of local measures, which only their council's members
    (and site administrators) see."""
    qs = Measure.objects.all()
    if user is not None and user.is_authenticated and user.is_superuser:
        return qs
    return qs.exclude(Q(status=Measure.Status.DRAFT) & ~Q(owner_id__in=tenancy.member_org_ids(user)))


def catalogue(user=None):
    """Every measure the user may read with its number of councils (with a value) and its periods."""
    measures = list(visible_measures(user).annotate(
        councils=Count("values__organisation", filter=Q(values__value__isnull=False), distinct=True),
        rows=Count("values")))
    periods = defaultdict(list)
    for code, period in (MeasureValue.objects.values_list("measure__code", "period")
                         .distinct().order_by("measure__code", "period")):
        periods[code].append(period)
    for m in measures:
        m.periods = periods.get(m.code, [])
    return measures


def measure_periods(measure) -> list[str]:
    return list(measure.values.order_by("period_sort", "period").values_list("period", flat=True).distinct())


def latest_period(measure) -> str | None:
    periods = measure_periods(measure)
    return periods[-1] if periods else None


def visible_peer_groups(user, org=None):
    """Stored peer groups the user may see: public ones, and those of the user's councils."""
    qs = PeerGroup.objects.all()
    if not (user is not None and user.is_authenticated and user.is_superuser):
        qs = qs.filter(Q(owner=None) | Q(owner_id__in=tenancy.member_org_ids(user)))
    if org is not None:
        qs = qs.filter(Q(owner=None) | Q(owner=org))
    return qs


def peer_options(user, org, measure=None):
    """(key, label) for the peer groups that can be chosen."""
    out = [("national", "All councils (national)")]
    if org is not None and measure is not None and adopters_version(measure, org) is not None:
        out.append(("adopters", f"Councils using {measure.code} version {adopters_version(measure, org)}"))
    if org is not None:
        if org.la_type:
            out.append(("type", f"Same type of council ({org.la_type_name or org.la_type})"))
        if org.region:
            out.append(("region", f"Same region ({org.region})"))
        out.append(("nearest", f"Its {NEAREST} nearest neighbours on every measure it has (computed)"))
        for g in visible_peer_groups(user, org):
            out.append((f"group-{g.pk}", f"{g.name} ({g.get_kind_display().lower()})"))
    return out


NEAREST = 15  # computed nearest neighbours offered as a peer group


def adopters_version(measure, org):
    """The version of a local value measure the council uses (its owner: the latest), or None."""
    if measure is None or org is None or not measure.is_local:
        return None
    if measure.owner_id == org.pk:
        return measure.version
    return measure.adoptions.filter(organisation=org).values_list("version", flat=True).first()


def peer(user, org, key, measure=None) -> Peer:
    """The peer group chosen (falls back to national when it cannot apply)."""
    version = adopters_version(measure, org) if key == "adopters" else None
    if version is not None:
        ids = set(measure.adoptions.filter(version=version).values_list("organisation_id", flat=True))
        if measure.version == version:
            ids.add(measure.owner_id)
        return Peer("adopters", f"councils using {measure.code} version {version}",
                    f"Councils using local value measure {measure.code} at version {version} (its owner and "
                    f"adopters on that version; values are compared only within one version): {len(ids)} "
                    "councils", ids)
    if org is not None and key == "type" and org.la_type:
        ids = set(Organisation.objects.filter(la_type=org.la_type).values_list("pk", flat=True))
        name = org.la_type_name or org.la_type
        return Peer("type", f"councils of its type ({name})",
                    f"Same type of council: {name} (authority type code {org.la_type})", ids)
    if org is not None and key == "region" and org.region:
        ids = set(Organisation.objects.filter(region=org.region).values_list("pk", flat=True))
        return Peer("region", f"councils in its region ({org.region})",
                    f"Same region: councils in {org.region}", ids)
    if org is not None and key == "nearest":
        codes = list(Measure.objects.filter(values__organisation=org, values__value__isnull=False).distinct()
                     .order_by("code").values_list("code", flat=True))
        try:
            found = computed_neighbours(org, codes, limit=NEAREST)
        except ValueError:
            found = None
        if found is not None:
            ids = {n.key.pk for n in found.neighbours} | {org.pk}
            return Peer("nearest", f"its {len(ids) - 1} nearest neighbours (computed)",
                        f"Nearest neighbours computed on {', '.join(codes)} ({found.method}): {org.name} and "
                        f"{len(ids) - 1} others", ids)
    if org is not None and key and key.startswith("group-") and key[6:].isdigit():
        group = visible_peer_groups(user, org).filter(pk=int(key[6:])).first()
        if group is not None:
            ids = set(group.members.values_list("pk", flat=True)) | {org.pk}
            return Peer(key, f"its peer group '{group.name}'",
                        f"Peer group '{group.name}' ({group.get_kind_display().lower()}"
                        f"{': ' + group.source if group.source else ''}): {org.name} and {len(ids) - 1} others", ids)
    return Peer("national", "all councils", "National: every council with a row for this measure and period")


def _higher(measure) -> bool:
    return measure.higher_is_better is not False


@dataclass
class Row:
    organisation: Organisation
    value: object
    position: bm.Position
    note: str = ""
    highlighted: bool = False


@dataclass
class MeasureTable:
    measure: Measure
    period: str | None
    periods: list
    peer: Peer
    rows: list = field(default_factory=list)  # with a value, best first
    missing: list = field(default_factory=list)  # Row with value None (or no row at all for a stored group)
    n: int = 0
    median: float | None = None
    mad: float | None = None
    quartiles: tuple = (None, None, None)
    highlighted: Row | None = None
    sentence: str = ""
    references: list = field(default_factory=list)  # ReferenceValue (England, ...) for the period: never ranked


def measure_table(measure, period=None, *, peer_key="national", org=None, user=None) -> MeasureTable:
    periods = measure_periods(measure)
    if period not in periods:
        period = periods[-1] if periods else None
    chosen = peer(user, org, peer_key, measure)
    table = MeasureTable(measure, period, periods, chosen)
    values = list(MeasureValue.objects.filter(measure=measure, period=period).select_related("organisation"))
    if chosen.member_ids is not None:
        values = [v for v in values if v.organisation_id in chosen.member_ids]
        if chosen.key.startswith("group-"):
            have = {v.organisation_id for v in values}
            for o in Organisation.objects.filter(pk__in=chosen.member_ids - have):
                values.append(MeasureValue(measure=measure, organisation=o, period=period, value=None,
                                           note="no row for this period"))
    numbers = [v.value for v in values]
    higher = _higher(measure)
    group = Group(numbers, higher_is_better=higher)  # = bm.position(value, numbers) for each, in O(n log n)
    for v in values:
        row = Row(v.organisation, v.value, group.position(v.value), v.note,
                  org is not None and v.organisation_id == org.pk)
        (table.rows if v.value is not None else table.missing).append(row)
        if row.highlighted:
            table.highlighted = row
    table.rows.sort(key=lambda r: (r.position.rank, r.organisation.name))
    table.missing.sort(key=lambda r: r.organisation.name)
    table.n = len(table.rows)
    table.median, table.mad = group.median, group.mad
    table.quartiles = group.quartiles
    if table.highlighted is not None:
        table.sentence = describe(measure, table.highlighted.organisation.name, table.highlighted.position,
                                  chosen, table.n)
    table.references = list(ReferenceValue.objects.filter(measure=measure, period=period))
    return table


def peer_label(chosen: Peer, n: int) -> str:
    if chosen.key == "national":
        return f"all {n} councils with a value"
    return f"the {n} {chosen.label}" if not chosen.key.startswith("group-") else f"{chosen.label} ({n} with a value)"


def describe(measure, name, position, chosen: Peer, n: int) -> str:
    """The plain-English sentence. A context measure (no better direction) is described by size."""
    label = peer_label(chosen, n)
    if measure.polarity != Polarity.NONE:
        return bm.sentence(name=name, position=position, peer_label=label,
                           higher_is_better=measure.higher_is_better)
    if position.value is None:
        return f"{name} has no value for this period."
    if position.rank is None:
        return f"{name} has no values from {label} to compare with."
    text = f"{name} ranks {position.rank} of {position.n} (highest first) among {label}"
    if position.mad_distance is None:
        return text + "; neither higher nor lower is better for this measure."
    return (text + f", {abs(position.mad_distance):.1f} MADs {'above' if position.mad_distance >= 0 else 'below'} "
            "their median; neither higher nor lower is better for this measure.")


def trend_word(measure, series) -> str:
    word = bm.trend(series, higher_is_better=_higher(measure))
    return TREND_WORDS.get(word, word) if measure.polarity == Polarity.NONE else word


class SummaryItem:
    """One measure of a council's summary. The sentence and the trend are worked out when first read (a page
    shows 50 of 1,000 measures)."""

    def __init__(self, measure, period, value, position, sentence, trend, series, n, missing, *, name=None,
                 peer=None):
        self.measure, self.period, self.value, self.position = measure, period, value, position
        self.series, self.n, self.missing = series, n, missing  # series: [(period, value or None)], earliest first
        self._sentence, self._trend, self._name, self._peer = sentence, trend, name, peer

    @property
    def sentence(self) -> str:
        if self._sentence is None:
            self._sentence = describe(self.measure, self._name, self.position, self._peer, self.n)
        return self._sentence

    @property
    def trend(self) -> str:
        if self._trend is None:
            self._trend = trend_word(self.measure, self.series)
        return self._trend

    def __eq__(self, other):
        return isinstance(other, SummaryItem) and self._key() == other._key()

    __hash__ = None

    def _key(self):
        return (self.measure, self.period, self.value, self.position, self.sentence, self.trend, self.series, self.n,
                self.missing)

    def __repr__(self):
        return f"SummaryItem({self.measure.code}, {self.period}, {self.value}, {self.position})"


SUMMARY_SCOPES = {"national", "type", "region"}  # peer groups read from the positions summary


class _Stats(NamedTuple):
    measure_id: int
    period: str
    scope: str
    scope_key: str
    n: int
    missing: int
    median: float | None
    mad: float | None


def council_summary(org, *, peer_key="national", user=None) -> tuple[Peer, list]:
    """Every measure with a row for the council: its position in the measure's latest period against the
    peer group, sorted by how far it sits from the peers' median (largest |MADs| first, no distance last).

    National, same-type and same-region positions come from the positions summary (``benchmarking.summary``);
    other peer groups read their members' values live. A measure the summary does not hold yet is worked out
    live, as ``measure_table`` does."""
    from commissioner.benchmarking.summary import LatestPosition, PeerStats

    chosen = peer(user, org, peer_key)
    series_of = defaultdict(list)
    for measure_id, period, value in (MeasureValue.objects.filter(organisation=org)
                                      .order_by("measure_id", "period_sort", "period")
                                      .values_list("measure_id", "period", "value")):
        series_of[measure_id].append((period, value))
    measures = Measure.objects.in_bulk(list(series_of))
    scope = chosen.key if chosen.key in SUMMARY_SCOPES else None
    key = {"national": "", "type": org.la_type, "region": org.region}.get(scope, "")
    national, scoped = {}, {}
    for row in PeerStats.objects.filter(measure_id__in=list(series_of)).filter(
            Q(scope="national") | Q(scope=scope or "national", scope_key=key)).values_list(*_Stats._fields):
        stats = _Stats(*row)
        if stats.scope == "national":
            national[stats.measure_id] = stats
        if stats.scope == (scope or "national") and stats.scope_key == key:
            scoped[stats.measure_id] = stats
    placed = {}
    if scope is not None:
        fields = [f"{scope}_rank", f"{scope}_percentile", f"{scope}_quartile", f"{scope}_mads"]
        placed = {row[0]: row[1:] for row in LatestPosition.objects.filter(organisation=org)
                  .values_list("measure_id", "period", *fields)}
    live = _live_positions(org, chosen, measures, national) if scope is None else {}
    items = []
    for measure_id, series in series_of.items():
        measure = measures[measure_id]
        stats = national.get(measure_id)
        here = dict(series)
        value = here.get(stats.period) if stats is not None else None
        if stats is None or (scope is not None and value is not None and (
                measure_id not in placed or placed[measure_id][0] != stats.period)):
            items.append(_live_item(org, measure, chosen, user, series))  # not in the summary (yet)
            continue
        if scope is not None:
            group = scoped.get(measure_id)
            n, missing = (group.n, group.missing) if group is not None else (0, 0)
            median, mad = (group.median, group.mad) if group is not None else (None, None)
            if value is None:
                position = bm.Position(None, n, missing, None, None, None, median, mad, None)
            else:
                _, rank, percentile, quartile, mads = placed[measure_id]
                position = bm.Position(bm._number(value), n, missing, rank, percentile, quartile, median, mad, mads)
        else:
            position, n, missing = live[measure_id]
        items.append(SummaryItem(measure, stats.period, value, position, None, None, series, n, missing,
                                 name=org.name, peer=chosen))
    items.sort(key=lambda i: (i.position.mad_distance is None, -abs(i.position.mad_distance or 0), i.measure.code))
    return chosen, items


def _live_item(org, measure, chosen, user, series) -> SummaryItem:
    """One measure's item worked out from its table (a measure the summary does not hold)."""
    latest = (MeasureValue.objects.filter(measure=measure).order_by("-period_sort", "period")
              .values_list("period", flat=True).first())
    table = measure_table(measure, latest, peer_key=chosen.key, org=org, user=user)
    row = table.highlighted
    if row is None:  # no row for the latest period: shown as missing
        numbers = [r.value for r in table.rows + table.missing]
        row = Row(org, None, bm.position(None, numbers, higher_is_better=_higher(measure)), "no row", True)
    return SummaryItem(measure, table.period, row.value, row.position,
                       describe(measure, org.name, row.position, chosen, table.n),
                       trend_word(measure, series), series, table.n, len(table.missing))


def _live_positions(org, chosen, measures, national) -> dict:
    """{measure id: (position, n, missing)} in a stored or computed peer group (small: read its members'
    values in each measure's latest period, as ``measure_table`` would)."""
    periods = defaultdict(list)
    for measure_id, stats in national.items():
        periods[stats.period].append(measure_id)
    wanted = Q(pk__in=[])
    for period, ids in periods.items():
        wanted |= Q(measure_id__in=ids, period=period)
    values = defaultdict(dict)
    for measure_id, org_id, value in (MeasureValue.objects.filter(wanted, organisation_id__in=chosen.member_ids)
                                      .order_by().values_list("measure_id", "organisation_id", "value")):
        values[measure_id][org_id] = value
    out = {}
    for measure_id in national:
        rows = values[measure_id]
        numbers = list(rows.values())
        if chosen.key.startswith("group-"):  # members with no row for the period count as missing
            numbers += [None] * len(chosen.member_ids - set(rows))
        position = bm.position(rows.get(org.pk), numbers, higher_is_better=_higher(measures[measure_id]))
        out[measure_id] = (position, position.n, position.missing)
    return out


def export_rows(measure, period=None):
    """Every value of the measure (or one period's) with its national position in its period."""
    periods = measure_periods(measure)
    if period:
        periods = [period] if period in periods else []
    for p in periods:
        table = measure_table(measure, p)
        for r in table.rows + table.missing:
            pos = r.position
            yield {
                "measure": measure.code, "period": p, "organisation_code": r.organisation.gss_code,
                "la_code": r.organisation.la_code or "", "organisation": r.organisation.name,
                "value": plain(r.value),
                "status": "present" if r.value is not None else "missing",
                "rank": pos.rank, "of": pos.n, "missing_in_period": len(table.missing),
                "percentile": None if pos.percentile is None else round(pos.percentile, 2),
                "quartile": pos.quartile,
                "mads_from_median": None if pos.mad_distance is None else round(pos.mad_distance, 4),
                "median": None if pos.median is None else round(pos.median, 6),
                "synthetic": measure.synthetic,
            }


def plain(value):
    """A Decimal as plain text (no exponent, no trailing zeros); None stays None."""
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def measure_metadata(measure) -> dict:
    return {"code": measure.code, "name": measure.name, "definition": measure.definition, "unit": measure.unit,
            "polarity": measure.polarity, "polarity_note": measure.polarity_note, "source": measure.source,
            "source_url": measure.source_url, "licence": measure.licence, "synthetic": measure.synthetic,
            "version": measure.version, "peer_group": "national (every council with a row for the period)",
            "percentile_method": PERCENTILE_METHOD, "quartile_method": QUARTILE_METHOD, "mad_method": MAD_METHOD,
            "missing": "missing values are null, never 0, and are left out of ranks"}


# Computed nearest neighbours ------------------------------------------------------------------------

NEIGHBOUR_METHOD = ("nearest neighbours: each measure is standardised to z-scores (population SD) across every "
                    "council with a value in its period; distance = sqrt(sum of squared differences in z-scores), "
                    "equal weights unless weights are given (each squared difference times its weight), over the "
                    "measures both councils have (a council sharing none is left out); "
                    "rank 1 = nearest, ties share a rank; rebased = distance / the largest distance of all "
                    "neighbours (farthest = 1.0), worked out before the list is cut to the limit")


@dataclass
class ComputedNeighbours:
    organisation: Organisation
    measures: list  # [(Measure, period)] in the order asked for
    neighbours: list  # [bm.Neighbour] with the Organisation as key, nearest first
    compared: int  # councils with a value for at least one of the measures (the council itself included)
    method: str = NEIGHBOUR_METHOD
    weights: list | None = None  # one per measure, in order; None = equal


def neighbour_period(measure, org, period=None) -> str | None:
    """The period used for a measure: the one given, else the latest in which the council has a value."""
    if period is not None:
        return period if MeasureValue.objects.filter(measure=measure, period=period).exists() else None
    return (MeasureValue.objects.filter(measure=measure, organisation=org, value__isnull=False)
            .order_by("-period_sort", "-period").values_list("period", flat=True).first())


def neighbour_periods(measures, org, period=None) -> dict:
    """``neighbour_period`` of several measures in one query: {measure id: period} (measures without one left out)."""
    ids = [m.pk for m in measures]
    if period is not None:
        return {pk: period for pk in MeasureValue.objects.filter(measure_id__in=ids, period=period).order_by()
                .values_list("measure_id", flat=True).distinct()}
    best = {}
    for measure_id, sort, p in (MeasureValue.objects.filter(measure_id__in=ids, organisation=org, value__isnull=False)
                                .order_by().values_list("measure_id", "period_sort", "period")):
        if measure_id not in best or (sort, p) > best[measure_id]:
            best[measure_id] = (sort, p)
    return {pk: p for pk, (_, p) in best.items()}


def computed_neighbours(org, measure_codes, *, weights=None, period=None, limit=15) -> ComputedNeighbours:
    """The councils nearest to ``org`` on the measures' values (``methods.benchmarking.nearest_neighbours``).

    Each measure is read in ``period`` if given, else in the latest period in which ``org`` has a value.
    ``weights`` (one number of zero or more per measure code, in order) weight the squared differences.
    ValueError for an unknown measure code, a measure with no such period, weights that do not fit, or no
    data in common with any other council.
    """
    codes = [str(code).upper() for code in measure_codes]
    if weights is not None:
        weights = [float(w) for w in weights]
        if len(weights) != len(codes):
            raise ValueError(f"give one weight per measure: {len(codes)} measures, {len(weights)} weights")
        if any(not math.isfinite(w) or w < 0 for w in weights) or not any(weights):
            raise ValueError("weights must be numbers of zero or more, at least one above zero")
    if len(set(codes)) != len(codes):
        if weights is not None:
            raise ValueError("each measure may be given once")
        codes = list(dict.fromkeys(codes))
    if not codes:
        raise ValueError("no measures given")
    found = {m.code: m for m in Measure.objects.filter(code__in=codes)}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise ValueError(f"unknown measure code{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    periods = neighbour_periods([found[code] for code in codes], org, period)
    chosen = []
    for code in codes:
        p = periods.get(found[code].pk)
        if p is None:
            raise ValueError(f"{code} has no rows for {period}" if period is not None
                             else f"{org.name} has no value for {code}")
        chosen.append((found[code], p))
    index = {(m.pk, p): i for i, (m, p) in enumerate(chosen)}
    by_period = defaultdict(list)
    for m, p in chosen:
        by_period[p].append(m.pk)
    wanted = Q()
    for p, ids in by_period.items():
        wanted |= Q(measure_id__in=ids, period=p)
    vectors = {}
    for measure_id, p, org_id, value in (MeasureValue.objects.filter(wanted, value__isnull=False).order_by()
                                         .values_list("measure_id", "period", "organisation_id", "value")):
        vectors.setdefault(org_id, [None] * len(chosen))[index[measure_id, p]] = value
    if org.pk not in vectors:
        raise ValueError(f"{org.name} has no value for these measures")
    names = dict(Organisation.objects.filter(pk__in=list(vectors)).values_list("pk", "name"))
    ordered = sorted(vectors, key=lambda pk: (names[pk], pk))  # ties keep name order
    # Keyed by primary key (cheap to hash and to name), the kept neighbours' Organisations put in after.
    found_neighbours = bm.nearest_neighbours({pk: vectors[pk] for pk in ordered}, org.pk, weights=weights,
                                             limit=limit)
    if not found_neighbours:
        raise ValueError(f"no other council has a value for these measures in common with {org.name}")
    kept = Organisation.objects.in_bulk([n.key for n in found_neighbours])
    found_neighbours = [n._replace(key=kept[n.key]) for n in found_neighbours]
    return ComputedNeighbours(org, chosen, found_neighbours, len(vectors), weights=weights)
