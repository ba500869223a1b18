"""``commissioner benchmark``: national benchmarking measures and values.

    commissioner benchmark import-oflog [PATH]      the Oflog adult social care measures (default: the sample)
    commissioner benchmark import-indicators PATH... long-format indicator files (area_code, area_name, period,
                                      indicator, measure, unit, value), e.g. the Trafford Data Lab files
    commissioner benchmark import-trafford          the five Trafford Data Lab files in data/samples/trafford
    commissioner benchmark import-csv FILE --measure CODE [--as USERNAME] [--name NAME --unit UNIT
                                      --polarity higher|lower|none --source TEXT --licence TEXT --definition TEXT]
    commissioner benchmark export MEASURE [--format csv|json] [--period 2022-23] [--output PATH]
    commissioner benchmark map OLD_CODE NEW_CODE [--note TEXT]   a merged council's or changed code
    commissioner benchmark peers COUNCIL FILE [--name NAME] [--as USERNAME]   a council's peer group: FILE is a
                                      nearest-neighbour JSON ({code: [codes]}, e.g. CIPFA's) or a list of codes

An import loads everything or nothing (each indicator file on its own): each problem is printed with its row, column and reason,
and the command fails (exit 1). With --as, the user's rights are checked (a council's users may only
submit their own council's values); without it, whoever runs the command holds the database.
"""

import csv
import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from commissioner.benchmarking import queries, services
from commissioner.benchmarking.models import Measure
from commissioner.benchmarking.views import EXPORT_FIELDS


class Command(BaseCommand):
    help = ("National benchmarking: import-oflog [PATH], import-csv FILE --measure CODE, import-indicators PATH..., "
            "import-trafford, export MEASURE, map OLD NEW, peers COUNCIL FILE")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import-oflog", "import-csv", "import-indicators", "import-trafford",
                                               "export", "map", "peers"])
        parser.add_argument("args", nargs="*")
        parser.add_argument("--measure")
        parser.add_argument("--as", dest="as_user", metavar="USERNAME")
        parser.add_argument("--name")
        parser.add_argument("--unit", default="")
        parser.add_argument("--polarity", default="higher", choices=["higher", "lower", "none"])
        parser.add_argument("--source", default="")
        parser.add_argument("--licence", default="")
        parser.add_argument("--definition", default="")
        parser.add_argument("--format", default="csv", choices=["csv", "json"])
        parser.add_argument("--period")
        parser.add_argument("--output")
        parser.add_argument("--note", default="")

    def handle(self, *args, action, **opts):
        actor = None
        if opts.get("as_user"):
            actor = get_user_model().objects.filter(username=opts["as_user"]).first()
            if actor is None:
                raise CommandError(f"no user '{opts['as_user']}'")
        if action == "import-oflog":
            summary = services.import_oflog(args[0] if args else None, actor=actor)
            return self._report(summary)
        if action in ("import-indicators", "import-trafford"):
            return self._indicators(actor, action, args)
        if action == "import-csv":
            if len(args) != 1 or not opts.get("measure"):
                raise CommandError("usage: import-csv FILE --measure CODE [--as USERNAME]")
            measure = Measure.objects.filter(code=opts["measure"].upper()).first()
            if measure is None:
                if not opts.get("name"):
                    raise CommandError(f"no measure {opts['measure']}: give --name (and --unit, --polarity, "
                                       "--source, --licence) to define it")
                try:
                    measure, _ = services.define_measure(actor=actor, data={
                        "code": opts["measure"], "name": opts["name"], "unit": opts["unit"],
                        "polarity": opts["polarity"], "source": opts["source"], "licence": opts["licence"],
                        "definition": opts["definition"]})
                except services.BenchmarkError as e:
                    raise CommandError(str(e)) from None
            summary = services.import_tidy_csv(args[0], measure=measure, actor=actor, label=args[0])
            return self._report(summary)
        if action == "map":
            if len(args) != 2:
                raise CommandError("usage: map OLD_CODE NEW_CODE [--note TEXT]")
            m = services.add_code_mapping(old_code=args[0], new_code=args[1], note=opts["note"], actor=actor)
            self.stdout.write(f"Mapped {m.old_code} -> {m.new_code}")
            return None
        if action == "peers":
            return self._peers(actor, args, opts)
        if len(args) != 1:
            raise CommandError("usage: export MEASURE [--format csv|json] [--period P] [--output PATH]")
        measure = Measure.objects.filter(code=args[0].upper()).first()
        if measure is None:
            raise CommandError(f"no measure {args[0]}")
        if opts.get("period") and opts["period"] not in queries.measure_periods(measure):
            raise CommandError(f"{measure.code} has no period {opts['period']}: "
                               f"{', '.join(queries.measure_periods(measure))}")
        rows = list(queries.export_rows(measure, opts.get("period")))
        if opts.get("output"):
            with open(opts["output"], "w", encoding="utf-8", newline="") as out:
                self._write(out, measure, rows, opts["format"])
        else:
            self._write(sys.stdout if opts["format"] == "csv" else self.stdout, measure, rows, opts["format"])
        return None

    def _write(self, out, measure, rows, fmt):
        meta = queries.measure_metadata(measure)
        if fmt == "json":
            out.write(json.dumps({"measure": meta, "values": rows}, indent=1) + "\n")
            return
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_FIELDS + ["peer_group", "percentile_method", "quartile_method"])
        for r in rows:
            writer.writerow(["" if r[k] is None else r[k] for k in EXPORT_FIELDS]
                            + [meta["peer_group"], meta["percentile_method"], meta["quartile_method"]])

    def _peers(self, actor, args, opts):
        from pathlib import Path

        from commissioner.orgs.models import Organisation

        if len(args) != 2:
            raise CommandError("usage: peers COUNCIL FILE [--name NAME]  (COUNCIL: slug, la_code or GSS code)")
        key = args[0]
        org = (Organisation.objects.filter(slug=key).first() or Organisation.objects.filter(la_code=key.upper()).first()
               or Organisation.objects.filter(gss_code=key.upper()).first())
        if org is None:
            raise CommandError(f"no council {key}")
        path = Path(args[1])
        try:
            if path.suffix.lower() == ".json":
                group = services.load_nearest_neighbours(actor=actor, owner=org, path=path,
                                                         name=opts.get("name") or "CIPFA nearest neighbours")
            else:
                codes = [c.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()
                         for c in line.split(",")[:1] if c.strip() and c.strip().lower() not in ("code", "area_code")]
                group = services.save_peer_group(actor=actor, owner=org, name=opts.get("name") or path.stem,
                                                 codes=codes, kind="imported", source=path.name)
        except services.BenchmarkError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"Peer group '{group.name}' for {org.name}: {group.members.count()} councils")

    def _indicators(self, actor, action, args):
        from commissioner.benchmarking import indicators

        if action == "import-trafford":
            if args:
                raise CommandError("usage: import-trafford (it takes no file: it loads data/samples/trafford)")
            summaries = indicators.load_trafford_samples(actor=actor)
        elif not args:
            raise CommandError("usage: import-indicators PATH... (long-format CSV files)")
        else:
            summaries = [indicators.import_long_csv(path, actor=actor, label=path) for path in args]
        for summary in summaries:
            for line in summary.lines():
                self.stdout.write(line)
        refused = [s for s in summaries if not s.applied]
        if refused:
            raise CommandError(f"nothing loaded from {', '.join(s.label for s in refused)}: "
                               f"{sum(len(s.problems) for s in refused)} problem(s)")

    def _report(self, summary):
        for line in summary.lines():
            self.stdout.write(line)
        if not summary.applied:
            raise CommandError(f"nothing loaded: {len(summary.problems)} problem(s)")
