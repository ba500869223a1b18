"""``commissioner export ocds|csv [PATH]``: the register as an OCDS release package or as CSV.

Exports are the public view (what anyone may see) unless ``--as USERNAME`` is given, then
that user's view (their organisations' private contracts too). Standard output by default.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError


class _TextSink:
    """A binary writer over a text stream (when standard output has no binary buffer)."""

    def __init__(self, out):
        self.out = out

    def write(self, data: bytes):
        self.out.write(data.decode("utf-8"))


class Command(BaseCommand):
    help = "Export the register: 'ocds' (OCDS 1.1 release package) or 'csv' (one row per contracting process)"

    def add_arguments(self, parser):
        parser.add_argument("fmt", choices=["ocds", "csv"], metavar="ocds|csv")
        parser.add_argument("path", nargs="?", default="-", help="output file; '-' or nothing for standard output")
        parser.add_argument("--as", dest="as_user", metavar="USERNAME",
                            help="export what this user may see (default: the public view)")

    def handle(self, *args, fmt, path="-", as_user=None, **opts):
        from commissioner.register.models import Contract

        user = AnonymousUser()
        if as_user:
            user = get_user_model().objects.filter(username=as_user).first()
            if user is None:
                raise CommandError(f"no user '{as_user}'")
        contracts = Contract.objects.visible_to(user)
        to_stdout = path in ("-", "")
        if fmt == "ocds":
            from commissioner.ocds.services import export_release_package

            if to_stdout:
                self.stdout.flush()
                raw = self.stdout._out
                buffer = getattr(raw, "buffer", None)
                if buffer is not None:
                    raw.flush()
                    export_release_package(contracts, buffer)
                    buffer.flush()
                else:
                    export_release_package(contracts, _TextSink(raw))
            else:
                with open(path, "wb") as fh:
                    export_release_package(contracts, fh)
        else:
            from commissioner.register.queries import contract_csv_rows, csv_lines

            lines = csv_lines(contract_csv_rows(contracts.order_by("ocid")))
            if to_stdout:
                out = self.stdout._out
                for line in lines:
                    out.write(line)
                out.flush()
            else:
                with open(path, "w", encoding="utf-8", newline="") as fh:
                    for line in lines:
                        fh.write(line)
        if not to_stdout:
            view = f"as {as_user}" if as_user else "public view"
            self.stderr.write(f"wrote {path} ({fmt}, {view})")
