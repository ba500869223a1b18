"""Long-format indicator files: the Trafford Data Lab files shipped in data/samples/trafford (real OGL data),
their period rules, England and ward rows, broken copies that load nothing, idempotency, a measure page
ranking Trafford among its neighbours (figures worked out by hand below), and Trafford's CIPFA peer lists
read from ../shared (CIPFA's terms: never shipped)."""

import csv
import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from commissioner.benchmarking import indicators, queries, services
from commissioner.benchmarking.importers import PeriodError
from commissioner.benchmarking.models import ImportRun, Measure, MeasureValue, PeerGroup, ReferenceValue
from commissioner.methods import benchmarking as bm
from commissioner.orgs.models import AuditEvent, Organisation
from commissioner.orgs.services import council_organisation
from conftest import SAMPLES, SHARED

TRAFFORD = SAMPLES / "trafford"
UPSTREAM = SHARED / "oflog" / "trafford_cipfa_benchmarks"
needs_shared = pytest.mark.skipif(not UPSTREAM.is_dir(), reason=f"../shared is absent ({UPSTREAM}): the CIPFA "
                                  "lists are not shipped (CIPFA's terms), so these tests read them from there")
TRAFFORD_GSS = "E08000009"


def values(code, period):
    return {gss: None if v is None else float(v) for gss, v in MeasureValue.objects.filter(
        measure__code=code, period=period).values_list("organisation__gss_code", "value")}


@pytest.fixture
def loaded(db):
    summaries = indicators.load_trafford_samples()
    assert all(s.applied for s in summaries), [s.as_dict()["problems"] for s in summaries]
    return {s.label.removeprefix("trafford/"): s for s in summaries}


def broken_copy(tmp_path, name, change):
    """A copy of a shipped file with ``change(rows)`` applied to its csv rows (header is rows[0])."""
    rows = list(csv.reader(io.StringIO((TRAFFORD / name).read_text(encoding="utf-8"))))
    change(rows)
    path = tmp_path / name.replace("/", "_")
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)
    return path


# -- the shipped files ---------------------------------------------------------------------------------

FILES = indicators.TRAFFORD_FILES + [f.replace("/", "/metadata/").replace(".csv", ".md")
                                     for f in indicators.TRAFFORD_FILES]


@pytest.mark.parametrize("name", FILES)
def test_shipped_files_match_their_recorded_sha256(name):
    provenance = (TRAFFORD / "PROVENANCE.md").read_text(encoding="utf-8")
    digest = hashlib.sha256((TRAFFORD / name).read_bytes()).hexdigest()
    assert f"`{digest}`" in provenance and name in provenance


@needs_shared
@pytest.mark.parametrize("name", FILES)
def test_shipped_files_are_byte_identical_to_the_upstream_copy(name):
    assert (TRAFFORD / name).read_bytes() == (UPSTREAM / name).read_bytes()


def test_no_cipfa_list_is_shipped():
    assert not [p for p in SAMPLES.rglob("*") if p.name.lower().startswith("cipfa")]


# -- periods -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,rule,expected", [
    ("2022-23", indicators.AS_PUBLISHED, ("2022-23", 2022)),
    ("2022/23", indicators.AS_PUBLISHED, ("2022-23", 2022)),
    ("2010/11", indicators.AS_PUBLISHED, ("2010-11", 2010)),
    ("FY2023", indicators.AS_PUBLISHED, ("2022-23", 2022)),
    ("FY 2022-23", indicators.AS_PUBLISHED, ("2022-23", 2022)),
    ("2022 to 2023", indicators.AS_PUBLISHED, ("2022-23", 2022)),
    ("2023", indicators.AS_PUBLISHED, ("2023", 2023)),
    ("2023", indicators.YEAR_ENDING, ("2022-23", 2022)),  # DfE NEET: the Dec 2022 - Feb 2023 average
    ("2022/23", indicators.YEAR_ENDING, ("2022-23", 2022)),  # a financial label is kept under either rule
    ("2000", indicators.YEAR_ENDING, ("1999-00", 1999)),
])
def test_periods_are_placed(raw, rule, expected):
    assert indicators.place_period(raw, rule) == expected


@pytest.mark.parametrize("raw", ["2022/24", "23", "Q1 2023", "", "2023-Q4"])
def test_unreadable_periods_are_refused(raw):
    with pytest.raises(PeriodError):
        indicators.place_period(raw)


def test_one_kind_of_period_per_measure():
    from collections import Counter
    kinds = Counter({indicators.FINANCIAL: 3, indicators.CALENDAR: 5})
    assert indicators.chosen_kind(kinds) == indicators.CALENDAR
    assert indicators.chosen_kind(Counter({indicators.FINANCIAL: 2, indicators.CALENDAR: 2})) == indicators.FINANCIAL
    assert indicators.chosen_kind(kinds, stored=indicators.FINANCIAL) == indicators.FINANCIAL  # what it holds wins


def test_units_and_codes():
    assert indicators.unit_for("Percentage", "Waste") == "%"
    assert indicators.unit_for("Frequency", "Tonnes") == "tonnes"
    assert indicators.unit_for("Frequency", "Persons") == "people"  # the column holds a subject, not a unit
    code = indicators.derived_code("Visits to libraries per head of population in the area each year", "Rate")
    assert len(code) <= 40 and code.startswith("IND-VISITS-TO") and code.endswith("-RATE")
    assert code == indicators.derived_code("Visits to libraries per head of population in the area each year", "rate")
    assert indicators.derived_code("Library visits", "Frequency") == "IND-LIBRARY-VISITS-N"


def test_metadata_is_read_as_plain_text():
    meta = indicators.read_metadata(TRAFFORD / "poverty" / "neet.csv")
    assert meta["title"].startswith("Proportion of academic age 16-17 year olds not in education")
    assert meta["source_url"] == "https://www.gov.uk/government/publications/neet-and-participation-local-authority-figures"
    assert "<a" not in meta["text"] and "Department for Education" in meta["text"]
    assert indicators.read_metadata(TRAFFORD / "nothing.csv") == {}


# -- the real files, loaded ----------------------------------------------------------------------------

# file: (data rows, council values, councils, England rows, rows skipped as wards)
COUNTS = {
    "climate/household_waste_recycling.csv": (332, 320, 16, 12, 0),
    "climate/household_waste_not_recycled.csv": (332, 320, 16, 12, 0),
    "poverty/neet.csv": (204, 192, 16, 12, 0),
    "poverty/real_living_wage.csv": (136, 128, 16, 8, 0),
    "poverty/children_poverty.csv": (189, 154, 11, 14, 21),
}
# measure: (unit, polarity, values, councils, periods)
MEASURES = {
    "TDL-WASTE-RECYCLED-PCT": ("%", "higher", 192, 16, [f"{y}-{(y + 1) % 100:02d}" for y in range(2010, 2022)]),
    "TDL-WASTE-RECYCLED-TONNES": ("tonnes", "none", 128, 16, [f"{y}-{(y + 1) % 100:02d}" for y in range(2014, 2022)]),
    "TDL-WASTE-NOT-RECYCLED-PCT": ("%", "lower", 192, 16, [f"{y}-{(y + 1) % 100:02d}" for y in range(2010, 2022)]),
    "TDL-WASTE-NOT-RECYCLED-TONNES": ("tonnes", "none", 128, 16,
                                      [f"{y}-{(y + 1) % 100:02d}" for y in range(2014, 2022)]),
    "TDL-NEET-OR-NOT-KNOWN-PCT": ("%", "lower", 112, 16, [f"{y}-{(y + 1) % 100:02d}" for y in range(2016, 2023)]),
    "TDL-NEET-PCT": ("%", "lower", 80, 16, ["2018-19", "2019-20", "2020-21", "2021-22", "2022-23"]),
    "TDL-LIVING-WAGE-PCT": ("%", "higher", 128, 16, [str(y) for y in range(2016, 2024)]),
    "TDL-CHILD-POVERTY-REL-PCT": ("%", "lower", 77, 11, [f"{y}-{(y + 1) % 100:02d}" for y in range(2016, 2023)]),
    "TDL-CHILD-POVERTY-ABS-PCT": ("%", "lower", 77, 11, [f"{y}-{(y + 1) % 100:02d}" for y in range(2016, 2023)]),
}


def test_counts_from_the_real_files(loaded):
    for name, (rows, council_values, councils, england, wards) in COUNTS.items():
        s = loaded[name]
        assert (s.file_rows, s.rows, s.organisations, s.reference_rows, s.skipped_rows, s.missing) == (
            rows, council_values, councils, england, wards, 0), name
        assert s.file_rows == s.rows + s.reference_rows + s.skipped_rows
    for code, (unit, polarity, count, councils, periods) in MEASURES.items():
        m = Measure.objects.get(code=code)
        assert (m.unit, m.polarity, m.licence, m.synthetic) == (unit, polarity, "OGL v3.0", False), code
        assert m.source_url == "https://github.com/traffordDataLab/corporate_plan"
        assert MeasureValue.objects.filter(measure=m).count() == count, code
        assert queries.measure_periods(m) == periods, code
        assert MeasureValue.objects.filter(measure=m).values("organisation").distinct().count() == councils
    assert Measure.objects.filter(code__startswith="TDL-").count() == 9


def test_england_is_reported_and_kept_but_never_ranked(loaded):
    assert not Organisation.objects.filter(gss_code="E92000001").exists()
    assert not MeasureValue.objects.filter(organisation__name__iexact="England").exists()
    s = loaded["climate/household_waste_recycling.csv"]
    england = s.reference["TDL-WASTE-RECYCLED-PCT"]["E92000001"]
    assert england["name"] == "England" and len(england["values"]) == 12
    assert england["values"]["2021-22"] == "42.5" and england["values"]["2010-11"] == "41.5"
    assert "TDL-WASTE-RECYCLED-TONNES" not in s.reference  # the file has no England tonnage
    assert any("not ranked: 12 TDL-WASTE-RECYCLED-PCT values for England (E92000001)" in line for line in s.lines())
    run = ImportRun.objects.get(label="trafford/climate/household_waste_recycling.csv")
    assert run.kind == "indicators"
    assert run.counts["reference"]["TDL-WASTE-RECYCLED-PCT"]["E92000001"]["values"]["2021-22"] == "42.5"
    neet = loaded["poverty/neet.csv"].reference
    assert neet["TDL-NEET-PCT"]["E92000001"]["values"]["2022-23"] == "2.8"  # published as "2023"
    assert neet["TDL-NEET-OR-NOT-KNOWN-PCT"]["E92000001"]["values"]["2022-23"] == "5.2"
    # stored beside the councils' values, shown next to the median on the page and in the API, never ranked
    recycled = Measure.objects.get(code="TDL-WASTE-RECYCLED-PCT")
    assert ReferenceValue.objects.filter(measure=recycled, area_code="E92000001").count() == 12
    table = queries.measure_table(recycled, "2021-22")
    assert [(r.area_name, r.value) for r in table.references] == [("England", Decimal("42.5"))]
    assert all(row.organisation.gss_code != "E92000001" for row in table.rows + table.missing)
    page = Client().get("/benchmarking/measures/TDL-WASTE-RECYCLED-PCT/?period=2021-22")
    assert "England (E92000001, for comparison, not ranked): 42.5 %." in page.content.decode()
    api = Client().get("/api/v1/benchmarking/measures/TDL-WASTE-RECYCLED-PCT?period=2021-22").json()
    assert api["references"] == [{"area_code": "E92000001", "area_name": "England", "value": 42.5}]


def test_wards_are_skipped_as_not_councils(loaded):
    s = loaded["poverty/children_poverty.csv"]
    assert s.skipped == {"electoral ward (E05...): not a council": list(range(62, 83))}
    assert "skipped 21 rows: electoral ward (E05...): not a council (rows 62-82)" in "\n".join(s.lines())
    assert not Organisation.objects.filter(gss_code__startswith="E05").exists()
    # The wards are only in 2021-22 relative low income: that period has the same 11 councils as the others.
    assert len(values("TDL-CHILD-POVERTY-REL-PCT", "2021-22")) == 11
    assert values("TDL-CHILD-POVERTY-REL-PCT", "2021-22")[TRAFFORD_GSS] == 12.3


def test_neet_calendar_labels_are_the_academic_year_they_end(loaded):
    """Why "2023" is stored as 2022-23: Thurrock reports (almost) no "activity not known", and its NEET and
    NEET-or-not-known values are equal in every year only when "2023" is aligned with "2022/23"."""
    thurrock = "E06000034"
    pairs = [(values("TDL-NEET-PCT", p)[thurrock], values("TDL-NEET-OR-NOT-KNOWN-PCT", p)[thurrock])
             for p in MEASURES["TDL-NEET-PCT"][4]]
    assert [float(a) for a, b in pairs] == [1.6, 1.6, 2.2, 2.0, 2.8] and all(a == b for a, b in pairs)
    # And NEET alone never exceeds NEET or not known, for any council in any of the five years.
    for p in MEASURES["TDL-NEET-PCT"][4]:
        both = values("TDL-NEET-OR-NOT-KNOWN-PCT", p)
        assert all(v <= both[code] for code, v in values("TDL-NEET-PCT", p).items())
    assert values("TDL-NEET-PCT", "2022-23")[TRAFFORD_GSS] == pytest.approx(1.9)


def test_a_second_import_changes_nothing(loaded):
    count, runs = MeasureValue.objects.count(), ImportRun.objects.count()
    events, references = AuditEvent.objects.count(), ReferenceValue.objects.count()
    again = indicators.load_trafford_samples()
    assert [(s.created, s.updated, s.measures_created, s.reference_changed) for s in again] == [(0, 0, 0, 0)] * 5
    assert ReferenceValue.objects.count() == references == sum(s.reference_rows for s in loaded.values())
    assert [s.unchanged for s in again] == [320, 320, 192, 128, 154]
    assert (MeasureValue.objects.count(), ImportRun.objects.count(), AuditEvent.objects.count()) == (
        count, runs, events)
    assert runs == 5 and AuditEvent.objects.filter(model="benchmarking.ImportRun", action="imported").count() == 5


# -- bad input -------------------------------------------------------------------------------------------

def test_a_broken_file_loads_nothing_and_names_row_and_column(db, tmp_path):
    def change(rows):
        rows[9][6] = "about 4"  # text in a value (file row 10)
        rows[19][0] = "E06999999"  # an unknown code (file row 20)
        rows.append(list(rows[1]))  # a duplicate of file row 2 (file row 206)
    path = broken_copy(tmp_path, "poverty/neet.csv", change)
    s = indicators.import_long_csv(path)
    assert not s.applied
    assert [str(p) for p in s.problems] == [
        "row 10, value: 'about 4' is not a number",
        "row 20, area_code: unknown organisation code E06999999 (York)",
        ("row 206, area_code: duplicate: E06000007 2016-17 TDL-NEET-OR-NOT-KNOWN-PCT is also on row 2 "
        "(after code mapping)"),
    ]
    assert not Measure.objects.filter(code__startswith="TDL-").exists()
    assert not MeasureValue.objects.exists() and not ImportRun.objects.exists()
    assert next(iter(s.lines())) == f"Nothing loaded from {path.name}: 3 problem(s)"


def test_a_calendar_year_in_a_measure_of_financial_years_cannot_be_placed(db, tmp_path):
    def change(rows):
        rows[4][2] = "2011"  # recycling is by financial year: 2011 could be 2010-11 or 2011-12
    s = indicators.import_long_csv(broken_copy(tmp_path, "climate/household_waste_recycling.csv", change))
    assert [str(p) for p in s.problems] == [
        ("row 5, period: '2011' is a calendar year but TDL-WASTE-RECYCLED-PCT holds financial years (2022-23): it "
        "cannot be placed (2023 could be 2022-23 or 2023-24)")]
    assert not MeasureValue.objects.exists()


def test_a_financial_year_in_a_measure_that_holds_calendar_years_is_refused(loaded, tmp_path):
    def change(rows):
        for r in rows[1:]:
            r[2] = "2023/24"  # every row financial: the measure already holds calendar years
        del rows[2:]
    s = indicators.import_long_csv(broken_copy(tmp_path, "poverty/real_living_wage.csv", change))
    assert [str(p) for p in s.problems] == [("row 2, period: '2023/24' is a financial year but TDL-LIVING-WAGE-PCT "
                                            "holds calendar years (2023): it cannot be placed")]


def test_suppression_markers_are_missing_not_zero(db, tmp_path):
    def change(rows):
        rows[1][6] = "x"
        rows[2][6] = "[c]"
        rows[3][6] = ".."
        rows[4][6] = ""
    s = indicators.import_long_csv(broken_copy(tmp_path, "poverty/real_living_wage.csv", change))
    assert s.applied and s.missing == 4 and s.rows == 128
    missing = MeasureValue.objects.filter(measure__code="TDL-LIVING-WAGE-PCT", value__isnull=True)
    assert sorted(missing.values_list("note", flat=True)) == [
        "'..' in the source (suppressed)", "'[c]' in the source (suppressed)", "'x' in the source (suppressed)",
        "blank in the source"]
    table = queries.measure_table(Measure.objects.get(code="TDL-LIVING-WAGE-PCT"), "2016")
    assert (table.n, len(table.missing)) == (12, 4)


@pytest.mark.parametrize("text,reason", [
    ("", "file: the file is empty"),
    ("area_code,period,value\nE08000009,2023,1\n", "row 1, header: no indicator, measure column"),
    ("area_code,area_name,period,indicator,measure,unit,value\n,Trafford,2023,Thing,Percentage,Persons,1\n",
     "row 2, area_code: no area code"),
    ("area_code,area_name,period,indicator,measure,unit,value\nE08000009,Trafford,Q3,Thing,Percentage,Persons,1\n",
     "row 2, period: 'Q3' is not a period we recognise: use 2022-23, 2022/23, FY2023 or 2023"),
    ("area_code,area_name,period,indicator,measure,unit,value\nXYZ,Somewhere,2023,Thing,Percentage,Persons,1\n",
     "row 2, area_code: unknown organisation code XYZ (Somewhere)"),
])
def test_bad_files_are_refused(db, tmp_path, text, reason):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    s = indicators.import_long_csv(path)
    assert not s.applied and str(s.problems[0]).startswith(reason)
    assert not Measure.objects.exists()


def test_a_file_of_any_indicator_gets_a_derived_measure(db, tmp_path):
    path = tmp_path / "libraries.csv"
    path.write_text("area_code,area_name,period,indicator,measure,unit,value\n"
                    "E08000009,Trafford,2022/23,Library visits,Frequency,Persons,\"1,200\"\n"
                    "E08000007,Stockport,2022-23,Library visits,Frequency,Persons,900\n"
                    "E92000001,England,FY2023,Library visits,Frequency,Persons,100000\n", encoding="utf-8")
    s = indicators.import_long_csv(path)
    assert s.applied and s.rows == 2 and s.reference_rows == 1
    m = Measure.objects.get(code="IND-LIBRARY-VISITS-N")
    assert (m.name, m.unit, m.polarity, m.licence) == ("Library visits (frequency)", "people", "none", "")
    assert values("IND-LIBRARY-VISITS-N", "2022-23") == {TRAFFORD_GSS: 1200, "E08000007": 900}
    # An administrator's choice of polarity survives the next import of the same file.
    m.polarity = "higher"
    m.save()
    assert indicators.import_long_csv(path).unchanged == 2
    assert Measure.objects.get(code="IND-LIBRARY-VISITS-N").polarity == "higher"


def test_only_a_site_administrator_may_import(users):
    path = TRAFFORD / "poverty" / "neet.csv"
    s = indicators.import_long_csv(path, actor=users["admin"])
    assert s.refused and not s.applied and "only a site administrator" in str(s.problems[0])
    assert not MeasureValue.objects.filter(measure__code__startswith="TDL-").exists()
    assert indicators.import_long_csv(path, actor=users["superuser"]).created == 192
    assert ImportRun.objects.get(kind="indicators").actor == users["superuser"]


def test_command_line(db, tmp_path, capsys):
    call_command("commissioner_benchmark", "import-indicators", str(TRAFFORD / "poverty" / "real_living_wage.csv"))
    assert "TDL-LIVING-WAGE-PCT: 128 values for 16 councils, 8 periods 2016 to 2023" in capsys.readouterr().out
    bad = broken_copy(tmp_path, "poverty/neet.csv", lambda rows: rows[2].__setitem__(6, "n/k"))
    with pytest.raises(CommandError, match="nothing loaded from .*neet.csv: 1 problem"):
        call_command("commissioner_benchmark", "import-indicators", str(bad))
    assert "row 3, value: 'n/k' is not a number" in capsys.readouterr().out
    call_command("commissioner_benchmark", "import-trafford")
    out = capsys.readouterr().out
    assert out.count("Loaded trafford/") == 5 and "(0 new, 0 changed, 128 unchanged; 0 missing)" in out
    assert MeasureValue.objects.filter(measure__code__startswith="TDL-").count() == 1114


# -- pages -------------------------------------------------------------------------------------------------

def test_measure_page_ranks_trafford_among_its_neighbours(loaded):
    """Recycling 2021-22, by hand from the file (England 42.5 left out): the 16 councils, lowest first, are
    28.7 35.2 36.5 37 37.3 38.9 40.5 42.1 43.2 51.5 51.9 53.8 57.6 58.8 (Trafford) 59.9 60.3. Higher is better:
    Trafford ranks 3 (after Stockport 60.3 and South Gloucestershire 59.9); 13 councils below it, so the
    percentile rank is (13 + 0.5) / 16 = 84.375; the median is (42.1 + 43.2) / 2 = 42.65; the absolute
    deviations' median is (7.45 + 8.85) / 2 = 8.15, so Trafford is (58.8 - 42.65) / 8.15 = 1.98 MADs better;
    Q3 (type 7) is 53.8 + 0.25 x 3.8 = 54.75 < 58.8, so it is in the top quartile."""
    trafford = council_organisation("TRF")
    response = Client().get(f"/benchmarking/measures/TDL-WASTE-RECYCLED-PCT/?org={trafford.slug}")
    assert response.status_code == 200
    t = response.context["t"]
    assert t.period == "2021-22" and (t.n, len(t.missing)) == (16, 0)
    pos = t.highlighted.position
    assert (float(pos.value), pos.rank, pos.n, pos.percentile, pos.quartile) == (58.8, 3, 16, 84.375, 1)
    assert pos.mad_distance == pytest.approx(16.15 / 8.15)
    assert (t.median, t.mad) == (pytest.approx(42.65), pytest.approx(8.15))
    assert [r.organisation.gss_code for r in t.rows[:3]] == ["E08000007", "E06000025", TRAFFORD_GSS]
    html = response.content.decode()
    assert bm.PERCENTILE_METHOD in html and "National: every council with a row for this measure and period" in html
    assert f"{trafford.name} is in the top quartile of all 16 councils with a value, 2.0 MADs better than their " \
           "median." in html
    assert "OGL v3.0" in html and "England" not in re.sub(r"<dl.*?</dl>", "", html, flags=re.DOTALL).split(
        'id="values"')[1]  # the definition mentions England; the ranked table does not
    rows = list(csv.DictReader(io.StringIO(Client().get(
        "/benchmarking/measures/TDL-WASTE-RECYCLED-PCT/?format=csv&period=2021-22").content.decode())))
    mine = next(r for r in rows if r["organisation_code"] == TRAFFORD_GSS)
    assert len(rows) == 16 and (mine["value"], mine["rank"], mine["percentile"], mine["quartile"]) == (
        "58.8", "3", "84.38", "1")


def test_council_page_shows_the_trafford_measures(loaded):
    trafford = council_organisation("TRF")
    response = Client().get(f"/benchmarking/councils/{trafford.slug}/")
    assert response.status_code == 200
    items = {i.measure.code: i for i in response.context["items"]}
    assert set(MEASURES) <= set(items)
    neet = items["TDL-NEET-PCT"]  # lower is better: York 0.7, Bedford 1.8, Swindon 1.8, then Trafford 1.9
    assert (neet.period, float(neet.value), neet.position.rank, neet.n) == ("2022-23", 1.9, 4, 16)
    assert items["TDL-LIVING-WAGE-PCT"].period == "2023"


# -- Trafford's imported peer lists (CIPFA's terms: read from ../shared, never shipped) ----------------------

@needs_shared
def test_cipfa_2019_and_2021_lists_as_trafford_peer_groups(loaded, users):
    trafford = council_organisation("TRF")
    for year in (2019, 2021):
        call_command("commissioner_benchmark", "peers", "TRF", str(UPSTREAM / f"cipfa{year}.csv"),
                     "--name", f"CIPFA {year}")
    groups = {year: PeerGroup.objects.get(owner=trafford, name=f"CIPFA {year}") for year in (2019, 2021)}
    members = {year: {o.gss_code for o in g.members.all()} for year, g in groups.items()}
    assert all(len(m) == 15 and TRAFFORD_GSS not in m for m in members.values())
    assert all(g.kind == PeerGroup.Kind.IMPORTED for g in groups.values())
    # The real difference: Darlington and Telford and Wrekin (2019) gave way to Medway and Reading (2021).
    assert members[2019] - members[2021] == {"E06000005", "E06000020"}
    assert members[2021] - members[2019] == {"E06000035", "E06000038"}
    measure = Measure.objects.get(code="TDL-WASTE-RECYCLED-PCT")
    t2021 = queries.measure_table(measure, "2021-22", peer_key=f"group-{groups[2021].pk}", org=trafford,
                                  user=None)
    assert t2021.peer.key == "national"  # CIPFA's list is shown only to Trafford's members (and admins)
    admin = users["superuser"]
    t2021 = queries.measure_table(measure, "2021-22", peer_key=f"group-{groups[2021].pk}", org=trafford, user=admin)
    assert (t2021.n, len(t2021.missing), t2021.highlighted.position.rank) == (16, 0, 3)  # the file's own set
    t2019 = queries.measure_table(measure, "2021-22", peer_key=f"group-{groups[2019].pk}", org=trafford, user=admin)
    # 2019 list: no rows for Darlington and Telford (missing, not zero); without Medway 40.5 and Reading 51.5
    # Trafford is still 3rd, of 14: (11 + 0.5) / 14.
    assert sorted(r.organisation.gss_code for r in t2019.missing) == ["E06000005", "E06000020"]
    assert (t2019.n, t2019.highlighted.position.rank, t2019.highlighted.position.percentile) == (
        14, 3, pytest.approx(11.5 / 14 * 100))


@needs_shared
def test_nearest_neighbour_json_is_deduplicated(db):
    import json
    path = SHARED / "oflog" / "NN.json"
    raw = json.loads(path.read_text(encoding="utf-8"))["E07000112"]
    assert len(raw) == 34 and raw.count("E07000112") == 4  # Folkestone and Hythe: its list is doubled
    codes = services.nearest_neighbour_codes(path, "E07000112")
    assert len(codes) == 15 == len(set(codes)) and "E07000112" not in codes
    assert codes == list(dict.fromkeys(c for c in raw if c != "E07000112"))  # order kept
    folkestone = council_organisation("SHE")
    group = services.load_nearest_neighbours(owner=folkestone, path=path)
    assert group.members.count() == 15 and not group.members.filter(pk=folkestone.pk).exists()


def test_demo_loads_the_trafford_files_once(db):
    """The demo calls this (its full run twice is test_benchmarking.test_demo_loads_the_oflog_sample_once)."""
    from commissioner.core.management.commands import commissioner_demo
    source = Path(commissioner_demo.__file__).read_text(encoding="utf-8")
    assert "load_trafford_samples(write=self.stdout.write)" in source
    lines = []
    indicators.load_trafford_samples(write=lines.append)
    assert sum(line.startswith("Loaded trafford/") for line in lines) == 5
    lines.clear()
    indicators.load_trafford_samples(write=lines.append)
    assert lines == []  # a second run has nothing to say and changes nothing
