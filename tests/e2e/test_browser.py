"""Real browser: every page passes axe with zero violations; the main journeys work by keyboard alone."""

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from .conftest import sign_in

pytestmark = pytest.mark.e2e

MERTON_OCID = "ocds-b5fd17-e3b5f385-5989-4cf1-8849-01c247fc9c30"  # Parking Pilot - CEO, Merton
PUBLIC_PAGES = [
    "/", "/contracts/", "/contracts/?q=parking&sort=-value", "/contracts/?value_min=abc",
    f"/contracts/{MERTON_OCID}/", "/providers/", "/providers/?q=axis", "/organisations/",
    "/organisations/?kind=council", "/organisations/merton/", "/organisations/merton/dashboard/",
    "/organisations/doncaster/dashboard/?as_at=2025-03-01", "/sign-in/",
]
SIGNED_IN_PAGES = ["/contracts/new/", "/audit/", "/contracts/?status=awarded"]


def _violations(page):
    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]]


def _first_provider_url(page, server):
    page.goto(server + "/providers/?sort=-value")
    return page.locator("main a[href^='/providers/']").filter(has_text=re.compile(r"\w")).first.get_attribute("href")


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_no_axe_violations(page, server, path):
    response = page.goto(server + path)
    assert response.status in (200, 400), (path, response.status)
    assert page.locator("h1").count() == 1
    assert _violations(page) == [], path


def test_provider_page_has_no_axe_violations(page, server):
    url = _first_provider_url(page, server)
    assert page.goto(server + url).status == 200
    assert _violations(page) == []


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_pages_have_no_axe_violations(page, server, path):
    sign_in(page, server)
    assert page.goto(server + path).status == 200, path
    assert _violations(page) == [], path


def test_form_errors_have_no_axe_violations(page, server):
    sign_in(page, server)
    page.goto(server + "/contracts/new/")
    page.get_by_role("button", name=re.compile("Add contract|Save|Continue")).click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 1
    assert _violations(page) == []


def test_keyboard_only_search_and_open_a_contract(page, server):
    page.goto(server + "/contracts/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.keyboard.press("Enter")
    search = page.locator("#id_q, input[name='q']").first
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "q":
            break
    else:
        raise AssertionError("the search box is not reachable with Tab")
    page.keyboard.type("parking")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=parking"))
    assert search.input_value() == "parking"
    # Tab to the first result link and follow it with Enter.
    for _ in range(80):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href') || ''")
        if href.startswith("/contracts/ocds-"):
            break
    else:
        raise AssertionError("no contract link reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/contracts/ocds-"))
    assert "Parking" in page.locator("h1").inner_text() or "parking" in page.content().lower()


def test_keyboard_only_sign_in_and_add_a_private_contract(page, server):
    page.goto(server + "/sign-in/")
    page.locator("#id_username").focus()
    page.keyboard.type("demo-commissioner")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-password-change-me")
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/")
    assert "Sign out (demo-commissioner)" in page.content()
    page.goto(server + "/contracts/new/")
    page.locator("#id_title").focus()
    page.keyboard.type("In-house reablement service (browser test)")
    page.locator("#id_provider_name").fill("Doncaster Reablement Team")
    page.select_option("#id_delivery_model", "inhouse")
    page.select_option("#id_supplier_type", "inhouse")
    page.locator("#id_value").fill("£1,250,000")
    page.locator("#id_value").press("Enter")
    page.wait_for_load_state()
    assert "In-house reablement service (browser test)" in page.locator("h1").inner_text()
    assert "1,250,000" in page.content()
    # Private: an anonymous visitor cannot see it.
    url = page.url
    other = page.context.browser.new_context()
    anon = other.new_page()
    assert anon.goto(url).status == 404
    other.close()


def test_csv_download_matches_the_filtered_view(page, server):
    page.goto(server + "/contracts/?q=parking")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("CSV", re.IGNORECASE)).first.click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = [r for r in text.splitlines() if r]
    assert rows[0].startswith("ocid,")
    assert len(rows) == 1 + 3
