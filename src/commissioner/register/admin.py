"""Django admin for the register. It shows everything and changes nothing directly: merging providers
and splitting a supplier identity out are admin actions that call ``register.services`` (audited).
"""

from django.contrib import admin, messages
from django.db.models import Count

from commissioner.orgs.admin import ReadOnlyAdmin
from commissioner.orgs.views import is_any_admin
from commissioner.register import services
from commissioner.register.models import Contract, ContractSupplier, Provider, Supplier
from commissioner.register.provider_views import may_manage, may_merge


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SupplierInline(ReadOnlyInline):
    model = Supplier
    fields = ("name", "key", "match", "match_detail", "locked")
    readonly_fields = fields


class ManageActionsMixin:
    """Actions allowed to whoever may merge or split on the pages (see ``provider_views.may_manage``)."""

    def has_manage_permission(self, request):
        return is_any_admin(request.user)


@admin.register(Provider)
class ProviderAdmin(ManageActionsMixin, ReadOnlyAdmin):
    list_display = ("name", "supplier_type", "companies_house", "contract_count", "total_value", "identities",
                    "is_private", "owner")
    list_filter = ("supplier_type", "is_private", "scale")
    search_fields = ("name", "name_key", "companies_house", "charity_number", "suppliers__name", "suppliers__key")
    list_select_related = ("owner",)
    inlines = (SupplierInline,)
    actions = ("merge_selected",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_identities=Count("suppliers"))

    @admin.display(description="names", ordering="n_identities")
    def identities(self, obj):
        return obj.n_identities

    @admin.action(description="Merge the selected providers into the one with most contracts",
                  permissions=["manage"])
    def merge_selected(self, request, queryset):
        chosen = sorted(queryset, key=lambda p: (-p.contract_count, p.pk))
        if len(chosen) < 2:
            self.message_user(request, "Select at least two providers to merge.", messages.WARNING)
            return
        keep, others = chosen[0], chosen[1:]
        refused = [p for p in chosen if not may_manage(request.user, p)] + [
            p for p in others if not may_merge(keep, p)]
        if refused:
            self.message_user(request, "Not merged: you may not merge " + ", ".join(p.name for p in refused)
                              + " (only public with public, or private with the same council's private).",
                              messages.ERROR)
            return
        for other in others:
            services.merge_providers(keep=keep, merge=other, actor=request.user)
        self.message_user(request, f"Merged {len(others)} provider(s) into ‘{keep.name}’ (id {keep.pk}).",
                          messages.SUCCESS)


@admin.register(Supplier)
class SupplierAdmin(ManageActionsMixin, ReadOnlyAdmin):
    list_display = ("name", "key", "provider", "match", "match_detail", "locked")
    list_filter = ("match", "locked", "scheme")
    search_fields = ("name", "key", "companies_house", "charity_number", "provider__name")
    list_select_related = ("provider",)
    actions = ("split_selected",)

    @admin.action(description="Split into its own provider", permissions=["manage"])
    def split_selected(self, request, queryset):
        done, skipped = [], []
        for supplier in queryset.select_related("provider"):
            provider = supplier.provider
            if not may_manage(request.user, provider) or provider.suppliers.count() < 2:
                skipped.append(supplier.name)
                continue
            services.split_supplier(supplier=supplier, actor=request.user)
            done.append(supplier.name)
        if done:
            self.message_user(request, f"Split {len(done)} name(s) into providers of their own: {', '.join(done)}.",
                              messages.SUCCESS)
        if skipped:
            self.message_user(request, "Left alone (already alone in their provider, or not yours to change): "
                              + ", ".join(skipped), messages.WARNING)


class ContractSupplierInline(ReadOnlyInline):
    model = ContractSupplier
    fields = ("supplier", "award_id", "value")
    readonly_fields = fields


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ("title", "ocid", "buyer", "status", "value", "end_date", "source", "is_private", "published")
    list_filter = ("status", "source", "delivery_model", "is_private", "main_category")
    search_fields = ("ocid", "title", "buyer_name", "reference", "contract_suppliers__supplier__name")
    list_select_related = ("buyer",)
    date_hierarchy = "published"
    inlines = (ContractSupplierInline,)


@admin.register(ContractSupplier)
class ContractSupplierAdmin(ReadOnlyAdmin):
    list_display = ("contract", "supplier", "award_id", "value")
    search_fields = ("contract__ocid", "contract__title", "supplier__name", "supplier__key")
    list_select_related = ("contract", "supplier")
