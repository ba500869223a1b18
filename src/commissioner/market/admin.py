"""Read-only admin views: files, grants and mappings change only through ``market.services`` (audited)."""

from django.contrib import admin

from commissioner.market.models import CategoryMapping, ColumnMapping, Grant, SpendFile


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SpendFile)
class SpendFileAdmin(ReadOnly):
    list_display = ("name", "council", "layout", "first_date", "last_date", "row_count", "is_private", "synthetic")
    list_filter = ("layout", "is_private", "synthetic")
    search_fields = ("name", "council__name")


@admin.register(ColumnMapping)
class ColumnMappingAdmin(ReadOnly):
    list_display = ("signature", "owner", "created_at")
    search_fields = ("signature",)


@admin.register(Grant)
class GrantAdmin(ReadOnly):
    list_display = ("identifier", "council", "recipient_name", "amount", "award_date", "match")
    search_fields = ("identifier", "recipient_name", "charity_number", "company_number")


@admin.register(CategoryMapping)
class CategoryMappingAdmin(ReadOnly):
    list_display = ("category", "division", "council", "updated_at")
    search_fields = ("category", "council__name")
