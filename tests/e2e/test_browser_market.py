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
    page.get_by_text("We do not know the layout of unknown.csv").wait_for()  # the answer page, not mid-navigation
    assert "We do not know the layout of unknown.csv" in page.content()
    assert _violations(page) == []
    page.get_by_role("button", name="Load the file").click()  # no file, no columns chosen
    page.get_by_text("There is a problem").wait_for()
    assert "There is a problem" in page.content()
    assert _violations(page) == []
    assert (ROOT / "data" / "samples" / "spend" / "LICENSE.OGL-3.0.txt").exists()


def _tab_to(page, predicate_js, limit=200):
    """Press Tab until the focused element satisfies ``predicate_js`` (a JS expression on `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({predicate_js}); }})()"):
            return
    raise AssertionError(f"nothing matching {predicate_js} is reachable with Tab")


MAPPED = ("Payee name,Date paid,Amount paid,Service area\n"
          "Acme Care Ltd,01/04/2024,1200.00,Adult Social Care\n"
          "Roadworks Ltd,02/04/2024,800.00,Highways\n")


def test_category_mapping_and_file_removal_by_keyboard(page, server, tmp_path):
    """Load a file for Doncaster (demo-admin's council), map a category to a CPV division and remove the
    file, with the keyboard alone on the new pages; each page passes axe."""
    sign_in(page, server, "demo-admin")
    page.goto(server + "/market/")
    upload = page.get_by_role("link", name=re.compile("Load a spend file for")).first.get_attribute("href")
    slug = upload.split("/")[2]
    spend = tmp_path / "doncaster-april.csv"
    spend.write_text(MAPPED)
    page.goto(server + upload)
    page.set_input_files("#id_file", str(spend))
    page.get_by_role("button", name="Load the file").click()
    page.locator("#mapping-needed").wait_for()
    page.set_input_files("#id_file", str(spend))
    for field, column in (("payee", "1"), ("date", "2"), ("amount", "3"), ("category", "4")):
        page.select_option(f"#id_map_{field}", column)
    page.get_by_role("button", name="Load the file").click()
    page.wait_for_url(re.compile(rf"/market/{slug}/$"))
    assert "Loaded 2 payments" in page.content()
    assert "Spend by CPV division, beside the register" in page.content()
    assert _violations(page) == []
    # To the mapping page by keyboard.
    _tab_to(page, "el.getAttribute('href') && el.getAttribute('href').endsWith('/categories/')")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/categories/$"))
    assert "Suggested: 85 Health and social work services" in page.content()
    assert "0 of 2 categories mapped" in page.content()
    assert _violations(page) == []
    _tab_to(page, "el.tagName === 'SELECT'")
    label = page.evaluate("document.querySelector('label[for=\"' + document.activeElement.id + '\"]').textContent")
    assert label.strip() == "Adult Social Care"  # the largest category first
    page.keyboard.type("85")
    _tab_to(page, "el.tagName === 'BUTTON' && el.textContent.includes('Save the mappings')")
    page.keyboard.press("Enter")
    page.get_by_text("Saved: 1 mapping(s) changed").wait_for()
    assert "Saved: 1 mapping(s) changed" in page.content() and "1 of 2 categories mapped" in page.content()
    assert _violations(page) == []
    # An error state (a choice not in the list, as a tampered form would send) passes axe too.
    page.evaluate("const s = document.querySelectorAll('select')[1]; const o = new Option('99', '99');"
                  "s.add(o); s.value = '99';")
    page.get_by_role("button", name="Save the mappings on this page").click()
    page.get_by_text("There is a problem").wait_for()
    assert "There is a problem" in page.content() and "Choose a CPV division for “Highways”" in page.content()
    assert _violations(page) == []
    # The council page shows 85 from the mapping; remove the file by keyboard.
    page.goto(server + f"/market/{slug}/")
    assert "85 Health and social work services" in page.locator("#divisions ~ table").first.inner_text()
    _tab_to(page, "el.getAttribute('href') && el.getAttribute('href').endsWith('/remove/')")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/remove/$"))
    assert "2 payments will be removed" in page.content()
    assert _violations(page) == []
    _tab_to(page, "el.tagName === 'BUTTON' && el.textContent.includes('Remove the file')")
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/market/")
    page.get_by_text("Removed doncaster-april.csv").wait_for()
    assert "Removed doncaster-april.csv and its 2 payments" in page.content()
    assert _violations(page) == []


WEIRD = "Date,Supplier,Amount,Description\n01/04/2024,Acme Widgets Ltd,1200.50,Widgets\n"


def test_mapping_guesses_then_another_councils_file_asked_by_keyboard(page, server, tmp_path):
    sign_in(page, server, "demo-admin")
    page.goto(server + "/market/")
    page.get_by_role("link", name=re.compile("Load a spend file for")).first.click()
    upload_url = page.url
    weird = tmp_path / "weird.csv"
    weird.write_text(WEIRD)
    page.set_input_files("#id_file", str(weird))
    page.get_by_role("button", name="Load the file").click()
    assert "We do not know the layout of weird.csv" in page.content()
    chosen = {f: page.locator(f"#id_map_{f}").input_value() for f in ("payee", "date", "amount", "description")}
    assert chosen == {"payee": "2", "date": "1", "amount": "3", "description": "4"}
    assert _violations(page) == []
    # a Hyndburn file under another council: the question, answered by keyboard
    page.goto(upload_url)
    hyndburn = ROOT / "data" / "samples" / "spend" / "hyndburn" / "1701.csv"
    page.set_input_files("#id_file", str(hyndburn))
    page.get_by_role("button", name="Load the file").click()
    assert "This may be another council's file" in page.locator("#other-council").inner_text()
    assert "There is a problem" in page.content()
    assert _violations(page) == []
    page.locator(".govuk-error-summary a").first.click()  # the summary leads to the checkbox
    assert page.evaluate("document.activeElement.id") == "id_confirm_other_council"
    page.keyboard.press("Space")
    assert page.locator("#id_confirm_other_council").is_checked()
