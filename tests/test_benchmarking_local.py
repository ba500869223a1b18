"""Local value measures (issue 4): define, version, publish, adopt, record values and compare; who may do
what on the pages and the API (a tenancy matrix, refusals audited and nothing saved); bad input; the demo."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from commissioner.benchmarking import queries, services
from commissioner.benchmarking.models import Adoption, Measure, MeasureValue, MeasureVersion
from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import council_organisation, create_user
from conftest import PASSWORD
from helpers import client_for

API = "/api/v1/benchmarking/local-measures"
DATA = {"name": "Share of contract spend with local VCSE organisations",
        "definition": "VCSE spend in the borough as a percentage of all contract spend.", "unit": "%",
        "polarity": "higher", "collection": "Spend over £500 data matched to the VCSE directory, yearly."}


def csv_rows(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def tidy(rows):
    return ("organisation code,period,value\n" + "".join(f"{c},{p},{v}\n" for c, p, v in rows)).encode()


@pytest.fixture
def local(users):
    """Merton's published measure LV-MRT-1 (adopted by Leeds), Merton's draft LV-MRT-2, a national TEST1, and an
    admin at Trafford (a council that has not adopted)."""
    measure = services.define_local_measure(owner=users["merton"], data=DATA)
    services.publish(measure=measure)
    services.adopt(measure=measure, organisation=users["other_org"])
    draft = services.define_local_measure(owner=users["merton"], data={**DATA, "name": "A draft"})
    national, _ = services.define_measure(data={"code": "TEST1", "name": "National", "unit": "%"})
    trafford = council_organisation("TRF")
    users["outsider"] = create_user(username="trafford-admin", password=PASSWORD, organisation=trafford, role="admin")
    users["trafford"] = trafford
    measure.refresh_from_db()
    return {"measure": measure, "draft": draft, "national": national, "trafford": trafford}


# -- the flow -------------------------------------------------------------------------------------

def test_define_publish_adopt_record_and_compare(users, local):
    m = local["measure"]
    assert (m.code, m.kind, m.status, m.version, m.owner) == ("LV-MRT-1", "local", "published", 1, users["merton"])
    assert local["draft"].code == "LV-MRT-2" and local["draft"].status == "draft"
    assert list(m.versions.values_list("version", "name")) == [(1, DATA["name"])]
    services.adopt(actor=users["outsider"], measure=m, organisation=local["trafford"])
    for org, value in ((users["merton"], 10), (users["other_org"], 20), (local["trafford"], 30)):
        services.record_value(measure=m, organisation=org, period="2023/24", value=str(value))
    leeds = users["other_org"]
    table = queries.measure_table(m, peer_key="adopters", org=leeds)
    assert table.peer.key == "adopters" and table.period == "2023-24"
    assert [(r.organisation.la_code, r.value, r.position.rank) for r in table.rows] == [
        ("TRF", 30, 1), ("LDS", 20, 2), ("MRT", 10, 3)]
    pos = table.highlighted.position
    assert (pos.percentile, table.median, table.mad, pos.mad_distance) == (50.0, 20, 10, 0)
    assert "councils using LV-MRT-1 version 1" in table.sentence
    page = Client().get(f"/benchmarking/measures/LV-MRT-1/?org={leeds.slug}&peer=adopters")
    html = page.content.decode()
    assert page.context["t"].peer.key == "adopters" and "Councils using local value measure LV-MRT-1" in html
    assert "Percentile method:" in html and "used by 3 councils" in html
    # The list page and its downloads count the owner and both adopters.
    listing = Client().get("/benchmarking/local/")
    assert listing.context["measures"][0].adopters == 2 and "A draft" not in listing.content.decode()
    rows = csv_rows(Client().get("/benchmarking/local/?format=csv&q=vcse"))
    header = rows[0]
    assert [dict(zip(header, r))["councils_using"] for r in rows[1:]] == ["3"]
    assert len(csv_rows(Client().get("/benchmarking/local/?format=csv&q=nothing-like-this"))) == 1


def test_a_changed_meaning_is_a_new_version_and_adopters_stay_until_they_move(users, local):
    m, leeds = local["measure"], users["other_org"]
    services.record_value(measure=m, organisation=leeds, period="2022-23", value="5")
    m, new = services.update_local_measure(actor=users["commissioner"], measure=m,
                                           data={**DATA, "name": "VCSE share of contract spend"})
    assert not new and m.version == 1 and m.versions.get().name == "VCSE share of contract spend"
    m, new = services.update_local_measure(actor=users["admin"], measure=m,
                                           data={**DATA, "definition": "Now including parish councils."})
    assert new and m.version == 2
    assert list(MeasureVersion.objects.filter(measure=m).values_list("version", "definition")) == [
        (2, "Now including parish councils."), (1, DATA["definition"])]
    assert Adoption.objects.get(measure=m, organisation=leeds).version == 1
    services.record_value(measure=m, organisation=users["merton"], period="2023-24", value="7")
    services.record_value(measure=m, organisation=leeds, period="2023-24", value="9")
    assert dict(MeasureValue.objects.filter(measure=m, period="2023-24").values_list(
        "organisation__la_code", "version")) == {"MRT": 2, "LDS": 1}
    # On different versions they are not compared with each other.
    assert queries.peer(None, leeds, "adopters", m).member_ids == {leeds.pk}
    detail = client_for(users, "other").get("/benchmarking/local/LV-MRT-1/")
    assert "Move to version 2" in detail.content.decode()
    assert client_for(users, "other").post("/benchmarking/local/LV-MRT-1/move/",
                                           {"organisation": leeds.slug}).status_code == 302
    assert queries.peer(None, leeds, "adopters", m).member_ids == {leeds.pk, users["merton"].pk}
    assert AuditEvent.objects.filter(action="moved version", object_pk=str(m.pk)).count() == 1
    rows = csv_rows(Client().get("/benchmarking/local/LV-MRT-1/?format=csv&table=versions"))
    assert [r[0] for r in rows[1:]] == ["2", "1"]


def test_the_page_asks_before_making_a_new_version(users, local):
    client = client_for(users, "admin")
    url = "/benchmarking/local/LV-MRT-1/edit/"
    first = client.post(url, {**DATA, "unit": "percentage points"})
    assert first.status_code == 200 and "saving makes version 2" in first.content.decode()
    assert Measure.objects.get(code="LV-MRT-1").version == 1
    done = client.post(url, {**DATA, "unit": "percentage points", "confirm": "1"})
    assert done.status_code == 302 and Measure.objects.get(code="LV-MRT-1").version == 2
    api = client.post(f"{API}/LV-MRT-1/update", {"unit": "pp"}, content_type="application/json")
    assert api.status_code == 422 and api.json()["errors"][0]["name"] == "confirm_new_version"
    api = client.post(f"{API}/LV-MRT-1/update", {"unit": "pp", "confirm_new_version": True},
                      content_type="application/json")
    assert api.status_code == 200 and api.json()["version"] == 3 and len(api.json()["versions"]) == 3


def test_drafts_change_freely_and_are_seen_only_by_their_council(users, local):
    draft = local["draft"]
    draft, new = services.update_local_measure(actor=users["admin"], measure=draft,
                                               data={**DATA, "name": "A draft", "definition": "Different"})
    assert not new and draft.version == 1 and not draft.versions.exists()
    assert Client().get("/benchmarking/local/LV-MRT-2/").status_code == 404
    assert client_for(users, "other").get(f"{API}/LV-MRT-2").status_code == 404
    assert client_for(users, "viewer").get("/benchmarking/local/LV-MRT-2/").status_code == 404
    assert client_for(users, "commissioner").get("/benchmarking/local/LV-MRT-2/").status_code == 200
    with pytest.raises(services.BenchmarkError, match="only a published measure can be adopted"):
        services.adopt(measure=draft, organisation=users["other_org"])
    with pytest.raises(services.BenchmarkError, match="values can be recorded only while it is published"):
        services.record_value(measure=draft, organisation=users["merton"], period="2023-24", value="1")
    services.retire(measure=local["measure"])
    with pytest.raises(services.BenchmarkError, match="retired"):
        services.record_value(measure=local["measure"], organisation=users["merton"], period="2023-24", value="1")


def test_withdrawing_keeps_the_values(users, local):
    m, leeds = local["measure"], users["other_org"]
    services.record_value(measure=m, organisation=leeds, period="2023-24", value="4")
    response = client_for(users, "other").post("/benchmarking/local/LV-MRT-1/withdraw/", {"organisation": leeds.slug})
    assert response.status_code == 302 and not Adoption.objects.filter(measure=m).exists()
    assert MeasureValue.objects.get(measure=m, organisation=leeds).value == 4
    refused = services.import_tidy_csv(tidy([("LDS", "2024-25", 3)]), measure=m, actor=users["other"])
    assert not refused.applied and MeasureValue.objects.filter(measure=m).count() == 1


# -- who may do what (pages and API) -----------------------------------------------------------------

ROLES = ["anonymous", "viewer", "commissioner", "admin", "other", "outsider", "superuser"]
ACTING_FOR = {"viewer": "merton", "commissioner": "merton", "admin": "merton", "other": "other_org",
              "outsider": "trafford", "superuser": "merton"}
# Web: 302 = done (a redirect), 403 = refused, 404 = a draft, hidden from all but its council's editors,
# 400 = bad input (a council adopting its own measure).
# "anonymous" is sent to sign in (302 to the login page) and is checked apart.
WEB = {
    "define": {"viewer": 403, "commissioner": 302, "admin": 302, "other": 302, "outsider": 302, "superuser": 302},
    "edit": {"viewer": 403, "commissioner": 302, "admin": 302, "other": 403, "outsider": 403, "superuser": 302},
    "publish": {"viewer": 404, "commissioner": 302, "admin": 302, "other": 404, "outsider": 404, "superuser": 302},
    "adopt": {"viewer": 403, "commissioner": 400, "admin": 400, "other": 302, "outsider": 302, "superuser": 302},
    "record": {"viewer": 403, "commissioner": 302, "admin": 302, "other": 302, "outsider": 403, "superuser": 302},
    "upload_local": {"viewer": 403, "commissioner": 302, "admin": 302, "other": 302, "outsider": 403,
                     "superuser": 302},
    "upload_national": {"viewer": 403, "commissioner": 403, "admin": 403, "other": 403, "outsider": 403,
                        "superuser": 302},
}
API_EXPECTED = {
    "define": {"anonymous": 401, "viewer": 403, "commissioner": 201, "admin": 201, "other": 201, "outsider": 201,
               "superuser": 201},
    "edit": {"anonymous": 401, "viewer": 403, "commissioner": 200, "admin": 200, "other": 403, "outsider": 403,
             "superuser": 200},
    "publish": {"anonymous": 401, "viewer": 404, "commissioner": 200, "admin": 200, "other": 404, "outsider": 404,
                "superuser": 200},
    "adopt": {"anonymous": 401, "viewer": 403, "commissioner": 422, "admin": 422, "other": 200, "outsider": 201,
              "superuser": 201},
    "record": {"anonymous": 401, "viewer": 403, "commissioner": 201, "admin": 201, "other": 201, "outsider": 403,
               "superuser": 201},
}


def _org(users, local, role):
    if role == "superuser":
        return local["trafford"]  # a site administrator adopts for any council
    key = ACTING_FOR.get(role, "merton")
    return users[key] if key in users else local[key]


def _state(local):
    """What the actions could change, to check that a refusal saved nothing."""
    return (Measure.objects.count(), Measure.objects.get(code="LV-MRT-1").name,
            Measure.objects.get(code="LV-MRT-2").status, Adoption.objects.count(), MeasureValue.objects.count())


def _web(client, users, local, role, action):
    org = _org(users, local, role)
    record_org = users["merton"] if role == "superuser" else org
    if action == "define":
        return client.post("/benchmarking/local/new/", {**DATA, "organisation": record_org.slug})
    if action == "edit":
        return client.post("/benchmarking/local/LV-MRT-1/edit/", {**DATA, "name": "Renamed"})
    if action == "publish":
        return client.post("/benchmarking/local/LV-MRT-2/publish/")
    if action == "adopt":
        return client.post("/benchmarking/local/LV-MRT-1/adopt/", {"organisation": org.slug})
    if action == "record":
        return client.post("/benchmarking/local/LV-MRT-1/value/", {"organisation": record_org.slug,
                                                                    "period": "2023-24", "value": "12.5"})
    code = "LV-MRT-1" if action == "upload_local" else "TEST1"
    return client.post(f"/benchmarking/measures/{code}/upload/", {
        "file": SimpleUploadedFile("v.csv", tidy([(record_org.la_code, "2023-24", "12.5")]))})


@pytest.mark.parametrize("action", list(WEB))
@pytest.mark.parametrize("role", ROLES)
def test_tenancy_matrix_pages(users, local, role, action):
    before = _state(local)
    audits = AuditEvent.objects.filter(action="refused").count()
    response = _web(client_for(users, role), users, local, role, action)
    expected = 302 if role == "anonymous" else WEB[action][role]
    assert response.status_code == expected, (role, action, response.content.decode()[:300])
    if role == "anonymous":
        assert response["Location"].startswith("/sign-in/")
    if expected != 302 or role == "anonymous":
        assert _state(local) == before  # nothing saved
    if expected == 403:
        assert AuditEvent.objects.filter(action="refused").count() == audits + 1
    if role != "anonymous" and expected == 302:
        assert _state(local) != before or action == "adopt" and role == "other"  # adopting twice is once


def _api(client, users, local, role, action):
    org = _org(users, local, role)
    record_org = users["merton"] if role == "superuser" else org
    body = {"define": (API, {**DATA, "organisation": record_org.slug}),
            "edit": (f"{API}/LV-MRT-1/update", {"name": "Renamed"}),
            "publish": (f"{API}/LV-MRT-2/publish", {}),
            "adopt": (f"{API}/LV-MRT-1/adopt", {"organisation": org.slug}),
            "record": (f"{API}/LV-MRT-1/values", {"organisation": record_org.slug, "period": "2023-24",
                                                  "value": 12.5})}[action]
    return client.post(body[0], json.dumps(body[1]), content_type="application/json")


@pytest.mark.parametrize("action", list(API_EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_tenancy_matrix_api(users, local, role, action):
    before = _state(local)
    audits = AuditEvent.objects.filter(action="refused").count()
    response = _api(client_for(users, role), users, local, role, action)
    expected = API_EXPECTED[action][role]
    assert response.status_code == expected, (role, action, response.content.decode()[:300])
    if expected >= 400:
        assert response["Content-Type"].startswith("application/problem+json")
        assert _state(local) == before
    if expected == 403:
        assert AuditEvent.objects.filter(action="refused").count() == audits + 1
    if expected in (200, 201) and not (action == "adopt" and role == "other"):
        assert _state(local) != before


def test_api_writes_need_the_csrf_token(users, local):
    client = client_for(users, "admin", enforce_csrf_checks=True)
    response = client.post(f"{API}/LV-MRT-1/values", json.dumps({"period": "2023-24", "value": 1}),
                           content_type="application/json")
    assert response.status_code == 403 and not MeasureValue.objects.exists()


def test_api_reads(users, local):
    services.record_value(measure=local["measure"], organisation=users["merton"], period="2023-24", value="3")
    services.record_value(measure=local["measure"], organisation=users["other_org"], period="2023-24", value="6")
    page = Client().get(f"{API}?q=vcse").json()
    assert page["count"] == 1 and page["results"][0]["councils_using"] == 2
    detail = Client().get(f"{API}/LV-MRT-1").json()
    assert [(c["organisation"]["la_code"], c["role"], c["version"]) for c in detail["councils"]] == [
        ("MRT", "owner", 1), ("LDS", "adopter", 1)]
    comparison = Client().get(f"{API}/LV-MRT-1/comparison?org={users['other_org'].slug}").json()
    assert comparison["peer"]["key"] == "adopters" and comparison["highlighted"]["rank"] == 1
    assert comparison["n"] == 2 and comparison["methods"]["percentile_method"]
    outsider = Client().get(f"{API}/LV-MRT-1/comparison?org={local['trafford'].slug}")
    assert outsider.status_code == 422 and "does not use LV-MRT-1" in outsider.json()["detail"]


# -- bad input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "period", "field", "message"), [
    ("1e20", "2023-24", "value", "beyond the largest value accepted"),
    ("lots", "2023-24", "value", "'lots' is not a number"),
    ("", "2023-24", "value", "enter a number"),
    ("5", "Q3 2023", "period", "is not a period we recognise"),
    ("5", "2023", "period", "has financial years: use the same kind of period"),
])
def test_bad_values_are_refused_naming_the_field(users, local, value, period, field, message):
    services.record_value(measure=local["measure"], organisation=users["merton"], period="2022-23", value="1")
    with pytest.raises(services.BenchmarkError) as e:
        services.record_value(actor=users["admin"], measure=local["measure"], organisation=users["merton"],
                             period=period, value=value)
    assert e.value.field == field and message in e.value.message
    response = client_for(users, "admin").post("/benchmarking/local/LV-MRT-1/value/",
                                               {"period": period, "value": value})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html and f'href="#id_{field}"' in html
    api = client_for(users, "admin").post(f"{API}/LV-MRT-1/values", json.dumps({"period": period, "value": value}),
                                          content_type="application/json")
    assert api.status_code == 422 and api.json()["errors"][0]["name"] == field
    assert MeasureValue.objects.count() == 1


def test_huge_json_numbers_and_long_notes(users, local):
    client = client_for(users, "admin")
    huge = client.post(f"{API}/LV-MRT-1/values", '{"period": "2023-24", "value": 1e400}',
                       content_type="application/json")
    assert huge.status_code == 422 and huge.json()["errors"][0]["name"] == "value"
    note = client.post(f"{API}/LV-MRT-1/values", json.dumps({"period": "2023-24", "value": 1, "note": "x" * 201}),
                       content_type="application/json")
    assert note.status_code == 422 and "at most 200 characters" in note.json()["detail"]
    assert not MeasureValue.objects.exists()


def test_a_duplicate_submission_changes_nothing(users, local):
    client = client_for(users, "admin")
    body = json.dumps({"period": "2023/24", "value": "12.50"})
    first = client.post(f"{API}/LV-MRT-1/values", body, content_type="application/json")
    second = client.post(f"{API}/LV-MRT-1/values", body, content_type="application/json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert (second.json()["created"], second.json()["changed"], second.json()["value"]) == (False, False, 12.5)
    assert MeasureValue.objects.get().period == "2023-24"
    assert AuditEvent.objects.filter(action="recorded").count() == 1
    changed = client.post(f"{API}/LV-MRT-1/values", json.dumps({"period": "2023-24", "value": 13}),
                          content_type="application/json")
    assert changed.status_code == 200 and changed.json()["changed"]
    event = AuditEvent.objects.filter(action="recorded").latest("pk")
    assert event.before["value"].startswith("12.5") and event.after["value"].startswith("13")


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "x" * 301}, "name", "at most 300 characters"),
    ({"unit": "u" * 61}, "unit", "at most 60 characters"),
    ({"definition": ""}, "definition", "enter the definition"),
    ({"polarity": "sideways"}, "polarity", "choose whether higher or lower is better"),
    ({"collection": "a\x00b"}, "collection", "null character"),
])
def test_bad_definitions_are_refused_and_nothing_is_saved(users, local, data, field, message):
    count = Measure.objects.count()
    response = client_for(users, "admin").post("/benchmarking/local/new/", {**DATA, **data})
    assert response.status_code == 400 and f'href="#id_{field}' in response.content.decode()
    if field != "collection":  # a NUL is refused by the API's own text validation, naming the field too
        api = client_for(users, "admin").post(API, json.dumps({**DATA, **data}), content_type="application/json")
        assert api.status_code == 422 and api.json()["errors"][0]["name"] == field
        assert message in api.json()["errors"][0]["detail"]
    assert Measure.objects.count() == count


def test_injection_in_names_is_shown_escaped(users, local):
    evil = '<script>alert("x")</script> & "quotes"'
    m = services.define_local_measure(actor=users["admin"], owner=users["merton"], data={**DATA, "name": evil})
    services.publish(actor=users["admin"], measure=m)
    for url in ("/benchmarking/local/", f"/benchmarking/local/{m.code}/", f"/benchmarking/measures/{m.code}/"):
        html = Client().get(url).content.decode()
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
        assert '<script>alert("x")' not in html
    assert Client().get(f"{API}/{m.code}").json()["name"] == evil


def test_csv_upload_into_a_local_measure_takes_only_councils_using_it(users, local):
    m = local["measure"]
    client = client_for(users, "other")  # Leeds, an adopter
    bad = client.post("/benchmarking/measures/LV-MRT-1/upload/", {
        "file": SimpleUploadedFile("v.csv", tidy([("LDS", "2023-24", 4), ("MRT", "2023-24", 5), ("TRF", "2023-24", 6)]))})
    html = bad.content.decode()
    assert bad.status_code == 400 and "not MRT" in html and "TRF does not use LV-MRT-1" in html
    assert not MeasureValue.objects.exists()
    ok = services.import_tidy_csv(tidy([("LDS", "2023-24", 4)]), measure=m, actor=users["other"])
    assert ok.applied and MeasureValue.objects.get().version == 1
    # The command line (no actor) may load any council using it, but not others.
    cli = services.import_tidy_csv(tidy([("TRF", "2023-24", 6)]), measure=m)
    assert not cli.applied and "does not use" in cli.problems[0].reason


# -- the demo -----------------------------------------------------------------------------------------

def test_demo_local_measures_are_labelled_and_idempotent(users):
    first = services.demo_local_measures()
    counts = (Measure.objects.filter(kind="local").count(), Adoption.objects.count(), MeasureValue.objects.count(),
              AuditEvent.objects.count())
    second = services.demo_local_measures()
    assert [m.pk for m in first] == [m.pk for m in second]
    assert counts == (2, 5, 14, counts[3])
    assert (Measure.objects.filter(kind="local").count(), Adoption.objects.count(), MeasureValue.objects.count(),
            AuditEvent.objects.count()) == counts
    doncaster = first[0]
    assert doncaster.synthetic and doncaster.status == "published" and doncaster.owner.la_code == "DNC"
    html = Client().get("/benchmarking/local/").content.decode()
    assert "Synthetic" in html and "Share of contract spend with local VCSE organisations" in html
    rows = csv_rows(Client().get(f"/benchmarking/local/{doncaster.code}/?format=csv"))
    assert rows[0][-1] == "synthetic" and {r[-1] for r in rows[1:]} == {"True"} and len(rows) == 5
    assert "Synthetic" in Client().get(f"/benchmarking/measures/{doncaster.code}/").content.decode()


def test_forms_and_pages_render_with_their_actions(users, local):
    admin, leeds, outsider = (client_for(users, r) for r in ("admin", "other", "outsider"))
    assert 'name="definition"' in admin.get("/benchmarking/local/new/").content.decode()
    assert admin.get("/benchmarking/local/LV-MRT-1/edit/").context["form"].initial["unit"] == "%"
    mine = admin.get("/benchmarking/local/LV-MRT-1/").content.decode()
    assert "Change the measure" in mine and "Retire" in mine and "Record a value" in mine
    assert "Publish" in admin.get("/benchmarking/local/LV-MRT-2/").content.decode()
    theirs = leeds.get("/benchmarking/local/LV-MRT-1/").content.decode()
    assert "Change the measure" not in theirs and "Stop using it" in theirs and "Record a value" in theirs
    assert "Adopt version 1" in outsider.get("/benchmarking/local/LV-MRT-1/").content.decode()
    assert outsider.get("/benchmarking/local/LV-MRT-1/value/").status_code == 403
    form = leeds.get("/benchmarking/local/LV-MRT-1/value/")
    assert form.status_code == 200 and 'name="period"' in form.content.decode()
    public = Client().get("/benchmarking/local/LV-MRT-1/").content.decode()
    assert "Leeds City Council" in public and "Version history" in public and "Adopt version" not in public
    rows = csv_rows(Client().get("/benchmarking/local/LV-MRT-1/?format=csv"))
    assert [(r[0], r[3], r[4]) for r in rows[1:]] == [("London Borough of Merton", "owner", "1"),
                                                       ("Leeds City Council", "adopter", "1")]
    data = json.loads(Client().get("/benchmarking/local/LV-MRT-1/?format=json").content)
    assert data["measure"]["councils_using"] == 2 and data["versions"][0]["version"] == 1
