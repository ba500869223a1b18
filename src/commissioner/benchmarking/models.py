"""Measures, their values per organisation and period, code mappings and peer groups.

A missing value is stored as a row with ``value`` null (never 0): it is shown as missing and left
out of ranks, with a count. Periods are text labels normalised on import ("2022-23" for a
financial year, "2023" for a calendar year): see ``importers.normalise_period``.
"""

from django.conf import settings
from django.db import models

from commissioner.orgs.models import Organisation


class Polarity(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"
    NONE = "none", "Neither (context measure)"


class Measure(models.Model):
    """A measure: national (from a source such as Oflog; ``owner`` null) or a council's local value measure.

    A local value measure is defined by its owner council, published, then adopted by other councils
    (``Adoption``); its text is versioned (``MeasureVersion``): a change of definition, unit, polarity or how
    it is collected after publication is a new version.
    """

    class Kind(models.TextChoices):
        NATIONAL = "national", "National or source measure"
        LOCAL = "local", "Local value measure"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    code = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NATIONAL, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    collection = models.TextField(blank=True, help_text="how the values are collected")
    name = models.CharField(max_length=300)
    definition = models.TextField(blank=True)
    unit = models.CharField(max_length=60, blank=True)
    polarity = models.CharField(max_length=10, choices=Polarity.choices, default=Polarity.HIGHER)
    polarity_note = models.CharField(max_length=300, blank=True, help_text="why this polarity")
    source = models.CharField(max_length=300, blank=True)
    source_url = models.URLField(blank=True)
    licence = models.CharField(max_length=200, blank=True)
    synthetic = models.BooleanField(default=False)
    owner = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="measures", help_text="the council that defined a local value measure")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code}: {self.name}"

    @property
    def higher_is_better(self):
        """True or False; None for a context measure (ranked highest first, neither is better)."""
        return {Polarity.HIGHER: True, Polarity.LOWER: False}.get(self.polarity)

    @property
    def is_local(self):
        return self.kind == self.Kind.LOCAL


class MeasureVersion(models.Model):
    """The text of one published version of a local value measure, kept for ever."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=300)
    definition = models.TextField(blank=True)
    unit = models.CharField(max_length=60, blank=True)
    polarity = models.CharField(max_length=10, choices=Polarity.choices, default=Polarity.HIGHER)
    collection = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["measure", "-version"]
        constraints = [models.UniqueConstraint(fields=["measure", "version"], name="one_row_per_measure_version")]

    def __str__(self):
        return f"{self.measure.code} v{self.version}"


class Adoption(models.Model):
    """A council using another council's local value measure, at the version it adopted."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="adoptions")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="adoptions")
    version = models.PositiveIntegerField()
    adopted_at = models.DateTimeField(auto_now_add=True)
    adopted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["measure", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["measure", "organisation"], name="one_adoption_per_org")]

    def __str__(self):
        return f"{self.organisation} uses {self.measure.code} v{self.version}"


class ImportRun(models.Model):
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20)  # oflog, csv
    label = models.CharField(max_length=300)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="benchmark_imports")
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.label}"


class MeasureValue(models.Model):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="values")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="measure_values")
    period = models.CharField(max_length=20)
    period_sort = models.PositiveIntegerField(default=0, help_text="the year the period starts, for ordering")
    value = models.DecimalField(max_digits=28, decimal_places=10, null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="the measure's version the value was recorded under")
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["measure", "period_sort", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["measure", "organisation", "period"],
                                               name="one_value_per_measure_org_period")]
        indexes = [
            # a council's series for its summary page, read from the index alone (PostgreSQL: INCLUDE value)
            models.Index(fields=["organisation", "measure", "period_sort", "period"], include=["value"],
                         name="measurevalue_org_series"),
            # one period's values of a measure (tables, positions, nearest neighbours)
            models.Index(fields=["measure", "period"], include=["organisation", "value"],
                         name="measurevalue_period_cover"),
        ]

    def __str__(self):
        return f"{self.measure.code} {self.organisation} {self.period}: {'missing' if self.value is None else self.value}"


class ReferenceValue(models.Model):
    """A figure for an area that is not a council (England, a region) published beside councils' values: shown
    next to the peers' median on a measure's page, never ranked."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="references")
    area_code = models.CharField(max_length=12)
    area_name = models.CharField(max_length=200)
    period = models.CharField(max_length=20)
    value = models.DecimalField(max_digits=28, decimal_places=10, null=True, blank=True)
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["measure", "period", "area_code"]
        constraints = [models.UniqueConstraint(fields=["measure", "area_code", "period"],
                                               name="one_reference_value_per_area_period")]

    def __str__(self):
        return f"{self.measure.code} {self.area_name} {self.period}: {'missing' if self.value is None else self.value}"


class CodeMapping(models.Model):
    """An old organisation code (GSS or three-letter) and its successor: imports follow it."""

    old_code = models.CharField(max_length=12, unique=True)
    new_code = models.CharField(max_length=12)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["old_code"]

    def __str__(self):
        return f"{self.old_code} -> {self.new_code}"


class PeerGroup(models.Model):
    """A stored peer group. National, same-type and same-region groups are computed, not stored."""

    class Kind(models.TextChoices):
        NATIONAL = "national", "All councils"
        TYPE = "type", "Same type of council"
        REGION = "region", "Same region"
        OWN = "own", "Chosen by a council"
        IMPORTED = "imported", "Imported"
        COMPUTED = "computed", "Computed nearest neighbours"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OWN)
    owner = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="peer_groups")
    members = models.ManyToManyField(Organisation, related_name="+", blank=True)
    source = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="one_peer_group_name_per_owner")]

    def __str__(self):
        return self.name


from commissioner.benchmarking.summary import LatestPosition, PeerStats  # noqa: F401  (the positions summary)
