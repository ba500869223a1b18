"""Residents' feedback: the API (/api/v1/feedback/...) and the tenancy matrix of every new page and endpoint
(anonymous, a resident, Merton's admin, commissioner and viewer, another council's admin, a provider's user,
a site administrator)."""

import json

import pytest
from django.test import Client

from commissioner.feedback import services
from commissioner.feedback.models import Story
from commissioner.orgs.models import AuditEvent
from commissioner.register.models import Contract
from conftest import PASSWORD

ROLES = ("anonymous", "resident", "admin", "commissioner", "viewer", "other", "provider", "superuser")
TEXT = "The carers were kind and always on time, but the office never rang back when the rota changed."


def expect(*codes):
    return dict(zip(ROLES, codes, strict=True))


@pytest.fixture
def world(users, private_contract):
    from commissioner.orgs.services import create_user
    from commissioner.performance.services import link_provider_user

    contract = (Contract.objects.filter(owner=users["merton"], source="ocds", is_private=False,
                                        contract_suppliers__supplier__provider__isnull=False)
                .order_by("ocid").distinct().first())
    resident = services.register_resident(email="resident@example.org", password=PASSWORD, display_name="Alex")
    services.confirm_email(token=services.confirmation_token(resident))
    resident.refresh_from_db()
    provider = services.providers_of(contract)[0]
    provider_user = create_user(username="provider-person", password=PASSWORD)
    link_provider_user(actor=None, user=provider_user, provider=provider)
    fields = {"overall": 4, "recommend": "yes", "listened": 3, "month": 3, "year": 2025, "ip": "10.0.0.1"}
    shown, _ = services.post_story(author=resident, contract=contract, title="Kind carers", text=TEXT,
                                   submission_key="1", **fields)
    services.moderate(actor=users["admin"], story=shown, action="publish")
    held, _ = services.post_story(author=resident, contract=contract, title="Late again",
                                  text="Late again this week and nobody told us why it happened.", submission_key="2",
                                  **fields)
    return {**users, "resident": resident, "provider": provider_user, "contract": contract, "shown": shown,
            "held": held, "provider_obj": provider, "private": private_contract}


def client_for(world, role, **kw):
    client = Client(**kw)
    if role != "anonymous":
        client.force_login(world[role])
    return client


def check(world, url, expected, method="get", data=None):
    got = {}
    for role in ROLES:
        client = client_for(world, role)
        if method == "get":
            got[role] = client.get(url).status_code
        else:
            got[role] = client.post(url, json.dumps(data or {}), content_type="application/json").status_code
    assert got == expected, url


# Pages ----------------------------------------------------------------------------------------------

def test_public_pages_for_everyone(world):
    c, p = world["contract"], world["provider_obj"]
    for url in ("/feedback/", "/feedback/?q=demolition", "/feedback/policy/", f"/feedback/services/{c.ocid}/",
                f"/feedback/providers/{p.pk}/", f"/feedback/stories/{world['shown'].pk}/",
                f"/contracts/{c.ocid}/", f"/providers/{p.pk}/"):
        check(world, url, expect(200, 200, 200, 200, 200, 200, 200, 200))


def test_held_story_only_for_its_author_and_moderators(world):
    check(world, f"/feedback/stories/{world['held'].pk}/", expect(404, 200, 200, 200, 404, 404, 404, 200))


def test_private_service_page(world):
    check(world, f"/feedback/services/{world['private'].ocid}/", expect(404, 404, 200, 200, 200, 404, 404, 200))


def test_share_page(world):
    check(world, f"/feedback/services/{world['contract'].ocid}/share/",
          expect(200, 200, 403, 403, 403, 403, 403, 403))
    check(world, f"/feedback/providers/{world['provider_obj'].pk}/share/",
          expect(200, 200, 403, 403, 403, 403, 403, 403))


def test_exports(world):
    check(world, f"/feedback/services/{world['contract'].ocid}/export/",
          expect(302, 403, 200, 200, 403, 403, 403, 200))
    check(world, f"/feedback/providers/{world['provider_obj'].pk}/export/",
          expect(302, 403, 200, 200, 403, 200, 403, 200))
    # another council's admin exports a provider's feedback only from its own contracts: none here
    rows = client_for(world, "other").get(f"/feedback/providers/{world['provider_obj'].pk}/export/").content
    assert rows.decode().strip().count("\n") == 0
    assert AuditEvent.objects.filter(action="refused", after__attempt="export residents' feedback").exists()


def test_moderation_and_account_pages(world):
    check(world, "/feedback/moderation/", expect(302, 403, 200, 200, 403, 200, 403, 200))
    assert "Late again" not in client_for(world, "other").get("/feedback/moderation/").content.decode()
    assert "Late again" in client_for(world, "commissioner").get("/feedback/moderation/").content.decode()
    for url in ("/feedback/account/", "/feedback/account/my-data.json", "/feedback/account/erase/"):
        check(world, url, expect(302, 200, 403, 403, 403, 403, 403, 403))


def test_page_writes_matrix(world):
    """Reply and moderate by form: who may, who is refused (403, audited) and who cannot see the story (404)."""
    got = {}
    for role in ROLES:
        r = client_for(world, role).post(f"/feedback/stories/{world['shown'].pk}/reply/", {"text": f"reply {role}"})
        got[role] = r.status_code
    assert got == expect(302, 403, 302, 302, 403, 403, 302, 302)
    got = {}
    for role in ROLES:
        r = client_for(world, role).post(f"/feedback/stories/{world['held'].pk}/moderate/", {"action": "bogus"})
        got[role] = r.status_code
    assert got == expect(302, 403, 400, 400, 404, 404, 404, 400)
    got = {}
    for role in ROLES:
        r = client_for(world, role).post(f"/feedback/stories/{world['shown'].pk}/report/", {"reason": "x"})
        got[role] = r.status_code
    # the third report (admin's) hides it: then moderators see it (and cannot report it), others do not
    assert got == expect(302, 302, 302, 400, 404, 404, 404, 400)
    world["shown"].refresh_from_db()
    assert (world["shown"].status, world["shown"].report_count) == ("hidden", 3)


# API ------------------------------------------------------------------------------------------------

def test_api_reads_published_stories(world):
    c = world["contract"]
    check(world, f"/api/v1/feedback/stories?contract={c.ocid}", expect(200, 200, 200, 200, 200, 200, 200, 200))
    body = Client().get(f"/api/v1/feedback/stories?contract={c.ocid}").json()
    assert [s["id"] for s in body] == [world["shown"].pk]
    story = body[0]
    assert story["author"] == "Alex" and story["text"] == TEXT and story["happened"] == "2025-03"
    assert story["holds"] is None and story["report_count"] is None and story["classified"] is True
    assert story["sentiment"] in ("positive", "neutral", "negative")
    assert Client().get(f"/api/v1/feedback/stories?provider={world['provider_obj'].pk}").json()[0]["id"] == \
        world["shown"].pk
    r = Client().get("/api/v1/feedback/stories?contract=nope")
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    assert r.json()["errors"][0]["name"] == "contract"
    r = Client().get("/api/v1/feedback/stories?limit=0")
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "limit"
    check(world, f"/api/v1/feedback/stories/{world['held'].pk}", expect(404, 200, 200, 200, 404, 404, 404, 200))
    mine = client_for(world, "resident").get(f"/api/v1/feedback/stories/{world['held'].pk}").json()
    assert mine["status"] == "held" and mine["holds"] == [] and mine["report_count"] is None
    check(world, f"/api/v1/feedback/stories?contract={world['private'].ocid}",
          expect(422, 422, 200, 200, 200, 422, 422, 200))


def story_payload(key, **kw):
    return {"contract": None, "title": "From the API", "text": TEXT + " " + key, "overall": 2, "recommend": "no",
            "listened": 2, "month": 1, "year": 2025, "submission_key": key, **kw}


def test_api_post_a_story(world):
    c = world["contract"]
    got = {}
    for role in ROLES:
        r = client_for(world, role).post("/api/v1/feedback/stories", json.dumps(story_payload(role, contract=c.ocid)),
                                         content_type="application/json")
        got[role] = r.status_code
    assert got == expect(401, 201, 403, 403, 403, 403, 403, 403)
    client = client_for(world, "resident")
    body = client.post("/api/v1/feedback/stories", json.dumps(story_payload("resident", contract=c.ocid)),
                       content_type="application/json")
    assert body.status_code == 200 and body.json()["status"] == "held"  # the same submission again
    r = client.post("/api/v1/feedback/stories", json.dumps(story_payload(
        "pd", contract=c.ocid, text="Call Mrs Jones on 07700 900123 about the missed visits.")),
        content_type="application/json")
    assert r.status_code == 201 and [h["code"] for h in r.json()["holds"]] == ["name", "phone"]
    r = client.post("/api/v1/feedback/stories", json.dumps(story_payload("bad", contract=c.ocid, overall=9)),
                    content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "overall"
    r = client.post("/api/v1/feedback/stories", json.dumps(story_payload("none")), content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "subject"
    # CSRF is enforced for a session
    strict = client_for(world, "resident", enforce_csrf_checks=True)
    r = strict.post("/api/v1/feedback/stories", json.dumps(story_payload("csrf", contract=c.ocid)),
                    content_type="application/json")
    assert r.status_code == 403


def test_api_rate_limit_is_a_429_problem(world, settings):
    settings.FEEDBACK_LIMIT_ACCOUNT = (2, 3600)  # the resident already posted two in the fixture
    r = client_for(world, "resident").post(
        "/api/v1/feedback/stories", json.dumps(story_payload("x", contract=world["contract"].ocid)),
        content_type="application/json")
    assert r.status_code == 429 and r["Content-Type"] == "application/problem+json" and int(r["Retry-After"]) > 0
    assert "2 stories recently" in r.json()["detail"]


def test_api_moderation(world):
    check(world, "/api/v1/feedback/moderation", expect(401, 403, 200, 200, 403, 200, 403, 200))
    queue = client_for(world, "admin").get("/api/v1/feedback/moderation").json()
    assert [s["id"] for s in queue] == [world["held"].pk] and queue[0]["report_count"] == 0
    assert client_for(world, "other").get("/api/v1/feedback/moderation").json() == []
    assert client_for(world, "admin").get("/api/v1/feedback/moderation?status=x").status_code == 422
    url = f"/api/v1/feedback/stories/{world['held'].pk}/moderation"
    check(world, url, expect(401, 403, 422, 422, 404, 404, 404, 422), method="post", data={"action": "bogus"})
    r = client_for(world, "commissioner").post(url, json.dumps({"action": "publish"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "published"


def test_api_reply_and_report(world):
    url = f"/api/v1/feedback/stories/{world['shown'].pk}/replies"
    check(world, url, expect(401, 403, 201, 201, 403, 403, 201, 201), method="post",
          data={"text": "Thank you", "change": "planned"})
    story = Story.objects.get(pk=world["shown"].pk)
    assert story.change == "planned" and story.replies.count() == 4
    r = client_for(world, "admin").post(url, json.dumps({"text": "x", "change": "soon"}),
                                        content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "change"
    report = f"/api/v1/feedback/stories/{world['shown'].pk}/reports"
    r = Client().post(report, json.dumps({"reason": "rude"}), content_type="application/json")
    assert r.status_code == 201 and r.json() == {"counted": True, "status": "published"}
    assert Client().post(report, "{}", content_type="application/json").json()["counted"] is False
    for role in ("viewer", "other"):
        client_for(world, role).post(report, "{}", content_type="application/json")
    assert Client().get(f"/api/v1/feedback/stories/{world['shown'].pk}").status_code == 404  # hidden at 3
    assert client_for(world, "admin").get(f"/api/v1/feedback/stories/{world['shown'].pk}").json()["status"] == "hidden"
