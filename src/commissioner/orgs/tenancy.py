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
