"""Supplier financial risk: a provider's accounts (up to three years are used) and contract-specific
assessments, each stored as a snapshot of what methods.supplier_risk said at the time.

Both are private to the council that holds them (``owner``, ``is_private``; read through
``visible_to`` like every other record). Accounts may be given by the provider's own users (for a council
they hold a contract with): still the council's, marked entered by the supplier, and shared with that
provider's users (``tenancy.shared_with_supplier``); the council's officers may correct them, the
supplier's figures kept beside. Nothing is edited in place: an account year is updated
through ``services`` (audited, before and after), and a new assessment supersedes the last one.
"""

from django.conf import settings
from django.db import models

from commissioner.methods import supplier_risk
from commissioner.orgs.models import Organisation
from commissioner.orgs.tenancy import ScopedQuerySet
from commissioner.register.models import Contract, Provider

FIGURES = (
    ("turnover", "Turnover"),
    ("operating_profit", "Operating profit"),
    ("profit_after_tax", "Profit after tax"),
    ("current_assets", "Current assets"),
    ("stock", "Stock"),
    ("current_liabilities", "Current liabilities"),
    ("borrowing", "Borrowing"),
    ("shareholder_funds", "Shareholder funds"),
    ("net_assets", "Net assets"),
    ("interest", "Interest payable"),
    ("cash", "Cash"),
)
FIGURE_NAMES = tuple(name for name, _ in FIGURES)


def _money_field(label):
    return models.DecimalField(label, max_digits=20, decimal_places=2, null=True, blank=True)


class SupplierAccounts(models.Model):
    """One year's accounts of a provider, in pounds. A figure not given is null (shown as missing, never 0)."""

    class Source(models.TextChoices):
        ENTERED = "entered", "Entered by hand"
        CSV = "csv", "CSV upload"
        COMPANIES_HOUSE = "companies_house", "Companies House"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="risk_accounts")
    year = models.PositiveSmallIntegerField(help_text="the year the accounts end in")
    turnover = _money_field("Turnover")
    operating_profit = _money_field("Operating profit")
    profit_after_tax = _money_field("Profit after tax")
    current_assets = _money_field("Current assets")
    stock = _money_field("Stock")
    current_liabilities = _money_field("Current liabilities")
    borrowing = _money_field("Borrowing")
    shareholder_funds = _money_field("Shareholder funds")
    net_assets = _money_field("Net assets")
    interest = _money_field("Interest payable")
    cash = _money_field("Cash")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.ENTERED)
    audited = models.BooleanField(default=False, help_text="audited accounts (not management accounts)")
    synthetic = models.BooleanField(default=False, help_text="made up by the demo, not real")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="who entered the figures as they are now")
    # Figures a provider's own user gave the council (see docs/supplier-risk.md, "Who may do what"): who and when,
    # and the figures as the supplier gave them, kept when the council's officers correct them.
    entered_by_supplier = models.BooleanField(default=False, help_text="the supplier's own user entered this year")
    supplier_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", help_text="the supplier's user who entered them")
    supplier_username = models.CharField(max_length=150, blank=True, help_text="kept if the user is deleted")
    supplier_entered_at = models.DateTimeField(null=True, blank=True)
    supplier_figures = models.JSONField(null=True, blank=True,
                                        help_text="the figures (and audited) as the supplier gave them")
    corrected_at = models.DateTimeField(null=True, blank=True,
                                        help_text="when the council's officers last changed the supplier's figures")
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    is_private = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["provider", "-year"]
        verbose_name_plural = "supplier accounts"
        # One row per provider and year for each council (councils do not see each other's figures).
        constraints = [models.UniqueConstraint(fields=["owner", "provider", "year"],
                                               name="risk_accounts_one_per_year")]

    def __str__(self):
        return f"{self.provider} accounts {self.year}"

    @property
    def corrected_by_council(self):
        return self.entered_by_supplier and self.corrected_at is not None

    def as_method(self) -> supplier_risk.Accounts:
        return supplier_risk.Accounts(year=self.year, **{
            name: (float(v) if (v := getattr(self, name)) is not None else None) for name in FIGURE_NAMES})


class RiskAssessment(models.Model):
    """A contract-specific assessment of a provider's financial risk; the result is a snapshot."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="risk_assessments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="risk_assessments")
    annual_value = models.DecimalField(max_digits=20, decimal_places=2)
    criticality = models.CharField(max_length=10, default="medium")
    mitigations = models.JSONField(default=list, blank=True)
    lots = models.PositiveIntegerField(default=1)
    audited_accounts_required = models.BooleanField(default=True)
    credit_score = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    accounts_used = models.JSONField(default=list, blank=True, help_text="the figures assessed, as they were")
    rating = models.CharField(max_length=10)
    exposure = models.CharField(max_length=10)
    exposure_ratio = models.FloatField(null=True, blank=True)
    health = models.CharField(max_length=20)
    factors = models.JSONField(default=list, blank=True)
    mitigation_notes = models.JSONField(default=list, blank=True)
    moves = models.JSONField(default=list, blank=True)
    legacy = models.JSONField(default=dict, blank=True)
    synthetic = models.BooleanField(default=False)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    assessed_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="superseded_by")
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    is_private = models.BooleanField(default=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "-assessed_at", "-id"]
        # One current assessment per contract and provider, whatever the timing of two writers: the service
        # serialises them on the contract's row and the second supersedes the first; this refuses anything else.
        constraints = [models.UniqueConstraint(fields=["contract", "provider"], condition=models.Q(is_current=True),
                                               name="risk_one_current_assessment")]

    def __str__(self):
        return f"{self.contract} / {self.provider}: {self.rating} risk"
