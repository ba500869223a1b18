"""Tenancy matrix for the API: every endpoint x anonymous, each Merton role, another council, a superuser.

A private Merton contract (and its private provider) is visible to Merton members and superusers only;
everyone else gets the same 404 as for a record that does not exist, and never sees it in lists,
CSV downloads, counts, totals or dashboards.
"""

import csv
import io
import json

import pytest
from django.test import Client

from commissioner.register import queries

API = "/api/v1"
WHO = ["anonymous", "admin", "commissioner", "viewer", "other", "superuser"]
SEES_PRIVATE = {"anonymous": False, "admin": True, "commissioner": True, "viewer": True, "other": False,
                "superuser": True}
MERTON_PUBLIC = {"count": 3, "value": 230507}
PRIVATE_VALUE = 1250000



@pytest.fixture(params=WHO)
def who(request):
    return request.param


@pytest.fixture
def as_user(who, users):
    client = Client()
    if who != "anonymous":
        client.force_login(users[who])
    return client


@pytest.fixture
def private(private_contract):
    link = private_contract.contract_suppliers.select_related("supplier__provider").get()
    provider = link.supplier.provider
    assert private_contract.is_private and provider.is_private
    return {"ocid": private_contract.ocid, "provider_id": provider.pk, "provider_name": provider.name}


def get(client, url):
    response = client.get(API + url)
    assert response.status_code in (200, 404), response.content[:300]
    if response.status_code == 404:
        assert response["Content-Type"] == "application/problem+json"
    return response


def csv_text(client, url):
    response = client.get(API + url)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize("template", ["/contracts/{ocid}", "/contracts/{ocid}/history", "/releases/{ocid}"])
def test_private_contract_endpoints(as_user, who, private, template):
    response = get(as_user, template.format(ocid=private["ocid"]))
    if SEES_PRIVATE[who]:
        assert response.status_code == 200
    else:
        assert response.status_code == 404
        missing = get(as_user, template.format(ocid="local-merton-000000000000"))
        # Indistinguishable from a contract that does not exist.
        hide = json.loads(response.content)
        absent = json.loads(missing.content)
        for body, ocid in ((hide, private["ocid"]), (absent, "local-merton-000000000000")):
            body["detail"] = body["detail"].replace(ocid, "X")
            body["instance"] = body["instance"].replace(ocid, "X")
        assert hide == absent


def test_private_contract_detail_content(as_user, who, private):
    response = get(as_user, f"/contracts/{private['ocid']}")
    if SEES_PRIVATE[who]:
        detail = response.json()
        assert detail["is_private"] and detail["owner"]["slug"] == "merton"
        assert detail["suppliers"][0]["provider_id"] == private["provider_id"]
        assert get(as_user, f"/contracts/{private['ocid']}/history").json()["releases"] == []


def test_contract_list_search_and_filter(as_user, who, private):
    everything = get(as_user, "/contracts?page_size=500").json()
    ocids = [c["ocid"] for c in everything["results"]]
    assert (private["ocid"] in ocids) is SEES_PRIVATE[who]
    assert everything["count"] == 190 + SEES_PRIVATE[who]
    found = get(as_user, "/contracts?q=reablement").json()
    public = queries.contracts(None, queries.ContractFilters(q="reablement")).count()
    assert found["count"] == public + SEES_PRIVATE[who]
    by_provider = get(as_user, f"/contracts?provider={private['provider_id']}").json()
    assert by_provider["count"] == int(SEES_PRIVATE[who])
    merton = get(as_user, "/contracts?buyer=merton&page_size=10").json()
    assert merton["count"] == MERTON_PUBLIC["count"] + SEES_PRIVATE[who]


def test_contract_csv(as_user, who, private):
    text = csv_text(as_user, "/contracts.csv")
    assert (private["ocid"] in text) is SEES_PRIVATE[who]
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + 190 + SEES_PRIVATE[who]
    assert (private["ocid"] in csv_text(as_user, "/contracts.csv?q=reablement")) is SEES_PRIVATE[who]


def test_providers(as_user, who, private):
    listed = get(as_user, "/providers?page_size=500").json()
    assert (private["provider_id"] in [p["id"] for p in listed["results"]]) is SEES_PRIVATE[who]
    searched = get(as_user, "/providers?q=reablement").json()
    assert (private["provider_id"] in [p["id"] for p in searched["results"]]) is SEES_PRIVATE[who]
    detail = get(as_user, f"/providers/{private['provider_id']}")
    assert detail.status_code == (200 if SEES_PRIVATE[who] else 404)
    if SEES_PRIVATE[who]:
        assert [c["ocid"] for c in detail.json()["contracts"]] == [private["ocid"]]
    assert (private["provider_name"] in csv_text(as_user, "/providers.csv")) is SEES_PRIVATE[who]


def test_public_provider_lists_only_visible_contracts(as_user, who, private, users):
    """A public provider's detail lists contracts through the same tenancy-scoped query."""
    provider = get(as_user, "/providers?page_size=1").json()["results"][0]
    detail = get(as_user, f"/providers/{provider['id']}").json()
    assert private["ocid"] not in [c["ocid"] for c in detail["contracts"]]


def test_organisation_figures(as_user, who, private):
    extra = SEES_PRIVATE[who]
    merton = get(as_user, "/organisations/merton").json()
    assert merton["contract_count"] == MERTON_PUBLIC["count"] + extra
    assert merton["total_value"] == MERTON_PUBLIC["value"] + PRIVATE_VALUE * extra
    listed = get(as_user, "/organisations?q=merton").json()["results"]
    assert [o["contract_count"] for o in listed if o["slug"] == "merton"] == [merton["contract_count"]]
    board = get(as_user, "/organisations/merton/dashboard").json()
    assert board["count"] == MERTON_PUBLIC["count"] + extra
    assert board["value"] == MERTON_PUBLIC["value"] + PRIVATE_VALUE * extra
    inhouse = next(row for row in board["by_supplier_type"] if row["type"] == "inhouse")
    assert inhouse["count"] == int(extra)
    rows = list(csv.DictReader(io.StringIO(csv_text(as_user, "/organisations.csv?q=merton"))))
    assert [int(r["contracts"]) for r in rows if r["slug"] == "merton"] == [merton["contract_count"]]


def test_me(as_user, who, users):
    response = as_user.get(f"{API}/me")
    if who == "anonymous":
        assert response.status_code == 401
        return
    me = response.json()
    assert me["username"] == users[who].username
    assert me["is_superuser"] is (who == "superuser")
    expected = {"admin": "merton", "commissioner": "merton", "viewer": "merton", "other": "leeds"}
    assert [m["organisation"]["slug"] for m in me["memberships"]] == (
        [users["other_org"].slug] if who == "other" else [expected[who]] if who in expected else [])
