"""Residents' feedback on services: resident accounts, stories (held until a moderator publishes them),
replies, reports, moderation history, block lists, posting attempts (rate limits) and notifications.

A resident is a user with a ``ResidentProfile`` and no organisation membership. Stories are about a
service (a contract of the register) or a provider; ``council`` is the council that moderates them (the
contract's owner; none for a provider story: site administrators moderate those).

Personal data: a story's author is a link to the account (null once erased or anonymised); the text
is the only other place it can be, and the automatic checks hold a story that seems to contain some.
``ModerationEvent`` keeps what was decided and why, never text that was removed.
"""

from django.conf import settings
from django.db import models

from commissioner.orgs.models import Organisation
from commissioner.register.models import Contract, Provider


class ResidentProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resident")
    display_name = models.CharField(max_length=60, blank=True, help_text="the name shown with stories")
    anonymous_by_default = models.BooleanField(default=False)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, help_text="the last link sent (resend cooldown)")
    last_active_at = models.DateTimeField(null=True, blank=True, db_index=True)
    synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"resident {self.user_id}"

    @property
    def confirmed(self):
        return self.email_confirmed_at is not None


class Recommend(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNSURE = "unsure", "Not sure"


class Change(models.TextChoices):
    NONE = "", "No change stated"
    PLANNED = "planned", "Change planned"
    MADE = "made", "Change made"


class Story(models.Model):
    class Status(models.TextChoices):
        HELD = "held", "Waiting for a moderator"
        PUBLISHED = "published", "Published"
        HIDDEN = "hidden", "Hidden after reports"
        REJECTED = "rejected", "Not published"

    contract = models.ForeignKey(Contract, null=True, blank=True, on_delete=models.CASCADE, related_name="stories")
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories")
    council = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="stories")
    anonymous = models.BooleanField(default=False)
    title = models.CharField(max_length=120)
    text = models.TextField()
    overall = models.PositiveSmallIntegerField()
    recommend = models.CharField(max_length=10, choices=Recommend.choices)
    listened = models.PositiveSmallIntegerField()
    happened = models.DateField(help_text="the first day of the month it happened")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HELD, db_index=True)
    holds = models.JSONField(default=list, blank=True, help_text="automatic reasons to hold: kind, code, reason")
    digest = models.CharField(max_length=64, db_index=True, help_text="sha256 of the folded text")
    submission_key = models.CharField(max_length=64, blank=True)
    report_count = models.PositiveIntegerField(default=0)
    sentiment = models.CharField(max_length=10, blank=True)
    themes = models.JSONField(default=list, blank=True)
    model_version = models.CharField(max_length=200, blank=True, help_text="empty: not classified yet")
    change = models.CharField(max_length=10, choices=Change.choices, default="", blank=True)
    synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["author", "submission_key"],
                                               condition=~models.Q(submission_key=""), name="one_story_per_submission")]
        verbose_name_plural = "stories"

    def __str__(self):
        return f"story {self.pk}"  # not its title: the audit trail keeps this, and a title may be redacted

    @property
    def author_label(self):
        if self.anonymous or self.author_id is None:
            return "Anonymous resident"
        profile = getattr(self.author, "resident", None)
        return (profile.display_name if profile and profile.display_name else "") or "Anonymous resident"

    @property
    def subject_name(self):
        return self.contract.title if self.contract_id else (self.provider.name if self.provider_id else "")


class Reply(models.Model):
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    change = models.CharField(max_length=10, choices=Change.choices, default="", blank=True)
    synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "replies"

    def __str__(self):
        return f"reply {self.pk} to story {self.story_id}"

    @property
    def by(self):
        if self.organisation_id:
            return self.organisation.name
        if self.provider_id:
            return self.provider.name
        return "Site administrator"


class Report(models.Model):
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    ip = models.CharField(max_length=64, blank=True, help_text="cleared after the retention period")
    reason = models.CharField(max_length=500, blank=True)
    reviewed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)


class ModerationEvent(models.Model):
    """What happened to a story and why; never the text that was removed."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="moderation")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=30)
    reasons = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class BlockedTerm(models.Model):
    class Kind(models.TextChoices):
        WORD = "word", "Word or phrase"
        EMAIL = "email", "Email address"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="one_blocked_term")]

    def __str__(self):
        return f"{self.kind}: {self.value}"


class PostAttempt(models.Model):
    """Every attempt to post a story (accepted or not), for rate limits; deleted after the retention period."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    ip = models.CharField(max_length=64, blank=True, db_index=True)
    accepted = models.BooleanField(default=False)


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback_notifications")
    story = models.ForeignKey(Story, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
