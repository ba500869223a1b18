"""Merging providers and splitting identities out, through the pages and the Django admin, on real data."""

from decimal import Decimal

import pytest
from django.test import Client

from commissioner.ocds.models import Release
from commissioner.ocds.services import import_ocds
from commissioner.orgs.models import AuditEvent
from commissioner.register.models import Provider, Supplier
from commissioner.register.services import create_local_contract
from conftest import CF_PACKAGE

# Two spellings of one firm in the "Repairs and Planned Works Framework" award that the
# normalised-name rule leaves apart ("T/A" becomes "t a", "TA" stays "ta"), at the same address.
ELKINS_SLASH, ELKINS_TA = "GB-CFS-312099", "GB-CFS-312116"
FRAMEWORK = "Repairs and Planned Works Framework"



def provider_of(key):
    return Supplier.objects.get(key=key).provider


def signed_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def test_the_sample_leaves_the_two_elkins_spellings_apart(db):
    keep, other = provider_of(ELKINS_SLASH), provider_of(ELKINS_TA)
    assert keep.pk != other.pk
    assert (keep.name, other.name) == ("A&E Elkins T/A Elkins Construction", "A&E Elkins TA Elkins Construction")
    assert Supplier.objects.get(key=ELKINS_SLASH).address == Supplier.objects.get(key=ELKINS_TA).address


def test_merge_then_split_restores_separate_providers_with_both_in_the_audit_trail(users):
    keep, other = provider_of(ELKINS_SLASH), provider_of(ELKINS_TA)
    other_pk = other.pk
    client = signed_in(users["admin"])

    confirm = client.get(f"/providers/{keep.pk}/merge/", {"other": other_pk})
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Merge A&amp;E Elkins TA Elkins Construction into A&amp;E Elkins T/A Elkins Construction?" in html
    assert ELKINS_TA in html and 'name="csrfmiddlewaretoken"' in html
    assert provider_of(ELKINS_TA).pk == other_pk  # a GET changes nothing

    response = client.post(f"/providers/{keep.pk}/merge/", {"other": other_pk}, follow=True)
    assert response.redirect_chain == [(f"/providers/{keep.pk}/", 302)]
    assert not Provider.objects.filter(pk=other_pk).exists()
    moved = Supplier.objects.get(key=ELKINS_TA)
    assert (moved.provider_id, moved.match, moved.locked) == (keep.pk, "manual", True)
    assert moved.match_detail == "merged by merton-admin"
    html = response.content.decode()
    assert "Merged ‘A&amp;E Elkins TA Elkins Construction’ into" in html
    assert "Set by an admin" in html and "Merged by merton-admin" in html
    # Both names are on one framework contract: it counts once on the page.
    assert response.context["totals"] == {"count": 1, "value": 175000000}
    assert "£175,000,000" in html

    merged = AuditEvent.objects.get(action="merged", object_pk=str(moved.pk))
    assert merged.actor == users["admin"] and merged.model == "register.Supplier"
    assert merged.before["provider"] == other_pk and merged.after["provider"] == keep.pk
    assert (merged.before["locked"], merged.after["locked"]) == (False, True)
    gone = AuditEvent.objects.get(action="deleted-after-merge", object_pk=str(other_pk))
    assert gone.before["name"] == "A&E Elkins TA Elkins Construction"

    split_url = f"/providers/{keep.pk}/names/{moved.pk}/split/"
    assert "Split ‘A&amp;E Elkins TA Elkins Construction’ into a provider of its own?" in (
        client.get(split_url).content.decode())
    response = client.post(split_url, follow=True)
    assert response.redirect_chain == [(f"/providers/{keep.pk}/", 302)]
    alone = provider_of(ELKINS_TA)
    assert alone.pk not in (keep.pk, other_pk)
    assert alone.name == "A&E Elkins TA Elkins Construction"
    assert provider_of(ELKINS_SLASH).pk == keep.pk
    assert [s.key for s in keep.suppliers.all()] == [ELKINS_SLASH]
    assert (alone.contract_count, keep.contract_count) == (1, 1)
    assert "is now a provider of its own" in response.content.decode()

    split = AuditEvent.objects.get(action="split", object_pk=str(moved.pk))
    assert split.before["provider"] == keep.pk and split.after["provider"] == alone.pk
    assert split.before["match"] == "manual" and split.after["locked"] is True
    assert split.actor == users["admin"]
    # The audit trail page shows both, with before and after as a field table.
    audit = client.get("/audit/", {"model": "register.Supplier"}).content.decode()
    assert audit.count("Merged: A&amp;E Elkins TA Elkins Construction") == 1
    assert audit.count("Split: A&amp;E Elkins TA Elkins Construction") == 1
    assert "Fields before and after" in audit


def test_a_split_identity_stays_split_when_the_same_data_is_imported_again(users):
    axis = provider_of("GB-CFS-312098")
    assert axis.suppliers.count() == 6
    limited = Supplier.objects.get(key="GB-CFS-302805")  # "Axis Europe Limited"
    signed_in(users["superuser"]).post(f"/providers/{axis.pk}/names/{limited.pk}/split/")
    alone = provider_of("GB-CFS-302805")
    assert alone.pk != axis.pk and axis.suppliers.count() == 5
    assert Provider.objects.count() == 234

    # Forget the releases so the import really handles every notice (and supplier) again.
    Release.objects.all().delete()
    summary = import_ocds([CF_PACKAGE], source_label="test re-import")
    assert summary.releases_new == 200 and not summary.rejected

    limited.refresh_from_db()
    assert limited.provider_id == alone.pk and limited.locked and limited.match == "manual"
    assert axis.suppliers.count() == 5
    assert Provider.objects.count() == 234
    alone.refresh_from_db()
    assert alone.contract_count == 1 and alone.name == "Axis Europe Limited"


@pytest.mark.parametrize("role, status", [
    ("viewer", 403), ("commissioner", 403), ("admin", 302), ("other", 302), ("superuser", 302)])
def test_who_may_merge_public_providers(users, role, status):
    keep, other = provider_of(ELKINS_SLASH), provider_of(ELKINS_TA)
    response = signed_in(users[role]).post(f"/providers/{keep.pk}/merge/", {"other": other.pk})
    assert response.status_code == status
    assert Provider.objects.filter(pk=other.pk).exists() == (status == 403)


def test_anonymous_users_are_sent_to_sign_in_and_nothing_changes(db):
    keep, other = provider_of(ELKINS_SLASH), provider_of(ELKINS_TA)
    response = Client().post(f"/providers/{keep.pk}/merge/", {"other": other.pk})
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
    assert Provider.objects.filter(pk=other.pk).exists()


def test_private_providers_merge_only_with_their_councils_private_providers(users, private_contract):
    private = private_contract.contract_suppliers.get().supplier.provider
    public = provider_of(ELKINS_SLASH)
    admin = signed_in(users["admin"])
    # A public provider cannot swallow a council's private one, nor the other way round.
    for keep, other in ((public, private), (private, public)):
        response = admin.post(f"/providers/{keep.pk}/merge/", {"other": other.pk})
        assert response.status_code == 400
        assert "Only two public providers, or two private providers of the same organisation" in (
            response.content.decode())
    second = create_local_contract(
        owner=users["merton"], actor=users["admin"], title="In-house meals service", delivery_model="inhouse",
        provider_name="Merton Meals Team", supplier_type="inhouse", value=50000, is_private=True,
    ).contract_suppliers.get().supplier.provider
    # Leeds' admin cannot even see Merton's private providers.
    assert signed_in(users["other"]).post(
        f"/providers/{private.pk}/merge/", {"other": second.pk}).status_code == 404
    assert admin.post(f"/providers/{private.pk}/merge/", {"other": second.pk}).status_code == 302
    assert not Provider.objects.filter(pk=second.pk).exists()
    assert private.suppliers.count() == 2


@pytest.mark.parametrize("other, message", [
    ("", "Enter the ID or name of the provider to merge into this one"),
    ("999999", "There is no provider with that ID"),
    ("self", "You cannot merge a provider into itself"),
])
def test_bad_merge_requests_are_explained(users, other, message):
    keep = provider_of(ELKINS_SLASH)
    other = str(keep.pk) if other == "self" else other
    response = signed_in(users["admin"]).post(f"/providers/{keep.pk}/merge/", {"other": other})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html and f'<a href="#other">{message}</a>' in html


def test_merge_search_by_name_lists_candidates(users):
    keep = provider_of(ELKINS_SLASH)
    response = signed_in(users["admin"]).get(f"/providers/{keep.pk}/merge/", {"other": "elkins"})
    assert response.status_code == 200
    assert [p.pk for p in response.context["candidates"]] == [provider_of(ELKINS_TA).pk]
    assert f"?other={provider_of(ELKINS_TA).pk}" in response.content.decode()


def test_a_provider_with_one_name_cannot_be_split(users):
    keep = provider_of(ELKINS_SLASH)
    supplier = keep.suppliers.get()
    assert signed_in(users["admin"]).post(f"/providers/{keep.pk}/names/{supplier.pk}/split/").status_code == 404


def test_django_admin_actions_go_through_the_audited_services(users):
    root = users["superuser"]
    client = signed_in(root)
    keep, other = provider_of(ELKINS_SLASH), provider_of(ELKINS_TA)
    response = client.post("/admin/register/provider/", {
        "action": "merge_selected", "_selected_action": [keep.pk, other.pk]}, follow=True)
    assert response.status_code == 200
    survivors = {provider_of(ELKINS_SLASH).pk, provider_of(ELKINS_TA).pk}
    assert len(survivors) == 1
    assert AuditEvent.objects.filter(action="merged", actor=root).count() == 1

    supplier = Supplier.objects.get(key=ELKINS_TA)
    client.post("/admin/register/supplier/", {"action": "split_selected", "_selected_action": [supplier.pk]})
    assert provider_of(ELKINS_TA).pk != provider_of(ELKINS_SLASH).pk
    assert AuditEvent.objects.filter(action="split", actor=root, object_pk=str(supplier.pk)).exists()
    # The admin cannot edit a provider link by hand, behind the audit trail's back.
    change = client.get(f"/admin/register/supplier/{supplier.pk}/change/").content.decode()
    assert 'name="provider"' not in change


def test_stored_totals_count_each_contract_once(db):
    """Axis Europe has five names on one £175m framework and one on a £263,321.17 contract."""
    axis = provider_of("GB-CFS-312098")
    assert axis.contract_count == 2
    assert axis.total_value == Decimal("175263321.17")
