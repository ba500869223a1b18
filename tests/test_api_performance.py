"""The performance API (/api/v1/performance/...): reading a contract's performance, submitting and
correcting returns, a council's compliance and forward plan; who may do what, and every refusal a problem.

Contracts, KPIs and users are made by hand. Two Merton contracts, each with its own provider user:
"public" (published, so anyone can see it in the register, though not its performance) and "private".
"""

import json
from datetime import date

import pytest
from django.test import Client

from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import create_user
from commissioner.performance import services
from commissioner.performance.models import KpiReturn
from commissioner.register.services import create_local_contract

API = "/api/v1"
PROBLEM = "application/problem+json"
PASSWORD = "correct-horse-battery-staple-42"
AS_AT = "2025-06-01"

# Who sees a contract's performance: the owning council's members, the contract's provider, superusers.
READERS = {"anonymous": 401, "admin": 200, "commissioner": 200, "viewer": 200, "other": 404, "superuser": 200,
           "provider": 200, "other_provider": 404}
# Who sees a council's compliance and forward plan: its members and superusers.
COUNCIL = {"anonymous": 401, "admin": 200, "commissioner": 200, "viewer": 200, "other": 404, "superuser": 200,
           "provider": 404, "other_provider": 404}


def _contract(users, title, provider, *, is_private):
    return create_local_contract(
        owner=users["merton"], actor=users["admin"], title=title, delivery_model="market",
        provider_name=provider, supplier_type="sme", value=6_000_000, start_date=date(2024, 4, 1),
        end_date=date(2027, 3, 31), is_private=is_private)


def _kpi(users, contract, **data):
    base = {"name": "Visits on time", "unit": "%", "target": "95", "direction": "higher", "tolerance": "2",
            "frequency": "quarterly", "weight": "1", "is_act_kpi": True}
    return services.create_kpi(actor=users["admin"], contract=contract, data=base | data)


def _provider_user(username, contract):
    user = create_user(username=username, password=PASSWORD)
    services.link_provider_user(actor=None, user=user, provider=contract.contract_suppliers.first().supplier.provider)
    return user


@pytest.fixture
def perf(users):
    public = _contract(users, "Home care (published)", "Caring Hands Ltd", is_private=False)
    private = _contract(users, "Reablement (in-house)", "Merton Reablement Team", is_private=True)
    out = dict(users, public=public, private=private, kpi=_kpi(users, public),
               private_kpi=_kpi(users, private, name="Hours delivered", unit="hours", target="1000"))
    out["provider"] = _provider_user("caring-hands", public)
    out["other_provider"] = _provider_user("reablement-team", private)
    return out


def client_for(perf, who, **kwargs):
    client = Client(**kwargs)
    if who != "anonymous":
        client.force_login(perf[who])
    return client


def problem(response, status):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    assert "Traceback" not in body["detail"]
    return body


def names(body):
    return [(e["name"], e["in"]) for e in body["errors"]]


def post(client, url, body):
    payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(API + url, payload, content_type="application/json")


def returns_url(contract):
    return f"/performance/contracts/{contract.ocid}/returns"


def submit(client, contract, **body):
    return post(client, returns_url(contract), body)


def written():
    """What a refused request must leave as it was."""
    return (KpiReturn.objects.count(), AuditEvent.objects.filter(model="performance.KpiReturn").count())


@pytest.fixture(params=list(READERS))
def who(request):
    return request.param


# Reading a contract's performance --------------------------------------------------------------


def test_contract_performance_matrix(perf, who):
    for contract, provider in ((perf["public"], "provider"), (perf["private"], "other_provider")):
        response = client_for(perf, who).get(f"{API}/performance/contracts/{contract.ocid}")
        expected = READERS[who] if who not in ("provider", "other_provider") else 200 if who == provider else 404
        if expected == 200:
            assert response.status_code == 200, response.content[:300]
            assert response.json()["contract"]["ocid"] == contract.ocid
            continue
        body = problem(response, expected)
        if expected == 401:
            assert response["WWW-Authenticate"].startswith("Cookie")
            continue
        # Indistinguishable from a contract that does not exist.
        absent = problem(client_for(perf, who).get(f"{API}/performance/contracts/local-merton-000000000000"), 404)
        for b, ocid in ((body, contract.ocid), (absent, "local-merton-000000000000")):
            b["detail"] = b["detail"].replace(ocid, "X")
            b["instance"] = b["instance"].replace(ocid, "X")
        assert body == absent


def test_contract_performance_content(perf):
    c, k = perf["public"], perf["kpi"]
    ret = services.submit_return(actor=perf["provider"], kpi=k, day=date(2025, 5, 15), value="94", evidence="rota")
    services.correct_return(actor=perf["admin"], ret=ret, value="96", reason="miscounted")
    services.submit_return(actor=perf["provider"], kpi=k, day=date(2025, 8, 1), value="80")
    retired = _kpi(perf, c, name="Complaints", unit="complaints", target="2", direction="lower", is_act_kpi=False)
    services.retire_kpi(actor=perf["admin"], kpi=retired)
    assessment = services.record_assessment(actor=perf["admin"], contract=c, period_start=date(2025, 4, 1),
                                            period_end=date(2026, 3, 31), rating="good", reason="seen on site")
    change = services.record_change(actor=perf["admin"], contract=c, kind="value", changed_on=date(2025, 9, 1),
                                    value_change="900000", reason="more hours")
    services.record_event(actor=perf["admin"], contract=c, kind="break", day=date(2026, 3, 31), notice_days=90)

    body = client_for(perf, "viewer").get(f"{API}/performance/contracts/{c.ocid}").json()
    assert body["contract"]["ocid"] == c.ocid and body["contract"]["url"].endswith(f"/api/v1/contracts/{c.ocid}")
    assert body["owner"]["slug"] == "merton"
    assert body["returns_url"] == f"http://testserver{API}{returns_url(c)}"
    assert body["synthetic"] is False
    assert body["act"] == {"kpis_required": 3, "act_kpis": 1, "assessment_due": None, "exemption": None}
    assert [(x["name"], x["is_active"]) for x in body["kpis"]] == [("Visits on time", True), ("Complaints", False)]
    first = body["kpis"][0]
    assert {key: first[key] for key in ("id", "unit", "target", "direction", "tolerance", "frequency", "weight",
                                        "is_act_kpi", "synthetic", "definition")} == {
        "id": k.pk, "unit": "%", "target": 95, "direction": "higher", "tolerance": 2, "frequency": "quarterly",
        "weight": 1, "is_act_kpi": True, "synthetic": False, "definition": ""}
    # Current returns only, oldest period first; the correction names the return it replaced.
    current = first["returns"]
    assert [(r["period_start"], r["period_end"], r["value"], r["classification"]) for r in current] == [
        ("2025-04-01", "2025-06-30", 96, "met"), ("2025-07-01", "2025-09-30", 80, "significantlyBelow")]
    assert current[0]["supersedes"] == ret.pk and current[0]["correction_reason"] == "miscounted"
    assert current[0]["evidence"] == "rota" and current[0]["is_current"] and current[0]["source"] == "form"
    assert current[0]["correction_url"].endswith(f"/api/v1/performance/returns/{current[0]['id']}/correction")
    assert {"submitted_at", "synthetic", "kpi"} <= current[0].keys()
    [a] = body["assessments"]
    assert (a["id"], a["rating"], a["reason"], a["is_current"], a["synthetic"]) == (
        assessment.pk, "good", "seen on site", True, False)
    assert a["kpi_results"][0]["kpi"] == "Visits on time"
    [ch] = body["changes"]
    assert (ch["id"], ch["kind"], ch["value_change"], ch["notice_required"]) == (change.pk, "value", 900000, True)
    assert ch["verdict"]["required"] is True and ch["verdict"]["reasons"]
    assert [(e["kind"], e["date"], e["notice_days"], e["is_active"]) for e in body["events"]] == [
        ("break", "2026-03-31", 90, True)]


def test_synthetic_figures_are_flagged(perf):
    c = perf["public"]
    generated = _kpi(perf, c, name="Made up", is_act_kpi=False)
    client = client_for(perf, "admin")
    assert client.get(f"{API}/performance/contracts/{c.ocid}").json()["synthetic"] is False
    services.submit_return(actor=perf["admin"], kpi=generated, day=date(2025, 5, 1), value="50", synthetic=True)
    body = client.get(f"{API}/performance/contracts/{c.ocid}").json()
    assert body["synthetic"] is True
    made_up = next(x for x in body["kpis"] if x["name"] == "Made up")
    assert made_up["synthetic"] is False and made_up["returns"][0]["synthetic"] is True


def test_contract_performance_takes_a_fixed_number_of_queries(perf, django_assert_max_num_queries):
    client = client_for(perf, "provider")
    for day in ("2024-05-01", "2024-08-01", "2024-11-01", "2025-02-01"):
        assert submit(client, perf["public"], kpi=perf["kpi"].pk, period=day, value="90").status_code == 201
    with django_assert_max_num_queries(20):
        assert client.get(f"{API}/performance/contracts/{perf['public'].ocid}").status_code == 200


# Submitting returns -----------------------------------------------------------------------------


def test_provider_submits_a_return(perf):
    before = KpiReturn.objects.count()
    response = submit(client_for(perf, "provider"), perf["public"], kpi=perf["kpi"].pk, period="2025-05-15",
                      value="93.5", evidence="from the rostering system")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    ret = KpiReturn.objects.get(pk=body["id"])
    assert KpiReturn.objects.count() == before + 1
    assert (ret.kpi, ret.submitted_by, ret.source, str(ret.value)) == (perf["kpi"], perf["provider"], "api",
                                                                       "93.5000")
    assert body["kpi"] == perf["kpi"].pk
    assert (body["period_start"], body["period_end"], body["value"]) == ("2025-04-01", "2025-06-30", 93.5)
    assert (body["classification"], body["source"], body["is_current"], body["supersedes"]) == (
        "slightlyBelow", "api", True, None)
    assert body["evidence"] == "from the rostering system" and body["synthetic"] is False
    assert AuditEvent.objects.filter(model="performance.KpiReturn", action="created", object_pk=str(ret.pk),
                                     actor=perf["provider"]).exists()


@pytest.mark.parametrize("value, stored", [(92, "92.0000"), (0.1, "0.1000"), ("£1,234.5", "1234.5000"),
                                           (-3, "-3.0000")])
def test_numbers_and_numeric_strings(perf, value, stored):
    response = submit(client_for(perf, "provider"), perf["public"], kpi=perf["kpi"].pk, period="2025-05-15",
                      value=value)
    assert response.status_code == 201, response.content[:500]
    assert str(KpiReturn.objects.get(pk=response.json()["id"]).value) == stored


def test_provider_of_a_private_contract_submits(perf):
    """The provider may submit although the contract is not theirs to see in the register."""
    response = submit(client_for(perf, "other_provider"), perf["private"], kpi=perf["private_kpi"].pk,
                      period="2025-01-10", value=1200)
    assert response.status_code == 201, response.content[:500]
    assert client_for(perf, "other_provider").get(f"{API}/contracts/{perf['private'].ocid}").status_code == 404


@pytest.mark.parametrize("who", ["other_provider", "viewer", "other"])
def test_refused_submissions_are_403_and_audited(perf, who):
    """Those who can see the published contract but may not submit: services refuse, and the audit trail
    records the attempt (whether or not the KPI id is the contract's)."""
    c = perf["public"]
    for kpi_id in (perf["kpi"].pk, perf["private_kpi"].pk, 987654321):
        before = written()
        refused = AuditEvent.objects.filter(action="refused", model="register.Contract", object_pk=str(c.pk))
        count = refused.count()
        body = problem(submit(client_for(perf, who), c, kpi=kpi_id, period="2025-05-15", value="90"), 403)
        assert "submit returns" in body["detail"]
        assert written() == before
        assert refused.count() == count + 1
        event = refused.latest("id")
        assert event.actor == perf[who] and event.after == {"attempt": "submit returns"}
        assert event.organisation == perf["merton"]


@pytest.mark.parametrize("who", ["provider", "viewer", "other"])
def test_a_private_contract_stays_hidden_from_those_who_may_not_submit(perf, who):
    before = written()
    problem(submit(client_for(perf, who), perf["private"], kpi=perf["private_kpi"].pk, period="2025-05-15",
                   value="1"), 403 if who == "viewer" else 404)
    assert written() == before


@pytest.mark.parametrize("who", ["admin", "commissioner", "superuser"])
def test_council_editors_submit_too(perf, who):
    response = submit(client_for(perf, who), perf["private"], kpi=perf["private_kpi"].pk, period="2025-05-15",
                      value="990")
    assert response.status_code == 201, response.content[:500]


def test_anonymous_submission_is_401(perf):
    before = written()
    response = submit(Client(), perf["public"], kpi=perf["kpi"].pk, period="2025-05-15", value="90")
    problem(response, 401)
    assert written() == before


def test_submissions_need_the_csrf_token(perf):
    client = client_for(perf, "provider", enforce_csrf_checks=True)
    before = written()
    body = problem(submit(client, perf["public"], kpi=perf["kpi"].pk, period="2025-05-15", value="90"), 403)
    assert "CSRF" in body["detail"]
    ret = services.submit_return(actor=perf["provider"], kpi=perf["kpi"], day=date(2024, 5, 1), value="90")
    before = written()
    problem(post(client, f"/performance/returns/{ret.pk}/correction", {"value": "1", "reason": "x"}), 403)
    assert written() == before
    client.get(f"{API}/docs")  # any page with a form sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(f"{API}{returns_url(perf['public'])}",
                           json.dumps({"kpi": perf["kpi"].pk, "period": "2025-05-15", "value": "90"}),
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.content[:300]


ANOTHER = object()  # the KPI of the other contract
RETIRED = object()


@pytest.mark.parametrize("body, status, field", [
    ({"kpi": 987654321, "period": "2025-05-15", "value": "90"}, 422, "kpi"),
    ({"kpi": ANOTHER, "period": "2025-05-15", "value": "90"}, 422, "kpi"),
    ({"kpi": RETIRED, "period": "2025-05-15", "value": "90"}, 422, "kpi"),
    ({"kpi": "abc", "period": "2025-05-15", "value": "90"}, 422, "kpi"),
    ({"kpi": 0, "period": "2025-05-15", "value": "90"}, 422, "kpi"),
    ({"kpi": 2**70, "period": "2025-05-15", "value": "90"}, 422, "kpi"),
    ({"period": "2025-05-15", "value": "90"}, 422, "kpi"),
    ({"kpi": None, "period": "2023-12-31", "value": "90"}, 422, "period"),  # ends before the term
    ({"kpi": None, "period": "2027-04-01", "value": "90"}, 422, "period"),  # starts after it
    ({"kpi": None, "period": "15/05/2025", "value": "90"}, 422, "period"),
    ({"kpi": None, "period": "2025-02-30", "value": "90"}, 422, "period"),
    ({"kpi": None, "period": 20250515, "value": "90"}, 422, "period"),
    ({"kpi": None, "period": "9999-12-31", "value": "90"}, 422, "period"),
    ({"kpi": None, "value": "90"}, 422, "period"),
    ({"kpi": None, "period": "2025-05-15", "value": "abc"}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": 1e30}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": "1e30"}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": 10**40}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": "NaN"}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": "-Infinity"}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": ""}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": True}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": [90]}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": None}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": "9" * 41}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": "9\x00"}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15"}, 422, "value"),
    ({"kpi": None, "period": "2025-05-15", "value": "90", "evidence": "a\x00b"}, 422, "evidence"),
    ({"kpi": None, "period": "2025-05-15", "value": "90", "evidence": "x" * 5001}, 422, "evidence"),
    ({"kpi": None, "period": "2025-05-15", "value": "90", "evidence": 7}, 422, "evidence"),
    ({"kpi": None, "period": "2025-06-30", "value": "91"}, 409, "period"),  # the quarter already has a return
])
def test_bad_submissions_name_the_field_and_write_nothing(perf, body, status, field):
    services.submit_return(actor=perf["provider"], kpi=perf["kpi"], day=date(2025, 4, 2), value="95")
    retired = _kpi(perf, perf["public"], name="Old measure", is_act_kpi=False)
    services.retire_kpi(actor=perf["admin"], kpi=retired)
    replace = {None: perf["kpi"].pk, ANOTHER: perf["private_kpi"].pk, RETIRED: retired.pk}
    if "kpi" in body and (body["kpi"] is None or body["kpi"] in (ANOTHER, RETIRED)):
        body = body | {"kpi": replace[body["kpi"]]}
    before = written()
    response = submit(client_for(perf, "provider"), perf["public"], **body)
    problem_body = problem(response, status)
    assert (field, "body") in names(problem_body), problem_body
    assert field in problem_body["detail"]
    if status == 422:
        assert problem_body["type"] == "urn:commissioner:problem:invalid-parameters"
    assert written() == before


@pytest.mark.parametrize("raw", ["[1, 2]", '"kpi"', "42", "null", "{}"])
def test_a_body_that_is_not_an_object_is_a_problem(perf, raw):
    before = written()
    body = problem(post(client_for(perf, "provider"), returns_url(perf["public"]), raw), 422)
    expected = {("kpi", "body"), ("period", "body"), ("value", "body")} if raw in ("null", "{}") else {("body", "body")}
    assert set(names(body)) == expected
    assert written() == before


@pytest.mark.parametrize("raw", ["{not json", '{"kpi": 1', b"\xff\xfe"])
def test_malformed_json_is_400(perf, raw):
    before = written()
    problem(post(client_for(perf, "provider"), returns_url(perf["public"]), raw), 400)
    assert written() == before


def test_nan_literal_is_refused(perf):
    raw = '{"kpi": KPI, "period": "2025-05-15", "value": NaN}'.replace("KPI", str(perf["kpi"].pk))
    before = written()
    body = problem(post(client_for(perf, "provider"), returns_url(perf["public"]), raw), 422)
    assert names(body) == [("value", "body")]
    assert written() == before


def test_unknown_contract_is_404(perf):
    body = {"kpi": perf["kpi"].pk, "period": "2025-05-15", "value": "1"}
    problem(post(client_for(perf, "superuser"), "/performance/contracts/local-merton-000000000000/returns", body), 404)


# Corrections ------------------------------------------------------------------------------------


def correction_url(ret):
    return f"/performance/returns/{ret.pk}/correction"


def test_correction_keeps_the_original(perf):
    original = services.submit_return(actor=perf["provider"], kpi=perf["kpi"], day=date(2025, 5, 15), value="80",
                                      evidence="first count")
    client = client_for(perf, "provider")
    response = post(client, correction_url(original), {"value": 96, "reason": "a visit was missed off"})
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    original.refresh_from_db()
    new = KpiReturn.objects.get(pk=body["id"])
    assert not original.is_current and str(original.value) == "80.0000"
    assert (new.supersedes, new.is_current, new.period_start, new.submitted_by) == (
        original, True, original.period_start, perf["provider"])
    assert (body["supersedes"], body["value"], body["classification"], body["evidence"]) == (
        original.pk, 96, "met", "first count")  # evidence left out: the original's is kept
    assert body["correction_reason"] == "a visit was missed off"
    assert AuditEvent.objects.filter(model="performance.KpiReturn", action="corrected", object_pk=str(new.pk)).exists()
    shown = client.get(f"{API}/performance/contracts/{perf['public'].ocid}").json()["kpis"][0]["returns"]
    assert [r["id"] for r in shown] == [new.pk]
    # The original can no longer be corrected: correct the latest one.
    before = written()
    again = problem(post(client, correction_url(original), {"value": 97, "reason": "again"}), 409)
    assert names(again) == [("return_id", "path")]
    assert written() == before
    third = post(client, correction_url(new), {"value": "97", "reason": "again", "evidence": "recount"})
    assert third.status_code == 201 and third.json()["evidence"] == "recount"


@pytest.mark.parametrize("body, field", [
    ({"value": "96"}, "reason"), ({"value": "96", "reason": "   "}, "reason"),
    ({"value": "96", "reason": "r" * 501}, "reason"), ({"value": "96", "reason": "a\x00"}, "reason"),
    ({"reason": "typo"}, "value"), ({"value": "abc", "reason": "typo"}, "value"),
    ({"value": 1e30, "reason": "typo"}, "value"), ({"value": False, "reason": "typo"}, "value"),
    ({"value": "9", "reason": "typo", "evidence": "x" * 5001}, "evidence"),
])
def test_bad_corrections_name_the_field_and_write_nothing(perf, body, field):
    ret = services.submit_return(actor=perf["provider"], kpi=perf["kpi"], day=date(2025, 5, 15), value="80")
    before = written()
    problem_body = problem(post(client_for(perf, "provider"), correction_url(ret), body), 422)
    assert (field, "body") in names(problem_body)
    assert written() == before
    ret.refresh_from_db()
    assert ret.is_current


@pytest.mark.parametrize("who, status", [("anonymous", 401), ("viewer", 403), ("other", 404),
                                         ("other_provider", 404), ("commissioner", 201), ("superuser", 201)])
def test_who_may_correct(perf, who, status):
    ret = services.submit_return(actor=perf["provider"], kpi=perf["kpi"], day=date(2025, 5, 15), value="80")
    refused = AuditEvent.objects.filter(action="refused", after={"attempt": "correct returns"})
    before = written()
    response = post(client_for(perf, who), correction_url(ret), {"value": "90", "reason": "checked"})
    if status == 201:
        assert response.status_code == 201, response.content[:300]
        return
    problem(response, status)
    assert written() == before
    assert refused.count() == (1 if status == 403 else 0)


def test_unknown_return_is_404_and_bad_ids_are_422(perf):
    client = client_for(perf, "superuser")
    problem(post(client, "/performance/returns/987654321/correction", {"value": "1", "reason": "x"}), 404)
    for bad in ("abc", "0", "9" * 30):
        body = problem(post(client, f"/performance/returns/{bad}/correction", {"value": "1", "reason": "x"}), 422)
        assert names(body) == [("return_id", "path")]


# A council's compliance and forward plan --------------------------------------------------------


@pytest.mark.parametrize("page", ["compliance", "forward-plan"])
def test_council_pages_matrix(perf, who, page):
    response = client_for(perf, who).get(f"{API}/performance/councils/merton/{page}?as_at={AS_AT}")
    if COUNCIL[who] == 200:
        assert response.status_code == 200, response.content[:300]
        assert {"count", "page", "pages", "next", "previous", "results"} <= response.json().keys()
    else:
        problem(response, COUNCIL[who])
    leeds = client_for(perf, who).get(f"{API}/performance/councils/{perf['other_org'].slug}/{page}")
    if who in ("other", "superuser"):
        assert leeds.status_code == 200
    else:
        problem(leeds, 401 if who == "anonymous" else 404)


def test_compliance(perf, django_assert_max_num_queries):
    client = client_for(perf, "commissioner")
    with django_assert_max_num_queries(12):
        page = client.get(f"{API}/performance/councils/merton/compliance?as_at={AS_AT}&page_size=500").json()
    ours = [b for b in page["results"] if b["contract"]["ocid"] == perf["public"].ocid]
    assert {b["rule"] for b in ours} == {"s.52 KPIs", "s.71 assessment"}
    kpis = next(b for b in ours if b["rule"] == "s.52 KPIs")
    assert "1 of the 3" in kpis["detail"]
    assert kpis["contract"]["performance_url"].endswith(f"/api/v1/performance/contracts/{perf['public'].ocid}")
    assert kpis["contract"]["value"] == 6_000_000 and kpis["contract"]["end_date"] == "2027-03-31"
    # Paginated like the register lists.
    first = client.get(f"{API}/performance/councils/merton/compliance?as_at={AS_AT}&page_size=1").json()
    assert first["count"] == page["count"] >= 4 and len(first["results"]) == 1 and first["next"]
    assert first["next"].endswith("page_size=1&page=2")
    body = problem(client.get(f"{API}/performance/councils/merton/compliance?page=999"), 422)
    assert names(body) == [("page", "query")]
    problem(client.get(f"{API}/performance/councils/merton/compliance?as_at=2025-13-01"), 422)
    problem(client.get(f"{API}/performance/councils/atlantis/compliance"), 404)


def test_forward_plan(perf, django_assert_max_num_queries):
    services.record_event(actor=perf["admin"], contract=perf["private"], kind="break", day=date(2026, 3, 31))
    client = client_for(perf, "viewer")
    with django_assert_max_num_queries(12):
        page = client.get(f"{API}/performance/councils/merton/forward-plan?as_at={AS_AT}&page_size=500").json()
    ours = {i["contract"]["ocid"]: i for i in page["results"]}
    public, private = ours[perf["public"].ocid], ours[perf["private"].ocid]
    # Over £5m: an 18-month lead time, from the end or an earlier break clause.
    assert (public["decision"], public["end"], public["why"], public["lead_months"]) == (
        "2025-09-30", "2027-03-31", "end of the contract", 18)
    assert (private["decision"], private["end"], private["why"]) == ("2024-09-30", "2026-03-31", "break clause")
    decisions = [i["decision"] for i in page["results"]]
    assert decisions == sorted(decisions)


# The OpenAPI document ---------------------------------------------------------------------------


def test_openapi_document_describes_the_performance_endpoints(db):
    spec = Client().get(f"{API}/openapi.json").json()
    paths = spec["paths"]
    assert set(paths[f"{API}/performance/contracts/{{ocid}}"]) == {"get"}
    for path in ("/performance/contracts/{ocid}/returns", "/performance/returns/{return_id}/correction"):
        operation = paths[API + path]["post"]
        assert operation["security"] == [{"SessionAuth": []}]
        assert {"201", "401", "403", "404", "409", "422"} <= set(map(str, operation["responses"]))
        assert PROBLEM in operation["responses"]["409"]["content"]
    submit_body = paths[f"{API}/performance/contracts/{{ocid}}/returns"]["post"]["requestBody"]
    schema = submit_body["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {"kpi", "period", "value", "evidence"}
    assert set(schema["required"]) == {"kpi", "period", "value"}
    for path in ("/performance/councils/{slug}/compliance", "/performance/councils/{slug}/forward-plan"):
        operation = paths[API + path]["get"]
        assert {p["name"] for p in operation["parameters"]} == {"slug", "as_at", "page", "page_size"}
        assert operation["tags"] == ["performance"]
