"""Reads for benchmarking: the catalogue, a measure's table, a council's summary, exports.

Positions (rank, percentile, quartile, MADs) come from ``methods.benchmarking.position`` against
the chosen peer group: national (every council with a row for the measure and period), the same
type of council, the same region, or a stored peer group the user may see. Missing values are
listed as missing and counted, never ranked.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q

from commissioner.benchmarking.models import Measure, MeasureValue, PeerGroup, Polarity
from commissioner.methods import benchmarking as bm
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


def catalogue():
    """Every measure with its number of councils (with a value) and its periods."""
    measures = list(Measure.objects.annotate(
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


def peer_options(user, org):
    """(key, label) for the peer groups that can be chosen."""
    out = [("national", "All councils (national)")]
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


def peer(user, org, key) -> Peer:
    """The peer group chosen (falls back to national when it cannot apply)."""
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


def measure_table(measure, period=None, *, peer_key="national", org=None, user=None) -> MeasureTable:
    periods = measure_periods(measure)
    if period not in periods:
        period = periods[-1] if periods else None
    chosen = peer(user, org, peer_key)
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
    for v in values:
        row = Row(v.organisation, v.value, bm.position(v.value, numbers, higher_is_better=higher), v.note,
                  org is not None and v.organisation_id == org.pk)
        (table.rows if v.value is not None else table.missing).append(row)
        if row.highlighted:
            table.highlighted = row
    table.rows.sort(key=lambda r: (r.position.rank, r.organisation.name))
    table.missing.sort(key=lambda r: r.organisation.name)
    table.n = len(table.rows)
    table.median, table.mad = bm.median(numbers), bm.mad(numbers)
    table.quartiles = bm.quartiles(numbers)
    if table.highlighted is not None:
        table.sentence = describe(measure, table.highlighted.organisation.name, table.highlighted.position,
                                  chosen, table.n)
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


@dataclass
class SummaryItem:
    measure: Measure
    period: str | None
    value: object
    position: bm.Position
    sentence: str
    trend: str
    series: list  # [(period, value or None)], earliest first
    n: int
    missing: int


def council_summary(org, *, peer_key="national", user=None) -> tuple[Peer, list]:
    """Every measure with a row for the council: its position in the measure's latest period against the
    peer group, sorted by how far it sits from the peers' median (largest |MADs| first, no distance last)."""
    chosen = peer(user, org, peer_key)
    measures = list(Measure.objects.filter(values__organisation=org).distinct())
    latest = dict(MeasureValue.objects.filter(measure__in=measures).values("measure_id")
                  .annotate(last=Max("period_sort")).values_list("measure_id", "last"))
    items = []
    for measure in measures:
        period = (MeasureValue.objects.filter(measure=measure, period_sort=latest.get(measure.pk))
                  .order_by("period").values_list("period", flat=True).first())
        table = measure_table(measure, period, peer_key=chosen.key, org=org, user=user)
        row = table.highlighted
        if row is None:  # no row for the latest period: shown as missing
            numbers = [r.value for r in table.rows + table.missing]
            row = Row(org, None, bm.position(None, numbers, higher_is_better=_higher(measure)), "no row", True)
        series = list(MeasureValue.objects.filter(measure=measure, organisation=org)
                      .order_by("period_sort", "period").values_list("period", "value"))
        items.append(SummaryItem(measure, table.period, row.value, row.position,
                                 describe(measure, org.name, row.position, chosen, table.n),
                                 trend_word(measure, series), series, table.n, len(table.missing)))
    items.sort(key=lambda i: (i.position.mad_distance is None, -abs(i.position.mad_distance or 0), i.measure.code))
    return chosen, items


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
                    "equal weights, over the measures both councils have (a council sharing none is left out); "
                    "rank 1 = nearest, ties share a rank; rebased = distance / the largest distance of all "
                    "neighbours (farthest = 1.0), worked out before the list is cut to the limit")


@dataclass
class ComputedNeighbours:
    organisation: Organisation
    measures: list  # [(Measure, period)] in the order asked for
    neighbours: list  # [bm.Neighbour] with the Organisation as key, nearest first
    compared: int  # councils with a value for at least one of the measures (the council itself included)
    method: str = NEIGHBOUR_METHOD


def neighbour_period(measure, org, period=None) -> str | None:
    """The period used for a measure: the one given, else the latest in which the council has a value."""
    if period is not None:
        return period if MeasureValue.objects.filter(measure=measure, period=period).exists() else None
    return (MeasureValue.objects.filter(measure=measure, organisation=org, value__isnull=False)
            .order_by("-period_sort", "-period").values_list("period", flat=True).first())


def computed_neighbours(org, measure_codes, *, period=None, limit=15) -> ComputedNeighbours:
    """The councils nearest to ``org`` on the measures' values (``methods.benchmarking.nearest_neighbours``).

    Each measure is read in ``period`` if given, else in the latest period in which ``org`` has a value. ValueError
    for an unknown measure code, a measure with no such period, or no data in common with any other council.
    """
    codes = list(dict.fromkeys(code.upper() for code in measure_codes))
    if not codes:
        raise ValueError("no measures given")
    found = {m.code: m for m in Measure.objects.filter(code__in=codes)}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise ValueError(f"unknown measure code{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    chosen = []
    for code in codes:
        p = neighbour_period(found[code], org, period)
        if p is None:
            raise ValueError(f"{code} has no rows for {period}" if period is not None
                             else f"{org.name} has no value for {code}")
        chosen.append((found[code], p))
    vectors = {}
    for i, (measure, p) in enumerate(chosen):
        for org_id, value in (MeasureValue.objects.filter(measure=measure, period=p, value__isnull=False)
                              .values_list("organisation_id", "value")):
            vectors.setdefault(org_id, [None] * len(chosen))[i] = value
    if org.pk not in vectors:
        raise ValueError(f"{org.name} has no value for these measures")
    orgs = Organisation.objects.in_bulk(list(vectors))
    ordered = sorted(vectors, key=lambda pk: (orgs[pk].name, pk))  # ties keep name order
    found_neighbours = bm.nearest_neighbours({orgs[pk]: vectors[pk] for pk in ordered}, orgs[org.pk], limit=limit)
    if not found_neighbours:
        raise ValueError(f"no other council has a value for these measures in common with {org.name}")
    return ComputedNeighbours(org, chosen, found_neighbours, len(vectors))
