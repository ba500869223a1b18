"""Django admin for benchmarking: read-only (changes go through the pages, the CLI and services, so that
every change is checked and audited)."""

from django.contrib import admin

from commissioner.benchmarking.models import (
    Adoption,
    CodeMapping,
    ImportRun,
    Measure,
    MeasureValue,
    MeasureVersion,
    PeerGroup,
    ReferenceValue,
)
from commissioner.orgs.admin import ReadOnlyAdmin


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "status", "unit", "polarity", "owner", "version", "source", "synthetic")
    list_filter = ("kind", "status", "polarity", "synthetic")
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


@admin.register(ReferenceValue)
class ReferenceValueAdmin(ReadOnlyAdmin):
    list_display = ("measure", "area_code", "area_name", "period", "value")
    search_fields = ("measure__code", "area_code", "area_name")


@admin.register(MeasureVersion)
class MeasureVersionAdmin(ReadOnlyAdmin):
    list_display = ("measure", "version", "name", "unit", "polarity", "created_at")
    search_fields = ("measure__code", "name")


@admin.register(Adoption)
class AdoptionAdmin(ReadOnlyAdmin):
    list_display = ("measure", "organisation", "version")
    search_fields = ("measure__code", "organisation__name")
