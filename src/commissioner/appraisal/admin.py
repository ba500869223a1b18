"""Read-only admin: changes go through ``appraisal.services`` (audited), never the admin."""

from django.contrib import admin

from commissioner.appraisal.models import Appraisal, Option


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Appraisal)
class AppraisalAdmin(ReadOnly):
    list_display = ("title", "owner", "horizon", "bound", "discounting", "synthetic", "updated_at")
    list_filter = ("bound", "discounting", "synthetic")
    search_fields = ("title", "service")


@admin.register(Option)
class OptionAdmin(ReadOnly):
    list_display = ("name", "appraisal", "kind")
    search_fields = ("name", "appraisal__title")
