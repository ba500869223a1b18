"""Market analysis, the parts finished later: removing a loaded spend file (page and API), loading a
spend file through the API, and the council's mapping of its spend categories to CPV divisions (page,
service, and the analysis by CPV division beside the register). Real files: the Trafford and Hyndburn
samples in data/samples/spend (copies of ../shared/data/council_spend)."""

import json
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Sum

from commissioner.market import forms, layouts, queries, services
from commissioner.market.models import CategoryMapping, ColumnMapping, Payment, SpendFile
from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import council_organisation
from commissioner.register.models import Contract
from conftest import SAMPLES
from helpers import ROLES, client_for, statuses

SAMPLE = SAMPLES / "spend"
API = "/api/v1"
PROBLEM = "application/problem+json"
TRAFFORD_SAMPLE = SAMPLE / "trafford" / "trafford-supplier-spend-2026-27-first-1000.csv"

CONCENTRATION = ("Supplier,Paid on,Value,Service\n"
                 "Alpha Care Ltd,01/04/2024,500.00,Care\n"
                 "Beta Care Ltd,01/04/2024,300.00,Care\n"
                 "Gamma Care Ltd,01/04/2024,250.00,Care\n"
                 "Gamma Care Ltd,20/04/2024,-50.00,Care\n"
                 "Delta Roads Ltd,01/04/2024,900.00,Roads\n"
                 "Alpha Care Ltd,01/05/2025,100.00,Care\n"
                 "Epsilon Care CIC,02/05/2025,100.00,Care\n")
MAPPING = {"payee": "Supplier", "date": "Paid on", "amount": "Value", "category": "Service"}


def load(users, text=CONCENTRATION, name="c.csv", **kwargs):
    return services.import_spend(council=users["merton"], raw=text.encode(), name=name, actor=users["admin"],
                                 mapping=MAPPING, **kwargs).spend_file


def load_sample(code, *names):
    council = council_organisation(code)
    folder = SAMPLE / ("trafford" if code == "TRF" else "hyndburn")
    for name in names:
        services.import_spend(council=council, raw=(folder / name).read_bytes(), name=name, actor_label="test")
    return council


# ---------------------------------------------------------------- removing a file (page)

def test_remove_page_matrix_and_refusals_audited(users):
    f = load(users)
    url = f"/market/{users['merton'].slug}/files/{f.pk}/remove/"
    expected = statuses(302, 200, 200, 403, 403, 200)
    for role in ROLES:
        response = client_for(users, role).get(url)
        assert response.status_code == expected[role], role
        if expected[role] == 200:
            body = response.content.decode()
            assert "7 payments will be removed" in body and "govuk-warning-text" in body
            assert "1 April 2024 to 2 May 2025" in body and "£2,100.00" in body
    refused = AuditEvent.objects.filter(action="refused", model="market.SpendFile", object_pk=str(f.pk))
    assert {e.actor for e in refused} == {users["viewer"], users["other"]}
    assert refused.first().after == {"attempt": "remove spend files"}
    # Posting is refused the same way, and nothing goes.
    for role in ("viewer", "other"):
        assert client_for(users, role).post(url).status_code == 403
    assert client_for(users, "anonymous").post(url).status_code == 302
    assert Payment.objects.filter(spend_file=f).count() == 7
    # A missing file is a 404 (not a refusal), for everyone.
    assert client_for(users, "admin").get(f"/market/{users['merton'].slug}/files/999999/remove/").status_code == 404


def test_private_file_removal_page_is_hidden_from_other_councils(users):
    f = load(users, is_private=True)
    url = f"/market/{users['merton'].slug}/files/{f.pk}/remove/"
    expected = statuses(302, 200, 200, 403, 404, 200)
    for role in ROLES:
        assert client_for(users, role).get(url).status_code == expected[role], role


def test_remove_a_file_by_the_page(users):
    merton = users["merton"]
    first = load(users)
    second = load(users, text=CONCENTRATION.replace("2024", "2023").replace("2025", "2022"), name="older.csv")
    CategoryMapping.objects.create(council=merton, key="care", category="Care", division="85")
    client = client_for(users, "commissioner")
    page = client.get(f"/market/{merton.slug}/").content.decode()
    assert f"/market/{merton.slug}/files/{first.pk}/remove/" in page  # the link from the files list
    assert "Remove<span class=\"govuk-visually-hidden\"> c.csv</span>" in page
    assert "/remove/" not in client_for(users, "viewer").get(f"/market/{merton.slug}/").content.decode()
    response = client.post(f"/market/{merton.slug}/files/{first.pk}/remove/", follow=True)
    assert response.redirect_chain[-1][0] == f"/market/{merton.slug}/#files"
    assert "Removed c.csv and its 7 payments" in response.content.decode()
    assert not SpendFile.objects.filter(pk=first.pk).exists()
    assert not Payment.objects.filter(spend_file_id=first.pk).exists()
    assert Payment.objects.filter(spend_file=second).count() == 7  # the other file is untouched
    assert queries.analysis(None, merton)["total"] == Decimal("2100.00")
    event = AuditEvent.objects.get(model="market.SpendFile", object_pk=str(first.pk), action="delete")
    assert event.actor == users["commissioner"]
    assert {k: event.before[k] for k in ("name", "rows", "period", "months", "total")} == {
        "name": "c.csv", "rows": 7, "period": "2024-04-01 to 2025-05-02", "months": ["2024-04", "2025-05"],
        "total": "2100.00"}
    assert event.after == {"payments_removed": 7}
    # The council's category mapping stays: it is not derived from the file.
    assert CategoryMapping.objects.filter(council=merton, key="care").exists()
    # The same removal sent again: a clear message, nothing else happens.
    again = client.post(f"/market/{merton.slug}/files/{first.pk}/remove/", follow=True)
    assert "That file is no longer loaded" in again.content.decode()
    assert AuditEvent.objects.filter(model="market.SpendFile", action="delete").count() == 1
    # Removing the last file leads back to the list of councils.
    last = client.post(f"/market/{merton.slug}/files/{second.pk}/remove/")
    assert last.status_code == 302 and last["Location"] == "/market/"
    assert not Payment.objects.filter(council=merton).exists()


def test_remove_service_is_all_or_nothing_and_refused_for_others(users):
    f = load(users)
    with pytest.raises(services.Refused):
        services.delete_spend_file(spend_file=f, actor=users["other"])
    assert Payment.objects.filter(spend_file=f).count() == 7
    assert services.delete_spend_file(spend_file=f, actor=users["admin"]) == 7
    with pytest.raises(services.AlreadyRemoved):
        services.delete_spend_file(spend_file=f, actor=users["admin"])


# ---------------------------------------------------------------- loading and removing through the API

def api_upload(client, council, data, name="c.csv", **fields):
    return client.post(f"{API}/market/files", {"file": SimpleUploadedFile(name, data), "council": council, **fields})


def test_api_upload_matrix(users):
    slug = users["merton"].slug
    mapping = json.dumps(MAPPING)
    expected = statuses(401, 201, 201, 403, 403, 201)
    for role in ROLES:
        SpendFile.objects.all().delete()
        response = api_upload(client_for(users, role), slug, CONCENTRATION.encode(), mapping=mapping)
        assert response.status_code == expected[role], (role, response.content)
        if expected[role] != 201:
            assert response["Content-Type"] == PROBLEM
    assert AuditEvent.objects.filter(action="refused", actor=users["viewer"]).exists()
    assert AuditEvent.objects.filter(action="refused", actor=users["other"]).exists()


def test_api_upload_summary_duplicates_and_csrf(users):
    slug = users["merton"].slug
    client = client_for(users, "admin")
    response = api_upload(client, slug, CONCENTRATION.encode(), mapping=json.dumps(MAPPING))
    assert response.status_code == 201
    body = response.json()
    f = SpendFile.objects.get(council=users["merton"])
    assert {k: body[k] for k in ("id", "council", "name", "layout", "rows", "total", "months", "first_date",
                                 "last_date", "redacted", "private", "synthetic", "matched")} == {
        "id": f.pk, "council": slug, "name": "c.csv", "layout": "mapped", "rows": 7, "total": "2100.00",
        "months": ["2024-04", "2025-05"], "first_date": "2024-04-01", "last_date": "2025-05-02", "redacted": 0,
        "private": False, "synthetic": False, "matched": 0}
    assert body["message"].startswith("Loaded 7 payments")
    assert ColumnMapping.objects.get(signature="supplier|paid on|value|service").mapping == MAPPING
    # The same file again: 409, nothing changes (the mapping is remembered now, so none is sent).
    again = api_upload(client, slug, CONCENTRATION.encode(), name="copy.csv")
    assert again.status_code == 409 and again["Content-Type"] == PROBLEM
    assert again.json()["existing"] == f.pk and "already loaded" in again.json()["detail"]
    # A different file repeating payments already loaded: 409 naming the month and the earlier file.
    repeated = CONCENTRATION + "Zeta Ltd,03/05/2025,10.00,Care\n"
    clash = api_upload(client, slug, repeated.encode(), name="more.csv")
    assert clash.status_code == 409
    assert "more.csv" in clash.json()["detail"]
    assert "5 payment(s) in 2024-04 (already loaded from c.csv)" in clash.json()["detail"]
    assert clash.json()["errors"][0]["code"] == "duplicate"
    assert Payment.objects.filter(council=users["merton"]).count() == 7
    # Writes need the CSRF token.
    strict = client_for(users, "admin", enforce_csrf_checks=True)
    refused = api_upload(strict, slug, CONCENTRATION.replace("2024", "2021").encode(), name="x.csv")
    assert refused.status_code == 403 and SpendFile.objects.count() == 1


def test_api_upload_bad_input_names_file_row_and_field(users):
    slug = users["merton"].slug
    client = client_for(users, "admin")
    bad = CONCENTRATION.replace("300.00", "three hundred").replace("20/04/2024", "31/04/2024")
    response = api_upload(client, slug, bad.encode(), name="bad.csv", mapping=json.dumps(MAPPING))
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["detail"].startswith("bad.csv: 2 problem(s) in the file: nothing was saved")
    rows = [(e["row"], e["column"]) for e in problem["errors"] if e["code"] == "invalid_row"]
    assert rows == [(3, "Value"), (5, "Paid on")]
    assert "bad.csv, row 3, column Value" in problem["errors"][1]["detail"]
    assert "three hundred" in problem["errors"][1]["detail"]
    assert SpendFile.objects.count() == 0 and Payment.objects.count() == 0
    # An unknown layout, no mapping: 422 naming `mapping`, with the file's columns.
    unknown = api_upload(client, slug, b"Payee,When,Pounds\nAcme Ltd,01/04/2024,10.00\n", name="u.csv")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["name"] == "mapping"
    assert unknown.json()["columns"] == [{"column": 1, "header": "Payee"}, {"column": 2, "header": "When"},
                                         {"column": 3, "header": "Pounds"}]
    assert "u.csv: we do not know this file's layout" in unknown.json()["detail"]
    # Bad mapping JSON, a mapping naming no such column, an unknown council, the wrong encoding, no file.
    cases = [
        ({"mapping": "{"}, "mapping", "not valid JSON"),
        ({"mapping": json.dumps({**MAPPING, "amount": "Amount"})}, "mapping", "no column headed 'Amount'"),
    ]
    for extra, field, message in cases:
        r = api_upload(client, slug, CONCENTRATION.encode(), **extra)
        assert r.status_code == 422 and r.json()["errors"][0]["name"] == field and message in r.json()["detail"], r.json()
    nowhere = api_upload(client, "nowhere", CONCENTRATION.encode())
    assert nowhere.status_code == 422 and nowhere.json()["errors"][0]["name"] == "council"
    wrong = api_upload(client, slug, b"\xff\xfe\x81\x8d\x90", name="w.csv")
    assert wrong.status_code == 422 and "w.csv: the file is neither UTF-8 nor Windows-1252" in wrong.json()["detail"]
    nofile = client.post(f"{API}/market/files", {"council": slug})
    assert nofile.status_code == 422 and nofile.json()["errors"][0]["name"] == "file"
    assert SpendFile.objects.count() == 0


def test_api_upload_real_hyndburn_file_with_html_in_names_escaped(users):
    data = (SAMPLE / "hyndburn" / "April-24.csv").read_bytes()
    hyndburn = council_organisation("HYN")
    response = api_upload(client_for(users, "superuser"), hyndburn.slug, data, name="<img src=x onerror=alert(1)>.csv")
    assert response.status_code == 201
    assert (response.json()["rows"], response.json()["layout"]) == (428, "hyndburn-2024")
    page = client_for(users, "anonymous").get(f"/market/{hyndburn.slug}/").content.decode()
    assert response.json()["name"] == "<img src=x onerror=alert(1)>.csv"
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in page and "<img src=x" not in page


def test_api_get_and_delete_matrix(users):
    expected = statuses(401, 200, 200, 403, 403, 200)
    for role in ROLES:
        f = load(users, name=f"{role}.csv")
        client = client_for(users, role)
        assert client.get(f"{API}/market/files/{f.pk}").json()["rows"] == 7
        response = client.delete(f"{API}/market/files/{f.pk}")
        assert response.status_code == expected[role], role
        if expected[role] == 200:
            assert response.json() == {"id": f.pk, "name": f"{role}.csv", "council": users["merton"].slug,
                                       "payments_removed": 7, "message": f"Removed {role}.csv and its 7 payments"}
            assert not Payment.objects.filter(spend_file_id=f.pk).exists()
            gone = client.delete(f"{API}/market/files/{f.pk}")
            assert gone.status_code == 404 and gone["Content-Type"] == PROBLEM
        else:
            assert response["Content-Type"] == PROBLEM
            SpendFile.objects.filter(pk=f.pk).delete()
    assert AuditEvent.objects.filter(action="refused", model="market.SpendFile", actor=users["other"]).exists()


def test_api_private_file_is_hidden_from_other_councils(users):
    f = load(users, is_private=True)
    expected = statuses(404, 200, 200, 200, 404, 200)
    for role in ROLES:
        assert client_for(users, role).get(f"{API}/market/files/{f.pk}").status_code == expected[role], role
    assert client_for(users, "other").delete(f"{API}/market/files/{f.pk}").status_code == 404
    assert Payment.objects.filter(spend_file=f).count() == 7


# ---------------------------------------------------------------- category -> CPV division mappings

def test_service_sets_updates_and_removes_mappings_audited(users):
    merton = users["merton"]
    load(users)
    assert services.set_category_mappings(council=merton, choices={"Care": "85", "Roads": "45"},
                                          actor=users["admin"]) == 2
    assert services.set_category_mappings(council=merton, choices={"CARE": "85", "roads": "45"},
                                          actor=users["admin"]) == 0  # sent again, other capitals: nothing changes
    assert services.set_category_mappings(council=merton, choices={"Roads": "50"}, actor=users["commissioner"]) == 1
    assert services.set_category_mappings(council=merton, choices={"Care": ""}, actor=users["admin"]) == 1
    assert dict(CategoryMapping.objects.filter(council=merton).values_list("key", "division")) == {"roads": "50"}
    events = AuditEvent.objects.filter(model="market.CategoryMapping").order_by("id")
    assert [(e.action, e.before, e.after) for e in events] == [
        ("create", None, {"category": "Care", "division": "85"}),
        ("create", None, {"category": "Roads", "division": "45"}),
        ("update", {"category": "Roads", "division": "45"}, {"category": "Roads", "division": "50"}),
        ("delete", {"category": "Care", "division": "85"}, None)]
    # A bad division anywhere: nothing saved.
    with pytest.raises(services.MarketInputError, match="'86' for 'Care' is not a CPV division"):
        services.set_category_mappings(council=merton, choices={"Roads": "45", "Care": "86"}, actor=users["admin"])
    assert dict(CategoryMapping.objects.filter(council=merton).values_list("key", "division")) == {"roads": "50"}
    with pytest.raises(services.MarketInputError, match="blank category"):
        services.set_category_mappings(council=merton, choices={" ": "85"}, actor=users["admin"])
    with pytest.raises(services.Refused):
        services.set_category_mappings(council=merton, choices={"Care": "85"}, actor=users["viewer"])
    with pytest.raises(services.Refused):
        services.set_category_mappings(council=merton, choices={"Care": "85"}, actor=users["other"])
    assert AuditEvent.objects.filter(action="refused", actor=users["other"]).exists()


def test_categories_page_matrix(users):
    load(users)
    url = f"/market/{users['merton'].slug}/categories/"
    expected = statuses(302, 200, 200, 403, 403, 200)
    for role in ROLES:
        assert client_for(users, role).get(url).status_code == expected[role], role
        # Posting: editors are sent back to the page (nothing chosen, nothing changed), others refused.
        assert client_for(users, role).post(url, {}).status_code == {200: 302, 302: 302, 403: 403}[expected[role]]
    assert AuditEvent.objects.filter(action="refused", actor=users["viewer"],
                                     after={"attempt": "map spend categories to CPV divisions"}).exists()
    council_page = client_for(users, "admin").get(f"/market/{users['merton'].slug}/").content.decode()
    assert f'href="{url}"' in council_page
    assert url not in client_for(users, "anonymous").get(f"/market/{users['merton'].slug}/").content.decode()


def test_trafford_categories_mapped_by_the_page_and_shown_by_division(users):
    trafford = load_sample("TRF", TRAFFORD_SAMPLE.name)
    client = client_for(users, "superuser")
    url = f"/market/{trafford.slug}/categories/"
    rows = {r["category"]: r for r in queries.spend_categories(None, trafford)}
    # Real Trafford categories (the ProClass label's top level), with the suggestion each gets.
    assert {c: rows[c]["suggested"] for c in ("SOCIAL CARE", "SOCIAL CARE SERVICES", "SC", "HWY", "FACILITIES MGT",
                                              "CLEANING & JANATORIAL", "Interpretation & Translation",
                                              "Sports Equipment", "UTILITIES", "EDUCATION")} == {
        "SOCIAL CARE": "85", "SOCIAL CARE SERVICES": "85", "SC": "85", "HWY": "45", "FACILITIES MGT": "79",
        "CLEANING & JANATORIAL": "90", "Interpretation & Translation": "79", "Sports Equipment": "37",
        "UTILITIES": "65", "EDUCATION": "80"}
    page = client.get(url).content.decode()
    assert "Suggested: 85 Health and social work services (from the word “social care”)" in page
    assert "0 of 29 categories mapped" in page
    # Nothing is chosen until the user asks for the suggestions.
    form = forms.CategoryMappingForm(rows=queries.spend_categories(None, trafford))
    assert all(f.initial == "" for f in form.fields.values())
    suggested = client.get(url + "?suggest=1").content.decode()
    assert suggested.count('<option value="85" selected>') == 3
    names = {r["category"]: forms.category_field_name(r["key"]) for r in rows.values()}
    post = {names[c]: "85" for c in ("SOCIAL CARE", "SOCIAL CARE SERVICES", "SC")} | {names["HWY"]: "45"}
    response = client.post(url, post, follow=True)
    assert "Saved: 4 mapping(s) changed" in response.content.decode()
    assert "4 of 29 categories mapped" in response.content.decode()
    again = client.post(url, post, follow=True)
    assert "Nothing changed" in again.content.decode()
    # A tampered choice: 400, an error naming the category, nothing saved.
    bad = client.post(url, {names["UTILITIES"]: "99"})
    assert bad.status_code == 400 and "Choose a CPV division for “UTILITIES” from the list" in bad.content.decode()
    assert "There is a problem" in bad.content.decode()
    assert CategoryMapping.objects.filter(council=trafford).count() == 4
    # The analysis by CPV division, worked out independently from the real file.
    parsed = layouts.parse(TRAFFORD_SAMPLE.read_bytes())
    care = sum((r.amount for r in parsed.rows if r.category in ("SOCIAL CARE", "SOCIAL CARE SERVICES", "SC")),
               Decimal(0))
    highways = sum((r.amount for r in parsed.rows if r.category == "HWY"), Decimal(0))
    unmapped = sum((r.amount for r in parsed.rows), Decimal(0)) - care - highways
    data = queries.analysis(None, trafford)
    divisions = {d["cpv_division"] or d["name"]: d for d in data["divisions"]}
    assert (divisions["85"]["spend"], divisions["85"]["categories"]) == (care, 3)
    assert divisions["85"]["payments"] == sum(1 for r in parsed.rows if r.category in ("SOCIAL CARE",
                                                                                        "SOCIAL CARE SERVICES", "SC"))
    assert divisions["45"]["spend"] == highways
    assert divisions[queries.UNMAPPED_LABEL]["spend"] == unmapped
    assert divisions[queries.UNMAPPED_LABEL]["register_contracts"] is None  # not pretending
    # Suppliers paid under all three care categories count once in the division's concentration.
    care_suppliers = defaultdict(Decimal)
    for r in parsed.rows:
        if r.category in ("SOCIAL CARE", "SOCIAL CARE SERVICES", "SC") and not r.individual:
            care_suppliers[r.payee] += r.amount
    assert divisions["85"]["suppliers"] == sum(1 for v in care_suppliers.values() if v > 0)
    # The register's categories for Trafford, beside: every division with contracts is listed.
    register = {r["cpv_division"] or "": r for r in Contract.objects.filter(buyer=trafford, is_private=False)
                .values("cpv_division").annotate(n=Count("id"), v=Sum("value"))}
    for code, r in register.items():
        row = divisions[code] if code else divisions[queries.UNCLASSIFIED_LABEL]
        assert row["register_contracts"] == r["n"]
    cats = {c["category"]: c["cpv_division"] for c in data["categories"]}
    assert (cats["SC"], cats["HWY"], cats["UTILITIES"], cats[queries.NOT_STATED]) == ("85", "45", "", "")
    # On the page, and as a download with the synthetic column.
    body = client_for(users, "anonymous").get(f"/market/{trafford.slug}/").content.decode()
    assert "Spend by CPV division, beside the register" in body and "85 Health and social work services" in body
    assert queries.UNMAPPED_LABEL in body
    csv_rows = client_for(users, "anonymous").get(f"/market/{trafford.slug}/?table=divisions&format=csv")
    lines = csv_rows.content.decode().splitlines()
    assert lines[0] == ",".join([*queries.TABLES["divisions"], "synthetic"])
    assert lines[1].startswith("85,Health and social work services,3,") and lines[1].endswith(",no")
    api = client_for(users, "anonymous").get(f"{API}/market/councils/{trafford.slug}").json()
    assert api["divisions"][0]["cpv_division"] == "85" and api["divisions"][0]["spend"] == str(care)


def test_hyndburn_spellings_of_one_category_map_together(users):
    # Real Hyndburn cost centres: the 2017-2021 files in capitals ("ACCOUNTANCY", "SCAITCLIFFE HOUSE"),
    # September 2023 in title case ("Accountancy", "Scaitcliffe House"), 2024 with codes ("CAE - Waste Services").
    hyndburn = load_sample("HYN", "1701.csv", "1698840997wpdm_September-2023.csv", "April-24.csv")
    rows = {r["key"]: r for r in queries.spend_categories(None, hyndburn)}
    accountancy = rows["accountancy"]
    assert sorted(accountancy["spellings"]) == ["ACCOUNTANCY", "Accountancy"]
    assert (accountancy["suggested"], accountancy["keyword"]) == ("79", "accountancy")
    assert sorted(rows["scaitcliffe house"]["spellings"]) == ["SCAITCLIFFE HOUSE", "Scaitcliffe House"]
    assert rows["scaitcliffe house"]["suggested"] == ""  # a building's name: no suggestion, not a guess
    assert (rows["cae waste services"]["suggested"], rows["waste services"]["suggested"]) == ("90", "90")
    services.set_category_mappings(council=hyndburn, choices={"Accountancy": "79"}, actor_label="test")
    data = queries.analysis(None, hyndburn)
    mapped = [c for c in data["categories"] if c["cpv_division"] == "79"]
    assert sorted(c["category"] for c in mapped) == ["ACCOUNTANCY", "Accountancy"]
    expected = sum((r.amount for n in ("1701.csv", "1698840997wpdm_September-2023.csv")
                    for r in layouts.parse((SAMPLE / "hyndburn" / n).read_bytes()).rows
                    if r.category.lower() == "accountancy"), Decimal(0))
    assert next(d for d in data["divisions"] if d["cpv_division"] == "79")["spend"] == expected
    # The page shows the category once, with its other spelling.
    page = client_for(users, "superuser").get(f"/market/{hyndburn.slug}/categories/?show=unmapped").content.decode()
    assert "also written" in page


def test_categories_page_lists_only_unmapped_and_pages(users):
    hyndburn = load_sample("HYN", "1701.csv", "April-24.csv")
    client = client_for(users, "superuser")
    url = f"/market/{hyndburn.slug}/categories/"
    total = len(queries.spend_categories(None, hyndburn))
    assert total > 50  # real Hyndburn cost centres: more than one page
    first = client.get(url).content.decode()
    assert 'aria-label="Pagination"' in first and first.count('class="govuk-select') == 50
    second = client.get(url + "?page=2").content.decode()
    assert second.count('class="govuk-select') == total - 50
    some = queries.spend_categories(None, hyndburn)[0]
    services.set_category_mappings(council=hyndburn, choices={some["category"]: "90"}, actor_label="test")
    unmapped = client.get(url + "?show=unmapped").content.decode()
    assert f"1 of {total} categories mapped" in unmapped
    assert f'name="{forms.category_field_name(some["key"])}"' not in unmapped
