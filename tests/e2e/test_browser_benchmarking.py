"""Real browser: the benchmarking pages (public, real Oflog data from the demo) pass axe, and a council's
position can be reached by keyboard from the catalogue."""

import re

import pytest

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
