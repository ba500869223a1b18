"""Social value: what a new user's walk-through found. Every error of a form at once, rounded figures on the
pages with the downloads in full, promised and delivered in one number format, a way in from the navigation."""

import json
import re
from decimal import Decimal

import pytest

from commissioner.register.services import create_local_contract
from commissioner.socialvalue import services
from commissioner.socialvalue.models import Proxy, SroiModel, SroiOutcome
from commissioner.socialvalue.templatetags.sv_format import like, places, pounds, ratio
from helpers import ROLES, client_for, statuses

WORKED = {"stakeholder": "Residents out of work", "indicator": "People into work", "quantity": "100",
          "proxy_value": "1,000", "proxy_source": "Worked example, methods.md section 2", "deadweight": "20",
          "displacement": "10", "attribution": "25", "drop_off": "10", "years": "3"}


@pytest.fixture
def sv(users):
    contract = create_local_contract(
        owner=users["merton"], actor=users["admin"], title="Employment support", delivery_model="market",
        provider_name="Jobs Together CIC", supplier_type="vcse", value=300_000, is_private=True)
    model = services.create_model(actor=users["admin"], owner=users["merton"], name="Employment support SROI",
                                  inputs="100000", contract=contract)
    return dict(users, contract=contract, model=model)


def _summary(text):
    """The error summary's links: (href, message)."""
    box = re.search(r'<div class="govuk-error-summary".*?</div>\s*</div>', text, re.DOTALL)
    assert box, "no error summary"
    return re.findall(r'<a href="(#[^"]+)">([^<]+)</a>', box.group(0))


def _inline(text, field):
    found = re.search(rf'<p id="id_{field}_error" class="govuk-error-message">.*?</span>\s*([^<]+)</p>', text, re.DOTALL)
    return found and found.group(1).strip()


# 1. Every error at once ---------------------------------------------------------------------------

def test_outcome_with_two_problems_shows_both_at_once_and_saves_nothing(sv):
    model = sv["model"]
    data = {**WORKED, "deadweight": "150", "proxy_source": ""}
    response = client_for(sv, "admin").post(f"/social-value/models/{model.pk}/outcomes/", data)
    assert response.status_code == 400
    text = response.content.decode()
    links = _summary(text)
    assert ("#id_deadweight", "Deadweight (%) must be from 0 to 100, not 150") in links
    assert ("#id_proxy_source", "Enter the source of the proxy") in links
    assert _inline(text, "deadweight") == "Deadweight (%) must be from 0 to 100, not 150"
    assert _inline(text, "proxy_source") == "Enter the source of the proxy"
    assert not SroiOutcome.objects.filter(model=model).exists()


def test_every_blank_and_bad_outcome_field_in_one_go(sv):
    data = {"stakeholder": "", "indicator": "", "quantity": "many", "proxy_value": "-1", "proxy_source": "",
            "deadweight": "150", "displacement": "-2", "attribution": "x", "drop_off": "101", "years": "0"}
    response = client_for(sv, "admin").post(f"/social-value/models/{sv['model'].pk}/outcomes/", data)
    assert response.status_code == 400
    fields = [href[4:] for href, _ in _summary(response.content.decode())]
    assert fields == ["stakeholder", "indicator", "quantity", "proxy_value", "proxy_source", "deadweight",
                      "displacement", "attribution", "drop_off", "years"]  # in the order of the form


def test_form_refusal_and_service_problems_together(sv):
    """A field the form itself refuses (too long to read) and the service's problems, in one summary."""
    data = {**WORKED, "stakeholder": "x" * 400, "deadweight": "150", "proxy_source": ""}
    response = client_for(sv, "admin").post(f"/social-value/models/{sv['model'].pk}/outcomes/", data)
    links = dict(_summary(response.content.decode()))
    assert set(links) == {"#id_stakeholder", "#id_deadweight", "#id_proxy_source"}
    assert "characters" in links["#id_stakeholder"]
    assert not SroiOutcome.objects.exists()


def test_start_a_model_shows_every_problem_at_once(sv):
    org = sv["merton"]
    response = client_for(sv, "commissioner").post(f"/social-value/councils/{org.slug}/models/", {
        "name": "Walk <b>model</b>", "inputs": "-5", "service": "", "contract": ""})
    assert response.status_code == 400
    text = response.content.decode()
    assert _summary(text) == [("#id_service", "Enter the service, or choose a contract"),
                              ("#id_inputs", "Value of inputs (£) must be 0 or more, not -5")]
    assert _inline(text, "inputs") == "Value of inputs (£) must be 0 or more, not -5"
    assert _inline(text, "service") == "Enter the service, or choose a contract"
    assert "Walk &lt;b&gt;model&lt;/b&gt;" in text and "<b>model</b>" not in text
    response = client_for(sv, "commissioner").post(f"/social-value/councils/{org.slug}/models/", {
        "name": "", "inputs": "", "service": "", "contract": "ocds-not-ours"})
    assert [h for h, _ in _summary(response.content.decode())] == ["#id_name", "#id_contract", "#id_inputs"]
    assert SroiModel.objects.filter(owner=org).count() == 1


def test_change_pages_show_every_problem_at_once(sv):
    model = sv["model"]
    client = client_for(sv, "admin")
    response = client.post(f"/social-value/models/{model.pk}/edit/", {"name": "", "inputs": "lots",
                                                                      "service": "", "contract": ""})
    assert [h for h, _ in _summary(response.content.decode())] == ["#id_name", "#id_service", "#id_inputs"]
    c = services.add_commitment(actor=sv["admin"], contract=sv["contract"],
                                data={"measure": "Local jobs", "unit": "FTE", "promised": "15"})
    response = client.post(f"/social-value/commitments/{c.pk}/edit/", {"measure": "", "unit": "", "promised": "-1"})
    assert [h for h, _ in _summary(response.content.decode())] == ["#id_measure", "#id_unit", "#id_promised"]
    c.refresh_from_db()
    assert (c.measure, c.promised) == ("Local jobs", Decimal("15.00"))


def test_commitment_delivery_and_proxy_forms_show_every_problem(sv):
    client, contract, org = client_for(sv, "admin"), sv["contract"], sv["merton"]
    url = f"/social-value/contracts/{contract.ocid}/"
    response = client.post(url + "commitments/", {"measure": "", "unit": "", "promised": "x"})
    assert len(_summary(response.content.decode())) == 3
    c = services.add_commitment(actor=sv["admin"], contract=contract,
                                data={"measure": "Local jobs", "unit": "FTE", "promised": "15"})
    response = client.post(url + "deliveries/", {"commitment": str(c.pk), "period": "last year", "amount": "-3",
                                                 "shared_by": "0"})
    assert [h for h, _ in _summary(response.content.decode())] == ["#id_period", "#id_amount", "#id_shared_by"]
    response = client.post(f"/social-value/councils/{org.slug}/proxies/add/", {
        "name": "", "unit": "", "value": "x", "source": "", "year": "1800", "licence": ""})
    assert len(_summary(response.content.decode())) == 6
    assert not Proxy.objects.exists() and not c.deliveries.exists()


def test_api_names_every_bad_field(sv):
    client = client_for(sv, "admin")
    response = client.post(f"/api/v1/socialvalue/models/{sv['model'].pk}/outcomes",
                           json.dumps({**{k: v for k, v in WORKED.items() if k != "proxy_source"},
                                       "proxy_value": 1000, "quantity": 100, "years": 3,
                                       "deadweight_percent": 150}), content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    named = json.dumps(body)
    assert "deadweight_percent" in named and "proxy_source" in named, body


# 3. Number formats --------------------------------------------------------------------------------

def test_number_format_filters():
    assert pounds(Decimal("100000.00")) == "£100,000" and pounds(54000.4) == "£54,000" and pounds(-5) == "-£5"
    assert pounds(0) == "£0" and pounds(None) == ""
    assert ratio(0.36993507) == "0.37" and ratio(1.3699) == "1.37"
    assert places(Decimal("15.00"), Decimal("12.5000")) == 1 and places(15, 27000) == 0
    assert places(Decimal("0.125")) == 2
    assert like(Decimal("15.00"), Decimal("12.5")) == "15.0" and like(Decimal("12.5000"), Decimal(15)) == "12.5"
    assert like(Decimal(30000), Decimal(9000)) == "30,000"


def test_model_page_rounds_to_pounds_and_downloads_keep_the_figures(sv):
    model = sv["model"]
    services.add_outcome(actor=sv["admin"], model=model, data=WORKED)
    client = client_for(sv, "viewer")
    text = client.get(f"/social-value/models/{model.pk}/").content.decode()
    assert "£100,000<" in text and "£100,000.00" not in text
    assert "£136,994<" in text and "£54,000<" in text and "£54,000.00" not in text
    assert "1.37:1" in text and "0.37 " in text and "0.3699" not in text
    rows = {r["measure"]: r["value"] for r in client.get(
        f"/social-value/models/{model.pk}/", {"table": "results", "format": "json"}).json()["rows"]}
    assert rows["present_value"] == pytest.approx(136993.51) and rows["net_ratio"] == pytest.approx(0.3699)
    assert rows["inputs"] == 100000.0


def test_promised_and_delivered_in_the_same_format(sv):
    contract = sv["contract"]
    jobs = services.add_commitment(actor=sv["admin"], contract=contract,
                                   data={"measure": "Local jobs", "unit": "FTE", "promised": "15"})
    services.record_delivery(actor=sv["admin"], commitment=jobs,
                             data={"period": "2024-25", "full_time": "10", "part_time": "5"})
    text = client_for(sv, "viewer").get(f"/social-value/contracts/{contract.ocid}/").content.decode()
    assert ">15.0</td>" in text and ">12.5</td>" in text and ">12.50<" not in text and ">15</td>" not in text
    council = client_for(sv, "viewer").get(f"/social-value/councils/{sv['merton'].slug}/").content.decode()
    assert ">15.0</td>" in council and ">12.5</td>" in council
    csv_text = client_for(sv, "viewer").get(f"/social-value/contracts/{contract.ocid}/",
                                            {"table": "commitments", "format": "csv"}).content.decode()
    assert ",15.00,12.5000," in csv_text  # full precision in the download


# 4. A way in --------------------------------------------------------------------------------------

def test_social_value_index_tenancy_and_links(sv):
    url = "/social-value/"
    got = {role: client_for(sv, role).get(url).status_code for role in ROLES}
    assert got == statuses(302, 200, 200, 200, 200, 200)
    merton = f'href="/social-value/councils/{sv["merton"].slug}/"'
    leeds = f'href="/social-value/councils/{sv["other_org"].slug}/"'
    for role in ("admin", "commissioner", "viewer"):
        text = client_for(sv, role).get(url).content.decode()
        assert merton in text and leeds not in text and "1 SROI model and 0 commitments" in text
    assert "you can start a model" in client_for(sv, "admin").get(url).content.decode()
    assert "you can start a model" not in client_for(sv, "viewer").get(url).content.decode()
    other = client_for(sv, "other").get(url).content.decode()
    assert leeds in other and merton not in other  # Merton's model is private to Merton
    root = client_for(sv, "superuser").get(url).content.decode()
    assert merton in root and "(not your council)" in root
    assert 'href="/social-value/open-proxies/"' in root


def test_navigation_and_council_page_lead_to_the_social_value_pages(sv):
    home = client_for(sv, "viewer").get("/").content.decode()
    assert 'class="govuk-header__link" href="/social-value/">Social value</a>' in home
    assert 'href="/social-value/"' not in client_for(sv, "anonymous").get("/").content.decode()
    council = client_for(sv, "viewer").get(f"/social-value/councils/{sv['merton'].slug}/").content.decode()
    assert 'href="/social-value/">Social value</a>' in council  # breadcrumbs back to the index
