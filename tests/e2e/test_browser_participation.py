"""Real browser: every participation page passes axe (as it is, with errors, and with every section open), and a
resident votes with the keyboard alone, then checks the receipt (the demo's synthetic exercise and codes)."""

import re

import pytest

from .conftest import sign_in
from .test_browser import _violations

pytestmark = pytest.mark.e2e

OPEN_TITLE = "Synthetic demo: Doncaster parks fund 2026 (open for voting)"
PRIORITIES_TITLE = "Synthetic demo: adult social care priorities"
PUBLISHED_TITLE = "Synthetic demo: Doncaster community projects 2025 (made-up data, not a real vote)"


def _exercise_url(page, server, title):
    page.goto(server + "/participate/")
    href = page.get_by_role("link", name=title, exact=True).get_attribute("href")
    assert re.fullmatch(r"/participate/\d+/", href), href
    return server + href


def _open_all(page):
    for summary in page.locator("summary").all():
        summary.click()


@pytest.mark.parametrize("title, suffix", [
    (OPEN_TITLE, ""), (OPEN_TITLE, "vote/"), (OPEN_TITLE, "receipt/?receipt=AAAA-BBBB-CCCC-DDDD"),
    (PUBLISHED_TITLE, ""), (PUBLISHED_TITLE, "results/"), (PRIORITIES_TITLE, "results/"),
])
def test_public_participation_pages_have_no_axe_violations(page, server, title, suffix):
    url = _exercise_url(page, server, title) + suffix
    assert page.goto(url).status == 200
    assert page.locator("h1").count() == 1
    assert "Synthetic demo data" in page.content()
    assert _violations(page) == [], url


def test_index_and_council_pages_for_an_admin_have_no_axe_violations(page, server):
    assert page.goto(server + "/participate/").status == 200
    assert _violations(page) == []
    sign_in(page, server, "demo-admin")
    page.goto(server + "/participate/")
    page.get_by_role("link", name="City of Doncaster Council").first.click()
    assert "/participate/councils/" in page.url
    _open_all(page)
    assert page.locator("#id_title").is_visible()
    assert _violations(page) == []
    url = _exercise_url(page, server, OPEN_TITLE)
    page.goto(url)
    _open_all(page)
    assert page.get_by_role("button", name="Close the vote").count() == 1
    assert _violations(page) == []


def test_bad_ballot_shows_errors_without_axe_violations(page, server):
    page.goto(_exercise_url(page, server, OPEN_TITLE) + "vote/")
    for i in range(3):
        page.locator(f"#id_choices_{i}").check()
    page.locator("#id_age").fill("12")
    page.locator("#id_code").fill("DEMO-VOTE-0019")
    with page.expect_navigation():
        page.get_by_role("button", name="Cast my vote").click()
    assert page.locator(".govuk-error-summary").count() == 1
    text = page.content()
    assert "Choose at most 2 projects (you chose 3)" in text
    assert "You must be 16 or older to vote in this exercise" in text
    assert _violations(page) == []


def test_keyboard_only_vote_and_receipt_check(page, server):
    exercise = _exercise_url(page, server, OPEN_TITLE)
    page.goto(exercise)
    page.get_by_role("link", name="Vote", exact=True).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == exercise + "vote/"
    page.locator("#id_choices_0").focus()  # play area repairs
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # wildflower meadows: not chosen
    page.keyboard.press("Tab")  # outdoor gym
    page.keyboard.press("Space")
    assert page.locator("#id_choices_0").is_checked() and page.locator("#id_choices_2").is_checked()
    assert not page.locator("#id_choices_1").is_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the last two projects, to the age
    assert page.evaluate("document.activeElement.id") == "id_age"
    page.keyboard.type("34")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_code"
    page.keyboard.type("demo vote 0007")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Cast my vote"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Your vote is recorded" in page.content()
    receipt = page.locator("#receipt").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", receipt)
    assert _violations(page) == []
    page.get_by_role("link", name="check your ballot was counted").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator("#id_receipt").focus()
    page.keyboard.type(receipt)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    text = page.content()
    assert "This ballot is in the ballot box" in text
    assert "P1. Play area repairs, Hexthorpe Park" in text and "P3. Outdoor gym, Sandall Park" in text
    assert _violations(page) == []
    # the same code cannot vote twice
    page.goto(exercise + "vote/")
    page.locator("#id_choices_1").check()
    page.locator("#id_age").fill("34")
    page.locator("#id_code").fill("DEMO-VOTE-0007")
    with page.expect_navigation():
        page.get_by_role("button", name="Cast my vote").click()
    assert "This code has already been used to vote: each resident votes once" in page.content()


@pytest.mark.parametrize("title", [PUBLISHED_TITLE, PRIORITIES_TITLE])
def test_results_chart_keeps_its_text_size_on_a_wide_screen_and_fits_a_phone(page, server, title):
    """Walk-through: at 1200px the 640px-wide chart was stretched to the column, its labels about 24px high."""
    results = _exercise_url(page, server, title) + "results/"
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(results)
    svg = page.locator("figure.app-chart svg").first
    assert 0.9 <= svg.evaluate("s => s.getBoundingClientRect().width / s.viewBox.baseVal.width") <= 1.1
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(results)
    box = svg.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375


def test_empty_ballot_names_every_problem_without_axe_violations(page, server):
    """Walk-through: an empty ballot did not mention the missing code; every problem is now listed at once."""
    page.goto(_exercise_url(page, server, OPEN_TITLE) + "vote/")
    assert "Replace the broken swings and resurface the toddlers' play area. Area: Hexthorpe." in \
        page.locator("#id_choices_0-hint").inner_text()
    assert page.locator("#id_choices_0").get_attribute("aria-describedby") == "id_choices_0-hint"
    with page.expect_navigation():
        page.get_by_role("button", name="Cast my vote").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    for message in ("Choose at least 1 project", "Enter your age in years", "Enter your voting code"):
        assert message in summary
    assert _violations(page) == []


@pytest.mark.parametrize("width", [1200, 375])
def test_every_participation_page_fits_the_screen_and_shows_whole_pounds(page, server, width):
    """Walk-through at 1200px and 375px: nothing wider than the screen, money as "£35,000" everywhere."""
    page.set_viewport_size({"width": width, "height": 900})
    urls = [server + "/participate/"]
    for title in (OPEN_TITLE, PUBLISHED_TITLE, PRIORITIES_TITLE):
        urls.append(_exercise_url(page, server, title))
    urls += [urls[1] + "vote/", urls[1] + "receipt/?receipt=AAAA-BBBB-CCCC-DDDD", urls[2] + "results/",
             urls[3] + "results/"]
    sign_in(page, server, "demo-admin")
    page.goto(server + "/participate/")
    page.get_by_role("link", name="City of Doncaster Council").first.click()
    urls.append(page.url)
    for url in urls:
        page.goto(url)
        _open_all(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, url
        text = page.locator("main").inner_text()
        assert not re.search(r"\d,\d{3}\.00|\bGBP\b|docs/", text), url
        assert "(synthetic)" not in text, url
    page.goto(urls[2] + "results/")
    text = page.locator("main").inner_text()
    assert "£100,000" in text and "1st in order of support, with 26 votes: funded, cost £35,000" in text
