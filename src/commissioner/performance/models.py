"""Outcome-based contract management: KPIs, providers' returns, Procurement Act assessments,
contract changes and events, provider users, and reminders.

Nothing here is ever deleted: KPIs and events are retired (``is_active``), returns and
assessments are corrected by a newer row that supersedes the old one, and every change goes
through ``services`` into the audit trail. Rows made by the demo's generator are ``synthetic``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from commissioner.orgs.tenancy import ScopedQuerySet
from commissioner.register.models import Contract, Provider


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    ANNUAL = "annual", "Annual (financial year)"


class Kpi(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="kpis")
    name = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    unit = models.CharField(max_length=40, help_text="e.g. %, visits, days, £")
    target = models.DecimalField(max_digits=18, decimal_places=4)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    tolerance = models.DecimalField(max_digits=18, decimal_places=4, default=0,
                                    help_text="how far from target still counts as slightly below")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.QUARTERLY)
    weight = models.DecimalField(max_digits=8, decimal_places=2, default=1)
    is_act_kpi = models.BooleanField("Procurement Act KPI", default=False)
    is_active = models.BooleanField(default=True)
    trailing_misses = models.PositiveIntegerField(
        default=0, editable=False, help_text="current results below target in a row at the end (kept by services)")
    synthetic = models.BooleanField(default=False, help_text="made by the demo's generator, not real")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["contract", "name", "id"]
        verbose_name = "KPI"

    def __str__(self):
        return self.name


class KpiReturn(models.Model):
    """A provider's result for one KPI and period. A correction is a new row that supersedes this one."""

    class Source(models.TextChoices):
        FORM = "form", "Form"
        CSV = "csv", "CSV upload"
        API = "api", "API"
        OCDS = "ocds", "OCDS import"
        GENERATED = "generated", "Generated (synthetic)"

    kpi = models.ForeignKey(Kpi, on_delete=models.PROTECT, related_name="returns")
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=18, decimal_places=4)
    classification = models.CharField(max_length=20, help_text="met, slightlyBelow, below, significantlyBelow")
    evidence = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FORM)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    submitted_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="superseded_by")
    correction_reason = models.CharField(max_length=500, blank=True)
    synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["kpi", "period_start", "-submitted_at"]
        constraints = [models.UniqueConstraint(fields=["kpi", "period_start"], condition=Q(is_current=True),
                                               name="one_current_return_per_period")]
        indexes = [models.Index(fields=["kpi", "is_current", "period_start"])]

    def __str__(self):
        return f"{self.kpi} {self.period_start}: {self.value}"


class Assessment(models.Model):
    """A Procurement Act s.71 assessment: the rating proposed from the KPI results and the one
    the officer confirmed (with a reason when it differs)."""

    class Kind(models.TextChoices):
        PERIODIC = "periodic", "Periodic (at least every 12 months)"
        TERMINATION = "termination", "On termination"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="assessments")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.PERIODIC)
    period_start = models.DateField()
    period_end = models.DateField()
    proposed_rating = models.CharField(max_length=30)
    proposed_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    rating = models.CharField(max_length=30)
    reason = models.TextField(blank=True, help_text="why the rating differs from the proposal")
    explanation = models.TextField(blank=True)
    kpi_results = models.JSONField(default=list, blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    assessed_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="superseded_by")
    synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["contract", "-assessed_on", "-id"]

    def __str__(self):
        return f"{self.contract} {self.assessed_on}: {self.rating}"


class ContractChange(models.Model):
    """A modification (s.74-75): value, term or scope, with whether a change notice (UK10) is needed."""

    class Kind(models.TextChoices):
        VALUE = "value", "Value"
        TERM = "term", "Term"
        SCOPE = "scope", "Scope"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    changed_on = models.DateField()
    value_change = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    term_change_days = models.IntegerField(default=0)
    reason = models.TextField()
    linked_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="linked",
                                  help_text="an earlier change this one could reasonably have been made with")
    value_before = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    value_after = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    notice_required = models.BooleanField(default=False)
    verdict = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract", "changed_on", "id"]

    def __str__(self):
        return f"{self.contract}: {self.get_kind_display()} change on {self.changed_on}"


class ContractEvent(models.Model):
    class Kind(models.TextChoices):
        BREAK = "break", "Break clause"
        EXTENSION = "extension", "Extension option"
        NOTICE = "notice", "Notice period"
        REVIEW = "review", "Review date"
        END = "end", "End date"
        MAX_END = "max_end", "Maximum end date (with every extension)"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    date = models.DateField()
    extension_months = models.PositiveIntegerField(null=True, blank=True)
    notice_days = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract", "date", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.date}"


class Exemption(models.Model):
    """Why a contract needs no KPIs under s.52 (framework, concession, light-touch, utility)."""

    class Kind(models.TextChoices):
        FRAMEWORK = "framework", "Framework"
        CONCESSION = "concession", "Concession contract"
        LIGHT_TOUCH = "light_touch", "Light-touch contract"
        UTILITY = "utility", "Private utility"

    contract = models.OneToOneField(Contract, on_delete=models.PROTECT, related_name="act_exemption")
    kind = models.CharField(max_length=12, choices=Kind.choices, blank=True, help_text="blank: not exempt")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.contract}: {self.get_kind_display() or 'not exempt'}"


class ProviderUser(models.Model):
    """A user who acts for a provider: sees that provider's contracts and submits their returns."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_link")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="users")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.user} for {self.provider}"


class Reminder(models.Model):
    """One reminder to one user; ``key`` makes sure the same reminder is never made twice."""

    class Kind(models.TextChoices):
        RETURN_OVERDUE = "return_overdue", "Return overdue"
        ASSESSMENT_DUE = "assessment_due", "Assessment due"
        DECISION_DUE = "decision_due", "Recommissioning decision due"

    key = models.CharField(max_length=300)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="reminders")
    message = models.CharField(max_length=500)
    due = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_reminder_per_user_and_key")]

    def __str__(self):
        return self.message


class ProviderContractSummary(models.Model):
    """Derived, never edited: one row per contract and provider holding it, with the contract's current
    results, for the provider benchmarking pages (fast at national scale).

    Kept by ``performance.services`` whenever a KPI, return or assessment is written (through
    ``benchmarking.providers.refresh_summaries``) and rebuilt in bulk, idempotently, by
    ``benchmarking.providers.rebuild_summaries()``. ``owner`` and ``is_private`` are copies of the
    contract's, so that ``objects.visible_to(user)`` applies the one tenancy rule of ``orgs.tenancy``.
    """

    # (contract, provider and buyer have no index of their own: the unique constraint's index and the
    # composite indexes below begin with them)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="+", db_index=False)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+", db_index=False)
    owner = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="+")
    is_private = models.BooleanField(default=False)
    buyer = models.ForeignKey("orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_index=False)
    cpv_division = models.CharField(max_length=2, blank=True)
    kpis = models.PositiveIntegerField(default=0, help_text="active KPIs")
    met = models.PositiveIntegerField(default=0, help_text="current returns classified met")
    slightly_below = models.PositiveIntegerField(default=0)
    below = models.PositiveIntegerField(default=0)
    significantly_below = models.PositiveIntegerField(default=0)
    rating = models.CharField(max_length=30, blank=True, help_text="latest current assessment's rating")
    rated_on = models.DateField(null=True, blank=True)
    unit_cost = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True,
                                    help_text="latest current value of a KPI whose unit starts with £")
    unit_cost_unit = models.CharField(max_length=40, blank=True)
    unit_cost_period_end = models.DateField(null=True, blank=True)
    synthetic = models.BooleanField(default=False, help_text="any of the figures is synthetic")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contract", "provider"], name="one_summary_per_contract_provider")]
        indexes = [models.Index(fields=["provider", "buyer"]), models.Index(fields=["cpv_division", "provider"]),
                   models.Index(fields=["buyer", "cpv_division"]),
                   models.Index(fields=["cpv_division", "unit_cost_unit"])]

    def __str__(self):
        return f"{self.contract_id}/{self.provider_id}"


class ProviderCategorySummary(models.Model):
    """Derived, never edited: one row per CPV division and provider, over the PUBLIC contracts of
    ``ProviderContractSummary``, so that the national category ranking is read without grouping every
    contract of a division. Kept with the contract summary by ``benchmarking.providers``. Users who may
    see private contracts in the division, and peer groups, are computed from the contract summary."""

    cpv_division = models.CharField(max_length=2)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    contracts = models.PositiveIntegerField(default=0)
    councils = models.PositiveIntegerField(default=0)
    met = models.PositiveIntegerField(default=0)
    slightly_below = models.PositiveIntegerField(default=0)
    below = models.PositiveIntegerField(default=0)
    significantly_below = models.PositiveIntegerField(default=0)
    returns = models.PositiveIntegerField(default=0)
    share_met = models.FloatField(null=True, blank=True, help_text="met / returns; null when no returns")
    rated_good = models.PositiveIntegerField(default=0)
    rated_approaching = models.PositiveIntegerField(default=0)
    rated_requires_improvement = models.PositiveIntegerField(default=0)
    rated_inadequate = models.PositiveIntegerField(default=0)
    rated_other = models.PositiveIntegerField(default=0)
    unit_cost_unit = models.CharField(max_length=40, blank=True, help_text="the division's most common £ unit")
    unit_cost_median = models.FloatField(null=True, blank=True)
    unit_cost_contracts = models.PositiveIntegerField(default=0)
    synthetic = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cpv_division", "provider"],
                                               name="one_category_summary_per_provider")]
        indexes = [models.Index(fields=["cpv_division", "share_met"])]

    def __str__(self):
        return f"{self.cpv_division}/{self.provider_id}"
