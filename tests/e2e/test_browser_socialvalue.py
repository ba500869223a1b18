"""Real browser: the social value pages pass axe (as they are, with errors, and with every section open),
and the demo's synthetic SROI model shows the methods.md worked example; an outcome can be added by
keyboard, after a refused percentage over 100."""

import pytest

from .conftest import sign_in
from .test_browser import _violations

pytestmark = pytest.mark.e2e

COUNCIL = "/social-value/councils/doncaster/"


def _open_all(page):
    for summary in page.locator("summary").all():
        summary.click()


def _model_url(page, server):
    page.goto(server + COUNCIL)
    page.get_by_role("link", name="Synthetic example: employment support (methods.md worked example)").click()
    page.wait_for_url(f"{server}/social-value/models/*/")
    return page.url


@pytest.mark.parametrize("username", ["demo-admin", "demo-viewer"])
def test_social_value_pages_have_no_axe_violations(page, server, username):
    sign_in(page, server, username)
    model_url = _model_url(page, server)
    assert page.locator("h1").count() == 1
    text = page.content()
    assert "synthetic" in text and "£136,994" in text and "1.37:1" in text and "41.6%" in text
    assert _violations(page) == []
    page.goto(server + COUNCIL)
    assert "Local jobs (synthetic)" in page.content()
    _open_all(page)
    assert _violations(page) == []
    page.locator("main a[href^='/social-value/contracts/']").first.click()
    page.wait_for_url(f"{server}/social-value/contracts/**")
    assert "12.5" in page.content() and "synthetic" in page.content()
    _open_all(page)
    assert _violations(page) == []
    page.locator("main a[href^='/social-value/providers/']").first.click()
    assert page.locator("h1").count() == 1
    assert _violations(page) == []
    page.goto(server + COUNCIL + "proxies/")
    assert "The library is empty" in page.content()
    _open_all(page)
    assert _violations(page) == []
    assert page.goto(model_url).status == 200


def test_keyboard_only_outcome_with_an_error_first(page, server):
    sign_in(page, server, "demo-commissioner")
    model_url = _model_url(page, server)
    fields = {"#id_stakeholder": "Carers (browser test)", "#id_indicator": "Respite nights", "#id_quantity": "20",
              "#id_proxy_value": "50", "#id_proxy_source": "Entered for a browser test", "#id_deadweight": "150",
              "#id_years": "2"}
    for selector, value in fields.items():
        page.locator(selector).focus()
        page.keyboard.type(value)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".govuk-error-summary").count() == 1
    assert "Deadweight (%) must be from 0 to 100, not 150" in page.content()
    assert _violations(page) == []
    page.locator(".govuk-error-summary a").first.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("15")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == model_url
    assert "Outcome added" in page.content() and "Carers (browser test): Respite nights" in page.content()


def test_change_and_delete_pages_and_open_proxies_have_no_axe_violations(page, server):
    sign_in(page, server, "demo-admin")
    model_url = _model_url(page, server)
    page.locator("a[href^='/social-value/outcomes/'][href$='/edit/']").first.click()
    page.wait_for_url(f"{server}/social-value/outcomes/*/edit/")
    assert page.locator("#id_deadweight").input_value() == "20"  # prefilled
    assert _violations(page) == []
    page.locator("#id_deadweight").fill("150")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the changes").click()
    assert "Deadweight (%) must be from 0 to 100, not 150" in page.content()
    assert _violations(page) == []
    page.goto(model_url)
    page.locator("a[href$='/delete/']").first.click()
    page.wait_for_url(f"{server}/social-value/models/*/delete/")
    assert "Delete this SROI model?" in page.content()
    assert _violations(page) == []
    page.get_by_role("link", name="No, go back").click()
    page.wait_for_url(model_url)
    page.goto(server + COUNCIL)
    page.locator("main a[href^='/social-value/contracts/']").first.click()
    page.wait_for_url(f"{server}/social-value/contracts/**")
    page.locator("a[href^='/social-value/deliveries/'][href$='/edit/']").first.click()
    assert page.locator("h1").count() == 1
    assert _violations(page) == []
    page.goto(server + "/social-value/open-proxies/")
    assert "Open Government Licence v3.0" in page.content()
    assert _violations(page) == []


def test_keyboard_only_copy_of_an_open_proxy(page, server):
    sign_in(page, server, "demo-commissioner")
    page.goto(server + COUNCIL + "proxies/")
    page.locator("summary", has_text="Copy open proxies into the library").focus()
    page.keyboard.press("Enter")
    page.locator("input[name='codes'][value='wellby-hmt-2021']").focus()
    page.keyboard.press("Space")
    assert _violations(page) == []
    page.get_by_role("button", name="Copy the chosen proxies").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "1 open proxy copied into the library" in page.content()
    assert "Wellbeing: one WELLBY (central value)" in page.content()
    assert _violations(page) == []


# The walk-through's findings ------------------------------------------------------------------------

OVERFLOW = """() => {
  const wrap = document.querySelector('#outcomes-table').closest('.app-table-scroll');
  const links = Array.from(document.querySelectorAll('#outcomes-table a'));
  const right = wrap.getBoundingClientRect().right;
  return {table: wrap.scrollWidth - wrap.clientWidth, page: document.documentElement.scrollWidth - window.innerWidth,
          cut: links.filter(a => a.getBoundingClientRect().right > right + 1).map(a => a.textContent)};
}"""


def test_outcomes_table_fits_at_1200_and_scrolls_inside_its_wrapper_at_375(page, server, tmp_path):
    sign_in(page, server, "demo-admin")
    _model_url(page, server)
    page.set_viewport_size({"width": 1200, "height": 900})
    page.locator("#outcomes-table").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "outcomes-1200.png"), full_page=True)
    wide = page.evaluate(OVERFLOW)
    assert wide == {"table": 0, "page": 0, "cut": []}, wide  # nothing cut off: Change and Delete in view
    assert page.locator("#outcomes-table a", has_text="Delete").first.is_visible()
    source = page.locator("#outcomes-table th[scope='row'] span").first
    assert source.inner_text().startswith("Source: Synthetic figure")
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(tmp_path / "outcomes-375.png"), full_page=True)
    narrow = page.evaluate(OVERFLOW)
    assert narrow["page"] <= 0, narrow  # the page itself never scrolls sideways; the table scrolls in its wrapper
    assert _violations(page) == []


def test_social_value_index_from_the_navigation_and_every_error_at_once(page, server):
    sign_in(page, server, "demo-admin")
    page.goto(server + "/")
    page.locator("header a", has_text="Social value").click()
    page.wait_for_url(server + "/social-value/")
    assert page.locator("h1").inner_text() == "Social return and social value"
    assert _violations(page) == []
    page.get_by_role("link", name="City of Doncaster Council: social value").click()
    page.wait_for_url(server + COUNCIL)
    page.locator("summary", has_text="Start an SROI model").click()
    page.fill("#id_name", "Walk <b>model</b>")
    page.fill("#id_inputs", "-5")
    with page.expect_navigation():
        page.locator("form", has=page.locator("#id_name")).locator("button").click()
    summary = page.locator(".govuk-error-summary a").all_inner_texts()
    assert summary == ["Enter the service, or choose a contract", "Value of inputs (£) must be 0 or more, not -5"]
    assert page.locator("#id_inputs_error").is_visible() and page.locator("#id_service_error").is_visible()
    assert _violations(page) == []
