"""``commissioner participation import FILE --council SLUG [--synthetic]``: a pabulib .pb file as a closed
exercise with its ballots (every problem listed with its line, nothing saved from an invalid file).
``commissioner participation export ID [PATH]``: an exercise as a .pb file (standard output by default).
``commissioner participation count ID``: the result by the exercise's rule, one line per project."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from commissioner.orgs.models import Organisation
from commissioner.orgs.services import council_organisation
from commissioner.participation import queries, services
from commissioner.participation.models import Exercise


class Command(BaseCommand):
    help = "Participatory budgeting: import FILE --council SLUG; export ID [PATH]; count ID"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import", "export", "count"])
        parser.add_argument("target", help="import: the .pb file; export and count: the exercise id")
        parser.add_argument("path", nargs="?", help="export: where to write (standard output by default)")
        parser.add_argument("--council", help="import: the council's slug (or local authority code, e.g. DNC)")
        parser.add_argument("--synthetic", action="store_true", help="import: the file is made up (labelled)")

    def handle(self, *args, action, target, path, council, synthetic, **options):
        if action == "import":
            return self._import(target, council, synthetic)
        if not target.isdigit():
            raise CommandError(f"ID: '{target}' is not an exercise id (a whole number)")
        exercise = Exercise.objects.select_related("owner").filter(pk=int(target)).first()
        if exercise is None:
            raise CommandError(f"ID: no exercise {target}")
        if action == "count":
            data = queries.results(exercise)
            for r in data["rows"]:
                self.stdout.write(f"{r['code']}\t{'funded' if r['funded'] else 'not funded'}\t{r['explanation']}")
            return
        try:
            text = queries.pb_text(exercise)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if path:
            Path(path).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {path}: {exercise.projects.count()} projects, {exercise.ballots.count()} votes")
        else:
            sys.stdout.write(text)

    def _import(self, file, council, synthetic):
        if not council:
            raise CommandError("usage: commissioner participation import FILE --council SLUG")
        org = Organisation.objects.filter(slug=council).first()
        if org is None:
            try:
                org = council_organisation(council.upper())
            except KeyError:
                org = None
        if org is None:
            raise CommandError(f"--council: no organisation with slug or code '{council}'")
        source = Path(file)
        if not source.is_file():
            raise CommandError(f"FILE: {file} is not a file")
        try:
            exercise = services.import_pb(actor=None, actor_label=f"commissioner participation import {source.name}"[:200],
                                          owner=org, data=source.read_bytes(), name=source.name, synthetic=synthetic)
        except services.ParticipationInputError as error:
            for p in error.problems:
                where = f"{p['section']}" + (f" line {p['line']}" if p["line"] else "") + (
                    f", {p['field']}" if p["field"] else "")
                self.stderr.write(f"{file}: {where}: {p['reason']}")
            if error.more:
                self.stderr.write(f"... and {error.more} more")
            raise CommandError(error.message) from None
        self.stdout.write(f"Imported exercise {exercise.pk} ({exercise.title}): {exercise.projects.count()} projects, "
                          f"{exercise.ballots.count():,} ballots, closed; rule {exercise.rule}")
