"""Model fields shared by the apps."""

from django.db import models


class WrittenJSONField(models.JSONField):
    """A JSONField without SQLite's ``CHECK (JSON_VALID(column))``.

    Every value of these columns is serialised by us (Django's encoder, or orjson in the OCDS import), so it is
    valid JSON by construction; SQLite parsing every ~3 KB release again on insert cost about 1.5 s of a
    100,000-release import (docs/benchmarks.md). On PostgreSQL the column is ``jsonb`` as before, which
    validates as it stores."""

    def db_check(self, connection):
        return None
