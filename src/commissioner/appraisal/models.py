"""Options appraisals (HM Treasury Green Book): an appraisal of a service owned by a council (private by
default), its delivery options with yearly costs and benefits (JSON lists of years, validated by ``services``),
and the MCDA weights the council set (recorded on the appraisal and in the audit trail).

Results are not stored: ``methods.options_appraisal.evaluate`` computes them from these inputs on every read.
"""

from django.conf import settings
from django.db import models

from commissioner.orgs.models import Organisation
from commissioner.orgs.tenancy import ScopedQuerySet
from commissioner.register.models import Contract

OPTION_KINDS = (
    ("bau", "Business as usual"),
    ("do_minimum", "Do minimum"),
    ("in_house", "In-house"),
    ("large_firm", "Outsource to a large firm"),
    ("sme", "Outsource to SMEs"),
    ("vcse", "Voluntary and community sector (VCSE)"),
    ("latc", "Local authority trading company (LATC)"),
    ("shared_service", "Shared service with other councils"),
    ("partnership", "Public-sector partnership"),
)


class Appraisal(models.Model):
    class Bound(models.TextChoices):
        UPPER = "upper", "Upper bound (outline stage)"
        LOWER = "lower", "Lower bound (risks managed)"

    class Discounting(models.TextChoices):
        STANDARD = "standard", "Green Book declining schedule (3.5%, then 3.0% after 30 years, ...)"
        HEALTH = "health", "Health effects (1.5%)"
        CUSTOM = "custom", "A single rate"

    title = models.CharField(max_length=200)
    service = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    horizon = models.PositiveSmallIntegerField(default=10, help_text="years after year 0")
    bound = models.CharField(max_length=10, choices=Bound.choices, default=Bound.UPPER)
    discounting = models.CharField(max_length=10, choices=Discounting.choices, default=Discounting.STANDARD)
    rate = models.FloatField(null=True, blank=True, help_text="the single rate (0.035 = 3.5%) when custom")
    weights = models.JSONField(default=dict, blank=True, help_text="MCDA weights as the council set them")
    draws = models.PositiveIntegerField(default=10_000)
    seed = models.PositiveIntegerField(default=2026)
    priorities_area = models.CharField(
        max_length=200, blank=True,
        help_text="the service area of the residents' priority-setting exercise shown with the appraisal "
                  "(blank: the one whose service area is the appraisal's service)")
    contracts = models.ManyToManyField(Contract, blank=True, related_name="appraisals")
    synthetic = models.BooleanField(default=False, help_text="made up by the demo, not real")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    is_private = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return self.title


class Option(models.Model):
    """A delivery option. ``costs`` and ``benefits`` are lists of pounds by year (year 0 first; null for a
    year not given, counted as 0 and shown as missing)."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=OPTION_KINDS)
    partners = models.CharField(max_length=300, blank=True, help_text="named councils or partners")
    description = models.TextField(blank=True)
    costs = models.JSONField(default=list, blank=True)
    benefits = models.JSONField(default=list, blank=True)
    ob_shares = models.JSONField(default=dict, blank=True, help_text="optimism bias: project type -> cost share")
    scores = models.JSONField(default=dict, blank=True, help_text="MCDA scores 0-100 by criterion")
    cost_low = models.FloatField(default=90)
    cost_high = models.FloatField(default=130)
    benefit_low = models.FloatField(default=70)
    benefit_high = models.FloatField(default=110)
    prefilled_from = models.CharField(max_length=600, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["appraisal", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["appraisal", "name"], name="appraisal_option_name_unique")]

    def __str__(self):
        return f"{self.appraisal}: {self.name}"

    def as_calc(self):
        return {"id": self.pk, "name": self.name, "kind": self.kind, "partners": self.partners,
                "costs": list(self.costs), "benefits": list(self.benefits), "ob_shares": dict(self.ob_shares),
                "scores": dict(self.scores), "cost_range": (self.cost_low, self.cost_high),
                "benefit_range": (self.benefit_low, self.benefit_high), "prefilled_from": self.prefilled_from,
                "kind_label": dict(OPTION_KINDS).get(self.kind, self.kind)}
