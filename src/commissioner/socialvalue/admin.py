"""Read-only admin views: changes go through ``socialvalue.services`` (audited), never the admin."""

from django.contrib import admin

from commissioner.socialvalue.models import Commitment, Delivery, Proxy, SroiModel, SroiOutcome


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for model in (Proxy, SroiModel, SroiOutcome, Commitment, Delivery):
    admin.site.register(model, ReadOnly)
