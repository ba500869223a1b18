"""Market analysis: what a new user's walk-through found. Column guesses for a layout we do not know, the file
kept between the mapping and the load, another council's file confirmed before it is loaded (page, CLI, API),
and a category paid only to individuals said plainly."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from commissioner.market import services
from commissioner.market.models import ColumnMapping, SpendFile
from commissioner.methods.market import guess_columns
from commissioner.orgs.models import AuditEvent
from conftest import shared
from helpers import client_for

HYNDBURN = shared("council_spend", "hyndburn_spend_over_250", "raw_csv", "1575631095wpdm_1910.csv")
WEIRD = ("Date,Supplier,Amount,Description\n"
         "01/04/2024,Acme Widgets Ltd,1200.50,Widgets\n"
         "02/04/2024,Beta Cleaning Ltd,300,Cleaning\n")


# 6. Column guesses (pure) and the file kept ---------------------------------------------------------

def test_guess_columns_from_header_names():
    assert guess_columns(["Date", "Supplier", "Amount", "Description"]) == {
        "date": 1, "payee": 2, "amount": 3, "description": 4}
    # the LGA spend schema (Trafford's layout), written in camel case: every field found
    lga = ["OrganisationLabel", "OrganisationURI", "EffectiveDate", "OrganisationalUnit", "BeneficiaryName",
           "BeneficiaryOtherID", "PaymentDate", "TransactionNumber", "Amount", "IrrecoverableVATAmount", "Purpose",
           "ProClassLabel", "ProClassCode", "InvoiceNumber", "ProfitCentre", "VATRegistrationNumber"]
    assert guess_columns(lga) == {"amount": 9, "date": 7, "supplier_id": 16, "payee": 5, "reference": 8,
                                  "category": 12, "department": 4, "description": 11}
    assert guess_columns(["Supplier Name", "Payment Date", "Net Amount (£)", "Expense Type"]) == {
        "payee": 1, "date": 2, "amount": 3, "category": 4}
    assert guess_columns(["Paid on", "Who", "How much"]) == {} and guess_columns([]) == {}
    # one column per field at most
    assert guess_columns(["Amount", "Amount"]) == {"amount": 1}


def _selected(body, field):
    select = re.search(rf'<select name="map_{field}".*?</select>', body, re.DOTALL).group(0)
    chosen = re.search(r'<option value="([^"]*)" selected>', select)
    return chosen and chosen.group(1)


def test_unknown_layout_preselects_guesses_and_loads_without_choosing_the_file_again(users):
    client = client_for(users, "commissioner")
    url = f"/market/{users['merton'].slug}/upload/"
    first = client.post(url, {"file": SimpleUploadedFile("weird.csv", WEIRD.encode())})
    assert first.status_code == 200
    body = first.content.decode()
    assert "We do not know the layout of weird.csv" in body and "check each one" in body
    assert [_selected(body, f) for f in ("payee", "date", "amount", "description", "category")] == [
        "2", "1", "3", "4", ""]  # "" is "Not in this file"
    kept = re.search(r'name="kept" value="([0-9a-f]{64})"', body).group(1)
    assert 'name="kept_name" value="weird.csv"' in body
    assert SpendFile.objects.count() == 0
    # the user confirms the guesses and loads: no file chosen again
    done = client.post(url, {"headers": '["Date", "Supplier", "Amount", "Description"]', "kept": kept,
                             "kept_name": "weird.csv", "map_payee": "2", "map_date": "1", "map_amount": "3",
                             "map_description": "4"})
    assert done.status_code == 302, done.content.decode()[:2000]
    f = SpendFile.objects.get(council=users["merton"])
    assert (f.name, f.row_count, str(f.total)) == ("weird.csv", 2, "1500.50")
    assert ColumnMapping.objects.get(signature="date|supplier|amount|description").mapping == {
        "payee": 2, "date": 1, "amount": 3, "description": 4}
    assert services.kept_upload(council=users["merton"], user=users["commissioner"], digest=kept) is None


def test_a_kept_file_is_only_the_users_own(users):
    merton = users["merton"]
    digest = services.keep_upload(council=merton, user=users["commissioner"], raw=WEIRD.encode())
    assert services.kept_upload(council=merton, user=users["commissioner"], digest=digest) == WEIRD.encode()
    assert services.kept_upload(council=merton, user=users["admin"], digest=digest) is None
    assert services.kept_upload(council=users["other_org"], user=users["commissioner"], digest=digest) is None
    assert services.kept_upload(council=merton, user=users["commissioner"], digest="../../etc/passwd") is None
    response = client_for(users, "admin").post(f"/market/{merton.slug}/upload/", {
        "headers": '["Date", "Supplier", "Amount", "Description"]', "kept": digest, "kept_name": "weird.csv",
        "map_payee": "2", "map_date": "1", "map_amount": "3"})
    assert response.status_code == 400 and "We no longer hold the file you chose" in response.content.decode()
    assert SpendFile.objects.count() == 0
    services.drop_kept(council=merton, user=users["commissioner"], digest=digest)


# 7. Another council's file --------------------------------------------------------------------------

def test_hyndburn_file_under_another_council_needs_confirming_on_the_page(users):
    client = client_for(users, "admin")
    url = f"/market/{users['merton'].slug}/upload/"
    raw = HYNDBURN.read_bytes()
    asked = client.post(url, {"file": SimpleUploadedFile(HYNDBURN.name, raw)})
    assert asked.status_code == 409
    body = asked.content.decode()
    assert "This may be another council&#x27;s file" in body and "Hyndburn" in body
    assert 'id="id_confirm_other_council"' in body and "There is a problem" in body
    assert f"We are holding {HYNDBURN.name}" in body
    assert SpendFile.objects.count() == 0
    kept = re.search(r'name="kept" value="([0-9a-f]{64})"', body).group(1)
    again = client.post(url, {"kept": kept, "kept_name": HYNDBURN.name, "asked": "1"})  # not ticked: asked again
    assert again.status_code == 409 and SpendFile.objects.count() == 0
    done = client.post(url, {"kept": kept, "kept_name": HYNDBURN.name, "asked": "1", "confirm_other_council": "on"})
    assert done.status_code == 302
    f = SpendFile.objects.get(council=users["merton"])
    assert f.name == HYNDBURN.name and f.layout.startswith("hyndburn") and f.row_count > 0
    assert AuditEvent.objects.filter(action="create", organisation=users["merton"]).exists()


def test_hyndburn_file_under_hyndburn_is_loaded_without_a_question(users):
    from commissioner.orgs.services import council_organisation

    result = services.import_spend(council=council_organisation("HYN"), raw=HYNDBURN.read_bytes(),
                                   name=HYNDBURN.name, actor_label="test")
    assert result.created and result.rows > 0


def test_a_file_naming_another_council_is_refused_unless_confirmed(users):
    text = ("Organisation,Date,Supplier,Amount\n"
            "Trafford Council,01/05/2024,Acme Widgets Ltd,100.00\n")
    mapping = {"payee": 3, "date": 2, "amount": 4}
    with pytest.raises(services.OtherCouncil, match="the file says it is from Trafford Council, not London Borough"):
        services.import_spend(council=users["merton"], raw=text.encode(), name="t.csv", actor=users["admin"],
                              mapping=mapping)
    assert SpendFile.objects.count() == 0
    own = text.replace("Trafford Council", "London Borough of Merton")
    assert services.import_spend(council=users["merton"], raw=own.encode(), name="m.csv", actor=users["admin"],
                                 mapping=mapping).created


def test_cli_refuses_another_councils_file_unless_forced(users):
    with pytest.raises(CommandError, match="run again with --force"):
        call_command("market", "import", str(HYNDBURN), "--council", "MRT")
    assert SpendFile.objects.count() == 0
    call_command("market", "import", str(HYNDBURN), "--council", "MRT", "--force")
    assert SpendFile.objects.get().council == users["merton"]


def test_api_answers_409_unless_confirm_other_council(users):
    client = client_for(users, "admin")
    response = client.post("/api/v1/market/files", {"council": users["merton"].slug,
                                                    "file": SimpleUploadedFile(HYNDBURN.name, HYNDBURN.read_bytes())})
    assert response.status_code == 409
    body = response.json()
    assert body["errors"][0]["code"] == "other_council" and "confirm_other_council=true" in body["detail"]
    assert SpendFile.objects.count() == 0
    response = client.post("/api/v1/market/files", {"council": users["merton"].slug, "confirm_other_council": "true",
                                                    "file": SimpleUploadedFile(HYNDBURN.name, HYNDBURN.read_bytes())})
    assert response.status_code == 201, response.content[:500]


# 8. A category paid only to individuals ------------------------------------------------------------

def test_category_paid_only_to_individuals_is_said_plainly(users):
    text = ("Date,Supplier,Amount,Expense Type\n"
            "01/04/2024,Acme Cleaning Ltd,1000.00,CLEANING\n"
            "02/04/2024,Redacted personal data,900.00,ENVIRONMENT\n"
            "03/04/2024,Mr John Smith,50.00,CLEANING\n")
    services.import_spend(council=users["merton"], raw=text.encode(), name="p.csv", actor=users["admin"],
                          mapping={"date": 1, "payee": 2, "amount": 3, "category": 4})
    client = client_for(users, "anonymous")
    body = client.get(f"/market/{users['merton'].slug}/").content.decode()
    row = re.search(r'ENVIRONMENT</a></th>(.*?)</tr>', body, re.DOTALL).group(1)
    assert "1 payment to individuals (redacted)" in row and "Not applicable: individuals only" in row
    assert ">0<" not in row and "Missing" not in row
    cleaning = re.search(r'CLEANING</a></th>(.*?)</tr>', body, re.DOTALL).group(1)
    assert "1<br>and 1 payment to individuals (redacted)" in cleaning
    rows = client.get(f"/market/{users['merton'].slug}/", {"table": "categories", "format": "json"}).json()["rows"]
    by = {r["category"]: r for r in rows}
    assert (by["ENVIRONMENT"]["suppliers"], by["ENVIRONMENT"]["individual_payments"]) == (0, 1)
    assert (by["CLEANING"]["suppliers"], by["CLEANING"]["individual_payments"]) == (1, 1)
