"""Organisations, their people and roles, the audit trail and login throttling."""

from django.conf import settings
from django.db import models


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COUNCIL = "council", "Principal council"
        PARISH = "parish", "Parish or town council"
        PUBLIC = "public", "Other public body"
        OTHER = "other", "Other organisation"

    name = models.CharField(max_length=300)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER, db_index=True)
    # From the mySociety councils reference (CC BY 4.0) where the organisation is a council.
    la_code = models.CharField("local authority code", max_length=8, unique=True, null=True, blank=True)
    gss_code = models.CharField("ONS GSS code", max_length=12, blank=True, db_index=True)
    former_gss_codes = models.CharField(max_length=200, blank=True)
    la_type = models.CharField("authority type code", max_length=8, blank=True)
    la_type_name = models.CharField("authority type", max_length=60, blank=True)
    region = models.CharField(max_length=60, blank=True, db_index=True)
    nation = models.CharField(max_length=30, blank=True)
    is_current = models.BooleanField(default=True)
    replaced_by = models.CharField(max_length=60, blank=True)
    population = models.PositiveIntegerField(null=True, blank=True)
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganisationAlias(models.Model):
    """A buyer name seen in the data, and the organisation it was matched to."""

    class Method(models.TextChoices):
        EXACT = "exact", "Exact name in the councils reference"
        NORMALISED = "normalised", "Normalised name"
        MANUAL = "manual", "Set by an admin"
        PARISH = "parish", "Parish or town council (not in the reference)"
        UNMATCHED = "unmatched", "Not a principal council"

    key = models.CharField(max_length=300, unique=True, help_text="the name, lower-cased and trimmed")
    name = models.CharField(max_length=300)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="aliases")
    method = models.CharField(max_length=20, choices=Method.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} -> {self.organisation}"


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    COMMISSIONER = "commissioner", "Commissioner"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")]

    def __str__(self):
        return f"{self.user} ({self.role}) at {self.organisation}"


class AuditEvent(models.Model):
    """Who changed what, when, with the values before and after."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=200, help_text="user name or the import that made the change")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40)
    model = models.CharField(max_length=60, db_index=True)
    object_pk = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=300)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.model} {self.object_repr}"


class LoginAttempt(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    username = models.CharField(max_length=150, db_index=True)
    ip = models.CharField(max_length=64, db_index=True)
    success = models.BooleanField(default=False)
