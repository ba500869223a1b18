"""Market analysis from council spend (issue 5, section 4): the seven real layouts (Trafford and
Hyndburn), encodings, files without headers, Excel dates, unknown layouts (mapping asked for and
remembered), bad files loading nothing, duplicated payments, redaction of individuals, matching to
the register, the analysis tables and downloads, the CLI, the API and tenancy.

Real files are read from ../shared/data/council_spend (the copies shipped in data/samples/spend are
used for the demo and the database tests).
"""

import csv
import io
import json
import re
import zipfile
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from commissioner.market import layouts, queries, services
from commissioner.market.models import ColumnMapping, Payment, SpendFile
from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import council_organisation
from commissioner.register.models import Provider, Supplier
from conftest import SAMPLES, shared
from helpers import ROLES, client_for, statuses

HYNDBURN = shared("council_spend", "hyndburn_spend_over_250")
TRAFFORD_ZIP = shared("council_spend", "trafford", "transparency_code", "supplier_spend",
                      "trafford-supplier-spend-2026-27.zip")
SAMPLE = SAMPLES / "spend"
API = "/api/v1"
PROBLEM = "application/problem+json"


def raw(name):
    return (HYNDBURN / "raw_csv" / name).read_bytes()


def file_index():
    with open(HYNDBURN / "file_index.csv", encoding="utf-8") as f:
        return {r["file"]: r for r in csv.DictReader(f)}


# ---------------------------------------------------------------- reading the real files (no database)

@pytest.mark.parametrize(("name", "layout", "rows", "encoding", "first"), [
    ("1701.csv", "hyndburn-2017", 180, "cp1252", date(2017, 1, 4)),
    ("1703.csv", "hyndburn-2017", 256, "cp1252", date(2017, 3, 1)),  # header 'Net Amount(œ)'
    ("1698840997wpdm_September-2023.csv", "hyndburn-2023", 468, "cp1252", date(2023, 8, 14)),
    ("October-2021-csv.csv", "hyndburn-2021-plus", 224, "cp1252", date(2021, 9, 17)),
    ("November-2022-csv.csv", "hyndburn-2022-recid", 14, "utf-8", date(2022, 10, 14)),
    ("April-24.csv", "hyndburn-2024", 428, "cp1252", date(2024, 4, 9)),
    ("April-25-CSV.csv", "hyndburn-2025-noheader", 404, "utf-8", date(2025, 4, 3)),
    ("1908.csv", "hyndburn-2017", 223, "cp1252", date(2019, 7, 12)),  # Excel serial dates, bare CR lines
])
def test_each_hyndburn_layout_with_real_counts(name, layout, rows, encoding, first):
    parsed = layouts.parse(raw(name))
    assert parsed.layout.code == layout
    assert parsed.encoding == encoding
    assert len(parsed.rows) == rows
    assert parsed.problems == []
    assert min(r.paid_on for r in parsed.rows) == first


def test_trafford_layout_with_real_counts():
    data = zipfile.ZipFile(TRAFFORD_ZIP).read("trafford-supplier-spend-2026-27.csv")
    parsed = layouts.parse(data)
    assert parsed.layout.code == "trafford-lga"
    assert len(parsed.rows) == 38_055  # PROVENANCE.md
    assert len({r.payee for r in parsed.rows if not r.individual}) + 1 >= 1_300
    assert sum(1 for r in parsed.rows if r.individual) >= 6_000  # "Redacted" on 6,000 rows
    assert min(r.paid_on for r in parsed.rows) == date(2026, 4, 1)
    assert max(r.paid_on for r in parsed.rows) == date(2026, 5, 29)
    first = parsed.rows[0]
    assert (first.payee, first.amount, first.supplier_id, first.category) == (
        "VLC (Stairlifts) Limited", Decimal("742.50"), "GB812311285", "FACILITIES MGT")
    assert any(r.amount < 0 for r in parsed.rows)  # credit notes and cash discounts kept, negative


def test_every_hyndburn_file_reads_with_the_profiled_counts():
    index = file_index()
    seen = Counter()
    for name, profile in index.items():
        parsed = layouts.parse(raw(name))
        seen[parsed.layout.code] += 1
        expected = int(profile["rows_with_parsed_date"]) or int(profile["nonblank_data_rows"])  # 1908: Excel dates
        assert len(parsed.rows) == expected, name
        assert parsed.encoding.replace("utf-8-sig", "utf-8-bom") == profile["encoding"], name
        assert parsed.problems == [], name
    assert seen == {"hyndburn-2017": 58, "hyndburn-2023": 9, "hyndburn-2024": 15, "hyndburn-2025-noheader": 2,
                    "hyndburn-2022-recid": 2, "hyndburn-2021-plus": 1}
    assert sum(seen.values()) == 87


def test_encodings():
    text = "Name,Payment Date,Amount\nCafé Ltd,01/04/2024,£1,200.00\n"
    assert layouts.decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == (text, "utf-8-sig")
    assert layouts.decode(text.encode("utf-8")) == (text, "utf-8")
    assert layouts.decode(text.encode("cp1252")) == (text, "cp1252")
    with pytest.raises(layouts.SpendFileError, match="neither UTF-8 nor Windows-1252"):
        layouts.decode(b"abc\x81\x8d")


@pytest.mark.parametrize(("text", "expected"), [
    ("43658", date(2019, 7, 12)), ("31/03/2025", date(2025, 3, 31)), ("05/10/21", date(2021, 10, 5)),
    ("05-Oct-21", date(2021, 10, 5)), ("17 July 2023", date(2023, 7, 17)), ("2026-05-29", date(2026, 5, 29)),
    ("4 Sept 2024", date(2024, 9, 4)),
])
def test_dates(text, expected):
    assert layouts.parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "31/02/2025", "yesterday", "2025", "99 Foo 21"])
def test_bad_dates(text):
    with pytest.raises(ValueError):
        layouts.parse_date(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("£1,234.50", Decimal("1234.50")), ("2,100.00", Decimal("2100.00")), ("540", Decimal(540)),
    ("-35.10", Decimal("-35.10")), ("(50.00)", Decimal("-50.00")), ("50.00-", Decimal("-50.00")),
])
def test_amounts(text, expected):
    assert layouts.parse_amount(text) == expected


@pytest.mark.parametrize("name", ["Redacted", "REDACTED PERSONAL DATA", "Mr J Smith", "MRS A JONES",
                                  "Private individual", "Dr Katie Pierce"])
def test_individuals(name):
    assert layouts.is_individual(name)


@pytest.mark.parametrize("name", ["Amey LG Ltd", "Dr Grange and Associates", "Mr Fix It Services Ltd",
                                  "Trafford Housing Trust", ""])
def test_not_individuals(name):
    assert not layouts.is_individual(name)


def test_unknown_layout_reports_its_headers():
    with pytest.raises(layouts.UnknownLayout) as caught:
        layouts.parse(b"Supplier,Paid on,Value\nAcme Ltd,01/04/2024,100\n")
    assert caught.value.headers == ["Supplier", "Paid on", "Value"]
    assert caught.value.has_header


# ---------------------------------------------------------------- loading (database)

UNKNOWN = ("Supplier,Paid on,Value,Service\n"
           "Acme Cleaning Ltd,01/04/2024,\"£1,000.00\",Cleaning\n"
           "Bright Windows Ltd,02/04/2024,600.00,Cleaning\n"
           "Mr John Smith,03/04/2024,250.00,Grants\n"
           "Acme Cleaning Ltd,15/04/2024,(100.00),Cleaning\n")
UNKNOWN_MAPPING = {"payee": "Supplier", "date": "Paid on", "amount": "Value", "category": "Service"}


def test_import_real_file_then_same_file_again(users):
    council = council_organisation("HYN")
    data = (SAMPLE / "hyndburn" / "April-24.csv").read_bytes()
    result = services.import_spend(council=council, raw=data, name="April-24.csv", actor_label="test")
    assert result.created and result.rows == 428
    f = result.spend_file
    assert (f.layout, f.row_count, f.months, f.is_private) == ("hyndburn-2024", 428, ["2024-04"], False)
    assert Payment.objects.filter(spend_file=f).count() == 428
    assert AuditEvent.objects.filter(model="market.SpendFile", object_pk=str(f.pk), action="create").count() == 1
    again = services.import_spend(council=council, raw=data, name="copy.csv", actor_label="test")
    assert not again.created and "already loaded" in again.message
    assert Payment.objects.filter(council=council).count() == 428


def test_repeated_payments_in_another_file_are_refused(users):
    council = council_organisation("HYN")
    data = (SAMPLE / "hyndburn" / "April-24.csv").read_bytes()
    services.import_spend(council=council, raw=data, name="April-24.csv", actor_label="test")
    overlapping = data + b"RESO - Resources,AAE - Residual Leisure,Extra,1,CRINV1,New Firm Ltd,30/04/2024,10.00\r\n"
    with pytest.raises(services.MarketInputError, match=r"428 payment\(s\) in 2024-04 \(already loaded from April-24.csv\)"):
        services.import_spend(council=council, raw=overlapping, name="April-24-again.csv", actor_label="test")
    assert SpendFile.objects.filter(council=council).count() == 1
    assert Payment.objects.filter(council=council).count() == 428


def test_files_sharing_a_month_but_not_payments_both_load(users):
    council = council_organisation("HYN")
    # Real: the September 2023 file starts on 14 August; the August file is not loaded, so no clash either way.
    for name in ("1698840997wpdm_September-2023.csv", "April-24.csv"):
        services.import_spend(council=council, raw=(SAMPLE / "hyndburn" / name).read_bytes(), name=name,
                              actor_label="test")
    extra = "Service Cost Centre,Account Detail,Description,HBC ref no,Name,Payment Date,Net Amount (£)\r\n" \
            "LEISURE,HIRE,LATE AUGUST PAYMENT,B1/1,Another Firm Ltd,31/08/2023,300.00\r\n"
    result = services.import_spend(council=council, raw=extra.encode("cp1252"), name="late.csv", actor_label="test")
    assert result.created and result.spend_file.months == ["2023-08"]


def test_bad_file_loads_nothing_and_names_every_problem(users):
    council = council_organisation("HYN")
    before = (SpendFile.objects.count(), Payment.objects.count())
    lines = (SAMPLE / "hyndburn" / "1701.csv").read_bytes().split(b"\r\n")
    lines[3] = lines[3].replace(b",", b",", 4).rsplit(b",", 2)[0] + b",32/13/2017,12.00"
    lines[5] = lines[5].rsplit(b",", 1)[0] + b",twelve pounds"
    with pytest.raises(services.MarketInputError) as caught:
        services.import_spend(council=council, raw=b"\r\n".join(lines), name="bad.csv", actor_label="test")
    problems = caught.value.problems
    assert [(p[0], p[1]) for p in problems] == [(4, "Payment date"), (6, "Net Amount(£)")]
    assert "32/13/2017" in problems[0][2] and "twelve pounds" in problems[1][2]
    assert (SpendFile.objects.count(), Payment.objects.count()) == before


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"), (b"\xff\xfe\x81\x8d\x90", "neither UTF-8"),
    ("Service Cost Centre,Account Detail,Description,HBC ref no,Name,Payment date,Net Amount(£)\r\n"
     .encode("cp1252"), "no payments"),
])
def test_unreadable_files(users, data, message):
    with pytest.raises(services.MarketInputError, match=message):
        services.import_spend(council=council_organisation("HYN"), raw=data, name="x.csv", actor_label="test")
    assert SpendFile.objects.count() == 0


def test_unknown_layout_asks_for_a_mapping_and_remembers_it(users):
    merton = users["merton"]
    with pytest.raises(services.MappingNeeded) as caught:
        services.import_spend(council=merton, raw=UNKNOWN.encode(), name="u.csv", actor=users["admin"])
    assert caught.value.headers == ["Supplier", "Paid on", "Value", "Service"]
    assert SpendFile.objects.count() == 0
    with pytest.raises(services.MarketInputError, match="no column headed 'Amount'"):
        services.import_spend(council=merton, raw=UNKNOWN.encode(), name="u.csv", actor=users["admin"],
                              mapping={**UNKNOWN_MAPPING, "amount": "Amount"})
    result = services.import_spend(council=merton, raw=UNKNOWN.encode(), name="u.csv", actor=users["admin"],
                                   mapping=UNKNOWN_MAPPING)
    assert result.rows == 4 and result.spend_file.layout == "mapped"
    assert ColumnMapping.objects.get(signature="supplier|paid on|value|service").mapping == UNKNOWN_MAPPING
    # The next file with the same header needs no mapping.
    may = UNKNOWN.replace("/04/2024", "/05/2024").encode("cp1252")
    assert services.import_spend(council=merton, raw=may, name="may.csv", actor=users["admin"]).rows == 4


def test_redaction_never_stores_an_individuals_name(users):
    merton = users["merton"]
    services.import_spend(council=merton, raw=UNKNOWN.encode(), name="u.csv", actor=users["admin"],
                          mapping=UNKNOWN_MAPPING)
    person = Payment.objects.get(council=merton, amount=Decimal("250.00"))
    assert (person.payee, person.individual, person.provider_id) == ("Redacted personal data", True, None)
    assert not Payment.objects.filter(payee__icontains="smith").exists()
    client = client_for(users, "viewer")
    page = client.get(f"/market/{merton.slug}/").content.decode()
    assert "Smith" not in page and "Individuals (redacted)" in page
    rows = csv_rows_of(client.get(f"/market/{merton.slug}/?table=suppliers&format=csv"))
    assert all("Smith" not in c and "Redacted" not in c for r in rows for c in r)


def csv_rows_of(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_payees_matched_by_identifier_then_name(users):
    with_number = Provider.objects.filter(is_private=False).exclude(companies_house="").first()
    by_name = Provider.objects.filter(is_private=False, companies_house="").exclude(name_key="").first()
    assert with_number is not None and by_name is not None
    text = ("Supplier,Paid on,Value,Company\n"
            f"Trading name unlike the register,01/06/2024,100.00,{with_number.companies_house}\n"
            f"{by_name.name.upper()} LIMITED,02/06/2024,50.00,\n"
            "Nobody In The Register Ltd,03/06/2024,25.00,\n")
    mapping = {"payee": "Supplier", "date": "Paid on", "amount": "Value", "supplier_id": "Company"}
    result = services.import_spend(council=users["merton"], raw=text.encode(), name="m.csv", actor=users["admin"],
                                   mapping=mapping)
    assert result.matched_by == {"identifier": 1, "name": 1}
    got = {p.amount: (p.provider_id, p.match) for p in Payment.objects.filter(spend_file=result.spend_file)}
    assert got == {Decimal("100.00"): (with_number.pk, "identifier"), Decimal("50.00"): (by_name.pk, "name"),
                   Decimal("25.00"): (None, "")}


CONCENTRATION = ("Supplier,Paid on,Value,Service\n"
                 "Alpha Care Ltd,01/04/2024,500.00,Care\n"
                 "Beta Care Ltd,01/04/2024,300.00,Care\n"
                 "Gamma Care Ltd,01/04/2024,250.00,Care\n"
                 "Gamma Care Ltd,20/04/2024,-50.00,Care\n"
                 "Delta Roads Ltd,01/04/2024,900.00,Roads\n"
                 "Alpha Care Ltd,01/05/2025,100.00,Care\n"
                 "Epsilon Care CIC,02/05/2025,100.00,Care\n")


def test_analysis_worked_by_hand(users):
    merton = users["merton"]
    services.import_spend(council=merton, raw=CONCENTRATION.encode(), name="c.csv", actor=users["admin"],
                          mapping=UNKNOWN_MAPPING)
    care = queries.analysis(None, merton, "Care")
    # Care: Alpha 600, Beta 300, Gamma 200 (250 less a 50 credit note), Epsilon 100: £1,200.
    assert care["total"] == Decimal("1200.00")
    # Shares .5, .25, .1667, .0833: HHI 2500 + 625 + 277.8 + 69.4 = 3472.2; top 5 is everything.
    assert care["concentration"]["hhi"] == pytest.approx(3472.22, abs=0.01)
    assert care["concentration"]["top5_share"] == pytest.approx(1.0)
    assert care["concentration"]["band"] == "high"
    assert [s["supplier"] for s in care["suppliers"]] == ["Alpha Care Ltd", "Beta Care Ltd", "Gamma Care Ltd",
                                                          "Epsilon Care CIC"]
    # New entrants: 2024-25 is the first year (missing); in 2025-26 Epsilon is new (Alpha is not).
    assert care["entrants"] == [
        {"financial_year": "2024-25", "suppliers_paid": 3, "new_entrants": None, "spend_with_new_entrants": None},
        {"financial_year": "2025-26", "suppliers_paid": 2, "new_entrants": 1,
         "spend_with_new_entrants": Decimal("100.00")}]
    everything = queries.analysis(None, merton)
    cats = {c["category"]: c for c in everything["categories"]}
    assert cats["Roads"]["hhi"] == pytest.approx(10000) and cats["Roads"]["suppliers"] == 1
    assert cats["Care"]["hhi"] == pytest.approx(3472.22, abs=0.01)
    # No matched providers: every pound is of unknown type; no local rule for Merton: missing.
    assert [(t["supplier_type"], t["spend"]) for t in everything["types"]] == [
        ("Unknown (not matched or type not known)", Decimal("2100.00"))]
    assert everything["local"] == [] and everything["local_rule"] is None


def test_page_and_every_download(users):
    merton = users["merton"]
    services.import_spend(council=merton, raw=CONCENTRATION.encode(), name="c.csv", actor=users["admin"],
                          mapping=UNKNOWN_MAPPING)
    client = client_for(users, "anonymous")
    page = client.get(f"/market/{merton.slug}/?category=Care")
    assert page.status_code == 200
    body = page.content.decode()
    assert "3,472" in body and "100.0%" in body and "Missing (first year)" in body
    for table in queries.TABLES:
        rows = csv_rows_of(client.get(f"/market/{merton.slug}/?category=Care&table={table}&format=csv"))
        assert rows[0] == [*queries.TABLES[table], "synthetic"]
    cats = csv_rows_of(client.get(f"/market/{merton.slug}/?table=categories&format=csv"))
    assert cats[1][:3] == ["Care", "1200.00", "6"] and float(cats[1][5]) == pytest.approx(3472.2222, abs=1e-3)
    data = client.get(f"/market/{merton.slug}/?table=types&format=json").json()
    assert data["rows"] == [{"supplier_type": "Unknown (not matched or type not known)", "spend": "2100.00",
                             "share": 1.0, "payments": 7}]
    assert client.get(f"/market/{merton.slug}/?category=Nope").status_code == 404
    assert client.get(f"/market/{merton.slug}/?table=nope&format=csv").status_code == 404
    assert client.get(f"/market/{merton.slug}/?table=types&format=xml").status_code == 404
    index = client.get("/market/")
    assert merton.name in index.content.decode()
    assert csv_rows_of(client.get("/market/?format=csv"))[1][:2] == [merton.name, merton.slug]


def test_local_share_for_trafford(users):
    trafford = council_organisation("TRF")
    supplier = next(s for s in Supplier.objects.select_related("provider").order_by("pk")
                    if queries.supplier_postcode(s.address) and not s.provider.is_private)
    provider, code = supplier.provider, queries.supplier_postcode(supplier.address)
    text = ("Supplier,Paid on,Value,Company\n"
            f"{provider.name},01/06/2024,100.00,\nUnmatched Ltd,02/06/2024,50.00,\n")
    services.import_spend(council=trafford, raw=text.encode(), name="l.csv", actor_label="test",
                          mapping={"payee": "Supplier", "date": "Paid on", "amount": "Value"})
    local = {r["where"]: r for r in queries.analysis(None, trafford)["local"]}
    assert local["Postcode not known"]["spend"] == Decimal("50.00")
    is_local = re.match(r"[A-Z]+", code).group(0) in ("M", "WA", "SK", "WN", "BL", "OL")
    key = "Local (same or neighbouring area)" if is_local else "Not local"
    assert local[key]["spend"] == Decimal("100.00") and local[key]["share_of_known"] == pytest.approx(1.0)


# ---------------------------------------------------------------- tenancy, uploads, CLI and API

@pytest.fixture
def private_file(users):
    return services.import_spend(council=users["merton"], raw=CONCENTRATION.encode(), name="private.csv",
                                 actor=users["admin"], mapping=UNKNOWN_MAPPING, is_private=True).spend_file


def test_private_spend_is_seen_only_by_its_council(users, private_file):
    expected = statuses(404, 200, 200, 200, 404, 200)
    for role in ROLES:
        client = client_for(users, role)
        assert client.get(f"/market/{users['merton'].slug}/").status_code == expected[role], role
        listed = [c["slug"] for c in client.get(f"{API}/market/councils").json()]
        assert (users["merton"].slug in listed) == (expected[role] == 200), role
        api = client.get(f"{API}/market/councils/{users['merton'].slug}")
        assert api.status_code == expected[role], role
        if api.status_code == 200:
            assert api.json()["total"] == "2100.00" and api.json()["files"][0]["name"] == "private.csv"
        csv_download = client.get(f"/market/{users['merton'].slug}/?table=suppliers&format=csv")
        assert csv_download.status_code == expected[role], role


def test_upload_page_matrix_and_refusal_audited(users):
    slug = users["merton"].slug
    expected = statuses(302, 200, 200, 403, 403, 200)
    for role in ROLES:
        assert client_for(users, role).get(f"/market/{slug}/upload/").status_code == expected[role], role
    assert AuditEvent.objects.filter(action="refused", actor=users["viewer"]).exists()
    with pytest.raises(services.Refused):
        services.import_spend(council=users["merton"], raw=UNKNOWN.encode(), name="u.csv", actor=users["other"],
                              mapping=UNKNOWN_MAPPING)
    assert SpendFile.objects.count() == 0


def test_web_upload_with_mapping(users):
    client = client_for(users, "commissioner")
    url = f"/market/{users['merton'].slug}/upload/"
    response = client.post(url, {"file": SimpleUploadedFile("u.csv", UNKNOWN.encode())})
    assert response.status_code == 200 and "There is a problem" not in response.content.decode()
    body = response.content.decode()
    assert "We do not know the layout of u.csv" in body and "Column 2: Paid on" in body
    headers = json.dumps(["Supplier", "Paid on", "Value", "Service"])
    missing = client.post(url, {"file": SimpleUploadedFile("u.csv", UNKNOWN.encode()), "headers": headers,
                                "map_payee": "1", "map_date": "2"})
    assert missing.status_code == 400 and "Choose the column that holds the amount in pounds" in missing.content.decode()
    done = client.post(url, {"file": SimpleUploadedFile("u.csv", UNKNOWN.encode()), "headers": headers,
                             "map_payee": "1", "map_date": "2", "map_amount": "3", "map_category": "4"})
    assert done.status_code == 302
    assert SpendFile.objects.get(council=users["merton"]).row_count == 4
    assert ColumnMapping.objects.get(signature="supplier|paid on|value|service").mapping == {
        "payee": 1, "date": 2, "amount": 3, "category": 4}


def test_web_upload_bad_file_lists_problems(users):
    client = client_for(users, "admin")
    bad = UNKNOWN.replace("600.00", "six hundred")
    ColumnMapping.objects.create(signature="supplier|paid on|value|service", mapping=UNKNOWN_MAPPING)
    response = client.post(f"/market/{users['merton'].slug}/upload/",
                           {"file": SimpleUploadedFile("bad.csv", bad.encode())})
    body = response.content.decode()
    assert response.status_code == 400 and "There is a problem" in body and "six hundred" in body
    assert SpendFile.objects.count() == 0


def test_cli_import_and_unknown_layout(users, tmp_path, capsys):
    out = io.StringIO()
    call_command("market", "import", str(SAMPLE / "hyndburn" / "1908.csv"), "--council", "HYN", stdout=out)
    assert "Loaded 223 payments" in out.getvalue()
    f = SpendFile.objects.get(name="1908.csv")
    assert (f.first_date, f.encoding) == (date(2019, 7, 12), "cp1252")
    unknown = tmp_path / "u.csv"
    unknown.write_bytes(UNKNOWN.encode())
    with pytest.raises(SystemExit) as caught:
        call_command("market", "import", str(unknown), "--council", users["merton"].slug)
    assert caught.value.code == 2
    assert "2: Paid on" in capsys.readouterr().err
    call_command("market", "import", str(unknown), "--council", users["merton"].slug,
                 "--mapping", json.dumps(UNKNOWN_MAPPING), stdout=io.StringIO())
    assert SpendFile.objects.filter(council=users["merton"]).count() == 1
    with pytest.raises(CommandError, match="--council"):
        call_command("market", "import", str(unknown), "--council", "nowhere")
    with pytest.raises(CommandError, match="--mapping: not valid JSON"):
        call_command("market", "import", str(unknown), "--council", "HYN", "--mapping", "{")


def test_api(users):
    services.demo()
    client = client_for(users, "anonymous")
    councils = {c["slug"]: c for c in client.get(f"{API}/market/councils").json()}
    hyndburn = council_organisation("HYN")
    assert councils[hyndburn.slug]["payments"] == sum(
        len(layouts.parse(p.read_bytes()).rows) for p in (SAMPLE / "hyndburn").glob("*.csv"))
    data = client.get(f"{API}/market/councils/{hyndburn.slug}").json()
    assert data["council"] == hyndburn.slug and data["synthetic"] is False
    assert data["files"] and data["categories"] and data["concentration"] in ("unconcentrated", "moderate", "high")
    for path in (f"{API}/market/councils/nowhere", f"{API}/market/councils/{hyndburn.slug}?category=Nope"):
        response = client.get(path)
        assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    assert [x["code"] for x in client.get(f"{API}/market/layouts").json()] == [x.code for x in layouts.LAYOUTS]
    # The demo step is safe to run twice.
    assert services.demo() == 0


# ---------------------------------------------------------------- 360Giving grants (Trafford)

GRANTS = SAMPLE / "trafford" / "trafford_council_voluntary_sector_grants.csv"


def test_grants_file_reads_with_real_counts():
    from commissioner.market import grants

    assert GRANTS.read_bytes() == shared("council_spend", "trafford", "transparency_code", "grants",
                                         GRANTS.name).read_bytes()
    rows, problems = grants.parse(GRANTS.read_bytes())
    assert problems == [] and len(rows) == 555  # PROVENANCE.md
    assert sum(r.amount for r in rows) == Decimal("1291436.54")
    assert sum(1 for r in rows if r.charity_number) == 154 and sum(1 for r in rows if r.company_number) == 189
    assert Counter(r.programme for r in rows) == {"Voluntary Sector Grants": 544, "Inclusive Neighbourhood Grants": 11}
    assert (min(r.award_date for r in rows), max(r.award_date for r in rows)) == (date(2013, 1, 18), date(2024, 6, 19))


def test_grants_load_once_and_show(users):
    trafford = council_organisation("TRF")
    assert services.import_grants(council=trafford, raw=GRANTS.read_bytes(), name=GRANTS.name,
                                  actor_label="test") == (555, 0)
    assert services.import_grants(council=trafford, raw=GRANTS.read_bytes(), name=GRANTS.name,
                                  actor_label="test") == (0, 555)
    years, recipients = queries.grants(None, trafford)
    assert sum(y["grants"] for y in years) == 555
    assert sum(y["amount"] for y in years) == Decimal("1291436.54")
    assert years[0]["financial_year"] == "2012-13"  # 18 January 2013
    assert recipients[0]["rank"] == 1 and recipients[0]["amount"] >= recipients[1]["amount"]
    services.import_spend(council=trafford, raw=(SAMPLE / "trafford" / "trafford-supplier-spend-2026-27-first-1000.csv")
                          .read_bytes(), name="t.csv", actor_label="test")
    client = client_for(users, "anonymous")
    body = client.get(f"/market/{trafford.slug}/").content.decode()
    assert "Grants to voluntary and community organisations (360Giving)" in body
    rows = csv_rows_of(client.get(f"/market/{trafford.slug}/?table=grant_years&format=csv"))
    assert rows[0][:3] == ["financial_year", "grants", "amount"]
    assert sum(int(r[1]) for r in rows[1:]) == 555


def test_bad_grants_file_loads_nothing(users):
    text = GRANTS.read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace(",2013-", ",2013-13-", 1)
    with pytest.raises(services.MarketInputError) as caught:
        services.import_grants(council=council_organisation("TRF"), raw="\n".join(text).encode(), name="bad.csv",
                               actor_label="test")
    assert [(p[0], p[1]) for p in caught.value.problems] == [(4, "Award Date")]
    with pytest.raises(services.MarketInputError, match="not a 360Giving file"):
        services.import_grants(council=council_organisation("TRF"), raw=UNKNOWN.encode(), name="x.csv",
                               actor_label="test")
    with pytest.raises(services.Refused):
        services.import_grants(council=users["merton"], raw=GRANTS.read_bytes(), name="g.csv", actor=users["viewer"])
    from commissioner.market.models import Grant

    assert Grant.objects.count() == 0


def test_remove_a_file_then_load_corrected_months(users):
    merton = users["merton"]
    first = services.import_spend(council=merton, raw=CONCENTRATION.encode(), name="c.csv", actor=users["admin"],
                                  mapping=UNKNOWN_MAPPING).spend_file
    with pytest.raises(services.Refused):
        services.delete_spend_file(spend_file=first, actor=users["viewer"])
    services.delete_spend_file(spend_file=first, actor=users["commissioner"])
    assert not Payment.objects.filter(council=merton).exists()
    assert AuditEvent.objects.filter(model="market.SpendFile", action="delete", actor=users["commissioner"]).exists()
    corrected = CONCENTRATION.replace("300.00", "310.00")
    again = services.import_spend(council=merton, raw=corrected.encode(), name="c2.csv", actor=users["admin"])
    assert again.created and again.spend_file.total == Decimal("2110.00")
