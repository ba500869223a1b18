"""Read-only admin views: changes go through ``feedback.services`` (audited), never the admin."""

from django.contrib import admin

from commissioner.feedback.models import BlockedTerm, ModerationEvent, Reply, ResidentProfile, Story


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Story)
class StoryAdmin(ReadOnly):
    list_display = ("pk", "title", "status", "contract", "provider", "council", "overall", "report_count",
                    "created_at", "synthetic")
    list_filter = ("status", "synthetic", "sentiment")
    search_fields = ("title", "contract__title", "provider__name")
    exclude = ("author",)


@admin.register(Reply)
class ReplyAdmin(ReadOnly):
    list_display = ("story", "organisation", "provider", "change", "created_at", "synthetic")


@admin.register(ModerationEvent)
class ModerationEventAdmin(ReadOnly):
    list_display = ("story", "action", "actor_label", "reasons", "at")


@admin.register(BlockedTerm)
class BlockedTermAdmin(ReadOnly):
    list_display = ("kind", "value", "created_at")


@admin.register(ResidentProfile)
class ResidentProfileAdmin(ReadOnly):
    list_display = ("user", "display_name", "email_confirmed_at", "last_active_at", "synthetic")
