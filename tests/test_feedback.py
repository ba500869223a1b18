"""Residents' feedback: accounts confirmed by email, stories held for moderation (every automatic hold class),
reports, rate limits and spam waves, replies and notifications, themes from the classifier (and without a
model), personal data (download, erasure, retention), pages, the CSV export and the demo."""

import json
import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from commissioner.feedback import analysis, queries, services
from commissioner.feedback.models import (
    ModerationEvent,
    Notification,
    PostAttempt,
    Report,
    ResidentProfile,
    Story,
)
from commissioner.orgs.models import AuditEvent
from commissioner.register.models import Contract
from conftest import PASSWORD

TEXT = "The carers were kind and always on time, but the office never rang back when the rota changed."


@pytest.fixture(autouse=True)
def _model_cache():
    analysis.forget()
    yield
    analysis.forget()


def make_resident(email="resident@example.org", confirm=True, name="Alex"):
    user = services.register_resident(email=email, password=PASSWORD, display_name=name)
    if confirm:
        services.confirm_email(token=services.confirmation_token(user))
    user.refresh_from_db()
    return user


@pytest.fixture
def resident(db):
    return make_resident()


@pytest.fixture
def contract(users):
    """A public Merton contract with a provider."""
    return (Contract.objects.filter(owner=users["merton"], source="ocds", is_private=False,
                                    contract_suppliers__supplier__provider__isnull=False)
            .order_by("ocid").distinct().first())


@pytest.fixture
def provider_user(contract):
    from commissioner.orgs.services import create_user
    from commissioner.performance.services import link_provider_user

    user = create_user(username="provider-person", password=PASSWORD)
    link_provider_user(actor=None, user=user, provider=services.providers_of(contract)[0])
    return user


def post(author, contract, text=TEXT, ip="10.0.0.1", **kw):
    fields = {"title": "Kind carers", "overall": 4, "recommend": "yes", "listened": 3, "month": 3, "year": 2025}
    fields.update(kw)
    return services.post_story(author=author, contract=contract, text=text, ip=ip, **fields)


def published(author, contract, moderator, **kw):
    story, _ = post(author, contract, **kw)
    return services.moderate(actor=moderator, story=story, action="publish")


# Accounts ------------------------------------------------------------------------------------------

def test_register_confirm_by_emailed_link_then_post(db, contract):
    mail.outbox.clear()
    client = Client()
    r = client.post("/feedback/account/register/", {"email": "New.Person@Example.org", "display_name": "Jo",
                                                     "password": PASSWORD, "password_again": PASSWORD})
    # post/redirect/get: a refresh of "Check your email" sends nothing again
    assert r.status_code == 302 and r["Location"] == "/feedback/account/registered/"
    for _ in range(2):
        page = client.get(r["Location"])
        assert page.status_code == 200 and "Check your email" in page.content.decode()
        assert "new.person@example.org" in page.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@example.org"]
    link = re.search(r"http\S+/feedback/account/confirm/\S+/", mail.outbox[0].body).group(0)
    share = f"/feedback/services/{contract.ocid}/share/"
    assert "Confirm your email address first" in client.get(share).content.decode()  # signed in, not confirmed
    user = ResidentProfile.objects.get(user__username="new.person@example.org").user
    with pytest.raises(services.Refused):
        post(user, contract)
    r = client.get(link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3])
    assert r.status_code == 200 and "Email address confirmed" in r.content.decode()
    user.resident.refresh_from_db()
    assert user.resident.confirmed and user.check_password(PASSWORD)
    assert user.password.startswith("md5") or user.password.startswith("argon2")
    assert client.get(share).status_code == 200
    # The audit trail, which the council's admins read, holds neither the email nor a story's title or text:
    # not for the account, not for the story the resident shares.
    post(user, contract, title="My anonymous title", anonymous=True)
    events = list(AuditEvent.objects.all())
    assert any(e.actor_label == "a resident" for e in events)
    for event in events:
        text = json.dumps([event.actor_label, event.object_repr, event.before, event.after], default=str)
        assert "person@example" not in text.lower() and "My anonymous title" not in text


@pytest.mark.argon2
def test_resident_password_is_argon2_and_sign_in_is_throttled(db, settings):
    make_resident("argon@example.org")
    user = ResidentProfile.objects.get(user__username="argon@example.org").user
    assert user.password.startswith("argon2")
    client = Client()
    assert client.post("/sign-in/", {"username": "argon@example.org", "password": PASSWORD}).status_code == 302
    settings.LOGIN_RATE_LIMIT = 2
    bad = Client()
    for _ in range(2):
        bad.post("/sign-in/", {"username": "argon@example.org", "password": "wrong"})
    assert bad.post("/sign-in/", {"username": "argon@example.org", "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize("email, password, field", [
    ("not-an-email", PASSWORD, "email"), ("ok@example.org", "short", "password"),
    ("resident@example.org", PASSWORD, "email"),  # already registered
])
def test_register_refuses_bad_input(resident, email, password, field):
    with pytest.raises(services.FeedbackInputError) as e:
        services.register_resident(email=email, password=password)
    assert e.value.field == field


def test_bad_or_old_confirmation_link(resident, settings):
    with pytest.raises(services.FeedbackInputError, match="not valid"):
        services.confirm_email(token="nonsense")
    settings.FEEDBACK_CONFIRM_DAYS = -1
    with pytest.raises(services.FeedbackInputError, match="expired"):
        services.confirm_email(token=services.confirmation_token(resident))


def test_only_residents_post(users, contract, provider_user):
    for who in (users["admin"], users["viewer"], users["superuser"], provider_user):
        with pytest.raises(services.Refused):
            post(who, contract)
    assert not Story.objects.exists()
    assert AuditEvent.objects.filter(action="refused", after__attempt="post a story").count() == 4


# Stories and holds ----------------------------------------------------------------------------------

def test_every_story_is_held_and_nothing_is_public_until_published(resident, contract, users):
    story, created = post(resident, contract)
    assert created and story.status == "held" and story.holds == []
    assert story.council == users["merton"] and story.provider == services.providers_of(contract)[0]
    assert story.happened == date(2025, 3, 1) and story.author_label == "Alex"
    assert list(queries.for_contract(users["viewer"], contract)) == []
    event = ModerationEvent.objects.get(story=story)
    assert event.action == "held" and event.reasons == []
    services.moderate(actor=users["commissioner"], story=story, action="publish")
    assert [s.pk for s in queries.for_contract(AnonymousUser(), contract)] == [story.pk]
    assert Notification.objects.get(user=resident).text == "Your story has been published."


@pytest.mark.parametrize("text, kind, code", [
    ("The driver Mr Smith was rude and late for every single visit.", "personal_data", "name"),
    ("Please call me back on 07700 900123 about the missed visits.", "personal_data", "phone"),
    ("Write to me at jo.bloggs@example.com about the missed visits.", "personal_data", "email"),
    ("They never came to the house at DN4 5HT on the agreed day.", "personal_data", "postcode"),
    ("They never came to 12 Acacia Avenue on the agreed day at all.", "personal_data", "address"),
    ("The man on the phone was a complete idiot and hung up on me.", "abuse", "abuse"),
    ("Better care is at https://example.net/cheap for half the price.", "spam", "link"),
    ("bad bad bad bad bad bad bad service from start to the end", "spam", "repetition"),
])
def test_automatic_holds_say_why(resident, contract, text, kind, code):
    story, _ = post(resident, contract, text=text)
    assert story.status == "held"
    assert {"kind": kind, "code": code} in [{"kind": h["kind"], "code": h["code"]} for h in story.holds]
    assert code in ModerationEvent.objects.get(story=story).reasons


def test_block_list_words_and_emails(resident, contract, users):
    with pytest.raises(services.Refused):
        services.add_blocked(actor=users["admin"], kind="word", value="louts")
    services.add_blocked(actor=users["superuser"], kind="word", value="Louts")
    story, _ = post(resident, contract, text="The collectors are louts who throw the bins about the road.")
    assert [h["code"] for h in story.holds] == ["blocked_word"]
    services.add_blocked(actor=users["superuser"], kind="email", value="@spam.example")
    with pytest.raises(services.FeedbackInputError, match="cannot be used"):
        services.register_resident(email="x@spam.example", password=PASSWORD)
    services.add_blocked(actor=users["superuser"], kind="email", value="resident@example.org")
    with pytest.raises(services.Refused):
        post(resident, contract, submission_key="later")
    with pytest.raises(services.FeedbackInputError):
        services.add_blocked(actor=users["superuser"], kind="email", value="not an email")


def test_repeated_text_from_another_account_is_held_as_spam(resident, contract):
    other = make_resident("second@example.org")
    first, _ = post(resident, contract)
    second, _ = post(other, contract, text=TEXT.lower().replace(".", "!"), ip="10.0.0.2")
    assert first.holds == [] and [h["code"] for h in second.holds] == ["repeated_text"]


def test_spam_wave_from_one_address_is_held_then_refused(db, contract, settings):
    settings.FEEDBACK_WAVE_HOLD, settings.FEEDBACK_LIMIT_ADDRESS = 2, (4, 3600)
    accounts = [make_resident(f"wave{i}@example.org") for i in range(6)]
    results = []
    for i, who in enumerate(accounts[:4]):
        story, _ = post(who, contract, text=f"Story number {i}: the service was late again this week.", ip="9.9.9.9")
        results.append([h["code"] for h in story.holds])
    assert results == [[], [], ["wave"], ["wave"]]
    with pytest.raises(services.RateLimited) as e:
        post(accounts[4], contract, text="Yet another story about the service being late.", ip="9.9.9.9")
    assert "spam wave" in e.value.message and e.value.retry_after > 0
    assert Story.objects.count() == 4
    assert PostAttempt.objects.filter(ip="9.9.9.9", accepted=False).count() == 1
    # another connection is not affected
    assert post(accounts[5], contract, text="A story from somewhere else entirely, fine.", ip="8.8.8.8")[1]


def test_rate_limit_per_account(resident, contract, settings):
    settings.FEEDBACK_LIMIT_ACCOUNT = (2, 3600)
    post(resident, contract, submission_key="a", ip="1.1.1.1")
    post(resident, contract, submission_key="b", text=TEXT + " Again.", ip="1.1.1.2")
    with pytest.raises(services.RateLimited, match="2 stories recently"):
        post(resident, contract, submission_key="c", text=TEXT + " Third.", ip="1.1.1.3")
    assert Story.objects.filter(author=resident).count() == 2
    # the same submission sent again is not a new attempt and not refused
    _again, created = post(resident, contract, submission_key="a", ip="1.1.1.1")
    assert not created and Story.objects.filter(author=resident).count() == 2


def test_duplicate_submission_gives_the_same_story(resident, contract):
    one, created1 = post(resident, contract, submission_key="k1")
    two, created2 = post(resident, contract, submission_key="k1")
    assert (created1, created2) == (True, False) and one.pk == two.pk and Story.objects.count() == 1


@pytest.mark.parametrize("change, field", [
    ({"month": 13}, "happened"), ({"month": (timezone.localdate() + timedelta(days=40)).month,
                                   "year": (timezone.localdate() + timedelta(days=40)).year}, "happened"),
    ({"year": 1800}, "happened"), ({"overall": 6}, "overall"), ({"overall": "x"}, "overall"),
    ({"listened": 0}, "listened"), ({"recommend": "maybe"}, "recommend"), ({"title": " "}, "title"),
    ({"text": "too short"}, "text"), ({"text": "x" * 5001}, "text"),
])
def test_bad_input_names_the_field_and_saves_nothing(resident, contract, change, field):
    with pytest.raises(services.FeedbackInputError) as e:
        post(resident, contract, **change)
    assert e.value.field == field
    assert not Story.objects.exists() and not PostAttempt.objects.exists()


# Reports and moderation -----------------------------------------------------------------------------

def test_three_reports_hide_a_story_until_reviewed(resident, contract, users):
    story = published(resident, contract, users["admin"])
    assert services.report_story(story=story, reporter=users["viewer"], reason="rude")
    assert not services.report_story(story=story, reporter=users["viewer"])  # once each
    assert services.report_story(story=story, ip="5.5.5.5")
    assert not services.report_story(story=story, ip="5.5.5.5")
    story.refresh_from_db()
    assert (story.status, story.report_count) == ("published", 2)
    assert services.report_story(story=story, reporter=users["other"])
    story.refresh_from_db()
    assert (story.status, story.report_count) == ("hidden", 3)
    assert list(queries.for_contract(users["viewer"], contract)) == []
    assert story in queries.moderation_queue(users["commissioner"])
    services.moderate(actor=users["commissioner"], story=story, action="publish", note="fair comment")
    story.refresh_from_db()
    assert (story.status, story.report_count) == ("published", 0)
    assert Report.objects.filter(story=story, reviewed=False).count() == 0
    assert [e.action for e in queries.history(story)] == ["held", "publish", "hidden", "publish"]


def test_anonymous_reports_count_once_per_connection(resident, contract, users):
    """Other addresses of the same connection (an IPv4 /24, an IPv6 /64) are the same reader: one person cannot
    hide a story alone. The network is kept, not the address."""
    story = published(resident, contract, users["admin"])
    assert services.report_story(story=story, ip="5.5.5.5")
    assert not services.report_story(story=story, ip="5.5.5.77")
    assert services.report_story(story=story, ip="2001:db8:1:2::5")
    assert not services.report_story(story=story, ip="2001:db8:1:2:ffff::9")
    story.refresh_from_db()
    assert (story.status, story.report_count) == ("published", 2)
    assert sorted(Report.objects.values_list("ip", flat=True)) == ["2001:db8:1:2::/64", "5.5.5.0/24"]


def test_who_may_moderate(resident, contract, users, provider_user):
    story, _ = post(resident, contract)
    for who in (users["viewer"], users["other"], provider_user, resident):
        with pytest.raises(services.Refused):
            services.moderate(actor=who, story=story, action="publish")
    assert AuditEvent.objects.filter(action="refused", after__attempt="moderate stories").count() == 4
    assert queries.moderation_queue(users["other"]).count() == 0
    assert [s.pk for s in queries.moderation_queue(users["superuser"])] == [story.pk]
    with pytest.raises(services.FeedbackInputError, match="reason"):
        services.moderate(actor=users["admin"], story=story, action="reject")
    services.moderate(actor=users["admin"], story=story, action="reject", note="Not about the service")
    assert "Not about the service" in Notification.objects.get(user=resident).text


def test_provider_stories_without_a_council_are_moderated_by_site_administrators(resident, contract, users):
    provider = services.providers_of(contract)[0]
    story, _ = services.post_story(author=resident, provider=provider, title="About them", text=TEXT, overall=3,
                                   recommend="unsure", listened=3, month=1, year=2025, ip="1.2.3.4")
    assert story.council is None and story.contract is None
    with pytest.raises(services.Refused):
        services.moderate(actor=users["admin"], story=story, action="publish")
    services.moderate(actor=users["superuser"], story=story, action="publish")
    assert [s.pk for s in queries.for_provider(users["viewer"], provider)] == [story.pk]


def test_removed_personal_data_is_kept_nowhere(resident, contract, users):
    text = "Mr Smith never came. Ring me on 07700 900123 or at 12 Acacia Avenue, DN4 5HT, thank you."
    story, _ = post(resident, contract, text=text, title="Missed visits")
    story = services.moderate(actor=users["admin"], story=story, action="redact", note="removed contact details")
    assert story.status == "published"
    assert story.text == "Mr [removed] never came. Ring me on [removed] or at [removed], [removed], thank you."
    stored = json.dumps([list(ModerationEvent.objects.values()), list(AuditEvent.objects.values(
        "object_repr", "before", "after"))], default=str)
    for secret in ("Smith", "07700", "Acacia", "DN4"):
        assert secret not in stored
    assert ModerationEvent.objects.filter(story=story, action="redact").get().reasons == [
        "name", "phone", "postcode", "address"]


def test_replies_mark_changes_and_tell_the_author(resident, contract, users, provider_user):
    story = published(resident, contract, users["admin"])
    mail.outbox.clear()
    services.reply(actor=users["commissioner"], story=story, text="We are adding a call-back line.",
                   change="planned")
    row = services.reply(actor=provider_user, story=story, text="Sorry: the rota is now sent by text.",
                         change="made")
    story.refresh_from_db()
    assert story.change == "made" and row.by == services.providers_of(contract)[0].name
    assert [r.by for r in story.replies.all()] == [users["merton"].name, row.by]
    texts = [n.text for n in Notification.objects.filter(user=resident).order_by("id")]
    assert texts[1:] == [f"{users['merton'].name} replied to your story (change planned).",
                         f"{row.by} replied to your story (change made)."]
    assert [m.to for m in mail.outbox] == [["resident@example.org"], ["resident@example.org"]]
    for who in (users["viewer"], users["other"], resident):
        with pytest.raises(services.Refused):
            services.reply(actor=who, story=story, text="hello")
    with pytest.raises(services.FeedbackInputError):
        services.reply(actor=users["admin"], story=story, text="x", change="soon")


# Themes and sentiment -------------------------------------------------------------------------------

def test_stories_are_classified_with_the_model_version(resident, contract):
    story, _ = post(resident, contract, text="The staff were rude and I waited three hours and nobody called back.")
    assert story.sentiment == "negative"
    assert "staff_attitude" in story.themes or "timeliness" in story.themes
    assert story.model_version.startswith("sha256:138d8260104ed66b87e865a10e8e568a72ae2a19a3ee67e651f9c10d9c11dbb2 scikit-learn ")


def test_without_a_model_stories_are_not_classified_yet(resident, contract, users, settings, tmp_path):
    settings.FEEDBACK_MODEL_PATH = str(tmp_path / "missing.joblib")
    analysis.forget()
    story, _ = post(resident, contract)
    assert (story.sentiment, story.themes, story.model_version) == ("", [], "")
    services.moderate(actor=users["admin"], story=story, action="publish")
    page = Client().get(f"/feedback/services/{contract.ocid}/").content.decode()
    assert "not classified yet" in page and "Not classified yet" in page
    assert services.classify_pending() == 0
    settings.FEEDBACK_MODEL_PATH = str(analysis.classifier.default_model_path())
    analysis.forget()
    assert services.classify_pending() == 1
    story.refresh_from_db()
    assert story.sentiment in ("positive", "neutral", "negative") and story.model_version


# Personal data --------------------------------------------------------------------------------------

def test_download_and_erase(resident, contract, users):
    story = published(resident, contract, users["admin"])
    client = Client()
    client.force_login(resident)
    r = client.get("/feedback/account/my-data.json")
    data = json.loads(r.content)
    assert r["Content-Type"] == "application/json"
    assert data["account"]["email"] == "resident@example.org"
    assert [s["text"] for s in data["stories"]] == [TEXT] and data["posting_attempts"][0]["address"] == "10.0.0.1"
    assert client.post("/feedback/account/erase/", {}).status_code == 400  # not confirmed
    r = client.post("/feedback/account/erase/", {"confirm": "on"})
    assert r.status_code == 302
    story.refresh_from_db()
    assert story.author is None and story.anonymous and story.author_label == "Anonymous resident"
    assert story.status == "published" and story.text == TEXT
    assert not ResidentProfile.objects.exists() and not PostAttempt.objects.exists()
    trail = json.dumps(list(AuditEvent.objects.values("actor_label", "object_repr", "before", "after")),
                       default=str)
    assert "resident@example.org" not in trail and "Alex" not in trail
    page = Client().get(f"/feedback/stories/{story.pk}/").content.decode()
    assert "Anonymous resident" in page


def test_retention_anonymises_inactive_accounts_and_keeps_their_stories(db, contract, users):
    old, recent = make_resident("old@example.org"), make_resident("recent@example.org")
    unconfirmed = make_resident("never@example.org", confirm=False)
    story = published(old, contract, users["admin"])
    today = date(2030, 1, 1)
    long_ago = timezone.make_aware(timezone.datetime(2027, 1, 1))
    ResidentProfile.objects.filter(user=old).update(last_active_at=long_ago, created_at=long_ago)
    ResidentProfile.objects.filter(user=unconfirmed).update(created_at=long_ago)
    ResidentProfile.objects.filter(user=recent).update(last_active_at=timezone.make_aware(
        timezone.datetime(2029, 6, 1)))
    out = __import__("io").StringIO()
    call_command("feedback", "retention", "--today", today.isoformat(), stdout=out)
    assert out.getvalue().startswith("Anonymised 1 inactive account(s) (their 1 stories kept, anonymous); "
                                     "deleted 1 unconfirmed account(s)")
    story.refresh_from_db()
    assert story.author is None and story.anonymous and story.status == "published"
    assert list(ResidentProfile.objects.values_list("user__username", flat=True)) == ["recent@example.org"]
    assert not PostAttempt.objects.exists()  # older than 30 days by 2030
    with pytest.raises(Exception, match="not a date"):
        call_command("feedback", "retention", "--today", "soon")


# Pages ------------------------------------------------------------------------------------------------

def test_find_by_postcode_when_the_notice_writes_it_in_the_street_address(contract):
    """Walk-through: Contracts Finder gives suppliers' postcodes inside streetAddress (no postalCode), so a search
    by postcode area found nothing in the real data."""
    from commissioner.register.models import Supplier

    suppliers = Supplier.objects.exclude(address={})
    assert suppliers.exists() and not any(s.address.get("postalCode") for s in suppliers)  # as published
    assert queries.address_postcode({"streetAddress": "Little Easton Manor, Park Road, Essex, cm6  2jn"}) == "CM6 2JN"
    assert queries.address_postcode({"postalCode": "DN1 3BU", "streetAddress": "1 Road, CM6 2JN"}) == "DN1 3BU"
    assert queries.address_postcode({"streetAddress": "Unit 1A Industrial Estate"}) == ""
    provider = services.providers_of(contract)[0]
    supplier = provider.suppliers.first()
    Supplier.objects.filter(pk=supplier.pk).update(address={"streetAddress": "Civic Offices, Waterdale, DN1 3BU"})
    client = Client()
    for wanted in ("DN", "dn1", "DN1 3BU", "dn13bu"):
        response = client.get("/feedback/", {"postcode": wanted})
        assert response.status_code == 200
        page = response.content.decode()
        assert f"/feedback/providers/{provider.pk}/" in page and f"/feedback/services/{contract.ocid}/" in page, wanted
    page = client.get("/feedback/", {"postcode": "DN2"}).content.decode()
    assert f"/feedback/providers/{provider.pk}/" not in page and "No providers match" in page


def test_find_a_service_by_name_category_and_postcode(resident, contract, users):
    published(resident, contract, users["admin"])
    client = Client()
    word = contract.title.split()[0]
    page = client.get("/feedback/", {"q": word}).content.decode()
    assert contract.title[:40].replace("&", "&amp;") in page or contract.ocid in page
    page = client.get("/feedback/", {"category": contract.cpv_division}).content.decode()
    assert contract.ocid in page
    provider = services.providers_of(contract)[0]
    postcodes = [s.address.get("postalCode") for s in provider.suppliers.all() if s.address.get("postalCode")]
    if postcodes:
        area = re.match(r"[A-Z]+", postcodes[0].upper()).group(0)
        page = client.get("/feedback/", {"postcode": area}).content.decode()
        assert f"/feedback/providers/{provider.pk}/" in page
    r = client.get("/feedback/", {"postcode": "12345"})
    assert r.status_code == 400 and "Enter a postcode area like DN" in r.content.decode()
    assert client.get("/feedback/", {"category": "zz"}).status_code == 400
    r = client.get("/feedback/", {"postcode": "zz<script>"})  # too long: named in plain words, escaped
    text = r.content.decode()
    assert r.status_code == 400 and "8 characters or fewer" in text and "Ensure this value" not in text
    assert "zz&lt;script&gt;" in text and "zz<script>" not in text


def test_service_page_shows_ratings_stories_themes_and_replies(resident, contract, users):
    story = published(resident, contract, users["admin"])
    services.reply(actor=users["commissioner"], story=story, text="Thank you, we are on it.", change="planned")
    page = Client().get(f"/feedback/services/{contract.ocid}/").content.decode()
    assert "4.0 out of 5 (average)" in page and "100% yes" in page and "3.0 out of 5" in page
    assert "Kind carers" in page and "Thank you, we are on it." in page and "Change planned" in page
    assert "2025 Q1" in page  # the trend table
    assert "Download all feedback" not in page  # anonymous readers do not export


def test_html_and_script_in_stories_are_escaped(resident, contract, users):
    nasty = '<script>alert("x")</script><img src=x onerror=alert(1)> and the service was poor.'
    story = published(resident, contract, users["admin"], text=nasty, title="<b>bold</b> title")
    for url in (f"/feedback/services/{contract.ocid}/", f"/feedback/stories/{story.pk}/", "/feedback/"):
        page = Client().get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold</b>" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_share_page_for_each_kind_of_visitor(resident, contract, users):
    url = f"/feedback/services/{contract.ocid}/share/"
    page = Client().get(url).content.decode()
    assert "Create an account" in page and "How stories are moderated" in page
    staff = Client()
    staff.force_login(users["admin"])
    assert staff.get(url).status_code == 403
    client = Client()
    client.force_login(resident)
    page = client.get(url).content.decode()
    assert "How your story is moderated" in page and "personal data" in page
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    r = client.post(url, {"title": "", "text": "short", "month": "13", "year": "2025", "submission_key": key})
    body = r.content.decode()
    assert r.status_code == 400 and "There is a problem" in body and "Enter a short title for your story" in body
    assert "Select how good the service was overall" in body
    form = {"title": "Kind carers", "text": TEXT, "overall": "4", "recommend": "yes", "listened": "3",
            "month": "3", "year": "2025", "submission_key": key}
    r = client.post(url, form)
    assert r.status_code == 302
    r2 = client.post(url, form)  # sent twice: the same story
    assert r2["Location"] == r["Location"] and Story.objects.count() == 1
    page = client.get(r["Location"]).content.decode()
    assert "waiting for a moderator" in page
    assert Client().get(r["Location"]).status_code == 404  # not public yet


def test_share_refused_with_a_clear_message_in_a_spam_wave(resident, contract, settings):
    settings.FEEDBACK_LIMIT_ADDRESS = (1, 3600)
    PostAttempt.objects.create(ip="127.0.0.1", accepted=True)
    client = Client()
    client.force_login(resident)
    r = client.post(f"/feedback/services/{contract.ocid}/share/", {
        "title": "Kind carers", "text": TEXT, "overall": "4", "recommend": "yes", "listened": "3", "month": "3",
        "year": "2025", "submission_key": "zz"})
    assert r.status_code == 429 and "looks like a spam wave" in r.content.decode() and r["Retry-After"]
    assert not Story.objects.exists()


def test_moderation_page_and_decision(resident, contract, users):
    story, _ = post(resident, contract, text="Call me on 07700 900123, the visits were late all month.")
    client = Client()
    client.force_login(users["commissioner"])
    page = client.get("/feedback/moderation/").content.decode()
    assert "A phone number" in page and "07700 900123" in page
    r = client.post(f"/feedback/moderation/{story.pk}/", {f"s{story.pk}-action": "reject"})
    assert r.status_code == 400 and "Give the reason" in r.content.decode()
    r = client.post(f"/feedback/moderation/{story.pk}/", {f"s{story.pk}-action": "redact",
                                                          f"s{story.pk}-note": "phone number removed"})
    assert r.status_code == 302
    story.refresh_from_db()
    assert story.status == "published" and "07700" not in story.text


def test_block_list_page_for_site_administrators(users):
    client = Client()
    client.force_login(users["superuser"])
    assert "Block lists" in client.get("/feedback/moderation/").content.decode()
    assert client.post("/feedback/moderation/block/", {"kind": "email", "value": "bad"}).status_code == 400
    assert client.post("/feedback/moderation/block/", {"kind": "word", "value": "louts"}).status_code == 302
    admin = Client()
    admin.force_login(users["admin"])
    assert "Block lists" not in admin.get("/feedback/moderation/").content.decode()
    assert admin.post("/feedback/moderation/block/", {"kind": "word", "value": "x"}).status_code == 403


def test_contract_and_provider_pages_show_feedback_and_the_export(resident, contract, users):
    story = published(resident, contract, users["admin"], overall=2)
    published(make_resident("b@example.org"), contract, users["admin"], overall=5, month=7, year=2024,
              text="Brilliant and on time, the best help we have had in years.")
    services.reply(actor=users["admin"], story=story, text="Thanks")
    page = Client().get(f"/contracts/{contract.ocid}/").content.decode()
    assert "Residents&#x27; feedback" in page or "Residents' feedback" in page
    assert "3.5 out of 5 (average)" in page and "2024 Q3" in page and "2025 Q1" in page
    assert "Unanswered stories" in page and "Brilliant" not in page.split("Unanswered stories")[0][-10:]
    assert "Download all feedback" not in page
    commissioner = Client()
    commissioner.force_login(users["commissioner"])
    assert "Download all feedback (CSV)" in commissioner.get(f"/contracts/{contract.ocid}/").content.decode()
    provider = services.providers_of(contract)[0]
    assert "3.5 out of 5 (average)" in Client().get(f"/providers/{provider.pk}/").content.decode()
    post(make_resident("c@example.org"), contract, text="Held story, not yet seen by the public at all.")
    r = commissioner.get(f"/feedback/services/{contract.ocid}/export/")
    rows = list(__import__("csv").reader(__import__("io").StringIO(r.content.decode())))
    assert rows[0] == queries.EXPORT_HEADER
    assert sorted(row[1] for row in rows[1:]) == ["held", "published", "published"]
    assert all(row[-2] != "resident@example.org" for row in rows)
    assert rows[1][-1] == ""  # not synthetic


def test_account_page_preferences_and_notifications(resident, contract, users):
    story = published(resident, contract, users["admin"])
    client = Client()
    client.force_login(resident)
    page = client.get("/feedback/account/").content.decode()
    assert "Your story has been published." in page and "Kind carers" in page and ">New<" in page
    assert ">New<" not in client.get("/feedback/account/").content.decode()  # read now
    r = client.post("/feedback/account/", {"display_name": "Mr Smith 07700 900123"})
    assert r.status_code == 400 and "cannot contain contact details" in r.content.decode()
    assert client.post("/feedback/account/", {"display_name": "", "anonymous_by_default": "on"}).status_code == 302
    story.refresh_from_db()
    assert story.author_label == "Anonymous resident"


# The demo ---------------------------------------------------------------------------------------------

def test_demo_is_synthetic_deterministic_and_idempotent(db):
    logins = services.demo(la_code="DNC", password=PASSWORD)
    assert logins == [(services.DEMO_RESIDENT, "resident (synthetic): shares and reads feedback at /feedback/")]
    stories = Story.objects.filter(synthetic=True).order_by("id")
    assert stories.count() == 7 and all("SYNTHETIC" in s.text for s in stories)
    assert [s.status for s in stories].count("held") == 1
    held = stories.get(status="held")
    assert {h["code"] for h in held.holds} == {"name", "phone"}
    assert Story.objects.filter(replies__synthetic=True).distinct().count() == 3
    before = list(stories.values_list("title", "contract_id", "happened", "overall"))
    services.demo(la_code="DNC", password=PASSWORD)
    assert list(Story.objects.filter(synthetic=True).order_by("id").values_list(
        "title", "contract_id", "happened", "overall")) == before
    page = Client().get(f"/feedback/services/{stories.first().contract.ocid}/").content.decode()
    assert "Some of these stories are synthetic" in page and "Synthetic" in page


def test_demo_gives_the_demo_provider_a_story_to_reply_to(users):
    """Walk-through: no demo story was about demo-provider's provider, so its users had nothing to reply to."""
    from commissioner.orgs.services import create_user
    from commissioner.performance.services import link_provider_user

    contract = (Contract.objects.filter(owner__la_code="DNC", source="ocds", is_private=False,
                                        contract_suppliers__supplier__provider__isnull=False)
                .order_by("-ocid").first())
    provider = services.providers_of(contract)[0]
    user = create_user(username="demo-provider", password=PASSWORD)
    link_provider_user(actor=None, user=user, provider=provider)
    services.demo(la_code="DNC", password=PASSWORD)
    story = Story.objects.get(synthetic=True, provider=provider, submission_key="demo-provider")
    assert story.status == "published" and story.contract == contract and "SYNTHETIC" in story.text
    assert not story.replies.exists() and services.can_reply(user, story)
    services.demo(la_code="DNC", password=PASSWORD)
    assert Story.objects.filter(submission_key="demo-provider").count() == 1
    client = Client()
    client.force_login(user)
    response = client.post(f"/feedback/stories/{story.pk}/reply/", {"text": "We now plan rotas.", "change": "planned"})
    assert response.status_code == 302
    assert story.replies.get().provider == provider
