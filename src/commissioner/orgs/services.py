"""Writes for organisations, memberships, aliases and the audit trail."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.text import slugify

from commissioner.methods.text import clean_text, is_parish_or_town_council, looks_public_body, simple_key
from commissioner.orgs import reference, tenancy
from commissioner.orgs.models import AuditEvent, Membership, Organisation, OrganisationAlias


def audit(*, actor=None, actor_label="", organisation=None, action, obj, before=None, after=None):
    """Record one change: who, when, what, before and after. A resident is recorded as "a resident": their
    user name is their email address, which the councils reading the trail must not see."""
    signed_in = actor is not None and actor.is_authenticated
    label = actor_label or ("a resident" if signed_in and hasattr(actor, "resident") else
                            actor.get_username() if signed_in else "system")
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=label[:200],
        organisation=organisation,
        action=action,
        model=obj._meta.label,
        object_pk=str(obj.pk),
        object_repr=str(obj)[:300],
        before=before,
        after=after,
    )


class Refused(PermissionDenied):
    """A user tried what their role does not allow. ``log()`` keeps the attempt in the audit trail: call it
    outside the transaction that the refusal undoes, or the record is undone with it."""

    def __init__(self, user, obj, what, organisation=None, message=None):
        super().__init__(message or f"Only the council's admins and commissioners can {what}")
        self.user, self.obj, self.what, self.organisation = user, obj, what, organisation

    def log(self):
        audit(actor=self.user, organisation=self.organisation, action="refused", obj=self.obj or self.organisation,
              after={"attempt": self.what})


def refuse_unless_editor(user, organisation, what, obj=None, message=None):
    """Raise (and log) ``Refused`` unless the user may change the organisation's records (its admins and
    commissioners, or a site administrator). Call it before the transaction starts."""
    if not tenancy.can_edit(user, organisation.pk):
        refusal = Refused(user, obj, what, organisation, message)
        refusal.log()
        raise refusal


def snapshot(obj, fields):
    """A JSON-safe dict of the named fields, for the audit trail."""
    out = {}
    for name in fields:
        value = getattr(obj, name if not obj._meta.get_field(name).is_relation else name + "_id")
        out[name] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
    return out


def unique_slug(name, model=Organisation):
    base = slugify(name)[:100] or "org"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def council_organisation(code: str) -> Organisation:
    """The organisation for a council in the reference, created from it on first use."""
    org = Organisation.objects.filter(la_code=code).first()
    if org:
        return org
    c = reference.councils()[code]
    return Organisation.objects.create(
        name=c.official_name, slug=unique_slug(c.nice_name), kind=Organisation.Kind.COUNCIL,
        la_code=c.code, gss_code=c.gss_code, former_gss_codes=c.former_gss_codes, la_type=c.type_code,
        la_type_name=c.type_name, region=c.region, nation=c.nation, is_current=c.current,
        replaced_by=c.replaced_by, population=c.population,
    )


def organisation_for_buyer(name: str, *, website: str = "") -> Organisation:
    """Find or create the organisation behind a buyer name, remembering the match as an alias."""
    name = clean_text(name) or "Unknown buyer"
    key = simple_key(name)[:300] or "unknown buyer"
    alias = OrganisationAlias.objects.select_related("organisation").filter(key=key).first()
    if alias:
        return alias.organisation
    found = reference.match_council(name)
    if found:
        org, method = council_organisation(found[0]), found[1]
    else:
        if is_parish_or_town_council(name):
            kind, method = Organisation.Kind.PARISH, OrganisationAlias.Method.PARISH
        else:
            kind = Organisation.Kind.PUBLIC if looks_public_body(name) else Organisation.Kind.OTHER
            method = OrganisationAlias.Method.UNMATCHED
        org = Organisation.objects.create(name=name, slug=unique_slug(name), kind=kind, website=website[:200])
    OrganisationAlias.objects.create(key=key, name=name, organisation=org, method=method)
    return org


@transaction.atomic
def correct_alias(*, alias: OrganisationAlias, organisation: Organisation, actor) -> OrganisationAlias:
    """An admin points a buyer name at another organisation; its contracts follow."""
    from commissioner.register.models import Contract

    before = {"organisation": alias.organisation_id, "method": alias.method}
    old = alias.organisation
    alias.organisation, alias.method = organisation, OrganisationAlias.Method.MANUAL
    alias.save()
    Contract.objects.filter(buyer=old, buyer_name__iexact=alias.name).update(buyer=organisation)
    Contract.objects.filter(owner=old, buyer_name__iexact=alias.name, source="ocds").update(owner=organisation)
    audit(actor=actor, organisation=organisation, action="alias-corrected", obj=alias, before=before,
          after={"organisation": organisation.pk, "method": alias.method})
    return alias


@transaction.atomic
def create_user(*, username: str, password: str, email: str = "", organisation: Organisation | None = None,
                role: str = "viewer", is_superuser: bool = False, actor=None):
    """Create a user (Argon2-hashed password) and, optionally, a membership."""
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValueError(f"user '{username}' already exists")
    user = User(username=username, email=email, is_staff=is_superuser, is_superuser=is_superuser)
    user.set_password(password)
    user.save()
    if organisation is not None:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    audit(actor=actor, actor_label="" if actor else "cli", organisation=organisation, action="user-created",
          obj=user, after={"username": username, "role": role, "organisation": getattr(organisation, "pk", None)})
    return user
