"""Residents' feedback: what a new-user walk-through found, each with the test that would have caught it.

The navigation per role (core/context.py Nav), registration's post/redirect/get, every error at once (sign-up and
sharing a story), the GOV.UK date input (one message, the right part linked and marked), a resident's own story
page (title once, tags on their own line, what the automatic checks found in plain words), moderating a story in
each state (only the decisions that apply), moderation errors worded alone and kept on the queue, full stops, and
finding a service by name (the phrase or all its words in the title or a provider's name, best first)."""

import re
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from commissioner.feedback import queries, services
from commissioner.feedback.models import ModerationEvent, Notification, Story
from commissioner.register.models import Contract
from conftest import PASSWORD

TEXT = "The carers were kind and always on time, but the office never rang back when the rota changed."
ROLES = ("anonymous", "resident", "admin", "commissioner", "viewer", "other", "provider", "superuser", "plain")


def make_resident(email="resident@example.org"):
    user = services.register_resident(email=email, password=PASSWORD, display_name="Alex")
    services.confirm_email(token=services.confirmation_token(user))
    user.refresh_from_db()
    return user


@pytest.fixture
def world(users):
    from commissioner.orgs.services import create_user
    from commissioner.performance.services import link_provider_user

    contract = (Contract.objects.filter(owner=users["merton"], source="ocds", is_private=False,
                                        contract_suppliers__supplier__provider__isnull=False)
                .order_by("ocid").distinct().first())
    provider_user = create_user(username="provider-person", password=PASSWORD)
    link_provider_user(actor=None, user=provider_user, provider=services.providers_of(contract)[0])
    return {**users, "contract": contract, "resident": make_resident(), "provider": provider_user,
            "plain": create_user(username="no-membership", password=PASSWORD)}


def client_for(world, role):
    client = Client()
    if role != "anonymous":
        client.force_login(world[role])
    return client


def post(author, contract, text=TEXT, **kw):
    fields = {"title": "Kind carers", "overall": 4, "recommend": "yes", "listened": 3, "month": 3, "year": 2025,
              "ip": "10.0.0.1"}
    fields.update(kw)
    return services.post_story(author=author, contract=contract, text=text, **fields)[0]


def nav_links(html):
    nav = html.split('id="navigation"', 1)[1].split("</ul>", 1)[0]
    return [x for x in re.findall(r'class="govuk-header__link" href="[^"]*">([^<]+)</a>', nav) if x != "Sign in"]


def summary_items(html):
    """The error summary's messages, each with the id it links to."""
    if "govuk-error-summary__list" not in html:
        return []
    body = html.split("govuk-error-summary__list", 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', body)


def field_errors(html):
    return re.findall(r'class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> ([^<]+)</p>',
                      html)


# 1. Navigation per role ---------------------------------------------------------------------------------------

PUBLIC = ["Contracts", "Organisations", "Benchmarking", "Providers", "Market", "Feedback", "Participation"]
STAFF = ["Performance", "Appraisals", "Social value", "Audit trail"]


def test_navigation_shows_each_role_only_what_applies(world):
    expected = {
        "anonymous": PUBLIC, "resident": [*PUBLIC, "Your feedback account"],
        "admin": PUBLIC + STAFF, "commissioner": PUBLIC + STAFF, "viewer": PUBLIC + STAFF, "other": PUBLIC + STAFF,
        "provider": [*PUBLIC, "Performance"], "superuser": PUBLIC + STAFF, "plain": PUBLIC,
    }
    for role in ROLES:
        page = client_for(world, role).get("/feedback/").content.decode()
        assert nav_links(page) == expected[role], role
    # a resident's account link works; sign in / out stays
    page = client_for(world, "resident").get("/feedback/").content.decode()
    assert 'href="/feedback/account/">Your feedback account</a>' in page and "Sign out (resident@example.org)" in page
    assert "Sign in</a>" in Client().get("/feedback/").content.decode()


def test_navigation_rule_in_one_place(world):
    from django.test import RequestFactory

    from commissioner.core.context import nav

    request = RequestFactory().get("/")
    request.user = world["resident"]
    flags = nav(request)["nav"]
    assert (flags.performance, flags.appraisals, flags.social_value, flags.audit, flags.feedback_account) == (
        False, False, False, False, True)
    request.user = world["provider"]
    flags = nav(request)["nav"]
    assert (flags.performance, flags.appraisals, flags.audit, flags.feedback_account) == (True, False, False, False)
    request.user = world["superuser"]
    assert nav(request)["nav"].audit and not nav(request)["nav"].feedback_account


# 2. Registration: post/redirect/get --------------------------------------------------------------------------

def test_registration_redirects_to_check_your_email(db):
    client = Client()
    r = client.post("/feedback/account/register/", {"email": "jo@example.org", "password": PASSWORD,
                                                     "password_again": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/feedback/account/registered/"
    page = client.get(r["Location"])
    assert page.status_code == 200 and "Check your email" in page.content.decode()
    assert "We sent a link to jo@example.org" in page.content.decode()
    assert Client().get("/feedback/account/registered/").status_code == 302  # signed out: to sign in


def test_check_your_email_page_for_others(world):
    assert client_for(world, "admin").get("/feedback/account/registered/").status_code == 403
    r = client_for(world, "resident").get("/feedback/account/registered/")  # already confirmed
    assert r.status_code == 302 and r["Location"] == "/feedback/account/"


# 3. Every error at once -------------------------------------------------------------------------------------

def test_registration_names_every_problem_at_once(db):
    r = Client().post("/feedback/account/register/", {"email": "not an email", "password": "short",
                                                       "display_name": "Call 07700 900123"})
    page = r.content.decode()
    assert r.status_code == 400
    assert summary_items(page) == [
        ("id_email", "Enter an email address in the correct format, like name@example.com"),
        ("id_display_name", "Choose another name: it cannot contain contact details, links or offensive words"),
        ("id_password", "This password is too short. It must contain at least 12 characters."),
        ("id_password_again", "Enter the password again"),
    ]
    assert len(field_errors(page)) == 4
    assert not Story.objects.exists() and not Client().login(username="not an email", password="short")


def test_registration_service_names_every_problem(db):
    with pytest.raises(services.FeedbackInputError) as e:
        services.register_resident(email="bad", password="short", display_name="Mr Smith")
    assert [f for f, _ in e.value.errors] == ["email", "display_name", "password"]


def share(client, contract, **data):
    url = f"/feedback/services/{contract.ocid}/share/"
    form = {"title": "Kind carers", "text": TEXT, "overall": "4", "recommend": "yes", "listened": "3", "month": "3",
            "year": "2025", "submission_key": "k"}
    form.update(data)
    return client.post(url, form)


def test_sharing_a_story_names_every_problem_at_once(world):
    client = client_for(world, "resident")
    year = timezone.localdate().year + 2
    r = share(client, world["contract"], text="x" * 17, year=str(year), overall="")
    page = r.content.decode()
    assert r.status_code == 400
    assert summary_items(page) == [
        ("id_text", "Tell us a little more: at least 20 characters"),
        ("id_overall_0", "Select how good the service was overall"),
        ("id_year", f"The year must be from 1990 to {timezone.localdate().year}"),
    ]
    assert not Story.objects.exists()


def test_api_names_every_problem_of_a_story(world):
    import json

    r = client_for(world, "resident").post("/api/v1/feedback/stories", json.dumps({
        "contract": world["contract"].ocid, "title": "", "text": "short", "overall": 4, "recommend": "yes",
        "listened": 3, "month": 13, "year": 2025}), content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    assert [e["name"] for e in r.json()["errors"]] == ["title", "text", "happened"]
    assert not Story.objects.exists()


def test_story_service_names_every_problem(world):
    with pytest.raises(services.FeedbackInputError) as e:
        post(world["resident"], world["contract"], title="", text="short", overall=9, recommend="maybe",
             listened=0, month="", year="")
    assert [f for f, _ in e.value.errors] == ["title", "text", "overall", "listened", "recommend", "happened"]
    assert not Story.objects.exists()


# 4. The date input ------------------------------------------------------------------------------------------

def _date_inputs(page):
    return {name: "govuk-input--error" in re.search(rf'<input class="([^"]*)" id="id_{name}"', page).group(1)
            for name in ("month", "year")}


@pytest.mark.parametrize("month, year, message, anchor, marked", [
    ("", "", "Enter when it happened: the month and the year", "id_month", {"month": True, "year": True}),
    ("", "2025", "When it happened must include a month", "id_month", {"month": True, "year": False}),
    ("3", "", "When it happened must include a year", "id_year", {"month": False, "year": True}),
    ("13", "2025", "The month must be from 1 to 12", "id_month", {"month": True, "year": False}),
    ("3", "1800", None, "id_year", {"month": False, "year": True}),
    ("x", "y", None, "id_month", {"month": True, "year": True}),
])
def test_date_input_one_message_first_part_linked_parts_marked(world, month, year, message, anchor, marked):
    r = share(client_for(world, "resident"), world["contract"], month=month, year=year)
    page = r.content.decode()
    assert r.status_code == 400
    items = summary_items(page)
    assert len(items) == 1 and items[0][0] == anchor
    if message:
        assert items[0][1] == message
    assert field_errors(page) == [items[0][1]]  # one message, on the date
    assert 'aria-describedby="happened-hint happened-error"' in page
    assert _date_inputs(page) == marked


def test_a_date_in_the_future_marks_both_parts(world):
    ahead = timezone.localdate().replace(day=1)
    ahead = date(ahead.year + (ahead.month == 12), ahead.month % 12 + 1, 1)
    page = share(client_for(world, "resident"), world["contract"], month=str(ahead.month),
                 year=str(ahead.year)).content.decode()
    if ahead.year > timezone.localdate().year:  # December: the year is out of range
        assert _date_inputs(page) == {"month": False, "year": True}
    else:
        assert summary_items(page) == [("id_month", "When it happened must be this month or in the past")]
        assert _date_inputs(page) == {"month": True, "year": True}


# 5. A resident's own story page ------------------------------------------------------------------------------

def test_own_story_page_title_once_tag_alone_and_what_the_checks_found(world):
    story = post(world["resident"], world["contract"], title="Late visits",
                 text="Call me on 07700 900123, the visits were late all month and nobody said why.")
    page = client_for(world, "resident").get(f"/feedback/stories/{story.pk}/").content.decode()
    main = page.split('id="main-content"', 1)[1]
    assert main.count(">Late visits<") == 1  # the heading only, no link to the page itself
    assert f'href="/feedback/stories/{story.pk}/"' not in main
    status = main.split('id="story-status"', 1)[1].split("</div>", 1)[0]
    assert '<p class="govuk-body"><strong class="govuk-tag govuk-tag--yellow">Waiting for a moderator</strong></p>' \
        in status  # the tag on a line of its own
    assert "it seems to contain a phone number" in status and "07700" not in status
    assert "A moderator will remove personal details like these" in status
    assert "Held automatically for" not in page  # that is the moderators' wording
    assert not re.search(r'govuk-body-s[^>]*>[^<]*<strong class="govuk-tag', main)  # no tag beside small text
    clean = post(world["resident"], world["contract"], title="All good", submission_key="2",
                 text="The visits were on time and the carers were kind to my father every week.")
    page = client_for(world, "resident").get(f"/feedback/stories/{clean.pk}/").content.decode()
    assert "Our automatic checks found nothing to worry about" in page


def test_plain_words_for_every_hold():
    from commissioner.methods import moderation

    holds = moderation.check("Mr Smith rang 07700 900123 from jo@example.org at SW1A 1AA, 12 Acacia Avenue: "
                             "see www.spam.com idiot")
    said = moderation.for_author([h.as_dict() for h in holds])
    assert said[:5] == ["it seems to name a person (a name after a title such as Mr, Mrs or Dr)",
                        "it seems to contain a phone number", "it seems to contain an email address",
                        "it seems to contain a postcode", "it seems to contain a street address"]
    assert "it seems to contain abusive or offensive language" in said and "it contains a link to a website" in said
    assert not any(x in " ".join(said) for x in ("Smith", "07700", "jo@", "SW1A", "Acacia"))
    assert set(moderation.FOR_AUTHOR) >= {"name", "phone", "email", "postcode", "address", "abuse", "blocked_word",
                                          "link", "repeated_text", "repetition", "capitals", "wave"}


# 6. Moderating a story in each state ---------------------------------------------------------------------------

def _choices(page):
    return re.findall(r'name="action" value="([a-z]+)"', page)


def test_a_published_story_shows_its_state_and_only_the_decisions_that_apply(world):
    story = post(world["resident"], world["contract"], text="Call me on 07700 900123, the visits were late again.")
    services.moderate(actor=world["admin"], story=story, action="redact")
    client = client_for(world, "commissioner")
    page = client.get(f"/feedback/stories/{story.pk}/").content.decode()
    assert "Held automatically for" not in page and "Publish as it is" not in page
    assert re.search(r"Status</dt><dd[^>]*>Published since", page)
    assert "Published with personal data removed by merton-admin" in page  # the last decision
    assert _choices(page) == ["redact", "hide", "reject"]
    url = f"/feedback/stories/{story.pk}/moderate/"
    r = client.post(url, {"action": "hide"})
    assert r.status_code == 400
    assert summary_items(r.content.decode()) == [
        ("id_note", "Give the reason the story is hidden (it is shown to the author)")]
    assert client.post(url, {"action": "publish"}).status_code == 400  # not offered: named
    r = client.post(url, {"action": "hide", "note": "Checking a complaint about it"})
    assert r.status_code == 302
    story.refresh_from_db()
    assert story.status == "hidden"
    assert Notification.objects.filter(user=world["resident"]).order_by("-id").first().text == (
        "Your story is hidden while a moderator looks at it again. The moderator's reason: Checking a complaint "
        "about it.")
    page = client.get(f"/feedback/stories/{story.pk}/").content.decode()
    assert _choices(page) == ["publish", "redact", "reject"] and "Publish it again" in page
    assert "Checking a complaint about it" in client_for(world, "resident").get(
        f"/feedback/stories/{story.pk}/").content.decode()
    assert client.post(url, {"action": "reject", "note": "Off topic"}).status_code == 302
    page = client.get(f"/feedback/stories/{story.pk}/").content.decode()
    assert _choices(page) == [] and "there is nothing more to decide" in page
    assert "Not published" in page and "Off topic" in page
    assert client.post(url, {"action": "publish"}).status_code == 400
    story.refresh_from_db()
    assert story.status == "rejected"


def test_moderation_decisions_per_state_and_sent_twice(world):
    story = post(world["resident"], world["contract"])
    assert services.actions_for(story) == ("publish", "redact", "reject")
    services.moderate(actor=world["admin"], story=story, action="publish")
    services.moderate(actor=world["admin"], story=story, action="publish")  # a double click: nothing more
    assert ModerationEvent.objects.filter(story=story, action="publish").count() == 1
    assert Notification.objects.filter(story=story).count() == 1
    story.refresh_from_db()
    assert services.actions_for(story) == ("redact", "hide", "reject")
    with pytest.raises(services.FeedbackInputError, match="Give the reason"):
        services.moderate(actor=world["admin"], story=story, action="hide")
    services.moderate(actor=world["admin"], story=story, action="reject", note="Not about the service")
    story.refresh_from_db()
    assert services.actions_for(story) == ()
    with pytest.raises(services.FeedbackInputError, match="cannot be published"):
        services.moderate(actor=world["admin"], story=story, action="publish")
    assert Notification.objects.filter(story=story).order_by("-id").first().text == (
        "Your story is no longer published. The moderator's reason: Not about the service.")


def test_api_moderates_a_published_story(world):
    import json

    story = post(world["resident"], world["contract"])
    services.moderate(actor=world["admin"], story=story, action="publish")
    client = client_for(world, "admin")
    url = f"/api/v1/feedback/stories/{story.pk}/moderation"
    r = client.post(url, json.dumps({"action": "publish"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "published"  # sent twice: unchanged
    r = client.post(url, json.dumps({"action": "hide"}), content_type="application/json")
    assert r.status_code == 422 and "Give the reason the story is hidden" in r.content.decode()
    r = client.post(url, json.dumps({"action": "hide", "note": "check"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "hidden"


# 7. Moderation error wording; errors on the queue --------------------------------------------------------------

def test_moderation_errors_are_the_message_alone(world):
    story = post(world["resident"], world["contract"])
    r = client_for(world, "admin").post(f"/feedback/stories/{story.pk}/moderate/", {"action": "reject"})
    page = r.content.decode()
    assert r.status_code == 400
    assert summary_items(page) == [
        ("id_note", "Give the reason the story is not published (it is shown to the author)")]
    assert "Reason (kept in the moderation history):" not in page.split("govuk-error-summary__list")[1][:400]


def test_rejecting_from_the_queue_without_a_reason_stays_on_the_queue(world):
    story = post(world["resident"], world["contract"])
    other = post(world["resident"], world["contract"], title="Second", submission_key="2",
                 text="The second story, about the lunch deliveries, which were cold every day.")
    client = client_for(world, "commissioner")
    r = client.post(f"/feedback/moderation/{story.pk}/", {f"s{story.pk}-action": "reject"})
    page = r.content.decode()
    assert r.status_code == 400 and "<h1 class=\"govuk-heading-l\">Stories waiting for moderation</h1>" in page
    assert summary_items(page) == [
        (f"id_s{story.pk}-note", "Give the reason the story is not published (it is shown to the author)")]
    assert page.count("govuk-error-message") == 1  # on that story's reason only
    assert f'id="id_s{story.pk}-note"' in page and f'id="id_s{other.pk}-note"' in page  # the whole queue
    assert f'value="reject" id="id_s{story.pk}-action_2" class="govuk-radios__input" checked>' in page  # kept
    assert "<title>Error:" in page
    story.refresh_from_db()
    assert story.status == "held"
    r = client.post(f"/feedback/moderation/{story.pk}/", {f"s{story.pk}-action": "reject",
                                                          f"s{story.pk}-note": "Not about the service"})
    assert r.status_code == 302 and r["Location"] == "/feedback/moderation/"
    page = client.get("/feedback/moderation/").content.decode()
    assert f"Story {story.pk} is not published." in page


# 8. Full stops ---------------------------------------------------------------------------------------------------

def test_messages_end_with_full_stops(world):
    client = client_for(world, "resident")
    r = share(client, world["contract"])
    page = client.get(r["Location"]).content.decode()
    assert "We will tell you when it is published.</p>" in page
    story = Story.objects.get()
    services.moderate(actor=world["admin"], story=story, action="reject", note="Not about the service")
    page = client.get("/feedback/account/").content.decode()
    assert "The moderator&#x27;s reason: Not about the service. <a class=\"govuk-link\"" in page
    story2 = post(world["resident"], world["contract"], submission_key="3", title="Two",
                  text="Another story about the lunch deliveries, which were cold every single day.")
    services.moderate(actor=world["admin"], story=story2, action="reject", note="Duplicate!")
    assert Notification.objects.filter(story=story2).get().text.endswith("reason: Duplicate!")


# 9. Finding a service by name --------------------------------------------------------------------------------------

@pytest.fixture
def named(users):
    from commissioner.register.services import create_local_contract

    def make(title, provider, description=""):
        return create_local_contract(owner=users["merton"], actor=users["admin"], title=title,
                                     description=description, delivery_model="outsourced", provider_name=provider,
                                     supplier_type="private", is_private=False)

    return {
        "loose": make("Works on Field Lane estate in Rastrick", "Calderdale Builders Ltd",
                      "Repairs to home fronts; care taken with the verges"),
        "phrase": make("Home care for older people in Quokkaton", "Quokka Helping Hands"),
        "words": make("Care at home in Quokkaton", "Quokka Friends Ltd"),
        "provider": make("Support service in Quokkaton", "Home Care Quokka Partners"),
    }


def test_search_by_name_matches_the_phrase_or_all_words_in_title_or_provider_best_first(named):
    from django.contrib.auth.models import AnonymousUser

    from commissioner.feedback.queries import Search, find

    services_, providers = find(AnonymousUser(), Search(q="home care quokka"))
    found = [c.pk for c in services_]
    assert named["loose"].pk not in found
    services_, providers = find(AnonymousUser(), Search(q="home care"))
    found = [c.pk for c in services_]
    assert named["loose"].pk not in found  # each word somewhere in the notice is not a match
    ours = [found.index(named[k].pk) for k in ("phrase", "words", "provider") if named[k].pk in found]
    assert ours == sorted(ours)
    services_, providers = find(AnonymousUser(), Search(q="Quokkaton"))
    assert [c.pk for c in services_] == [named[k].pk for k in ("words", "phrase", "provider")]  # by title
    services_, providers = find(AnonymousUser(), Search(q="care quokka"))
    ranked = [(c.pk, c.match_rank) for c in services_]
    assert ranked == [(named["words"].pk, 1), (named["phrase"].pk, 1), (named["provider"].pk, 2)]  # then by title
    assert [p.name for p in providers] == ["Home Care Quokka Partners"]  # the phrase "care quokka" in its name
    _, providers = find(AnonymousUser(), Search(q="quokka"))
    assert [p.name for p in providers][:1] and all("Quokka" in p.name for p in providers)
    page = Client().get("/feedback/", {"q": "home care"}).content.decode()
    assert "Works on Field Lane" not in page
    assert "Services whose title has all the words you type" in page  # the hint says how search works


def test_search_ranks_the_phrase_first(named):
    from django.contrib.auth.models import AnonymousUser

    services_, _ = queries.find(AnonymousUser(), queries.Search(q="home care"))
    ours = {named[k].pk: k for k in named}
    # the phrase in the title, then all the words in the title (though "Care at ..." sorts first), then the provider
    assert [ours[c.pk] for c in services_ if c.pk in ours] == ["phrase", "words", "provider"]
    assert [c.match_rank for c in services_] == sorted(c.match_rank for c in services_)


def test_send_again_is_limited_so_nobodys_inbox_is_flooded(db):
    from datetime import timedelta

    from django.core import mail
    from django.test import Client
    from django.utils import timezone

    from commissioner.feedback import services as fs
    from commissioner.feedback.models import ResidentProfile

    mail.outbox.clear()
    client = Client()
    r = client.post("/feedback/account/register/", {"email": "flood@example.org", "display_name": "",
                                                     "password": "a-long-enough-passphrase-1", "password_again":
                                                     "a-long-enough-passphrase-1"})
    assert r.status_code == 302 and len(mail.outbox) == 1
    client.force_login(ResidentProfile.objects.get(user__username="flood@example.org").user)
    for _ in range(3):
        page = client.post("/feedback/account/confirm/resend/", follow=True).content.decode()
        assert "We sent you a link a few minutes ago" in page
    assert len(mail.outbox) == 1
    # Later, another link may be sent.
    profile = ResidentProfile.objects.get(user__username="flood@example.org")
    profile.confirmation_sent_at = timezone.now() - timedelta(seconds=fs.RESEND_SECONDS + 1)
    profile.save()
    page = client.post("/feedback/account/confirm/resend/", follow=True).content.decode()
    assert "We have sent a new link to flood@example.org" in page and len(mail.outbox) == 2
