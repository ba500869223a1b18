"""Django admin for organisations, people, the audit trail and sign-in attempts.

The admin never changes data behind the audit trail's back: edits it allows are recorded with
``orgs.services.audit``; alias corrections go through ``correct_alias``; the trail itself is read-only.
"""

from django.contrib import admin

from commissioner.orgs import services
from commissioner.orgs.models import AuditEvent, LoginAttempt, Membership, Organisation, OrganisationAlias


class ReadOnlyAdmin(admin.ModelAdmin):
    """View only: records written by imports and services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Records every add, change and delete made in the admin in the audit trail."""

    audit_fields: tuple = ()

    def _organisation(self, obj):
        return obj if isinstance(obj, Organisation) else getattr(obj, "organisation", None)

    def save_model(self, request, obj, form, change):
        before = None
        if change:
            old = type(obj).objects.get(pk=obj.pk)
            before = services.snapshot(old, self.audit_fields)
        super().save_model(request, obj, form, change)
        services.audit(actor=request.user, organisation=self._organisation(obj),
                       action="updated" if change else "created", obj=obj, before=before,
                       after=services.snapshot(obj, self.audit_fields))

    def delete_model(self, request, obj):
        services.audit(actor=request.user, organisation=self._organisation(obj), action="deleted", obj=obj,
                       before=services.snapshot(obj, self.audit_fields))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class AliasInline(admin.TabularInline):
    model = OrganisationAlias
    fields = ("name", "method")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ("name", "kind", "la_code", "gss_code", "la_type_name", "region", "is_current")
    list_filter = ("kind", "region", "is_current")
    search_fields = ("name", "slug", "gss_code", "la_code", "aliases__name")
    inlines = (AliasInline,)
    audit_fields = ("name", "slug", "kind", "la_code", "gss_code", "la_type", "la_type_name", "region",
                    "nation", "is_current", "replaced_by", "population", "website")


@admin.register(OrganisationAlias)
class OrganisationAliasAdmin(admin.ModelAdmin):
    """Aliases come from imports; changing the organisation moves the contracts (``correct_alias``)."""

    list_display = ("name", "organisation", "method", "updated_at")
    list_filter = ("method",)
    search_fields = ("name", "key", "organisation__name")
    fields = ("name", "key", "organisation", "method")
    readonly_fields = ("name", "key", "method")
    autocomplete_fields = ("organisation",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change and "organisation" in form.changed_data:
            current = OrganisationAlias.objects.get(pk=obj.pk)
            services.correct_alias(alias=current, organisation=obj.organisation, actor=request.user)


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "organisation__name")
    autocomplete_fields = ("organisation",)
    raw_id_fields = ("user",)
    audit_fields = ("user", "organisation", "role")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "model", "object_pk", "object_repr", "organisation")
    list_filter = ("action", "model")
    search_fields = ("actor_label", "object_repr", "object_pk")
    date_hierarchy = "at"
    list_select_related = ("organisation",)


@admin.register(LoginAttempt)
class LoginAttemptAdmin(ReadOnlyAdmin):
    list_display = ("at", "username", "ip", "success")
    list_filter = ("success",)
    search_fields = ("username", "ip")
    date_hierarchy = "at"
