"""Providers, the suppliers seen in notices, and contracts (one per contracting process)."""

from django.db import models

from commissioner.core.fields import WrittenJSONField
from commissioner.orgs.models import Organisation
from commissioner.orgs.tenancy import ScopedQuerySet


class SupplierType(models.TextChoices):
    LARGE = "large", "Large company"
    SME = "sme", "SME"
    VCSE = "vcse", "Voluntary, community or social enterprise"
    PUBLIC = "public", "Public sector"
    INHOUSE = "inhouse", "In-house"
    LATC = "latc", "Local authority trading company"
    SHARED = "shared", "Shared service"
    UNKNOWN = "unknown", "Not known"


class Provider(models.Model):
    """A provider as one entity, however many spellings and ids it appears under."""

    name = models.CharField(max_length=300, db_index=True)
    supplier_type = models.CharField(
        max_length=20, choices=SupplierType.choices, default=SupplierType.UNKNOWN, db_index=True
    )
    scale = models.CharField(max_length=10, blank=True, help_text="sme or large, as declared in notices")
    is_vcse = models.BooleanField(null=True)
    companies_house = models.CharField(max_length=12, blank=True, db_index=True)
    charity_number = models.CharField(max_length=12, blank=True)
    name_key = models.CharField(max_length=300, db_index=True, help_text="normalised name used for matching")
    # Tenancy: providers from public notices are public; ones a council adds may be private.
    owner = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    is_private = models.BooleanField(default=False)
    contract_count = models.PositiveIntegerField(default=0)
    total_value = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Supplier(models.Model):
    """One supplier identity as a notice states it (party id or name), linked to a provider."""

    class Match(models.TextChoices):
        NEW = "new", "First seen"
        IDENTIFIER = "identifier", "Same company identifier"
        NAME = "name", "Same normalised name"
        MANUAL = "manual", "Set by an admin"

    key = models.CharField(max_length=300, unique=True, help_text="scheme-id, or name:<normalised name>")
    scheme = models.CharField(max_length=40, blank=True)
    identifier = models.CharField(max_length=120, blank=True)
    name = models.CharField(max_length=300)
    scale = models.CharField(max_length=10, blank=True)
    is_vcse = models.BooleanField(null=True)
    companies_house = models.CharField(max_length=12, blank=True, db_index=True)
    charity_number = models.CharField(max_length=12, blank=True)
    identifiers = WrittenJSONField(default=list, blank=True)
    address = WrittenJSONField(default=dict, blank=True)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="suppliers")
    match = models.CharField(max_length=20, choices=Match.choices, default=Match.NEW)
    match_detail = models.CharField(max_length=300, blank=True)
    locked = models.BooleanField(default=False, help_text="an admin set the provider; imports leave it alone")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.key})"


class Status(models.TextChoices):
    PLANNED = "planned", "Planned"
    TENDER = "tender", "Tender open"
    TENDER_CLOSED = "tender_closed", "Tender closed"
    AWARDED = "awarded", "Awarded"
    CONTRACT = "contract", "Contract signed"
    TERMINATED = "terminated", "Terminated"
    CANCELLED = "cancelled", "Cancelled or unsuccessful"


class DeliveryModel(models.TextChoices):
    MARKET = "market", "Procured from the market"
    INHOUSE = "inhouse", "In-house service"
    LATC = "latc", "Local authority trading company"
    SHARED = "shared", "Shared service"
    GRANT = "grant", "Grant to a VCSE organisation"
    PARTNERSHIP = "partnership", "Public-sector partnership"


class Source(models.TextChoices):
    OCDS = "ocds", "Open contracting data (OCDS)"
    REGISTER = "register", "Council contract register (CSV)"
    MANUAL = "manual", "Entered by the council"


class Contract(models.Model):
    """A contracting process: one per OCDS ocid, at whatever stage the data shows."""

    ocid = models.CharField(max_length=200, unique=True)
    owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="owned_contracts")
    buyer = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="contracts"
    )
    buyer_name = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=1000)
    description = models.TextField(blank=True)
    reference = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    tender_status = models.CharField(max_length=30, blank=True)
    procurement_method = models.CharField(max_length=30, blank=True, db_index=True)
    procurement_method_details = models.CharField(max_length=300, blank=True)
    main_category = models.CharField(max_length=20, blank=True)
    cpv = models.CharField("CPV code", max_length=12, blank=True)
    cpv_description = models.CharField(max_length=300, blank=True)
    cpv_division = models.CharField(max_length=2, blank=True, db_index=True)
    tender_value = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    tender_min_value = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    award_value = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    value = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True, db_index=True,
        help_text="award value where awarded, else the tender value",
    )
    currency = models.CharField(max_length=3, default="GBP")
    start_date = models.DateField(null=True, blank=True, db_index=True)
    end_date = models.DateField(null=True, blank=True, db_index=True)
    review_date = models.DateField(null=True, blank=True)
    tender_end_date = models.DateField(null=True, blank=True)
    published = models.DateTimeField(null=True, blank=True, help_text="date of the latest release")
    suitable_sme = models.BooleanField(null=True)
    suitable_vcse = models.BooleanField(null=True)
    delivery_model = models.CharField(max_length=20, choices=DeliveryModel.choices, default=DeliveryModel.MARKET)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.OCDS)
    is_private = models.BooleanField(default=False)
    documents = WrittenJSONField(default=list, blank=True)
    release_count = models.PositiveIntegerField(default=0)
    search_text = models.TextField(blank=True)
    suppliers = models.ManyToManyField(Supplier, through="ContractSupplier", related_name="contracts")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-published", "ocid"]

    def __str__(self):
        return self.title


class ContractSupplier(models.Model):
    # (no index of its own: the unique constraint's index begins with the contract)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="contract_suppliers",
                                 db_index=False)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="contract_links")
    award_id = models.CharField(max_length=200, blank=True)
    value = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contract", "supplier", "award_id"], name="one_link_per_award")
        ]
