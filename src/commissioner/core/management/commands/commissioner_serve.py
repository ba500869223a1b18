"""Serve with gunicorn (not runserver): static files by whitenoise, 2 workers by default."""

import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Commissioner with gunicorn"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))

    def handle(self, *args, bind, workers, **opts):
        argv = [sys.executable, "-m", "gunicorn", "commissioner.wsgi:application", "--bind", bind,
                "--workers", str(workers), "--access-logfile", "-", "--timeout", "60",
                "--forwarded-allow-ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")]
        sys.stdout.flush()
        os.execv(sys.executable, argv)
