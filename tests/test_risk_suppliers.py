"""Suppliers give a council their own accounts (supplier financial risk, docs/supplier-risk.md).

The rule: a provider's user may give accounts of their own provider (form, CSV, API) to a council they hold a
contract with. The figures are owned by that council: its members and that provider's users see them, other
councils and other providers never do; they are marked entered by the supplier, with who and when; the
council's officers may correct them (the supplier's figures are kept beside, and audited), after which the year
is the council's. A supplier's user never sees or makes the council's assessments.
"""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from commissioner.orgs import tenancy
from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import create_user
from commissioner.performance.services import link_provider_user
from commissioner.register.services import create_local_contract
from commissioner.risk import services
from commissioner.risk.models import RiskAssessment, SupplierAccounts

PASSWORD = "correct-horse-battery-staple-42"
API = "/api/v1"
PROBLEM = "application/problem+json"
ROLES = ("anonymous", "admin", "commissioner", "viewer", "other", "supplier", "other_supplier", "superuser")
WHEELS_CH = "07654321"


def statuses(*codes):
    return dict(zip(ROLES, codes, strict=True))


def _contract(owner, actor, title, provider, *, is_private=True, companies_house=""):
    return create_local_contract(
        owner=owner, actor=actor, title=title, delivery_model="market", provider_name=provider, supplier_type="sme",
        value=1_800_000, start_date=date(2024, 4, 1), end_date=date(2027, 4, 1), is_private=is_private,
        companies_house=companies_house)


@pytest.fixture
def world(users):
    merton, leeds = users["merton"], users["other_org"]
    private = _contract(merton, users["admin"], "Community transport", "Little Wheels Ltd",
                        companies_house=WHEELS_CH)
    public = _contract(merton, users["admin"], "School runs (published)", "Little Wheels Ltd", is_private=False,
                       companies_house=WHEELS_CH)
    leeds_contract = _contract(leeds, users["other"], "Leeds dial-a-ride", "Little Wheels Ltd",
                               companies_house=WHEELS_CH)
    big = _contract(merton, users["admin"], "Highways maintenance", "Megacorp Holdings plc", companies_house="01234567")
    wheels = services.providers_of(private)[0]
    assert services.providers_of(public)[0] == wheels == services.providers_of(leeds_contract)[0]
    megacorp = services.providers_of(big)[0]
    supplier = create_user(username="wheels-finance", password=PASSWORD)
    link_provider_user(actor=None, user=supplier, provider=wheels)
    other_supplier = create_user(username="megacorp-finance", password=PASSWORD)
    link_provider_user(actor=None, user=other_supplier, provider=megacorp)
    return dict(users, private=private, public=public, leeds_contract=leeds_contract, big=big, wheels=wheels,
                megacorp=megacorp, supplier=supplier, other_supplier=other_supplier)


def client_for(world, role, **kwargs):
    client = Client(**kwargs)
    if role != "anonymous":
        client.force_login(world[role])
    return client


def fresh(user):
    """The user as a new request sees it (tenancy caches memberships and provider links on the object)."""
    return type(user).objects.get(pk=user.pk)


def csv_rows(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def _page(contract):
    return f"/risk/contracts/{contract.ocid}/"


YEAR_2024 = {"year": "2024", "turnover": "1000000", "operating_profit": "80000", "current_assets": "350000",
             "stock": "10000", "current_liabilities": "190000", "cash": "170000"}


def _give(world, contract=None, data=None, actor=None):
    return services.save_accounts(actor=fresh(actor or world["supplier"]), contract=contract or world["private"],
                                  provider=world["wheels"], data=data or YEAR_2024)


# What the supplier gives, and what the council sees -------------------------------------------------

def test_the_supplier_gives_a_year_by_form_owned_by_the_council_and_marked(world):
    client = client_for(world, "supplier")
    # the supplier finds the page from its contract's performance page (it cannot see the private register entry)
    performance = client.get(f"/performance/contracts/{world['private'].ocid}/")
    assert performance.status_code == 200
    assert (f'href="{_page(world["private"])}">Supplier financial risk: give {world["merton"].name} your accounts'
            in performance.content.decode())
    page = client.get(_page(world["private"]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "You act for Little Wheels Ltd" in text and "Give a year of your accounts" in text
    assert "Latest assessment" not in text and "Assess financial risk" not in text  # the council's own
    response = client.post(f"/risk/contracts/{world['private'].ocid}/accounts/",
                           {"provider": world["wheels"].pk, **YEAR_2024, "turnover": "£1,000,000",
                            "operating_profit": "(80,000)"})
    assert response.status_code == 302 and response["Location"] == f"{_page(world['private'])}?provider=" \
                                                                    f"{world['wheels'].pk}"
    text = client.get(response["Location"]).content.decode()
    assert f"Accounts for 2024 saved. {world['merton'].name} holds them; its officers use them" in text
    assert f'href="/performance/contracts/{world["private"].ocid}/"' in text  # breadcrumbs: its performance page
    row = SupplierAccounts.objects.get()
    assert (row.owner, row.provider, row.year, row.turnover, row.is_private) == (
        world["merton"], world["wheels"], 2024, Decimal("1000000.00"), True)
    assert (row.entered_by_supplier, row.supplier_user, row.supplier_username, row.entered_by) == (
        True, world["supplier"], "wheels-finance", world["supplier"])
    assert row.supplier_entered_at is not None and row.corrected_at is None
    assert row.supplier_figures["turnover"] == "1000000.00" and row.supplier_figures["borrowing"] is None
    assert row.operating_profit == Decimal("-80000.00")
    assert "-£80,000" in client.get(_page(world["private"])).content.decode()  # not "£-80,000"
    services.save_accounts(actor=fresh(world["supplier"]), contract=world["private"], provider=world["wheels"],
                           data=YEAR_2024)
    event = AuditEvent.objects.filter(model="risk.SupplierAccounts").earliest("id")
    assert (event.action, event.actor, event.organisation) == ("created", world["supplier"], world["merton"])
    assert event.after["entered_by_supplier"] is True
    # the supplier sees what it gave; so does every member of the council, marked as the supplier's
    for role in ("supplier", "viewer", "admin"):
        text = client_for(world, role).get(_page(world["private"])).content.decode()
        assert "£1,000,000" in text and "The supplier (wheels-finance, " in text, role
    # the council's assessment uses it, and records that the supplier gave it
    a = services.assess(actor=world["admin"], contract=world["private"], provider=world["wheels"],
                        annual_value="600000", audited_accounts_required=False)
    assert a.accounts_used[0]["entered_by_supplier"] is True and a.accounts_used[0]["turnover"] == "1000000.00"
    text = client_for(world, "supplier").get(_page(world["private"])).content.decode()
    assert "Latest assessment" not in text and "Medium risk" not in text and "History of assessments" not in text


def test_the_council_corrects_and_the_suppliers_figures_are_kept(world):
    _give(world)
    client = client_for(world, "commissioner")
    response = client.post(f"/risk/contracts/{world['private'].ocid}/accounts/",
                           {"provider": world["wheels"].pk, **YEAR_2024, "turnover": "950000"})
    assert response.status_code == 302
    row = SupplierAccounts.objects.get()
    assert row.turnover == Decimal("950000.00") and row.entered_by == world["commissioner"]
    assert row.entered_by_supplier and row.corrected_at is not None and row.supplier_user == world["supplier"]
    assert row.supplier_figures["turnover"] == "1000000.00"  # as the supplier gave it
    event = AuditEvent.objects.filter(model="risk.SupplierAccounts").latest("id")
    assert (event.action, event.actor) == ("corrected", world["commissioner"])
    assert (event.before["turnover"], event.after["turnover"]) == ("1000000.00", "950000.00")
    for role, officer in (("supplier", "an officer"), ("viewer", "merton-commissioner")):
        text = client_for(world, role).get(_page(world["private"])).content.decode()
        assert f"corrected by the council ({officer}, " in text  # officers' user names are not the supplier's
        assert role == "viewer" or "merton-commissioner" not in text
        assert "As the supplier gave it" in text and "£1,000,000" in text and "£950,000" in text
    # the year is now the council's: the supplier is told so, and nothing changes
    bad = client_for(world, "supplier").post(f"/risk/contracts/{world['private'].ocid}/accounts/",
                                             {"provider": world["wheels"].pk, **YEAR_2024, "turnover": "1200000"})
    assert bad.status_code == 400
    assert ("already holds figures for 2024 corrected by its officers: ask them to change them"
            in bad.content.decode())
    row.refresh_from_db()
    assert row.turnover == Decimal("950000.00")
    # another year is still the supplier's to give
    _give(world, data={**YEAR_2024, "year": "2023"})
    assert SupplierAccounts.objects.filter(year=2023, entered_by_supplier=True, corrected_at=None).exists()
    # the download says who gave what
    rows = csv_rows(client_for(world, "viewer").get(_page(world["private"]), {"table": "accounts", "format": "csv"}))
    header, by_year = rows[0], {r[2]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert header[-1] == "synthetic"
    assert (by_year["2024"]["turnover"], by_year["2024"]["supplier_turnover"]) == ("950000.00", "1000000.00")
    assert (by_year["2024"]["entered_by"], by_year["2024"]["supplier_user"]) == ("merton-commissioner",
                                                                                 "wheels-finance")
    assert by_year["2024"]["corrected_by_council_at"] and not by_year["2023"]["corrected_by_council_at"]
    rows = csv_rows(client_for(world, "supplier").get(_page(world["private"]), {"table": "accounts", "format": "csv"}))
    assert {r[rows[0].index("entered_by")] for r in rows[1:]} == {"an officer", "wheels-finance"}


def test_the_supplier_may_not_replace_figures_the_council_entered(world):
    services.save_accounts(actor=world["admin"], contract=world["private"], provider=world["wheels"],
                           data=YEAR_2024)
    with pytest.raises(services.RiskInputError) as e:
        _give(world, data={**YEAR_2024, "turnover": "5"})
    assert e.value.field == "year" and "2024 entered by its officers" in e.value.message
    assert SupplierAccounts.objects.get().turnover == Decimal("1000000.00")


def test_the_supplier_replaces_its_own_year_and_the_same_form_twice_changes_nothing(world):
    _give(world)
    _give(world)  # sent twice
    assert AuditEvent.objects.filter(model="risk.SupplierAccounts").count() == 1
    _give(world, data={**YEAR_2024, "turnover": "1100000"})
    row = SupplierAccounts.objects.get()
    assert row.turnover == Decimal("1100000.00") and row.supplier_figures["turnover"] == "1100000.00"
    assert row.corrected_at is None
    assert list(AuditEvent.objects.filter(model="risk.SupplierAccounts").values_list("action", flat=True)
                .order_by("id")) == ["created", "updated"]


# CSV and API ----------------------------------------------------------------------------------------

def _upload(client, contract, text):
    return client.post(f"/risk/contracts/{contract.ocid}/accounts/upload/",
                       {"file": SimpleUploadedFile("accounts.csv", text.encode(), content_type="text/csv")})


def test_the_supplier_uploads_a_csv_of_its_own_accounts_only(world):
    client = client_for(world, "supplier")
    wheels, megacorp = world["wheels"].pk, world["megacorp"].pk
    bad = _upload(client, world["private"], "provider_id,companies_house,year,turnover\n"
                                            f"{wheels},,2023,900000\n"
                                            f"{megacorp},,2024,500000000\n"
                                            ",01234567,2022,1\n")
    assert bad.status_code == 400
    text = bad.content.decode()
    assert (f"Row 3, column provider_id: you can give the accounts of Little Wheels Ltd (id {wheels}) only, not of "
            f"provider {megacorp}") in text
    assert "Row 4, column companies_house: you can give the accounts of Little Wheels Ltd" in text
    assert SupplierAccounts.objects.count() == 0
    ok = _upload(client, world["private"], "companies_house,year,turnover,audited\n"
                                           f"{WHEELS_CH},2023,900000,yes\n{WHEELS_CH},2024,1000000,no\n")
    assert ok.status_code == 302
    rows = SupplierAccounts.objects.order_by("year")
    assert [(a.year, a.source, a.entered_by_supplier, a.owner_id, a.audited) for a in rows] == [
        (2023, "csv", True, world["merton"].pk, True), (2024, "csv", True, world["merton"].pk, False)]
    # a file touching a year the council holds itself saves nothing at all
    services.save_accounts(actor=world["admin"], contract=world["private"], provider=world["wheels"],
                           data={"year": "2022", "turnover": "800000"})
    again = _upload(client, world["private"], f"provider_id,year,turnover\n{wheels},2021,700000\n"
                                              f"{wheels},2022,1\n")
    assert again.status_code == 400
    assert (f"Row 3, column year: {world['merton'].name} already holds figures for 2022 entered by its officers"
            in again.content.decode().replace("&#x27;", "'"))
    assert not SupplierAccounts.objects.filter(year=2021).exists()
    assert SupplierAccounts.objects.get(year=2022).turnover == Decimal("800000.00")


def test_the_supplier_uses_the_api(world):
    client = client_for(world, "supplier")
    base = f"{API}/risk/contracts/{world['private'].ocid}"
    r = client.post(f"{base}/accounts", {"year": 2024, "turnover": "1,000,000"}, content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["provider"], body["turnover"], body["entered_by_supplier"], body["supplier_user"]) == (
        world["wheels"].pk, "1000000.00", True, "wheels-finance")
    assert body["supplier_figures"]["turnover"] == "1000000.00" and body["corrected_at"] is None
    assert [a["year"] for a in client.get(f"{base}/accounts").json()] == [2024]
    assert client.get(f"{base}/assessments").json() == []
    r = client.post(f"{base}/accounts", {"year": 2024, "provider": world["megacorp"].pk},
                    content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"] == PROBLEM  # not a provider of this contract
    r = client.post(f"{base}/assessments", {"annual_value": 600000}, content_type="application/json")
    assert r.status_code == 403 and r["Content-Type"] == PROBLEM
    services.save_accounts(actor=world["admin"], contract=world["private"], provider=world["wheels"],
                           data={"year": "2024", "turnover": "990000"})
    r = client.post(f"{base}/accounts", {"year": 2024, "turnover": 5}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "year"
    listing = client.get(f"{base}/accounts").json()
    assert (listing[0]["turnover"], listing[0]["supplier_figures"]["turnover"]) == ("990000.00", "1000000.00")
    assert listing[0]["corrected_at"] is not None


# Who sees what -----------------------------------------------------------------------------------------

def test_never_other_councils_nor_other_providers(world):
    _give(world)  # to Merton
    _give(world, contract=world["leeds_contract"], data={**YEAR_2024, "turnover": "1234567"})  # to Leeds
    merton_row = SupplierAccounts.objects.get(owner=world["merton"])
    leeds_row = SupplierAccounts.objects.get(owner=world["other_org"])
    qs = SupplierAccounts.objects.all()
    assert set(tenancy.shared_with_supplier(qs, fresh(world["supplier"]))) == {merton_row, leeds_row}
    assert set(tenancy.shared_with_supplier(qs, fresh(world["viewer"]))) == {merton_row}
    assert set(tenancy.shared_with_supplier(qs, fresh(world["other"]))) == {leeds_row}
    assert set(tenancy.shared_with_supplier(qs, fresh(world["other_supplier"]))) == set()
    assert set(tenancy.shared_with_supplier(qs, fresh(world["superuser"]))) == {merton_row, leeds_row}
    text = client_for(world, "other").get(_page(world["leeds_contract"])).content.decode()
    assert "£1,234,567" in text and "£1,000,000" not in text
    # a published contract of the same supplier: another provider's user sees the page, not the figures
    text = client_for(world, "other_supplier").get(_page(world["public"])).content.decode()
    assert "private to the council" in text and "£1,000,000" not in text and "You act for" not in text
    api = client_for(world, "other_supplier").get(f"{API}/risk/contracts/{world['public'].ocid}/accounts")
    assert api.status_code == 200 and api.json() == []
    # another council sees none of Merton's on its published contract either
    api = client_for(world, "other").get(f"{API}/risk/contracts/{world['public'].ocid}/accounts")
    assert api.json() == []
    # the supplier sees its own on the published contract too (the same council's figures)
    api = client_for(world, "supplier").get(f"{API}/risk/contracts/{world['public'].ocid}/accounts")
    assert [a["turnover"] for a in api.json()] == ["1000000.00"]


def test_a_supplier_without_a_contract_with_the_council_cannot_give_it_accounts(world):
    megacorp_user = fresh(world["other_supplier"])
    with pytest.raises(services.Refused):
        services.save_accounts(actor=megacorp_user, contract=world["public"], provider=world["wheels"],
                               data=YEAR_2024)
    with pytest.raises(services.Refused):  # its own provider is not on this contract
        services.save_accounts(actor=megacorp_user, contract=world["public"], provider=world["megacorp"],
                               data=YEAR_2024)
    with pytest.raises(services.Refused):
        services.import_accounts_csv(actor=megacorp_user, contract=world["public"],
                                     data=f"provider_id,year\n{world['megacorp'].pk},2024\n".encode())
    refused = AuditEvent.objects.filter(action="refused", actor=world["other_supplier"])
    assert [e.after["attempt"] for e in refused.order_by("id")] == ["enter accounts"] * 2 + ["import accounts"]
    assert SupplierAccounts.objects.count() == 0


# The tenancy matrix ------------------------------------------------------------------------------------

PAGE = {"private": statuses(302, 200, 200, 200, 404, 200, 404, 200),
        "public": statuses(302, 200, 200, 200, 200, 200, 200, 200)}
ACCOUNTS_POST = {"private": statuses(302, 302, 302, 403, 404, 302, 404, 302),
                 "public": statuses(302, 302, 302, 403, 403, 302, 403, 302)}
ASSESS_POST = {"private": statuses(302, 302, 302, 403, 404, 403, 404, 302),
               "public": statuses(302, 302, 302, 403, 403, 403, 403, 302)}
SEES_FIGURES = {"admin", "commissioner", "viewer", "supplier", "superuser"}
SEES_ASSESSMENTS = {"admin", "commissioner", "viewer", "superuser"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["private", "public"])
def test_page_tenancy_matrix(world, role, kind):
    contract = world[kind]
    _give(world, contract=contract)
    services.assess(actor=world["admin"], contract=contract, provider=world["wheels"], annual_value="600000",
                    audited_accounts_required=False)
    client = client_for(world, role)
    response = client.get(_page(contract))
    assert response.status_code == PAGE[kind][role], role
    if response.status_code == 200:
        text = response.content.decode()
        assert ("£1,000,000" in text) is (role in SEES_FIGURES)
        assert ("Latest assessment" in text) is (role in SEES_ASSESSMENTS)
        assert ("You act for Little Wheels Ltd" in text) is (role == "supplier")
    for table, seen in (("accounts", SEES_FIGURES), ("history", SEES_ASSESSMENTS)):
        download = client.get(_page(contract), {"table": table, "format": "json"})
        assert download.status_code == PAGE[kind][role]
        if download.status_code == 200:
            assert len(json.loads(download.content)["rows"]) == (1 if role in seen else 0), (table, role)
    events = AuditEvent.objects.count()
    year = {"provider": world["wheels"].pk, **YEAR_2024, "year": "2023"}
    r = client.post(f"/risk/contracts/{contract.ocid}/accounts/", year)
    assert r.status_code == ACCOUNTS_POST[kind][role], role
    assert SupplierAccounts.objects.filter(year=2023).exists() is (role != "anonymous" and r.status_code == 302)
    r = _upload(client, contract, f"provider_id,year,turnover\n{world['wheels'].pk},2022,5\n")
    assert r.status_code == ACCOUNTS_POST[kind][role], role
    assert SupplierAccounts.objects.filter(year=2022).exists() is (role != "anonymous" and r.status_code == 302)
    r = client.post(f"/risk/contracts/{contract.ocid}/assess/",
                    {"provider": world["wheels"].pk, "annual_value": "1000", "criticality": "low", "lots": "1"})
    assert r.status_code == ASSESS_POST[kind][role], role
    assert RiskAssessment.objects.filter(contract=contract).count() == (
        2 if role != "anonymous" and r.status_code == 302 else 1)
    refused = AuditEvent.objects.filter(action="refused", id__gt=events).count()
    assert refused == {"viewer": 3, "supplier": 1}.get(role, 3 if r.status_code == 403 else 0), role


API_READ = {"private": statuses(401, 200, 200, 200, 404, 200, 404, 200),
            "public": statuses(401, 200, 200, 200, 200, 200, 200, 200)}
API_WRITE = {"private": statuses(401, 201, 201, 403, 404, 201, 404, 201),
             "public": statuses(401, 201, 201, 403, 403, 201, 403, 201)}
API_ASSESS = {"private": statuses(401, 201, 201, 403, 404, 403, 404, 201),
              "public": statuses(401, 201, 201, 403, 403, 403, 403, 201)}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["private", "public"])
def test_api_tenancy_matrix(world, role, kind):
    contract = world[kind]
    _give(world, contract=contract)
    services.assess(actor=world["admin"], contract=contract, provider=world["wheels"], annual_value="600000",
                    audited_accounts_required=False)
    client = client_for(world, role)
    base = f"{API}/risk/contracts/{contract.ocid}"
    for name, seen in (("accounts", SEES_FIGURES), ("assessments", SEES_ASSESSMENTS)):
        r = client.get(f"{base}/{name}")
        assert r.status_code == API_READ[kind][role], (name, role)
        if r.status_code == 200:
            assert len(r.json()) == (1 if role in seen else 0), (name, role)
        else:
            assert r["Content-Type"] == PROBLEM
    r = client.post(f"{base}/accounts", {"year": 2023, "turnover": 900000}, content_type="application/json")
    assert r.status_code == API_WRITE[kind][role], (role, r.content[:200])
    if r.status_code == 201:
        assert r.json()["entered_by_supplier"] is (role == "supplier")
    else:
        assert r["Content-Type"] == PROBLEM
    r = client.post(f"{base}/assessments", {"annual_value": 600000}, content_type="application/json")
    assert r.status_code == API_ASSESS[kind][role], role
