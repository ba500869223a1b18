import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm


class Command(BaseCommand):
    help = "Import data: 'ocds PATH|- [PATH ...]' or 'register CSV --buyer NAME'"
    # No system checks: they import the URLconf and with it every app's views (about 35 MB of the import's
    # 200 MB budget, docs/benchmarks.md). `commissioner migrate` and the server run them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["ocds", "register"])
        parser.add_argument("paths", nargs="+", help="files or folders; '-' for standard input")
        parser.add_argument("--buyer", help="the council whose register this is (register imports)")
        parser.add_argument("--private", action="store_true", help="mark imported register rows private")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, kind, paths, buyer=None, private=False, quiet=False, **opts):
        bar = None if quiet or not sys.stderr.isatty() and quiet else tqdm(
            unit=" releases" if kind == "ocds" else " rows", file=sys.stderr, dynamic_ncols=True,
            mininterval=0.5, disable=quiet)
        progress = bar.update if bar is not None else None
        if kind == "ocds":
            from commissioner.ocds.services import import_ocds

            summary = import_ocds(paths, progress=progress)
        else:
            if not buyer:
                raise CommandError("register imports need --buyer NAME (the council whose register it is)")
            from commissioner.register.importers import import_register_csv

            summary = import_register_csv(paths, buyer=buyer, private=private, progress=progress)
        if bar is not None:
            bar.close()
        for line in summary.lines():
            self.stdout.write(line)
        if summary.read == 0 and summary.rejected:
            raise CommandError("nothing imported")
