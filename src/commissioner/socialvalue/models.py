"""Social return (SROI models with their outcomes), a council's own proxy library, and social value
commitments per contract with what was delivered per period.

Every record has ``owner`` and ``is_private`` (private by default) and is read through
``visible_to``; writes go through ``services`` (audited). Percentages are stored as entered (0-100)
and converted to fractions for ``methods.sroi``. A value not known is null (shown as missing, never 0).
"""

from django.conf import settings
from django.db import models

from commissioner.orgs.models import Organisation
from commissioner.orgs.tenancy import ScopedQuerySet
from commissioner.register.models import Contract

PERCENTS = ("deadweight", "displacement", "attribution", "drop_off")


class Proxy(models.Model):
    """A financial proxy in a council's library: the value in pounds of one unit of an outcome."""

    name = models.CharField(max_length=300)
    unit = models.CharField(max_length=100)
    value = models.DecimalField(max_digits=14, decimal_places=2)
    source = models.CharField(max_length=1000)
    year = models.PositiveSmallIntegerField(help_text="the price year of the value")
    licence = models.CharField(max_length=200)
    synthetic = models.BooleanField(default=False)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    is_private = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "proxies"
        constraints = [models.UniqueConstraint(fields=["owner", "name", "unit"], name="socialvalue_proxy_unique")]

    def __str__(self):
        return f"{self.name} (£{self.value} per {self.unit})"


class SroiModel(models.Model):
    """An SROI model for a contract or a service: the value of inputs and its outcomes."""

    name = models.CharField(max_length=300)
    contract = models.ForeignKey(Contract, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="sroi_models")
    service = models.CharField(max_length=300, blank=True, help_text="the service, when not one contract")
    inputs = models.DecimalField(max_digits=16, decimal_places=2, help_text="value of inputs, in pounds")
    synthetic = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    is_private = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class SroiOutcome(models.Model):
    model = models.ForeignKey(SroiModel, on_delete=models.CASCADE, related_name="outcomes")
    stakeholder = models.CharField(max_length=200)
    indicator = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=14, decimal_places=2)
    proxy = models.ForeignKey(Proxy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    proxy_value = models.DecimalField(max_digits=14, decimal_places=2, help_text="pounds per unit")
    proxy_source = models.CharField(max_length=1000)
    deadweight = models.DecimalField(max_digits=7, decimal_places=4, default=0, help_text="percent, 0-100")
    displacement = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    attribution = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    drop_off = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    years = models.PositiveSmallIntegerField(default=1, help_text="benefit period in years")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "id"]
        constraints = [models.UniqueConstraint(fields=["model", "stakeholder", "indicator"],
                                               name="socialvalue_outcome_unique")]

    def __str__(self):
        return f"{self.stakeholder}: {self.indicator}"


class Commitment(models.Model):
    """What a supplier promised on a contract, in a measure and unit (e.g. 'Local jobs', 'FTE-years')."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="social_value_commitments")
    measure = models.CharField(max_length=300)
    unit = models.CharField(max_length=100)
    promised = models.DecimalField(max_digits=14, decimal_places=2)
    synthetic = models.BooleanField(default=False)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    is_private = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "measure", "id"]
        constraints = [models.UniqueConstraint(fields=["contract", "measure", "unit"],
                                               name="socialvalue_commitment_unique")]

    def __str__(self):
        return f"{self.measure} ({self.unit})"


class Delivery(models.Model):
    """What was delivered against a commitment in one period; ``counted`` is the share attributed to the
    contract (``amount`` / ``shared_by``, methods.sroi.shared_benefit)."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="deliveries")
    period = models.CharField(max_length=20, help_text="e.g. 2024-25 or 2025-Q1")
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    shared_by = models.PositiveIntegerField(default=1, help_text="contracts the benefit is shared by")
    counted = models.DecimalField(max_digits=18, decimal_places=4)
    note = models.CharField(max_length=500, blank=True)
    synthetic = models.BooleanField(default=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["commitment", "period", "id"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["commitment", "period"], name="socialvalue_delivery_unique")]

    def __str__(self):
        return f"{self.commitment} {self.period}: {self.counted}"
