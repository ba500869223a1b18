"""Django admin for benchmarking: read-only (changes go through the pages, the CLI and services, so that
every change is checked and audited)."""

from django.contrib import admin

from commissioner.benchmarking.models import CodeMapping, ImportRun, Measure, MeasureValue, PeerGroup
from commissioner.orgs.admin import ReadOnlyAdmin


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "unit", "polarity", "owner", "version", "source", "synthetic")
    list_filter = ("polarity", "synthetic")
    search_fields = ("code", "name", "definition")


@admin.register(MeasureValue)
class MeasureValueAdmin(ReadOnlyAdmin):
    list_display = ("measure", "organisation", "period", "value", "import_run")
    list_filter = ("measure",)
    search_fields = ("measure__code", "organisation__name", "organisation__gss_code")
    list_select_related = ("measure", "organisation", "import_run")


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "label", "actor")
    list_filter = ("kind",)


@admin.register(CodeMapping)
class CodeMappingAdmin(ReadOnlyAdmin):
    list_display = ("old_code", "new_code", "note")
    search_fields = ("old_code", "new_code", "note")


@admin.register(PeerGroup)
class PeerGroupAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "owner", "source")
    list_filter = ("kind",)
    search_fields = ("name", "owner__name")
