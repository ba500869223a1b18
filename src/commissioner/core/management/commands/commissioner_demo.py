"""Set up the demo (idempotent) and serve it: migrate, load the real sample, demo users, synthetic
performance data (see performance.synthetic) and a provider user, gunicorn."""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_PASSWORD = "demo-password-change-me"
DEMO_COUNCIL = "DNC"  # City of Doncaster Council: the council with most contracts in the sample
DEMO_PROVIDER = "demo-provider"
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
        users += self._performance()
        self._benchmarking()
        __import__("commissioner.risk.services", fromlist=["demo"]).demo(la_code=DEMO_COUNCIL)  # synthetic accounts
        __import__("commissioner.market.services", fromlist=["demo"]).demo()  # real spend samples (OGL)
        __import__("commissioner.appraisal.services", fromlist=["demo"]).demo(la_code=DEMO_COUNCIL)  # synthetic
        __import__("commissioner.socialvalue.services", fromlist=["demo"]).demo(la_code=DEMO_COUNCIL)  # synthetic SROI
        self.stdout.write(__import__("commissioner.participation.services", fromlist=["demo"]).demo(la_code=DEMO_COUNCIL))  # synthetic PB
        users += __import__("commissioner.feedback.services", fromlist=["demo"]).demo(la_code=DEMO_COUNCIL, password=DEMO_PASSWORD)  # synthetic stories
        self.stdout.write("")
        if no_serve:
            self.stdout.write(f"The demo is set up. Serve it with `commissioner serve --bind {bind}`, then open "
                              f"http://{bind}/")
        else:
            self.stdout.write(f"Commissioner is starting at http://{bind}/")
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

    def _performance(self):
        """Synthetic performance data (made once; labelled synthetic everywhere) and a provider user."""
        from django.contrib.auth import get_user_model
        from django.db.models import Count

        from commissioner.orgs.models import Organisation
        from commissioner.orgs.services import create_user
        from commissioner.performance import synthetic
        from commissioner.performance.models import ProviderUser
        from commissioner.performance.services import link_provider_user
        from commissioner.register.models import Contract

        counts = synthetic.generate()
        if counts["contracts"]:
            self.stdout.write(f"Made synthetic performance data as at {synthetic.data_today():%d %B %Y} (seed "
                              f"{synthetic.DEFAULT_SEED}): {counts['kpis']} KPIs, {counts['returns']} returns and "
                              f"{counts['assessments']} assessments for {counts['contracts']} contracts")
        made = synthetic.cross_council(home=Organisation.objects.get(la_code=DEMO_COUNCIL))
        if made["contracts"]:
            self.stdout.write(f"Made {made['contracts']} synthetic contracts with other councils for provider "
                              f"benchmarking ({made['returns']} returns)")
        User = get_user_model()
        user = User.objects.filter(username=DEMO_PROVIDER).first()
        link = ProviderUser.objects.select_related("provider").filter(user=user).first() if user else None
        if link is None:
            # The provider of the demo council's contract with most returns (any council's if it has none).
            with_kpis = Contract.objects.filter(kpis__isnull=False, contract_suppliers__isnull=False).annotate(
                n=Count("kpis__returns", distinct=True)).order_by("-n", "ocid")
            contract = with_kpis.filter(owner__la_code=DEMO_COUNCIL).first() or with_kpis.first()
            if contract is None:
                return []
            provider = contract.contract_suppliers.order_by("id").first().supplier.provider
            if user is None:
                user = create_user(username=DEMO_PROVIDER, password=DEMO_PASSWORD,
                                   email=f"{DEMO_PROVIDER}@example.org")
            link = link_provider_user(actor=None, user=user, provider=provider)
        return [(DEMO_PROVIDER, f"provider user for {link.provider.name}: sees and submits its returns")]

    def _benchmarking(self):
        """The real Oflog adult social care measures (OGL v3.0); a second run changes nothing."""
        from commissioner.benchmarking.services import demo_local_measures, import_oflog

        summary = import_oflog()
        demo_local_measures()  # two example local value measures, values labelled synthetic; idempotent
        if summary.created or summary.updated:
            for line in summary.lines():
                self.stdout.write(line)
        from commissioner.benchmarking.indicators import load_trafford_samples  # Trafford Data Lab, OGL v3.0

        load_trafford_samples(write=self.stdout.write)  # waste, NEET, living wage, child poverty: Trafford + peers
