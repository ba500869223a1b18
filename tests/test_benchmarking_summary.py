"""The positions summary (benchmarking.summary) and the fast positions (methods.positions): the council
summary read from it equals the summary worked out again from every measure's table, after an import,
after a changed value, after a new period; stored and computed peer groups (read live) too."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commissioner.benchmarking import queries, services, summary
from commissioner.benchmarking.models import Measure, MeasureValue
from commissioner.benchmarking.summary import LatestPosition, PeerStats
from commissioner.methods import benchmarking as bm
from commissioner.methods.positions import Group, positions
from commissioner.orgs import reference
from commissioner.orgs.models import Organisation
from conftest import SAMPLES, per_test

OFLOG = SAMPLES / "oflog" / "ASC_data.csv"


def gss(code):
    return reference.councils()[code].gss_code


# -- methods.positions: the same figures as methods.benchmarking.position -----------------------------

values_strategy = st.lists(st.one_of(st.none(), st.integers(-5, 5), st.decimals(-1000, 1000, places=2),
                                     st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(values=values_strategy, higher=st.booleans())
def test_positions_equal_position_for_each_value(values, higher):
    assert positions(values, higher_is_better=higher) == [bm.position(v, values, higher_is_better=higher)
                                                          for v in values]


def test_positions_worked_example_and_ties():
    # docs/methods.md: 10, 20, ..., 80: Q1 27.5, median 45, Q3 62.5; 60 has percentile rank 68.75.
    values = [10, 20, 30, 40, 50, 60, 70, 80, None]
    group = Group(values)
    assert group.quartiles == (27.5, 45.0, 62.5) and (group.n, group.missing) == (8, 1)
    p = group.position(60)
    assert (p.rank, p.percentile, p.quartile, p.median, p.mad) == (3, 68.75, 2, 45.0, 20.0)
    assert p.mad_distance == 0.75
    low = Group(values, higher_is_better=False).position(60)
    assert (low.rank, low.percentile, low.quartile, low.mad_distance) == (6, 31.25, 3, -0.75)
    tied = positions([5, 5, 7, None], higher_is_better=True)
    assert [t.rank for t in tied] == [2, 2, 1, None] and tied[0].percentile == pytest.approx(100 / 3)
    assert tied[3] == bm.Position(None, 3, 1, None, None, None, 5.0, 0.0, None)


# -- the summary against a recomputation ------------------------------------------------------------

def recomputed(org, peer_key="national", user=None):
    """The council summary worked out the old way: every measure's table in its latest period."""
    chosen = queries.peer(user, org, peer_key)
    items = []
    for measure in Measure.objects.filter(values__organisation=org).distinct():
        latest = (MeasureValue.objects.filter(measure=measure).order_by("-period_sort", "period")
                  .values_list("period", flat=True).first())
        table = queries.measure_table(measure, latest, peer_key=chosen.key, org=org, user=user)
        row = table.highlighted
        position = row.position if row is not None else bm.position(
            None, [r.value for r in table.rows + table.missing], higher_is_better=measure.higher_is_better is not False)
        series = list(MeasureValue.objects.filter(measure=measure, organisation=org)
                      .order_by("period_sort", "period").values_list("period", "value"))
        items.append((measure.code, table.period, None if row is None else row.value, position,
                      queries.describe(measure, org.name, position, chosen, table.n),
                      queries.trend_word(measure, series), series, table.n, len(table.missing)))
    items.sort(key=lambda i: (i[3].mad_distance is None, -abs(i[3].mad_distance or 0), i[0]))
    return items


def summarised(org, peer_key="national", user=None):
    _, items = queries.council_summary(org, peer_key=peer_key, user=user)
    return [(i.measure.code, i.period, i.value, i.position, i.sentence, i.trend, i.series, i.n, i.missing)
            for i in items]


def uses_summary(org):
    """True when the council's positions come from the summary (one row per measure with a value)."""
    return LatestPosition.objects.filter(organisation=org).exists()


@pytest.fixture(scope="module")
def oflog_module(module_db):
    """The Oflog import and the rebuilt summary, made once for the module (each test's writes are rolled back,
    see conftest.module_db); every database test here starts from it."""
    with module_db():
        result = services.import_oflog(OFLOG)
        assert result.applied
        assert summary.rebuild_positions() > 0
    return result


@pytest.fixture
def oflog(oflog_module, db):
    return per_test(oflog_module)


COUNCILS = ["ENF", "MRT", "DAL", "LDS", "KEN"]


@pytest.mark.parametrize("peer_key", ["national", "type", "region"])
def test_summary_equals_recomputation_after_the_oflog_import(oflog, peer_key):
    for la_code in COUNCILS:
        org = Organisation.objects.get(la_code=la_code)
        assert uses_summary(org)
        got = summarised(org, peer_key)
        assert len(got) == 7
        assert got == recomputed(org, peer_key), la_code


def test_summary_holds_the_right_figures(oflog):
    asc1 = Measure.objects.get(code="ASC1")
    latest = summary.latest_periods([asc1.pk])[asc1.pk]
    assert latest == "2021-22"  # the latest year in the Oflog file for ASC1
    national = PeerStats.objects.get(measure=asc1, scope="national")
    rows = MeasureValue.objects.filter(measure=asc1, period=latest)
    assert (national.period, national.n, national.missing) == (
        latest, rows.exclude(value=None).count(), rows.filter(value=None).count())
    numbers = list(rows.values_list("value", flat=True))
    assert (national.median, national.mad) == (bm.median(numbers), bm.mad(numbers))
    # Enfield's national position, as measure_table has it.
    enfield = Organisation.objects.get(la_code="ENF")
    stored = LatestPosition.objects.get(measure=asc1, organisation=enfield)
    table = queries.measure_table(asc1, latest, org=enfield)
    pos = table.highlighted.position
    assert (stored.national_rank, stored.national_percentile, stored.national_quartile, stored.national_mads) == (
        pos.rank, pos.percentile, pos.quartile, pos.mad_distance)
    # Its same-type group: the London boroughs with a row.
    london = PeerStats.objects.get(measure=asc1, scope="type", scope_key=enfield.la_type)
    boroughs = rows.filter(organisation__la_type=enfield.la_type)
    assert london.n == boroughs.exclude(value=None).count() and london.n < national.n
    # Missing values have no position row; every other value has one.
    assert LatestPosition.objects.filter(measure=asc1).count() == national.n


def test_rebuild_is_idempotent(oflog):
    def rows():
        return (sorted(PeerStats.objects.values_list("measure_id", "period", "scope", "scope_key", "n", "missing",
                                                     "median", "mad")),
                sorted(LatestPosition.objects.values_list("measure_id", "organisation_id", "period", "national_rank",
                                                          "type_rank", "region_rank", "national_mads")))
    before = rows()
    assert summary.rebuild_positions() == len(before[1])
    assert rows() == before


def test_summary_equals_recomputation_after_a_changed_value(oflog, users):
    asc1 = Measure.objects.get(code="ASC1")
    enfield = Organisation.objects.get(la_code="ENF")
    old = MeasureValue.objects.get(measure=asc1, organisation=enfield, period="2021-22").value
    rank_before = LatestPosition.objects.get(measure=asc1, organisation=enfield).national_rank
    csv = f"organisation code,period,value\n{enfield.gss_code},2021-22,99.9\n".encode()
    result = services.import_tidy_csv(csv, measure=asc1, actor=users["superuser"], label="change.csv")
    assert result.applied and result.updated == 1 and old != Decimal("99.9")
    summary.refresh_positions([asc1.pk])
    assert LatestPosition.objects.get(measure=asc1, organisation=enfield).national_rank != rank_before
    for peer_key in ("national", "type", "region"):
        got = summarised(enfield, peer_key)
        assert got == recomputed(enfield, peer_key)
        (asc1_item,) = [i for i in got if i[0] == "ASC1"]
        assert asc1_item[2] == Decimal("99.9") and asc1_item[1] == "2021-22"
    # Another council's position moved too (Enfield passed it).
    for la_code in ("MRT", "DAL"):
        org = Organisation.objects.get(la_code=la_code)
        assert summarised(org) == recomputed(org)


def test_a_missing_value_and_a_new_period(oflog, users):
    asc2 = Measure.objects.get(code="ASC2")
    merton = Organisation.objects.get(la_code="MRT")
    leeds = Organisation.objects.get(la_code="LDS")
    csv = (f"organisation code,period,value\n{merton.gss_code},2023-24,\n{leeds.gss_code},2023-24,12.5\n").encode()
    assert services.import_tidy_csv(csv, measure=asc2, actor=users["superuser"], label="new.csv").applied
    summary.refresh_positions([asc2.pk])
    assert PeerStats.objects.get(measure=asc2, scope="national").period == "2023-24"
    assert (PeerStats.objects.get(measure=asc2, scope="national").n,
            PeerStats.objects.get(measure=asc2, scope="national").missing) == (1, 1)
    (item,) = [i for i in summarised(merton) if i[0] == "ASC2"]
    assert item[1] == "2023-24" and item[2] is None and item[3].rank is None  # missing, never 0
    assert "has no value" in item[4]
    for org in (merton, leeds):
        for peer_key in ("national", "type", "region"):
            assert summarised(org, peer_key) == recomputed(org, peer_key)


def test_a_measure_loaded_without_refresh_is_worked_out_live(oflog, users):
    new, _ = services.define_measure(data={"code": "LATE1", "name": "Loaded after the rebuild", "polarity": "lower",
                                           "synthetic": True})
    rows = "\n".join(f"{gss(c)},2022-23,{v}" for c, v in [("MRT", 3), ("SWK", 1), ("LBH", 2), ("ENF", "")])
    assert services.import_tidy_csv(f"organisation code,period,value\n{rows}\n".encode(), measure=new,
                                    actor=users["superuser"]).applied
    assert PeerStats.objects.filter(measure=new).exists()  # the import refreshed the summary
    PeerStats.objects.filter(measure=new).delete()  # as a measure loaded by some other way would be
    LatestPosition.objects.filter(measure=new).delete()
    merton = Organisation.objects.get(la_code="MRT")
    got = summarised(merton)
    assert got == recomputed(merton)
    (late,) = [i for i in got if i[0] == "LATE1"]
    assert (late[3].rank, late[7], late[8]) == (3, 3, 1)  # lower is better: 3 is the worst of 1, 2, 3


def test_stored_and_computed_peer_groups_read_live(oflog, users):
    merton = users["merton"]
    group = services.save_peer_group(owner=merton, name="Outer London", codes=[gss(c) for c in
                                     ("SWK", "LBH", "ENF", "HAM", "KEC", "BAR")])
    for user, key in ((users["viewer"], f"group-{group.pk}"), (None, "nearest")):
        got = summarised(merton, key, user)
        assert got == recomputed(merton, key, user)
    # The stored group has fewer members than the region: its n is its own.
    _, items = queries.council_summary(merton, peer_key=f"group-{group.pk}", user=users["viewer"])
    assert all(i.n + i.missing <= 7 for i in items)


# -- the council page: pages of measures in one order, and the CSV of all of them -------------------

def test_council_page_is_paginated_in_distance_order_with_a_csv(oflog, monkeypatch):
    import csv
    import io
    import re

    from django.test import Client

    from commissioner.benchmarking import views

    monkeypatch.setattr(views, "COUNCIL_PAGE_SIZE", 3)
    enfield = Organisation.objects.get(la_code="ENF")
    order = [code for code, *_ in summarised(enfield, "type")]
    seen = []
    for page in (1, 2, 3):
        response = Client().get(f"/benchmarking/councils/{enfield.slug}/?peer=type&page={page}")
        assert response.status_code == 200
        text = response.content.decode()
        assert f"this is page {page} of 3" in text and "7 measures" in text
        assert queries.PERCENTILE_METHOD in text and "Same type of council" in text
        seen += re.findall(r'id="measure-([A-Z0-9]+)"', text)
    assert seen == order and len(order) == 7
    response = Client().get(f"/benchmarking/councils/{enfield.slug}/?peer=type&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["measure"] for r in rows] == order  # every measure, not only the page's
    _, items = queries.council_summary(enfield, peer_key="type")
    first = items[0]
    assert rows[0]["rank"] == str(first.position.rank) and rows[0]["of"] == str(first.n)
    assert float(rows[0]["value"]) == float(first.value)
    missing = [r for r in rows if r["value"] == ""]
    assert all(r["rank"] == "" for r in missing)  # missing, never 0


@pytest.mark.parametrize("peer_key", ["national", "type"])
def test_council_api_items_equal_what_the_schema_gives(oflog, users, peer_key):
    """The council summary API writes its items as plain values (fast at 1,000 measures): the same JSON as
    validating them through the SummaryItem schema."""
    from django.test import Client, RequestFactory

    from commissioner.benchmarking.api import methods, peer_out
    from commissioner.benchmarking.schemas import CouncilSummaryOut

    enfield = Organisation.objects.get(la_code="ENF")
    response = Client().get(f"/api/v1/benchmarking/councils/{enfield.slug}?peer={peer_key}")
    assert response.status_code == 200 and response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    peer, items = queries.council_summary(enfield, peer_key=peer_key)
    request = RequestFactory().get(f"/api/v1/benchmarking/councils/{enfield.slug}")
    number = (lambda v: None if v is None else float(v))
    expected = CouncilSummaryOut.model_validate({
        "organisation": enfield, "peer": peer_out(peer), "methods": methods(),
        "measures": [{"measure": i.measure, "period": i.period, "value": number(i.value),
                      "position": {"rank": i.position.rank, "of": i.position.n, "missing": i.position.missing,
                                   "percentile": i.position.percentile, "quartile": i.position.quartile,
                                   "median": i.position.median, "mad": i.position.mad,
                                   "mad_distance": i.position.mad_distance},
                      "trend": i.trend, "sentence": i.sentence,
                      "series": [{"period": p, "value": number(v)} for p, v in i.series],
                      "n": i.n, "missing": i.missing} for i in items]},
        context={"request": request}).model_dump(mode="json")
    assert body == expected
    assert list(body["measures"][0]) == list(expected["measures"][0])  # the schema's field order
    assert body["measures"][0]["measure"]["url"] == f"http://testserver/api/v1/benchmarking/measures/{items[0].measure.code}"
    assert len(body["measures"]) == 7 and body["peer"]["key"] == peer_key
