"""Real browser: the supplier financial risk page passes axe (as it is, with errors, and with every
section open), and an assessment can be made by keyboard only."""

import pytest

from .conftest import sign_in
from .test_browser import _violations

pytestmark = pytest.mark.e2e

# The demo's synthetic accounts are for the supplier of this City of Doncaster contract (risk.services.demo).
DEMO_OCID = "ocds-b5fd17-302b3393-b9e3-4b4a-8e27-81c994254466"  # CCTV camera relocation
RISK_PAGE = f"/risk/contracts/{DEMO_OCID}/"


@pytest.mark.parametrize("username", ["demo-admin", "demo-viewer"])
def test_risk_page_has_no_axe_violations(page, server, username):
    sign_in(page, server, username)
    assert page.goto(server + RISK_PAGE).status == 200
    assert page.locator("h1").count() == 1
    text = page.content()
    assert "synthetic" in text and "Would reject" in text and " risk</strong>" in text  # rating tag
    for summary in page.locator("summary").all():
        summary.click()
    assert _violations(page) == []


def test_contract_page_links_to_the_risk_page(page, server):
    sign_in(page, server, "demo-viewer")
    page.goto(f"{server}/contracts/{DEMO_OCID}/")
    page.get_by_role("link", name="Supplier financial risk: accounts, exposure and health, mitigations").click()
    page.wait_for_url(server + RISK_PAGE)


def test_keyboard_only_assessment(page, server):
    sign_in(page, server, "demo-commissioner")
    page.goto(server + RISK_PAGE)
    # an impossible number of lots: the error summary, then fixed by keyboard
    page.locator("#id_lots").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("0")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".govuk-error-summary").count() == 1
    assert "The number of lots must be 1 or more" in page.content()
    assert _violations(page) == []
    page.locator("#id_criticality_2").focus()  # "High": arrows move within the radios
    page.keyboard.press("Space")
    assert page.locator("#id_criticality_2").is_checked()
    page.locator("#id_mitigations_0").focus()  # parent company guarantee
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # performance bond
    page.keyboard.press("Space")
    page.locator("#id_lots").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    page.keyboard.press("Tab")  # credit score
    page.keyboard.type("45")
    page.keyboard.press("Tab")  # audited accounts required
    page.keyboard.press("Tab")  # the button
    assert page.evaluate("document.activeElement.textContent").strip() == "Assess financial risk"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}{RISK_PAGE}?provider=*")
    text = page.content()
    assert "Assessed:" in text
    assert "Credit score 45: moderate risk." in text
    assert "a performance bond" in text
    assert page.locator("table").filter(has_text="Superseded").count() == 1


def _suppliers_risk_page(page, server):
    """The risk page of demo-provider's contract with City of Doncaster Council, reached as a supplier would:
    from the performance pages (its contract may be private, so not in the register for it)."""
    page.goto(server + "/performance/")
    hrefs = [a.get_attribute("href") for a in page.locator("main a[href^='/performance/contracts/']").all()]
    for href in dict.fromkeys(hrefs):
        page.goto(server + href)
        link = page.get_by_role("link", name="Supplier financial risk: give City of Doncaster Council your accounts")
        if link.count():
            link.click()
            page.wait_for_url(server + "/risk/contracts/**")
            return page.url
    raise AssertionError("demo-provider has no contract with City of Doncaster Council")


def test_a_supplier_gives_its_accounts_by_keyboard_and_the_council_sees_them(browser, server):
    supplier = browser.new_context().new_page()
    sign_in(supplier, server, "demo-provider")
    url = _suppliers_risk_page(supplier, server)
    assert "You act for" in supplier.content() and "Assess financial risk" not in supplier.content()
    assert _violations(supplier) == []
    summary = supplier.locator("summary", has_text="Give a year of your accounts")
    summary.focus()
    if not summary.evaluate("s => s.parentElement.open"):  # open when it has given nothing yet
        supplier.keyboard.press("Enter")
    supplier.locator("#id_year").focus()
    supplier.keyboard.type("2023")
    supplier.keyboard.press("Tab")
    supplier.keyboard.type("1,250,000")  # turnover
    supplier.keyboard.press("Tab")
    supplier.keyboard.type("(12,500)")  # an operating loss
    with supplier.expect_navigation():
        supplier.keyboard.press("Enter")
    text = supplier.content()
    assert "Accounts for 2023 saved. City of Doncaster Council holds them" in text
    assert "The supplier (demo-provider, " in text and "-£12,500" in text
    assert _violations(supplier) == []
    supplier.context.close()

    council = browser.new_context().new_page()
    sign_in(council, server, "demo-viewer")
    council.goto(url)
    text = council.content()
    assert "The supplier (demo-provider, " in text and "£1,250,000" in text and "You act for" not in text
    assert _violations(council) == []
    council.context.close()
