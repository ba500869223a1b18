"""``commissioner remind``: make the day's reminders and email them (run it daily, from cron).

Three kinds of reminder, each to the people who must act:

- return overdue: a KPI's period (or the contract, if it ended first) ended more than
  REMINDER_RETURN_OVERDUE_DAYS ago (default 30) with no current return, for periods that ended in
  the last REMINDER_LOOKBACK_DAYS (default 365): to the provider's users and the council's admins and
  commissioners;
- assessment due: a Procurement Act s.71 assessment is due (the compliance page's rule): to the
  council's admins and commissioners;
- decision due: a recommissioning decision date (the forward plan's) falls within
  REMINDER_DECISION_DAYS (default 90), or has passed while the contract still runs: to the council's
  admins and commissioners.

A reminder is one row per user and key (for example ``return_overdue:<kpi id>:<period start>``), so
the same reminder is never made twice. Each user with an email address gets one email listing their
new reminders (and any earlier ones still unread and not emailed, say after a failed send);
``emailed_at`` is set once the email is sent. Users without an email address see reminders in the
app only (/performance/reminders/).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from commissioner.methods import performance as perf
from commissioner.orgs import tenancy
from commissioner.orgs.models import Membership, Organisation
from commissioner.performance import queries
from commissioner.performance.models import Assessment, Kpi, KpiReturn, ProviderUser, Reminder
from commissioner.register.models import ContractSupplier, Status

KINDS = Reminder.Kind


@dataclass(frozen=True)
class Due:
    """A reminder that should exist."""

    user: object
    kind: str
    contract: object
    key: str
    message: str
    due: date


def _day(text):
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--today must be a date as YYYY-MM-DD, not {text!r}") from None


def _title(contract):
    title = " ".join(contract.title.split())
    return f"'{title[:150]}{'...' if len(title) > 150 else ''}'"


def council_editors():
    """{organisation id: [active admins and commissioners]}."""
    out = defaultdict(list)
    for m in (Membership.objects.filter(role__in=tenancy.EDIT_ROLES, user__is_active=True)
              .select_related("user").order_by("user__username")):
        out[m.organisation_id].append(m.user)
    return out


def provider_users():
    """{provider id: [active users acting for it]}."""
    out = defaultdict(list)
    for link in ProviderUser.objects.filter(user__is_active=True).select_related("user").order_by("user__username"):
        out[link.provider_id].append(link.user)
    return out


def overdue_returns(today, editors, providers, *, days, lookback):
    floor = today - timedelta(days=lookback)
    kpis = (Kpi.objects.filter(is_active=True, contract__status__in=queries.LIVE, contract__start_date__lte=today)
            .filter(Q(contract__owner_id__in=list(editors))
                    | Q(contract__contract_suppliers__supplier__provider_id__in=list(providers)))
            .filter(Q(contract__end_date__isnull=True) | Q(contract__end_date__gte=floor)).distinct())
    contract_providers = defaultdict(set)
    for cid, pid in ContractSupplier.objects.filter(
            contract__kpis__in=kpis, supplier__provider_id__in=list(providers)).values_list(
            "contract_id", "supplier__provider_id").distinct():
        contract_providers[cid].add(pid)
    have = set(KpiReturn.objects.filter(kpi__in=kpis, is_current=True, period_end__gte=floor)
               .values_list("kpi_id", "period_start"))
    out = []
    for kpi in kpis.select_related("contract").order_by("contract__ocid", "name", "id"):
        c = kpi.contract
        first = max(c.start_date, floor)
        last = min(c.end_date or today, today)
        if first > last:
            continue
        users = [*(u for pid in sorted(contract_providers[c.id]) for u in providers[pid]), *editors.get(c.owner_id, [])]
        if not users:
            continue
        for start, end in perf.periods_between(first, last, kpi.frequency):
            ended = min(end, c.end_date) if c.end_date else end
            if ended < floor or (today - ended).days <= days or (kpi.id, start) in have:
                continue
            due = ended + timedelta(days=days)
            message = (f"Return overdue: {kpi.name}, {perf.long_date(start)} to {perf.long_date(end)}, for "
                       f"{_title(c)} (due {perf.long_date(due)})"
                       + (" [synthetic demo KPI]" if kpi.synthetic else ""))
            out += [Due(u, KINDS.RETURN_OVERDUE, c, f"return_overdue:{kpi.id}:{start.isoformat()}", message, due)
                    for u in users]
    return out


def assessments_due(today, editors):
    out = []
    for org in Organisation.objects.filter(pk__in=list(editors)).order_by("name"):
        breaches = [b for b in queries.compliance(org, today) if b.rule == "s.71 assessment"]
        last = dict(Assessment.objects.filter(contract__in=[b.contract.id for b in breaches], is_current=True)
                    .values("contract_id").annotate(last=Max("assessed_on")).values_list("contract_id", "last"))
        for b in breaches:
            c = b.contract
            if c.status == Status.TERMINATED and c.end_date:
                due = c.end_date
            else:
                due = perf.add_months(last.get(c.id) or c.start_date, 12)
            message = f"Performance assessment due (Procurement Act s.71) for {_title(c)}: {b.detail}"
            out += [Due(u, KINDS.ASSESSMENT_DUE, c, f"assessment_due:{c.id}:{due.isoformat()}", message, due)
                    for u in editors[org.pk]]
    return out


def decisions_due(today, editors, *, days):
    horizon = today + timedelta(days=days)
    out = []
    for org in Organisation.objects.filter(pk__in=list(editors)).order_by("name"):
        for item in queries.forward_plan(org, today):
            if item.decision > horizon:
                break  # the plan is in decision order
            c = item.contract
            when = "was due" if item.decision < today else "due"
            message = (f"Recommissioning decision {when} {perf.long_date(item.decision)} for {_title(c)}: "
                       f"{item.why} on {perf.long_date(item.end)}, {item.lead_months} months' lead time")
            out += [Due(u, KINDS.DECISION_DUE, c, f"decision_due:{c.id}:{item.decision.isoformat()}", message,
                        item.decision) for u in editors[org.pk]]
    return out


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Command(BaseCommand):
    help = "Make reminders (returns overdue, assessments due, decisions due) and email them; for a daily cron job"

    def add_arguments(self, parser):
        parser.add_argument("--today", help="the date to remind as at, YYYY-MM-DD (default: today)")
        parser.add_argument("--dry-run", action="store_true", help="say what would be made and sent; change nothing")

    def handle(self, *args, today=None, dry_run=False, verbosity=1, **opts):
        today = _day(today) if today else timezone.localdate()
        editors, providers = council_editors(), provider_users()
        wanted = (overdue_returns(today, editors, providers, days=settings.REMINDER_RETURN_OVERDUE_DAYS,
                                  lookback=settings.REMINDER_LOOKBACK_DAYS)
                  + assessments_due(today, editors)
                  + decisions_due(today, editors, days=settings.REMINDER_DECISION_DAYS))
        existing = set()
        user_ids = sorted({d.user.pk for d in wanted})
        for i in range(0, len(user_ids), 500):
            existing |= set(Reminder.objects.filter(user_id__in=user_ids[i:i + 500]).values_list("user_id", "key"))
        new, seen = [], set(existing)
        for d in wanted:
            if (d.user.pk, d.key) not in seen:
                seen.add((d.user.pk, d.key))
                new.append(d)
        by_kind = {k: sum(1 for d in new if d.kind == k) for k in KINDS.values}
        kinds = ", ".join(f"{by_kind[k]} {label.lower()}" for k, label in KINDS.choices)
        no_email = {d.user.pk for d in new if not d.user.email}
        if dry_run or verbosity >= 2:
            for d in new:
                self.stdout.write(f"  {d.user.get_username()}: {d.message}")
        if dry_run:
            to_email = [d for d in new if d.user.email]
            self.stdout.write(f"Dry run as at {today.isoformat()}, nothing written or sent: would create "
                              f"{_plural(len(new), 'reminder')} ({kinds}) and email "
                              f"{len(to_email)} of them to {_plural(len({d.user.pk for d in to_email}), 'user')}"
                              f" (plus any earlier reminders not yet emailed).")
            return
        with transaction.atomic():
            Reminder.objects.bulk_create(
                [Reminder(user=d.user, kind=d.kind, contract_id=d.contract.id, key=d.key[:300], message=d.message[:500],
                          due=d.due) for d in new], batch_size=500, ignore_conflicts=True)
        emailed, users_emailed, failed = self._email(verbosity)
        self.stdout.write(f"Reminders as at {today.isoformat()}: created {_plural(len(new), 'reminder')} ({kinds}) "
                          f"for {_plural(len({d.user.pk for d in new}), 'user')}; emailed {emailed} to "
                          f"{_plural(users_emailed, 'user')}"
                          + (f"; {_plural(len(no_email), 'user')} without an email address will see them in the "
                             "app only" if no_email else "") + ".")
        if failed:
            raise CommandError(f"{_plural(failed, 'email')} could not be sent; they are tried again on the next run")

    def _email(self, verbosity):
        """Email each user their reminders not yet emailed or read; (reminders emailed, users, failures)."""
        pending = defaultdict(list)
        for r in (Reminder.objects.filter(emailed_at__isnull=True, read_at__isnull=True, user__is_active=True)
                  .exclude(user__email="").select_related("user", "contract").order_by("user_id", "due", "id")):
            pending[r.user].append(r)
        if not pending:
            return 0, 0, 0
        base = settings.REMINDER_BASE_URL
        emailed = users = failed = 0
        connection = get_connection()
        for user, rows in pending.items():
            lines = [f"Hello {user.get_full_name() or user.get_username()},", "",
                     f"You have {_plural(len(rows), 'new reminder')} in Commissioner:", ""]
            for r in rows:
                lines += [f"- {r.message}", f"  {base}{reverse('performance-contract', args=[r.contract.ocid])}", ""]
            lines += [f"All your reminders: {base}{reverse('performance-reminders')}"]
            if any("[synthetic demo KPI]" in r.message for r in rows):
                lines += ["", "Reminders marked [synthetic demo KPI] are about made-up demo data, not real returns."]
            subject = f"Commissioner: {_plural(len(rows), 'reminder')}"
            try:
                send_mail(subject, "\n".join(lines), None, [user.email], connection=connection)
            except Exception as e:  # noqa: BLE001 - one bad address or a mail server error must not stop the rest
                failed += 1
                self.stderr.write(f"could not email {user.get_username()} <{user.email}>: {e}")
                continue
            Reminder.objects.filter(pk__in=[r.pk for r in rows]).update(emailed_at=timezone.now())
            emailed += len(rows)
            users += 1
            if verbosity >= 2:
                self.stdout.write(f"  emailed {user.get_username()} <{user.email}>: {len(rows)}")
        return emailed, users, failed
