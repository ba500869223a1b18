"""Options appraisal (issue 5, section 1): the Green Book worked example through the page, the API and the PDF;
optimism bias, prefill from the register, weights, Monte Carlo, switching values; bad input (clear error, nothing
saved); inputs it must survive; tenancy matrices for pages and API; the audit trail."""

import csv
import io
import re
import zlib

import pytest
from django.core.exceptions import PermissionDenied
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from commissioner.appraisal import pdf, services
from commissioner.appraisal.models import Appraisal, Option
from commissioner.methods import options_appraisal as calc
from commissioner.orgs.models import AuditEvent
from helpers import ROLES, client_for, statuses

API = "/api/v1"
PROBLEM = "application/problem+json"
COSTS = "1000000"  # year 0
BENEFITS = ", ".join(["0"] + ["150000"] * 10)  # years 1-10


def _csv(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def _appraisal(users, **kwargs):
    return services.create_appraisal(actor=users["admin"], owner=users["merton"],
                                     **{"title": "Reablement options", "horizon": 10, **kwargs})


def _example(users, **kwargs):
    a = _appraisal(users, **kwargs)
    services.add_option(actor=users["admin"], appraisal=a, name="Invest", kind="in_house", costs=COSTS,
                        benefits=BENEFITS)
    return a


def _page(a):
    return f"/appraisals/{a.pk}/"


# The worked example (methods.md section 1) ----------------------------------------------------------

def test_worked_example_through_the_page_form(users):
    client = client_for(users, "commissioner")
    r = client.post("/appraisals/new/", {"title": "Reablement options", "service": "Reablement", "horizon": "10",
                                         "bound": "upper", "discounting": "standard"})
    assert r.status_code == 302, r.content.decode()[:2000]
    a = Appraisal.objects.get(title="Reablement options")
    assert (a.owner, a.is_private, a.created_by) == (users["merton"], True, users["commissioner"])
    r = client.post(f"/appraisals/{a.pk}/options/", {
        "name": "Invest", "kind": "in_house", "costs": "1,000,000", "benefits": BENEFITS, "cost_low": "90",
        "cost_high": "130", "benefit_low": "70", "benefit_high": "110", "score_quality": "80"})
    assert r.status_code == 302, r.content.decode()[:3000]
    page = client.get(_page(a)).content.decode()
    assert "£1,247,491" in page and "£247,491" in page and "1.2475" in page
    assert "Recommended: Invest. It has the highest net present social value, £247,491" in page
    assert "It is the only option" in page
    rows = _csv(client.get(_page(a), {"table": "results", "format": "csv"}))
    assert [(r["option"], r["pv_benefits"], r["pv_costs"], r["npsv"], r["bcr"], r["synthetic"]) for r in rows] == [
        ("Invest", "1247490.8", "1000000.0", "247490.8", "1.2475", "False")]
    flows = _csv(client.get(_page(a), {"table": "flows", "format": "csv"}))
    assert len(flows) == 11
    assert (flows[10]["year"], flows[10]["benefit"], flows[10]["discount_factor"]) == ("10", "150000.0", "0.708919")
    scores = client.get(_page(a), {"table": "mcda", "format": "json"}).json()["rows"]
    assert [(s["criterion"], s["score"]) for s in scores][:2] == [("cost", None), ("quality", 80.0)]
    assert "Missing" in page  # the scores not given


def test_worked_example_through_the_api(users):
    client = client_for(users, "admin")
    r = client.post(f"{API}/appraisals", {"title": "API appraisal", "horizon": 10}, content_type="application/json")
    assert r.status_code == 201, r.content
    aid = r.json()["id"]
    r = client.post(f"{API}/appraisals/{aid}/options", {"name": "Invest", "kind": "in_house", "costs": [1000000],
                                                        "benefits": [0] + [150000] * 10},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    body = client.get(f"{API}/appraisals/{aid}").json()
    o = body["options"][0]
    assert (round(o["pv_benefits"], 2), round(o["npsv"], 2), round(o["bcr"], 4)) == (1247490.80, 247490.80, 1.2475)
    assert body["preferred"] == "Invest" and body["owner"] == "merton"
    # replace the benefits: a missing year 5 is kept as null, counted as 0
    r = client.post(f"{API}/appraisals/{aid}/options/{o['id']}/flows",
                    {"benefits": [0, 150000, 150000, 150000, 150000, None, 150000]}, content_type="application/json")
    assert r.status_code == 200, r.content
    o = r.json()["options"][0]
    assert o["missing_years"] == [5] and o["benefits"][5] is None
    assert AuditEvent.objects.filter(model="appraisal.Option", action="updated").count() == 1


def test_pdf_report(users):
    a = _example(users)
    services.add_option(actor=users["admin"], appraisal=a, name="Do nothing", kind="do_minimum", costs="0",
                        benefits="0")
    r = client_for(users, "viewer").get(f"/appraisals/{a.pk}/report.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    data = r.content
    assert data.startswith(b"%PDF")
    text = _pdf_strings(data)
    assert "Recommended: Invest. It has the highest net present social value, £247,491" in text
    assert "+24.7%" in services.results(a)["changes"][0]


def _pdf_strings(data):
    """The text strings of a PDF's objects (the metadata holds the recommendation), decompressing streams."""
    chunks = [data]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            chunks.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    out = []
    for chunk in chunks:
        for h in re.findall(rb"<(?:FEFF|feff)([0-9A-Fa-f]+)>", chunk):
            out.append(bytes.fromhex(h.decode()).decode("utf-16-be", "replace"))
        out += [s.decode("latin-1") for s in re.findall(rb"\(([^()]*)\)", chunk)]
    return "\n".join(out)


def test_pdf_fetches_nothing_remote():
    assert not pdf.local_only("https://example.org/x.css")
    assert not pdf.local_only("file:///etc/passwd")
    fetcher = pdf.url_fetcher()
    with pytest.raises(pdf.RemoteResourceRefused):
        fetcher.fetch("http://127.0.0.1:1/x.png")


# Optimism bias, register prefill, weights, uncertainty ----------------------------------------------

def test_mixed_optimism_bias_weights_by_cost_share(users):
    a = _appraisal(users)
    services.add_option(actor=users["admin"], appraisal=a, name="Build", kind="in_house", costs="1000000",
                        ob_shares="non_standard_buildings 30, standard_buildings 70")
    services.add_option(actor=users["admin"], appraisal=a, name="Outsource", kind="large_firm", costs="1000000",
                        ob_shares={"outsourcing": 1})
    rows = {r["option"]: r for r in _csv(client_for(users, "viewer").get(_page(a), {"table": "results",
                                                                                       "format": "csv"}))}
    assert (rows["Build"]["uplift_percent"], rows["Build"]["pv_costs"]) == ("32.1", "1321000.0")
    assert (rows["Outsource"]["uplift_percent"], rows["Outsource"]["pv_costs"]) == ("41.0", "1410000.0")
    lower = _appraisal(users, title="Lower bound", bound="lower")
    services.add_option(actor=users["admin"], appraisal=lower, name="Build", kind="in_house", costs="1000000",
                        ob_shares="non_standard_buildings 30, standard_buildings 70")
    assert services.results(lower)["options"][0]["uplift"] == pytest.approx(0.3 * 4 + 0.7 * 2)


def test_business_as_usual_prefilled_from_the_register(users, private_contract):
    a = _appraisal(users, horizon=5, contracts=[private_contract.ocid])
    o = services.add_option(actor=users["admin"], appraisal=a, name="Business as usual", kind="bau")
    assert o.costs == [0.0, 1250000.0, 1250000.0, 1250000.0, 1250000.0, 1250000.0]
    assert "In-house reablement service (£1,250,000 a year)" in o.prefilled_from
    page = client_for(users, "viewer").get(_page(a)).content.decode()
    assert "Where the figures came from: Register: In-house reablement service" in page


def test_weights_not_summing_to_one_are_normalised_and_the_page_says_so(users):
    a = _example(users)
    client = client_for(users, "commissioner")
    r = client.post(f"/appraisals/{a.pk}/weights/", {"weight_cost": "1", "weight_quality": "1",
                                                     "weight_social_value": "0", "weight_risk": "0",
                                                     "weight_local_value": ""})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.weights == {"cost": 1.0, "quality": 1.0, "social_value": 0.0, "risk": 0.0, "local_value": 0.0}
    page = client.get(_page(a)).content.decode()
    assert "The weights added up to 2, not 1: each was divided by 2." in page
    rows = _csv(client.get(_page(a), {"table": "weights", "format": "csv"}))
    assert [(r["criterion"], r["weight_given"], r["weight_used"]) for r in rows][:2] == [
        ("cost", "1.0", "0.5"), ("quality", "1.0", "0.5")]
    event = AuditEvent.objects.filter(model="appraisal.Appraisal", action="updated").get()
    assert event.actor == users["commissioner"] and event.after["weights"]["cost"] == 1.0


def test_mcda_monte_carlo_and_switching_values(users):
    a = _example(users, weights={"cost": 0.5, "quality": 0.5})
    services.add_option(actor=users["admin"], appraisal=a, name="Do minimum", kind="do_minimum", costs="0",
                        benefits="0", scores={"cost": 100, "quality": 100})
    result = services.results(a)
    invest, minimum = result["options"]
    assert result["preferred"] == 0 and result["mcda_best"] == 1
    assert minimum["mcda"] == 100 and invest["mcda"] == 0
    assert "The weighted scores put Do minimum first" in result["recommendation"]
    # Invest is best unless its costs rise by 24.749% (PV benefits / PV costs - 1)
    first = result["switching"][0]
    assert (first["option"], first["input"]) == ("Invest", "Present value of costs")
    assert first["change"] == pytest.approx(24.749080, abs=1e-4)
    benefits = result["switching"][1]
    assert benefits["change"] == pytest.approx(-247490.80 / 1247490.80 * 100, abs=1e-4)
    rate = result["switching"][-1]
    assert rate["unit"] == "rate" and rate["switching_value"] == pytest.approx(0.081441, abs=1e-5)  # the IRR
    # seeded: the same answer every time; Invest (NPSV 247k, ranges +-) is best in most draws
    again = services.results(a)
    assert invest["probability_best"] == again["options"][0]["probability_best"]
    assert 0.5 < invest["probability_best"] < 1 and invest["probability_best"] + minimum["probability_best"] == 1


# Must survive --------------------------------------------------------------------------------------

def test_zero_and_negative_costs_missing_years_and_a_100_year_horizon(users):
    a = _appraisal(users, horizon=100)
    services.add_option(actor=users["admin"], appraisal=a, name="Free", kind="vcse", costs="0", benefits="")
    services.add_option(actor=users["admin"], appraisal=a, name="Saving", kind="shared_service",
                        partners="Sutton; Kingston", costs="-50000, -50000", benefits=", , 1000")
    services.add_option(actor=users["admin"], appraisal=a, name="Century", kind="latc",
                        costs=[100] * 101, benefits=[110] * 101)
    result = services.results(a)
    free, saving, century = result["options"]
    assert free["bcr"] is None and free["npsv"] == 0
    assert saving["bcr"] is None and saving["missing_years"] == [0, 1]
    assert saving["npsv"] == pytest.approx(50000 + 50000 / 1.035 + 1000 / 1.035 ** 2)
    assert century["years"] == 100
    page = client_for(users, "viewer").get(_page(a)).content.decode()
    assert "Not meaningful (costs 0 or less)" in page and "Missing: years 0, 1" in page
    assert "(with Sutton; Kingston)" in page


BAD = [
    ({"horizon": "1000"}, "horizon", "must be from 1 to 300"),
    ({"horizon": "ten"}, "horizon", "must be a number"),
    ({"discounting": "custom", "rate": "500"}, "rate", "must be from 0 to 20"),
    ({"discounting": "custom", "rate": "nan"}, "rate", "must be a finite number"),
    ({"bound": "middle"}, "bound", "choose one of upper, lower"),
    ({"weights": {"cost": -1}}, "weight_cost", "must be from 0"),
    ({"weights": {"cost": 0}}, "weight_cost", "at least one weight must be above 0"),
    ({"weights": {"luck": 1}}, "weights", "unknown criterion 'luck'"),
    ({"title": ""}, "title", "is needed"),
    ({"contracts": ["ocds-nope"]}, "contracts", "no contract with ocid 'ocds-nope'"),
]


@pytest.mark.parametrize(("kwargs", "field", "message"), BAD)
def test_bad_appraisal_input_names_the_field_and_saves_nothing(users, kwargs, field, message):
    with pytest.raises(services.AppraisalInputError) as e:
        _appraisal(users, **kwargs)
    assert e.value.field == field and message in e.value.message
    assert Appraisal.objects.count() == 0


BAD_OPTIONS = [
    ({"costs": ", ".join(["1"] * 12)}, "costs", "has 12 years (0 to 11) but the appraisal runs for 10 years"),
    ({"costs": "100, lots"}, "costs (year 1)", "must be a number, not 'lots'"),
    ({"benefits": [1, "inf"]}, "benefits (year 1)", "must be a finite number"),
    ({"benefits": [1e20]}, "benefits (year 0)", "must be from"),
    ({"ob_shares": "moon_base 100"}, "optimism_bias", "unknown project type 'moon_base'"),
    ({"ob_shares": "outsourcing 0"}, "optimism_bias", "must add up to more than 0"),
    ({"scores": {"quality": 101}}, "score_quality", "must be from 0 to 100"),
    ({"cost_low": 120}, "cost_low", "below and above 100%"),
    ({"kind": "magic"}, "kind", "choose one of"),
    ({"kind": "shared_service"}, "partners", "name the councils"),
    ({"name": "Invest"}, "name", "there is already an option called 'Invest'"),
    ({"name": "bad\x00name"}, "name", "NUL"),
]


@pytest.mark.parametrize(("kwargs", "field", "message"), BAD_OPTIONS)
def test_bad_option_input_names_the_field_and_saves_nothing(users, kwargs, field, message):
    a = _example(users)
    events = AuditEvent.objects.count()
    with pytest.raises(services.AppraisalInputError) as e:
        services.add_option(actor=users["admin"], appraisal=a, **{"name": "New", "kind": "sme", **kwargs})
    assert e.value.field == field and message in e.value.message
    assert Option.objects.filter(appraisal=a).count() == 1 and AuditEvent.objects.count() == events


def test_bad_input_on_the_page_shows_the_error_summary(users):
    a = _example(users)
    client = client_for(users, "admin")
    r = client.post(f"/appraisals/{a.pk}/options/", {"name": "Odd", "kind": "sme", "costs": "100, lots",
                                                     "cost_low": "90", "cost_high": "130", "benefit_low": "70",
                                                     "benefit_high": "110"})
    assert r.status_code == 400
    text = r.content.decode()
    assert "There is a problem" in text and "costs (year 1): must be a number, not &#x27;lots&#x27;" in text
    assert Option.objects.filter(appraisal=a).count() == 1
    r = client.post(f"/appraisals/{a.pk}/weights/", {"weight_cost": "-2"})
    assert r.status_code == 400 and "must be from 0" in r.content.decode()
    r = client.post("/appraisals/new/", {"title": "X", "horizon": "1000", "bound": "upper",
                                         "discounting": "standard"})
    assert r.status_code == 400 and "must be from 1 to 300" in r.content.decode()
    assert Appraisal.objects.count() == 1


def test_api_bad_input_is_a_problem_naming_the_field(users):
    a = _example(users)
    client = client_for(users, "admin")
    for url, body, name in [
        (f"{API}/appraisals", {"title": "X", "horizon": 0}, "horizon"),
        (f"{API}/appraisals", {"title": "X", "organisation": "no-such-council"}, "organisation"),
        (f"{API}/appraisals/{a.pk}/options", {"name": "Y", "kind": "sme", "costs": {"a": 1}}, "costs"),
        (f"{API}/appraisals/{a.pk}/weights", {"weights": {"cost": "x"}}, "weight_cost"),
    ]:
        r = client.post(url, body, content_type="application/json")
        assert r.status_code == 422 and r["Content-Type"] == PROBLEM, r.content
        assert r.json()["errors"][0]["name"] == name
    assert client.get(f"{API}/appraisals/99999999").status_code == 404
    assert Appraisal.objects.count() == 1


# Tenancy ---------------------------------------------------------------------------------------------

PAGE = statuses(302, 200, 200, 200, 404, 200)
WRITE = statuses(302, 302, 302, 403, 404, 302)
API_READ = statuses(401, 200, 200, 200, 404, 200)
API_WRITE = statuses(401, 201, 201, 403, 404, 201)


@pytest.mark.parametrize("role", ROLES)
def test_page_tenancy_matrix(users, role):
    a = _example(users)
    client = client_for(users, role)
    for url in (_page(a), f"{_page(a)}?table=results&format=csv", f"{_page(a)}report.pdf",
                f"/appraisals/{a.pk}/options/{a.options.get().pk}/"):
        r = client.get(url)
        expected = PAGE[role] if "options" not in url or role in ("anonymous", "other") else WRITE[role]
        expected = 200 if expected == 302 and role != "anonymous" else expected
        assert r.status_code == expected, (url, role)
    listing = client.get("/appraisals/")
    if role != "anonymous":
        assert ("Reablement options" in listing.content.decode()) is (role != "other")
        assert ("Open the appraisal" in listing.content.decode()) is (role in ("admin", "commissioner", "other"))
    r = client.post(f"/appraisals/{a.pk}/options/", {"name": "More", "kind": "sme", "cost_low": "90",
                                                     "cost_high": "130", "benefit_low": "70", "benefit_high": "110"})
    assert r.status_code == WRITE[role], role
    assert a.options.count() == (2 if WRITE[role] == 302 and role != "anonymous" else 1)
    refused = AuditEvent.objects.filter(action="refused")
    assert refused.count() == (2 if role == "viewer" else 0)  # the option's form and the post


@pytest.mark.parametrize("role", ROLES)
def test_api_tenancy_matrix(users, role):
    a = _example(users)
    client = client_for(users, role)
    r = client.get(f"{API}/appraisals/{a.pk}")
    assert r.status_code == API_READ[role], role
    if r.status_code != 200:
        assert r["Content-Type"] == PROBLEM
    r = client.post(f"{API}/appraisals/{a.pk}/options", {"name": "More", "kind": "sme", "costs": [5]},
                    content_type="application/json")
    assert r.status_code == API_WRITE[role], (role, r.content[:200])
    listing = client.get(f"{API}/appraisals")
    if listing.status_code == 200:
        assert [x["title"] for x in listing.json()] == ([] if role == "other" else ["Reablement options"])


def test_service_refuses_viewers_and_other_councils_and_audits_it(users):
    with pytest.raises(PermissionDenied):
        services.create_appraisal(actor=users["viewer"], owner=users["merton"], title="X")
    a = _example(users)
    with pytest.raises(PermissionDenied):
        services.set_weights(actor=users["other"], appraisal=a, weights={"cost": 1})
    events = AuditEvent.objects.filter(action="refused").order_by("id")
    assert [(e.actor, e.after["attempt"]) for e in events] == [(users["viewer"], "open an appraisal"),
                                                                (users["other"], "set the weights")]
    assert Appraisal.objects.count() == 1


def test_demo_is_synthetic_and_labelled(users):
    a = services.demo(la_code="DNC")
    assert a.synthetic and services.demo(la_code="DNC") == a
    assert a.options.count() == 4 and a.contracts.count() == 1
    bau = a.options.get(kind="bau")
    assert bau.prefilled_from.startswith("Register:")
    client = client_for(users, "superuser")
    page = client.get(_page(a)).content.decode()
    assert "This appraisal is synthetic" in page and "Recommended:" in page
    rows = _csv(client.get(_page(a), {"table": "results", "format": "csv"}))
    assert {r["synthetic"] for r in rows} == {"True"}
    assert calc.DEFAULT_WEIGHTS.keys() == set(calc.CRITERION_NAMES)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                                  max_size=5), max_leaves=12)
FIELDS = {"appraisals": ("title", "horizon", "bound", "discounting", "rate", "weights", "contracts", "organisation"),
          "options": ("name", "kind", "partners", "costs", "benefits", "ob_shares", "scores", "cost_low"),
          "flows": ("costs", "benefits", "ob_shares", "scores"), "weights": ("weights",)}


@hypothesis_settings(max_examples=60, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(sorted(FIELDS)), data=st.data())
def test_api_answers_any_json_as_an_editor_with_success_or_a_problem(users, kind, data):
    """Signed in as an editor (schemathesis in test_api.py runs anonymously): never a 500."""
    a = Appraisal.objects.filter(title="Fuzz").first() or _example(users, title="Fuzz")
    option = a.options.first()
    body = data.draw(st.fixed_dictionaries({}, optional={f: JSON for f in FIELDS[kind]}))
    url = {"appraisals": f"{API}/appraisals", "options": f"{API}/appraisals/{a.pk}/options",
           "flows": f"{API}/appraisals/{a.pk}/options/{option.pk}/flows",
           "weights": f"{API}/appraisals/{a.pk}/weights"}[kind]
    r = client_for(users, "admin").post(url, body, content_type="application/json")
    assert r.status_code in (200, 201, 422), (url, body, r.content[:300])
    if r.status_code == 422:
        assert r["Content-Type"] == PROBLEM and r.json()["detail"]


def test_change_an_option_on_its_page(users):
    a = _example(users)
    option = a.options.get()
    client = client_for(users, "commissioner")
    form = client.get(f"/appraisals/{a.pk}/options/{option.pk}/").content.decode()
    assert "1e+06" in form or "1000000" in form
    r = client.post(f"/appraisals/{a.pk}/options/{option.pk}/", {
        "name": "Invest", "kind": "in_house", "costs": "2000000", "benefits": BENEFITS, "ob_shares": "",
        "cost_low": "90", "cost_high": "130", "benefit_low": "70", "benefit_high": "110"})
    assert r.status_code == 302, r.content.decode()[:2000]
    option.refresh_from_db()
    assert option.costs == [2000000.0]
    assert services.results(a)["options"][0]["npsv"] == pytest.approx(1247490.80 - 2000000, abs=0.01)
    event = AuditEvent.objects.get(model="appraisal.Option", action="updated")
    assert (event.before["costs"], event.after["costs"]) == ([1000000.0], [2000000.0])
    r = client.post(f"/appraisals/{a.pk}/options/{option.pk}/", {
        "name": "Invest", "kind": "in_house", "costs": "x", "cost_low": "90", "cost_high": "130",
        "benefit_low": "70", "benefit_high": "110"})
    assert r.status_code == 400 and "There is a problem" in r.content.decode()
    option.refresh_from_db()
    assert option.costs == [2000000.0]
