"""``commissioner market import FILE --council SLUG [--mapping JSON]``: load a council spend file.
``commissioner market grants FILE --council SLUG``: load a council's 360Giving grants file.

For a layout we do not know, the command prints the file's columns and the fields to map, then
stops (exit 2) unless ``--mapping`` gives them, e.g. ``--mapping '{"payee": "Supplier", "date":
"Paid", "amount": "Value"}'`` (header names or 1-based column numbers); at a terminal it asks for
the column of each field instead. The mapping is remembered
for files with the same header. ``commissioner market layouts`` lists the layouts we recognise.
"""

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from commissioner.market import layouts, services
from commissioner.orgs.models import Organisation
from commissioner.orgs.services import council_organisation


class Command(BaseCommand):
    help = "Council spend files for market analysis: import FILE --council SLUG [--mapping JSON]; layouts"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import", "grants", "layouts"])
        parser.add_argument("file", nargs="?")
        parser.add_argument("--council", help="the council's slug (or local authority code, e.g. TRF)")
        parser.add_argument("--mapping", help="JSON: {field: header name or 1-based column number}")
        parser.add_argument("--private", action="store_true", help="the file is not published")
        parser.add_argument("--synthetic", action="store_true", help="the file is made up (labelled synthetic)")
        parser.add_argument("--force", action="store_true",
                            help="load a file that looks like another council's (its layout or the council it names)")

    def handle(self, *args, action, file, council, mapping, private, synthetic, **options):
        if action == "layouts":
            for layout in layouts.LAYOUTS:
                self.stdout.write(f"{layout.code}: {layout.label}")
            return
        if not file or not council:
            raise CommandError("usage: commissioner market import|grants FILE --council SLUG [--mapping JSON]")
        org = Organisation.objects.filter(slug=council).first()
        if org is None:
            try:
                org = council_organisation(council.upper())
            except KeyError:
                org = None
        if org is None:
            raise CommandError(f"--council: no organisation with slug or code '{council}'")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"FILE: {file} is not a file")
        parsed_mapping = None
        if mapping:
            try:
                parsed_mapping = json.loads(mapping)
            except ValueError as exc:
                raise CommandError(f"--mapping: not valid JSON ({exc})") from None
        started = time.perf_counter()
        if action == "grants":
            try:
                created, skipped = services.import_grants(
                    council=org, raw=path.read_bytes(), name=path.name, is_private=private,
                    actor_label=f"commissioner market grants {path.name}"[:200])
            except services.MarketInputError as error:
                for row, column, message in error.problems[:200]:
                    self.stderr.write(f"row {row}, {column}: {message}")
                raise CommandError(error.message) from None
            self.stdout.write(f"Loaded {created:,} grants ({skipped:,} already loaded) in "
                              f"{time.perf_counter() - started:.1f} s")
            return
        try:
            result = services.import_spend(council=org, raw=path.read_bytes(), name=path.name,
                                           actor_label=f"commissioner market import {path.name}"[:200],
                                           mapping=parsed_mapping, is_private=private, synthetic=synthetic,
                                           confirm_other_council=bool(options.get("force")))
        except services.OtherCouncil as other:
            raise CommandError(f"{path.name}: {other.message.replace('confirm to load it', 'run again with --force')}"
                               ) from None
        except services.MappingNeeded as needed:
            self.stderr.write(f"{needed.message}. The file's {'columns' if needed.has_header else 'first row'}:")
            for i, h in enumerate(needed.headers, start=1):
                self.stderr.write(f"  {i}: {h}")
            self.stderr.write("Fields: " + "; ".join(f"{k} ({v})" for k, v in layouts.FIELDS.items()))
            if not sys.stdin.isatty():
                self.stderr.write("Run again with --mapping '{\"payee\": ..., \"date\": ..., \"amount\": ...}'")
                sys.exit(2)
            asked = self._ask(needed.headers)
            self.stdout.write(f"Mapping: {json.dumps(asked)} (remembered for files with this header)")
            return self.handle(action=action, file=file, council=council, mapping=json.dumps(asked),
                               private=private, synthetic=synthetic, force=options.get("force", False))
        except services.MarketInputError as error:
            for row, column, message in error.problems[:200]:
                self.stderr.write(f"row {row}, {column}: {message}")
            raise CommandError(error.message) from None
        seconds = time.perf_counter() - started
        self.stdout.write(f"{result.message} in {seconds:.1f} s")

    def _ask(self, headers):
        """At a terminal: the column number for each field (blank to leave an optional one out)."""
        answers = {}
        for name, label in layouts.FIELDS.items():
            required = name in layouts.REQUIRED
            while True:
                reply = input(f"Column number for {label}{' (required)' if required else ' (blank: none)'}: ").strip()
                if not reply and not required:
                    break
                if reply.isdigit() and 1 <= int(reply) <= len(headers):
                    answers[name] = int(reply)
                    break
                self.stderr.write(f"Give a number from 1 to {len(headers)}")
        return answers
