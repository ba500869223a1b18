"""Provider pages on the real Contracts Finder sample: list, filters, CSV, detail, tenancy."""


import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from commissioner.register import queries
from commissioner.register.models import Provider, Supplier
from helpers import ROLES, client_for, csv_rows, statuses

pytestmark = pytest.mark.django_db






# Six supplier identities in the notices for one provider, merged by normalised name 'axis europe'.
# (Which spelling names the provider depends on import order, so tests find it by identity key.)
AXIS_KEYS = ["GB-CFS-302805", "GB-CFS-312098", "GB-CFS-312109", "GB-CFS-312112", "GB-CFS-312113",
             "GB-CFS-312117"]
AXIS_SPELLINGS = {"Axis Europe Limited", "Axis Europe PLC", "Axis Europe Plc", "Axis Europe plc"}


def provider_of(key):
    return Supplier.objects.get(key=key).provider


@pytest.fixture
def axis(db):
    return provider_of("GB-CFS-312098")


def test_list_counts_every_public_provider(client):
    response = client.get("/providers/")
    assert response.status_code == 200
    assert response.context["count"] == 233 == Provider.objects.filter(is_private=False).count()
    html = response.content.decode()
    assert "233 providers" in html
    assert '<a class="govuk-link" href="/providers.csv" download>Download these 233 providers as CSV</a>' in html
    # 25 a page: 233 providers make 10 pages, the last with 8.
    assert len(response.context["page_obj"].object_list) == 25
    last = client.get("/providers/?page=10")
    assert len(last.context["page_obj"].object_list) == 8
    assert 'aria-current="page">10<' in last.content.decode()


def test_search_finds_a_provider_by_any_spelling_and_by_company_number(client, axis):
    # Every spelling in the notices finds the one provider.
    for spelling in AXIS_SPELLINGS:
        response = client.get("/providers/", {"q": spelling})
        assert [p.pk for p in response.context["page_obj"]] == [axis.pk]
    by_number = client.get("/providers/", {"q": "04142000"})
    assert [p.name for p in by_number.context["page_obj"]] == ["24x7"]


def test_filters_and_sorts(client):
    vcse = client.get("/providers/", {"supplier_type": "vcse"})
    assert vcse.context["count"] == 7
    assert all(p.supplier_type == "vcse" for p in vcse.context["page_obj"])
    merton = client.get("/providers/", {"buyer": "merton"})
    assert {p.name for p in merton.context["page_obj"]} == {
        "DDS Demolition", "Marstons holdings plc", "Commonplace Digital Ltd."}
    by_name = client.get("/providers/", {"sort": "name"})
    names = [p.name for p in by_name.context["page_obj"]]
    assert names[:2] == ["24x7", "A&E Elkins T/A Elkins Construction"]
    most = client.get("/providers/", {"sort": "-contracts"}).context["page_obj"][0]
    assert most.contract_count == max(Provider.objects.values_list("contract_count", flat=True))
    by_value = client.get("/providers/").context["page_obj"]
    values = [p.total_value for p in by_value]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize("params, field, label", [
    ({"supplier_type": "giant"}, "supplier_type", "Supplier type"),
    ({"sort": "colour"}, "sort", "Sort by"),
    ({"buyer": "no-such-buyer"}, "buyer", "Buyer"),
])
def test_a_bad_filter_is_a_400_with_an_error_summary_naming_the_field(client, params, field, label):
    response = client.get("/providers/", params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "govuk-error-summary" in html and "There is a problem" in html
    assert f'<a href="#{field}">{label}:' in html
    assert f'id="{field}-error"' in html
    assert "<title>Error: Providers" in html
    assert client.get("/providers.csv", params).status_code == 400


def test_csv_holds_exactly_the_filtered_rows(client):
    params = {"supplier_type": "sme", "sort": "name", "q": "ltd"}
    rows = csv_rows(client.get("/providers.csv", params))
    assert rows[0] == queries.PROVIDER_CSV_COLUMNS
    expected = queries.providers(AnonymousUser(), queries.ProviderFilters.from_params(params))
    assert [int(r[0]) for r in rows[1:]] == list(expected.values_list("pk", flat=True))
    page = client.get("/providers/", params)
    assert len(rows) - 1 == page.context["count"] > 0
    assert all(r[2] == "sme" for r in rows[1:])
    rows = csv_rows(client.get("/providers.csv", {"q": "axis europe"}))
    assert len(rows) == 2 and rows[1][1] in AXIS_SPELLINGS
    assert sorted(rows[1][9].split("; ")) == AXIS_KEYS


def test_provider_page_shows_contracts_and_every_name_merged_into_it(client, axis):
    response = client.get(f"/providers/{axis.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<h1 class="govuk-heading-l">{axis.name}' in html and axis.name in AXIS_SPELLINGS
    # Six spellings in the notices, brought together by normalised name: the first seen is "new".
    identities = response.context["identities"]
    assert sorted(s.key for s in identities) == AXIS_KEYS
    assert {s.name for s in identities} == AXIS_SPELLINGS
    assert sorted(s.match for s in identities) == ["name"] * 5 + ["new"]
    assert "Same normalised name" in html and "Normalised name &#x27;axis europe&#x27;" in html
    # Two contracts with two buyers, each counted once: 175,000,000 + 263,321.17.
    assert response.context["totals"]["count"] == 2
    assert "£175,263,321" in html
    assert "Repairs and Planned Works Framework" in html and "Places for People Group Limited" in html
    assert "Latimer Road Internal and External Refurbishment" in html and "Peabody Trust" in html
    # Anonymous users see no merge or split controls.
    assert "Split out" not in html and 'id="merge-other"' not in html


def test_companies_house_number_links_to_companies_house(client):
    provider = Provider.objects.get(companies_house="04142000")
    html = client.get(f"/providers/{provider.pk}/").content.decode()
    assert ('href="https://find-and-update.company-information.service.gov.uk/company/04142000"' in html)
    assert "GB-COH-4142000" in html


def test_admins_see_split_and_merge_controls(users, axis):
    html = client_for(users, "admin").get(f"/providers/{axis.pk}/").content.decode()
    assert html.count("Split out") == 6
    assert 'id="merge-other"' in html
    assert "anyone with the admin role in any organisation" in html


def test_private_provider_is_listed_only_for_its_council(users, private_contract):
    private = private_contract.contract_suppliers.get().supplier.provider
    assert private.is_private and private.name == "Merton Reablement Team"
    for role in ROLES:
        client = client_for(users, role)
        listed = client.get("/providers/", {"q": "reablement"}).context["page_obj"]
        in_csv = [r[1] for r in csv_rows(client.get("/providers.csv", {"q": "reablement"}))[1:]]
        expected = ["Merton Reablement Team"] if role in ("admin", "commissioner", "viewer", "superuser") else []
        assert [p.name for p in listed] == expected == in_csv, role


def test_private_provider_page_shows_the_private_contract_to_its_council(users, private_contract):
    private = private_contract.contract_suppliers.get().supplier.provider
    html = client_for(users, "viewer").get(f"/providers/{private.pk}/").content.decode()
    assert "In-house reablement service" in html and "£1,250,000" in html and "Private" in html


# Every provider page x role: the expected status code.
MATRIX = {
    "list": statuses(*[200] * 6),
    "csv": statuses(*[200] * 6),
    "detail": statuses(*[200] * 6),
    "private detail": statuses(404, 200, 200, 200, 404, 200),
    "merge": statuses(302, 200, 403, 403, 200, 200),
    "merge confirm": statuses(302, 200, 403, 403, 200, 200),
    "split": statuses(302, 200, 403, 403, 200, 200),
    "private merge": statuses(302, 200, 403, 403, 404, 200),
}


@pytest.mark.parametrize("page", MATRIX)
def test_tenancy_matrix(users, private_contract, axis, page):
    private = private_contract.contract_suppliers.get().supplier.provider
    wsp = provider_of("GB-CFS-259619")  # WSP UK Ltd / WSP UK Limited
    url = {
        "list": "/providers/", "csv": "/providers.csv", "detail": f"/providers/{axis.pk}/",
        "private detail": f"/providers/{private.pk}/", "merge": f"/providers/{axis.pk}/merge/",
        "merge confirm": f"/providers/{axis.pk}/merge/?other={wsp.pk}",
        "split": f"/providers/{axis.pk}/names/{axis.suppliers.first().pk}/split/",
        "private merge": f"/providers/{private.pk}/merge/",
    }[page]
    got = {role: client_for(users, role).get(url).status_code for role in ROLES}
    assert got == MATRIX[page]
    if MATRIX[page]["anonymous"] == 302:
        assert Client().get(url)["Location"].startswith("/sign-in/?next=")


def test_merge_and_split_posts_without_csrf_token_are_refused(users, axis):
    wsp = provider_of("GB-CFS-259619")  # WSP UK Ltd / WSP UK Limited
    client = client_for(users, "superuser", enforce_csrf_checks=True)
    supplier = axis.suppliers.first()
    assert client.post(f"/providers/{axis.pk}/merge/", {"other": wsp.pk}).status_code == 403
    assert client.post(f"/providers/{axis.pk}/names/{supplier.pk}/split/").status_code == 403
    assert Provider.objects.filter(pk=wsp.pk).exists()
    assert Supplier.objects.get(pk=supplier.pk).provider_id == axis.pk


def test_the_pages_are_server_rendered_govuk_without_inline_scripts_or_styles(client, axis):
    for url in ("/providers/", f"/providers/{axis.pk}/", "/providers/?supplier_type=bad"):
        html = client.get(url).content.decode()
        assert "style=" not in html
        assert html.count("<script") == 2  # the two static files in base.html
        assert 'scope="col"' in html or "govuk-error-summary" in html
        assert html.count('id="main-content"') == 1
