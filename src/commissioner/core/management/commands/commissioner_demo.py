"""Set up the demo (idempotent) and serve it: migrate, load the real sample, demo users, gunicorn."""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_PASSWORD = "demo-password-change-me"
DEMO_COUNCIL = "DNC"  # City of Doncaster Council: the council with most contracts in the sample
SAMPLES = ["cf_englishdata_release_package.json", "cf_search_page_2025-01-20_to_2025-01-23.json"]


class Command(BaseCommand):
    help = "Migrate, load the real Contracts Finder sample, create demo users, then serve on 127.0.0.1:8000"

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="set up only")
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))

    def handle(self, *args, no_serve=False, bind="127.0.0.1:8000", **opts):
        call_command("migrate", verbosity=0, interactive=False)
        from commissioner.ocds.services import import_ocds
        from commissioner.register.models import Contract

        samples = settings.BASE_DIR / "data" / "samples" / "contracts_finder"
        if not Contract.objects.filter(source="ocds").exists():
            self.stdout.write("Loading the real Contracts Finder sample (200 releases, OGL v3.0) ...")
            summary = import_ocds([samples / name for name in SAMPLES], source_label="demo sample")
            for line in list(summary.lines())[:2]:
                self.stdout.write("  " + line)
        users = self._users()
        self.stdout.write("")
        self.stdout.write(f"Commissioner is running at http://{bind}/")
        for username, role in users:
            self.stdout.write(f"  demo login: {username} / {DEMO_PASSWORD}   ({role})")
        self.stdout.write("  (demo passwords only: change them or create real users with `commissioner createuser`)")
        self.stdout.flush()
        if not no_serve:
            call_command("commissioner_serve", bind=bind)

    def _users(self):
        from django.contrib.auth import get_user_model

        from commissioner.orgs.services import council_organisation, create_user

        council = council_organisation(DEMO_COUNCIL)
        wanted = [
            ("demo-admin", "admin", f"admin at {council.name}", False),
            ("demo-commissioner", "commissioner", f"commissioner at {council.name}", False),
            ("demo-viewer", "viewer", f"viewer at {council.name}", False),
            ("demo-superuser", None, "site administrator (Django admin at /admin/)", True),
        ]
        User = get_user_model()
        out = []
        for username, role, label, superuser in wanted:
            if not User.objects.filter(username=username).exists():
                create_user(username=username, password=DEMO_PASSWORD, organisation=None if superuser else council,
                            role=role or "viewer", is_superuser=superuser)
            out.append((username, label))
        return out
