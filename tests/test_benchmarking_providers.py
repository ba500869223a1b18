"""Provider performance across councils: the summary table, the pages, the API and their downloads, on
the real sample register with the demo's (labelled) synthetic performance data.

Expected figures are recomputed here from the returns and assessments themselves (the ORM and plain
Python), never read from the summary table the code under test uses."""

import csv
import io
import json
import statistics
from collections import Counter, defaultdict
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q

from commissioner.benchmarking import providers
from commissioner.methods.procurement import RATINGS
from commissioner.performance import services, synthetic
from commissioner.performance.models import Assessment, Kpi, KpiReturn, ProviderContractSummary
from commissioner.register.models import Contract, ContractSupplier, Provider
from commissioner.register.services import create_local_contract
from conftest import make_users, per_test
from helpers import client_for

SAMPLE_TODAY = date(2025, 3, 11)
CLASSES = {"met": "met", "slightlyBelow": "slightly_below", "below": "below",
           "significantlyBelow": "significantly_below"}
def csv_rows(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


SUMMARY_FIELDS = ["kpis", "met", "slightly_below", "below", "significantly_below", "rating", "rated_on",
                  "unit_cost", "unit_cost_unit", "synthetic", "owner_id", "buyer_id", "is_private", "cpv_division"]


@pytest.fixture(scope="module")
def perf_module(module_db):
    """The users, and synthetic performance for the sample's care (85) and construction (45) contracts and
    Merton's: made once for the module's tests (each test's writes are rolled back, see conftest.module_db)."""
    with module_db():
        users = make_users()
        qs = Contract.objects.filter(Q(cpv_division__in=["85", "45"]) | Q(buyer=users["merton"]))
        made = synthetic.generate(contracts=qs, today=SAMPLE_TODAY)
        assert made["returns"] > 100
    return users


@pytest.fixture
def perf(perf_module, db):
    return per_test(perf_module)


def expected_summary(contract_ids=None):
    """{(contract, provider): figures} recomputed from KPIs, returns and assessments, one contract at a time."""
    links = ContractSupplier.objects.select_related("supplier", "contract")
    if contract_ids is not None:
        links = links.filter(contract_id__in=contract_ids)
    out = {}
    for link in links:
        c = link.contract
        current = KpiReturn.objects.filter(kpi__contract=c, is_current=True)
        counts = Counter(CLASSES[x] for x in current.values_list("classification", flat=True))
        latest = Assessment.objects.filter(contract=c, is_current=True).order_by("-assessed_on", "-id").first()
        cost = current.filter(kpi__unit__startswith="£").order_by("-period_start", "kpi_id").select_related("kpi").first()
        synthetic_flag = (Kpi.objects.filter(contract=c, synthetic=True).exists()
                          or current.filter(synthetic=True).exists() or bool(latest and latest.synthetic))
        out[(c.pk, link.supplier.provider_id)] = {
            "kpis": Kpi.objects.filter(contract=c, is_active=True).count(),
            **{k: counts[k] for k in CLASSES.values()},
            "rating": latest.rating if latest else "", "rated_on": latest.assessed_on if latest else None,
            "unit_cost": cost.value if cost else None, "unit_cost_unit": cost.kpi.unit if cost else "",
            "synthetic": synthetic_flag, "owner_id": c.owner_id, "buyer_id": c.buyer_id, "is_private": c.is_private,
            "cpv_division": c.cpv_division}
    return out


def stored_summary(contract_ids=None):
    qs = ProviderContractSummary.objects.all()
    if contract_ids is not None:
        qs = qs.filter(contract_id__in=contract_ids)
    return {(s.contract_id, s.provider_id): {f: getattr(s, f) for f in SUMMARY_FIELDS} for s in qs}


# The summary table ----------------------------------------------------------------------------------------

def test_summary_follows_every_write_and_a_rebuild_gives_the_same(perf):
    assert stored_summary() == expected_summary()
    assert ProviderContractSummary.objects.filter(met__gt=0).count() > 20
    su = perf["superuser"]
    kpi = (Kpi.objects.filter(unit="£ per hour", returns__is_current=True, returns__classification="met")
           .order_by("pk").first())
    contract_ids = [kpi.contract_id]

    # A correction supersedes a return: it counts once, with its new classification.
    ret = kpi.returns.filter(is_current=True, classification="met").order_by("period_start").first()
    before = stored_summary(contract_ids)
    services.correct_return(actor=su, ret=ret, value=kpi.target + 50, reason="invoice recounted")
    after = stored_summary(contract_ids)
    row = next(iter(after))
    assert after[row]["met"] == before[row]["met"] - 1
    assert after[row]["significantly_below"] == before[row]["significantly_below"] + 1
    assert after == expected_summary(contract_ids)

    # A new KPI in pounds and its first return: the unit cost is the latest period's.
    new = services.create_kpi(actor=su, contract=kpi.contract, data={
        "name": "Cost per visit", "unit": "£ per visit", "target": "30", "direction": "lower", "tolerance": "1",
        "frequency": "quarterly"})
    assert stored_summary(contract_ids)[row]["kpis"] == before[row]["kpis"] + 1
    services.submit_return(actor=su, kpi=new, day=date(2025, 1, 15), value="29.40")
    latest_cost = stored_summary(contract_ids)[row]
    assert stored_summary(contract_ids) == expected_summary(contract_ids)
    assert (latest_cost["unit_cost"], latest_cost["unit_cost_unit"]) == (
        expected_summary(contract_ids)[row]["unit_cost"], expected_summary(contract_ids)[row]["unit_cost_unit"])

    # A new assessment: the latest rating and its date.
    services.record_assessment(actor=su, contract=kpi.contract, period_start=date(2024, 4, 1),
                               period_end=date(2025, 3, 31), rating="inadequate", reason="test: overruled",
                               assessed_on=date(2025, 4, 20))
    assert stored_summary(contract_ids)[row]["rating"] == "inadequate"
    assert stored_summary(contract_ids)[row]["rated_on"] == date(2025, 4, 20)

    # A retired KPI no longer counts as a KPI (its results stay).
    services.retire_kpi(actor=su, kpi=new)
    assert stored_summary(contract_ids) == expected_summary(contract_ids)

    # The bulk rebuild (set-based SQL) gives exactly the rows kept by the services, twice over; the same for
    # the category summary (per division and provider).
    kept, kept_categories = stored_summary(), stored_categories()
    assert providers.rebuild_summaries() == len(kept)
    assert stored_summary() == kept == expected_summary()
    assert stored_categories() == kept_categories
    assert providers.rebuild_summaries() == len(kept)
    assert stored_summary() == kept and stored_categories() == kept_categories


def stored_categories():
    from commissioner.performance.models import ProviderCategorySummary

    fields = [f.attname for f in ProviderCategorySummary._meta.fields if f.attname != "id"]
    return sorted(ProviderCategorySummary.objects.values_list(*fields))


def test_precomputed_and_computed_rankings_agree(perf):
    """The national ranking read from the category summary equals the one computed from the contracts."""
    from commissioner.benchmarking.queries import Peer

    user = perf["other"]  # Leeds: no private contract in these divisions
    for division in ("85", "45"):
        fast = providers.category_ranking(division, user)
        assert fast.precomputed
        slow = providers._computed(division, user, None, Peer(*providers.NATIONAL), set())

        def plain(ranking):
            return {r["provider_id"]: r for r in providers.category_rows(ranking)}

        assert plain(fast) == plain(slow)
        assert [r.rank for r in fast.rows] == [r.rank for r in slow.rows]
        assert (fast.ranked_count, fast.missing_count, fast.unit, fast.unit_cost_ranked, fast.unit_cost_missing,
                fast.synthetic) == (slow.ranked_count, slow.missing_count, slow.unit, slow.unit_cost_ranked,
                                    slow.unit_cost_missing, slow.synthetic)
        assert len(fast.rows[5:15]) == 10 and fast.rows[5:15] == list(fast.rows)[5:15]


def test_rebuild_repairs_a_stale_summary(perf):
    ProviderContractSummary.objects.all().delete()
    ProviderContractSummary.objects.create(contract=Contract.objects.first(), provider=Provider.objects.first(),
                                           owner=perf["merton"], met=99)  # junk
    providers.rebuild_summaries()
    assert stored_summary() == expected_summary()


# Provider across councils ---------------------------------------------------------------------------------

def provider_by_council(provider, user_org_ids=()):
    """{buyer name: (contracts, counts)} from the returns, for the public contracts and the user's own."""
    out = defaultdict(lambda: [set(), Counter()])
    links = ContractSupplier.objects.filter(supplier__provider=provider).select_related("contract__buyer")
    for link in links:
        c = link.contract
        if c.is_private and c.owner_id not in user_org_ids:
            continue
        name = c.buyer.name if c.buyer else "Buyer not matched to a council"
        out[name][0].add(c.pk)
        for cls in KpiReturn.objects.filter(kpi__contract=c, is_current=True).values_list("classification", flat=True):
            out[name][1][CLASSES[cls]] += 1
    return out


def test_provider_page_shows_each_council_side_by_side(perf):
    seddon = Provider.objects.get(name="Seddon Construction Limited")
    expected = provider_by_council(seddon)
    assert len(expected) == 2  # Wirral Borough Council and a second buyer in the sample
    client = client_for(perf, "commissioner")
    page = client.get(f"/benchmarking/providers/{seddon.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in expected:
        assert name in html
    assert "synthetic" in html.lower()
    assert "Ranking method" in html and "Peer group" in html and "Percentile method" in html
    rows = csv_rows(client.get(f"/benchmarking/providers/{seddon.pk}/?format=csv"))
    header, body = rows[0], rows[1:]
    assert {"synthetic", "share_met", "latest_rating", "peer_group", "ranking_method"} <= set(header)
    got = {r[header.index("council")]: dict(zip(header, r, strict=True)) for r in body}
    assert set(got) == set(expected)
    for name, (contracts, counts) in expected.items():
        row = got[name]
        assert int(row["contracts"]) == len(contracts)
        for k in CLASSES.values():
            assert int(row[k]) == counts[k]
        total = sum(counts.values())
        assert row["share_met"] == ("" if not total else str(round(counts["met"] / total * 100 + 1e-9, 1)))
        assert row["synthetic"] == "True"
    data = client.get(f"/benchmarking/providers/{seddon.pk}/?format=json").json()
    assert {c["council"]: c["met"] for c in data["councils"]} == {n: c["met"] for n, (_, c) in expected.items()}
    assert data["synthetic_note"].startswith("rows marked synthetic")


def test_provider_page_links_to_its_categories_and_ratings_are_dated(perf):
    seddon = Provider.objects.get(name="Seddon Construction Limited")
    html = client_for(perf, "viewer").get(f"/benchmarking/providers/{seddon.pk}/").content.decode()
    assert "/benchmarking/categories/45/" in html
    api = client_for(perf, "viewer").get(f"/api/v1/benchmarking/providers/{seddon.pk}").json()
    for council in api["results"]:
        c_ids = list(Contract.objects.filter(contract_suppliers__supplier__provider=seddon,
                                             buyer__slug=council["council_slug"]).values_list("pk", flat=True))
        latest = Assessment.objects.filter(contract_id__in=c_ids, is_current=True).order_by("-assessed_on").first()
        assert council["latest_rating"] == (latest.rating if latest else None)
        assert council["latest_rated_on"] == (latest.assessed_on.isoformat() if latest else None)
        assert sum(council["ratings"].values()) == len({
            a.contract_id for a in Assessment.objects.filter(contract_id__in=c_ids, is_current=True)})


# Category ranking -----------------------------------------------------------------------------------------

def category_expected(division, buyer_ids=None):
    """{provider id: (share met or None, returns, median unit cost or None)} and the main £ unit, recomputed."""
    per_provider = defaultdict(Counter)
    costs = defaultdict(list)
    units = Counter()
    contracts = Contract.objects.filter(cpv_division=division, is_private=False)
    if buyer_ids is not None:
        contracts = contracts.filter(buyer_id__in=buyer_ids)
    latest_cost = {}
    for c in contracts:
        cost = (KpiReturn.objects.filter(kpi__contract=c, is_current=True, kpi__unit__startswith="£")
                .order_by("-period_start", "kpi_id").select_related("kpi").first())
        latest_cost[c.pk] = cost
        if cost:
            units[cost.kpi.unit] += len({link.supplier.provider_id for link in c.contract_suppliers.all()})
    main = min(units.items(), key=lambda un: (-un[1], un[0]))[0] if units else None
    # A provider holding a contract twice (two awards) counts its results once.
    pairs = set(ContractSupplier.objects.filter(contract__in=contracts).values_list("contract_id",
                                                                                  "supplier__provider_id"))
    for contract_id, pid in pairs:
        per_provider[pid]  # every provider appears, with returns or not
        for cls in KpiReturn.objects.filter(kpi__contract_id=contract_id, is_current=True).values_list(
                "classification", flat=True):
            per_provider[pid][cls] += 1
        cost = latest_cost[contract_id]
        if cost and cost.kpi.unit == main:
            costs[pid].append(cost.value)
    out = {}
    for pid, counts in per_provider.items():
        total = sum(counts.values())
        out[pid] = (counts["met"] / total if total else None, total,
                    float(statistics.median(costs[pid])) if costs[pid] else None)
    return out, main


def test_category_ranking_ranks_share_met_with_ties_and_counts_missing(perf):
    expected, unit = category_expected("85")
    assert unit == "£ per hour"
    client = client_for(perf, "commissioner")
    rows = csv_rows(client.get("/benchmarking/categories/85/?org=&format=csv"))
    header, body = rows[0], rows[1:]
    got = {int(r[header.index("provider_id")]): dict(zip(header, r, strict=True)) for r in body}
    assert set(got) == set(expected)
    shares = [s for s, _, _ in expected.values() if s is not None]
    missing = [p for p, (s, _, _) in expected.items() if s is None]
    assert 0 < len(missing) < len(expected)  # some providers have no returns yet: missing, not ranked
    for pid, (share, n, cost) in expected.items():
        row = got[pid]
        assert int(row["returns"]) == n
        if share is None:
            assert row["rank"] == "" and row["share_met"] == "" and row["percentile"] == ""
        else:
            assert int(row["rank"]) == 1 + sum(1 for s in shares if s > share)
            below, equal = sum(1 for s in shares if s < share), sum(1 for s in shares if s == share)
            assert float(row["percentile"]) == pytest.approx((below + 0.5 * equal) / len(shares) * 100, abs=0.05)
        assert row["unit_cost_median"] == ("" if cost is None else str(round(cost, 2)))
        assert row["unit_cost_unit"] == "£ per hour"
        assert row["synthetic"] in ("True", "False")
    assert int(body[0][header.index("missing")]) == len(missing)
    assert int(body[0][header.index("ranked")]) == len(shares)
    # Ranked rows come first, best first; the missing ones after them.
    ranks = [int(r[0]) for r in body if r[0]]
    assert ranks == sorted(ranks) and all(r[0] == "" for r in body[len(ranks):])
    # Unit costs: lower is better.
    priced = sorted(c for _, _, c in expected.values() if c is not None)
    cheapest = [r for r in body if r[header.index("unit_cost_rank")] == "1"]
    assert cheapest and float(cheapest[0][header.index("unit_cost_median")]) == pytest.approx(priced[0], abs=0.005)

    page = client.get("/benchmarking/categories/85/?org=")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Health and social work services" in html
    assert "standard competition ranking" in html and "Percentile method" in html and "National" in html
    assert f"{len(missing)} missing" in html
    assert "synthetic" in html.lower()


def test_peer_group_restricts_to_similar_councils_and_marks_the_councils_providers(perf):
    merton = perf["merton"]
    london = set(type(merton).objects.filter(region=merton.region).values_list("pk", flat=True))
    expected, _ = category_expected("45", buyer_ids=london)
    mine = set(ContractSupplier.objects.filter(contract__buyer=merton, contract__cpv_division="45")
               .values_list("supplier__provider_id", flat=True))
    assert mine and mine <= set(expected)
    client = client_for(perf, "commissioner")
    rows = csv_rows(client.get("/benchmarking/categories/45/?org=merton&peer=region&format=csv"))
    header, body = rows[0], rows[1:]
    got = {int(r[header.index("provider_id")]): r for r in body}
    assert set(got) == set(expected)
    own = {pid for pid, r in got.items() if r[header.index("your_council_provider")] == "True"}
    assert own == mine
    assert "London" in body[0][header.index("peer_group")]
    api = client.get("/api/v1/benchmarking/categories/45?org=merton&peer=region").json()
    assert api["peer"]["key"] == "region" and api["council"] == merton.name
    assert {r["provider"]["id"] for r in api["results"] if r["your_council_provider"]} == mine
    assert api["count"] == len(expected)
    html = client.get("/benchmarking/categories/45/?org=merton&peer=region").content.decode()
    assert "Your council&#x27;s provider" in html or "Your council's provider" in html
    assert "Same region: councils in London" in html


# Tenancy ----------------------------------------------------------------------------------------------------

@pytest.fixture
def private_care(perf):
    """Merton's own private care contract with a private provider, and one with a public provider; with results."""
    admin = perf["admin"]
    made = {}
    for label, ch in (("private", ""), ("public", "09876543")):
        c = create_local_contract(
            owner=perf["merton"], actor=admin, title=f"Reablement ({label} provider)", delivery_model="market",
            provider_name=f"Merton Care Partner {label.title()}", supplier_type="sme", value=900000,
            start_date=date(2024, 1, 1), end_date=date(2026, 12, 31), cpv="85312000", is_private=True,
            companies_house=ch)
        kpi = services.create_kpi(actor=admin, contract=c, data={
            "name": "Unit cost of care", "unit": "£ per hour", "target": "22", "direction": "lower",
            "tolerance": "0.5", "frequency": "quarterly"})
        services.submit_return(actor=admin, kpi=kpi, day=date(2024, 2, 1), value="21.00")
        made[label] = (c, c.contract_suppliers.get().supplier.provider)
    return made


def test_another_councils_private_contract_never_shows(perf, private_care):
    _, private_provider = private_care["private"]
    _, public_provider = private_care["public"]
    leeds, merton = client_for(perf, "other"), client_for(perf, "commissioner")

    ranking = csv_rows(leeds.get("/benchmarking/categories/85/?format=csv"))
    ids = {r[ranking[0].index("provider_id")] for r in ranking[1:]}
    assert str(private_provider.pk) not in ids and str(public_provider.pk) not in ids
    api = leeds.get("/api/v1/benchmarking/categories/85?page_size=200").json()
    assert "Merton Care Partner" not in json.dumps(api)
    assert leeds.get(f"/benchmarking/providers/{private_provider.pk}/").status_code == 404
    assert leeds.get(f"/api/v1/benchmarking/providers/{private_provider.pk}").status_code == 404
    # The provider is public (a company number), the contract is not: Leeds sees no row of Merton's.
    page = leeds.get(f"/benchmarking/providers/{public_provider.pk}/")
    assert page.status_code == 200
    assert "London Borough of Merton" not in page.content.decode()
    assert leeds.get(f"/api/v1/benchmarking/providers/{public_provider.pk}").json()["results"] == []

    # Merton's own members see both, marked as their council's.
    rows = csv_rows(merton.get("/benchmarking/categories/85/?format=csv"))
    header = rows[0]
    mine = {r[header.index("provider_id")]: r for r in rows[1:]}
    for provider in (private_provider, public_provider):
        row = mine[str(provider.pk)]
        assert row[header.index("your_council_provider")] == "True"
        assert row[header.index("share_met")] == "100.0"  # 21.00 against a target of 22, lower is better
        assert row[header.index("unit_cost_median")] == "21.0"
        assert row[header.index("synthetic")] == "False"
    councils = csv_rows(merton.get(f"/benchmarking/providers/{public_provider.pk}/?format=csv"))
    assert [r[0] for r in councils[1:]] == ["London Borough of Merton"]
    assert councils[1][councils[0].index("your_council")] == "True"


@pytest.mark.parametrize("url", ["/benchmarking/categories/85/", "/benchmarking/providers/{pk}/"])
def test_who_may_read_the_pages(perf, url):
    pk = Provider.objects.get(name="Seddon Construction Limited").pk
    url = url.format(pk=pk)
    expected = {"anonymous": 302, "admin": 200, "viewer": 200, "other": 200, "superuser": 200}
    assert {role: client_for(perf, role).get(url).status_code for role in expected} == expected
    nobody = get_user_model().objects.create_user(username="no-council", password="x-long-password-1")
    client = client_for({"nobody": nobody}, "nobody")
    assert client.get(url).status_code == 403


def test_who_may_call_the_api(perf):
    pk = Provider.objects.get(name="Seddon Construction Limited").pk
    for n, url in enumerate(("/api/v1/benchmarking/categories/85", f"/api/v1/benchmarking/providers/{pk}")):
        anonymous = client_for(perf, "anonymous").get(url)
        assert anonymous.status_code == 401 and anonymous["Content-Type"] == "application/problem+json"
        assert client_for(perf, "viewer").get(url).status_code == 200
        nobody = get_user_model().objects.create_user(username=f"no-council-{n}", password="x-long-pass-1")
        assert client_for({"n": nobody}, "n").get(url).status_code == 403


# Bad parameters -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "status", "name"), [
    ("/api/v1/benchmarking/categories/85?org=nowhere", 422, "org"),
    ("/api/v1/benchmarking/categories/85?peer=region", 422, "peer"),
    ("/api/v1/benchmarking/categories/85?org=merton&peer=group-999999", 422, "peer"),
    ("/api/v1/benchmarking/categories/85?page=999", 422, "page"),
    ("/api/v1/benchmarking/categories/85?page_size=0", 422, "page_size"),
    ("/api/v1/benchmarking/categories/99", 404, None),
    ("/api/v1/benchmarking/categories/8x", 404, None),
    ("/api/v1/benchmarking/categories/855", 422, "division"),
    ("/api/v1/benchmarking/providers/99999999", 404, None),
    ("/api/v1/benchmarking/providers/0", 422, "provider_id"),
    ("/api/v1/benchmarking/providers/abc", 422, "provider_id"),
])
def test_bad_api_parameters_are_problems_naming_them(perf, url, status, name):
    response = client_for(perf, "commissioner").get(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    if name:
        assert name in [e["name"] for e in response.json()["errors"]]


def test_bad_page_parameters(perf):
    client = client_for(perf, "commissioner")
    bad = client.get("/benchmarking/categories/85/?org=nowhere")
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "There is a problem" in html and "Council: there is no council" in html and 'href="#org"' in html
    assert client.get("/benchmarking/categories/85/?org=nowhere&format=csv").status_code == 404
    assert client.get("/benchmarking/categories/85/?format=xml").status_code == 404
    assert client.get("/benchmarking/categories/99/").status_code == 404
    assert client.get("/benchmarking/providers/99999999/").status_code == 404


def test_json_downloads_keep_missing_as_null(perf):
    data = client_for(perf, "commissioner").get("/benchmarking/categories/85/?org=&format=json").json()
    missing = [p for p in data["providers"] if p["rank"] is None]
    assert missing and all(p["share_met"] is None and p["percentile"] is None for p in missing)
    assert data["missing"] == len(missing)
    assert set(RATINGS) == {k.removeprefix("rated_") for k in data["providers"][0] if k.startswith("rated_")}
    assert data["peer_group"].startswith("National")


# The demo: a care provider serving several councils ------------------------------------------------------

def test_cross_council_demo_contracts_are_labelled_and_idempotent(perf):
    merton = perf["merton"]
    made = synthetic.cross_council(today=SAMPLE_TODAY, home=merton)
    assert made["contracts"] == 4 and made["returns"] > 20
    extra = Contract.objects.filter(reference__startswith=synthetic.CROSS_COUNCIL_REFERENCE)
    assert extra.count() == 4
    for c in extra:
        assert c.title.startswith("Synthetic: ") and c.description == synthetic.CROSS_COUNCIL_NOTE
        assert not c.is_private
        assert not KpiReturn.objects.filter(kpi__contract=c, synthetic=False).exists()
    assert set(extra.values_list("buyer", flat=True)) >= {merton.pk}
    # Each of the two providers now holds care contracts with three councils (the real one and two made up).
    holders = {c.contract_suppliers.get().supplier.provider for c in extra}
    assert len(holders) == 2
    for provider in holders:
        expected = provider_by_council(provider, [merton.pk])
        assert len(expected) == 3
        rows = csv_rows(client_for(perf, "commissioner").get(f"/benchmarking/providers/{provider.pk}/?format=csv"))
        header = rows[0]
        got = {r[header.index("council")]: r for r in rows[1:]}
        assert set(got) == set(expected)
        assert rows[1][header.index("council")] == merton.name  # the user's council first
        assert rows[1][header.index("your_council")] == "True"
        for name, (_, counts) in expected.items():
            assert int(got[name][header.index("met")]) == counts["met"]
            assert got[name][header.index("synthetic")] == "True"
    assert stored_summary() == expected_summary()
    # A second run makes nothing new.
    assert synthetic.cross_council(today=SAMPLE_TODAY, home=merton)["contracts"] == 0
    assert extra.count() == 4


def test_links_from_the_provider_and_contract_pages(perf):
    seddon = Provider.objects.get(name="Seddon Construction Limited")
    client = client_for(perf, "superuser")
    html = client.get(f"/providers/{seddon.pk}/").content.decode()
    assert f'href="/benchmarking/providers/{seddon.pk}/"' in html
    contract = Contract.objects.filter(buyer=perf["merton"], kpis__isnull=False).distinct().first()
    html = client.get(f"/performance/contracts/{contract.ocid}/").content.decode()
    assert f'/benchmarking/categories/{contract.cpv_division}/?org=' in html


def test_openapi_documents_the_endpoints(db):
    from django.test import Client

    spec = Client().get("/api/v1/openapi.json").json()
    provider = spec["paths"]["/api/v1/benchmarking/providers/{provider_id}"]["get"]
    category = spec["paths"]["/api/v1/benchmarking/categories/{division}"]["get"]
    for operation in (provider, category):
        assert operation["security"] == [{"SessionAuth": []}] and operation["tags"] == ["benchmarking"]
        assert {"200", "401", "422"} <= set(map(str, operation["responses"]))
    assert {p["name"] for p in category["parameters"]} == {"division", "org", "peer", "page", "page_size"}
    assert {p["name"] for p in provider["parameters"]} == {"provider_id", "page", "page_size"}


def test_a_merge_is_put_right_by_refreshing_the_providers(perf):
    from commissioner.register.services import merge_providers

    seddon = Provider.objects.get(name="Seddon Construction Limited")
    other = (Provider.objects.filter(suppliers__contract_links__contract__cpv_division="45", is_private=False)
             .exclude(pk=seddon.pk).distinct().order_by("pk").first())
    merge_providers(keep=seddon, merge=other, actor=perf["superuser"])
    providers.refresh_provider_summaries([seddon.pk])
    assert stored_summary() == expected_summary()


def test_precomputed_ranking_merges_the_users_private_contracts(perf, private_care):
    from commissioner.benchmarking.queries import Peer

    user = perf["commissioner"]  # Merton: two private care contracts of its own
    fast = providers.category_ranking("85", user, org=perf["merton"])
    assert fast.precomputed and len(fast.rows.adjusted) == 2
    own = {p.pk for _, p in private_care.values()}
    slow = providers._computed("85", user, perf["merton"], Peer(*providers.NATIONAL), own)
    rows = {r["provider_id"]: r for r in providers.category_rows(fast)}
    assert rows == {r["provider_id"]: r for r in providers.category_rows(slow)}
    assert {pid for pid, r in rows.items() if r["your_council_provider"]} == own
    assert (fast.ranked_count, fast.missing_count, fast.unit_cost_ranked) == (
        slow.ranked_count, slow.missing_count, slow.unit_cost_ranked)
