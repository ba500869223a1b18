"""Tenant isolation, in one place.

Every record that can be private has ``owner`` (an Organisation) and ``is_private``.
Published data (from a public notice) is public to everyone. Private data is visible
only to members of the owning organisation (and superusers). Pages, the API, CLI
exports and CSV downloads all read through ``visible_to``; writes check ``can_edit``.
"""

from django.db import models
from django.db.models import Q

EDIT_ROLES = ("admin", "commissioner")


def member_org_ids(user, roles=None):
    """Ids of the organisations the user belongs to (optionally with one of ``roles``)."""
    if user is None or not user.is_authenticated:
        return []
    cache = getattr(user, "_commissioner_orgs", None)
    if cache is None:
        cache = list(user.memberships.values_list("organisation_id", "role"))
        user._commissioner_orgs = cache
    return [org for org, role in cache if roles is None or role in roles]


def role_in(user, organisation_id):
    """The user's role in the organisation, or None."""
    for org, role in (member_org_ids(user) and user._commissioner_orgs or []):
        if org == organisation_id:
            return role
    return None


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Public records plus private ones owned by the user's organisations."""
        if user is not None and user.is_authenticated and user.is_superuser:
            return self
        orgs = member_org_ids(user)
        if not orgs:
            return self.filter(is_private=False)
        return self.filter(Q(is_private=False) | Q(owner_id__in=orgs))

    def editable_by(self, user):
        if user is not None and user.is_authenticated and user.is_superuser:
            return self
        return self.filter(owner_id__in=member_org_ids(user, EDIT_ROLES))


def can_edit(user, owner_id):
    """May the user change records owned by ``owner_id``?"""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or owner_id in member_org_ids(user, EDIT_ROLES)


def is_org_admin(user, owner_id):
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or owner_id in member_org_ids(user, ("admin",))


# Contract performance (KPIs, returns, assessments): never public. The owning council's members read
# it and its editors change it; a provider user reads and submits returns for the contracts their
# provider holds (as a supplier), and nothing else.

def provider_ids(user):
    """Ids of the providers the user acts for (a provider user has one)."""
    if user is None or not user.is_authenticated:
        return []
    cache = getattr(user, "_commissioner_providers", None)
    if cache is None:
        from commissioner.performance.models import ProviderUser

        cache = user._commissioner_providers = list(ProviderUser.objects.filter(user=user)
                                                    .values_list("provider_id", flat=True))
    return cache


def is_provider_of(user, contract):
    ids = provider_ids(user)
    return bool(ids) and contract.contract_suppliers.filter(supplier__provider_id__in=ids).exists()


def can_view_performance(user, contract):
    if user is None or not user.is_authenticated:
        return False
    return (user.is_superuser or contract.owner_id in member_org_ids(user) or is_provider_of(user, contract))


def can_submit_returns(user, contract):
    return can_edit(user, contract.owner_id) or is_provider_of(user, contract)


# Supplier financial risk: a provider's users give a council they hold a contract with their own accounts.
# The figures belong to that council (owner, private); they are shared with the provider's own users and with
# nobody else (not other councils, not other providers).

def can_submit_accounts(user, contract, provider_id):
    """May the user give the contract's council accounts of the provider ``provider_id``? The council's editors
    (any provider of the contract), or the users of that provider when it holds this contract."""
    if can_edit(user, contract.owner_id):
        return True
    return provider_id in provider_ids(user) and contract.contract_suppliers.filter(
        supplier__provider_id=provider_id).exists()


def shared_with_supplier(queryset, user):
    """``visible_to`` for records about a provider (a ``provider`` field) held by a council, widened for the
    provider's own users: also the private records about their provider held by a council that has a contract
    with it."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return queryset
    ids = provider_ids(user)
    if not ids:
        return queryset.visible_to(user)
    from commissioner.register.models import Contract

    councils = Contract.objects.filter(contract_suppliers__supplier__provider_id__in=ids).values("owner_id")
    return queryset.filter(Q(is_private=False) | Q(owner_id__in=member_org_ids(user))
                           | Q(provider_id__in=ids, owner_id__in=councils))


def performance_contracts(queryset, user):
    """The contracts of ``queryset`` whose performance the user may see."""
    if user is None or not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    q = Q(owner_id__in=member_org_ids(user))
    if provider_ids(user):
        q |= Q(contract_suppliers__supplier__provider_id__in=provider_ids(user))
    return queryset.filter(q).distinct()
