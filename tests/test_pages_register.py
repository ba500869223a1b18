"""Register pages on the real sample: home, register, CSV, contract record, dashboards, adding contracts."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.test import Client

from commissioner.orgs.models import Organisation
from commissioner.register.models import Contract
from conftest import PASSWORD

PARKING_OCID = "ocds-b5fd17-e3b5f385-5989-4cf1-8849-01c247fc9c30"  # Parking Pilot - CEO, Merton
TWO_RELEASES_OCID = "ocds-b5fd17-3acef0bd-20d7-4df8-bbd7-01a3540dc2d6"
PHONE_CHANGED_OCID = "ocds-b5fd17-8f3244de-9267-4db2-95fe-089010d5aa5f"  # a release changes a contact phone



def client_for(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def csv_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))


@pytest.fixture
def merton_slug(db):
    return Organisation.objects.get(la_code="MRT").slug


# Home


def test_home_links_and_top_councils(db):
    response = client_for().get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for href in ('href="/contracts/"', 'href="/organisations/"', 'href="/providers/"', 'href="/api/v1/docs"',
                 'action="/contracts/"'):
        assert href in html
    councils = list(response.context["councils"])
    assert len(councils) == 10
    assert all(c.kind == "council" for c in councils)
    assert [c.n_contracts for c in councils] == sorted((c.n_contracts for c in councils), reverse=True)
    assert '/organisations/merton/dashboard/' in html
    assert response.context["contract_count"] == 190


def test_secure_headers_on_pages(db):
    response = client_for().get("/contracts/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    html = response.content.decode()
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "no inline scripts"


# Register


def test_register_lists_all_190_with_pagination(db):
    response = client_for().get("/contracts/")
    assert response.status_code == 200
    page = response.context["page_obj"]
    assert page.paginator.count == 190
    assert len(page.object_list) == 25
    assert page.paginator.num_pages == 8
    html = response.content.decode()
    assert "190 contracts" in html
    assert 'class="govuk-pagination"' in html and 'aria-current="page"' in html


def test_search_parking_finds_three(db):
    response = client_for().get("/contracts/", {"q": "parking"})
    assert response.context["page_obj"].paginator.count == 3
    assert "3 contracts found" in response.content.decode()
    assert "Parking Pilot - CEO" in response.content.decode()


def test_filters_combine(db, merton_slug):
    response = client_for().get("/contracts/", {"buyer": merton_slug, "value_min": "£50,000", "sort": "-value"})
    titles = [c.title for c in response.context["page_obj"].object_list]
    assert titles == ["Demolition services Farm Road", "Parking Pilot - CEO"]
    response = client_for().get("/contracts/", {"category": "85", "status": "awarded", "supplier_type": "sme"})
    assert response.status_code == 200
    for c in response.context["page_obj"].object_list:
        assert c.cpv_division == "85" and c.status == "awarded"


def test_sort_links_and_aria_sort(db):
    html = client_for().get("/contracts/", {"sort": "-value", "q": "road"}).content.decode()
    assert 'aria-sort="descending"' in html
    assert "sort=value" in html and "q=road" in html  # the value header now sorts ascending, keeping the search


@pytest.mark.parametrize("params, field", [
    ({"value_min": "abc"}, "value_min"), ({"start_from": "2025-13-45"}, "start_from"),
    ({"status": "nonsense"}, "status"), ({"category": "xx"}, "category"), ({"sort": "drop table"}, "sort"),
    ({"supplier_type": "<script>"}, "supplier_type"),
])
def test_bad_filter_is_400_naming_the_field(db, params, field):
    response = client_for().get("/contracts/", params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert f'href="#id_{field}"' in html
    assert "<script>" not in html
    assert client_for().get("/contracts.csv", params).status_code == 400


@pytest.mark.parametrize("page", ["999999", "99999999999999999999999", "-3", "abc", "0", "1.5"])
def test_any_page_number_is_a_page_not_an_error(db, page):
    response = client_for().get("/contracts/", {"page": page})
    assert response.status_code == 200
    assert response.context["page_obj"].number in (1, 8)


def test_csv_is_exactly_the_filtered_view(db, merton_slug):
    for params in ({"q": "parking"}, {"buyer": merton_slug}, {"supplier_type": "sme", "category": "45"},
                   {"end_from": "2025-06-01", "end_to": "2026-06-01", "sort": "end"}):
        listed = client_for().get("/contracts/", {**params, "page": 1}).context["page_obj"]
        rows = csv_rows(client_for().get("/contracts.csv", params))
        assert rows[0][0] == "ocid"
        assert len(rows) - 1 == listed.paginator.count, params
        if listed.paginator.count <= 25:
            assert [r[0] for r in rows[1:]] == [c.ocid for c in listed.object_list]
    assert len(csv_rows(client_for().get("/contracts.csv", {"q": "parking"}))) == 1 + 3
    response = client_for().get("/contracts.csv")
    assert 'attachment; filename="contracts-' in response["Content-Disposition"]
    assert len(csv_rows(response)) == 1 + 190


def test_csv_link_on_the_page_keeps_the_filters(db):
    html = client_for().get("/contracts/", {"q": "parking", "page": "1"}).content.decode()
    assert 'href="/contracts.csv?q=parking"' in html


# Contract record


def test_contract_page_shows_the_record(db, merton_slug):
    response = client_for().get(f"/contracts/{PARKING_OCID}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Parking Pilot - CEO" in html
    assert PARKING_OCID in html
    assert f'href="/organisations/{merton_slug}/dashboard/"' in html
    assert "£93,007" in html
    assert re.search(r'href="/providers/\d+/"', html)
    assert "First published." in html
    assert "@" not in re.sub(r"<[^>]+>", "", html.split('id="main-content"')[1].split("</main>")[0]), \
        "no e-mail addresses (buyer contacts are personal data)"


def test_contract_history_lists_changes_and_withholds_personal_data(db):
    html = client_for().get(f"/contracts/{TWO_RELEASES_OCID}/").content.decode()
    assert "First published." in html
    assert "Holme Court School" in html and "<th scope=\"col\" class=\"govuk-table__header" in html
    html = client_for().get(f"/contracts/{PHONE_CHANGED_OCID}/").content.decode()
    assert "contactPoint/telephone" in html
    assert "Withheld (personal data)" in html
    assert "07939584489" not in html and "07393584489" not in html


def test_unknown_contract_is_404(db):
    assert client_for().get("/contracts/ocds-b5fd17-nope/").status_code == 404


def test_private_contract_visibility(users, private_contract):
    url = f"/contracts/{private_contract.ocid}/"
    for role in ("admin", "commissioner", "viewer", "superuser"):
        response = client_for(users[role]).get(url)
        assert response.status_code == 200, role
        assert "In-house reablement service" in response.content.decode()
    assert client_for().get(url).status_code == 404
    assert client_for(users["other"]).get(url).status_code == 404
    # ... and in the register and its CSV
    assert client_for(users["viewer"]).get("/contracts/").context["page_obj"].paginator.count == 191
    assert client_for(users["other"]).get("/contracts/").context["page_obj"].paginator.count == 190
    found = client_for().get("/contracts/", {"q": "reablement"}).context["page_obj"].object_list
    assert private_contract.ocid not in {c.ocid for c in found}
    assert private_contract.ocid in {r[0] for r in csv_rows(client_for(users["viewer"]).get("/contracts.csv"))}
    assert private_contract.ocid not in {r[0] for r in csv_rows(client_for(users["other"]).get("/contracts.csv"))}


# Dashboard


def test_merton_dashboard_figures(db, merton_slug):
    response = client_for().get(f"/organisations/{merton_slug}/dashboard/", {"as_at": "2025-01-01"})
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures["count"] == 3
    assert figures["value"] == Decimal(230507)
    html = response.content.decode()
    assert "£230,507" in html
    labels = [row["label"] for row in figures["by_supplier_type"]]
    assert len(labels) == 8 and "In-house" in labels and "Local authority trading company" in labels
    for label in labels:
        assert label in html
    assert "Construction work" in html and "59.7%" in html
    ending = {row["months"]: row["count"] for row in figures["ending"]}
    assert ending == {6: 1, 12: 1, 18: 2}
    assert f"/contracts/?buyer={merton_slug}&amp;end_from=2025-01-01&amp;end_to=" in html
    assert html.count("<caption") >= 3 and html.count('aria-hidden="true"') >= 2


def test_dashboard_ending_link_matches_its_count(db, merton_slug):
    figures = client_for().get(f"/organisations/{merton_slug}/dashboard/", {"as_at": "2025-01-01"}).context["figures"]
    row = figures["ending"][2]
    listed = client_for().get(row["url"])
    assert listed.context["page_obj"].paginator.count == row["count"] == 2


def test_dashboard_counts_private_contracts_for_members_only(users, private_contract):
    url = f"/organisations/{users['merton'].slug}/dashboard/"
    assert client_for(users["viewer"]).get(url).context["figures"]["count"] == 4
    assert client_for(users["other"]).get(url).context["figures"]["count"] == 3


@pytest.mark.parametrize("as_at", ["xx", "2025-02-30", "0001-01-01"])
def test_dashboard_bad_date_is_400(db, merton_slug, as_at):
    response = client_for().get(f"/organisations/{merton_slug}/dashboard/", {"as_at": as_at})
    assert response.status_code == 400
    assert 'href="#id_as_at"' in response.content.decode()


def test_unknown_organisation_dashboard_is_404(db):
    assert client_for().get("/organisations/no-such-council/dashboard/").status_code == 404


# Adding a local contract


def form_data(client, users, **overrides):
    page = client.get("/contracts/new/")
    assert page.status_code == 200
    token = page.context["form"]["form_token"].value()
    data = {
        "form_token": token, "owner": str(users["merton"].pk), "title": "Merton shared legal service",
        "description": "Legal services shared with Richmond", "delivery_model": "shared",
        "provider_name": "South London Legal Partnership", "supplier_type": "shared", "value": "£1,250,000.50",
        "start_date_day": "1", "start_date_month": "4", "start_date_year": "2025",
        "end_date_day": "31", "end_date_month": "3", "end_date_year": "2028",
        "cpv": "79100000", "reference": "MRT-LEGAL-1", "companies_house": "", "charity_number": "",
        "is_private": "on",
    }
    data.update(overrides)
    return data


def test_create_local_contract(users):
    client = client_for(users["commissioner"])
    response = client.post("/contracts/new/", form_data(client, users))
    contract = Contract.objects.get(title="Merton shared legal service")
    assert response.status_code == 302 and response["Location"] == f"/contracts/{contract.ocid}/"
    assert contract.owner == users["merton"] and contract.is_private and contract.source == "manual"
    assert contract.value == Decimal("1250000.50")
    assert str(contract.start_date) == "2025-04-01" and str(contract.end_date) == "2028-03-31"
    assert contract.cpv_division == "79"
    page = client.get(response["Location"])
    assert "Contract added" in page.content.decode() and "£1,250,000.50" in page.content.decode()
    assert client_for().get(response["Location"]).status_code == 404
    assert client_for(users["other"]).get(response["Location"]).status_code == 404


@pytest.mark.parametrize("overrides, field, message", [
    ({"title": "   "}, "title", "Enter the contract title"),
    ({"provider_name": ""}, "provider_name", "Enter the provider name"),
    ({"value": "-5"}, "value", "£0 or more"),
    ({"value": "£2,000,000,000,000"}, "value", "or less"),
    ({"value": "12abc"}, "value", "must be a number"),
    ({"value": "1e400"}, "value", "or less"),
    ({"end_date_year": "2024"}, "end_date", "same as or after the start date"),
    ({"start_date_month": "13"}, "start_date", "real date"),
    ({"start_date_day": ""}, "start_date", "must include a day"),
    ({"cpv": "1234"}, "cpv", "8 digits"),
    ({"companies_house": "ABC"}, "companies_house", "8 characters"),
    ({"charity_number": "12"}, "charity_number", "registered charity number"),
    ({"supplier_type": "pirate"}, "supplier_type", "valid choice"),
])
def test_create_rejects_bad_input(users, overrides, field, message):
    client = client_for(users["admin"])
    before = Contract.objects.count()
    response = client.post("/contracts/new/", form_data(client, users, **overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html and message in html
    assert field in response.context["form"].errors
    assert Contract.objects.count() == before


def test_create_cannot_choose_another_organisation(users):
    client = client_for(users["admin"])
    response = client.post("/contracts/new/", form_data(client, users, owner=str(users["other_org"].pk)))
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors
    assert not Contract.objects.filter(title="Merton shared legal service").exists()


def test_double_submit_creates_one_contract(users):
    client = client_for(users["admin"])
    data = form_data(client, users)
    first = client.post("/contracts/new/", data)
    second = client.post("/contracts/new/", data)  # resubmitted (double click, back button)
    assert Contract.objects.filter(title="Merton shared legal service").count() == 1
    assert first["Location"] == second["Location"]
    # A second form filled in with the same contract within a minute lands on the first one too.
    third = client.post("/contracts/new/", form_data(client, users))
    assert third["Location"] == first["Location"]
    assert Contract.objects.filter(title="Merton shared legal service").count() == 1


def test_expired_form_token_is_refused_without_creating(users):
    client = client_for(users["admin"])
    data = form_data(client, users, form_token="forged")
    response = client.post("/contracts/new/", data)
    assert response.status_code == 400
    assert "This form has expired" in response.content.decode()
    assert not Contract.objects.filter(title="Merton shared legal service").exists()


def test_create_needs_csrf_token(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["admin"])
    data = form_data(client, users)
    assert client.post("/contracts/new/", data).status_code == 403
    assert not Contract.objects.filter(title="Merton shared legal service").exists()


def test_create_needs_an_editing_role(users):
    assert client_for().get("/contracts/new/")["Location"].startswith("/sign-in/?next=")
    assert client_for(users["viewer"]).get("/contracts/new/").status_code == 403
    client = client_for(users["viewer"])
    assert client.post("/contracts/new/", {"title": "x"}).status_code == 403


# Tenancy matrix: every page x role


ROLES = ["anonymous", "admin", "commissioner", "viewer", "other"]


def _pages(users, private_contract):
    merton = users["merton"].slug
    return {
        "/": [200, 200, 200, 200, 200],
        "/sign-in/": [200, 200, 200, 200, 200],
        "/contracts/": [200, 200, 200, 200, 200],
        "/contracts.csv": [200, 200, 200, 200, 200],
        f"/contracts/{PARKING_OCID}/": [200, 200, 200, 200, 200],
        f"/contracts/{private_contract.ocid}/": [404, 200, 200, 200, 404],
        f"/organisations/{merton}/dashboard/": [200, 200, 200, 200, 200],
        "/contracts/new/": [302, 200, 200, 403, 200],
    }


def test_tenancy_matrix(users, private_contract):
    clients = {role: client_for(None if role == "anonymous" else users[role]) for role in ROLES}
    failures = []
    for url, expected in _pages(users, private_contract).items():
        for role, status in zip(ROLES, expected):
            got = clients[role].get(url).status_code
            if got != status:
                failures.append((url, role, status, got))
    assert failures == []


def test_sign_in_page_then_add_for_own_organisation_only(users):
    client = Client()
    assert client.post("/sign-in/", {"username": "leeds-admin", "password": PASSWORD}).status_code == 302
    form = client.get("/contracts/new/").context["form"]
    assert [label for _, label in form.fields["owner"].choices] == [users["other_org"].name]
