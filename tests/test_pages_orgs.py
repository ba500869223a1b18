"""Organisation pages, alias correction and the audit trail, on the real Contracts Finder sample."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.utils import timezone

from commissioner.orgs.models import AuditEvent, Organisation, OrganisationAlias
from commissioner.orgs.services import audit
from commissioner.register import queries
from commissioner.register.models import Contract
from helpers import ROLES, client_for, csv_rows, statuses

pytestmark = pytest.mark.django_db






def test_list_of_buyers_with_real_counts(client):
    response = client.get("/organisations/")
    assert response.status_code == 200
    assert response.context["count"] == queries.organisations(AnonymousUser()).count() == 134
    councils = client.get("/organisations/", {"kind": "council"})
    assert councils.context["count"] == 51
    parishes = client.get("/organisations/", {"kind": "parish", "sort": "name"})
    assert [o.name for o in parishes.context["page_obj"]] == [
        "Lancing Parish Council", "Martock Parish Council", "Thame Town Council"]
    london = client.get("/organisations/", {"region": "London"})
    assert london.context["count"] == 9 and all(o.region == "London" for o in london.context["page_obj"])
    # Most contracts first by default: the Ministry of Defence and Doncaster buy 6 each in the sample.
    first = client.get("/organisations/").context["page_obj"][0]
    assert first.n_contracts == 6


@pytest.mark.parametrize("q, slug", [
    ("The North Yorkshire Council", "north-yorkshire"),  # a name it appears under, not its own
    ("E06000065", "north-yorkshire"),  # its ONS GSS code
    ("Merton", "merton"),
])
def test_search_by_name_alias_or_gss_code(client, q, slug):
    found = client.get("/organisations/", {"q": q}).context["page_obj"]
    assert [o.slug for o in found] == [slug]


@pytest.mark.parametrize("params, field, label", [
    ({"kind": "county"}, "kind", "Kind"), ({"region": "Atlantis"}, "region", "Region"),
    ({"sort": "size"}, "sort", "Sort by")])
def test_a_bad_filter_is_a_400_naming_the_field(client, params, field, label):
    response = client.get("/organisations/", params)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<a href="#{field}">{label}:' in html and f'id="{field}-error"' in html
    csv_response = client.get("/organisations.csv", params)
    assert csv_response.status_code == 400 and f"{label}:" in csv_response.content.decode()


def test_csv_holds_exactly_the_filtered_rows(client):
    params = {"kind": "public", "sort": "name"}
    rows = csv_rows(client.get("/organisations.csv", params))
    assert rows[0] == queries.ORG_CSV_COLUMNS
    expected = queries.organisations(AnonymousUser(), queries.OrgFilters.from_params(params))
    assert [r[0] for r in rows[1:]] == [o.slug for o in expected]
    assert len(rows) - 1 == client.get("/organisations/", params).context["count"] == 49
    assert 'href="/organisations.csv?kind=public&amp;sort=name"' in client.get(
        "/organisations/", params).content.decode()
    parish = csv_rows(client.get("/organisations.csv", {"kind": "parish", "sort": "name"}))
    assert parish[1][:3] == ["lancing-parish-council", "Lancing Parish Council", "parish"]


def test_council_page(client):
    response = client.get("/organisations/merton/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("London Borough of Merton", "Principal council", "E09000024", "MRT", "London borough",
                 "London, England", "206,453", "Current", "Exact name in the councils reference",
                 "Parking Pilot - CEO", "Demolition services Farm Road"):
        assert text in html, text
    assert response.context["contract_count"] == 3
    assert 'href="/contracts/?buyer=merton"' in html
    assert 'href="/organisations/merton/dashboard/"' in html
    assert "Correct a match" not in html  # not for anonymous users


def test_parish_page_and_an_organisation_under_two_names(client):
    lancing = client.get("/organisations/lancing-parish-council/").content.decode()
    assert "Parish or town council" in lancing and "Parish or town council (not in the reference)" in lancing
    nyorks = client.get("/organisations/north-yorkshire/")
    assert [a.name for a in nyorks.context["aliases"]] == ["North Yorkshire Council", "The North Yorkshire Council"]
    assert client.get("/organisations/no-such-place/").status_code == 404


def test_private_contracts_show_on_the_council_page_only_for_its_members(users, private_contract):
    for role in ROLES:
        html = client_for(users, role).get("/organisations/merton/").content.decode()
        member = role in ("admin", "commissioner", "viewer", "superuser")
        assert ("In-house reablement service" in html) == member, role


def test_alias_correction_moves_the_buyers_contracts(users):
    # "defra" is the Department for Environment, Food & Rural Affairs under another name.
    alias = OrganisationAlias.objects.get(name="defra")
    old, new = alias.organisation, Organisation.objects.get(name="Department for Environment, Food & Rural Affairs")
    moved = set(Contract.objects.filter(buyer=old).values_list("pk", flat=True))
    before = Contract.objects.filter(buyer=new).count()
    assert len(moved) == 1 and before == 1
    client = client_for(users, "admin")
    page = client.get(f"/organisations/{old.slug}/").content.decode()
    assert f'id="alias-{alias.pk}-organisation"' in page and "Organisation for ‘defra’" in page
    response = client.post(f"/organisations/{old.slug}/names/{alias.pk}/",
                           {f"alias-{alias.pk}-organisation": new.slug}, follow=True)
    assert response.redirect_chain == [(f"/organisations/{new.slug}/", 302)]
    assert "‘defra’ now belongs to Department for Environment, Food &amp; Rural Affairs" in (
        response.content.decode())
    alias.refresh_from_db()
    assert alias.organisation == new and alias.method == "manual"
    assert set(Contract.objects.filter(pk__in=moved).values_list("buyer", flat=True)) == {new.pk}
    assert Contract.objects.filter(buyer=new).count() == 2 == response.context["contract_count"]
    event = AuditEvent.objects.get(action="alias-corrected", object_pk=str(alias.pk))
    assert event.actor == users["admin"] and event.organisation == new
    assert event.before == {"organisation": old.pk, "method": "unmatched"}
    assert event.after == {"organisation": new.pk, "method": "manual"}


def test_alias_correction_errors(users):
    alias = OrganisationAlias.objects.get(name="Welland Procurement")
    url = f"/organisations/{alias.organisation.slug}/names/{alias.pk}/"
    field = f"alias-{alias.pk}-organisation"
    client = client_for(users, "superuser")
    for value, message in (("", "Select the organisation this name belongs to"),
                           ("atlantis", "Select an organisation from the list"),
                           (alias.organisation.slug, "Select a different organisation")):
        response = client.post(url, {field: value})
        assert response.status_code == 400
        html = response.content.decode()
        assert f'<a href="#{field}">{message}' in html and f'id="{field}-error"' in html
    assert OrganisationAlias.objects.get(pk=alias.pk).organisation_id == alias.organisation_id


@pytest.mark.parametrize("role, status", [
    ("anonymous", 302), ("viewer", 403), ("commissioner", 403), ("other", 302), ("superuser", 302),
    ("admin", 302)])
def test_who_may_correct_an_alias(users, role, status):
    alias = OrganisationAlias.objects.get(name="Welland Procurement")
    target = Organisation.objects.get(slug="welland-procurement-unit")
    response = client_for(users, role).post(f"/organisations/{alias.organisation.slug}/names/{alias.pk}/",
                                            {f"alias-{alias.pk}-organisation": target.slug})
    assert response.status_code == status
    alias.refresh_from_db()
    assert (alias.organisation == target) == (role in ("admin", "other", "superuser"))
    if role == "anonymous":
        assert response["Location"].startswith("/sign-in/?next=")


def test_alias_correction_without_csrf_token_is_refused(users):
    alias = OrganisationAlias.objects.get(name="Welland Procurement")
    client = client_for(users, "superuser", enforce_csrf_checks=True)
    response = client.post(f"/organisations/{alias.organisation.slug}/names/{alias.pk}/",
                           {f"alias-{alias.pk}-organisation": "welland-procurement-unit"})
    assert response.status_code == 403
    assert OrganisationAlias.objects.get(pk=alias.pk).organisation.slug == "welland-procurement"


# --- audit trail -------------------------------------------------------------------------------------

def test_audit_trail_is_for_admins(users, private_contract):
    expected = statuses(302, 200, 403, 403, 200, 200)
    got = {role: client_for(users, role).get("/audit/").status_code for role in ROLES}
    assert got == expected
    assert Client().get("/audit/")["Location"] == "/sign-in/?next=/audit/"


def test_each_admin_sees_their_organisations_events(users, private_contract):
    merton_event = AuditEvent.objects.get(action="created", object_pk=str(private_contract.pk),
                                          model="register.Contract")
    assert merton_event.organisation == users["merton"]
    seen = {role: set(client_for(users, role).get("/audit/", {"model": "register.Contract"})
                      .context["page_obj"].paginator.object_list.values_list("pk", flat=True))
            for role in ("admin", "other", "superuser")}
    assert merton_event.pk in seen["admin"] and merton_event.pk in seen["superuser"]
    assert merton_event.pk not in seen["other"]
    # The import's 190 contract events have a buyer organisation; Leeds has none of them.
    assert len(seen["superuser"]) == AuditEvent.objects.filter(model="register.Contract").count() >= 191
    assert all(AuditEvent.objects.get(pk=pk).organisation == users["merton"] for pk in seen["admin"])


def test_audit_filters_and_readable_changes(users):
    root = users["superuser"]
    org = users["merton"]
    event = audit(actor=root, organisation=org, action="updated", obj=org,
                  before={"name": "London Borough of Merton", "website": ""},
                  after={"name": "London Borough of Merton", "website": "https://www.merton.gov.uk"})
    client = client_for(users, "superuser")
    response = client.get("/audit/", {"model": "orgs.Organisation", "action": "updated", "actor": "root"})
    assert [e.pk for e in response.context["page_obj"]] == [event.pk]
    changes = response.context["page_obj"][0].changes
    assert changes == [
        {"field": "name", "before": "London Borough of Merton", "after": "London Borough of Merton",
         "changed": False},
        {"field": "website", "before": "(empty)", "after": "https://www.merton.gov.uk", "changed": True}]
    html = response.content.decode()
    assert "Website <strong class=\"govuk-tag govuk-tag--yellow\">Changed</strong>" in html
    today = timezone.localdate()
    assert event.pk in [e.pk for e in client.get("/audit/", {"date_from": today.isoformat(),
                                                             "date_to": today.isoformat()}).context["page_obj"]]
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert client.get("/audit/", {"date_from": tomorrow}).context["count"] == 0
    # The Merton admin sees it too (their organisation); Leeds' admin does not.
    assert client_for(users, "admin").get("/audit/", {"actor": "root"}).context["count"] == 1
    assert client_for(users, "other").get("/audit/", {"actor": "root"}).context["count"] == 0


@pytest.mark.parametrize("params, field, label", [
    ({"date_from": "31/01/2025"}, "date_from", "From date"),
    ({"date_from": "2025-02-01", "date_to": "2025-01-01"}, "date_to", "To date")])
def test_audit_bad_dates_are_400_naming_the_field(users, params, field, label):
    response = client_for(users, "superuser").get("/audit/", params)
    assert response.status_code == 400
    assert f'<a href="#{field}">{label}:' in response.content.decode()


# --- every page x role -------------------------------------------------------------------------------

MATRIX = {
    "/organisations/": statuses(*[200] * 6),
    "/organisations.csv": statuses(*[200] * 6),
    "/organisations/merton/": statuses(*[200] * 6),
    "/organisations/leeds/": statuses(*[200] * 6),
    "/organisations/lancing-parish-council/": statuses(*[200] * 6),
    "/audit/": statuses(302, 200, 403, 403, 200, 200),
    "/audit/?model=register.Contract&action=created": statuses(302, 200, 403, 403, 200, 200),
}


@pytest.mark.parametrize("url", MATRIX)
def test_tenancy_matrix(users, private_contract, url):
    got = {role: client_for(users, role).get(url).status_code for role in ROLES}
    assert got == MATRIX[url]


def test_pages_have_one_h1_captions_and_no_inline_styles(users, private_contract):
    client = client_for(users, "admin")
    for url in ("/organisations/", "/organisations/merton/", "/audit/", "/organisations/?kind=bad"):
        html = client.get(url).content.decode()
        assert html.count("<h1") == 1 and "style=" not in html, url
        assert html.count("<table") == html.count("<caption"), url


def test_audit_shows_a_deleted_records_children_kept_under_a_reverse_relation(users):
    """A deleted record's audit entry may keep its children under a reverse relation's name (a provider's
    'suppliers'): the trail shows the key, it does not fail."""
    from commissioner.register.models import Provider

    provider = Provider.objects.filter(is_private=False).first()
    audit(actor=users["superuser"], organisation=users["merton"], action="deleted", obj=provider,
          before={"name": provider.name, "suppliers": [{"name": "A"}]})
    response = client_for(users, "superuser").get("/audit/", {"action": "deleted"})
    assert response.status_code == 200
    fields = [c["field"] for c in response.context["page_obj"][0].changes]
    assert fields == ["name", "suppliers"]
