"""The benchmarking API (/api/v1/benchmarking/...): the catalogue, a measure's table and a council's summary,
on the real Oflog adult social care file and on a hand-built measure (docs/methods.md numbers); peer
groups, missing values, and every bad parameter a problem naming it."""

import json

import pytest
from django.test import Client

from commissioner.benchmarking import queries, services
from commissioner.benchmarking.models import Measure, MeasureValue
from commissioner.methods import benchmarking as bm
from commissioner.orgs import reference
from commissioner.orgs.models import Organisation
from commissioner.orgs.services import council_organisation
from conftest import SAMPLES, shared
from helpers import client_for

API = "/api/v1/benchmarking"
PROBLEM = "application/problem+json"
OFLOG = SAMPLES / "oflog" / "ASC_data.csv"
EIGHT = ["MRT", "SWK", "LBH", "CMD", "ISL", "HCK", "WND", "KEC"]
NINTH = "HAM"


def ok(response):
    assert response.status_code == 200, response.content[:500]
    return response.json()


def problem(response, status):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def invalid(response, name):
    body = problem(response, 422)
    assert [(e["name"], e["in"]) for e in body["errors"]] == [(name, "query")], body
    assert name in body["detail"]
    return body


def gss(code):
    return reference.councils()[code].gss_code


@pytest.fixture
def oflog(db):
    summary = services.import_oflog(OFLOG)
    assert summary.applied
    return summary


@pytest.fixture
def eight(users):
    """TEST1: values 10, 20, ..., 80 for eight London boroughs in 2022-23, a missing value for a ninth."""
    measure, _ = services.define_measure(data={"code": "TEST1", "name": "Test measure", "unit": "%",
                                               "polarity": "higher", "synthetic": True})
    rows = [f"{gss(code)},2022-23,{(i + 1) * 10}" for i, code in enumerate(EIGHT)] + [f"{gss(NINTH)},2022-23,"]
    data = ("organisation code,period,value\n" + "\n".join(rows) + "\n").encode()
    assert services.import_tidy_csv(data, measure=measure, actor=users["superuser"]).applied
    return {code: council_organisation(code) for code in EIGHT + [NINTH]}


# The catalogue -----------------------------------------------------------------------------------

def test_catalogue_lists_the_oflog_measures(oflog):
    body = ok(Client().get(f"{API}/measures"))
    assert body["count"] == 7 and [m["code"] for m in body["results"]] == [f"ASC{i}" for i in range(1, 8)]
    asc7 = body["results"][6]
    assert asc7["polarity"] == "lower" and asc7["url"] == "http://testserver/api/v1/benchmarking/measures/ASC7"
    assert asc7["rows"] == MeasureValue.objects.filter(measure__code="ASC7").count()
    assert asc7["periods"] == sorted(asc7["periods"]) and asc7["licence"]
    assert body["results"][5]["polarity"] == "none"
    page = ok(Client().get(f"{API}/measures?page_size=2&page=2"))
    assert [m["code"] for m in page["results"]] == ["ASC3", "ASC4"] and page["pages"] == 4
    invalid(Client().get(f"{API}/measures?page=9"), "page")


# A measure's table -------------------------------------------------------------------------------

def test_measure_table_on_oflog_agrees_with_oflog(oflog):
    """docs/methods.md worked example: Enfield, ASC1 2016-17: median 7.6, MAD 0.3, +0.33 MADs."""
    enfield = Organisation.objects.get(gss_code="E09000010")
    body = ok(Client().get(f"{API}/measures/asc1?period=2016-17&org={enfield.slug}"))
    assert body["measure"]["code"] == "ASC1" and body["period"] == "2016-17"
    assert body["median"] == pytest.approx(7.6) and body["mad"] == pytest.approx(0.3)
    mine = body["highlighted"]
    assert mine["organisation"]["slug"] == enfield.slug and mine["highlighted"]
    assert mine["mad_distance"] == pytest.approx(0.3333333333333353)
    assert body["peer"] == {"key": "national", "label": "all councils", "members": None,
                            "description": "National: every council with a row for this measure and period"}
    assert body["methods"]["percentile_method"] == bm.PERCENTILE_METHOD
    assert body["methods"]["quartile_method"] == bm.QUARTILE_METHOD
    # Every row as queries.measure_table has it: the API recomputes nothing.
    table = queries.measure_table(Measure.objects.get(code="ASC1"), "2016-17", org=enfield)
    assert body["sentence"] == table.sentence and body["n"] == table.n == len(body["values"])
    assert [(r["organisation"]["gss_code"], r["rank"], r["percentile"], r["quartile"], r["mad_distance"])
            for r in body["values"]] == [
        (r.organisation.gss_code, r.position.rank, r.position.percentile, r.position.quartile,
         r.position.mad_distance) for r in table.rows]
    ranks = [r["rank"] for r in body["values"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    # The latest period by default.
    latest = ok(Client().get(f"{API}/measures/ASC1"))
    assert latest["period"] == latest["periods"][-1] and latest["highlighted"] is None and latest["sentence"] == ""


def test_missing_values_are_listed_and_counted_not_ranked(oflog):
    asc7 = Measure.objects.get(code="ASC7")
    period = (MeasureValue.objects.filter(measure=asc7, value=None).values_list("period", flat=True)
              .order_by("period").first())
    body = ok(Client().get(f"{API}/measures/ASC7?period={period}"))
    gaps = MeasureValue.objects.filter(measure=asc7, period=period, value=None).count()
    assert gaps and body["missing_count"] == len(body["missing"]) == gaps
    for row in body["missing"]:
        assert (row["value"], row["rank"], row["percentile"], row["quartile"], row["mad_distance"]) == (
            None, None, None, None, None)
    assert body["n"] + gaps == MeasureValue.objects.filter(measure=asc7, period=period).count()
    assert all(r["value"] is not None for r in body["values"])


def test_hand_built_measure_positions(eight):
    body = ok(Client().get(f"{API}/measures/TEST1?org={eight['HCK'].slug}"))
    assert (body["n"], body["median"], body["mad"], body["missing_count"]) == (8, 45.0, 20.0, 1)
    assert body["quartiles"] == {"q1": 27.5, "median": 45.0, "q3": 62.5}
    hck = body["highlighted"]
    assert (hck["value"], hck["rank"], hck["of"], hck["percentile"], hck["quartile"], hck["mad_distance"]) == (
        60.0, 3, 8, 68.75, 2, 0.75)
    assert body["missing"][0]["organisation"]["slug"] == eight[NINTH].slug
    assert body["sentence"].startswith(eight["HCK"].name + " is in the second quartile of all 8 councils")


def test_peer_groups(users, eight):
    merton = eight["MRT"]
    region = ok(Client().get(f"{API}/measures/TEST1?org={merton.slug}&peer=region"))
    assert region["peer"]["key"] == "region" and region["peer"]["members"] >= 9 and region["n"] == 8
    assert ok(Client().get(f"{API}/measures/TEST1?org={merton.slug}&peer=type"))["peer"]["key"] == "type"
    group = services.load_nearest_neighbours(actor=users["admin"], owner=users["merton"],
                                             path=shared("oflog", "NN.json"))
    key = f"group-{group.pk}"
    mine = ok(client_for(users, "viewer").get(f"{API}/measures/TEST1?org={merton.slug}&peer={key}"))
    assert mine["peer"]["key"] == key and mine["peer"]["members"] == 16
    assert mine["n"] + mine["missing_count"] == 16  # neighbours with no row are missing, not zero
    summary = ok(client_for(users, "viewer").get(f"{API}/councils/{merton.slug}?peer={key}"))
    assert summary["peer"]["key"] == key
    # Not Merton's? The group is not there for you: a problem naming peer, as for a group that does not exist.
    for who in ("anonymous", "other"):
        invalid(client_for(users, who).get(f"{API}/measures/TEST1?org={merton.slug}&peer={key}"), "peer")
        invalid(client_for(users, who).get(f"{API}/councils/{merton.slug}?peer={key}"), "peer")
    invalid(Client().get(f"{API}/measures/TEST1?org={merton.slug}&peer=group-999999"), "peer")
    invalid(Client().get(f"{API}/measures/TEST1?peer=region"), "peer")  # whose region?
    invalid(Client().get(f"{API}/measures/TEST1?org={merton.slug}&peer=nearby"), "peer")
    assert ok(Client().get(f"{API}/measures/TEST1?peer="))["peer"]["key"] == "national"  # blank is absent


def test_bad_parameters(eight):
    invalid(Client().get(f"{API}/measures/TEST1?period=2099-00"), "period")
    invalid(Client().get(f"{API}/measures/TEST1?org=no-such-council"), "org")
    invalid(Client().get(f"{API}/measures/TEST1?period=" + "9" * 21), "period")
    invalid(Client().get(f"{API}/measures/TEST1?org=a%00b"), "org")
    assert "NOPE" in problem(Client().get(f"{API}/measures/NOPE"), 404)["detail"]
    assert "no-such" in problem(Client().get(f"{API}/councils/no-such"), 404)["detail"]
    problem(Client().post(f"{API}/measures/TEST1"), 405)


# A council's summary -----------------------------------------------------------------------------

def test_council_summary_on_oflog(oflog):
    enfield = Organisation.objects.get(gss_code="E09000010")
    body = ok(Client().get(f"{API}/councils/{enfield.slug}"))
    assert body["organisation"]["gss_code"] == "E09000010" and body["peer"]["key"] == "national"
    assert body["methods"]["mad_method"] == queries.MAD_METHOD
    _, items = queries.council_summary(enfield)
    assert len(body["measures"]) == len(items) == 7
    assert [(m["measure"]["code"], m["period"], m["trend"], m["sentence"], m["position"]["rank"])
            for m in body["measures"]] == [
        (i.measure.code, i.period, i.trend, i.sentence, i.position.rank) for i in items]
    distances = [abs(m["position"]["mad_distance"]) for m in body["measures"]
                 if m["position"]["mad_distance"] is not None]
    assert distances == sorted(distances, reverse=True)
    first = body["measures"][0]
    assert [p["period"] for p in first["series"]] == [p for p, _ in items[0].series]
    assert first["trend"] in {*bm.TRENDS, "rising", "falling"}
    assert first["sentence"].startswith(enfield.name)


def test_council_with_a_missing_value(eight):
    body = ok(Client().get(f"{API}/councils/{eight[NINTH].slug}"))
    (item,) = body["measures"]
    assert item["value"] is None and item["position"]["rank"] is None
    assert item["sentence"] == f"{eight[NINTH].name} has no value for this period."
    assert item["missing"] == 1 and item["n"] == 8


def test_openapi_marks_benchmarking_public(db):
    spec = ok(Client().get("/api/v1/openapi.json"))
    for path in ("/measures", "/measures/{code}", "/councils/{slug}", "/councils/{slug}/neighbours"):
        operation = spec["paths"][f"{API}{path}"]["get"]
        assert operation["security"] == [{}, {"SessionAuth": []}] and operation["tags"] == ["benchmarking"]
    names = {p["name"] for p in spec["paths"][f"{API}/measures/{{code}}"]["get"]["parameters"]}
    assert names == {"code", "period", "peer", "org"}
    names = {p["name"] for p in spec["paths"][f"{API}/councils/{{slug}}/neighbours"]["get"]["parameters"]}
    assert names == {"slug", "measures", "weights", "limit", "period"}


# Computed nearest neighbours ---------------------------------------------------------------------

def test_neighbours_on_oflog(oflog):
    enfield = Organisation.objects.get(gss_code="E09000010")
    url = f"{API}/councils/{enfield.slug}/neighbours?measures=ASC1,asc2,ASC3"
    body = ok(Client().get(url))
    assert body["count"] == len(body["neighbours"]) == 15  # the default limit
    assert [m["measure"]["code"] for m in body["measures"]] == ["ASC1", "ASC2", "ASC3"]
    assert body["method"] == queries.NEIGHBOUR_METHOD and body["sd"] == "population"
    slugs = [n["organisation"]["slug"] for n in body["neighbours"]]
    assert enfield.slug not in slugs and len(set(slugs)) == 15
    ranks = [n["rank"] for n in body["neighbours"]]
    assert ranks[0] == 1 and ranks == sorted(ranks)
    distances = [n["distance"] for n in body["neighbours"]]
    assert distances == sorted(distances)
    assert ok(Client().get(url + "&limit=4"))["neighbours"] == body["neighbours"][:4]
    # The full list: every other council with a value in common, the farthest rebased to 1.0.
    full = ok(Client().get(url + "&limit=500"))
    assert full["count"] == full["compared"] - 1 > 15
    assert enfield.slug not in {n["organisation"]["slug"] for n in full["neighbours"]}
    assert max(n["rebased"] for n in full["neighbours"]) == 1.0 == full["neighbours"][-1]["rebased"]
    assert full["neighbours"][:15] == body["neighbours"]
    # The same as methods.benchmarking.nearest_neighbours on the values read directly.
    result = queries.computed_neighbours(enfield, ["ASC1", "ASC2", "ASC3"], limit=None)
    assert [(n.key.slug, n.distance, n.rebased, n.rank) for n in result.neighbours] == [
        (n["organisation"]["slug"], n["distance"], n["rebased"], n["rank"]) for n in full["neighbours"]]
    # A period for every measure.
    period = body["measures"][0]["period"]
    dated = ok(Client().get(url + f"&period={period}"))
    assert {m["period"] for m in dated["measures"]} == {period}


def test_neighbours_bad_input(oflog, eight):
    enfield = Organisation.objects.get(gss_code="E09000010")
    base = f"{API}/councils/{enfield.slug}/neighbours"
    assert "NOPE" in invalid(Client().get(f"{base}?measures=ASC1,NOPE"), "measures")["detail"]
    invalid(Client().get(f"{base}?measures=,,"), "measures")
    invalid(Client().get(base), "measures")
    invalid(Client().get(f"{base}?measures=ASC1&limit=0"), "limit")
    invalid(Client().get(f"{base}?measures=ASC1&limit=501"), "limit")
    invalid(Client().get(f"{base}?measures=ASC1&period=2099-00"), "period")
    # No data in common: Enfield has no value for the hand-built measure.
    invalid(Client().get(f"{base}?measures=TEST1"), "measures")
    # Only one council with a value in the period: nobody to compare with.
    MeasureValue.objects.filter(measure__code="TEST1").exclude(organisation=eight["MRT"]).update(value=None)
    assert "no other council" in invalid(Client().get(
        f"{API}/councils/{eight['MRT'].slug}/neighbours?measures=TEST1"), "measures")["detail"]
    problem(Client().get(f"{API}/councils/no-such/neighbours?measures=ASC1"), 404)
