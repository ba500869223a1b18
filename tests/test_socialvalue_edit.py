"""Social value (issue 5, section 2), the second part: changing and deleting SROI models, outcomes, commitments,
deliveries and proxies on the pages (forms prefilled, confirmation pages, audit before and after, nothing
half-saved, tenancy), the write API (problem details naming the field, CSRF, tenancy matrix) and the shared
library of open proxies (Open Government Licence, with sources)."""

import json
from datetime import date
from decimal import Decimal

import pytest

from commissioner.orgs.models import AuditEvent
from commissioner.register.services import create_local_contract
from commissioner.socialvalue import services
from commissioner.socialvalue.models import Commitment, Delivery, Proxy, SroiModel, SroiOutcome
from helpers import ROLES, client_for, statuses

API = "/api/v1/socialvalue"
WORKED = {"stakeholder": "Residents out of work", "indicator": "People into work", "quantity": "100",
          "proxy_value": "1000", "proxy_source": "Worked example, methods.md section 2", "deadweight": "20",
          "displacement": "10", "attribution": "25", "drop_off": "10", "years": "3"}


@pytest.fixture
def sv(users):
    contract = create_local_contract(
        owner=users["merton"], actor=users["admin"], title="Employment support", delivery_model="market",
        provider_name="Jobs Together CIC", supplier_type="vcse", value=300_000, start_date=date(2024, 4, 1),
        end_date=date(2027, 4, 1), is_private=True)
    admin = users["admin"]
    model = services.create_model(actor=admin, owner=users["merton"], name="Employment support SROI",
                                  inputs="100000", contract=contract)
    outcome = services.add_outcome(actor=admin, model=model, data=WORKED)
    commitment = services.add_commitment(actor=admin, contract=contract,
                                         data={"measure": "Local jobs", "unit": "FTE", "promised": "15"})
    delivery = services.record_delivery(actor=admin, commitment=commitment,
                                        data={"period": "2024-25", "full_time": "10", "part_time": "5"})
    proxy = services.save_proxy(actor=admin, owner=users["merton"], data={
        "name": "Test proxy", "unit": "person a year", "value": "1250.50", "source": "Made-up source for a test",
        "year": "2023", "licence": "OGL v3.0"})
    return dict(users, contract=contract, model=model, outcome=outcome, commitment=commitment, delivery=delivery,
                proxy=proxy)


def _events(obj, action):
    return AuditEvent.objects.filter(model=obj._meta.label, object_pk=str(obj.pk), action=action)


# Pages: change ------------------------------------------------------------------------------------

def test_change_an_outcome_prefilled_then_saved_with_audit(sv):
    outcome, client = sv["outcome"], client_for(sv, "commissioner")
    url = f"/social-value/outcomes/{outcome.pk}/edit/"
    text = client.get(url).content.decode()
    assert 'value="Residents out of work"' in text and 'value="20"' in text and 'value="1000"' in text
    assert 'value="3"' in text and "Save the changes" in text
    response = client.post(url, {**WORKED, "deadweight": "30", "years": "2"})
    assert response.status_code == 302 and response["Location"] == f"/social-value/models/{sv['model'].pk}/"
    outcome.refresh_from_db()
    assert (outcome.deadweight, outcome.years) == (Decimal(30), 2)
    event = _events(outcome, "updated").get()
    assert event.before["deadweight"] == "20.0000" and event.after["deadweight"] == "30.0000"
    assert event.actor == sv["commissioner"]
    # 100 x 1000 x 0.7 x 0.9 x 0.75 = 47,250 in year 1
    assert "£47,250<" in client.get(f"/social-value/models/{sv['model'].pk}/").content.decode()


@pytest.mark.parametrize("field, value, message", [
    ("deadweight", "101", "Deadweight (%) must be from 0 to 100, not 101"),
    ("displacement", "-0.5", "Displacement (%) must be from 0 to 100, not -0.5"),
    ("attribution", "half", "Attribution (%) must be a number, not &#x27;half&#x27;"),
    ("drop_off", "1e3", "Drop-off (%) must be from 0 to 100"),
    ("years", "101", "Benefit period (years) must be a whole number from 1 to 100"),
    ("quantity", "", "Enter the quantity"),
])
def test_changed_outcome_out_of_range_is_refused_on_its_field_and_nothing_changes(sv, field, value, message):
    outcome = sv["outcome"]
    response = client_for(sv, "admin").post(f"/social-value/outcomes/{outcome.pk}/edit/",
                                            {**WORKED, "stakeholder": "Changed", field: value})
    assert response.status_code == 400
    text = response.content.decode()
    assert "There is a problem" in text and message in text and f'href="#id_{field}"' in text
    assert "<title>Error:" in text
    outcome.refresh_from_db()
    assert outcome.stakeholder == "Residents out of work" and outcome.deadweight == 20
    assert not _events(outcome, "updated").exists()


def test_changed_outcome_cannot_duplicate_another(sv):
    other = services.add_outcome(actor=sv["admin"], model=sv["model"],
                                 data={**WORKED, "stakeholder": "Carers", "indicator": "Respite"})
    response = client_for(sv, "admin").post(f"/social-value/outcomes/{other.pk}/edit/", {
        **WORKED, "stakeholder": "residents OUT of work"})
    assert response.status_code == 400 and "already has the outcome" in response.content.decode()
    other.refresh_from_db()
    assert other.stakeholder == "Carers"
    # saving an outcome unchanged is not a duplicate of itself
    assert client_for(sv, "admin").post(f"/social-value/outcomes/{sv['outcome'].pk}/edit/", WORKED).status_code \
        == 302


def test_change_an_outcome_to_a_library_proxy(sv):
    outcome, proxy = sv["outcome"], sv["proxy"]
    response = client_for(sv, "admin").post(f"/social-value/outcomes/{outcome.pk}/edit/", {
        **WORKED, "proxy": str(proxy.pk), "proxy_value": "", "proxy_source": ""})
    assert response.status_code == 302
    outcome.refresh_from_db()
    assert outcome.proxy == proxy and outcome.proxy_value == Decimal("1250.50")
    # the edit form shows the library's choice selected
    text = client_for(sv, "admin").get(f"/social-value/outcomes/{outcome.pk}/edit/").content.decode()
    assert f'<option value="{proxy.pk}" selected>' in text


def test_change_the_model_and_its_contract(sv):
    model, client = sv["model"], client_for(sv, "admin")
    url = f"/social-value/models/{model.pk}/edit/"
    text = client.get(url).content.decode()
    assert 'value="Employment support SROI"' in text and 'value="100000"' in text
    assert f'value="{sv["contract"].ocid}"' in text
    response = client.post(url, {"name": "Renamed <script>x</script>", "service": "Employment support",
                                 "contract": "", "inputs": "£120,000"})
    assert response.status_code == 302
    model.refresh_from_db()
    assert (model.name, model.inputs, model.contract) == ("Renamed <script>x</script>", Decimal(120000), None)
    event = _events(model, "updated").get()
    assert event.before["inputs"] == "100000.00" and event.after["inputs"] == "120000.00"
    assert event.before["contract"] == sv["contract"].pk and event.after["contract"] is None
    page = client.get(f"/social-value/models/{model.pk}/").content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page
    for data, message in (({"inputs": "-1"}, "Value of inputs (£) must be 0 or more"),
                          ({"contract": "ocds-not-ours"}, "Enter the OCID of a contract that the council holds"),
                          ({"service": ""}, "Enter the service, or choose a contract")):
        response = client.post(url, {"name": "X", "service": "S", "contract": "", "inputs": "5", **data})
        assert response.status_code == 400 and message in response.content.decode()
    model.refresh_from_db()
    assert model.name == "Renamed <script>x</script>"


def test_change_a_commitment_and_a_delivery(sv):
    c, d, client = sv["commitment"], sv["delivery"], client_for(sv, "admin")
    text = client.get(f"/social-value/commitments/{c.pk}/edit/").content.decode()
    assert 'value="Local jobs"' in text and 'value="15"' in text
    assert client.post(f"/social-value/commitments/{c.pk}/edit/", {"measure": "Local jobs", "unit": "FTE",
                                                                  "promised": "20"}).status_code == 302
    c.refresh_from_db()
    assert c.promised == 20
    text = client.get(f"/social-value/deliveries/{d.pk}/edit/").content.decode()
    assert 'value="2024-25"' in text and 'value="12.5"' in text
    # full-time and part-time staff replace the amount; shared by 2 counts half
    response = client.post(f"/social-value/deliveries/{d.pk}/edit/", {
        "period": "2024-25", "amount": "", "full_time": "8", "part_time": "4", "shared_by": "2", "note": "corrected"})
    assert response.status_code == 302
    d.refresh_from_db()
    assert (d.amount, d.counted, d.shared_by, d.note) == (Decimal(10), Decimal(5), 2, "corrected")
    event = _events(d, "updated").get()
    assert event.before["counted"] == "12.5000" and event.after["counted"] == "5.0000"
    rows = client.get(f"/social-value/contracts/{sv['contract'].ocid}/", {"table": "commitments",
                                                                          "format": "json"})
    assert json.loads(rows.content)["rows"][0]["delivered_percent"] == 25.0


def test_bad_commitment_and_delivery_changes_are_refused(sv):
    c, d, client = sv["commitment"], sv["delivery"], client_for(sv, "admin")
    services.add_commitment(actor=sv["admin"], contract=sv["contract"],
                            data={"measure": "Apprenticeships", "unit": "starts", "promised": "4"})
    response = client.post(f"/social-value/commitments/{c.pk}/edit/", {"measure": "apprenticeships",
                                                                      "unit": "STARTS", "promised": "1"})
    assert response.status_code == 400 and "already has a commitment" in response.content.decode()
    response = client.post(f"/social-value/commitments/{c.pk}/edit/", {"measure": "Local jobs", "unit": "FTE",
                                                                      "promised": "-2"})
    assert response.status_code == 400 and 'href="#id_promised"' in response.content.decode()
    services.record_delivery(actor=sv["admin"], commitment=c, data={"period": "2025-26", "amount": "3"})
    for data, field, message in (
            ({"period": "2025-26", "amount": "1"}, "period", "Delivery for 2025-26 is already recorded"),
            ({"period": "next year", "amount": "1"}, "period", "Period must look like 2024-25"),
            ({"period": "2024-25", "amount": "1", "full_time": "3"}, "amount", "either the amount"),
            ({"period": "2024-25", "amount": "1", "shared_by": "0"}, "shared_by", "whole number from 1")):
        response = client.post(f"/social-value/deliveries/{d.pk}/edit/", data)
        text = response.content.decode()
        assert response.status_code == 400 and message in text and f'href="#id_{field}"' in text, data
    c.refresh_from_db()
    d.refresh_from_db()
    assert (c.measure, c.promised, d.period, d.counted) == ("Local jobs", 15, "2024-25", Decimal("12.5"))


def test_change_a_proxy(sv):
    p, client = sv["proxy"], client_for(sv, "admin")
    url = f"/social-value/proxies/{p.pk}/edit/"
    assert 'value="1250.5"' in client.get(url).content.decode()
    data = {"name": "Test proxy", "unit": "person a year", "value": "1300", "source": "Corrected source",
            "year": "2024", "licence": "OGL v3.0"}
    assert client.post(url, data).status_code == 302
    p.refresh_from_db()
    assert (p.value, p.year, p.source) == (Decimal(1300), 2024, "Corrected source")
    assert _events(p, "updated").filter(before__value="1250.50", after__value="1300.00").exists()
    response = client.post(url, {**data, "year": "1900"})
    assert response.status_code == 400 and "Year must be a whole number from 1,950 to 2,100" in \
        response.content.decode()


# Pages: delete --------------------------------------------------------------------------------------

def test_delete_pages_confirm_then_delete_with_audit(sv):
    client = client_for(sv, "admin")
    d, c, o, p, m = sv["delivery"], sv["commitment"], sv["outcome"], sv["proxy"], sv["model"]
    text = client.get(f"/social-value/deliveries/{d.pk}/delete/").content.decode()
    assert "Delete what was delivered in this period?" in text and "2024-25" in text and "Yes, delete it" in text
    assert Delivery.objects.filter(pk=d.pk).exists()  # a GET deletes nothing
    assert client.post(f"/social-value/deliveries/{d.pk}/delete/").status_code == 302
    assert not Delivery.objects.filter(pk=d.pk).exists()
    assert _events(d, "deleted").get().before["counted"] == "12.5000"
    # a second submission of the same delete finds nothing: 404, nothing else deleted
    assert client.post(f"/social-value/deliveries/{d.pk}/delete/").status_code == 404

    services.record_delivery(actor=sv["admin"], commitment=c, data={"period": "2025-26", "amount": "3"})
    text = client.get(f"/social-value/commitments/{c.pk}/delete/").content.decode()
    assert "(1 period)" in text
    assert client.post(f"/social-value/commitments/{c.pk}/delete/").status_code == 302
    assert not Commitment.objects.filter(pk=c.pk).exists() and not Delivery.objects.exists()
    assert _events(c, "deleted").get().before["deliveries"][0]["period"] == "2025-26"

    services.add_outcome(actor=sv["admin"], model=m, data={**WORKED, "proxy": str(p.pk), "indicator": "Other"})
    assert client.post(f"/social-value/proxies/{p.pk}/delete/").status_code == 302
    assert not Proxy.objects.filter(pk=p.pk).exists()
    kept = SroiOutcome.objects.get(model=m, indicator="Other")
    assert kept.proxy is None and kept.proxy_value == Decimal("1250.50")  # the outcome keeps what it copied

    assert client.post(f"/social-value/outcomes/{o.pk}/delete/").status_code == 302
    assert not SroiOutcome.objects.filter(pk=o.pk).exists()
    text = client.get(f"/social-value/models/{m.pk}/delete/").content.decode()
    assert "its 1 outcome will be deleted" in text
    response = client.post(f"/social-value/models/{m.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == f"/social-value/councils/{sv['merton'].slug}/"
    assert not SroiModel.objects.filter(pk=m.pk).exists() and not SroiOutcome.objects.filter(model_id=m.pk).exists()
    assert _events(m, "deleted").get().before["outcomes"][0]["indicator"] == "Other"


def test_model_page_links_to_change_and_delete_for_editors_only(sv):
    m, o = sv["model"], sv["outcome"]
    text = client_for(sv, "commissioner").get(f"/social-value/models/{m.pk}/").content.decode()
    assert f"/social-value/models/{m.pk}/edit/" in text and f"/social-value/outcomes/{o.pk}/delete/" in text
    text = client_for(sv, "viewer").get(f"/social-value/models/{m.pk}/").content.decode()
    assert "/edit/" not in text and "/delete/" not in text
    text = client_for(sv, "admin").get(f"/social-value/contracts/{sv['contract'].ocid}/").content.decode()
    assert f"/social-value/deliveries/{sv['delivery'].pk}/edit/" in text
    assert f"/social-value/commitments/{sv['commitment'].pk}/delete/" in text
    text = client_for(sv, "admin").get(f"/social-value/councils/{sv['merton'].slug}/proxies/").content.decode()
    assert f"/social-value/proxies/{sv['proxy'].pk}/edit/" in text


# Pages: tenancy ----------------------------------------------------------------------------------

def test_tenancy_matrix_of_change_and_delete_pages(sv):
    pages = [f"/social-value/models/{sv['model'].pk}/", f"/social-value/outcomes/{sv['outcome'].pk}/",
             f"/social-value/commitments/{sv['commitment'].pk}/", f"/social-value/deliveries/{sv['delivery'].pk}/",
             f"/social-value/proxies/{sv['proxy'].pk}/"]
    expected = statuses(302, 200, 200, 403, 404, 200)
    for page in pages:
        for action in ("edit/", "delete/"):
            got = {role: client_for(sv, role).get(page + action).status_code for role in ROLES}
            assert got == expected, page + action
    assert client_for(sv, "admin").get("/social-value/outcomes/999999/edit/").status_code == 404
    assert client_for(sv, "admin").get("/social-value/deliveries/99999999999999999999/delete/").status_code == 404
    refused = AuditEvent.objects.filter(action="refused", actor=sv["viewer"])
    assert refused.count() == 10
    assert refused.filter(model="socialvalue.SroiOutcome", object_pk=str(sv["outcome"].pk)).count() == 2


def test_refused_posts_change_and_delete_nothing(sv):
    m, d = sv["model"], sv["delivery"]
    for role, status in (("anonymous", 302), ("viewer", 403), ("other", 404)):
        client = client_for(sv, role)
        assert client.post(f"/social-value/models/{m.pk}/edit/", {"name": "Hijacked", "service": "S",
                                                                  "contract": "", "inputs": "1"}).status_code == status
        assert client.post(f"/social-value/deliveries/{d.pk}/delete/").status_code == status
        assert client.post(f"/social-value/models/{m.pk}/delete/").status_code == status
    m.refresh_from_db()
    assert m.name == "Employment support SROI" and Delivery.objects.filter(pk=d.pk).exists()
    assert AuditEvent.objects.filter(action="refused", actor=sv["viewer"], after__attempt="delete an SROI model") \
        .count() == 1
    # a superuser may
    assert client_for(sv, "superuser").post(f"/social-value/deliveries/{d.pk}/delete/").status_code == 302


def test_csrf_is_required_to_change_or_delete(sv):
    client = client_for(sv, "admin", enforce_csrf_checks=True)
    assert client.post(f"/social-value/outcomes/{sv['outcome'].pk}/edit/", WORKED).status_code == 403
    assert client.post(f"/social-value/models/{sv['model'].pk}/delete/").status_code == 403
    assert SroiModel.objects.filter(pk=sv["model"].pk).exists()


# API ----------------------------------------------------------------------------------------------

def _json(client, method, url, body=None):
    kwargs = {"content_type": "application/json"}
    if body is not None:
        kwargs["data"] = json.dumps(body)
    return getattr(client, method)(url, **kwargs)


def test_api_write_journey(sv):
    client, slug = client_for(sv, "commissioner"), sv["merton"].slug
    r = _json(client, "post", f"{API}/councils/{slug}/models", {"name": "Via the API", "inputs": "100000",
                                                                 "service": "Employment support"})
    assert r.status_code == 201, r.content
    model = r.json()
    assert model["inputs"] == "100000.00" and model["outcomes"] == [] and model["contract_ocid"] is None
    r = _json(client, "post", f"{API}/models/{model['id']}/outcomes", {
        "stakeholder": "Residents out of work", "indicator": "People into work", "quantity": 100,
        "proxy_value": 1000, "proxy_source": "Worked example", "deadweight_percent": 20,
        "displacement_percent": "10", "attribution_percent": 25, "drop_off_percent": 10, "years": 3})
    assert r.status_code == 201, r.content
    body = r.json()
    assert round(body["present_value"], 2) == 136993.51 and body["outcomes"][0]["deadweight_percent"] == "20.0000"
    outcome_id = body["outcomes"][0]["id"]
    r = _json(client, "patch", f"{API}/outcomes/{outcome_id}", {"deadweight_percent": 30, "years": 2})
    assert r.status_code == 200 and r.json()["yearly_impact"][0] == 47250.0
    assert r.json()["outcomes"][0]["stakeholder"] == "Residents out of work"  # fields not given are kept
    r = _json(client, "patch", f"{API}/models/{model['id']}", {"inputs": 50000,
                                                               "contract_ocid": sv["contract"].ocid})
    assert r.status_code == 200 and r.json()["contract_ocid"] == sv["contract"].ocid
    assert r.json()["name"] == "Via the API"
    # commitments and deliveries
    ocid = sv["contract"].ocid
    r = _json(client, "post", f"{API}/contracts/{ocid}/commitments", {"measure": "Apprenticeships",
                                                                     "unit": "starts", "promised": 4})
    assert r.status_code == 201 and r.json()["delivered"] is None
    cid = r.json()["id"]
    r = _json(client, "post", f"{API}/commitments/{cid}/deliveries", {"period": "2024-25", "amount": 3})
    assert r.status_code == 201 and r.json()["delivered"] == "3.0000" and r.json()["delivered_percent"] == 75.0
    did = r.json()["deliveries"][0]["id"]
    r = _json(client, "patch", f"{API}/deliveries/{did}", {"amount": 4, "note": "corrected"})
    assert r.status_code == 200 and r.json()["delivered_percent"] == 100.0
    r = _json(client, "patch", f"{API}/commitments/{cid}", {"promised": 8})
    assert r.status_code == 200 and r.json()["delivered_percent"] == 50.0
    assert _json(client, "delete", f"{API}/deliveries/{did}").status_code == 204
    assert _json(client, "delete", f"{API}/commitments/{cid}").status_code == 204
    assert not Commitment.objects.filter(pk=cid).exists()
    # proxies
    r = _json(client, "post", f"{API}/councils/{slug}/proxies", {
        "name": "API proxy", "unit": "night", "value": "55.5", "source": "Made up for a test", "year": 2024,
        "licence": "OGL v3.0"})
    assert r.status_code == 201 and r.json()["value"] == "55.50"
    pid = r.json()["id"]
    r = _json(client, "post", f"{API}/councils/{slug}/proxies", {
        "name": "api PROXY", "unit": "Night", "value": "1", "source": "s", "year": 2024, "licence": "l"})
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "name" and f"(id {pid})" in r.json()["detail"]
    r = _json(client, "patch", f"{API}/proxies/{pid}", {"value": 60})
    assert r.status_code == 200 and r.json()["value"] == "60.00" and r.json()["source"] == "Made up for a test"
    assert _json(client, "delete", f"{API}/proxies/{pid}").status_code == 204
    assert _json(client, "delete", f"{API}/outcomes/{outcome_id}").status_code == 204
    assert _json(client, "delete", f"{API}/models/{model['id']}").status_code == 204
    assert not SroiModel.objects.filter(pk=model["id"]).exists()
    assert _json(client, "delete", f"{API}/models/{model['id']}").status_code == 404  # twice: gone
    assert AuditEvent.objects.filter(model="socialvalue.SroiModel", object_pk=str(model["id"])) \
        .values_list("action", flat=True).count() == 3  # created, updated, deleted


@pytest.mark.parametrize("url, body, name, detail", [
    ("outcome", {"deadweight_percent": 150}, "deadweight_percent", "Deadweight (%) must be from 0 to 100, not 150"),
    ("outcome", {"attribution_percent": "lots"}, "attribution_percent", "must be a number"),
    ("outcome", {"drop_off_percent": -1}, "drop_off_percent", "Drop-off (%) must be from 0 to 100"),
    ("outcome", {"years": 0}, "years", "whole number from 1 to 100"),
    ("outcome", {"proxy_id": 999999}, "proxy_id", "Choose a proxy from the council's library"),
    ("outcome", {"quantity": "1e13"}, "quantity", "under 1,000,000,000,000"),
    ("model", {"inputs": -5}, "inputs", "Value of inputs (£) must be 0 or more"),
    ("model", {"contract_ocid": "ocds-nope"}, "contract_ocid", "a contract that the council holds"),
    ("model", {"name": None}, "name", "Enter the name"),
    ("delivery", {"period": "soon"}, "period", "Period must look like"),
    ("delivery", {"shared_by": 0}, "shared_by", "whole number from 1"),
    ("commitment", {"promised": "x"}, "promised", "Amount promised must be a number"),
    ("proxy", {"year": 23}, "year", "Year must be a whole number from 1,950 to 2,100"),
    ("proxy", {"value": [1]}, "payload.value.str", "Input should be a valid string"),  # ninja's own check
])
def test_api_bad_input_is_422_naming_the_field_and_changes_nothing(sv, url, body, name, detail):
    ids = {"outcome": f"outcomes/{sv['outcome'].pk}", "model": f"models/{sv['model'].pk}",
           "delivery": f"deliveries/{sv['delivery'].pk}", "commitment": f"commitments/{sv['commitment'].pk}",
           "proxy": f"proxies/{sv['proxy'].pk}"}
    before = AuditEvent.objects.count()
    r = _json(client_for(sv, "admin"), "patch", f"{API}/{ids[url]}", body)
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    problem = r.json()
    assert problem["errors"][0]["name"] == name and detail in problem["detail"], problem
    assert AuditEvent.objects.count() == before
    sv["outcome"].refresh_from_db()
    assert sv["outcome"].deadweight == 20 and sv["outcome"].years == 3


def test_api_create_needs_the_required_fields(sv):
    client = client_for(sv, "admin")
    r = _json(client, "post", f"{API}/models/{sv['model'].pk}/outcomes", {"stakeholder": "Carers"})
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "indicator"
    r = _json(client, "post", f"{API}/councils/{sv['merton'].slug}/models", {"name": "No inputs", "service": "S"})
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "inputs"
    r = _json(client, "post", f"{API}/councils/no-such-council/models", {"name": "X", "inputs": 1, "service": "S"})
    assert r.status_code == 404
    assert SroiOutcome.objects.count() == 1 and SroiModel.objects.count() == 1


def test_api_writes_need_csrf_with_a_session(sv):
    client = client_for(sv, "admin", enforce_csrf_checks=True)
    r = _json(client, "patch", f"{API}/outcomes/{sv['outcome'].pk}", {"deadweight_percent": 50})
    assert r.status_code == 403 and r["Content-Type"] == "application/problem+json"
    assert _json(client, "delete", f"{API}/models/{sv['model'].pk}").status_code == 403
    sv["outcome"].refresh_from_db()
    assert sv["outcome"].deadweight == 20 and SroiModel.objects.filter(pk=sv["model"].pk).exists()
    client.get("/")  # a page sets the CSRF cookie; the header carries it
    token = client.cookies["csrftoken"].value
    r = client.patch(f"{API}/outcomes/{sv['outcome'].pk}", data=json.dumps({"deadweight_percent": 50}),
                     content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 200


def test_api_tenancy_matrix_of_writes(sv):
    slug, ocid = sv["merton"].slug, sv["contract"].ocid
    # each write, with a body that is valid; a status per role (anonymous, admin, commissioner, viewer,
    # other council, superuser)
    writes = [
        ("patch", f"{API}/models/{sv['model'].pk}", {"inputs": 90000}, statuses(401, 200, 200, 403, 404, 200)),
        ("patch", f"{API}/outcomes/{sv['outcome'].pk}", {"years": 4}, statuses(401, 200, 200, 403, 404, 200)),
        ("patch", f"{API}/commitments/{sv['commitment'].pk}", {"promised": 16},
         statuses(401, 200, 200, 403, 404, 200)),
        ("patch", f"{API}/deliveries/{sv['delivery'].pk}", {"note": "n"}, statuses(401, 200, 200, 403, 404, 200)),
        ("patch", f"{API}/proxies/{sv['proxy'].pk}", {"year": 2022}, statuses(401, 200, 200, 403, 404, 200)),
        ("post", f"{API}/councils/{slug}/models", {"name": "M", "inputs": 1, "service": "S"},
         statuses(401, 201, 201, 403, 403, 201)),
        ("post", f"{API}/contracts/{ocid}/commitments", None, statuses(401, 201, 201, 403, 404, 201)),
        ("post", f"{API}/councils/{slug}/proxies/open", {"codes": ["nlw-21-plus-2025"]},
         statuses(401, 200, 200, 403, 403, 200)),
    ]
    for method, url, body, expected in writes:
        got = {}
        for n, role in enumerate(ROLES):
            data = body if body is not None else {"measure": f"Measure {n}", "unit": "u", "promised": 1}
            got[role] = _json(client_for(sv, role), method, url, data).status_code
        assert got == expected, url
    deletes = [f"{API}/deliveries/{sv['delivery'].pk}", f"{API}/proxies/{sv['proxy'].pk}",
               f"{API}/outcomes/{sv['outcome'].pk}", f"{API}/commitments/{sv['commitment'].pk}",
               f"{API}/models/{sv['model'].pk}"]
    for url in deletes:
        got = {role: _json(client_for(sv, role), "delete", url).status_code
               for role in ("anonymous", "viewer", "other")}
        assert got == {"anonymous": 401, "viewer": 403, "other": 404}, url
    assert SroiModel.objects.filter(pk=sv["model"].pk).exists() and Delivery.objects.filter(
        pk=sv["delivery"].pk).exists()
    assert AuditEvent.objects.filter(action="refused", actor=sv["viewer"]).count() == 13
    for url in deletes:
        assert _json(client_for(sv, "superuser"), "delete", url).status_code == 204, url


# Open proxies ---------------------------------------------------------------------------------------

def test_open_proxies_are_cited_and_openly_licensed():
    rows = {p["code"]: p for p in services.open_proxies()}
    assert set(rows) == {"wellby-hmt-2021", "qaly-hmt-green-book-2022", "nlw-21-plus-2025", "nmw-18-20-2025",
                         "apprentice-rate-2025"}
    assert (rows["wellby-hmt-2021"]["value"], rows["wellby-hmt-2021"]["year"]) == (Decimal(13000), 2019)
    assert (rows["qaly-hmt-green-book-2022"]["value"], rows["qaly-hmt-green-book-2022"]["year"]) == (
        Decimal(70000), 2020)
    assert rows["nlw-21-plus-2025"]["value"] == Decimal("12.21")
    for p in rows.values():
        assert p["licence"] == "Open Government Licence v3.0" and p["url"].startswith("https://www.gov.uk/")
        assert p["publisher"] in p["source"] and p["url"] in p["source"]
        assert "TOMs" not in p["source"]


def test_open_proxies_page_copy_and_api(sv):
    client, slug = client_for(sv, "commissioner"), sv["merton"].slug
    text = client.get("/social-value/open-proxies/").content.decode()
    assert "Wellbeing: one WELLBY (central value)" in text and "13,000.00" in text and "2019 prices" in text
    assert "https://www.gov.uk/government/news/national-living-wage-increases-to-1221" in text
    assert f"/social-value/councils/{slug}/proxies/" in text  # the editor's own library
    rows = json.loads(client.get("/social-value/open-proxies/", {"format": "json"}).content)["rows"]
    assert {r["code"]: r["value"] for r in rows}["qaly-hmt-green-book-2022"] == "70000.00"
    response = client.post(f"/social-value/councils/{slug}/proxies/open/",
                           {"codes": ["wellby-hmt-2021", "nlw-21-plus-2025"]})
    assert response.status_code == 302
    wellby = Proxy.objects.get(owner=sv["merton"], name="Wellbeing: one WELLBY (central value)")
    assert (wellby.value, wellby.year, wellby.licence, wellby.synthetic) == (
        Decimal(13000), 2019, "Open Government Licence v3.0", False)
    assert "HM Treasury, Wellbeing Guidance for Appraisal" in wellby.source
    # copying again updates, never duplicates
    assert client.post(f"/social-value/councils/{slug}/proxies/open/", {"codes": ["wellby-hmt-2021"]}) \
        .status_code == 302
    assert Proxy.objects.filter(owner=sv["merton"]).count() == 3
    for data, message in (({}, "Choose at least one open proxy to copy"),
                          ({"codes": ["toms-nt1"]}, "Select a valid choice")):
        response = client.post(f"/social-value/councils/{slug}/proxies/open/", data)
        assert response.status_code == 400 and message in response.content.decode()
        assert 'href="#id_codes_0"' in response.content.decode()
    # the API
    r = client.get(f"{API}/open-proxies")
    assert r.status_code == 200 and len(r.json()) == 5 and r.json()[0]["licence"] == "Open Government Licence v3.0"
    r = _json(client, "post", f"{API}/councils/{slug}/proxies/open", {"codes": ["nope"]})
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "codes"
    r = _json(client, "post", f"{API}/councils/{slug}/proxies/open", {"codes": ["qaly-hmt-green-book-2022"]})
    assert r.status_code == 200 and r.json()[0]["value"] == "70000.00" and r.json()[0]["year"] == 2020
    # pages: everyone signed in reads the open library; only the council's editors copy into its library
    expected = statuses(302, 200, 200, 200, 200, 200)
    assert {role: client_for(sv, role).get("/social-value/open-proxies/").status_code for role in ROLES} == expected
    got = {role: client_for(sv, role).post(f"/social-value/councils/{slug}/proxies/open/",
                                           {"codes": ["apprentice-rate-2025"]}).status_code for role in ROLES}
    assert got == statuses(302, 302, 302, 403, 403, 302)
    assert client_for(sv, "anonymous").get(f"{API}/open-proxies").status_code == 401
