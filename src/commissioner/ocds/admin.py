"""Django admin for OCDS releases and import runs: read-only (imports write them)."""

from django.contrib import admin

from commissioner.ocds.models import ImportRun, Release
from commissioner.orgs.admin import ReadOnlyAdmin


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ("ocid", "release_id", "date", "tags", "source", "imported_at")
    search_fields = ("ocid", "release_id")
    date_hierarchy = "date"
    readonly_fields = ("ocid", "release_id", "date", "tags", "digest", "changes", "source", "imported_at", "data")


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ("kind", "source", "actor", "started_at", "finished_at", "counts")
    list_filter = ("kind",)
    search_fields = ("source",)
    date_hierarchy = "started_at"
