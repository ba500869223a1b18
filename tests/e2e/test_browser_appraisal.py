"""Real browser: the options appraisal pages pass axe (the list, the demo appraisal as it is and with errors, the
option form), an option can be added, and the PDF report downloads."""

import re

import pytest

from .conftest import sign_in
from .test_browser import _violations

pytestmark = pytest.mark.e2e


def _open_demo(page, server):
    page.goto(server + "/appraisals/")
    assert _violations(page) == []
    page.get_by_role("link", name=re.compile(r": options for recommissioning \(synthetic\)$")).click()
    page.wait_for_url(server + "/appraisals/*/")


@pytest.mark.parametrize("username", ["demo-admin", "demo-viewer"])
def test_appraisal_pages_have_no_axe_violations(page, server, username):
    sign_in(page, server, username)
    _open_demo(page, server)
    assert page.locator("h1").count() == 1
    text = page.content()
    assert "This appraisal is synthetic" in text and "Recommended: " in text
    assert "The weights added up to 1.1, not 1" in text
    assert page.locator("svg").count() >= 2 and page.locator("table").count() >= 4
    assert ("Add the option" in text) is (username == "demo-admin")
    assert _violations(page) == []


def test_add_an_option_with_an_error_first_then_the_report(page, server):
    sign_in(page, server, "demo-commissioner")
    _open_demo(page, server)
    page.fill("#id_name", "Large firm")
    page.select_option("#id_kind", "large_firm")
    page.fill("#id_costs", "100000, lots")
    page.get_by_role("button", name="Add the option").click()
    assert page.locator(".govuk-error-summary").count() == 1
    assert "costs (year 1): must be a number, not 'lots'" in page.locator(".govuk-error-summary").inner_text()
    assert _violations(page) == []
    page.fill("#id_costs", ", ".join(["100000"] + ["900000"] * 10))
    page.fill("#id_benefits", ", ".join(["0"] + ["1000000"] * 10))
    page.fill("#id_ob_shares", "outsourcing 100")
    page.get_by_role("button", name="Add the option").click()
    page.wait_for_url(server + "/appraisals/*/")
    assert "Option added: Large firm" in page.content()
    assert page.locator("#results-table").filter(has_text="Large firm").count() == 1
    page.get_by_role("link", name="Change Large firm").click()
    assert _violations(page) == []
    href = page.get_by_role("link", name="Back to the appraisal").get_attribute("href")
    response = page.request.get(server + href + "report.pdf")
    assert response.status == 200 and response.body().startswith(b"%PDF")


def test_settings_evidence_and_removing_an_option_by_keyboard(page, server):
    sign_in(page, server, "demo-admin")
    _open_demo(page, server)
    assert page.locator("#evidence-table").count() == 1  # the demo links a contract of the register
    page.get_by_role("link", name="Change the settings of the appraisal").click()
    assert _violations(page) == []
    page.fill("#id_seed", "not a seed")
    page.locator("#id_seed").press("Enter")
    assert "seed: must be a number" in page.locator(".govuk-error-summary").inner_text().lower() or \
        "must be a number" in page.locator(".govuk-error-summary").inner_text()
    assert _violations(page) == []
    page.fill("#id_seed", "99")
    page.locator("#id_seed").press("Enter")
    page.wait_for_url(server + "/appraisals/*/")
    assert "Appraisal settings saved" in page.content() and "seed 99" in page.content()
    page.get_by_role("link", name="Remove Shared service").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/appraisals/*/options/*/delete/")
    assert _violations(page) == []
    page.get_by_role("button", name="Remove the option").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/appraisals/*/")
    assert "Option removed: Shared service" in page.content()
