"""Social return (SROI) and social value (issue 5, section 2): the methods.md worked example through the
pages, bad inputs, the proxy library (CSV import and export), commitments and deliveries (FTE and shared
benefit conventions), promised vs delivered per contract, supplier and council, tenancy, audit, API, demo."""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from commissioner.orgs.models import AuditEvent
from commissioner.register.models import Contract
from commissioner.register.services import create_local_contract
from commissioner.socialvalue import services
from commissioner.socialvalue.models import Commitment, Delivery, Proxy, SroiModel, SroiOutcome
from helpers import ROLES, client_for, statuses

API = "/api/v1"
WORKED = {"stakeholder": "Residents out of work", "indicator": "People into work", "quantity": "100",
          "proxy_value": "1,000", "proxy_source": "Worked example, methods.md section 2", "deadweight": "20",
          "displacement": "10", "attribution": "25", "drop_off": "10", "years": "3"}


@pytest.fixture
def sv(users):
    contract = create_local_contract(
        owner=users["merton"], actor=users["admin"], title="Employment support", delivery_model="market",
        provider_name="Jobs Together CIC", supplier_type="vcse", value=300_000, start_date=date(2024, 4, 1),
        end_date=date(2027, 4, 1), is_private=True)
    model = services.create_model(actor=users["admin"], owner=users["merton"], name="Employment support SROI",
                                  inputs="100000", contract=contract)
    return dict(users, contract=contract, model=model)


def _csv(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def _model_page(model):
    return f"/social-value/models/{model.pk}/"


# The worked example, through the pages -------------------------------------------------------------

def test_worked_example_through_the_pages(sv):
    client = client_for(sv, "commissioner")
    response = client.post(f"/social-value/councils/{sv['merton'].slug}/models/",
                           {"name": "Worked example", "service": "Employment support", "contract": "",
                            "inputs": "£100,000"})
    assert response.status_code == 302
    model = SroiModel.objects.get(name="Worked example")
    assert model.inputs == Decimal("100000.00") and model.is_private and model.owner == sv["merton"]
    assert client.post(f"{_model_page(model)}outcomes/", WORKED).status_code == 302
    outcome = model.outcomes.get()
    assert (outcome.deadweight, outcome.drop_off, outcome.years) == (Decimal(20), Decimal(10), 3)
    text = client_for(sv, "viewer").get(_model_page(model)).content.decode()
    assert "£136,994" in text and "£136,993.51" not in text  # to the pound here; in full in the downloads
    assert "1.37:1" in text and "0.37 " in text and "0.3699" not in text
    assert "22.22 months" in text
    assert "£54,000<" in text and "£48,600<" in text and "£43,740<" in text
    assert "41.6%" in text  # the switching value of deadweight
    assert "Add an outcome" not in text  # a viewer reads only
    rows = _csv(client.get(_model_page(model), {"table": "results", "format": "csv"}))
    values = {r[0]: r[1] for r in rows[1:]}
    assert values["present_value"] == "136993.51" and values["ratio"] == "1.3699"
    assert values["payback_months"] == "22.22" and values["impact_year_2"] == "48600.0"
    sens = _csv(client.get(_model_page(model), {"table": "sensitivity", "format": "csv"}))
    assert sens[0] == ["outcome", "assumption", "current", "switching_value", "unit", "synthetic"]
    deadweight = next(r for r in sens if r[1] == "deadweight")
    assert float(deadweight[2]) == 20.0 and float(deadweight[3]) == pytest.approx(41.6, abs=0.01)
    assert deadweight[4] == "percent" and deadweight[5] == "False"
    quantity = next(r for r in sens if r[1] == "quantity")
    assert float(quantity[3]) == pytest.approx(100 / 1.3699350702720476, rel=1e-6)
    data = json.loads(client.get(_model_page(model), {"table": "outcomes", "format": "json"}).content)
    assert data["rows"][0]["deadweight_percent"] == "20.0000" and data["rows"][0]["years"] == 3
    events = AuditEvent.objects.filter(model="socialvalue.SroiOutcome", object_pk=str(outcome.pk))
    assert events.get().after["deadweight"] == "20.0000"


def test_model_with_no_outcomes_shows_results_as_missing_not_zero(sv):
    text = client_for(sv, "admin").get(_model_page(sv["model"])).content.decode()
    assert "No outcomes yet" in text and "£0" not in text


# Bad inputs ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("deadweight", "120", "Deadweight (%) must be from 0 to 100, not 120"),
    ("attribution", "-5", "Attribution (%) must be from 0 to 100, not -5"),
    ("drop_off", "ten", "Drop-off (%) must be a number, not &#x27;ten&#x27;"),
    ("quantity", "-1", "Quantity must be 0 or more, not -1"),
    ("quantity", "lots", "Quantity must be a number, not &#x27;lots&#x27;"),
    ("proxy_value", "", "Enter the financial proxy (£ per unit)"),
    ("proxy_source", "", "Enter the source of the proxy"),
    ("years", "0", "Benefit period (years) must be a whole number from 1 to 100, not &#x27;0&#x27;"),
    ("years", "2.5", "Benefit period (years) must be a whole number from 1 to 100"),
])
def test_bad_outcome_is_refused_naming_the_field_and_saves_nothing(sv, field, value, message):
    response = client_for(sv, "admin").post(f"{_model_page(sv['model'])}outcomes/", {**WORKED, field: value})
    assert response.status_code == 400
    text = response.content.decode()
    assert "There is a problem" in text and message in text
    assert f'href="#id_{field}"' in text
    assert not SroiOutcome.objects.filter(model=sv["model"]).exists()


def test_duplicate_outcome_is_refused(sv):
    client = client_for(sv, "admin")
    assert client.post(f"{_model_page(sv['model'])}outcomes/", WORKED).status_code == 302
    response = client.post(f"{_model_page(sv['model'])}outcomes/", {**WORKED, "indicator": "PEOPLE INTO WORK"})
    assert response.status_code == 400
    assert "already has the outcome" in response.content.decode()
    assert SroiOutcome.objects.filter(model=sv["model"]).count() == 1


@pytest.mark.parametrize("data, message", [
    ({"inputs": "-1"}, "Value of inputs (£) must be 0 or more"),
    ({"inputs": "a lot"}, "Value of inputs (£) must be a number"),
    ({"service": ""}, "Enter the service, or choose a contract"),
    ({"contract": "ocds-no-such"}, "Enter the OCID of a contract that the council holds"),
])
def test_bad_model_is_refused(sv, data, message):
    before = SroiModel.objects.count()
    response = client_for(sv, "admin").post(f"/social-value/councils/{sv['merton'].slug}/models/",
                                            {"name": "X", "service": "Care", "contract": "", "inputs": "10", **data})
    assert response.status_code == 400 and message in response.content.decode()
    assert SroiModel.objects.count() == before


# The proxy library ---------------------------------------------------------------------------------

PROXIES = (b"name,unit,value,source,year,licence\r\n"
           b"Test proxy A,person a year,\"1,250.50\",Made-up source for a test,2023,Open Government Licence v3.0\r\n"
           b"Test proxy B,household,300,Another made-up source,2024,OGL v3.0\r\n")


def _upload(client, url, content, name="proxies.csv"):
    return client.post(url, {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


def test_proxy_csv_import_export_and_use_in_an_outcome(sv):
    org, client = sv["merton"], client_for(sv, "commissioner")
    url = f"/social-value/councils/{org.slug}/proxies/"
    assert "The library is empty" in client.get(url).content.decode()
    assert _upload(client, url + "upload/", PROXIES).status_code == 302
    a = Proxy.objects.get(owner=org, name="Test proxy A")
    assert (a.value, a.unit, a.year, a.licence, a.is_private) == (Decimal("1250.50"), "person a year", 2023,
                                                                  "Open Government Licence v3.0", True)
    rows = _csv(client.get(url, {"format": "csv"}))
    assert rows[0] == ["name", "unit", "value", "source", "year", "licence", "synthetic"]
    assert rows[1] == ["Test proxy A", "person a year", "1250.50", "Made-up source for a test", "2023",
                       "Open Government Licence v3.0", "False"]
    # the export loads back unchanged (same name and unit: updated, not duplicated)
    export = client.get(url, {"format": "csv"}).content
    assert _upload(client, url + "upload/", export).status_code == 302
    assert Proxy.objects.filter(owner=org).count() == 2
    # an outcome that uses a proxy from the library takes its value and source
    data = {**WORKED, "proxy": str(a.pk), "proxy_value": "", "proxy_source": ""}
    assert client.post(f"{_model_page(sv['model'])}outcomes/", data).status_code == 302
    o = sv["model"].outcomes.get()
    assert o.proxy_value == Decimal("1250.50") and o.proxy == a
    assert o.proxy_source == "Test proxy A: Made-up source for a test (2023, Open Government Licence v3.0)"
    # another council sees none of it
    assert "The library is empty" in client_for(sv, "other").get(url).content.decode()
    assert json.loads(client_for(sv, "other").get(url, {"format": "json"}).content)["rows"] == []


def test_bad_proxy_csv_lists_every_problem_and_saves_nothing(sv):
    org, client = sv["merton"], client_for(sv, "admin")
    bad = (b"name,unit,value,source,year,licence\n"
           b"Good one,person,10,Source,2023,OGL\n"
           b"Negative,person,-10,Source,2023,OGL\n"
           b"Texty,person,ten pounds,Source,2023,OGL\n"
           b"No year,person,10,Source,23,OGL\n"
           b"good one,PERSON,12,Source,2023,OGL\n"
           b",person,10,,2023,\n")
    response = _upload(client, f"/social-value/councils/{org.slug}/proxies/upload/", bad)
    assert response.status_code == 400
    text = response.content.decode()
    assert "Value (£) must be 0 or more, not -10" in text
    assert "Value (£) must be a number, not &#x27;ten pounds&#x27;" in text
    assert "Year must be a whole number from 1,950 to 2,100, not &#x27;23&#x27;" in text
    assert "is already given in row 2" in text
    assert "Enter the name" in text and "Enter the source" in text and "Enter the licence" in text
    assert not Proxy.objects.filter(owner=org).exists()
    response = _upload(client, f"/social-value/councils/{org.slug}/proxies/upload/", b"name,unit,price\nA,b,1\n")
    assert response.status_code == 400
    text = response.content.decode()
    assert "the column value is needed" in text and "unknown column" in text
    assert not Proxy.objects.filter(owner=org).exists()
    for content, message in ((b"name,unit\x00,value\n", "NUL characters"), (b"", "file is empty"),
                             (b"\n\n", "The file is empty"), (PROXIES[:36], "The file has no proxies")):
        response = _upload(client, f"/social-value/councils/{org.slug}/proxies/upload/", content)
        assert response.status_code == 400 and message in response.content.decode(), content
    assert not Proxy.objects.filter(owner=org).exists()


def test_proxy_form_refuses_bad_value(sv):
    org = sv["merton"]
    response = client_for(sv, "admin").post(f"/social-value/councils/{org.slug}/proxies/add/", {
        "name": "X", "unit": "person", "value": "-3", "source": "S", "year": "2024", "licence": "OGL"})
    assert response.status_code == 400 and "Value (£) must be 0 or more" in response.content.decode()
    assert not Proxy.objects.filter(owner=org).exists()


# Commitments and deliveries ------------------------------------------------------------------------

def _contract_url(contract):
    return f"/social-value/contracts/{contract.ocid}/"


def test_commitments_deliveries_and_promised_vs_delivered(sv):
    contract, client = sv["contract"], client_for(sv, "commissioner")
    url = _contract_url(contract)
    assert client.post(url + "commitments/", {"measure": "Local jobs", "unit": "FTE", "promised": "15"}).status_code \
        == 302
    assert client.post(url + "commitments/", {"measure": "Spend with local VCSEs", "unit": "£",
                                              "promised": "30,000"}).status_code == 302
    assert client.post(url + "commitments/", {"measure": "Apprenticeships", "unit": "starts",
                                              "promised": "4"}).status_code == 302
    jobs, vcse = (Commitment.objects.get(contract=contract, measure=m) for m in ("Local jobs", "Spend with local VCSEs"))
    # 10 full-time + 5 half-time = 12.5 FTE
    assert client.post(url + "deliveries/", {"commitment": jobs.pk, "period": "2024-25", "full_time": "10",
                                             "part_time": "5"}).status_code == 302
    # a benefit shared by 3 contracts: one third counted here
    assert client.post(url + "deliveries/", {"commitment": vcse.pk, "period": "2024-25", "amount": "27000",
                                             "shared_by": "3"}).status_code == 302
    d = Delivery.objects.get(commitment=jobs)
    assert d.amount == Decimal("12.5") and d.counted == Decimal("12.5")
    assert Delivery.objects.get(commitment=vcse).counted == Decimal(9000)
    rows = _csv(client.get(url, {"table": "commitments", "format": "csv"}))
    by = {r[2]: r for r in rows[1:]}
    assert by["Local jobs"][4:8] == ["15.00", "12.5000", "83.3", "1"]
    assert by["Spend with local VCSEs"][4:7] == ["30000.00", "9000.0000", "30.0"]
    assert by["Apprenticeships"][5:7] == ["", ""]  # nothing delivered yet: missing, not 0
    text = client.get(url).content.decode()
    assert "None recorded" in text and "83.3%" in text
    # per council and per supplier
    council = _csv(client.get(f"/social-value/councils/{sv['merton'].slug}/", {"table": "promised",
                                                                                "format": "csv"}))
    assert ["Local jobs", "FTE", "15.00", "12.5000", "83.3", "1", "False"] in council
    provider = contract.contract_suppliers.get().supplier.provider
    sup = json.loads(client.get(f"/social-value/providers/{provider.pk}/", {"table": "promised",
                                                                          "format": "json"}).content)
    assert {r["measure"]: r["delivered"] for r in sup["rows"]} == {
        "Apprenticeships": None, "Local jobs": "12.5000", "Spend with local VCSEs": "9000.0000"}
    assert "Jobs Together CIC" in client.get(f"/social-value/providers/{provider.pk}/").content.decode()


@pytest.mark.parametrize("data, field, message", [
    ({"period": "last year", "amount": "3"}, "period", "Period must look like 2024-25"),
    ({"period": "2024-25", "amount": "-3"}, "amount", "Amount delivered must be 0 or more"),
    ({"period": "2024-25", "amount": "three"}, "amount", "Amount delivered must be a number"),
    ({"period": "2024-25", "amount": "3", "full_time": "2"}, "amount", "either the amount or the full-time"),
    ({"period": "2024-25", "amount": "3", "shared_by": "0"}, "shared_by", "must be a whole number from 1"),
])
def test_bad_delivery_is_refused(sv, data, field, message):
    contract = sv["contract"]
    c = services.add_commitment(actor=sv["admin"], contract=contract, data={"measure": "Jobs", "unit": "FTE",
                                                                          "promised": "3"})
    response = client_for(sv, "admin").post(_contract_url(contract) + "deliveries/", {"commitment": c.pk, **data})
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text and f'href="#id_{field}"' in text
    assert not Delivery.objects.filter(commitment=c).exists()


def test_duplicate_commitment_and_period_are_refused(sv):
    contract, admin = sv["contract"], sv["admin"]
    c = services.add_commitment(actor=admin, contract=contract, data={"measure": "Jobs", "unit": "FTE",
                                                                    "promised": "3"})
    with pytest.raises(services.SvInputError, match="already has a commitment"):
        services.add_commitment(actor=admin, contract=contract, data={"measure": "jobs", "unit": "fte",
                                                                    "promised": "4"})
    services.record_delivery(actor=admin, commitment=c, data={"period": "2024-25", "amount": "1"})
    with pytest.raises(services.SvInputError, match="already recorded"):
        services.record_delivery(actor=admin, commitment=c, data={"period": "2024-25", "amount": "2"})
    assert Commitment.objects.filter(contract=contract).count() == 1 and c.deliveries.count() == 1


def test_delivery_csv_good_and_bad(sv):
    contract, client = sv["contract"], client_for(sv, "admin")
    for m, u in (("Local jobs", "FTE"), ("Spend with local VCSEs", "£")):
        services.add_commitment(actor=sv["admin"], contract=contract, data={"measure": m, "unit": u, "promised": 10})
    url = _contract_url(contract) + "deliveries/upload/"
    bad = (b"measure,unit,period,amount,full_time,part_time,shared_by\n"
           b"Local jobs,FTE,2024-25,,10,5,\n"
           b"Local jobs,FTE,2024-25,,1,0,\n"
           b"Spend with local VCSEs,\xa3,2024-25,-5,,,\n"
           b"Volunteering,hours,2024-25,5,,,\n")
    response = _upload(client, url, bad, "deliveries.csv")
    assert response.status_code == 400
    text = response.content.decode()
    assert "Local jobs 2024-25 is already given in row 2" in text
    assert "Amount delivered must be 0 or more" in text
    assert "the contract has no commitment &#x27;Volunteering&#x27;" in text
    assert not Delivery.objects.filter(commitment__contract=contract).exists()
    good = (b"measure,unit,period,amount,full_time,part_time,shared_by,note\n"
            b"Local jobs,FTE,2024-25,,10,5,,\n"
            b"Spend with local VCSEs,\xa3,2024-25,900,,,3,cp1252 pound sign\n")
    assert _upload(client, url, good, "deliveries.csv").status_code == 302
    counted = dict(Delivery.objects.filter(commitment__contract=contract).values_list("commitment__measure",
                                                                                       "counted"))
    assert counted == {"Local jobs": Decimal("12.5000"), "Spend with local VCSEs": Decimal("300.0000")}


# Tenancy, refusals and the audit trail ------------------------------------------------------------

def test_tenancy_matrix_of_pages(sv):
    model, contract, org = sv["model"], sv["contract"], sv["merton"]
    provider = contract.contract_suppliers.get().supplier.provider
    pages = {
        _model_page(model): statuses(302, 200, 200, 200, 404, 200),
        _model_page(model) + "?table=results&format=csv": statuses(302, 200, 200, 200, 404, 200),
        _contract_url(contract): statuses(302, 200, 200, 200, 404, 200),
        _contract_url(contract) + "?table=deliveries&format=json": statuses(302, 200, 200, 200, 404, 200),
        f"/social-value/councils/{org.slug}/": statuses(302, 200, 200, 200, 200, 200),
        f"/social-value/councils/{org.slug}/proxies/": statuses(302, 200, 200, 200, 200, 200),
        f"/social-value/providers/{provider.pk}/": statuses(302, 200, 200, 200, 404, 200),
        "/social-value/councils/no-such-council/": statuses(302, 404, 404, 404, 404, 404),
        _model_page(model) + "?table=nope&format=csv": statuses(302, 404, 404, 404, 404, 404),
    }
    for url, expected in pages.items():
        got = {role: client_for(sv, role).get(url).status_code for role in ROLES}
        assert got == expected, url
    # another council sees the council page without Merton's private model
    text = client_for(sv, "other").get(f"/social-value/councils/{org.slug}/").content.decode()
    assert "Employment support SROI" not in text and "No SROI models you can see" in text
    assert "Employment support SROI" in client_for(sv, "viewer").get(f"/social-value/councils/{org.slug}/") \
        .content.decode()


def test_tenancy_matrix_of_writes(sv):
    model, contract, org = sv["model"], sv["contract"], sv["merton"]
    posts = {
        f"{_model_page(model)}outcomes/": (WORKED, statuses(302, 302, 400, 403, 404, 400)),
        f"/social-value/councils/{org.slug}/models/": ({"name": "M", "service": "S", "contract": "", "inputs": "1"},
                                                       statuses(302, 302, 302, 403, 403, 302)),
        f"/social-value/councils/{org.slug}/proxies/add/": (
            {"name": "P", "unit": "u", "value": "1", "source": "s", "year": "2024", "licence": "OGL"},
            statuses(302, 302, 302, 403, 403, 302)),
        _contract_url(contract) + "commitments/": ({"measure": "M", "unit": "u", "promised": "1"},
                                                   statuses(302, 302, 400, 403, 404, 400)),
    }
    for url, (data, expected) in posts.items():
        got = {role: client_for(sv, role).post(url, data).status_code for role in ROLES}
        assert got == expected, url
    # the first editor adds the outcome and the model; later editors' identical outcome is a duplicate (400)
    assert SroiOutcome.objects.filter(model=model).count() == 1
    refused = AuditEvent.objects.filter(action="refused", organisation=org, after__attempt="change an SROI model")
    assert refused.count() == 1 and refused.get().actor == sv["viewer"]
    assert AuditEvent.objects.filter(action="refused", actor=sv["other"],
                                     after__attempt="create an SROI model").exists()


def test_csrf_is_required(sv):
    client = client_for(sv, "admin", enforce_csrf_checks=True)
    assert client.post(f"{_model_page(sv['model'])}outcomes/", WORKED).status_code == 403
    assert not SroiOutcome.objects.exists()


# API -----------------------------------------------------------------------------------------------

def test_api_model_detail_and_lists(sv):
    client = client_for(sv, "viewer")
    services.add_outcome(actor=sv["admin"], model=sv["model"], data=WORKED)
    body = json.loads(client.get(f"{API}/socialvalue/models/{sv['model'].pk}").content)
    assert round(body["present_value"], 2) == 136993.51 and round(body["ratio"], 4) == 1.3699
    assert round(body["payback_months"], 2) == 22.22 and body["yearly_impact"] == [54000.0, 48600.0, 43740.0]
    dw = next(s for s in body["sensitivity"] if s["assumption"] == "deadweight")
    assert round(dw["switching_value"], 1) == 41.6 and dw["unit"] == "percent"
    assert body["outcomes"][0]["deadweight_percent"] == "20.0000"
    listed = json.loads(client.get(f"{API}/socialvalue/councils/{sv['merton'].slug}/models").content)
    assert [m["name"] for m in listed] == ["Employment support SROI"]
    other = client_for(sv, "other")
    assert other.get(f"{API}/socialvalue/models/{sv['model'].pk}").status_code == 404
    assert json.loads(other.get(f"{API}/socialvalue/councils/{sv['merton'].slug}/models").content) == []
    assert client_for(sv, "anonymous").get(f"{API}/socialvalue/models/{sv['model'].pk}").status_code == 401
    c = services.add_commitment(actor=sv["admin"], contract=sv["contract"],
                                data={"measure": "Jobs", "unit": "FTE", "promised": "10"})
    services.record_delivery(actor=sv["admin"], commitment=c, data={"period": "2025-Q1", "full_time": "4"})
    commitments = json.loads(client.get(f"{API}/socialvalue/contracts/{sv['contract'].ocid}/commitments").content)
    assert commitments[0]["delivered"] == "4.0000" and commitments[0]["delivered_percent"] == 40.0
    assert other.get(f"{API}/socialvalue/contracts/{sv['contract'].ocid}/commitments").status_code == 404


# The demo ------------------------------------------------------------------------------------------

def test_demo_is_synthetic_labelled_and_idempotent(users):
    from commissioner.orgs.models import Organisation

    contract = services.demo(la_code="DNC")
    assert contract is not None and services.demo(la_code="DNC") == contract
    org = Organisation.objects.get(la_code="DNC")
    model = SroiModel.objects.get(owner=org, synthetic=True)
    assert SroiModel.objects.filter(owner=org).count() == 1
    jobs = Commitment.objects.get(contract=contract, measure="Local jobs")
    assert jobs.synthetic and jobs.deliveries.get().counted == Decimal("12.5")
    su = client_for(users, "superuser")
    text = su.get(_model_page(model)).content.decode()
    assert "synthetic" in text and "£136,994" in text
    rows = _csv(su.get(_contract_url(contract), {"table": "commitments", "format": "csv"}))
    assert rows[0][-1] == "synthetic" and all(r[-1] == "True" for r in rows[1:])
    assert "synthetic" in su.get(f"/social-value/councils/{org.slug}/").content.decode()


def test_limits_large_figures_and_an_absurd_proxy_id(sv):
    model, admin = sv["model"], sv["admin"]
    o = services.add_outcome(actor=admin, model=model, data={**WORKED, "deadweight": "100", "quantity": "999999999999"})
    assert o.deadweight == 100 and o.quantity == Decimal("999999999999.00")
    with pytest.raises(services.SvInputError, match="Quantity must be a number under"):
        services.add_outcome(actor=admin, model=model, data={**WORKED, "indicator": "B", "quantity": "1e13"})
    with pytest.raises(services.SvInputError, match="Choose a proxy from the council's library"):
        services.add_outcome(actor=admin, model=model, data={**WORKED, "indicator": "C", "proxy": "9" * 30})
    text = client_for(sv, "viewer").get(_model_page(model)).content.decode()
    assert "£0<" in text  # 100% deadweight: an impact of 0, which is a real value, shown as such
    c = services.add_commitment(actor=admin, contract=sv["contract"], data={"measure": "Spend", "unit": "£",
                                                                          "promised": "999,999,999,999"})
    d = services.record_delivery(actor=admin, commitment=c, data={"period": "2025", "amount": "999999999999.50",
                                                                  "shared_by": "1000"})
    d.refresh_from_db()
    assert d.amount == Decimal("999999999999.5000") and d.counted == Decimal("999999999.9995")


@pytest.mark.parametrize("path, status", [
    ("/socialvalue/models/0", 422), ("/socialvalue/models/99999999999999999999", 422),
    ("/socialvalue/models/abc", 422), ("/socialvalue/models/999999", 404),
    ("/socialvalue/councils/%C3%A9%00/models", 404), ("/socialvalue/councils/no-such/proxies", 404),
    ("/socialvalue/contracts/no%2Fsuch/commitments", 404), ("/socialvalue/contracts/a%00b/commitments", 404),
])
def test_api_bad_input_is_a_problem_document_for_a_signed_in_user(sv, path, status):
    response = client_for(sv, "admin").get(API + path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["status"] == status


def test_demo_goes_on_a_contract_that_fits_an_employment_model_and_moves_an_old_demo_once(users):
    from commissioner.orgs.models import AuditEvent, Organisation

    org = Organisation.objects.get(la_code="DNC")
    contract = services.demo(la_code="DNC")
    # the sample's Doncaster contracts: CCTV, surface dressing, Webex, legal, consultancy, and skills training
    assert contract.title == "ICT Skill Training Licence"
    assert services.demo_contract(org) == contract
    model = SroiModel.objects.get(owner=org, synthetic=True)
    assert model.contract == contract and model.name.startswith("Synthetic")
    # a demo database made before: the model and commitments on "CCTV camera relocation"
    cctv = Contract.objects.get(owner=org, title="CCTV camera relocation")
    SroiModel.objects.filter(pk=model.pk).update(contract=cctv)
    Commitment.objects.filter(owner=org, synthetic=True).update(contract=cctv)
    assert services.demo(la_code="DNC") == contract
    model.refresh_from_db()
    assert model.contract == contract
    assert set(Commitment.objects.filter(owner=org, synthetic=True).values_list("contract__title", flat=True)) == {
        "ICT Skill Training Licence"}
    moved = AuditEvent.objects.filter(organisation=org, action="updated").count()
    assert moved == 3  # the model and its two commitments
    services.demo(la_code="DNC")  # idempotent
    assert AuditEvent.objects.filter(organisation=org, action="updated").count() == moved
    assert SroiModel.objects.filter(owner=org).count() == 1 and Commitment.objects.filter(owner=org).count() == 2


def test_demo_contract_falls_back_to_cpv_then_the_first(users):
    merton = users["merton"]
    # Merton's sample contracts: parking (CPV 63), a consultation hub (48), demolition (45): none fits, so the first
    sample = Contract.objects.filter(owner=merton, source="ocds")
    assert services.demo_contract(merton) == sample.order_by("ocid").first()
    care = create_local_contract(owner=merton, actor=users["admin"], title="Home care framework", description="",
                                 delivery_model="outsourced", provider_name="Care Ltd", supplier_type="company",
                                 value=1000, is_private=True, cpv="85000000")
    assert services.demo_contract(merton) == care  # CPV 85, health and social work
    jobs = create_local_contract(owner=merton, actor=users["admin"], title="Employment support for care leavers",
                                 description="", delivery_model="outsourced", provider_name="Jobs Ltd",
                                 supplier_type="company", value=1000, is_private=True)
    assert services.demo_contract(merton) == jobs  # its title says employment
