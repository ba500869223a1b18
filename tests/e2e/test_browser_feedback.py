"""Real browser: every residents' feedback page passes axe (as it is, with errors, with every section open);
a resident finds a service and shares a story by keyboard only; HTML and script in a story are shown as
text and never run; moderators see the queue."""

import re

import pytest

from .conftest import sign_in
from .test_browser import _violations

pytestmark = pytest.mark.e2e

RESIDENT = "demo-resident@example.org"


def _open_all(page):
    for summary in page.locator("summary").all():
        summary.click()


def _service_url(page, server):
    """The demo's first service with synthetic stories (feedback.services.demo)."""
    page.goto(server + "/feedback/")
    page.get_by_role("link", name="Could not get through on the phone").first.click()
    page.wait_for_url(f"{server}/feedback/stories/*/")
    return page.locator("nav.govuk-breadcrumbs a").last.get_attribute("href")


def test_public_feedback_pages_have_no_axe_violations(page, server):
    service = _service_url(page, server)
    story = page.url
    assert _violations(page) == []
    pages = ["/feedback/", "/feedback/policy/", service, service + "share/", "/feedback/account/register/",
             "/feedback/?postcode=12345"]
    for path in pages:
        response = page.goto(server + path)
        assert response.status in (200, 400), path
        assert page.locator("h1").count() == 1, path
        _open_all(page)
        assert _violations(page) == [], path
    page.goto(server + service)
    text = page.content()
    assert "Some of these stories are synthetic" in text and "Change planned" in text
    assert page.locator("table").filter(has_text="Average overall rating").count() == 1
    page.locator("main a[href^='/feedback/providers/']").first.click()
    page.wait_for_url(f"{server}/feedback/providers/*/")
    assert _violations(page) == []
    page.goto(story)
    assert "SYNTHETIC DEMO STORY" in page.content()
    page.goto(server + "/feedback/account/register/")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 1
    assert _violations(page) == []


def test_resident_and_moderator_pages_have_no_axe_violations(page, server):
    service = _service_url(page, server)
    sign_in(page, server, RESIDENT)
    for path in ("/feedback/account/", "/feedback/account/erase/", service + "share/"):
        assert page.goto(server + path).status == 200, path
        _open_all(page)
        assert _violations(page) == [], path
    page.goto(server + service + "share/")
    page.get_by_role("button", name="Send my story").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 1 and "Enter a short title" in page.content()
    assert _violations(page) == []
    page.context.clear_cookies()
    sign_in(page, server, "demo-admin")
    page.goto(server + "/feedback/moderation/")
    text = page.content()
    assert "Rude driver on Tuesday" in text and "A phone number" in text
    assert _violations(page) == []
    page.get_by_role("link", name="Rude driver on Tuesday").click()
    page.wait_for_url(f"{server}/feedback/stories/*/")
    assert "Moderation history" in page.content()
    _open_all(page)
    assert _violations(page) == []
    ocid = page.locator("nav.govuk-breadcrumbs a").last.get_attribute("href").split("/feedback/services/")[1]
    page.goto(f"{server}/contracts/{ocid}")
    assert "Download all feedback (CSV)" in page.content() and "Unanswered stories" in page.content()
    assert _violations(page) == []


def test_keyboard_only_story_with_markup_is_escaped(page, server, browser):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, server, RESIDENT)
    service = _service_url(page, server)
    title = page.context.new_page()
    title.goto(server + service)
    word = re.findall(r"[A-Za-z]{4,}", title.locator("h1").inner_text())[0]
    title.close()
    page.goto(server + "/feedback/")
    # find the service by keyboard
    page.locator("#id_q").focus()
    page.keyboard.type(word)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    link = page.locator(f"main a[href='{service}']")
    assert link.count() == 1
    link.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_role("button", name="Share your experience").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == server + service + "share/"
    # the form, by keyboard only
    page.locator("#id_title").focus()
    page.keyboard.type("<b>Bold</b> title")
    page.keyboard.press("Tab")  # the story
    page.keyboard.type('<script>alert("x")</script><img src=x onerror=alert(1)> The visits were late every week.')
    page.keyboard.press("Tab")  # overall: the first radio (5)
    page.keyboard.press("ArrowDown")  # 4
    page.keyboard.press("Tab")  # recommend
    page.keyboard.press("Space")  # yes
    page.keyboard.press("Tab")  # listened
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # 3
    page.keyboard.press("Tab")  # month
    page.keyboard.type("13")  # wrong on purpose
    page.keyboard.press("Tab")
    page.keyboard.type("2025")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".govuk-error-summary").count() == 1 and "The month must be from 1 to 12" in page.content()
    assert _violations(page) == []
    page.locator("#id_month").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    page.keyboard.press("Tab")  # year
    page.keyboard.press("Tab")  # anonymous
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Send my story"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/feedback/stories/\d+/$", page.url)
    text = page.content()
    assert "waiting for a moderator" in text
    assert "&lt;script&gt;alert(\"x\")&lt;/script&gt;" in text or "&lt;script&gt;alert(&quot;x&quot;)" in text
    assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
    assert "Anonymous resident" in text
    story_url = page.url
    # a moderator publishes it; the public page shows the markup as text, and nothing ran
    moderator = browser.new_context().new_page()
    moderator.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(moderator, server, "demo-commissioner")
    moderator.goto(story_url)
    moderator.locator("#id_action_0").check()
    moderator.get_by_role("button", name="Save decision").click()
    moderator.wait_for_load_state()
    public = browser.new_context().new_page()
    public.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert public.goto(story_url).status == 200
    assert public.locator("main script").count() == 0 and public.locator("main img").count() == 0
    assert '<script>alert("x")</script>' in public.locator("main").inner_text()
    public.goto(server + service)
    assert "<b>Bold</b> title" in public.locator("main").inner_text()
    assert dialogs == []
    moderator.context.close()
    public.context.close()


def _chart_scale(page):
    """How much the chart's SVG is scaled on screen (its labels are 16px at scale 1)."""
    return page.locator("figure.app-chart svg").first.evaluate(
        "svg => svg.getBoundingClientRect().width / svg.viewBox.baseVal.width")


def test_rating_chart_keeps_its_text_size_on_a_wide_screen_and_fits_a_phone(page, server):
    """Walk-through: at 1200px the 420px-wide chart was stretched to the column, its labels about 37px high."""
    page.goto(server + "/feedback/")  # the service of the most recently published story (other tests add some)
    page.locator("main h3 a").first.click()
    page.wait_for_url(f"{server}/feedback/stories/*/")
    service = page.locator("nav.govuk-breadcrumbs a").last.get_attribute("href")
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(server + service)
    assert 0.9 <= _chart_scale(page) <= 1.25
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(server + service)
    box = page.locator("figure.app-chart svg").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375


# What a new-user walk-through found ------------------------------------------------------------------------------

def _nav(page):
    return [t.strip() for t in page.locator("#navigation a").all_inner_texts()]


def _summary(page):
    return [t.strip() for t in page.locator(".govuk-error-summary__list li").all_inner_texts()]


def test_walkthrough_registration_errors_at_once_then_check_your_email(page, server):
    page.goto(server + "/feedback/account/register/")
    page.fill("#id_email", "walkthrough-e2e@example.org")
    page.fill("#id_password", "short")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    assert _summary(page) == ["This password is too short. It must contain at least 12 characters.",
                              "Enter the password again"]  # both at once, not one per submission
    assert page.locator(".govuk-form-group--error").count() == 2
    assert _violations(page) == []
    page.fill("#id_password", "a-long-enough-password-1")
    page.fill("#id_password_again", "a-long-enough-password-1")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(server + "/feedback/account/registered/")  # post/redirect/get
    assert "Check your email" in page.locator("h1").inner_text()
    assert _violations(page) == []
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.reload()  # nothing is sent again
    assert dialogs == [] and page.url == server + "/feedback/account/registered/"
    assert "Check your email" in page.locator("h1").inner_text()
    nav = _nav(page)
    assert "Your feedback account" in nav and not {"Performance", "Appraisals", "Social value", "Audit trail"} & set(nav)


def test_walkthrough_navigation_per_role(page, server):
    sign_in(page, server, RESIDENT)
    page.goto(server + "/feedback/")
    nav = _nav(page)
    assert not {"Performance", "Appraisals", "Social value", "Audit trail"} & set(nav)
    page.locator("#navigation a", has_text="Your feedback account").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == server + "/feedback/account/"
    page.context.clear_cookies()
    sign_in(page, server, "demo-admin")
    page.goto(server + "/feedback/")
    nav = _nav(page)
    assert {"Performance", "Appraisals", "Social value", "Audit trail"} <= set(nav) and "Your feedback account" not in nav
    page.context.clear_cookies()
    page.goto(server + "/feedback/")
    assert not {"Performance", "Audit trail", "Your feedback account"} & set(_nav(page))


def _demo_story_url(browser, server, title="Could not get through on the phone"):
    """A demo story's address, from the demo resident's account (the recent list moves as other tests publish)."""
    other = browser.new_context().new_page()
    sign_in(other, server, RESIDENT)
    other.goto(server + "/feedback/account/")
    href = other.get_by_role("link", name=title).first.get_attribute("href")
    other.context.close()
    return href


def test_walkthrough_share_errors_date_input_and_own_story_page(page, server, browser):
    sign_in(page, server, RESIDENT)
    page.goto(server + _demo_story_url(browser, server))
    service = page.locator("nav.govuk-breadcrumbs a").last.get_attribute("href")
    page.goto(server + service + "share/")
    page.fill("#id_title", "Late visits")
    page.fill("#id_text", "x" * 17)
    page.locator("#id_overall_1").check()
    page.locator("#id_recommend_0").check()
    page.locator("#id_listened_2").check()
    page.fill("#id_month", "3")
    page.fill("#id_year", "2999")
    page.get_by_role("button", name="Send my story").click()
    page.wait_for_load_state()
    summary = _summary(page)
    assert len(summary) == 2 and summary[0] == "Tell us a little more: at least 20 characters"
    assert summary[1].startswith("The year must be from 1990 to")
    assert _violations(page) == []
    # both parts of the date blank: one message, linked to the month, both boxes marked
    page.fill("#id_text", "Call me on 07700 900123: the visits were late every week and nobody said why.")
    page.fill("#id_month", "")
    page.fill("#id_year", "")
    page.get_by_role("button", name="Send my story").click()
    page.wait_for_load_state()
    assert _summary(page) == ["Enter when it happened: the month and the year"]
    assert page.locator(".govuk-error-message").count() == 1
    assert page.locator("#id_month.govuk-input--error").count() == 1
    assert page.locator("#id_year.govuk-input--error").count() == 1
    assert _violations(page) == []
    page.locator(".govuk-error-summary__list a").click()
    assert page.evaluate("document.activeElement.id") == "id_month"
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("2025")
    page.get_by_role("button", name="Send my story").click()
    page.wait_for_url(f"{server}/feedback/stories/*/")
    banner = page.locator(".govuk-notification-banner__heading").inner_text().strip()
    assert banner == "Thank you: your story is waiting for a moderator. We will tell you when it is published."
    main = page.locator("main")
    assert main.locator("text=Late visits").count() == 1 and page.locator("h1").inner_text() == "Late visits"
    assert main.locator(f"a[href='{page.url.replace(server, '')}']").count() == 0  # no link to itself
    status = page.locator("#story-status")
    assert "it seems to contain a phone number" in status.inner_text() and "07700" not in status.inner_text()
    tag = status.locator(".govuk-tag").bounding_box()
    after = status.locator("p").nth(1).bounding_box()
    assert tag["y"] + tag["height"] <= after["y"] + 4  # on a line of its own, nothing beside or under it
    assert _violations(page) == []
    # the account's list: the tag sits below the small text, not beside it
    page.goto(server + "/feedback/account/")
    story = page.locator(".app-story").filter(has_text="Late visits").first
    byline = story.locator("p.govuk-body-s").first.bounding_box()
    tag = story.locator(".govuk-tag--yellow").bounding_box()
    assert tag["y"] >= byline["y"] + byline["height"] - 4
    assert _violations(page) == []


def test_walkthrough_moderation_by_state_and_errors_on_the_queue(page, server, browser):
    published = _demo_story_url(browser, server)
    sign_in(page, server, "demo-admin")
    page.goto(server + "/feedback/moderation/")
    block = page.locator("div[id^='story-']").filter(has_text="Rude driver on Tuesday").first
    pk = block.get_attribute("id").split("-")[1]
    block.locator("input[value='reject']").check()
    block.get_by_role("button", name="Save decision").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Stories waiting for moderation"  # still on the queue
    assert _summary(page) == ["Give the reason the story is not published (it is shown to the author)"]
    assert page.locator(f"#id_s{pk}-action_2").is_checked()
    assert _violations(page) == []
    page.locator(".govuk-error-summary__list a").click()
    assert page.evaluate("document.activeElement.id") == f"id_s{pk}-note"
    # a published story: its state, and only the decisions that apply
    page.goto(server + published)
    text = page.locator("main").inner_text()
    assert "Held automatically for" not in text and "Publish as it is" not in text
    labels = [t.strip() for t in page.locator("#moderate ~ form .govuk-radios__label").all_inner_texts()]
    assert labels == ["Remove personal data (the text below) and keep it published",
                      "Hide it until it is reviewed (give the reason: the author sees it)",
                      "Unpublish it (give the reason: the author sees it)"]
    page.get_by_role("button", name="Save decision").click()
    page.wait_for_load_state()
    assert _summary(page) == ["Choose a decision"]  # the message alone, no field label before it
    assert _violations(page) == []
