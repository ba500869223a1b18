"""National benchmarking: the real Oflog import, tidy CSV imports and their bad inputs, code mapping,
peer groups, the measure and council pages (hand-built measure with the docs/methods.md numbers),
missing values, and CSV/JSON exports."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from commissioner.benchmarking import importers, queries, services
from commissioner.benchmarking.models import CodeMapping, Measure, MeasureValue, PeerGroup
from commissioner.methods import benchmarking as bm
from commissioner.orgs import reference
from commissioner.orgs.models import AuditEvent, Organisation
from commissioner.orgs.services import council_organisation
from conftest import SAMPLES, shared
from helpers import client_for

OFLOG = SAMPLES / "oflog" / "ASC_data.csv"
# Eight London boroughs, then a ninth with no value.
EIGHT = ["MRT", "SWK", "LBH", "CMD", "ISL", "HCK", "WND", "KEC"]
NINTH = "HAM"


def gss(code):
    return reference.councils()[code].gss_code


def tidy(rows, header="organisation code,period,value"):
    return (header + "\n" + "\n".join(",".join(str(c) for c in r) for r in rows) + "\n").encode()


@pytest.fixture
def measure(db):
    m, _ = services.define_measure(data={"code": "TEST1", "name": "Test measure", "unit": "%", "polarity": "higher",
                                         "source": "hand-built", "licence": "OGL v3.0", "synthetic": True})
    return m


@pytest.fixture
def eight(users, measure):
    """Values 10, 20, ..., 80 for eight councils in 2022-23, a missing value for a ninth."""
    rows = [(gss(code), "2022-23", (i + 1) * 10) for i, code in enumerate(EIGHT)] + [(gss(NINTH), "2022/23", "")]
    summary = services.import_tidy_csv(tidy(rows), measure=measure, actor=users["superuser"], label="eight.csv")
    assert summary.applied, summary.as_dict()
    return {code: council_organisation(code) for code in EIGHT + [NINTH]}


# -- the real Oflog file ------------------------------------------------------------------------------

def test_sample_is_the_shared_file():
    assert OFLOG.read_bytes() == shared("oflog", "ASC_data.csv").read_bytes()


@pytest.mark.django_db
def test_oflog_import_counts_and_a_known_value():
    summary = services.import_oflog(OFLOG)
    assert summary.applied, summary.problems[:5]
    assert (summary.measures_created, summary.organisations, summary.rows, summary.created,
            summary.missing) == (7, 157, 6376, 6376, 298)
    assert Measure.objects.filter(code__startswith="ASC").count() == 7
    assert MeasureValue.objects.filter(measure__code__startswith="ASC").count() == 6376
    assert MeasureValue.objects.filter(measure__code__startswith="ASC", value=None).count() == 298
    assert MeasureValue.objects.filter(measure__code="ASC7", value=None).count() == 253
    # First data row of the file: 2016-17, E06000005 Darlington, ASC1, 7.6.
    v = MeasureValue.objects.get(measure__code="ASC1", organisation__gss_code="E06000005", period="2016-17")
    assert str(v.value.normalize()) == "7.6" and v.organisation.la_code == "DAL"
    # Replaced councils stay themselves (Bournemouth E06000028, before BCP), not merged by hand.
    bournemouth = Organisation.objects.get(gss_code="E06000028")
    assert not bournemouth.is_current and bournemouth.measure_values.exists()
    # Our national median and MADs agree with Oflog's for Enfield (docs/methods.md worked example).
    table = queries.measure_table(Measure.objects.get(code="ASC1"), "2016-17",
                                  org=Organisation.objects.get(gss_code="E09000010"))
    assert table.median == pytest.approx(7.6) and table.mad == pytest.approx(0.3)
    assert table.highlighted.position.mad_distance == pytest.approx(0.3333333333333353)
    # ... and for every value in the file (Oflog's distances are unsigned by polarity: ASC7 is lower-is-better).
    every = list(csv.DictReader(io.StringIO(OFLOG.read_text(encoding="utf-8"))))
    source = {(r["Code"], r["Financial year"], r["Local authority code"]): r for r in every if r["Value"]}
    checked = 0
    for m in Measure.objects.filter(code__startswith="ASC"):
        for period in queries.measure_periods(m):
            t = queries.measure_table(m, period)
            assert t.n + len(t.missing) == sum(1 for r in every if (r["Code"], r["Financial year"]) == (m.code, period))
            for row in t.rows:
                theirs = source[(m.code, period, row.organisation.gss_code)]
                mine = row.position.mad_distance * (-1 if m.polarity == "lower" else 1)
                assert mine == pytest.approx(float(theirs["MADs_from_median"]), abs=1e-6)
                assert row.position.median == pytest.approx(float(theirs["MEDIAN"]), abs=1e-6)
                checked += 1
    assert checked == 6376 - 298
    assert Measure.objects.get(code="ASC7").polarity == "lower"
    assert Measure.objects.get(code="ASC6").polarity == "none"


@pytest.mark.django_db
def test_oflog_import_twice_changes_nothing():
    services.import_oflog(OFLOG)
    audits, orgs = AuditEvent.objects.count(), Organisation.objects.count()
    again = services.import_oflog(OFLOG)
    assert (again.created, again.updated, again.unchanged, again.measures_created) == (0, 0, 6376, 0)
    assert AuditEvent.objects.count() == audits and Organisation.objects.count() == orgs
    assert MeasureValue.objects.filter(measure__code__startswith="ASC").count() == 6376


# -- periods ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "label"), [
    ("2022-23", "2022-23"), ("2022/23", "2022-23"), ("FY2023", "2022-23"), ("2022-2023", "2022-23"),
    ("2022/2023", "2022-23"), ("FY22/23", "2022-23"), ("fy 2022-23", "2022-23"), ("2022 to 2023", "2022-23"),
    ("1999/00", "1999-00"), ("2023", "2023"),
])
def test_periods_are_normalised(raw, label):
    assert importers.normalise_period(raw)[0] == label


@pytest.mark.parametrize("raw", ["", "2022-24", "Q1 2023", "23", "March 2023", "3000"])
def test_bad_periods_are_refused(raw):
    with pytest.raises(importers.PeriodError):
        importers.normalise_period(raw)


# -- tidy CSV imports --------------------------------------------------------------------------------

@pytest.mark.parametrize(("rows", "row", "reason"), [
    ([("E99999999", "2022-23", 5)], 3, "unknown organisation code 'E99999999'"),
    ([("E09000024", "2022/23", 6)], 3, "duplicate: E09000024 2022-23 is also on row 2"),
    ([("MRT", "2022-23", 6)], 3, "same organisation and period as row 2"),
    ([("E09000028", "2022-23", "n/a!")], 3, "'n/a!' is not a number"),
    ([("E09000028", "Q3 2022", 7)], 3, "is not a period we recognise"),
    ([("E09000028", "2023", 7)], 0, "financial years (2022-23) and calendar years (2023) are mixed"),
])
def test_bad_rows_are_reported_and_nothing_is_loaded(users, measure, rows, row, reason):
    data = tidy([("E09000024", "2022-23", 5), *rows])
    summary = services.import_tidy_csv(data, measure=measure, actor=users["superuser"])
    assert not summary.applied
    assert any(p.row == row and reason in p.reason for p in summary.problems), [str(p) for p in summary.problems]
    assert not MeasureValue.objects.filter(measure=measure).exists()


def test_every_problem_is_listed_with_row_column_and_reason(users, measure):
    data = tidy([("E09000024", "2022-23", 5), ("E99", "2022-23", 1), ("E09000028", "2022-23", "lots"),
                 ("E09000028", "soon", 3), ("E09000022", "FY2023", 4)])
    summary = services.import_tidy_csv(data, measure=measure, actor=users["superuser"])
    assert [str(p) for p in summary.problems] == [
        "row 4, value: 'lots' is not a number",
        "row 5, period: 'soon' is not a period we recognise: use 2022-23, 2022/23, FY2023 or 2023",
        "row 3, organisation code: unknown organisation code 'E99'",
    ]
    assert not MeasureValue.objects.filter(measure=measure).exists()


def test_headers_encodings_and_delimiters_vary(users, measure):
    data = "Area Code;Financial Year;Value\r\nE09000024;2022/23;12.5\r\nLDS;FY2023;\r\n".encode("cp1252")
    summary = services.import_tidy_csv(data, measure=measure, actor=users["superuser"])
    assert summary.applied, [str(p) for p in summary.problems]
    assert (summary.created, summary.missing) == (2, 1)
    leeds = MeasureValue.objects.get(measure=measure, organisation__la_code="LDS")
    assert leeds.value is None and leeds.period == "2022-23"  # missing stays missing, never 0
    bad = services.import_tidy_csv(b"council,when\nMRT,2022-23\n", measure=measure, actor=users["superuser"])
    assert [str(p) for p in bad.problems] == [
        "row 1, header: no organisation code column (headers found: council, when)",
        "row 1, header: no period column (headers found: council, when)",
        "row 1, header: no value column (headers found: council, when)"]
    utf16 = "GSS code\tYear\tValue\nE09000024\t2021-2022\t1,234.5\n".encode("utf-16")
    assert services.import_tidy_csv(utf16, measure=measure, actor=users["superuser"]).created == 1
    assert MeasureValue.objects.get(measure=measure, period="2021-22").value == 1234.5


def test_a_council_may_not_load_values_into_a_national_measure(users, measure):
    # National and source measures take values only from site administrators and the command line: a council's
    # editor cannot overwrite a published figure, not even its own council's (local measures: test_benchmarking_local).
    data = tidy([(gss("MRT"), "2022-23", 5), (gss("LDS"), "2022-23", 6)])
    summary = services.import_tidy_csv(data, measure=measure, actor=users["admin"])
    assert summary.refused and [p.row for p in summary.problems] == [0]
    assert "TEST1 is a national measure from its source: only site administrators" in summary.problems[0].reason
    assert not MeasureValue.objects.filter(measure=measure).exists()
    event = AuditEvent.objects.get(action="refused", model="benchmarking.Measure")
    assert event.actor == users["admin"] and event.after["attempt"] == "submit benchmarking values"
    for role in ("commissioner", "viewer"):
        own = services.import_tidy_csv(tidy([("MRT", "2022-23", 5)]), measure=measure, actor=users[role])
        assert own.refused and not own.applied
    assert not MeasureValue.objects.filter(measure=measure).exists()
    ok = services.import_tidy_csv(tidy([("MRT", "2022-23", 5)]), measure=measure, actor=users["superuser"])
    assert ok.applied and ok.created == 1


def test_a_code_mapping_sends_old_codes_to_the_successor(users, measure):
    services.add_code_mapping(old_code="E06000028", new_code="E06000058", note="Bournemouth -> BCP (2019)")
    summary = services.import_tidy_csv(tidy([("E06000028", "2019-20", 41)]), measure=measure,
                                       actor=users["superuser"])
    assert summary.applied
    assert MeasureValue.objects.get(measure=measure).organisation.gss_code == "E06000058"
    assert CodeMapping.objects.get(old_code="E06000028").new_code == "E06000058"
    # Poole (E06000029) mapped too: the same successor twice in one file is a duplicate.
    services.add_code_mapping(old_code="E06000029", new_code="E06000058")
    dup = services.import_tidy_csv(tidy([("E06000028", "2020-21", 1), ("E06000029", "2020-21", 2)]),
                                   measure=measure, actor=users["superuser"])
    assert not dup.applied and "after code mapping" in dup.problems[0].reason


def test_reimport_updates_changed_values_only(users, measure, eight):
    rows = [(gss(code), "2022-23", (i + 1) * 10) for i, code in enumerate(EIGHT)]
    rows[0] = (gss(EIGHT[0]), "2022-23", 11)
    summary = services.import_tidy_csv(tidy(rows), measure=measure, actor=users["superuser"])
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 7)


# -- pages ---------------------------------------------------------------------------------------------

def test_measure_page_ranks_the_hand_built_measure(users, measure, eight):
    org = eight["HCK"]  # 60
    response = Client().get(f"/benchmarking/measures/TEST1/?org={org.slug}")
    assert response.status_code == 200
    table = response.context["t"]
    pos = table.highlighted.position
    assert (pos.value, pos.rank, pos.percentile, pos.quartile, pos.mad_distance) == (60, 3, 68.75, 2, 0.75)
    assert (table.n, len(table.missing), table.median, table.mad) == (8, 1, 45, 20)
    html = response.content.decode()
    assert bm.PERCENTILE_METHOD in html and bm.QUARTILE_METHOD in html
    assert "National: every council with a row for this measure and period" in html
    assert "Missing: 1" in html and f"{eight[NINTH].name}: missing" in html
    assert html.count("<h1") == 1
    assert (f"{org.name} is in the second quartile of all 8 councils with a value, 0.8 MADs better than their "
            "median.") in html


def test_lower_is_better_and_peer_groups(users, measure, eight):
    measure.polarity = "lower"
    measure.save()
    table = queries.measure_table(measure, "2022-23", org=eight["MRT"])
    pos = table.highlighted.position
    assert (pos.rank, pos.percentile, pos.quartile, pos.mad_distance) == (1, 93.75, 1, 1.75)
    # Same region (London): all nine are London boroughs; same type likewise.
    assert queries.measure_table(measure, "2022-23", peer_key="region", org=eight["MRT"]).n == 8
    # A peer group of Merton's CIPFA nearest neighbours (read from the shared NN.json), visible to Merton only.
    nn = shared("oflog", "NN.json")
    codes = services.nearest_neighbour_codes(nn, "E09000024")
    assert len(codes) == 15 and "E09000024" not in codes
    group = services.load_nearest_neighbours(actor=users["admin"], owner=users["merton"], path=nn)
    assert group.members.count() == 15 and group.kind == PeerGroup.Kind.IMPORTED
    key = f"group-{group.pk}"
    mine = queries.measure_table(measure, "2022-23", peer_key=key, org=eight["MRT"], user=users["viewer"])
    assert mine.peer.key == key
    in_group = {o.gss_code for o in group.members.all()} | {"E09000024"}
    assert mine.n == len([c for c in EIGHT if gss(c) in in_group])
    assert len(mine.missing) == 16 - mine.n  # neighbours with no value are missing, not zero
    anonymous = queries.measure_table(measure, "2022-23", peer_key=key, org=eight["MRT"], user=None)
    assert anonymous.peer.key == "national"
    page = client_for(users, "viewer").get(f"/benchmarking/councils/{eight['MRT'].slug}/?peer={key}")
    assert "CIPFA nearest neighbours" in page.content.decode()
    with pytest.raises(services.BenchmarkError):
        services.load_nearest_neighbours(actor=users["other"], owner=users["merton"], path=nn)


def test_council_page_sorts_by_distance_from_peers(users, measure, eight):
    other, _ = services.define_measure(data={"code": "TEST2", "name": "Second measure", "polarity": "lower"})
    rows = [(gss(code), "2022-23", (i + 1) * 10) for i, code in enumerate(EIGHT)]
    services.import_tidy_csv(tidy(rows + [(gss("SWK"), "2021-22", 25)]), measure=other,
                             actor=users["superuser"])
    # Southwark: TEST1 20 -> -1.25 MADs; TEST2 20 (lower better) -> +1.25; same |distance|, code order.
    # Merton: TEST1 10 -> -1.75; TEST2 10 -> +1.75.
    response = Client().get(f"/benchmarking/councils/{eight['SWK'].slug}/")
    assert response.status_code == 200
    items = response.context["items"]
    assert [(i.measure.code, i.position.mad_distance) for i in items] == [("TEST1", -1.25), ("TEST2", 1.25)]
    assert items[1].trend == "improving" and items[1].series[0][0] == "2021-22"
    html = response.content.decode()
    assert "<svg" in html and "TEST2 for" in html and bm.PERCENTILE_METHOD in html
    missing = Client().get(f"/benchmarking/councils/{eight[NINTH].slug}/")
    assert f"{eight[NINTH].name} has no value for this period." in missing.content.decode()


def test_catalogue_lists_measures(users, measure, eight):
    response = Client().get("/benchmarking/")
    assert response.status_code == 200
    m = next(m for m in response.context["measures"] if m.code == "TEST1")
    assert (m.councils, m.periods) == (8, ["2022-23"])
    assert "Test measure" in response.content.decode()


# -- exports -------------------------------------------------------------------------------------------

def test_csv_and_json_exports(users, measure, eight):
    response = Client().get("/benchmarking/measures/TEST1/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 9
    hck = next(r for r in rows if r["la_code"] == "HCK")
    assert (hck["value"], hck["rank"], hck["percentile"], hck["quartile"], hck["mads_from_median"]) == (
        "60", "3", "68.75", "2", "0.75")
    ninth = next(r for r in rows if r["la_code"] == NINTH)
    assert (ninth["value"], ninth["status"], ninth["rank"]) == ("", "missing", "")
    assert rows[0]["percentile_method"] == bm.PERCENTILE_METHOD
    data = json.loads(Client().get("/benchmarking/measures/TEST1/?format=json").content)
    assert data["measure"]["percentile_method"] == bm.PERCENTILE_METHOD
    assert len(data["values"]) == 9 and next(v for v in data["values"] if v["la_code"] == NINTH)["value"] is None
    # The export reads back in as a tidy CSV (organisation_code, period, value): nothing changes.
    again = services.import_tidy_csv(response.content, measure=measure, actor=users["superuser"])
    assert again.applied and again.unchanged == 9


def test_command_line(users, measure, tmp_path, capsys):
    path = tmp_path / "values.csv"
    path.write_bytes(tidy([("MRT", "2021/22", 3), ("LDS", "2021/22", 4)]))
    with pytest.raises(CommandError, match="nothing loaded"):
        call_command("commissioner_benchmark", "import-csv", str(path), "--measure", "TEST1", "--as", "merton-admin")
    call_command("commissioner_benchmark", "import-csv", str(path), "--measure", "NEW1", "--name", "New",
                 "--polarity", "lower")
    assert MeasureValue.objects.filter(measure__code="NEW1").count() == 2
    capsys.readouterr()
    call_command("commissioner_benchmark", "export", "NEW1", "--format", "json")
    out = json.loads(capsys.readouterr().out)
    assert out["measure"]["polarity"] == "lower" and len(out["values"]) == 2


def test_upload_page_is_for_site_administrators_on_a_national_measure(users, measure):
    url = "/benchmarking/measures/TEST1/upload/"
    assert Client().get(url).status_code == 302  # sign in first
    assert client_for(users, "viewer").get(url).status_code == 403
    refused = client_for(users, "admin").get(url)
    assert refused.status_code == 403
    assert AuditEvent.objects.filter(action="refused", actor=users["admin"]).exists()
    client = client_for(users, "superuser")
    page = client.get(url)
    assert page.status_code == 200 and "As a site administrator you may submit any council's values" in page.content.decode()
    bad = client.post(url, {"file": SimpleUploadedFile("v.csv", tidy([("MRT", "2022-23", 5), ("E99", "2022-23", 6)]))})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "nothing was saved" in html and "unknown organisation code &#x27;E99&#x27;" in html
    assert not MeasureValue.objects.filter(measure=measure).exists()
    ok = client.post(url, {"file": SimpleUploadedFile("v.csv", tidy([("MRT", "FY2023", 5)]))})
    assert ok.status_code == 302
    assert MeasureValue.objects.get(measure=measure).period == "2022-23"
    assert "Upload values (CSV)" in client.get("/benchmarking/measures/TEST1/").content.decode()
    assert "Upload values (CSV)" not in client_for(users, "admin").get("/benchmarking/measures/TEST1/").content.decode()
    assert "Upload values (CSV)" not in Client().get("/benchmarking/measures/TEST1/").content.decode()


def test_peer_groups_from_the_command_line(users, tmp_path):
    trafford = council_organisation("TRF")
    call_command("commissioner_benchmark", "peers", "TRF",
                 str(shared("oflog", "trafford_cipfa_benchmarks", "cipfa2021.csv")), "--name", "CIPFA 2021")
    group = PeerGroup.objects.get(owner=trafford, name="CIPFA 2021")
    assert group.members.count() == 15
    call_command("commissioner_benchmark", "peers", "merton", str(shared("oflog", "NN.json")))
    assert PeerGroup.objects.get(owner=users["merton"]).members.count() == 15
    with pytest.raises(CommandError, match="only save peer groups for your own council"):
        call_command("commissioner_benchmark", "peers", "merton", str(shared("oflog", "NN.json")),
                     "--as", "leeds-admin")


@pytest.mark.django_db
def test_a_code_mapping_applies_to_the_oflog_import():
    """Bournemouth (E06000028, to 2018-19) mapped to BCP (E06000058, from 2019-20): one series, no hand edits."""
    services.add_code_mapping(old_code="E06000028", new_code="E06000058", note="Bournemouth -> BCP")
    summary = services.import_oflog(OFLOG)
    assert summary.applied and summary.organisations == 156
    bcp = Organisation.objects.get(gss_code="E06000058")
    periods = set(bcp.measure_values.filter(measure__code="ASC5").values_list("period", flat=True))
    assert {"2015-16", "2022-23"} <= periods
    assert not MeasureValue.objects.filter(organisation__gss_code="E06000028").exists()
    # Poole mapped too: Bournemouth and Poole share periods, so the import refuses and loads nothing new.
    services.add_code_mapping(old_code="E06000029", new_code="E06000058")
    again = services.import_oflog(OFLOG)
    assert not again.applied and "(after code mapping)" in again.problems[0].reason


def test_demo_loads_the_oflog_sample_once(users, capsys):
    call_command("commissioner_demo", no_serve=True)
    assert MeasureValue.objects.filter(measure__code__startswith="ASC").count() == 6376
    runs = AuditEvent.objects.filter(model="benchmarking.ImportRun").count()
    call_command("commissioner_demo", no_serve=True)
    assert MeasureValue.objects.filter(measure__code__startswith="ASC").count() == 6376
    assert AuditEvent.objects.filter(model="benchmarking.ImportRun").count() == runs == 6  # Oflog + 5 Trafford files


@pytest.mark.django_db
def test_computed_nearest_neighbours_as_a_peer_group():
    services.import_oflog(OFLOG)
    org = Organisation.objects.get(gss_code="E09000010")  # Enfield
    chosen = queries.peer(None, org, "nearest")
    assert chosen.key == "nearest" and len(chosen.member_ids) == queries.NEAREST + 1 and org.pk in chosen.member_ids
    codes = list(Measure.objects.filter(values__organisation=org, values__value__isnull=False).distinct()
                 .order_by("code").values_list("code", flat=True))
    expected = {n.key.pk for n in queries.computed_neighbours(org, codes, limit=queries.NEAREST).neighbours}
    assert chosen.member_ids == expected | {org.pk}
    assert "nearest" in dict(queries.peer_options(None, org))
    table = queries.measure_table(Measure.objects.get(code="ASC1"), "2022-23", peer_key="nearest", org=org)
    assert table.peer.key == "nearest" and len(table.rows) + len(table.missing) <= queries.NEAREST + 1
