"""Raw OCDS releases as imported, and import runs."""

from django.conf import settings
from django.db import models

from commissioner.core.fields import WrittenJSONField


class Release(models.Model):
    """A release exactly as published. The register fields of its contract come from compiling them
    (ocds.services.compiled_releases compiles them again on request)."""

    ocid = models.CharField(max_length=200)  # indexed by the unique constraint (ocid first)
    release_id = models.CharField(max_length=300)
    date = models.DateTimeField(null=True)
    tags = WrittenJSONField(default=list)
    data = WrittenJSONField()
    digest = models.CharField(max_length=64, help_text="sha256 of the JSON as stored (ocds.services.digest)")
    changes = WrittenJSONField(default=list, help_text="[path, before, after] against the previous state")
    source = models.CharField(max_length=500, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ocid", "date", "id"]
        constraints = [models.UniqueConstraint(fields=["ocid", "release_id"], name="unique_release_per_ocid")]

    def __str__(self):
        return f"{self.ocid} {self.release_id}"


class ImportRun(models.Model):
    kind = models.CharField(max_length=20)
    source = models.CharField(max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at"]
