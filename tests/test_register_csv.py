"""Council contract registers (Transparency Code CSV) imported through the OCDS pipeline.

The fixtures in tests/data are registers we wrote (see tests/data/README.md): no public council
register is in shared/data.
"""

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.core.management.base import CommandError

from commissioner.ocds.models import ImportRun, Release
from commissioner.ocds.services import compiled_releases
from commissioner.orgs.models import AuditEvent
from commissioner.register import importers
from commissioner.register import services as register_services
from commissioner.register.importers import (
    decode,
    field_for_header,
    import_register_csv,
    parse_amount,
    parse_charity_number,
    parse_company_number,
    parse_flag,
    parse_sme_vcse,
    parse_uk_date,
    sniff_delimiter,
)
from commissioner.register.models import Contract, ContractSupplier, Supplier

DATA = Path(__file__).resolve().parent / "data"
MERTON_CSV = DATA / "register_merton_cp1252.csv"
KINGSTON_CSV = DATA / "register_kingston_bom_semicolon.csv"
BAD_CSV = DATA / "register_bad_rows.csv"
MERTON = "London Borough of Merton"
KINGSTON = "Royal Borough of Kingston upon Thames"


def register_contracts():
    return Contract.objects.filter(source="register")


def links(contract):
    return sorted((link.supplier.key, link.supplier.name, link.supplier.scale, link.supplier.is_vcse, link.value)
                  for link in contract.contract_suppliers.select_related("supplier"))


# -- cells ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("01/04/2024", date(2024, 4, 1)), ("1/4/24", date(2024, 4, 1)), ("31/3/99", date(1999, 3, 31)),
    ("1 April 2024", date(2024, 4, 1)), ("1st April 2024", date(2024, 4, 1)), ("01-Apr-2024", date(2024, 4, 1)),
    ("1 Sept 24", date(2024, 9, 1)), ("April 1, 2024", date(2024, 4, 1)), ("2024-04-01", date(2024, 4, 1)),
    ("2024-04-01 00:00:00", date(2024, 4, 1)), ("01/04/2024 09:30", date(2024, 4, 1)),
    ("01.04.2024", date(2024, 4, 1)), ("45383", date(2024, 4, 1)), ("45383.0", date(2024, 4, 1)),
    ("", None), (" N/A ", None), ("TBC", None), ("-", None),
])
def test_uk_dates(raw, expected):
    assert parse_uk_date(raw) == expected


@pytest.mark.parametrize(("raw", "message"), [
    ("31/02/2024", "'31/02/2024' is not a date (use dd/mm/yyyy)"),
    ("04/30/2024", "'04/30/2024' is not a date"),  # American order is not accepted
    ("Spring 2025", "'Spring 2025' is not a date"),
    ("1234", "'1234' is not a date"),
    ("01/01/1850", "'01/01/1850' has an implausible year 1850"),
])
def test_bad_dates(raw, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_uk_date(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("£1,234.56", "1234.56"), ("1 234 567", "1234567.00"), ("£ 318,000", "318000.00"), ("£612k", "612000.00"),
    ("£2.4m", "2400000.00"), ("2.4M", "2400000.00"), ("£1.5bn", "1500000000.00"), ("7.5k", "7500.00"),
    ("12000.456", "12000.46"), ("Up to £50,000", "50000.00"), ("approx. £9,999", "9999.00"),
    ("GBP 100", "100.00"), ("0", "0.00"), ("", None), ("n/a", None), ("Various", None),
])
def test_amounts(raw, expected):
    assert parse_amount(raw, max_amount=10**12) == (None if expected is None else Decimal(expected))


@pytest.mark.parametrize(("raw", "message"), [
    ("-£1200", "is negative"), ("(1,000)", "is negative"), ("about ten grand", "is not an amount"),
    ("£5,000,000,000,000", "is absurd (more than £1,000,000,000,000)"), ("1234,56", "uses a decimal comma"),
    ("£50,000 per annum", "is a rate, not the contract's total value"), ("£1.2.3", "is not an amount"),
    ("1e20", "is not an amount"), ("NaN", "is not an amount"),
])
def test_bad_amounts(raw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_amount(raw, max_amount=10**12)


def test_flags_and_identifiers():
    assert [parse_flag(v, "sme") for v in ("Yes", "Y", "true", "1", "SME", "No", "n", "FALSE", "0", "")] == [
        True, True, True, True, True, False, False, False, False, None]
    with pytest.raises(ValueError, match="'Perhaps' is not yes or no"):
        parse_flag("Perhaps", "sme")
    assert [parse_sme_vcse(v) for v in ("SME", "VCSE", "Both", "SME and VCSE", "Yes", "No", "Large", "")] == [
        ("sme", None), ("", True), ("sme", True), ("sme", True), ("sme", None), ("large", False),
        ("large", False), ("", None)]
    with pytest.raises(ValueError, match="is not SME, VCSE, both, yes or no"):
        parse_sme_vcse("Medium")
    assert [parse_company_number(v) for v in ("4417392", "04417392", "SC412233", "sc 12345", "IP29871R",
                                              "OC317931", "1234567.0", "")] == [
        "04417392", "04417392", "SC412233", "SC012345", "IP29871R", "OC317931", "01234567", ""]
    for bad in ("123456789", "ABCDEFGH", "Acme Ltd"):
        with pytest.raises(ValueError, match="is not a Companies House number"):
            parse_company_number(bad)
    assert parse_charity_number("1098765") == ("GB-CHC", "1098765")
    assert parse_charity_number("1098765-1") == ("GB-CHC", "1098765-1")
    assert parse_charity_number("SC012345") == ("GB-SC", "SC012345")
    assert parse_charity_number("NIC100001") == ("GB-NIC", "100001")
    with pytest.raises(ValueError, match="is not a charity number"):
        parse_charity_number("12")


@pytest.mark.parametrize(("header", "field"), [
    ("Contract Reference", "reference"), ("Reference Number", "reference"), (" contract  REF no. ", "reference"),
    ("Supplier Name", "supplier"), ("Contractor", "supplier"), ("Name of Provider", "supplier"),
    ("Value", "value"), ("Total Value", "value"), ("Estimated Value (£)", "value"),
    ("Contract Value (£) ex VAT", "value"), ("Annual Value", None),
    ("Start Date", "start"), ("Contract Start", "start"), ("Commencement Date", "start"),
    ("Expiry Date", "end"), ("Contract End Date", "end"), ("Date of Review", "review"),
    ("Company Registration Number", "companies_house"), ("Company Reg No.", "companies_house"),
    ("Charity Registration Number", "charity"), ("Registered Charity No", "charity"),
    ("SME", "sme"), ("VCSE", "vcse"), ("SME/VCSE", "sme_vcse"), ("SME or VCSE?", "sme_vcse"),
    ("Is the supplier an SME? (Y/N)", "sme"), ("Procurement Route", "route"), ("Route to Market", "route"),
    ("Contract Title", "title"), ("Name of Contract", "title"), ("\ufeffTitle", "title"),
    ("Description of goods and/or services", "description"), ("CPV Code", "cpv"), ("Officer", None),
])
def test_header_variants(header, field):
    assert field_for_header(header) == field


def test_encodings_and_delimiters():
    assert decode("£1,000 – café".encode("cp1252")) == ("£1,000 – café", "cp1252")
    assert decode(b"\xef\xbb\xbf\xc2\xa31") == ("£1", "utf-8-sig")
    assert decode("£1".encode()) == ("£1", "utf-8")
    assert decode(b"\x81\xa3") == ("\x81£", "latin-1")  # 0x81 is undefined in cp1252
    assert sniff_delimiter("Ref;Title;Value\nA;B;£1,000\n") == ";"
    assert sniff_delimiter('Ref,Title,Value\nA,B,"£1,000"\n') == ","
    assert sniff_delimiter("Ref\tTitle\tValue\n") == "\t"


# -- files ---------------------------------------------------------------------------------------------

def test_cp1252_register(db):
    s = import_register_csv([MERTON_CSV], buyer=MERTON)
    assert (s.read, s.valid, s.rejected, s.processes) == (6, 6, [], 6)
    assert (s.ocds.releases_new, s.ocds.contracts_created) == (6, 6)
    got = {c.reference: c for c in register_contracts()}
    assert sorted(got) == ["MRT-ASC-0142", "MRT-ASC-0143", "MRT-CSF-0077", "MRT-ENV-0031", "MRT-FAC-0012",
                           "MRT-ICT-0210"]
    home = got["MRT-ASC-0142"]
    assert home.ocid == "ocds-register-merton-MRT-ASC-0142"
    assert home.title == "Home care – north locality"
    assert home.description == "Domiciliary care for adults in Mitcham, Pollards Hill and Figges Marsh"
    assert (home.value, home.award_value, home.currency) == (Decimal("4850000.00"), Decimal("4850000.00"), "GBP")
    assert (home.start_date, home.end_date, home.review_date) == (date(2023, 4, 1), date(2027, 3, 31),
                                                                   date(2025, 10, 1))
    assert (home.status, home.procurement_method, home.procurement_method_details) == (
        "contract", "open", "Open tender")
    assert (home.source, home.is_private, home.buyer.la_code, home.owner.la_code) == ("register", False, "MRT", "MRT")
    assert home.buyer_name == MERTON and home.release_count == 1
    assert links(home) == [("GB-COH-04417392", "Wandle Home Care Ltd", "sme", None, Decimal("4850000.00"))]
    carers = got["MRT-ASC-0143"]
    assert carers.title == "Carers’ support service"
    assert (carers.value, carers.start_date, carers.end_date, carers.review_date) == (
        Decimal("612000.00"), date(2024, 4, 1), date(2027, 3, 31), date(2026, 10, 1))
    assert carers.procurement_method == "selective"
    assert links(carers) == [("GB-CHC-1098765", "Merton Carers Together", "", True, Decimal("612000.00"))]
    assert carers.contract_suppliers.get().supplier.provider.supplier_type == "vcse"
    sweepers = got["MRT-ENV-0031"]
    assert (sweepers.value, sweepers.start_date, sweepers.review_date) == (
        Decimal("2400000.00"), date(2024, 5, 15), None)
    assert sweepers.procurement_method == ""  # "Framework call-off (ESPO 217)": no OCDS method says it
    assert links(sweepers) == [("GB-COH-SC412233", "Kerbside Fleet Solutions Ltd", "large", False,
                                Decimal("2400000.00"))]
    assert links(got["MRT-CSF-0077"])[0][:4] == ("GB-COH-IP29871R", "Colliers Wood Housing Association", "sme", True)
    assert got["MRT-ICT-0210"].value == Decimal("318000.00") and got["MRT-ICT-0210"].description == ""
    assert got["MRT-FAC-0012"].procurement_method == "limited"
    assert links(got["MRT-FAC-0012"])[0][:2] == ("GB-COH-11223344", "Sparkle & Shine (Morden) Ltd")
    # The synthetic release: OCDS shaped, tagged, with the council as buyer.
    rel = Release.objects.get(ocid=home.ocid)
    assert rel.tags == ["contract"] and rel.release_id.startswith("register-")
    assert rel.data["buyer"] == {"id": "GB-LAE-MRT", "name": MERTON}
    supplier = next(p for p in rel.data["parties"] if "supplier" in p["roles"])
    assert supplier["identifier"] == {"scheme": "GB-COH", "id": "04417392"}
    assert supplier["details"] == {"scale": "sme", "vcse": None}
    assert rel.data["contracts"][0]["period"] == {"startDate": "2023-04-01T00:00:00Z",
                                                   "endDate": "2027-03-31T23:59:59Z"}
    run = ImportRun.objects.filter(kind="register").first()
    assert run.counts["valid"] == 6 and run.errors == []


def test_bom_semicolon_register_with_title_rows_and_a_shared_reference(db):
    s = import_register_csv([KINGSTON_CSV], buyer=KINGSTON)
    assert (s.read, s.valid, s.rejected, s.processes) == (5, 5, [], 4)
    assert f"{KINGSTON_CSV}: rows 1 to 2 are above the header and were skipped" in s.notes
    assert any("same reference, imported as one contracting process with 2 awards" in n for n in s.notes)
    got = {c.reference: c for c in register_contracts()}
    assert sorted(got) == ["KNG/2024/019", "KNG/2024/020", "KNG/2025/003", "KNG/2025/004"]
    day = got["KNG/2024/019"]
    assert day.ocid == "ocds-register-kingston-upon-thames-KNG-2024-019"
    assert (day.start_date, day.end_date, day.review_date) == (date(2024, 4, 1), date(2025, 3, 31),
                                                              date(2024, 10, 1))  # Excel serial dates
    assert day.value == Decimal("1250000.00") and day.buyer.name == KINGSTON
    assert links(day) == [("GB-COH-12345678", "Riverside Day Services CIC", "sme", True, Decimal("1250000.00"))]
    highways = got["KNG/2024/020"]
    assert highways.value == Decimal("5700000.00")
    assert links(highways) == [
        ("GB-COH-06543210", "Thames Road Surfacing Ltd", "large", False, Decimal("3600000.00")),
        ("GB-COH-07654321", "Surbiton Civils Limited", "sme", False, Decimal("2100000.00"))]
    assert links(got["KNG/2025/003"]) == [("GB-CHC-1187654", "Kingston Community Pantry", "large", True,
                                           Decimal("45000.00"))]
    assert got["KNG/2025/004"].start_date == date(2025, 4, 1) and got["KNG/2025/004"].value == Decimal("96000.00")


def test_bad_rows_are_reported_and_the_good_ones_kept(db):
    s = import_register_csv([BAD_CSV], buyer=MERTON)
    name = str(BAD_CSV)
    assert s.rejected == [
        (name, "row 2", "Contract Name", "the title is empty"),
        (name, "row 3", "Start", "'31/02/2024' is not a date (use dd/mm/yyyy)"),
        (name, "row 4", "Contract Value", "'about ten grand' is not an amount"),
        (name, "row 5", "End", "the end date 31/03/2024 is before the start date 01/04/2025"),
        (name, "row 6", "Contract Value", "'£5,000,000,000,000' is absurd (more than £1,000,000,000,000)"),
        (name, "row 7", "Contract Value", "'-£1200' is negative"),
        (name, "row 8", "SME", "'Perhaps' is not yes or no"),
    ]
    assert (s.read, s.valid) == (9, 2)
    assert f"{name}: row 11 is a total line and was skipped" in s.notes
    assert sorted(register_contracts().values_list("reference", "value")) == [
        ("GOOD-001", Decimal("36000.00")), ("GOOD-002", Decimal("7500.00"))]
    # Nothing of a bad row was written: no release, no contract, no supplier.
    assert not Release.objects.filter(ocid__contains="-BAD-").exists()
    assert not Supplier.objects.filter(name__in=["Nameless Services Ltd", "Rat Busters Ltd",
                                                 "Infinite Holdings Ltd", "Dinner Ladies Ltd"]).exists()
    lines = list(s.lines())
    assert lines[0] == "read 9 rows from 1 file: 2 valid, 7 rejected; 2 contracting processes"
    assert f"rejected: {name}, row 5, column 'End': the end date 31/03/2024 is before the start date 01/04/2025" in lines


def test_every_problem_of_a_row_is_reported(db, tmp_path):
    path = tmp_path / "two_problems.csv"
    path.write_text("Title,Start Date,End Date,Value\nGritting,32/01/2024,01/01/2025,lots\n")
    s = import_register_csv([path], buyer=MERTON)
    assert [(p, c, r) for _, p, c, r in s.rejected] == [
        ("row 2", "Start Date", "'32/01/2024' is not a date (use dd/mm/yyyy)"),
        ("row 2", "Value", "'lots' is not an amount")]
    assert s.valid == 0 and not register_contracts().exists()


def test_reimport_changes_nothing(db):
    import_register_csv([MERTON_CSV, KINGSTON_CSV], buyer=MERTON)
    before = (Release.objects.count(), Contract.objects.count(), ContractSupplier.objects.count(),
              Supplier.objects.count(), AuditEvent.objects.count())
    snapshot = list(register_contracts().order_by("ocid").values())
    later = importers.timezone.now().replace(year=2031)
    s = import_register_csv([MERTON_CSV, KINGSTON_CSV], buyer=MERTON, now=later)
    assert (s.ocds.releases_new, s.ocds.releases_updated, s.ocds.releases_unchanged) == (0, 0, 10)
    assert (s.ocds.contracts_created, s.ocds.contracts_updated) == (0, 0)
    after = (Release.objects.count(), Contract.objects.count(), ContractSupplier.objects.count(),
             Supplier.objects.count(), AuditEvent.objects.count())
    assert after == before
    assert list(register_contracts().order_by("ocid").values()) == snapshot


def edited(tmp_path, name, source, *replacements, encoding="cp1252"):
    text = source.read_bytes().decode(encoding)
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_changed_row_updates_the_contract_with_history(db, tmp_path):
    t0 = importers.timezone.now().replace(year=2030, month=1, day=1)
    import_register_csv([MERTON_CSV], buyer=MERTON, now=t0)
    contract = Contract.objects.get(ocid="ocds-register-merton-MRT-ASC-0142")
    newer = edited(tmp_path, "merton_q2.csv", MERTON_CSV,
                   ('"£4,850,000.00"', '"£5,100,000.00"'), ("31/03/2027,01/10/2025", "31/03/2028,"))
    s = import_register_csv([newer], buyer=MERTON, now=t0.replace(month=4))
    assert (s.ocds.releases_new, s.ocds.releases_unchanged, s.ocds.contracts_updated) == (1, 5, 1)
    contract.refresh_from_db()
    assert (contract.value, contract.end_date, contract.review_date) == (Decimal("5100000.00"), date(2028, 3, 31),
                                                                         None)  # a cleared cell clears the field
    assert contract.release_count == 2
    assert links(contract) == [("GB-COH-04417392", "Wandle Home Care Ltd", "sme", None, Decimal("5100000.00"))]
    latest = Release.objects.filter(ocid=contract.ocid).order_by("-date").first()
    assert latest.date.month == 4
    award = Release.objects.get(ocid=contract.ocid, date__month=1).data["awards"][0]["id"]
    changes = {path: (old, new) for path, old, new in latest.changes}
    assert changes[f"contracts/{award}/value/amount"] == (4850000, 5100000)
    assert changes[f"contracts/{award}/period/endDate"] == ("2027-03-31T23:59:59Z", "2028-03-31T23:59:59Z")
    assert changes[f"contracts/{award}/x_reviewDate"] == ("2025-10-01", None)
    event = AuditEvent.objects.filter(model="register.Contract", object_pk=str(contract.pk), action="updated").get()
    assert (event.before["value"], event.after["value"]) == ("4850000.00", "5100000.00")
    # The register goes back to what it said first: that wins again, as a new release.
    s = import_register_csv([MERTON_CSV], buyer=MERTON, now=t0.replace(month=7))
    assert (s.ocds.releases_new, s.ocds.contracts_updated) == (1, 1)
    contract.refresh_from_db()
    assert (contract.value, contract.review_date, contract.release_count) == (
        Decimal("4850000.00"), date(2025, 10, 1), 3)


def test_a_supplier_taken_out_of_a_shared_reference(db, tmp_path):
    import_register_csv([KINGSTON_CSV], buyer=KINGSTON)
    fewer = edited(tmp_path, "kingston_q2.csv", KINGSTON_CSV,
                   (("KNG/2024/020;Highways minor works framework – Lot 1;Surbiton Civils Limited;7654321;;Yes;No;"
                    "2024-07-01;2028-06-30;2026-07-01;£2,100,000;Restricted\r\n"), ""), encoding="utf-8-sig")
    later = importers.timezone.now().replace(year=2031)
    s = import_register_csv([fewer], buyer=KINGSTON, now=later)
    assert (s.read, s.ocds.releases_new, s.ocds.contracts_updated) == (4, 1, 1)
    highways = Contract.objects.get(ocid="ocds-register-kingston-upon-thames-KNG-2024-020")
    assert highways.value == Decimal("3600000.00")
    assert [key for key, *_ in links(highways)] == ["GB-COH-06543210"]
    statuses = sorted(a["status"] for a in compiled_releases([highways.ocid])[highways.ocid]["awards"])
    assert statuses == ["active", "cancelled"]


def test_private_register_is_seen_by_its_council_only(db, users):
    s = import_register_csv([MERTON_CSV], buyer=MERTON, private=True)
    assert s.ocds.contracts_created == 6
    assert set(register_contracts().values_list("is_private", "owner__la_code")) == {(True, "MRT")}
    assert not Contract.objects.visible_to(AnonymousUser()).filter(source="register").exists()
    assert Contract.objects.visible_to(users["viewer"]).filter(source="register").count() == 6
    assert not Contract.objects.visible_to(users["other"]).filter(source="register").exists()
    assert Contract.objects.visible_to(users["superuser"]).filter(source="register").count() == 6


def test_buyer_by_slug_or_by_a_short_name(db):
    import_register_csv([BAD_CSV], buyer="merton")
    assert set(register_contracts().values_list("owner__la_code", flat=True)) == {"MRT"}


def test_the_command(db, tmp_path):
    out = io.StringIO()
    call_command("commissioner_import", "register", str(BAD_CSV), "--buyer", MERTON, "--quiet", stdout=out)
    text = out.getvalue().splitlines()
    assert text[0] == "read 9 rows from 1 file: 2 valid, 7 rejected; 2 contracting processes"
    assert text[1].startswith("releases: 2 new, 0 updated, 0 unchanged; contracts: 2 created, 0 updated")
    assert sum(line.startswith("rejected: ") for line in text) == 7
    call_command("commissioner_import", "register", str(MERTON_CSV), "--buyer", MERTON, "--private", "--quiet",
                 stdout=io.StringIO())
    assert register_contracts().filter(is_private=True).count() == 6
    with pytest.raises(CommandError, match="need --buyer"):
        call_command("commissioner_import", "register", str(MERTON_CSV), "--quiet", stdout=io.StringIO())
    no_title = tmp_path / "no_title.csv"
    no_title.write_text("Supplier,Value\nAcme Ltd,£100\n")
    out = io.StringIO()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("commissioner_import", "register", str(no_title), "--buyer", MERTON, "--quiet", stdout=out)
    assert (f"rejected: {no_title}, row 1: no header row with a title or description column (looked in the "
            "first 10 rows; first row: 'Supplier', 'Value')") in out.getvalue()


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty file"),
    (b'{"releases": []}', "this is JSON, not CSV: import it with 'commissioner import ocds'"),
])
def test_files_that_are_not_registers(db, tmp_path, content, reason):
    path = tmp_path / "register.csv"
    path.write_bytes(content)
    s = import_register_csv([path], buyer=MERTON)
    assert (s.read, s.rejected) == (0, [(str(path), "file", "", reason)])


def test_description_stands_in_for_a_missing_title_column(db, tmp_path):
    path = tmp_path / "no_title_column.csv"
    path.write_text("Ref,Description,Supplier,Value\nX-1,Grit bins,Salt Co Ltd,£900\n")
    s = import_register_csv([path], buyer=MERTON)
    assert f"{path}: no title column; the description is used as the title" in s.notes
    c = register_contracts().get()
    assert (c.title, c.description, c.value) == ("Grit bins", "", Decimal("900.00"))


def test_a_failed_chunk_writes_nothing(db, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(register_services, "apply_contracts", fail)
    with pytest.raises(RuntimeError, match="database went away"):
        import_register_csv([MERTON_CSV], buyer=MERTON)
    assert not Release.objects.filter(ocid__startswith="ocds-register-").exists()
    assert not register_contracts().exists()


def test_public_register_rows_are_in_the_ocds_export(db):
    import_register_csv([MERTON_CSV], buyer=MERTON)
    out = io.BytesIO()
    from commissioner.ocds.services import export_release_package

    export_release_package(Contract.objects.visible_to(AnonymousUser()), out)
    assert b"ocds-register-merton-MRT-ASC-0142" in out.getvalue()


def test_a_private_register_does_not_show_in_public_provider_totals(db):
    from commissioner.register.models import Provider

    import_register_csv([MERTON_CSV], buyer=MERTON, private=True)
    public = Provider.objects.visible_to(AnonymousUser())
    assert not public.filter(name="Wandle Home Care Ltd", total_value__gt=0).exists()
