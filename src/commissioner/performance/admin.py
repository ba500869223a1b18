"""Django admin for contract performance: read-only (changes go through the pages and services)."""

from django.contrib import admin

from commissioner.orgs.admin import ReadOnlyAdmin
from commissioner.performance.models import (
    Assessment,
    ContractChange,
    ContractEvent,
    Exemption,
    Kpi,
    KpiReturn,
    ProviderUser,
    Reminder,
)


@admin.register(Kpi)
class KpiAdmin(ReadOnlyAdmin):
    list_display = ("name", "contract", "unit", "target", "direction", "frequency", "is_act_kpi", "is_active",
                    "synthetic")
    list_filter = ("frequency", "is_act_kpi", "is_active", "synthetic")
    search_fields = ("name", "contract__ocid", "contract__title")


@admin.register(KpiReturn)
class KpiReturnAdmin(ReadOnlyAdmin):
    list_display = ("kpi", "period_start", "value", "classification", "is_current", "source", "synthetic")
    list_filter = ("classification", "is_current", "source", "synthetic")
    search_fields = ("kpi__name", "kpi__contract__ocid")


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ("contract", "assessed_on", "proposed_rating", "rating", "is_current", "synthetic")
    list_filter = ("rating", "is_current", "synthetic")


@admin.register(ContractChange)
class ContractChangeAdmin(ReadOnlyAdmin):
    list_display = ("contract", "changed_on", "kind", "value_change", "term_change_days", "notice_required")


@admin.register(ContractEvent)
class ContractEventAdmin(ReadOnlyAdmin):
    list_display = ("contract", "date", "kind", "is_active")


admin.site.register(Exemption, ReadOnlyAdmin)
admin.site.register(ProviderUser, ReadOnlyAdmin)
admin.site.register(Reminder, ReadOnlyAdmin)
