"""`commissioner remind`: returns overdue, assessments due and decisions due, each made and emailed once.

Hand-built contracts at a council of their own, so the sample register's contracts (whose councils have
no users here) never add reminders.
"""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from commissioner.orgs.models import Organisation
from commissioner.orgs.services import create_user
from commissioner.performance import services, synthetic
from commissioner.performance.models import Reminder
from commissioner.register.services import create_local_contract
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def council():
    org = Organisation.objects.create(name="Remindshire Council", slug="remindshire", kind="council")
    other = Organisation.objects.create(name="Elsewhere Council", slug="elsewhere", kind="council")
    people = {"org": org}
    for name, role, email in (("admin", "admin", "admin@remindshire.example"),
                              ("commissioner", "commissioner", "commissioner@remindshire.example"),
                              ("no-email", "commissioner", ""),
                              ("viewer", "viewer", "viewer@remindshire.example")):
        people[name] = create_user(username=f"r-{name}", password=PASSWORD, email=email, organisation=org, role=role)
    people["other"] = create_user(username="e-admin", password=PASSWORD, email="admin@elsewhere.example",
                                  organisation=other, role="admin")
    return people


def contract(council, *, value, start, end, title="Home care in Remindshire"):
    return create_local_contract(owner=council["org"], actor=council["admin"], title=title, delivery_model="market",
                                 provider_name="Caring Hands Ltd", supplier_type="sme", value=value,
                                 start_date=start, end_date=end, cpv="85310000")


def remind(*args):
    out = io.StringIO()
    call_command("commissioner_remind", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def reminders(kind=None):
    qs = Reminder.objects.select_related("user").order_by("user__username", "key")
    return [(r.user.username, r.key) for r in (qs.filter(kind=kind) if kind else qs)]


@pytest.fixture
def home_care(council):
    """A £2m contract from 1 January 2025 with a quarterly KPI and a provider user with an email address."""
    c = contract(council, value=2_000_000, start=date(2025, 1, 1), end=date(2027, 12, 31))
    provider = c.contract_suppliers.get().supplier.provider
    council["provider"] = create_user(username="r-provider", password=PASSWORD, email="returns@caringhands.example")
    services.link_provider_user(actor=None, user=council["provider"], provider=provider)
    kpi = services.create_kpi(actor=council["admin"], contract=c, data={
        "name": "Visits delivered on time", "unit": "%", "target": 95, "tolerance": 2, "frequency": "quarterly"})
    answered = services.create_kpi(actor=council["admin"], contract=c, data={
        "name": "People satisfied", "unit": "%", "target": 85, "frequency": "quarterly"})
    services.submit_return(actor=council["provider"], kpi=answered, day=date(2025, 1, 1), value=88)
    return c, kpi


def test_a_return_overdue_is_reminded_once_to_the_provider_and_the_councils_editors(council, home_care, mailoutbox):
    c, kpi = home_care
    # The first quarter ended on 31 March 2025; 10 May is 40 days later.
    out = remind("--today", "2025-05-10")
    key = f"return_overdue:{kpi.id}:2025-01-01"
    assert reminders() == [("r-admin", key), ("r-commissioner", key), ("r-no-email", key), ("r-provider", key)]
    r = Reminder.objects.get(user=council["provider"])
    assert r.kind == "return_overdue" and r.contract == c and r.due == date(2025, 4, 30)
    assert "Visits delivered on time" in r.message and "1 January 2025 to 31 March 2025" in r.message
    assert "created 4 reminders (4 return overdue" in out and "emailed 3 to 3 users" in out
    assert "1 user without an email address" in out

    # One email per user with an address; the one without sees it in the app only.
    assert sorted(m.to[0] for m in mailoutbox) == ["admin@remindshire.example", "commissioner@remindshire.example",
                                                   "returns@caringhands.example"]
    mail = next(m for m in mailoutbox if m.to == ["returns@caringhands.example"])
    assert "Visits delivered on time" in mail.body and f"/performance/contracts/{c.ocid}/" in mail.body
    assert mail.subject == "Commissioner: 1 reminder"
    assert not Reminder.objects.filter(user__email="", emailed_at__isnull=False).exists()
    assert not Reminder.objects.exclude(user__email="").filter(emailed_at__isnull=True).exists()

    # A second run makes and sends nothing.
    out = remind("--today", "2025-05-10")
    assert "created 0 reminders" in out and "emailed 0 to 0 users" in out
    assert len(mailoutbox) == 3 and Reminder.objects.count() == 4

    # Once the return is in, the next quarter's returns of both KPIs are the ones outstanding.
    services.submit_return(actor=council["provider"], kpi=kpi, day=date(2025, 1, 1), value=96)
    remind("--today", "2025-08-05")
    answered = c.kpis.get(name="People satisfied")
    assert {k for _, k in reminders()} == {key, f"return_overdue:{kpi.id}:2025-04-01",
                                          f"return_overdue:{answered.id}:2025-04-01"}


def test_not_overdue_until_more_than_the_allowed_days_after_the_period(council, home_care, mailoutbox, settings):
    assert "created 0 reminders" in remind("--today", "2025-04-30")  # 30 days after 31 March
    assert "created 4 reminders" in remind("--today", "2025-05-01")
    settings.REMINDER_RETURN_OVERDUE_DAYS = 60
    Reminder.objects.all().delete()
    assert "created 0 reminders" in remind("--today", "2025-05-01")


def test_no_reminders_for_retired_kpis_or_periods_beyond_the_look_back(council, home_care, settings):
    c, kpi = home_care
    services.retire_kpi(actor=council["admin"], kpi=kpi)
    assert "created 0 reminders" in remind("--today", "2025-05-10")
    settings.REMINDER_LOOKBACK_DAYS = 100
    other = c.kpis.get(is_active=True)
    remind("--today", "2026-02-15")  # only the quarter that ended 46 days ago: the others ended over 100 days ago
    assert {k for _, k in reminders("return_overdue")} == {f"return_overdue:{other.id}:2025-10-01"}


def test_an_assessment_due_is_reminded_to_the_councils_editors(council, mailoutbox):
    c = contract(council, value=2_000_000, start=date(2025, 1, 1), end=date(2027, 12, 31))
    assert "created 0 reminders" in remind("--today", "2025-12-31")
    out = remind("--today", "2026-01-15")  # 12 months since the start, no assessment
    key = f"assessment_due:{c.id}:2026-01-01"
    assert reminders("assessment_due") == [("r-admin", key), ("r-commissioner", key), ("r-no-email", key)]
    r = Reminder.objects.filter(kind="assessment_due").first()
    assert "s.71" in r.message and "12 months since the contract started on 1 January 2025" in r.message
    assert r.due == date(2026, 1, 1) and "1 assessment due" not in out and "3 assessment due" in out
    assert len(mailoutbox) == 2

    # Assessed: nothing more until 12 months after the assessment.
    services.record_assessment(actor=council["admin"], contract=c, period_start=date(2025, 1, 1),
                               period_end=date(2025, 12, 31), rating="other", assessed_on=date(2026, 1, 20))
    assert "created 0 reminders" in remind("--today", "2026-02-01")
    remind("--today", "2027-01-25")
    assert f"assessment_due:{c.id}:2027-01-20" in {k for _, k in reminders("assessment_due")}


def test_a_decision_due_within_90_days_is_reminded_to_the_councils_editors(council, mailoutbox):
    # £50,000: a 6-month lead time, so the decision is due on 30 June 2025 for an end on 31 December.
    c = contract(council, value=50_000, start=date(2025, 1, 1), end=date(2025, 12, 31), title="Day centre")
    assert "created 0 reminders" in remind("--today", "2025-03-15")  # 107 days ahead
    out = remind("--today", "2025-04-05")  # 86 days ahead
    key = f"decision_due:{c.id}:2025-06-30"
    assert reminders() == [("r-admin", key), ("r-commissioner", key), ("r-no-email", key)]
    r = Reminder.objects.first()
    assert r.kind == "decision_due" and r.due == date(2025, 6, 30)
    assert "decision due 30 June 2025 for 'Day centre': end of the contract on 31 December 2025" in r.message
    assert "3 recommissioning decision due" in out
    assert sorted(m.to[0] for m in mailoutbox) == ["admin@remindshire.example", "commissioner@remindshire.example"]
    assert "created 0 reminders" in remind("--today", "2025-04-06") and len(mailoutbox) == 2

    # A break clause brings the decision forward: a new decision date is a new reminder.
    services.record_event(actor=council["admin"], contract=c, kind="break", day=date(2025, 9, 30))
    remind("--today", "2025-04-07")
    assert f"decision_due:{c.id}:2025-03-30" in {k for _, k in reminders()}
    assert "was due 30 March 2025" in Reminder.objects.filter(key__endswith="2025-03-30").first().message


def test_dry_run_writes_and_sends_nothing(council, home_care, mailoutbox):
    out = remind("--today", "2025-05-10", "--dry-run")
    assert "Dry run" in out and "would create 4 reminders" in out and "email 3 of them to 3 users" in out
    assert "r-provider: Return overdue: Visits delivered on time" in out
    assert Reminder.objects.count() == 0 and mailoutbox == []


def test_reminders_not_emailed_before_are_sent_on_the_next_run_unless_read(council, home_care, mailoutbox):
    remind("--today", "2025-05-10")
    no_email = council["no-email"]
    no_email.email = "late@remindshire.example"
    no_email.save()
    Reminder.objects.filter(user=no_email).update(read_at=timezone.now())
    assert "emailed 0 to 0 users" in remind("--today", "2025-05-10")
    Reminder.objects.filter(user=no_email).update(read_at=None)
    out = remind("--today", "2025-05-10")
    assert "created 0 reminders" in out and "emailed 1 to 1 user" in out
    assert mailoutbox[-1].to == ["late@remindshire.example"] and len(mailoutbox) == 4


def test_reminders_about_synthetic_kpis_say_so(council, mailoutbox):
    c = contract(council, value=2_000_000, start=date(2025, 1, 1), end=date(2027, 12, 31))
    assert synthetic.generate(contracts=[c], today=date(2025, 3, 11))["kpis"] >= 2
    remind("--today", "2025-06-15")  # the first quarter's returns are overdue
    overdue = Reminder.objects.filter(kind="return_overdue")
    assert overdue.exists() and all(r.message.endswith("[synthetic demo KPI]") for r in overdue)
    assert all("made-up demo data" in m.body for m in mailoutbox)


def test_a_bad_date_is_refused():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        remind("--today", "10/05/2025")
