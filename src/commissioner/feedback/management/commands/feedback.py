"""``commissioner feedback retention [--today YYYY-MM-DD]``: apply the residents' feedback retention periods
(settings.FEEDBACK_RETENTION_DAYS): anonymise inactive residents' accounts (their stories kept, anonymous),
delete unconfirmed ones, delete old posting attempts, clear reporters' addresses and the text of stories
that were not published. ``commissioner feedback classify``: classify stories stored before the model
was built."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from commissioner.feedback import services


class Command(BaseCommand):
    help = "Residents' feedback: retention (anonymise inactive accounts, ...) or classify stories not classified yet"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        retention = sub.add_parser("retention", help="apply the retention periods")
        retention.add_argument("--today", help="the date to apply them as at (YYYY-MM-DD; default today)")
        sub.add_parser("classify", help="classify stories stored 'not classified yet'")

    def handle(self, *args, action, today=None, **opts):
        if action == "classify":
            n = services.classify_pending()
            self.stdout.write(f"Classified {n} stor{'y' if n == 1 else 'ies'}")
            return
        when = None
        if today:
            try:
                when = date.fromisoformat(today)
            except ValueError:
                raise CommandError(f"--today: '{today}' is not a date like 2025-06-30") from None
        done = services.retention(today=when)
        self.stdout.write(
            f"Anonymised {done['anonymised']} inactive account(s) (their {done['stories_kept']} stories kept, "
            f"anonymous); deleted {done['unconfirmed_deleted']} unconfirmed account(s) and "
            f"{done['attempts_deleted']} old posting attempt(s); cleared {done['report_addresses_cleared']} "
            f"reporter address(es) and the text of {done['texts_cleared']} unpublished stor"
            f"{'y' if done['texts_cleared'] == 1 else 'ies'}")
