"""The REST API (/api/v1/) on the real Contracts Finder sample: values, filters, pagination, errors, spec, docs."""

import csv
import io
import json
import re

import pytest
import schemathesis
from django.core.cache import cache
from django.db.models import Count
from django.test import Client, RequestFactory
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from commissioner import api as api_module
from commissioner.api import api
from commissioner.ocds.models import Release
from commissioner.ocds.services import compile_history
from commissioner.register import queries
from commissioner.register.models import Contract, Provider

API = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def client(db):
    return Client()


def ok(response):
    assert response.status_code == 200, response.content[:500]
    return response.json()


def problem(response, status):
    """Assert an RFC 9457 problem document with ``status``; return it."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    assert "Traceback" not in body["detail"]
    return body


def invalid(response, name, where="query"):
    """A 422 problem naming the parameter ``name``."""
    body = problem(response, 422)
    assert body["type"] == "urn:commissioner:problem:invalid-parameters"
    assert {"name": name, "in": where} in [{"name": e["name"], "in": e["in"]} for e in body["errors"]], body
    assert name in body["detail"]
    return body


def csv_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def all_pages(client, url):
    """Every result of a list endpoint, following the next links."""
    results, seen_pages = [], 0
    while url:
        page = ok(client.get(url))
        results += page["results"]
        url = page["next"]
        seen_pages += 1
        assert seen_pages <= page["pages"]
    return results


# Lists, filters and pagination ------------------------------------------------------------------


def test_contract_list_counts_the_whole_sample(client):
    page = ok(client.get(f"{API}/contracts"))
    assert page["count"] == 190
    assert (page["page"], page["page_size"], page["pages"]) == (1, 25, 8)
    assert len(page["results"]) == 25
    assert page["previous"] is None
    assert page["next"] == "http://testserver/api/v1/contracts?page=2"
    first = page["results"][0]
    assert {"ocid", "url", "title", "buyer", "status", "value", "suppliers", "is_private"} <= first.keys()
    assert first["url"] == f"http://testserver/api/v1/contracts/{first['ocid']}"


def test_pagination_links_keep_the_filters_and_cover_every_result(client):
    page1 = ok(client.get(f"{API}/contracts?status=awarded&page_size=50"))
    assert page1["next"] == "http://testserver/api/v1/contracts?status=awarded&page_size=50&page=2"
    page2 = ok(client.get(page1["next"]))
    assert page2["previous"] == "http://testserver/api/v1/contracts?status=awarded&page_size=50&page=1"
    last = ok(client.get(f"{API}/contracts?status=awarded&page_size=50&page={page1['pages']}"))
    assert last["next"] is None and last["previous"]
    ocids = [c["ocid"] for c in all_pages(client, f"{API}/contracts?status=awarded&page_size=50")]
    assert len(ocids) == len(set(ocids)) == page1["count"]
    assert set(ocids) == set(queries.contracts(None, queries.ContractFilters(status="awarded"))
                             .values_list("ocid", flat=True))


def test_full_list_in_pages_of_the_maximum_size(client, settings):
    page = ok(client.get(f"{API}/contracts?page_size={settings.API_MAX_PAGE_SIZE}"))
    assert page["count"] == len(page["results"]) == 190 and page["pages"] == 1 and page["next"] is None


@pytest.mark.parametrize("url", [
    "/contracts?page_size=200", "/providers?page_size=200", "/organisations?page_size=200",
    "/organisations/merton/dashboard",
])
def test_lists_take_a_fixed_number_of_queries(client, django_assert_max_num_queries, url):
    with django_assert_max_num_queries(8):
        ok(client.get(API + url))


def test_detail_takes_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    provider = Provider.objects.order_by("-contract_count", "id")[0]
    with django_assert_max_num_queries(8):
        ok(client.get(f"{API}/providers/{provider.pk}"))
    with django_assert_max_num_queries(6):
        ok(client.get(f"{API}/contracts/{provider.suppliers.first().contracts.first().ocid}"))


def test_search_parking_finds_three(client):
    page = ok(client.get(f"{API}/contracts?q=parking"))
    assert page["count"] == 3
    ocids = [c["ocid"] for c in page["results"]]
    assert all("parking" in t for t in Contract.objects.filter(ocid__in=ocids).values_list("search_text", flat=True))
    rows = csv_rows(client.get(f"{API}/contracts.csv?q=parking"))
    assert rows[0] == queries.CONTRACT_CSV_COLUMNS
    assert sorted(r[0] for r in rows[1:]) == sorted(c["ocid"] for c in page["results"])


@pytest.mark.parametrize("params", [
    {"buyer": "merton"}, {"status": "awarded", "sort": "value"}, {"category": "85"},
    {"value_min": "100000", "value_max": "£1,000,000"}, {"supplier_type": "sme"}, {"method": "open"},
    {"start_from": "2025-01-01", "end_to": "2027-12-31"}, {"q": "care services", "sort": "-end"},
    {"sort": "title"},
])
def test_contract_filters_match_the_shared_queries(client, params):
    """Same parameter names and meaning as the pages: the API returns queries.contracts, in order."""
    expected = list(queries.contracts(None, queries.ContractFilters.from_params(params))
                    .values_list("ocid", flat=True))
    query = "&".join(f"{k}={v}" for k, v in params.items())
    got = [c["ocid"] for c in all_pages(client, f"{API}/contracts?{query}&page_size=100")]
    assert got == expected
    rows = csv_rows(client.get(f"{API}/contracts.csv?{query}"))
    assert [r[0] for r in rows[1:]] == expected


def test_blank_parameters_count_as_absent(client):
    """An HTML form sends every field, empty or not."""
    page = ok(client.get(f"{API}/contracts?q=&status=&provider=&value_min=&page="))
    assert page["count"] == 190


@pytest.mark.parametrize("injection", [
    "' OR 1=1 --", "\"; DROP TABLE register_contract; --", "%' OR '1'='1", "1; SELECT * FROM auth_user",
    "parking' UNION SELECT password FROM auth_user --", "\\'; --", "%%", "_",
])
def test_sql_injection_like_search_is_just_text(client, injection):
    response = client.get(f"{API}/contracts", {"q": injection})
    page = ok(response)
    assert page["count"] == queries.contracts(None, queries.ContractFilters(q=injection)).count()
    ok(client.get(f"{API}/providers", {"q": injection}))
    ok(client.get(f"{API}/organisations", {"q": injection}))
    assert Contract.objects.count() == 190


def test_provider_list_and_csv(client):
    page = ok(client.get(f"{API}/providers?page_size=500"))
    assert page["count"] == 233 == len(page["results"])
    assert page["results"][0]["total_value"] >= page["results"][-1]["total_value"]  # default -value
    rows = csv_rows(client.get(f"{API}/providers.csv"))
    assert rows[0] == queries.PROVIDER_CSV_COLUMNS and len(rows) == 234
    assert [int(r[0]) for r in rows[1:]] == [p["id"] for p in page["results"]]


def test_provider_detail_has_identities_and_contracts(client):
    provider = Provider.objects.annotate(n=Count("suppliers")).order_by("-n", "id")[0]
    assert provider.n > 1, "the sample has providers known under several identities"
    listed = ok(client.get(f"{API}/providers", {"q": provider.name}))["results"]
    detail = ok(client.get(next(p for p in listed if p["id"] == provider.pk)["url"]))
    assert detail["name"] == provider.name
    assert sorted(i["key"] for i in detail["identities"]) == sorted(provider.suppliers.values_list("key", flat=True))
    for identity in detail["identities"]:
        assert {"key", "name", "match", "match_detail"} <= identity.keys()
    assert {i["match"] for i in detail["identities"]} <= {"new", "identifier", "name", "manual"}
    assert len(detail["contracts"]) == detail["contract_count"] == provider.contract_count > 0
    via_filter = ok(client.get(detail["contracts_url"]))
    assert sorted(c["ocid"] for c in via_filter["results"]) == sorted(c["ocid"] for c in detail["contracts"])
    for contract in detail["contracts"]:
        assert detail["id"] in [s["provider_id"] for s in contract["suppliers"]]


def test_organisations_list_detail_and_csv(client):
    page = ok(client.get(f"{API}/organisations?kind=council&page_size=100"))
    assert page["count"] == 51
    assert all(o["kind"] == "council" for o in page["results"])
    merton = ok(client.get(f"{API}/organisations/merton"))
    assert (merton["name"], merton["gss_code"], merton["contract_count"]) == ("London Borough of Merton",
                                                                                "E09000024", 3)
    assert merton["total_value"] == 230507
    assert ok(client.get(merton["contracts_url"]))["count"] == 3
    rows = csv_rows(client.get(f"{API}/organisations.csv?kind=council"))
    assert rows[0] == queries.ORG_CSV_COLUMNS and len(rows) == 52
    assert sorted(r[0] for r in rows[1:]) == sorted(o["slug"] for o in page["results"])


def test_merton_dashboard(client):
    board = ok(client.get(f"{API}/organisations/merton/dashboard"))
    assert board["organisation"]["slug"] == "merton"
    assert board["count"] == 3 and board["value"] == 230507
    assert sum(row["count"] for row in board["by_category"]) == 3
    assert sum(row["share"] for row in board["by_supplier_type"]) == pytest.approx(100)
    assert [e["months"] for e in board["ending"]] == [6, 12, 18]
    earlier = ok(client.get(f"{API}/organisations/merton/dashboard?as_at=2025-01-01"))
    assert earlier["as_at"] == "2025-01-01" and earlier["ending"][0]["until"] > "2025-06-01"
    assert earlier["count"] == 3


# One contract -----------------------------------------------------------------------------------


def test_contract_detail_has_every_field(client):
    c = Contract.objects.exclude(documents=[]).filter(award_value__isnull=False, tender_value__isnull=False,
                                                      contract_suppliers__isnull=False).order_by("ocid")[0]
    detail = ok(client.get(f"{API}/contracts/{c.ocid}"))
    assert detail["ocid"] == c.ocid and detail["title"] == c.title
    assert detail["tender_value"] == float(c.tender_value) and detail["award_value"] == float(c.award_value)
    assert detail["documents"] == c.documents and detail["compiled"] is None
    assert detail["release_count"] == c.release_count
    assert detail["buyer"]["slug"] == c.buyer.slug
    supplier = detail["suppliers"][0]
    link = c.contract_suppliers.select_related("supplier__provider").first()
    assert supplier["provider_id"] == link.supplier.provider_id
    for key in ("key", "scale", "is_vcse", "identifiers", "supplier_type", "companies_house", "award_id"):
        assert key in supplier
    compiled = ok(client.get(f"{API}/contracts/{c.ocid}?include=compiled"))["compiled"]
    held = list(Release.objects.filter(ocid=c.ocid).values_list("data", flat=True))
    assert compiled["ocid"] == c.ocid and compiled == compile_history(held)[0]
    invalid(client.get(f"{API}/contracts/{c.ocid}?include=everything"), "include")


def test_history_of_a_contract_with_two_releases(client):
    c = Contract.objects.filter(release_count=2).order_by("ocid")[0]
    history = ok(client.get(f"{API}/contracts/{c.ocid}/history"))
    assert history["ocid"] == c.ocid and history["release_count"] == 2
    first, second = history["releases"]
    assert first["date"] <= second["date"]
    assert first["changes"] == []
    assert second["changes"], "the second release changed something"
    assert {"path", "before", "after"} == second["changes"][0].keys()
    stored = Release.objects.filter(ocid=c.ocid).order_by("date", "id")
    assert [r["release_id"] for r in history["releases"]] == [r.release_id for r in stored]
    assert second["tags"] == stored[1].tags


def test_release_package(client):
    c = Contract.objects.filter(release_count=2).order_by("ocid")[0]
    response = client.get(f"{API}/releases/{c.ocid}")
    package = ok(response)
    assert package["version"] == "1.1" and package["publisher"]["name"]
    assert len(package["releases"]) == 2
    assert {r["ocid"] for r in package["releases"]} == {c.ocid}
    assert [r["id"] for r in package["releases"]] == list(
        Release.objects.filter(ocid=c.ocid).order_by("date", "id").values_list("release_id", flat=True))


def test_ocid_with_slash_reaches_the_view(client):
    body = problem(client.get(f"{API}/contracts/ocds-abc/with/slash"), 404)
    assert "ocds-abc/with/slash" in body["detail"]
    body = problem(client.get(f"{API}/contracts/ocds-abc/with/slash/history"), 404)
    assert "ocds-abc/with/slash'" in body["detail"]
    problem(client.get(f"{API}/releases/ocds-abc/with/slash"), 404)


def test_head_is_answered_like_get(client):
    response = client.head(f"{API}/contracts")
    assert response.status_code == 200


# Errors as problem details ----------------------------------------------------------------------


def test_page_size_over_the_maximum(client, settings):
    body = invalid(client.get(f"{API}/contracts?page_size={settings.API_MAX_PAGE_SIZE + 1}"), "page_size")
    assert body["instance"] == f"/api/v1/contracts?page_size={settings.API_MAX_PAGE_SIZE + 1}"
    assert [e["code"] for e in body["errors"]] == ["less_than_equal"]


@pytest.mark.parametrize("url, name", [
    ("/contracts?page=0", "page"), ("/contracts?page=-1", "page"), ("/contracts?page=abc", "page"),
    ("/contracts?page=1.5", "page"), ("/contracts?page=" + "9" * 40, "page"), ("/contracts?page=99", "page"),
    ("/contracts?page_size=0", "page_size"), ("/contracts?page_size=-5", "page_size"),
    ("/contracts?page_size=lots", "page_size"),
    ("/contracts?start_from=2025-13-01", "start_from"), ("/contracts?start_to=yesterday", "start_to"),
    ("/contracts?end_from=01/02/2025", "end_from"), ("/contracts?end_to=2025-02-30", "end_to"),
    ("/contracts?value_min=abc", "value_min"), ("/contracts?value_max=NaN", "value_max"),
    ("/contracts?value_min=1e400", "value_min"), ("/contracts?status=nope", "status"),
    ("/contracts?supplier_type=giant", "supplier_type"), ("/contracts?sort=price", "sort"),
    ("/contracts?category=ab", "category"), ("/contracts?provider=abc", "provider"),
    ("/contracts?provider=" + "9" * 30, "provider"), ("/contracts?q=a%00b", "q"),
    ("/contracts.csv?status=nope", "status"), ("/contracts.csv?value_min=x", "value_min"),
    ("/providers?sort=bogus", "sort"), ("/providers?supplier_type=x", "supplier_type"),
    ("/providers?page=77", "page"), ("/providers.csv?sort=x", "sort"),
    ("/organisations?kind=empire", "kind"), ("/organisations?sort=x", "sort"),
    ("/organisations.csv?kind=x", "kind"),
    ("/organisations/merton/dashboard?as_at=notadate", "as_at"),
    ("/organisations/merton/dashboard?as_at=9999-12-31", "as_at"),
])
def test_bad_values_name_the_parameter(client, url, name):
    invalid(client.get(API + url), name)


@pytest.mark.parametrize("url, where", [
    ("/providers/abc", "path"), ("/providers/0", "path"), ("/providers/" + "9" * 30, "path"),
    ("/contracts/a%00b", "path"),
])
def test_bad_path_values_name_the_parameter(client, url, where):
    body = problem(client.get(API + url), 422)
    assert body["errors"][0]["in"] == where


@pytest.mark.parametrize("url", [
    "/contracts/ocds-b5fd17-00000000-0000-0000-0000-000000000000",
    "/contracts/ocds-b5fd17-00000000-0000-0000-0000-000000000000/history",
    "/releases/ocds-b5fd17-00000000-0000-0000-0000-000000000000",
    "/providers/987654321", "/organisations/atlantis", "/organisations/atlantis/dashboard",
    "/nothing-here", "/contracts/", "/docs/assets/evil.js",
])
def test_not_found(client, url):
    body = problem(client.get(API + url), 404)
    assert body["type"] == "about:blank" and body["title"] == "Not Found"
    assert body["instance"] == API + url


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_method_not_allowed(client, method):
    response = getattr(client, method)(f"{API}/contracts")
    body = problem(response, 405)
    assert response["Allow"] == "GET, HEAD"
    assert method.upper() in body["detail"]


def test_unauthenticated_and_signed_in_me(client, users):
    response = client.get(f"{API}/me")
    problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Cookie")
    client.force_login(users["commissioner"])
    me = ok(client.get(f"{API}/me"))
    assert me["username"] == "merton-commissioner" and not me["is_superuser"]
    assert me["memberships"] == [{"organisation": {"slug": "merton", "name": "London Borough of Merton",
                                                   "gss_code": "E09000024"}, "role": "commissioner"}]


def test_unsafe_methods_need_the_csrf_token(users):
    """Ninja views skip Django's CSRF middleware; the API's session auth applies it to unsafe methods."""
    from ninja.errors import HttpError

    request = RequestFactory().post(f"{API}/contracts")
    request.user = users["admin"]
    request._dont_enforce_csrf_checks = False
    with pytest.raises(HttpError) as raised:
        api.auth[0](request)
    problem(api.on_exception(request, raised.value), 403)
    safe = RequestFactory().get(f"{API}/contracts")
    safe.user = users["admin"]
    assert api.auth[0](safe) == users["admin"]


def test_permission_denied_is_a_problem(rf):
    from django.core.exceptions import PermissionDenied

    body = problem(api.on_exception(rf.get(f"{API}/contracts"), PermissionDenied("Not for you.")), 403)
    assert body["detail"] == "Not for you."


def test_too_many_requests(client, settings):
    settings.API_THROTTLE_RATE = "3/m"
    cache.clear()
    try:
        for _ in range(3):
            ok(client.get(f"{API}/contracts?page_size=1"))
        response = client.get(f"{API}/contracts?page_size=1")
        problem(response, 429)
        assert int(response["Retry-After"]) > 0
    finally:
        cache.clear()


def test_malformed_request_is_400(client, settings):
    query = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    problem(client.get(f"{API}/contracts?{query}"), 400)


def test_server_error_is_a_problem_without_internals(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    logged = []
    monkeypatch.setattr(queries, "contracts", broken)
    monkeypatch.setattr(api_module.request_logger, "error", lambda *a, **kw: logged.append(kw["exc_info"]))
    body = problem(client.get(f"{API}/contracts"), 500)
    assert "hunter2" not in json.dumps(body)
    assert "hunter2" in str(logged[0])  # logged for the operators, with the traceback


# The OpenAPI document and the docs page ---------------------------------------------------------

ENDPOINTS = [
    "/contracts", "/contracts.csv", "/contracts/{ocid}", "/contracts/{ocid}/history", "/providers",
    "/providers.csv", "/providers/{provider_id}", "/organisations", "/organisations.csv",
    "/organisations/{slug}", "/organisations/{slug}/dashboard", "/releases/{ocid}", "/me",
    "/performance/contracts/{ocid}", "/performance/contracts/{ocid}/returns",
    "/performance/returns/{return_id}/correction", "/performance/councils/{slug}/compliance",
    "/performance/councils/{slug}/forward-plan",
    "/risk/contracts/{ocid}/accounts", "/risk/contracts/{ocid}/assessments",
    "/market/layouts", "/market/councils", "/market/councils/{slug}",
    "/appraisals", "/appraisals/{appraisal_id}", "/appraisals/{appraisal_id}/options",
    "/appraisals/{appraisal_id}/options/{option_id}/flows", "/appraisals/{appraisal_id}/weights",
    "/appraisals/{appraisal_id}/options/{option_id}", "/appraisals/{appraisal_id}/evidence",
    "/appraisals/{appraisal_id}/prefill",
    "/market/files", "/market/files/{file_id}",
    "/socialvalue/councils/{slug}/models", "/socialvalue/models/{model_id}", "/socialvalue/councils/{slug}/proxies",
    "/socialvalue/contracts/{ocid}/commitments", "/socialvalue/commitments/{commitment_id}",
    "/socialvalue/commitments/{commitment_id}/deliveries", "/socialvalue/councils/{slug}/proxies/open",
    "/socialvalue/deliveries/{delivery_id}", "/socialvalue/models/{model_id}/outcomes", "/socialvalue/open-proxies",
    "/socialvalue/outcomes/{outcome_id}", "/socialvalue/proxies/{proxy_id}",
    "/participation/exercises", "/participation/exercises/{exercise_id}",
    "/participation/exercises/{exercise_id}/results", "/participation/exercises/{exercise_id}/ballots",
    "/participation/exercises/{exercise_id}/receipts/{receipt}", "/participation/councils/{slug}/priorities",
    "/feedback/stories", "/feedback/stories/{story_id}", "/feedback/stories/{story_id}/reports",
    "/feedback/stories/{story_id}/replies", "/feedback/moderation", "/feedback/stories/{story_id}/moderation",
    "/benchmarking/measures", "/benchmarking/measures/{code}", "/benchmarking/councils/{slug}",
    "/benchmarking/councils/{slug}/neighbours", "/benchmarking/councils/{slug}/peer-groups",
    "/benchmarking/code-mappings", "/benchmarking/providers/{provider_id}", "/benchmarking/categories/{division}",
    "/benchmarking/local-measures", "/benchmarking/local-measures/{code}",
    *(f"/benchmarking/local-measures/{{code}}/{a}" for a in ("comparison", "update", "publish", "retire", "adopt",
                                                             "move", "withdraw", "values")),
]


def test_openapi_document(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {API + e for e in ENDPOINTS}
    assert spec["components"]["securitySchemes"]["SessionAuth"] == {
        "type": "apiKey", "in": "cookie", "name": "sessionid"}
    for path, item in spec["paths"].items():
        for operation in item.values():
            assert "500" in operation["responses"] and "429" in operation["responses"]
            assert operation["responses"]["500"]["content"] == {
                PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            if operation["parameters"]:
                assert "422" in operation["responses"], path
    assert spec["paths"][f"{API}/me"]["get"]["security"] == [{"SessionAuth": []}]
    assert spec["paths"][f"{API}/contracts"]["get"]["security"] == [{}, {"SessionAuth": []}]
    names = {p["name"] for p in spec["paths"][f"{API}/contracts"]["get"]["parameters"]}
    assert names == {"q", "buyer", "category", "supplier_type", "status", "method", "value_min", "value_max",
                     "start_from", "start_to", "end_from", "end_to", "provider", "feedback", "sort", "page", "page_size"}
    assert "text/csv" in spec["paths"][f"{API}/contracts.csv"]["get"]["responses"]["200"]["content"]


def test_docs_page_uses_only_local_assets(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"https?://", html), "the docs page must not load anything from another site"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    for url in assets:
        assert url.startswith("/api/v1/docs/assets/")
        asset = client.get(url)
        assert asset.status_code == 200 and b"".join(asset.streaming_content)
    assert "unsafe-inline" in response["Content-Security-Policy"]


def test_api_index(client):
    index = ok(client.get(f"{API}/"))
    assert index["contracts"] == "http://testserver/api/v1/contracts"
    assert index["docs"] == "http://testserver/api/v1/docs"


# Property-based: schemathesis drives the WSGI app from the OpenAPI document ------------------------

def _wsgi_schema():
    """The spec, loaded from the app itself at collection time (no database needed for it)."""
    from django.core.handlers.wsgi import WSGIHandler

    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", WSGIHandler())
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE,
                                           schemathesis.GenerationMode.NEGATIVE])
    return schema


generated = _wsgi_schema()


@pytest.fixture
def keep_db_connection():
    """Requests through the raw WSGI handler must not close the test transaction's connection
    (Django's test client does the same)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@generated.parametrize()
@hypothesis_settings(max_examples=20, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))
def test_generated_requests(case, db, keep_db_connection):
    """No generated request gets a 500; every answer matches the spec; every error is a problem document."""
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                             content_type_conformance, response_schema_conformance])
    if response.status_code >= 400:
        assert response.headers["content-type"] == [PROBLEM]
        body = json.loads(response.content)
        assert body["status"] == response.status_code and body["title"] and body["detail"]
