"""Small helpers shared by the page tests (tenancy matrices and CSV downloads)."""

import csv
import io

from django.test import Client

ROLES = ("anonymous", "admin", "commissioner", "viewer", "other", "superuser")


def statuses(*codes):
    """Expected status codes, in the order of ROLES."""
    return dict(zip(ROLES, codes, strict=True))


def client_for(users, role, **kwargs):
    client = Client(**kwargs)
    if role != "anonymous":
        client.force_login(users[role])
    return client


def csv_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
