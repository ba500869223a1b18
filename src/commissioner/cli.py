"""The ``commissioner`` command: a thin front for Django management commands.

    commissioner migrate                      create or upgrade the database
    commissioner import ocds PATH|-           import OCDS (files, folders, stdin)
    commissioner import register CSV --buyer NAME
    commissioner export ocds|csv [PATH]       standard output by default
    commissioner createuser USERNAME --org SLUG --role admin   (or --provider ID for a provider user)
    commissioner performance export [PATH] --org SLUG   KPIs and results as OCDS (metrics extension)
    commissioner performance import PATH --as USERNAME
    commissioner remind [--today YYYY-MM-DD]  reminders and emails for returns, assessments, decisions
    commissioner benchmark import-oflog|import-csv FILE --measure CODE|export CODE|map OLD NEW|peers ...
    commissioner market import|grants FILE --council SLUG [--mapping JSON]   council spend / 360Giving grants
    commissioner demo                         migrate, load the sample data, serve
    commissioner serve                        gunicorn on 127.0.0.1:8000

The database is chosen by DATABASE_URL (default: an SQLite file under var/).
"""

import os
import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioner.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0
    command, rest = argv[0], argv[1:]
    aliases = {"import": "commissioner_import", "export": "commissioner_export", "demo": "commissioner_demo",
               "serve": "commissioner_serve", "createuser": "commissioner_createuser",
               "performance": "commissioner_performance", "remind": "commissioner_remind",
               "benchmark": "commissioner_benchmark"}
    try:
        execute_from_command_line(["commissioner", aliases.get(command, command), *rest])
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
