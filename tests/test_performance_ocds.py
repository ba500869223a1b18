"""KPIs and results as OCDS (metrics extension + UK extension): the export validates against the patched
schema, an export imported into another contract recreates the same KPIs and results, a second import
changes nothing, bad input of every kind is reported with its position and field and writes nothing,
other councils are refused (and the refusal is logged), and synthetic figures are labelled."""

import copy
import io
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from jsonschema import Draft4Validator

from commissioner.ocds.schema import release_schema
from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import create_user
from commissioner.performance import services
from commissioner.performance.models import Kpi, KpiReturn
from commissioner.performance.ocds import SYNTHETIC_NOTE, export_performance, import_performance
from commissioner.register.models import Contract
from commissioner.register.services import create_local_contract
from conftest import PASSWORD, shared

KPI_FIELDS = ("name", "definition", "unit", "target", "direction", "tolerance", "frequency", "weight", "is_act_kpi",
              "is_active", "synthetic")
RETURN_FIELDS = ("kpi__name", "period_start", "period_end", "value", "classification", "evidence", "synthetic")


def contract(users, *, title="Home care", private=True, start=date(2024, 4, 1), end=date(2027, 3, 31)):
    return create_local_contract(owner=users["merton"], actor=users["admin"], title=title, delivery_model="market",
                                 provider_name="Caring Hands Ltd", supplier_type="sme", value=1_000_000,
                                 start_date=start, end_date=end, is_private=private)


def kpi(users, c, synthetic=False, **data):
    base = {"name": "Visits on time", "unit": "%", "target": "95", "direction": "higher", "tolerance": "2",
            "frequency": "quarterly", "weight": "1", "is_act_kpi": True}
    return services.create_kpi(actor=users["admin"], contract=c, data=base | data, synthetic=synthetic)


def ret(users, k, day, value, **kw):
    return services.submit_return(actor=users["admin"], kpi=k, day=day, value=value, **kw)


def build(users, c):
    """Three KPIs (one retired), five current results (one of them a correction) and an assessment."""
    visits = kpi(users, c, definition="Share of visits that start within 15 minutes of the planned time",
                 weight="2")
    missed = kpi(users, c, name="Missed visits", unit="visits", target="10", direction="lower", tolerance="1",
                 frequency="monthly", is_act_kpi=False)
    old = kpi(users, c, name="Days to start a package", unit="days", target="5", direction="lower",
              frequency="annual", is_act_kpi=False)
    ret(users, visits, date(2025, 5, 15), "94", evidence="Rota system report, Q1")
    first = ret(users, visits, date(2025, 8, 1), "96.5")
    services.correct_return(actor=users["admin"], ret=first, value="97.25", reason="late visits double-counted")
    ret(users, missed, date(2025, 4, 10), "12")
    ret(users, missed, date(2025, 5, 10), "8", evidence="Logged by the call centre")
    ret(users, old, date(2024, 6, 1), "4.5")
    services.retire_kpi(actor=users["admin"], kpi=old)
    services.record_assessment(actor=users["admin"], contract=c, period_start=date(2025, 4, 1),
                               period_end=date(2025, 6, 30), rating="requires_improvement",
                               reason="missed visits rose", assessed_on=date(2025, 7, 20))
    return visits, missed, old


def export(user, contracts=None, **kw):
    out = io.BytesIO()
    export_performance(contracts if contracts is not None else Contract.objects.all(), out, user=user, **kw)
    return json.loads(out.getvalue())


def write(tmp_path, data, name="package.json"):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data, indent=1).encode())
    return path


def kpis_of(c):
    return sorted(Kpi.objects.filter(contract=c).values_list(*KPI_FIELDS))


def returns_of(c):
    return sorted(KpiReturn.objects.filter(kpi__contract=c, is_current=True).values_list(*RETURN_FIELDS))


def for_ocid(package, ocid):
    package = copy.deepcopy(package)
    for r in package["releases"]:
        r["ocid"] = ocid
    return package


# -- export ------------------------------------------------------------------------------------------

def test_the_export_validates_against_the_patched_schema_and_maps_each_field(users):
    c = contract(users)
    visits, missed, old = build(users, c)
    package = export(users["viewer"])  # any member of the council may see (and export) its performance
    validator = Draft4Validator(release_schema())
    package_schema = json.loads(shared("ocds_reference", "standard-1.1.5", "schema",
                                       "release-package-schema.json").read_text())
    package_schema["properties"]["releases"]["items"] = {"type": "object"}
    assert not list(Draft4Validator(package_schema).iter_errors(package))
    assert [r["ocid"] for r in package["releases"]] == [c.ocid]
    release = package["releases"][0]
    assert not [e.message for e in validator.iter_errors(release)]
    assert "x_note" not in package and "ocds_metrics_extension" in package["extensions"][0]
    assert release["id"].startswith(f"commissioner-performance-{c.pk}-")
    assert release["tag"] == ["contractUpdate", "implementationUpdate"] and release["initiationType"] == "tender"
    datetime.fromisoformat(release["date"])
    (oc,) = release["contracts"]
    assert oc["id"] == oc["awardID"] == f"contract-{c.pk}"  # entered by hand: no OCDS contract to name

    agreed = {m["title"]: m for m in oc["agreedMetrics"]}
    assert set(agreed) == {"Visits on time", "Missed visits", "Days to start a package"}
    m = agreed["Visits on time"]
    assert m["id"] == f"kpi-{visits.pk}"
    assert m["description"].startswith("Share of visits")
    assert m["observations"] == [{"id": "target", "measure": 95, "unit": {"name": "%"},
                                  "period": {"startDate": "2024-04-01T00:00:00+01:00",
                                             "endDate": "2027-03-31T23:59:59+01:00"}}]
    assert m["x_commissioner"] == {"direction": "higher", "tolerance": 2, "frequency": "quarterly", "weight": 2,
                                   "isActKpi": True, "active": True}
    assert agreed["Days to start a package"]["x_commissioner"]["active"] is False

    results = {m["id"]: m["observations"] for m in oc["implementation"]["metrics"]}
    assert [o["measure"] for o in results[f"kpi-{visits.pk}"]] == [94, 97.25]  # the correction, not the original
    q1 = results[f"kpi-{visits.pk}"][0]
    assert q1 == {"id": "return-2025-04-01", "period": {"startDate": "2025-04-01T00:00:00+01:00",
                                                         "endDate": "2025-06-30T23:59:59+01:00"},
                  "measure": 94, "unit": {"name": "%"}, "notes": "Rota system report, Q1",
                  "measureClassification": {"id": "slightlyBelow", "description": "Slightly below"}}
    assert [(o["period"]["startDate"][:10], o["measure"], o["measureClassification"]["id"])
            for o in results[f"kpi-{missed.pk}"]] == [("2025-04-01", 12, "below"),
                                                      ("2025-05-01", 8, "met")]
    assert results[f"kpi-{old.pk}"][0]["measure"] == 4.5  # a retired KPI's results are still published
    assessment = oc["x_commissioner"]["assessment"]
    assert assessment["rating"] == "requires_improvement" and assessment["assessedOn"] == "2025-07-20"
    assert assessment["reason"] == "missed visits rose" and "synthetic" not in assessment


def test_the_export_names_the_ocds_contract_or_award_of_a_published_process(users):
    from commissioner.ocds.services import compiled_releases

    candidates = Contract.objects.filter(source="ocds", status__in=["awarded", "contract"]).exclude(
        owner=users["merton"]).order_by("ocid")[:50]
    held = compiled_releases([c.ocid for c in candidates])
    c = next(c for c in candidates if held[c.ocid].get("contracts") or held[c.ocid].get("awards"))
    compiled = held[c.ocid]
    kpi({"admin": users["superuser"]}, c)
    (release,) = export(users["superuser"], Contract.objects.filter(pk=c.pk))["releases"]
    assert not list(Draft4Validator(release_schema()).iter_errors(release))
    oc = release["contracts"][0]
    if compiled.get("contracts"):
        assert (oc["id"], oc["awardID"]) == (compiled["contracts"][0]["id"], compiled["contracts"][0]["awardID"])
    else:
        assert oc["id"] == f"contract-{c.pk}" and oc["awardID"] == compiled["awards"][0]["id"]
    assert "implementation" not in oc and release["tag"] == ["contractUpdate"]
    assert export(users["admin"], Contract.objects.filter(pk=c.pk))["releases"] == []  # not Merton's


def test_the_export_is_only_what_the_user_may_see(users):
    c = contract(users)
    kpi(users, c)
    contract(users, title="No KPIs")
    assert [r["ocid"] for r in export(users["admin"])["releases"]] == [c.ocid]
    assert export(users["other"])["releases"] == []
    assert export(None)["releases"] == []
    public = contract(users, title="Published", private=False)
    kpi(users, public)
    assert export(users["other"])["releases"] == []  # performance is never public, even of a public contract
    assert len(export(None, Contract.objects.filter(owner=users["merton"]), operator=True)["releases"]) == 2


def test_synthetic_figures_are_labelled_in_the_export_and_kept_on_import(users, tmp_path):
    c = contract(users)
    real = kpi(users, c)
    fake = kpi(users, c, name="Made-up KPI", synthetic=True)
    ret(users, real, date(2025, 5, 1), "96")
    ret(users, fake, date(2025, 5, 1), "80", synthetic=True, source=KpiReturn.Source.GENERATED)
    services.record_assessment(actor=users["admin"], contract=c, period_start=date(2025, 4, 1),
                               period_end=date(2025, 6, 30), rating="other", reason="demo", synthetic=True)
    package = export(users["admin"])
    assert package["x_note"] == SYNTHETIC_NOTE
    oc = package["releases"][0]["contracts"][0]
    agreed = {m["title"]: m for m in oc["agreedMetrics"]}
    assert agreed["Made-up KPI"]["x_commissioner"]["synthetic"] is True
    assert agreed["Made-up KPI"]["observations"][0]["x_commissioner"] == {"synthetic": True}
    assert "synthetic" not in agreed["Visits on time"]["x_commissioner"]
    assert "x_commissioner" not in agreed["Visits on time"]["observations"][0]
    results = {m["title"]: m for m in oc["implementation"]["metrics"]}
    assert results["Made-up KPI"]["x_commissioner"] == {"synthetic": True}
    assert results["Made-up KPI"]["observations"][0]["x_commissioner"] == {"synthetic": True}
    assert "x_commissioner" not in results["Visits on time"]["observations"][0]
    assert oc["x_commissioner"]["assessment"]["synthetic"] is True
    assert not list(Draft4Validator(release_schema()).iter_errors(package["releases"][0]))

    other = contract(users, title="Copy")
    summary = import_performance(write(tmp_path, for_ocid(package, other.ocid)), actor=users["admin"])
    assert not summary.rejected and summary.kpis_created == 2
    assert dict(Kpi.objects.filter(contract=other).values_list("name", "synthetic")) == {
        "Visits on time": False, "Made-up KPI": True}
    assert dict(KpiReturn.objects.filter(kpi__contract=other).values_list("kpi__name", "synthetic")) == {
        "Visits on time": False, "Made-up KPI": True}
    # Without synthetic rows the note goes too.
    KpiReturn.objects.filter(synthetic=True).update(synthetic=False)
    Kpi.objects.filter(synthetic=True).update(synthetic=False)
    from commissioner.performance.models import Assessment

    Assessment.objects.filter(synthetic=True).update(synthetic=False)
    assert "x_note" not in export(users["admin"])


# -- round trip --------------------------------------------------------------------------------------

def test_an_export_imported_into_another_contract_recreates_the_kpis_and_results(users, tmp_path):
    a = contract(users)
    build(users, a)
    package = export(users["admin"], Contract.objects.filter(pk=a.pk))
    b = contract(users, title="Home care (re-let)")
    path = write(tmp_path, for_ocid(package, b.ocid))
    summary = import_performance(path, actor=users["commissioner"])
    assert summary.rejected == []
    assert (summary.releases, summary.contracts, summary.kpis_created, summary.returns_created) == (1, 1, 3, 5)
    assert kpis_of(b) == kpis_of(a)
    assert returns_of(b) == returns_of(a)
    assert set(KpiReturn.objects.filter(kpi__contract=b).values_list("source", flat=True)) == {"ocds"}
    assert AuditEvent.objects.filter(model="performance.Kpi", action="created", actor=users["commissioner"]).count() == 3
    # Again: everything is already there, nothing is written.
    before = KpiReturn.objects.count(), Kpi.objects.count(), AuditEvent.objects.count()
    again = import_performance(path, actor=users["commissioner"])
    assert (again.created, again.kpis_skipped, again.returns_skipped, again.rejected) == (0, 3, 5, [])
    streamed = import_performance(io.BytesIO(path.read_bytes()), actor=users["commissioner"])  # a file object
    assert (streamed.created, streamed.skipped, streamed.rejected) == (0, 8, [])
    # And the original package into the contract it came from: the same.
    same = import_performance(write(tmp_path, package, "a.json"), actor=users["admin"])
    assert (same.created, same.skipped, same.rejected) == (0, 8, [])
    assert (KpiReturn.objects.count(), Kpi.objects.count(), AuditEvent.objects.count()) == before
    # The exports of both contracts match, but for ids and dates.
    exported = export(users["admin"], Contract.objects.filter(pk__in=[a.pk, b.pk]))["releases"]
    shapes = [[(m["title"], [(o.get("period"), o["measure"], o.get("notes"), o.get("measureClassification"))
                             for o in m["observations"]])
               for m in r["contracts"][0]["implementation"]["metrics"]] for r in exported]
    assert shapes[0] == shapes[1]


def test_a_package_as_another_publisher_writes_it(users, tmp_path):
    """No x_commissioner: the frequency comes from the periods; text measures, value.amount and an
    exclusive end (midnight of the next day) are read; unknown fields are ignored."""
    c = contract(users)
    package = {"uri": "https://example.org/p.json", "version": "1.1", "publishedDate": "2025-09-01T00:00:00Z",
               "publisher": {"name": "Another council"}, "releases": [{
                   "ocid": c.ocid, "id": "perf-1", "date": "2025-09-01T00:00:00Z", "tag": ["implementation"],
                   "initiationType": "tender", "contracts": [{
                       "id": "1", "awardID": "1",
                       "agreedMetrics": [
                           {"id": "kpi1", "title": "Calls answered", "observations": [
                               {"id": "t", "measure": "90%", "unit": {"name": "%", "scheme": "UNCEFACT", "id": "P1"}}]},
                           {"id": "kpi2", "title": "Cost per visit", "observations": [
                               {"id": "t", "value": {"amount": 21.5, "currency": "GBP"}}]}],
                       "implementation": {"metrics": [
                           {"id": "kpi1", "observations": [
                               {"id": "1", "period": {"startDate": "2025-04-01T00:00:00Z",
                                                      "endDate": "2025-05-01T00:00:00Z"},
                                "measure": "92.5%", "measureClassification": {"id": "met"}},
                               {"id": "2", "period": {"startDate": "2025-05-01", "endDate": "2025-05-31"},
                                "measure": 1234}]},
                           {"id": "kpi2", "observations": [
                               {"id": "1", "period": {"startDate": "2025-04-01T00:00:00+01:00",
                                                      "endDate": "2025-04-30T23:59:59+01:00"},
                                "value": {"amount": "£19.75", "currency": "GBP"}}]}]}}]}]}
    summary = import_performance(write(tmp_path, package), actor=users["admin"])
    assert summary.rejected == [] and (summary.kpis_created, summary.returns_created) == (2, 3)
    calls = Kpi.objects.get(contract=c, name="Calls answered")
    assert (calls.unit, calls.target, calls.frequency, calls.direction) == ("%", Decimal(90), "monthly", "higher")
    assert Kpi.objects.get(contract=c, name="Cost per visit").unit == "GBP"
    assert returns_of(c) == [
        ("Calls answered", date(2025, 4, 1), date(2025, 4, 30), Decimal("92.5"), "met", "", False),
        ("Calls answered", date(2025, 5, 1), date(2025, 5, 31), Decimal(1234), "met", "", False),
        ("Cost per visit", date(2025, 4, 1), date(2025, 4, 30), Decimal("19.75"), "below", "", False)]


# -- bad input ---------------------------------------------------------------------------------------

OBS = {"id": "r1", "period": {"startDate": "2025-04-01T00:00:00+01:00", "endDate": "2025-06-30T23:59:59+01:00"},
       "measure": 96}


def one(ocid, obs=None, metric=None, agreed=None):
    metric = {"id": "m1", "observations": [OBS if obs is None else obs]} | (metric or {})
    agreed = agreed or [{"id": "m1", "title": "Visits on time",
                         "observations": [{"id": "target", "measure": 95, "unit": {"name": "%"}}]}]
    return {"uri": "u", "version": "1.1", "publishedDate": "2025-09-01T00:00:00Z", "publisher": {"name": "x"},
            "releases": [{"ocid": ocid, "id": "1", "date": "2025-09-01T00:00:00Z", "tag": ["implementation"],
                          "initiationType": "tender",
                          "contracts": [{"id": "1", "awardID": "1", "agreedMetrics": agreed,
                                         "implementation": {"metrics": [metric]}}]}]}


O = "contracts[0].implementation.metrics[0].observations[0]"
A = "contracts[0].agreedMetrics[0]"
BAD_OBSERVATIONS = [
    ("no period", OBS | {"period": None}, f"{O}.period", "no period"),
    ("empty period", OBS | {"period": {}}, f"{O}.period", "no period"),
    ("bad date", OBS | {"period": {"startDate": "1st April", "endDate": "2025-06-30"}}, f"{O}.period.startDate",
     "is not a date-time"),
    ("not a KPI period", OBS | {"period": {"startDate": "2025-04-01", "endDate": "2025-04-30"}}, f"{O}.period",
     "not one of the KPI's quarterly periods"),
    ("outside the term", OBS | {"period": {"startDate": "2023-01-01", "endDate": "2023-03-31"}}, f"{O}.period",
     "ends before the contract starts"),
    ("text measure", OBS | {"measure": "good"}, f"{O}.measure", "is not a number"),
    ("boolean measure", OBS | {"measure": True}, f"{O}.measure", "must be a number, not a boolean"),
    ("classification only", {"id": "r1", "period": OBS["period"], "measureClassification": {"id": "met"}},
     f"{O}.measure", "no numeric measure (only a classification, 'met')"),
    ("huge value", OBS | {"measure": 1e30}, f"{O}.measure", "beyond the largest amount"),
    ("huge text", OBS | {"measure": "9" * 41}, f"{O}.measure", "too long to be a number"),
    ("notes too long", OBS | {"notes": "x" * 5001}, f"{O}.notes", "the most accepted is 5,000"),
    ("not an object", "96", O, "an observation must be an object, not a string"),
]


@pytest.mark.parametrize(("obs", "field", "reason"), [case[1:] for case in BAD_OBSERVATIONS],
                         ids=[case[0] for case in BAD_OBSERVATIONS])
def test_a_bad_observation_is_reported_and_nothing_is_written(users, tmp_path, obs, field, reason):
    c = contract(users)
    kpi(users, c)
    summary = import_performance(write(tmp_path, one(c.ocid, obs)), actor=users["admin"])
    (r,) = summary.rejected
    assert (r.source, r.position, r.ocid, r.field) == (str(tmp_path / "package.json"), "value 1, release 0", c.ocid,
                                                        field)
    assert reason in r.reason
    assert summary.kpis_skipped == 1 and not KpiReturn.objects.filter(kpi__contract=c).exists()


def test_a_whole_number_beyond_64_bits_is_judged_as_a_value(users, tmp_path):
    c = contract(users)
    kpi(users, c)
    data = json.dumps(one(c.ocid)).replace('"measure": 96', '"measure": 1' + "0" * 30).encode()
    (r,) = import_performance(write(tmp_path, data), actor=users["admin"]).rejected
    assert r.field == f"{O}.measure" and "beyond the largest amount" in r.reason


BAD_METRICS = [
    ("no title", [{"id": "m1", "observations": [{"id": "t", "measure": 5, "unit": {"name": "%"}}]}], f"{A}.title",
     "no title"),
    ("no target", [{"id": "m1", "title": "New KPI"}], f"{A}.observations", "no target observation"),
    ("huge target", [{"id": "m1", "title": "New KPI", "observations": [{"id": "t", "measure": 1e13,
                                                                       "unit": {"name": "%"}}]}],
     f"{A}.observations[0].measure", "beyond the largest amount"),
    ("no unit", [{"id": "m1", "title": "New KPI", "observations": [{"id": "t", "measure": 5}]}],
     f"{A}.observations[0].unit.name", "enter the unit"),
    ("bad direction", [{"id": "m1", "title": "New KPI", "x_commissioner": {"direction": "up"},
                        "observations": [{"id": "t", "measure": 5, "unit": {"name": "%"}}]}],
     f"{A}.x_commissioner.direction", "choose higher or lower"),
    ("title too long", [{"id": "m1", "title": "K" * 201, "observations": [{"id": "t", "measure": 5,
                                                                          "unit": {"name": "%"}}]}],
     f"{A}.title", "the most accepted is 200"),
    ("not an array", {"id": "m1"}, "contracts[0].agreedMetrics", "must be an array, not an object"),
]


@pytest.mark.parametrize(("agreed", "field", "reason"), [case[1:] for case in BAD_METRICS],
                         ids=[case[0] for case in BAD_METRICS])
def test_a_bad_agreed_metric_is_reported_and_no_kpi_is_made(users, tmp_path, agreed, field, reason):
    c = contract(users)
    summary = import_performance(write(tmp_path, one(c.ocid, agreed=agreed)), actor=users["admin"])
    assert summary.rejected and summary.rejected[0].field == field and reason in summary.rejected[0].reason
    assert not Kpi.objects.filter(contract=c).exists() and not KpiReturn.objects.filter(kpi__contract=c).exists()


def test_an_implementation_metric_with_no_kpi_is_reported(users, tmp_path):
    c = contract(users)
    kpi(users, c)
    (r,) = import_performance(write(tmp_path, one(c.ocid, metric={"id": "m9", "title": "Unknown"})),
                              actor=users["admin"]).rejected
    assert r.field == "contracts[0].implementation.metrics[0].id" and "no agreed metric with the id 'm9'" in r.reason


def test_conflicts_are_reported_and_left_alone(users, tmp_path):
    c = contract(users)
    k = kpi(users, c)
    ret(users, k, date(2025, 5, 1), "94")
    agreed = [{"id": "m1", "title": "visits  ON time", "observations": [{"id": "target", "measure": 90}]}]
    summary = import_performance(write(tmp_path, one(c.ocid, agreed=agreed)), actor=users["admin"])
    target, result = summary.rejected
    assert target.field == f"{A}.observations[0].measure" and "has the target 95, the file 90" in target.reason
    assert result.field == f"{O}.measure" and "already has the result 94, the file 96" in result.reason
    assert list(KpiReturn.objects.filter(kpi=k).values_list("value", flat=True)) == [Decimal(94)]
    k.refresh_from_db()
    assert k.target == Decimal(95)


@pytest.mark.parametrize(("data", "reason"), [
    (b"kpi,period,value\nVisits on time,2025-05-01,95\n", "not JSON"),
    (b'{"kpis": [1, 2]}', "not OCDS"),
    (b'{"uri": "u", "releases": [{"ocid": "x", "contracts": [', "malformed or truncated JSON"),
    (b"", "empty file"),
    (b"\xff\xfe{\x00", "UTF-16"),
])
def test_files_that_are_not_ocds_are_refused(users, tmp_path, data, reason):
    summary = import_performance(write(tmp_path, data), actor=users["admin"])
    (r,) = summary.rejected
    assert reason in r.reason and r.source == str(tmp_path / "package.json")
    assert summary.created == 0


def test_unknown_ocids_are_reported_with_their_position_and_the_rest_is_loaded(users, tmp_path):
    c = contract(users)
    kpi(users, c)
    package = one(c.ocid)
    package["releases"].append(copy.deepcopy(package["releases"][0]) | {"ocid": "ocds-nowhere-1"})
    package["releases"].append({"ocid": "ocds-nowhere-2", "id": "2", "date": "2025-01-01T00:00:00Z",
                                "tag": ["tender"], "initiationType": "tender", "tender": {"id": "t"}})
    summary = import_performance(write(tmp_path, package), actor=users["admin"])
    (r,) = summary.rejected
    assert (r.position, r.ocid, r.field) == ("value 1, release 1", "ocds-nowhere-1", "ocid")
    assert "no contract with this ocid" in r.reason
    assert (summary.releases, summary.contracts, summary.without_metrics, summary.returns_created) == (3, 1, 1, 1)


def test_another_councils_contract_is_refused_and_the_refusal_logged(users, tmp_path):
    mine = contract(users, private=False)
    kpi(users, mine)
    package = export(users["admin"])
    # Leeds sees the contract (it is public) but may not change it.
    summary = import_performance(write(tmp_path, package), actor=users["other"])
    (r,) = summary.rejected
    assert r.field == "ocid" and r.reason.startswith("refused: you may not change")
    assert AuditEvent.objects.filter(actor=users["other"], action="refused", object_pk=str(mine.pk)).count() == 1
    twice = copy.deepcopy(package)
    twice["releases"] *= 2
    summary = import_performance(write(tmp_path, twice), actor=users["other"])
    assert len(summary.rejected) == 2  # each release reported, the attempt logged once per import
    assert AuditEvent.objects.filter(actor=users["other"], action="refused", object_pk=str(mine.pk)).count() == 2
    # A private contract of Merton's: Leeds is not told it exists, and the attempt is logged too.
    hidden = contract(users, title="Private")
    summary = import_performance(write(tmp_path, for_ocid(package, hidden.ocid)), actor=users["other"])
    assert "no contract with this ocid" in summary.rejected[0].reason
    assert AuditEvent.objects.filter(actor=users["other"], action="refused", object_pk=str(hidden.pk)).exists()
    # Merton's viewer may read but not load.
    summary = import_performance(write(tmp_path, for_ocid(package, hidden.ocid)), actor=users["viewer"])
    assert summary.rejected[0].reason.startswith("refused")
    assert not Kpi.objects.filter(contract=hidden).exists()


def test_a_refusal_inside_the_services_undoes_the_whole_release(users, tmp_path, monkeypatch):
    c = contract(users)
    kpi(users, c)
    package = one(c.ocid, agreed=[
        {"id": "m0", "title": "New KPI", "observations": [{"id": "t", "measure": 5, "unit": {"name": "%"}}]},
        {"id": "m1", "title": "Visits on time", "observations": [{"id": "target", "measure": 95}]}])

    def refuse(*, actor, kpi, **kw):
        raise services.Refused(actor, kpi.contract, "submit returns")

    monkeypatch.setattr(services, "submit_return", refuse)
    summary = import_performance(write(tmp_path, package), actor=users["admin"])
    assert [r.reason for r in summary.rejected] == ["refused: you may not submit returns for this contract"]
    assert (summary.kpis_created, summary.contracts) == (0, 0)
    assert not Kpi.objects.filter(contract=c, name="New KPI").exists()
    assert AuditEvent.objects.filter(actor=users["admin"], action="refused", object_pk=str(c.pk)).exists()


# -- the command -------------------------------------------------------------------------------------

def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("commissioner_performance", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_exports_and_imports(users, tmp_path):
    a = contract(users)
    build(users, a)
    slug = users["merton"].slug
    path = tmp_path / "perf.json"
    _, err = run("export", str(path), "--org", slug, "--as", "merton-viewer")
    assert "1 contracts, 3 KPIs, 5 results" in err
    assert json.loads(path.read_text())["releases"][0]["ocid"] == a.ocid
    out, _ = run("export", "--org", slug)  # standard output; without --as, all of the council's
    assert json.loads(out)["releases"][0]["ocid"] == a.ocid
    with pytest.raises(CommandError, match="nothing to export"):  # an empty package is not valid OCDS
        run("export", str(path), "--org", slug, "--as", "leeds-admin")

    b = contract(users, title="Re-let")
    path.write_text(json.dumps(for_ocid(json.loads(out), b.ocid)))
    out, _ = run("import", str(path), "--as", "merton-commissioner")
    assert "KPIs: 3 created, 0 already present; results: 5 created, 0 already present" in out
    out, _ = run("import", str(path), "--as", "merton-commissioner")  # nothing new: not a failure
    assert "results: 0 created, 5 already present" in out
    with pytest.raises(CommandError, match="nothing imported"):
        run("import", str(path), "--as", "leeds-admin")
    bad = write(tmp_path, b"{", "bad.json")
    with pytest.raises(CommandError, match="nothing imported"):
        run("import", str(bad), "--as", "merton-admin")


@pytest.mark.parametrize(("args", "message"), [
    (["export"], "needs --org"),
    (["export", "--org", "nowhere"], "no organisation 'nowhere'"),
    (["export", "a.json", "b.json", "--org", "x"], "at most one PATH"),
    (["export", "--org", "x", "--as", "nobody"], "no user 'nobody'"),
    (["import", "x.json"], "needs --as"),
    (["import", "--as", "merton-admin"], "needs a PATH"),
])
def test_the_command_refuses_bad_arguments(users, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_provider_user_may_not_import(users, tmp_path):
    c = contract(users)
    kpi(users, c)
    provider = create_user(username="caring-hands", password=PASSWORD)
    services.link_provider_user(actor=None, user=provider, provider=c.contract_suppliers.first().supplier.provider)
    package = export(provider)  # a provider sees its own contracts' performance
    assert [r["ocid"] for r in package["releases"]] == [c.ocid]
    summary = import_performance(write(tmp_path, package), actor=provider)
    assert summary.rejected[0].reason.startswith("refused")
