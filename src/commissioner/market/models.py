"""Council spend (Transparency Code "spend over £500/£250" files) and the column mappings users gave.

Spend files are published by councils under the Open Government Licence, so a loaded file and its
payments are public (``is_private=False``) and read through ``visible_to`` like every other record;
a council may load a file it has not published as private. Only the council's admins and
commissioners load files (``services``). Payees who are private individuals are never stored by name:
the importer replaces the name with "Redacted personal data" before anything is saved.
"""

from django.conf import settings
from django.db import models

from commissioner.orgs.models import Organisation
from commissioner.orgs.tenancy import ScopedQuerySet
from commissioner.register.models import Provider


class ColumnMapping(models.Model):
    """The mapping a user gave for an unknown layout, remembered by the file's header signature."""

    signature = models.CharField(max_length=1000, unique=True, help_text="normalised header cells joined by |")
    mapping = models.JSONField(help_text="field -> header name or 1-based column number")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    owner = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"mapping {self.signature[:60]}"


class SpendFile(models.Model):
    """One loaded spend file: its layout, months and totals."""

    council = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="spend_files")
    name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    layout = models.CharField(max_length=40)
    encoding = models.CharField(max_length=20)
    has_header = models.BooleanField(default=True)
    months = models.JSONField(default=list, help_text="YYYY-MM of every payment month in the file")
    first_date = models.DateField()
    last_date = models.DateField()
    row_count = models.PositiveIntegerField()
    redacted_count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(max_digits=16, decimal_places=2)
    synthetic = models.BooleanField(default=False)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    loaded_at = models.DateTimeField(auto_now_add=True)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    is_private = models.BooleanField(default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["council", "first_date"]
        constraints = [models.UniqueConstraint(fields=["council", "sha256"], name="market_file_once")]

    def __str__(self):
        return f"{self.name} ({self.council})"


class Payment(models.Model):
    """One payment line. ``payee`` is the published name, or "Redacted personal data" for an individual."""

    spend_file = models.ForeignKey(SpendFile, on_delete=models.CASCADE, related_name="payments")
    council = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    line = models.PositiveIntegerField()
    paid_on = models.DateField()
    month = models.CharField(max_length=7)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    payee = models.CharField(max_length=300)
    payee_key = models.CharField(max_length=300, db_index=True, blank=True)
    individual = models.BooleanField(default=False)
    supplier_id = models.CharField(max_length=40, blank=True)
    category = models.CharField(max_length=200, blank=True)
    department = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    match = models.CharField(max_length=20, blank=True, help_text="identifier, name, or blank when unmatched")
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    is_private = models.BooleanField(default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["paid_on", "id"]
        indexes = [models.Index(fields=["council", "category"]), models.Index(fields=["council", "month"])]

    def __str__(self):
        return f"{self.paid_on} {self.payee} £{self.amount}"


class Grant(models.Model):
    """One grant a council awarded, from its 360Giving file (public, like the file)."""

    council = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    identifier = models.CharField(max_length=200)
    title = models.CharField(max_length=400)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    award_date = models.DateField()
    recipient_name = models.CharField(max_length=300)
    recipient_id = models.CharField(max_length=200, blank=True)
    charity_number = models.CharField(max_length=20, blank=True)
    company_number = models.CharField(max_length=20, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    programme = models.CharField(max_length=200, blank=True)
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    match = models.CharField(max_length=20, blank=True)
    source_name = models.CharField(max_length=300)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    is_private = models.BooleanField(default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["award_date", "id"]
        constraints = [models.UniqueConstraint(fields=["council", "identifier"], name="market_grant_once")]

    def __str__(self):
        return f"{self.identifier} {self.recipient_name} £{self.amount}"


class CategoryMapping(models.Model):
    """A council's spend category (as its files name it) mapped to a CPV division, remembered for every
    file the council loads. ``key`` is ``methods.market.category_key`` of the text, so "ACCOUNTANCY" and
    "Accountancy" are one category. Set only through ``services.set_category_mappings`` (audited)."""

    council = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    category = models.CharField(max_length=200, help_text="the category as the spend file names it")
    division = models.CharField(max_length=2, help_text="CPV division: the first two digits of a CPV code")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["council", "key"]
        constraints = [models.UniqueConstraint(fields=["council", "key"], name="market_category_mapping_once")]

    def __str__(self):
        return f"{self.category} -> CPV {self.division}"
