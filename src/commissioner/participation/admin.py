"""Read-only admin views: changes go through ``participation.services`` (audited), never the admin. Voting
codes and email records are not listed: they are hashes, and listing them would help no one."""

from django.contrib import admin

from commissioner.participation.models import Ballot, Exercise, Project


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for model in (Exercise, Project, Ballot):
    admin.site.register(model, ReadOnly)
