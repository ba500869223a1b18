"""Real browser: the market analysis pages (index, a council, a category, the upload form with a
mapping asked for and with errors) pass axe; the demo loads the real spend samples."""

import re

import pytest

from .conftest import ROOT, sign_in
from .test_browser import _violations

pytestmark = pytest.mark.e2e

UNKNOWN = "Supplier,Paid on,Value\nAcme Ltd,01/04/2024,100.00\n"


def _council_url(page, server, name):
    page.goto(server + "/market/")
    return page.get_by_role("link", name=re.compile(name)).first.get_attribute("href")


def test_market_pages_have_no_axe_violations(page, server):
    assert page.goto(server + "/market/").status == 200
    assert "Hyndburn" in page.content() and "Trafford" in page.content()
    assert _violations(page) == []
    hyndburn = _council_url(page, server, "Hyndburn")
    assert page.goto(server + hyndburn).status == 200
    text = page.content()
    assert "Concentration (HHI)" in text and "New entrants by financial year" in text
    assert "Redacted" not in page.locator("#suppliers ~ table").first.inner_text()
    assert _violations(page) == []
    page.select_option("#category", index=1)
    page.get_by_role("button", name="Show").click()
    assert "category=" in page.url
    assert _violations(page) == []
    trafford = _council_url(page, server, "Trafford")
    assert page.goto(server + trafford).status == 200
    assert "Grants to voluntary and community organisations (360Giving)" in page.content()
    assert "Local (same or neighbouring area)" in page.content()
    assert _violations(page) == []


def test_upload_form_mapping_and_errors(page, server, tmp_path):
    sign_in(page, server, "demo-admin")
    page.goto(server + "/market/")
    page.get_by_role("link", name=re.compile("Load a spend file for")).first.click()
    assert _violations(page) == []
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(UNKNOWN)
    page.set_input_files("#id_file", str(unknown))
    page.get_by_role("button", name="Load the file").click()
    assert "We do not know this file" in page.content()
    assert _violations(page) == []
    page.get_by_role("button", name="Load the file").click()  # no file, no columns chosen
    assert "There is a problem" in page.content()
    assert _violations(page) == []
    assert (ROOT / "data" / "samples" / "spend" / "LICENSE.OGL-3.0.txt").exists()
