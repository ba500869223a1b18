"""Contract performance: KPIs, returns, assessments, changes, events and the council-wide pages,
on hand-built contracts with known answers, and the tenancy matrix of every performance page."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import create_user
from commissioner.performance import queries, services
from commissioner.performance.models import ContractEvent, Exemption, KpiReturn
from commissioner.performance.services import PerformanceError
from commissioner.register.models import Contract
from commissioner.register.services import create_local_contract
from helpers import ROLES, client_for, statuses

PASSWORD = "correct-horse-battery-staple-42"
TODAY = date(2026, 6, 30)


def contract(users, *, value, title="Home care", start=date(2024, 4, 1), end=date(2027, 3, 31), category="services",
             provider="Caring Hands Ltd"):
    c = create_local_contract(owner=users["merton"], actor=users["admin"], title=title, delivery_model="market",
                              provider_name=provider, supplier_type="sme", value=value, start_date=start,
                              end_date=end, is_private=True)
    Contract.objects.filter(pk=c.pk).update(main_category=category)
    c.refresh_from_db()
    return c


def kpi(users, c, **data):
    base = {"name": "Visits on time", "unit": "%", "target": "95", "direction": "higher", "tolerance": "2",
            "frequency": "quarterly", "weight": "1", "is_act_kpi": True}
    return services.create_kpi(actor=users["admin"], contract=c, data=base | data)


@pytest.fixture
def provider_user(users):
    return create_user(username="caring-hands", password=PASSWORD)


def link(provider_user, c):
    services.link_provider_user(actor=None, user=provider_user,
                                provider=c.contract_suppliers.first().supplier.provider)
    provider_user._commissioner_providers = None  # tenancy caches per request
    return provider_user


# -- returns ---------------------------------------------------------------------------------------

def test_a_return_is_classified_and_a_correction_keeps_the_original(users):
    c = contract(users, value=1_000_000)
    k = kpi(users, c)
    ret = services.submit_return(actor=users["commissioner"], kpi=k, day=date(2025, 5, 15), value="94")
    assert (ret.period_start, ret.period_end, ret.classification) == (date(2025, 4, 1), date(2025, 6, 30),
                                                                       "slightlyBelow")
    new = services.correct_return(actor=users["commissioner"], ret=ret, value="96.5", reason="typo in the return")
    ret.refresh_from_db()
    assert not ret.is_current and new.supersedes == ret and new.classification == "met"
    assert KpiReturn.objects.filter(kpi=k).count() == 2
    assert AuditEvent.objects.filter(model="performance.KpiReturn", action="corrected", object_pk=str(new.pk)).exists()
    with pytest.raises(PerformanceError, match="already been corrected"):
        services.correct_return(actor=users["commissioner"], ret=ret, value="97", reason="again")


@pytest.mark.parametrize(("day", "value", "field", "message"), [
    (date(2023, 12, 31), "90", "period", "ends before the contract starts"),
    (date(2027, 4, 1), "90", "period", "starts after the contract ends"),
    (date(2025, 5, 1), "ninety", "value", "is not a number"),
    (date(2025, 5, 1), "", "value", "enter a number"),
    (date(2025, 5, 1), "1e30", "value", "beyond the largest amount"),
    (date(2025, 5, 1), "NaN", "value", "finite"),
])
def test_bad_returns_are_refused_and_nothing_is_written(users, day, value, field, message):
    k = kpi(users, contract(users, value=1_000_000))
    with pytest.raises(PerformanceError, match=message) as e:
        services.submit_return(actor=users["admin"], kpi=k, day=day, value=value)
    assert e.value.field == field
    assert not KpiReturn.objects.filter(kpi=k).exists()


def test_a_duplicate_period_and_a_retired_kpi_are_refused(users):
    k = kpi(users, contract(users, value=1_000_000))
    services.submit_return(actor=users["admin"], kpi=k, day=date(2025, 5, 1), value="99")
    with pytest.raises(PerformanceError, match="already in"):
        services.submit_return(actor=users["admin"], kpi=k, day=date(2025, 6, 30), value="98")
    services.retire_kpi(actor=users["admin"], kpi=k)
    with pytest.raises(PerformanceError, match="retired"):
        services.submit_return(actor=users["admin"], kpi=k, day=date(2025, 8, 1), value="98")
    assert KpiReturn.objects.filter(kpi=k).count() == 1


def test_providers_submit_for_their_own_contracts_only_and_refusals_are_logged(users, provider_user):
    mine = contract(users, value=1_000_000)
    theirs = contract(users, value=1_000_000, title="Meals", provider="Other Meals Ltd")
    link(provider_user, mine)
    services.submit_return(actor=provider_user, kpi=kpi(users, mine), day=date(2025, 5, 1), value="97")
    k2 = kpi(users, theirs)
    with pytest.raises(PermissionDenied):
        services.submit_return(actor=provider_user, kpi=k2, day=date(2025, 5, 1), value="97")
    assert not KpiReturn.objects.filter(kpi=k2).exists()
    assert AuditEvent.objects.filter(actor=provider_user, action="refused", object_pk=str(theirs.pk)).exists()
    with pytest.raises(PermissionDenied):  # a viewer may read, not submit
        services.submit_return(actor=users["viewer"], kpi=k2, day=date(2025, 5, 1), value="97")
    with pytest.raises(PermissionDenied):  # nor define KPIs
        kpi({"admin": provider_user}, mine)


@pytest.mark.parametrize(("data", "field"), [
    ({"name": ""}, "name"), ({"unit": ""}, "unit"), ({"target": "x"}, "target"), ({"direction": "up"}, "direction"),
    ({"tolerance": "-1"}, "tolerance"), ({"frequency": "weekly"}, "frequency"), ({"weight": "5000"}, "weight"),
])
def test_bad_kpis_are_refused(users, data, field):
    c = contract(users, value=1_000_000)
    with pytest.raises(PerformanceError) as e:
        kpi(users, c, **data)
    assert e.value.field == field and not c.kpis.exists()


# -- assessments ------------------------------------------------------------------------------------

def test_the_rating_is_proposed_from_weighted_results_and_an_override_needs_a_reason(users):
    c = contract(users, value=1_000_000)
    on_time, complaints = kpi(users, c, weight="3"), kpi(users, c, name="Complaints", unit="per 1,000",
                                                          target="2", direction="lower", tolerance="0.5", weight="1")
    services.submit_return(actor=users["admin"], kpi=on_time, day=date(2025, 5, 1), value="96")      # met: 3 x 3
    services.submit_return(actor=users["admin"], kpi=complaints, day=date(2025, 5, 1), value="2.4")  # slightly: 1 x 2
    proposal, _ = services.propose(c, date(2025, 4, 1), date(2026, 3, 31))
    assert (proposal.rating, proposal.score) == ("good", Decimal("2.75"))  # (9 + 2) / 4
    with pytest.raises(PerformanceError, match="proposed rating is Good") as e:
        services.record_assessment(actor=users["admin"], contract=c, period_start=date(2025, 4, 1),
                                   period_end=date(2026, 3, 31), rating="approaching")
    assert e.value.field == "reason"
    a = services.record_assessment(actor=users["admin"], contract=c, period_start=date(2025, 4, 1),
                                   period_end=date(2026, 3, 31), rating="approaching", reason="late reports")
    assert (a.proposed_rating, a.rating, a.proposed_score) == ("good", "approaching", Decimal("2.75"))
    again = services.record_assessment(actor=users["admin"], contract=c, period_start=date(2025, 4, 1),
                                       period_end=date(2026, 3, 31), rating="good")
    a.refresh_from_db()
    assert again.supersedes == a and not a.is_current


# -- changes (methods.md section 4 examples, through the service) ------------------------------------------

@pytest.mark.parametrize(("category", "changes", "required"), [
    ("services", [200_000], False),
    ("services", [200_001], True),
    ("works", [300_000], False),
    ("works", [300_001], True),
    ("services", [120_000, 120_000], True),  # two linked +6% changes count as +12%
])
def test_change_notices_on_a_2_000_000_contract(users, category, changes, required):
    c = contract(users, value=2_000_000, category=category)
    previous = None
    for delta in changes:
        previous = services.record_change(actor=users["admin"], contract=c, kind="value", changed_on=date(2025, 6, 1),
                                          value_change=delta, reason="more visits", linked_to=previous)
    assert previous.notice_required is required
    assert previous.value_after == Decimal(2_000_000 + sum(changes))


def test_unlinked_changes_are_not_added_up_and_negative_values_are_refused(users):
    c = contract(users, value=2_000_000)
    for _ in range(2):
        ch = services.record_change(actor=users["admin"], contract=c, kind="value", changed_on=date(2025, 6, 1),
                                    value_change=120_000, reason="separate decision")
        assert not ch.notice_required
    with pytest.raises(PerformanceError, match="negative") as e:
        services.record_change(actor=users["admin"], contract=c, kind="value", changed_on=date(2025, 7, 1),
                               value_change=-3_000_000, reason="cut")
    assert e.value.field == "value_change" and c.changes.count() == 2
    term = services.record_change(actor=users["admin"], contract=c, kind="term", changed_on=date(2025, 7, 1),
                                  term_change_days=120, reason="extend")  # term 1,095 days: +120 is more than 10%
    assert term.notice_required


# -- council-wide pages -----------------------------------------------------------------------------------

def test_compliance_lists_missing_kpis_and_assessments_due(users):
    big = contract(users, value=5_000_001, title="Big", start=date(2024, 4, 1))
    contract(users, value=5_000_000, title="Exactly five million", start=date(2026, 1, 1))
    exempt = contract(users, value=9_000_000, title="Framework", start=date(2026, 1, 1))
    Exemption.objects.create(contract=exempt, kind="framework")
    for _ in range(2):
        kpi(users, big)
    breaches = {(b.contract.title, b.rule) for b in queries.compliance(users["merton"], today=TODAY)}
    assert ("Big", "s.52 KPIs") in breaches and ("Big", "s.71 assessment") in breaches
    assert not {t for t, _ in breaches} & {"Exactly five million", "Framework"}
    kpi(users, big, name="Third")
    services.record_assessment(actor=users["admin"], contract=big, period_start=date(2025, 4, 1),
                               period_end=date(2026, 3, 31), rating="other", reason="no results yet")
    assert "Big" not in {b.contract.title for b in queries.compliance(users["merton"], today=TODAY)}


def test_forward_plan_orders_by_decision_date_with_lead_times_and_break_clauses(users):
    small = contract(users, value=50_000, title="Small", end=date(2027, 3, 31))      # 6 months: 30 Sep 2026
    large = contract(users, value=6_000_000, title="Large", end=date(2027, 9, 30))   # 18 months: 30 Mar 2026
    later = contract(users, value=50_000, title="Later", end=date(2029, 3, 31))      # beyond 18 months
    services.record_event(actor=users["admin"], contract=later, kind=ContractEvent.Kind.BREAK, day=date(2027, 6, 30))
    items = [(i.contract.title, i.decision) for i in queries.forward_plan(users["merton"], today=TODAY)]
    mine = [x for x in items if x[0] in ("Small", "Large", "Later")]
    assert mine == [("Large", date(2026, 3, 30)), ("Small", date(2026, 9, 30)), ("Later", date(2026, 12, 30))]
    assert large and small


def test_value_tests_flag_underperformance_and_decisions(users):
    c = contract(users, value=1_000_000, end=date(2026, 10, 31))
    k = kpi(users, c)
    for day, value in ((date(2025, 5, 1), "80"), (date(2025, 8, 1), "70"), (date(2025, 11, 1), "85")):
        services.submit_return(actor=users["admin"], kpi=k, day=day, value=value)
    flags = dict(next(f for cc, f in [(cc, {x.code: x for x in fl}) for cc, fl in
                                      queries.opportunities(users["merton"], today=TODAY)] if cc.pk == c.pk))
    assert "underperforming" in flags and "3" in flags["underperforming"].evidence
    assert "decision_soon" in flags


# -- pages: tenancy matrix ---------------------------------------------------------------------------------

@pytest.fixture
def page_contract(users):
    c = contract(users, value=6_000_000)
    k = kpi(users, c)
    services.submit_return(actor=users["admin"], kpi=k, day=date(2025, 5, 1), value="90")
    return c


def test_every_performance_page_by_role(users, page_contract):
    c = page_contract
    ret = KpiReturn.objects.get(kpi__contract=c)
    read = statuses(302, 200, 200, 200, 404, 200)
    write = statuses(302, 200, 200, 403, 404, 200)
    pages = {
        f"/performance/contracts/{c.ocid}/": read,
        f"/performance/contracts/{c.ocid}/kpis/new/": write,
        f"/performance/contracts/{c.ocid}/returns/new/": write,
        f"/performance/contracts/{c.ocid}/returns/upload/": write,
        f"/performance/contracts/{c.ocid}/returns/{ret.pk}/correct/": write,
        f"/performance/contracts/{c.ocid}/assess/": write,
        f"/performance/contracts/{c.ocid}/changes/new/": write,
        f"/performance/contracts/{c.ocid}/events/new/": write,
        f"/performance/contracts/{c.ocid}/exemption/": write,
        "/performance/councils/merton/compliance/": read,
        "/performance/councils/merton/forward-plan/": read,
        "/performance/councils/merton/opportunities/": read,
        "/performance/": statuses(302, 200, 200, 200, 200, 200),
        "/performance/reminders/": statuses(302, 200, 200, 200, 200, 200),
    }
    for url, expected in pages.items():
        got = {role: client_for(users, role).get(url).status_code for role in ROLES}
        assert got == expected, url


def test_provider_user_sees_their_contract_and_nothing_else(users, page_contract, provider_user):
    link(provider_user, page_contract)
    other = contract(users, value=100, title="Not theirs", provider="Someone Else Ltd")
    from django.test import Client

    client = Client()
    client.force_login(provider_user)
    assert client.get(f"/performance/contracts/{page_contract.ocid}/").status_code == 200
    assert client.get(f"/performance/contracts/{page_contract.ocid}/returns/new/").status_code == 200
    assert client.get(f"/performance/contracts/{page_contract.ocid}/kpis/new/").status_code == 403
    assert client.get(f"/performance/contracts/{other.ocid}/").status_code == 404
    assert client.get("/performance/councils/merton/compliance/").status_code == 404
    assert page_contract.title in client.get("/performance/").content.decode()


def test_the_return_form_reports_errors_on_the_field(users, page_contract):
    client = client_for(users, "commissioner")
    k = page_contract.kpis.get()
    url = f"/performance/contracts/{page_contract.ocid}/returns/new/"
    bad = client.post(url, {"kpi": k.pk, "period_day": "1", "period_month": "8", "period_year": "2025",
                            "value": "lots"})
    assert bad.status_code == 400 and "is not a number" in bad.content.decode()
    out_of_term = client.post(url, {"kpi": k.pk, "period_day": "1", "period_month": "8", "period_year": "2031",
                                    "value": "90"})
    assert out_of_term.status_code == 400 and "after the contract ends" in out_of_term.content.decode()
    ok = client.post(url, {"kpi": k.pk, "period_day": "1", "period_month": "8", "period_year": "2025",
                           "value": "96"})
    assert ok.status_code == 302 and KpiReturn.objects.filter(kpi=k).count() == 2
    page = client.get(f"/performance/contracts/{page_contract.ocid}/").content.decode()
    assert "Breach" in page  # worth more than £5m with 1 of the 3 Act KPIs


def test_createuser_makes_a_provider_user_and_the_register_links_to_performance(users, page_contract, monkeypatch):
    from django.core.management import call_command

    from commissioner.performance.models import ProviderUser

    provider = page_contract.contract_suppliers.first().supplier.provider
    monkeypatch.setenv("COMMISSIONER_PASSWORD", PASSWORD)
    call_command("commissioner_createuser", "provider-cli", "--provider", str(provider.pk))
    link = ProviderUser.objects.get(user__username="provider-cli")
    assert link.provider == provider
    from django.test import Client

    client = Client()
    client.force_login(link.user)
    # The contract is private: its register record stays the council's; its performance page is the provider's.
    assert client.get(f"/contracts/{page_contract.ocid}/").status_code == 404
    page = client.get(f"/performance/contracts/{page_contract.ocid}/").content.decode()
    assert "record in the register" not in page
    assert f"/performance/contracts/{page_contract.ocid}/" in client_for(users, "viewer").get(
        f"/contracts/{page_contract.ocid}/").content.decode()
    assert f"/performance/contracts/{page_contract.ocid}/" not in client_for(users, "anonymous").get(
        "/contracts/").content.decode()


def test_only_a_superuser_or_the_cli_links_a_user_to_a_provider(users, page_contract, provider_user):
    provider = page_contract.contract_suppliers.first().supplier.provider
    with pytest.raises(PermissionDenied):
        services.link_provider_user(actor=users["admin"], user=provider_user, provider=provider)
    assert services.link_provider_user(actor=users["superuser"], user=provider_user, provider=provider)


def test_an_ended_contract_is_assessed_on_termination_not_every_year(users):
    c = contract(users, value=1_000_000, start=date(2023, 4, 1), end=date(2026, 3, 31))
    Contract.objects.filter(pk=c.pk).update(status="contract")
    due = {b.contract.pk: b.detail for b in queries.compliance(users["merton"], today=TODAY)}
    assert "on termination" in due[c.pk]
    services.record_assessment(actor=users["admin"], contract=c, period_start=date(2025, 4, 1),
                               period_end=date(2026, 3, 31), rating="other", kind="termination",
                               reason="no KPIs were set", assessed_on=date(2026, 4, 15))
    assert c.pk not in {b.contract.pk for b in queries.compliance(users["merton"], today=TODAY)}


def test_retiring_a_kpi_or_event_keeps_it_and_is_for_editors(users, page_contract):
    k = page_contract.kpis.get()
    e = services.record_event(actor=users["admin"], contract=page_contract, kind="break", day=date(2026, 9, 30))
    for kind, pk in (("kpis", k.pk), ("events", e.pk)):
        url = f"/performance/contracts/{page_contract.ocid}/{kind}/{pk}/retire/"
        assert client_for(users, "viewer").post(url).status_code == 403
        assert client_for(users, "other").post(url).status_code == 404
        assert client_for(users, "commissioner").get(url).status_code == 405
        assert client_for(users, "commissioner").post(url).status_code == 302
    k.refresh_from_db()
    e.refresh_from_db()
    assert not k.is_active and not e.is_active and k.returns.count() == 1
    assert AuditEvent.objects.filter(action="retired", model="performance.Kpi", object_pk=str(k.pk)).exists()


def test_trailing_misses_counted_by_the_database_equal_the_pure_rule(users):
    from commissioner.methods import performance as perf

    c = contract(users, value=1_000_000, start=date(2023, 4, 1))
    Contract.objects.filter(pk=c.pk).update(status="contract")
    sequences = {"ok then two misses": ["96", "80", "70"], "miss then ok": ["80", "96"], "all misses": ["80", "60"],
                 "none": [], "slightly below ends a run": ["80", "94"]}
    expected = {}
    for name, values in sequences.items():
        k = kpi(users, c, name=name)
        rets = [services.submit_return(actor=users["admin"], kpi=k, day=date(2023, 5 + 3 * i, 1), value=v)
                for i, v in enumerate(values)]
        expected[name] = perf.trailing_misses([r.classification for r in rets])
    assert expected == {"ok then two misses": 2, "miss then ok": 0, "all misses": 2, "none": 0,
                        "slightly below ends a run": 0}
    assert {k.name: k.trailing_misses for k in c.kpis.all()} == expected
    assert queries._trailing_misses(users["merton"])[c.pk] == 2
    # A correction counts as the period's result: correcting the last miss ends the run.
    last = KpiReturn.objects.get(kpi__name="ok then two misses", value=70)
    services.correct_return(actor=users["admin"], ret=last, value="99", reason="late data")
    services.update_kpi(actor=users["admin"], kpi=c.kpis.get(name="all misses"),  # a lower target: both met
                        data={"name": "all misses", "unit": "%", "target": "50", "direction": "higher"})
    assert queries._trailing_misses(users["merton"]).get(c.pk, 0) == 0


def test_median_of_the_others_equals_the_pure_median():
    from commissioner.methods import performance as perf

    for values in ([1, 2, 3, 4], [5, 5, 9], [Decimal("1.5"), 2, 7, 8, 20], [3, 3]):
        s = sorted(values)
        for i in range(len(s)):
            assert queries._median_without(s, i) == perf.median(s[:i] + s[i + 1:])


def test_the_contract_page_shows_the_overall_and_period_ratings(users):
    c = contract(users, value=1_000_000)
    on_time = kpi(users, c)
    services.submit_return(actor=users["admin"], kpi=on_time, day=date(2025, 5, 1), value="88")  # below: 1
    services.submit_return(actor=users["admin"], kpi=on_time, day=date(2025, 8, 1), value="99")  # met: 3
    p = queries.contract_performance(c, today=TODAY)
    assert p.overall.rating == "good" and [x[2].rating for x in p.periods] == ["good", "requires_improvement"]
    page = client_for(users, "viewer").get(f"/performance/contracts/{c.ocid}/").content.decode()
    assert "Overall, from each KPI's latest result: <strong>Good</strong>" in page


def test_exporting_a_council_without_kpis_says_so(users):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="nothing to export"):
        call_command("commissioner_performance", "export", "--org", "leeds")
