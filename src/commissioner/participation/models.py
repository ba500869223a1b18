"""Participatory budgeting and priority setting: exercises, their projects (or priorities), ballots, and the
verification records (letter codes, email addresses) that let each resident vote once.

Privacy by design (docs/participation.md, "Verification and privacy"): a ballot holds no foreign key to a
verification record and no timestamp; a verification record holds no reference to a ballot and no time of
use; both are keyed by the exercise only. A ballot's primary key is a random UUID (so ids do not follow the
order of voting) and ballots are read ordered by their receipt digest (random). Codes, email addresses and
receipts are stored only as keyed hashes (HMAC-SHA256 with the SECRET_KEY).

An exercise is private (``is_private``) while it is a draft and public once opened: ``visible_to`` does the
rest. Results are shown once the exercise is closed (to the council's members) or published (to everyone).
"""

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import models

from commissioner.orgs.models import Organisation
from commissioner.orgs.tenancy import ScopedQuerySet


class Exercise(models.Model):
    class Kind(models.TextChoices):
        BUDGET = "budget", "Participatory budgeting"
        PRIORITIES = "priorities", "Priority setting (no money)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open for voting"
        CLOSED = "closed", "Closed"
        PUBLISHED = "published", "Results published"

    class BallotType(models.TextChoices):
        APPROVAL = "approval", "Approval: choose several projects"
        CHOOSE_1 = "choose-1", "Choose one project"
        CUMULATIVE = "cumulative", "Cumulative: share out points"
        ORDINAL = "ordinal", "Ordinal: rank projects"
        SCORING = "scoring", "Scoring: points for each project (imported files)"
        WEIGHTS = "weights", "Weights: a weight for each priority"

    class Rule(models.TextChoices):
        GREEDY = "greedy", "Greedy: most support first, skipping what does not fit"
        GREEDY_THRESHOLD = "greedy-threshold", "Greedy with a minimum support"
        GREEDY_NO_SKIP = "greedy-no-skip", "Greedy without skipping: stop at the first that does not fit"
        MES_ADD1 = "mes-add1", "Method of Equal Shares, completed by raising the per-voter budget"
        MES_GREEDY = "mes-greedy", "Method of Equal Shares, completed by greedy"
        MES = "mes", "Method of Equal Shares, no completion"

    class TieBreak(models.TextChoices):
        COST = "cost,id", "Lower cost, then lower id"
        HIGHER_COST = "-cost,id", "Higher cost, then lower id"
        VOTES = "votes,cost,id", "More votes, then lower cost, then lower id"
        ID = "id", "Lower id"
        ORDER = "order", "The order the projects are listed in"

    class Verification(models.TextChoices):
        CODE = "code", "A one-time code the council sends by letter"
        EMAIL = "email", "A one-time code sent by email"

    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    is_private = models.BooleanField(default=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.BUDGET)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    service_area = models.CharField(max_length=200, blank=True, help_text="priority setting: the service area")
    budget = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="GBP")
    ballot_type = models.CharField(max_length=20, choices=BallotType.choices, default=BallotType.APPROVAL)
    min_choices = models.PositiveIntegerField(null=True, blank=True)
    max_choices = models.PositiveIntegerField(null=True, blank=True, help_text="approval; ordinal: longest ranking")
    points_total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                       help_text="cumulative: the points each voter shares out")
    max_points = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                     help_text="weights and scoring: the most one project may get")
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    eligible_areas = models.JSONField(default=list, blank=True, help_text="empty: every area")
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    rule = models.CharField(max_length=20, choices=Rule.choices, default=Rule.GREEDY)
    threshold = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                                    help_text="greedy with a minimum support: votes, or points")
    tie_break = models.CharField(max_length=20, choices=TieBreak.choices, default=TieBreak.COST)
    verification = models.CharField(max_length=10, choices=Verification.choices, default=Verification.CODE)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(max_length=20, default="form", help_text="form, or pb (an imported .pb file)")
    source_name = models.CharField(max_length=300, blank=True)
    pb_meta = models.JSONField(default=list, blank=True, help_text="imported .pb META as [key, value] pairs")
    pb_columns = models.JSONField(default=dict, blank=True, help_text="imported .pb column orders")
    synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def is_priorities(self):
        return self.kind == self.Kind.PRIORITIES

    @property
    def last_day(self):
        """The last day of voting (closes_at is midnight, London time, at its end)."""
        if self.closes_at is None:
            return None
        return (self.closes_at - timedelta(days=1)).astimezone(ZoneInfo("Europe/London")).date()

    @property
    def results_ready(self):
        return self.status in (self.Status.CLOSED, self.Status.PUBLISHED)

    @property
    def says_synthetic(self):
        """The title says it is synthetic ("Synthetic demo: ..."): lists need no "Synthetic" tag beside it."""
        return "synthetic" in (self.title or "").lower()


class Project(models.Model):
    """A project (with its cost) of a budgeting exercise, or a priority (no cost) of a priority setting one."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="projects")
    code = models.CharField(max_length=100, help_text="the project id, as in a .pb file")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    cost = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    category = models.CharField(max_length=200, blank=True)
    area = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    extra = models.JSONField(default=dict, blank=True, help_text="imported .pb columns, as written")

    class Meta:
        ordering = ["exercise", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["exercise", "code"], name="participation_project_code")]

    def __str__(self):
        return f"{self.code}: {self.title}"


class Ballot(models.Model):
    """One vote: the projects chosen in order (and points), and what the voter declared. No voter, no time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="ballots")
    receipt_digest = models.CharField(max_length=64, unique=True)
    choices = models.JSONField(default=list)
    points = models.JSONField(null=True, blank=True, help_text="one number (as text) per choice, or null")
    area = models.CharField(max_length=200, blank=True, help_text="declared by the voter")
    source = models.CharField(max_length=10, default="cast", help_text="cast, imported or demo")
    voter_label = models.CharField(max_length=100, blank=True, help_text="imported: the .pb voter_id")
    extra = models.JSONField(default=dict, blank=True, help_text="imported: the other .pb columns")
    position = models.PositiveIntegerField(default=0, help_text="imported: the order in the file; cast: 0")

    class Meta:
        ordering = ["exercise", "position", "receipt_digest"]

    def __str__(self):
        return f"ballot {self.receipt_digest[:8]}"


class VoterCode(models.Model):
    """A one-time code for a letter: its keyed hash, and whether it was spent (never when, nor on what)."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, unique=True)
    batch = models.PositiveIntegerField(default=1)
    used = models.BooleanField(default=False)

    class Meta:
        ordering = ["exercise", "batch", "digest"]

    def __str__(self):
        return f"code {self.digest[:8]} ({'used' if self.used else 'unused'})"


class EmailVoter(models.Model):
    """An email address that asked to vote: its keyed hash, the hash of the one-time code sent to it (until
    spent), when that code expires, and whether the address has voted."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="email_voters")
    address_digest = models.CharField(max_length=64)
    token_digest = models.CharField(max_length=64, blank=True, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    used = models.BooleanField(default=False)

    class Meta:
        ordering = ["exercise", "address_digest"]
        constraints = [models.UniqueConstraint(fields=["exercise", "address_digest"],
                                               name="participation_one_email_per_exercise")]

    def __str__(self):
        return f"email {self.address_digest[:8]} ({'voted' if self.used else 'not voted'})"


class BallotAttempt(models.Model):
    """A ballot or code request from one address (a keyed hash of it), for the rate limit."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    address_digest = models.CharField(max_length=64, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.address_digest[:8]} at {self.at:%Y-%m-%d %H:%M}"
