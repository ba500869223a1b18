"""Real browser: the benchmarking pages (public, real Oflog data from the demo) pass axe, and a council's
position can be reached by keyboard from the catalogue."""

import re

import pytest

from .conftest import sign_in
from .test_browser import _violations

pytestmark = pytest.mark.e2e

BENCHMARKING_PAGES = [
    "/benchmarking/", "/benchmarking/measures/ASC1/", "/benchmarking/measures/ASC7/?org=doncaster&peer=region",
    "/benchmarking/measures/ASC1/?period=1999-00", "/benchmarking/councils/doncaster/",
    "/benchmarking/councils/trafford/?peer=type", "/benchmarking/councils/doncaster/?peer=nearest",
    "/benchmarking/measures/ASC2/?org=doncaster&peer=nearest",
]


@pytest.mark.parametrize("path", BENCHMARKING_PAGES)
def test_benchmarking_pages_have_no_axe_violations(page, server, path):
    response = page.goto(server + path)
    assert response.status in (200, 400), (path, response.status)
    assert page.locator("h1").count() == 1
    assert _violations(page) == [], path


def test_keyboard_only_from_the_catalogue_to_a_measure(page, server):
    page.goto(server + "/benchmarking/")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href') || ''").startswith("/benchmarking/measures/"):
            break
    else:
        raise AssertionError("no measure link reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/benchmarking/measures/"))
    assert "percentile" in page.content().lower()


PEER_PAGES = [
    "/benchmarking/councils/doncaster/neighbours/",
    "/benchmarking/councils/doncaster/neighbours/?m=ASC1&m=ASC3&w-ASC1=2&w-ASC3=1",
    "/benchmarking/councils/doncaster/neighbours/?m=ASC1&w-ASC1=heavy",
    "/benchmarking/code-mappings/",
]


@pytest.mark.parametrize("path", PEER_PAGES)
def test_peer_pages_have_no_axe_violations(page, server, path):
    response = page.goto(server + path)
    assert response.status in (200, 400), (path, response.status)
    assert page.locator("h1").count() == 1
    assert _violations(page) == [], path


def test_keyboard_only_nearest_neighbours_saved_as_a_peer_group(page, server):
    """A commissioner finds Doncaster's neighbours on two weighted measures and saves them, by keyboard only."""
    sign_in(page, server)
    page.goto(server + "/benchmarking/councils/doncaster/neighbours/")
    for code, weight in (("ASC1", "2"), ("ASC5", "1")):
        box = page.locator("#measures" if code == "ASC1" else f"#m-{code}")
        box.focus()
        page.keyboard.press("Space")
        page.locator(f"#w-{code}").focus()
        page.keyboard.press("Control+A")
        page.keyboard.type(weight)
    page.locator("#limit").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"m=ASC1"))
    assert page.locator("table tbody tr").count() > 15  # the measures table and 15 neighbours
    assert _violations(page) == []
    page.locator("#name").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("Keyboard neighbours")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/peer-groups/$"))
    assert "Keyboard neighbours" in page.content()
    assert _violations(page) == []


def _first_link(page, pattern):
    href = page.evaluate("(p) => [...document.querySelectorAll('main a')].map(a => a.getAttribute('href'))"
                         ".find(h => h && new RegExp(p).test(h)) || ''", pattern)
    assert href, pattern
    return href


def test_signed_in_benchmarking_pages_have_no_axe_violations(page, server):
    """Local value measures, provider benchmarking, peer groups and a Trafford Data Lab measure, as the demo's
    council admin, each page checked by axe, following the links a user would."""
    sign_in(page, server)
    seen = []

    def check(path):
        response = page.goto(server + path)
        assert response.status in (200, 400), (path, response.status)
        assert page.locator("h1").count() == 1, path
        assert _violations(page) == [], path
        seen.append(path)

    check("/benchmarking/local/")
    local = _first_link(page, r"^/benchmarking/local/LV-DNC-[^/]+/$")  # Doncaster's own: editable
    check(local)
    check(local + "edit/")
    check(local + "value/")
    check(local.replace("/local/", "/measures/") + "?org=doncaster&peer=adopters")
    check("/benchmarking/local/new/")
    check("/benchmarking/categories/")
    category = _first_link(page, r"^/benchmarking/categories/\d\d/$")
    check(category)
    provider = _first_link(page, r"^/benchmarking/providers/\d+/$")
    check(category + "?org=doncaster&peer=region")
    check(provider)
    check("/benchmarking/councils/doncaster/peer-groups/")
    check("/benchmarking/code-mappings/")
    check("/benchmarking/measures/TDL-WASTE-RECYCLED-PCT/?org=trafford&peer=type")
    assert len(seen) == 13
