"""``commissioner performance export [PATH] --org SLUG [--as USERNAME]`` and
``commissioner performance import PATH|- [PATH ...] --as USERNAME``: contract KPIs and results as OCDS.

Export writes an OCDS 1.1 release package (the metrics extension and the UK extension: see
``performance/ocds.py``) of the council's contracts that have KPIs, to standard output by default.
Performance is never public: with ``--as`` it is what that user may see of the council's contracts;
without it, all of the council's (whoever runs the command holds the database). Import loads what
it may into the register's contracts, as the user given (whose rights are checked for each contract),
prints a summary with every rejection, and fails (exit 1) when nothing was loaded or already present.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from commissioner.ocds.management.commands.commissioner_export import _TextSink


class Command(BaseCommand):
    help = ("Contract KPIs and results as OCDS: 'export [PATH] --org SLUG [--as USERNAME]' or "
            "'import PATH|- --as USERNAME'")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "import"], metavar="export|import")
        parser.add_argument("paths", nargs="*", help="export: the output file ('-' or nothing for standard "
                                                     "output); import: files or folders ('-' for standard input)")
        parser.add_argument("--org", help="export: the council (its slug) whose contracts are exported")
        parser.add_argument("--as", dest="as_user", metavar="USERNAME",
                            help="import: the user the data is loaded as (required); export: what this user may see")
        parser.add_argument("--quiet", action="store_true", help="import: print the counts, not each rejection")

    def handle(self, *args, action, paths, org=None, as_user=None, quiet=False, **opts):
        user = None
        if as_user:
            user = get_user_model().objects.filter(username=as_user).first()
            if user is None:
                raise CommandError(f"no user '{as_user}'")
        if action == "export":
            self.export(paths, org, user, as_user)
        else:
            self.load(paths, user, quiet)

    def export(self, paths, org, user, as_user):
        from commissioner.orgs.models import Organisation
        from commissioner.performance.ocds import export_performance
        from commissioner.register.models import Contract

        if len(paths) > 1:
            raise CommandError("export writes one file: give at most one PATH")
        if not org:
            raise CommandError("export needs --org SLUG (the council whose contracts are exported)")
        organisation = Organisation.objects.filter(slug=org).first()
        if organisation is None:
            raise CommandError(f"no organisation '{org}'")
        contracts = Contract.objects.filter(owner=organisation)
        path = paths[0] if paths else "-"
        kwargs = {"user": user, "operator": user is None}
        from commissioner.orgs.tenancy import performance_contracts

        visible = contracts if user is None else performance_contracts(contracts, user)
        if not visible.filter(kpis__isnull=False).exists():  # an empty release package is not valid OCDS
            raise CommandError(f"nothing to export: no contract of {organisation.slug} has KPIs"
                               + (f" that {as_user} may see" if as_user else ""))
        if path in ("-", ""):
            self.stdout.flush()
            raw = self.stdout._out
            buffer = getattr(raw, "buffer", None)
            if buffer is not None:
                raw.flush()
                counts = export_performance(contracts, buffer, **kwargs)
                buffer.flush()
            else:
                counts = export_performance(contracts, _TextSink(raw), **kwargs)
        else:
            with open(path, "wb") as fh:
                counts = export_performance(contracts, fh, **kwargs)
        view = f"as {as_user}" if as_user else "all of the council's"
        synthetic = ", including synthetic figures (labelled)" if counts["synthetic"] else ""
        self.stderr.write(f"wrote {path if path not in ('-', '') else 'standard output'}: {counts['releases']} "
                          f"contracts, {counts['kpis']} KPIs, {counts['returns']} results ({organisation.slug}, "
                          f"{view}){synthetic}")

    def load(self, paths, user, quiet):
        from commissioner.performance.ocds import import_performance

        if not paths:
            raise CommandError("import needs a PATH (a file, a folder or '-' for standard input)")
        if user is None:
            raise CommandError("import needs --as USERNAME: the user whose rights the data is loaded with")
        total = None
        for path in paths:
            summary = import_performance(path, actor=user)
            if total is None:
                total = summary
            else:
                for key, value in summary.as_dict().items():
                    if key != "rejected":
                        setattr(total, key, getattr(total, key) + value)
                total.rejected.extend(summary.rejected)
        lines = list(total.lines())
        for line in lines[:2] if quiet else lines:
            self.stdout.write(line)
        if total.created + total.skipped == 0 and total.rejected:
            raise CommandError("nothing imported")
