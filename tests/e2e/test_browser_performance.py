"""Real browser: the performance pages pass axe, and a KPI and its result can be entered by keyboard."""


import pytest

from .conftest import sign_in
from .test_browser import _violations

pytestmark = pytest.mark.e2e

DONCASTER_OCID = "ocds-b5fd17-6de1440b-85d0-40f1-9c76-5aad5ca0ab5e"  # Surface Dressing 2025, City of Doncaster
PERFORMANCE_PAGES = [
    "/performance/", "/performance/reminders/", "/performance/councils/doncaster/compliance/",
    "/performance/councils/doncaster/forward-plan/", "/performance/councils/doncaster/opportunities/",
    f"/performance/contracts/{DONCASTER_OCID}/", f"/performance/contracts/{DONCASTER_OCID}/kpis/new/",
    f"/performance/contracts/{DONCASTER_OCID}/returns/new/", f"/performance/contracts/{DONCASTER_OCID}/assess/",
    f"/performance/contracts/{DONCASTER_OCID}/changes/new/", f"/performance/contracts/{DONCASTER_OCID}/events/new/",
    f"/performance/contracts/{DONCASTER_OCID}/exemption/", f"/performance/contracts/{DONCASTER_OCID}/returns/upload/",
]


@pytest.mark.parametrize("path", PERFORMANCE_PAGES)
def test_performance_pages_have_no_axe_violations(page, server, path):
    sign_in(page, server)
    assert page.goto(server + path).status == 200, path
    assert page.locator("h1").count() == 1
    assert _violations(page) == [], path


def test_keyboard_only_add_a_kpi_and_submit_a_result(page, server):
    sign_in(page, server, "demo-commissioner")
    base = f"{server}/performance/contracts/{DONCASTER_OCID}/"
    page.goto(base + "kpis/new/")
    page.get_by_role("button", name="Add KPI").press("Enter")  # empty: errors, reachable from the summary
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 1
    assert _violations(page) == []
    page.locator("#id_name").focus()
    page.keyboard.type("Defects repaired within 28 days (browser test)")
    page.locator("#id_unit").focus()
    page.keyboard.type("%")
    page.keyboard.press("Tab")
    page.keyboard.type("90")  # target
    page.locator("#id_tolerance").fill("2")
    page.locator("#id_tolerance").press("Enter")
    page.wait_for_url(base)
    assert "Defects repaired within 28 days (browser test)" in page.content()
    page.goto(base + "returns/new/")
    page.select_option("#id_kpi", label="Defects repaired within 28 days (browser test) (%, quarterly)")
    page.locator("#id_period_0").focus()
    for value in ("15", "5", "2025"):
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    page.keyboard.type("85")
    page.keyboard.press("Enter")
    page.wait_for_url(base)
    assert "Below" in page.content() or "below" in page.content()
