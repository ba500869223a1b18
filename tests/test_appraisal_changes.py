"""Options appraisal after it was opened: its settings (title, years, discounting, linked contracts, Monte Carlo
draws and seed), an option's name and kind, removing an option, and the evidence on the linked contracts
(register, performance, benchmarking) with the scores it suggests for business as usual. Pages and API, bad input
(clear error, nothing saved), tenancy and the audit trail."""

from collections import Counter
from datetime import date
from html import unescape

import pytest

from commissioner.appraisal import queries, services
from commissioner.appraisal.models import Appraisal, Option
from commissioner.methods import options_appraisal as calc
from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import create_user
from commissioner.performance import synthetic
from commissioner.performance.models import KpiReturn, ProviderContractSummary
from commissioner.register.models import Contract
from helpers import ROLES, client_for, statuses

API = "/api/v1"
PROBLEM = "application/problem+json"
BENEFITS = ", ".join(["0"] + ["150000"] * 10)
MERTON_OCID = "ocds-b5fd17-e3b5f385-5989-4cf1-8849-01c247fc9c30"  # a Merton contract in the sample


def _example(users, **kwargs):
    a = services.create_appraisal(actor=users["admin"], owner=users["merton"],
                                  **{"title": "Reablement options", "horizon": 10, **kwargs})
    services.add_option(actor=users["admin"], appraisal=a, name="Invest", kind="in_house", costs="1000000",
                        benefits=BENEFITS)
    return a


def _settings(a, **changes):
    body = {"title": a.title, "service": a.service, "description": a.description, "horizon": str(a.horizon),
            "bound": a.bound, "discounting": a.discounting, "rate": "", "draws": str(a.draws), "seed": str(a.seed),
            "contracts": "\n".join(c.ocid for c in a.contracts.all())}
    body.update(changes)
    return body


# Settings --------------------------------------------------------------------------------------------

def test_settings_page_changes_everything_and_the_results_follow(users):
    a = _example(users)
    client = client_for(users, "commissioner")
    page = client.get(f"/appraisals/{a.pk}/settings/")
    assert page.status_code == 200 and 'value="Reablement options"' in page.content.decode()
    r = client.post(f"/appraisals/{a.pk}/settings/", _settings(
        a, title="Reablement: options", horizon="12", discounting="custom", rate="3.5", draws="2000", seed="7",
        contracts=MERTON_OCID, bound="lower"))
    assert r.status_code == 302, r.content.decode()[:3000]
    a.refresh_from_db()
    assert (a.title, a.horizon, a.discounting, a.rate, a.draws, a.seed, a.bound) == (
        "Reablement: options", 12, "custom", 0.035, 2000, 7, "lower")
    assert [c.ocid for c in a.contracts.all()] == [MERTON_OCID]
    # A single rate of 3.5% over years 1-10 gives the worked example's figures.
    result = services.results(a)
    assert round(result["options"][0]["pv_benefits"], 2) == 1247490.80
    assert result["monte_carlo"]["draws"] == 2000 and result["monte_carlo"]["seed"] == 7
    event = AuditEvent.objects.filter(action="updated", model__icontains="appraisal").latest("id")
    assert event.before["horizon"] == 10 and event.after["horizon"] == 12
    assert event.before["contracts"] == [] and event.after["contracts"] == [MERTON_OCID]
    # Unlinking: an empty list of contracts.
    client.post(f"/appraisals/{a.pk}/settings/", _settings(a, contracts="", rate="3.5"))
    assert a.contracts.count() == 0


@pytest.mark.parametrize("changes, field, message", [
    ({"horizon": "5"}, "horizon", "option 'Invest' has 11 years"),
    ({"horizon": "301"}, "horizon", "must be from 1 to 300"),
    ({"draws": "10"}, "draws", "must be from 1000 to 200000"),
    ({"draws": "1e9"}, "draws", "must be from 1000 to 200000"),
    ({"seed": "-1"}, "seed", "must be from 0"),
    ({"seed": "1.5"}, "seed", "must be a whole number"),
    ({"discounting": "custom", "rate": "45"}, "rate", "must be from 0 to 20"),
    ({"contracts": "ocds-nothing-like-it"}, "contracts", "no contract with ocid 'ocds-nothing-like-it'"),
    ({"title": ""}, "title", "This field is required"),
])
def test_bad_settings_are_refused_on_the_field_and_nothing_changes(users, changes, field, message):
    a = _example(users)
    before = (a.title, a.horizon, a.draws, a.seed, a.rate, a.discounting, list(a.contracts.all()))
    r = client_for(users, "admin").post(f"/appraisals/{a.pk}/settings/", _settings(a, **{"title": "Changed",
                                                                                         **changes}))
    assert r.status_code == 400
    html = unescape(r.content.decode())
    assert "govuk-error-summary" in html and f'href="#id_{field}"' in html and message in html, html[:200]
    a.refresh_from_db()
    assert (a.title, a.horizon, a.draws, a.seed, a.rate, a.discounting, list(a.contracts.all())) == before


def test_another_councils_private_contract_cannot_be_linked(users):
    from commissioner.register.services import create_local_contract

    leeds = create_local_contract(owner=users["other_org"], actor=users["other"], title="Leeds in-house",
                                  delivery_model="inhouse", provider_name="Leeds Team", supplier_type="inhouse",
                                  value=1000, is_private=True)
    a = _example(users)
    with pytest.raises(services.AppraisalInputError) as e:
        services.update_appraisal(actor=users["admin"], appraisal=a, contracts=[leeds.ocid])
    assert e.value.field == "contracts"
    assert a.contracts.count() == 0


# Options: name, kind, removal --------------------------------------------------------------------------

def test_an_option_can_be_renamed_and_change_kind_on_its_page(users):
    a = _example(users)
    services.add_option(actor=users["admin"], appraisal=a, name="Shared", kind="sme", costs="5")
    o = a.options.get(name="Invest")
    client = client_for(users, "admin")
    url = f"/appraisals/{a.pk}/options/{o.pk}/"
    body = {"name": "Shared", "kind": "vcse", "costs": "1000000", "benefits": BENEFITS, "cost_low": "90",
            "cost_high": "130", "benefit_low": "70", "benefit_high": "110"}
    r = client.post(url, body)
    assert r.status_code == 400 and "there is already an option called" in r.content.decode()
    o.refresh_from_db()
    assert (o.name, o.kind) == ("Invest", "in_house")
    r = client.post(url, {**body, "kind": "shared_service", "name": "Shared with Sutton"})
    assert r.status_code == 400 and "name the councils the service would be shared with" in r.content.decode()
    r = client.post(url, {**body, "kind": "shared_service", "name": "Shared with Sutton", "partners": "Sutton",
                          "description": "One team for both boroughs"})
    assert r.status_code == 302
    o.refresh_from_db()
    assert (o.name, o.kind, o.partners, o.description) == ("Shared with Sutton", "shared_service", "Sutton",
                                                           "One team for both boroughs")
    event = AuditEvent.objects.filter(action="updated").latest("id")
    assert (event.before["name"], event.after["name"]) == ("Invest", "Shared with Sutton")


def test_removing_an_option_asks_first_and_is_audited(users):
    a = _example(users)
    o = a.options.get()
    url = f"/appraisals/{a.pk}/options/{o.pk}/delete/"
    assert client_for(users, "viewer").post(url).status_code == 403
    assert client_for(users, "other").post(url).status_code == 404
    assert Option.objects.filter(pk=o.pk).exists()
    client = client_for(users, "commissioner")
    page = client.get(url)
    assert page.status_code == 200 and "Remove Invest?" in page.content.decode()
    assert client.post(url).status_code == 302
    assert not Option.objects.filter(pk=o.pk).exists()
    event = AuditEvent.objects.filter(action="deleted").get()
    assert event.before["name"] == "Invest" and event.before["costs"] == [1000000.0]
    assert AuditEvent.objects.filter(action="refused", actor=users["viewer"]).exists()


# Evidence from performance and benchmarking ----------------------------------------------------------

@pytest.fixture
def care(users):
    """Synthetic performance (labelled) on the sample's care contracts (CPV 85): KPI returns and unit costs in
    £ per hour. Returns an admin of the council holding one of them, and that contract."""
    made = synthetic.generate(contracts=Contract.objects.filter(cpv_division="85"), today=date(2025, 3, 11))
    assert made["returns"] > 20
    summary = (ProviderContractSummary.objects.filter(cpv_division="85", unit_cost__isnull=False, is_private=False)
               .select_related("contract").order_by("contract__ocid").first())
    contract = summary.contract
    admin = create_user(username="care-admin", password="x" * 20, organisation=contract.owner, role="admin")
    return admin, contract


def test_evidence_suggests_quality_and_cost_scores_from_the_linked_contract(care):
    admin, contract = care
    a = services.create_appraisal(actor=admin, owner=contract.owner, title="Care at home", contracts=[contract.ocid])
    ev = queries.evidence(a, admin)
    # Quality: the share of the contract's current returns classified met, recounted from the returns.
    counts = Counter(KpiReturn.objects.filter(kpi__contract=contract, is_current=True)
                     .values_list("classification", flat=True))
    total = sum(counts.values())
    assert total > 0 and ev["counts"]["met"] == counts["met"]
    assert ev["quality"] == round(100 * counts["met"] / total, 1)
    # Cost: against every other care contract's latest £ per hour (the contract itself left out).
    own = ProviderContractSummary.objects.filter(contract=contract, unit_cost__isnull=False).first()
    others = list(ProviderContractSummary.objects.filter(cpv_division="85", unit_cost_unit=own.unit_cost_unit,
                                                         unit_cost__isnull=False).exclude(contract=contract)
                  .values_list("contract", "unit_cost"))
    others = list(dict(others).values())  # one per contract
    assert len(others) >= calc.MIN_COMPARABLE_UNIT_COSTS
    dearer = sum(1 for c in others if c > own.unit_cost) + sum(0.5 for c in others if c == own.unit_cost)
    assert ev["cost"] == round(100 * dearer / len(others), 1)
    assert ev["synthetic"] is True
    row = ev["contracts"][0]
    assert (row["comparables"], row["unit"], row["performance_visible"]) == (len(others), "£ per hour", True)


def test_prefill_gives_business_as_usual_the_scores_and_says_where_from(care):
    from django.test import Client

    admin, contract = care
    a = services.create_appraisal(actor=admin, owner=contract.owner, title="Care at home", contracts=[contract.ocid])
    client = Client()
    client.force_login(admin)
    r = client.post(f"/appraisals/{a.pk}/prefill/", follow=True)
    assert "Add a business-as-usual option first" in r.content.decode()
    bau = services.add_option(actor=admin, appraisal=a, name="Business as usual", kind="bau",
                              scores={"risk": 40, "quality": 10})
    assert bau.prefilled_from.startswith("Register: ")
    page = client.get(f"/appraisals/{a.pk}/").content.decode()
    assert 'id="evidence-table"' in page and "(performance figures synthetic)" in page
    r = client.post(f"/appraisals/{a.pk}/prefill/")
    assert r.status_code == 302
    bau.refresh_from_db()
    ev = queries.evidence(a, admin)
    assert bau.scores == {"risk": 40, "quality": ev["quality"], "cost": ev["cost"]}
    register, evidence = bau.prefilled_from.split(" | ")
    assert register.startswith("Register: ") and evidence.startswith("Scores from evidence: quality ")
    # Prefilled again: the note is replaced, not repeated; changing the scores by hand drops it.
    services.prefill_scores(actor=admin, appraisal=a, evidence=ev)
    bau.refresh_from_db()
    assert bau.prefilled_from.count("Scores from evidence") == 1
    services.set_flows(actor=admin, option=bau, scores={"quality": 50})
    bau.refresh_from_db()
    assert bau.prefilled_from == register
    # Through the API too.
    r = client.post(f"{API}/appraisals/{a.pk}/prefill")
    assert r.status_code == 200 and r.json()["options"][0]["scores"]["quality"] == ev["quality"]
    r = client.get(f"{API}/appraisals/{a.pk}/evidence")
    assert r.status_code == 200 and r.json()["quality_score"] == ev["quality"]
    assert r.json()["contracts"][0]["ocid"] == contract.ocid


def test_no_evidence_is_said_plainly(users):
    a = _example(users, contracts=[MERTON_OCID])
    services.add_option(actor=users["admin"], appraisal=a, name="BAU", kind="bau")
    ev = queries.evidence(a, users["admin"])
    assert ev["quality"] is None and ev["cost"] is None
    page = client_for(users, "admin").get(f"/appraisals/{a.pk}/").content.decode()
    assert "have no KPI returns or comparable unit costs" in page
    with pytest.raises(services.AppraisalInputError):
        services.prefill_scores(actor=users["admin"], appraisal=a, evidence=ev)


# API ---------------------------------------------------------------------------------------------------

def test_api_changes_settings_and_options_and_removes_one(users):
    a = _example(users)
    o = a.options.get()
    client = client_for(users, "admin")
    r = client.patch(f"{API}/appraisals/{a.pk}", {"draws": 5000, "seed": 11, "contracts": [MERTON_OCID]},
                     content_type="application/json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["draws"], body["seed"], body["contracts"], body["horizon"]) == (5000, 11, [MERTON_OCID], 10)
    r = client.patch(f"{API}/appraisals/{a.pk}", {"horizon": 3}, content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"] == PROBLEM
    assert r.json()["errors"][0]["name"] == "horizon"
    r = client.patch(f"{API}/appraisals/{a.pk}/options/{o.pk}", {"name": "In-house team", "kind": "in_house"},
                     content_type="application/json")
    assert r.status_code == 200 and r.json()["options"][0]["name"] == "In-house team"
    assert r.json()["options"][0]["costs"] == [1000000.0]  # kept
    r = client.patch(f"{API}/appraisals/{a.pk}/options/{o.pk}", {"kind": "robots"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "kind"
    assert client.delete(f"{API}/appraisals/{a.pk}/options/999999").status_code == 404
    r = client.delete(f"{API}/appraisals/{a.pk}/options/{o.pk}")
    assert r.status_code == 204
    assert not Option.objects.filter(appraisal=a).exists()


API_WRITE = statuses(401, 200, 200, 403, 404, 200)
API_DELETE = statuses(401, 204, 204, 403, 404, 204)
PAGE_WRITE = statuses(302, 200, 200, 403, 404, 200)


@pytest.mark.parametrize("role", ROLES)
def test_tenancy_matrix_for_the_new_pages_and_endpoints(users, role):
    a = _example(users)
    o = a.options.get()
    client = client_for(users, role)
    for url in (f"/appraisals/{a.pk}/settings/", f"/appraisals/{a.pk}/options/{o.pk}/delete/"):
        assert client.get(url).status_code == PAGE_WRITE[role], (url, role)
    r = client.post(f"/appraisals/{a.pk}/prefill/")
    assert r.status_code == {"anonymous": 302, "viewer": 403, "other": 404}.get(role, 302), role
    assert client.get(f"{API}/appraisals/{a.pk}/evidence").status_code == statuses(401, 200, 200, 200, 404,
                                                                                   200)[role]
    r = client.patch(f"{API}/appraisals/{a.pk}", {"seed": 5}, content_type="application/json")
    assert r.status_code == API_WRITE[role], (role, r.content[:200])
    r = client.patch(f"{API}/appraisals/{a.pk}/options/{o.pk}", {"name": "X"}, content_type="application/json")
    assert r.status_code == API_WRITE[role], role
    r = client.delete(f"{API}/appraisals/{a.pk}/options/{o.pk}")
    assert r.status_code == API_DELETE[role], role
    a.refresh_from_db()
    assert a.seed == (5 if API_WRITE[role] == 200 else 2026)
    assert Appraisal.objects.filter(pk=a.pk).exists()


# Residents' priorities (participation) shown with the appraisal ------------------------------------------

def test_residents_priorities_are_shown_with_the_appraisal_and_in_the_report(users):
    from commissioner.appraisal import pdf, views
    from commissioner.orgs.models import Organisation
    from commissioner.participation import queries as pq
    from commissioner.participation import services as ps

    ps.demo(la_code="DNC")
    doncaster = Organisation.objects.get(la_code="DNC")
    expected = pq.priorities_for(doncaster, "Adult social care")
    assert expected is not None and expected["ballots"] == 120 and expected["synthetic"]
    admin = create_user(username="dnc-admin", password="x" * 20, organisation=doncaster, role="admin")
    a = services.create_appraisal(actor=admin, owner=doncaster, title="Home care", service="Home care")
    assert queries.priorities(a) is None
    from django.test import Client

    client = Client()
    client.force_login(admin)
    page = client.get(f"/appraisals/{a.pk}/").content.decode()
    assert "No priority-setting exercise of the council has a result for Home care" in page
    form = client.get(f"/appraisals/{a.pk}/settings/").content.decode()
    assert '<option value="Adult social care">Adult social care</option>' in form
    r = client.post(f"/appraisals/{a.pk}/settings/", {**_settings(a), "priorities_area": "Adult social care"})
    assert r.status_code == 302, r.content.decode()[:2000]
    a.refresh_from_db()
    page = client.get(f"/appraisals/{a.pk}/").content.decode()
    top = expected["rows"][0]
    assert 'id="priorities-table"' in page and "120 residents set priorities for Adult social care" in page
    assert f'<th scope="row" class="govuk-table__header">{top["title"]}</th>' in page
    assert "These ballots are synthetic" in page
    body = client.get(f"{API}/appraisals/{a.pk}").json()
    assert body["priorities_area"] == "Adult social care"
    assert [r["title"] for r in body["residents_priorities"]["rows"]] == [r["title"] for r in expected["rows"]]
    html = views.context_for(a, services.results(a))["priorities"]
    assert html["rows"][0]["title"] == top["title"]
    assert pdf.render_pdf(a, views.context_for(a, services.results(a))).startswith(b"%PDF")
    # An area that is not one of the council's exercises is refused by the form.
    r = client.post(f"/appraisals/{a.pk}/settings/", {**_settings(a), "priorities_area": "Made up"})
    assert r.status_code == 400


def test_an_option_removed_meanwhile_is_a_clear_error_not_a_crash(users):
    a = _example(users)
    o = a.options.get()
    stale = Option.objects.get(pk=o.pk)  # another tab still holds it
    services.delete_option(actor=users["admin"], option=o)
    for change in (lambda: services.delete_option(actor=users["admin"], option=stale),
                   lambda: services.set_flows(actor=users["admin"], option=stale, costs="5")):
        with pytest.raises(services.AppraisalInputError) as e:
            change()
        assert e.value.message == "the option 'Invest' was removed meanwhile"
    assert AuditEvent.objects.filter(action="deleted").count() == 1
