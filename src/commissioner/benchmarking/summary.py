"""The positions summary: where every council stands in each measure's latest period, worked out in advance.

A council's summary page shows every measure (1,000 at national scale) in its latest period against a peer
group. Worked out on the fly that is 1,000 measure tables of 350 councils each; from this summary it is
two indexed reads of about 1,000 rows. Two tables, derived, never edited:

``PeerStats``: one row per measure and peer scope for the measure's latest period (the largest
``period_sort`` among all its rows; of equal ones, the first period label in order, as
``queries.council_summary`` chooses it): ``national`` (every council with a row), ``type`` (councils of one
authority type, ``scope_key`` the type code) and ``region`` (``scope_key`` the region). It holds the
period, the number of values (``n``), of missing values (``missing``), their median and MAD.

``LatestPosition``: one row per measure and council with a value in that period: its rank, percentile,
quartile and MAD distance in each of the three scopes (``methods.positions``, the same figures as
``methods.benchmarking.position``). A council whose value is missing has no row: its position is the
group's alone (``n``, ``missing``, median, MAD).

Other peer groups (a council's own or imported list, computed nearest neighbours) are small and read live.
``queries.council_summary`` uses the summary for a measure when it has a ``PeerStats`` row and works the
measure out live otherwise, so a measure loaded without a refresh still shows, correctly.

Keeping it true: ``refresh_positions(measure_ids)`` after any write of a measure's values (the importers,
a council's submission, a changed polarity), ``rebuild_positions()`` after a bulk load or a change of
councils' types or regions (idempotent; both replace the measures' rows in one transaction).
"""

from collections import defaultdict

from django.db import connection, models, transaction
from django.db.models import Max

from commissioner.methods.positions import Group
from commissioner.orgs.models import Organisation

SCOPES = ("national", "type", "region")
BATCH = 5000


class PeerStats(models.Model):
    measure = models.ForeignKey("benchmarking.Measure", on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=20, help_text="the measure's latest period")
    scope = models.CharField(max_length=10, help_text="national, type or region")
    scope_key = models.CharField(max_length=60, blank=True, help_text="the authority type or region; blank: national")
    n = models.PositiveIntegerField(help_text="values in the group (not missing)")
    missing = models.PositiveIntegerField(help_text="rows with a missing value")
    median = models.FloatField(null=True)
    mad = models.FloatField(null=True)

    class Meta:
        app_label = "benchmarking"
        constraints = [models.UniqueConstraint(fields=["measure", "scope", "scope_key"], name="one_peer_stats_per_scope")]

    def __str__(self):
        return f"{self.measure_id} {self.period} {self.scope} {self.scope_key}"


class LatestPosition(models.Model):
    measure = models.ForeignKey("benchmarking.Measure", on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=20)
    national_rank = models.PositiveIntegerField(null=True)
    national_percentile = models.FloatField(null=True)
    national_quartile = models.PositiveSmallIntegerField(null=True)
    national_mads = models.FloatField(null=True)
    type_rank = models.PositiveIntegerField(null=True)
    type_percentile = models.FloatField(null=True)
    type_quartile = models.PositiveSmallIntegerField(null=True)
    type_mads = models.FloatField(null=True)
    region_rank = models.PositiveIntegerField(null=True)
    region_percentile = models.FloatField(null=True)
    region_quartile = models.PositiveSmallIntegerField(null=True)
    region_mads = models.FloatField(null=True)

    class Meta:
        app_label = "benchmarking"
        constraints = [models.UniqueConstraint(fields=["organisation", "measure"],
                                               name="one_latest_position_per_org_measure")]

    def __str__(self):
        return f"{self.measure_id} {self.organisation_id} {self.period}"


def latest_periods(measure_ids=None) -> dict:
    """{measure id: its latest period}: the largest period_sort of all its rows, then the first label."""
    from commissioner.benchmarking.models import MeasureValue

    rows = MeasureValue.objects.all()
    if measure_ids is not None:
        rows = rows.filter(measure_id__in=list(measure_ids))
    last = dict(rows.values("measure_id").annotate(last=Max("period_sort")).order_by()
                .values_list("measure_id", "last"))
    out = {}
    by_sort = defaultdict(list)
    for measure_id, sort in last.items():
        by_sort[sort].append(measure_id)
    for sort, ids in by_sort.items():
        for measure_id, period in (MeasureValue.objects.filter(measure_id__in=ids, period_sort=sort)
                                   .values_list("measure_id", "period").distinct().order_by("measure_id", "period")):
            out.setdefault(measure_id, period)
    return out


def _compute(measure, period, rows, orgs):
    """PeerStats and LatestPosition objects for one measure from its rows [(organisation id, value)]."""
    higher = measure.higher_is_better is not False
    groups = {("national", ""): rows}
    for org_id, value in rows:
        la_type, region = orgs.get(org_id, ("", ""))
        if la_type:
            groups.setdefault(("type", la_type), []).append((org_id, value))
        if region:
            groups.setdefault(("region", region), []).append((org_id, value))
    stats, placed = [], {}
    for (scope, key), members in groups.items():
        group = Group([v for _, v in members], higher_is_better=higher)
        stats.append(PeerStats(measure_id=measure.pk, period=period, scope=scope, scope_key=key, n=group.n,
                               missing=group.missing, median=group.median, mad=group.mad))
        for org_id, value in members:
            if value is None:
                continue
            pos = group.position(value)
            row = placed.get(org_id)
            if row is None:
                row = placed[org_id] = LatestPosition(measure_id=measure.pk, organisation_id=org_id, period=period)
            setattr(row, f"{scope}_rank", pos.rank)
            setattr(row, f"{scope}_percentile", pos.percentile)
            setattr(row, f"{scope}_quartile", pos.quartile)
            setattr(row, f"{scope}_mads", pos.mad_distance)
    return stats, list(placed.values())


def refresh_positions(measure_ids=None) -> int:
    """Work out again the summary of these measures (all of them when None); returns the positions written.

    Replaces the measures' rows in one transaction: call it after writing their values, inside or after the
    writing transaction."""
    from commissioner.benchmarking.models import Measure, MeasureValue

    ids = None if measure_ids is None else sorted({int(i) for i in measure_ids})
    if ids is not None and not ids:
        return 0
    orgs = {pk: (t or "", r or "") for pk, t, r in Organisation.objects.values_list("pk", "la_type", "region")}
    written = 0
    with transaction.atomic():
        # One refresh of a measure at a time (two writers of one measure would both insert its rows).
        locked = Measure.objects.select_for_update().order_by("pk")
        list((locked if ids is None else locked.filter(pk__in=ids)).values_list("pk", flat=True))
        if ids is None:
            PeerStats.objects.all().delete()
            LatestPosition.objects.all().delete()
        else:
            PeerStats.objects.filter(measure_id__in=ids).delete()
            LatestPosition.objects.filter(measure_id__in=ids).delete()
        periods = latest_periods(ids)
        measures = Measure.objects.in_bulk(list(periods))
        by_period = defaultdict(list)
        for measure_id, period in periods.items():
            by_period[period].append(measure_id)
        stats, placed = [], []
        for period, chunk_ids in sorted(by_period.items()):
            for start in range(0, len(chunk_ids), 100):
                chunk = chunk_ids[start:start + 100]
                rows = defaultdict(list)
                for measure_id, org_id, value in (MeasureValue.objects.filter(measure_id__in=chunk, period=period)
                                                  .order_by().values_list("measure_id", "organisation_id", "value")):
                    rows[measure_id].append((org_id, value))
                for measure_id in chunk:
                    s, p = _compute(measures[measure_id], period, rows[measure_id], orgs)
                    stats += s
                    placed += p
                if len(placed) >= 50_000:
                    written += _save(stats, placed)
                    stats, placed = [], []
        written += _save(stats, placed)
    if ids is None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {PeerStats._meta.db_table}, {LatestPosition._meta.db_table}")
    return written


def _save(stats, placed) -> int:
    PeerStats.objects.bulk_create(stats, batch_size=BATCH)
    LatestPosition.objects.bulk_create(placed, batch_size=BATCH)
    return len(placed)


def rebuild_positions() -> int:
    """Rebuild the whole summary (after a bulk load, or to repair it): idempotent."""
    return refresh_positions(None)
