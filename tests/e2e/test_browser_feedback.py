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
