"""Read-only admin views: changes go through ``risk.services`` (audited), never the admin."""

from django.contrib import admin

from commissioner.risk.models import RiskAssessment, SupplierAccounts


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SupplierAccounts)
class SupplierAccountsAdmin(ReadOnly):
    list_display = ("provider", "year", "turnover", "owner", "source", "audited", "synthetic")
    list_filter = ("source", "audited", "synthetic")
    search_fields = ("provider__name",)


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(ReadOnly):
    list_display = ("contract", "provider", "rating", "exposure", "health", "assessed_at", "is_current", "synthetic")
    list_filter = ("rating", "is_current", "synthetic")
    search_fields = ("contract__title", "provider__name")
