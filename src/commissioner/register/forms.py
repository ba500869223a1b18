"""Forms for the register pages, rendered with GOV.UK Frontend markup (templates/includes/field.html).

Filters are validated by ``queries.ContractFilters`` (the one place that knows them); the filter form
only renders them and reports its errors.
"""

import re
import time
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.forms.boundfield import BoundField
from django.utils import timezone

from commissioner.methods.text import clean_text
from commissioner.orgs.models import Organisation
from commissioner.orgs.tenancy import EDIT_ROLES, can_edit, member_org_ids
from commissioner.register import queries, services
from commissioner.register.cpv import CHOICES as CPV_CHOICES
from commissioner.register.cpv import DIVISIONS
from commissioner.register.models import Contract, DeliveryModel, Source, Status, SupplierType

# GOV.UK class for each Django widget type (BoundField.widget_type); others are rendered by hand.
WIDGET_CLASSES = {
    "text": "govuk-input", "number": "govuk-input", "email": "govuk-input", "password": "govuk-input",
    "date": "govuk-input", "search": "govuk-input", "select": "govuk-select", "textarea": "govuk-textarea",
    "checkbox": "govuk-checkboxes__input", "radioselect": "govuk-radios__input",
}


class GovukBoundField(BoundField):
    """Adds GOV.UK classes (and the error modifier) to widgets; Django adds aria-describedby itself."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        base = WIDGET_CLASSES.get(self.widget_type)
        if base:
            own = (widget or self.field.widget).attrs.get("class", "")
            error = f" {base}--error" if self.errors and base in ("govuk-input", "govuk-select",
                                                                   "govuk-textarea") else ""
            attrs["class"] = f"{base} {own}".strip() + error
        return attrs

    @property
    def anchor(self):
        """The id the error summary links to: the first input of the field."""
        if isinstance(self.field.widget, (forms.MultiWidget, forms.RadioSelect)):
            return f"{self.auto_id}_0"
        return self.auto_id


class GovukFormMixin:
    bound_field_class = GovukBoundField
    use_required_attribute = False  # GOV.UK: validate on the server, with our own messages


class GovukDateWidget(forms.MultiWidget):
    """The GOV.UK date input: day, month and year boxes in a fieldset."""

    template_name = "register/widgets/date_input.html"
    use_fieldset = True
    PARTS = (("day", "Day", 2), ("month", "Month", 2), ("year", "Year", 4))

    def __init__(self, attrs=None):
        widgets = {
            name: forms.TextInput(attrs={
                "class": f"govuk-input govuk-date-input__input govuk-input--width-{width}",
                "inputmode": "numeric"})
            for name, _, width in self.PARTS
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        invalid = context["widget"]["attrs"].get("aria-invalid")
        for sub, (_, label, _) in zip(context["widget"]["subwidgets"], self.PARTS):
            sub["label"] = label
            if invalid:
                sub["attrs"]["class"] += " govuk-input--error"
        return context


class GovukDateField(forms.MultiValueField):
    widget = GovukDateWidget

    def __init__(self, **kwargs):
        parts = (forms.CharField(required=False) for _ in range(3))
        super().__init__(fields=tuple(parts), require_all_fields=False, **kwargs)

    def compress(self, data_list):
        values = [str(v or "").strip() for v in (data_list or [])]
        if not any(values):
            return None
        label = self.label or "Date"
        missing = [name for (_, name, _), v in zip(GovukDateWidget.PARTS, values) if not v]
        if missing:
            raise ValidationError(f"{label} must include a {' and '.join(m.lower() for m in missing)}")
        try:
            day, month, year = (int(v) for v in values)
            if not 1900 <= year <= 2200:
                raise ValueError
            return date(year, month, day)
        except ValueError:
            raise ValidationError(f"{label} must be a real date, for example 27 3 2025") from None


SORT_CHOICES = [
    ("-published", "Recently published"), ("published", "Least recently published"),
    ("-value", "Highest value"), ("value", "Lowest value"), ("end", "Ending soonest"), ("-end", "Ending latest"),
    ("start", "Starting soonest"), ("-start", "Starting latest"), ("title", "Title A to Z"),
    ("-title", "Title Z to A"), ("buyer", "Buyer A to Z"), ("-buyer", "Buyer Z to A"),
    ("-stories", "Most residents' stories"), ("-rating", "Highest residents' rating"),
    ("rating", "Lowest residents' rating"),
]
METHOD_CHOICES = [("open", "Open"), ("selective", "Selective"), ("limited", "Limited"), ("direct", "Direct award")]


def _any(label):
    return [("", label)]


class ContractFilterForm(GovukFormMixin, forms.Form):
    """Renders the register filters; ``queries.ContractFilters`` parses and validates them."""

    q = forms.CharField(label="Search contracts", required=False,
                        help_text="Words in the title, description, supplier or buyer",
                        widget=forms.TextInput(attrs={"type": "search", "spellcheck": "false"}))
    buyer = forms.CharField(label="Buyer", required=False, widget=forms.Select)
    category = forms.CharField(label="Service category (CPV division)", required=False,
                               widget=forms.Select(choices=_any("All categories")
                                                   + [(k, f"{k} {v}") for k, v in CPV_CHOICES]))
    supplier_type = forms.CharField(label="Supplier type", required=False,
                                    widget=forms.Select(choices=_any("All supplier types") + SupplierType.choices))
    status = forms.CharField(label="Status", required=False,
                             widget=forms.Select(choices=_any("All statuses") + Status.choices))
    method = forms.CharField(label="Procurement method", required=False,
                             widget=forms.Select(choices=_any("All methods") + METHOD_CHOICES))
    value_min = forms.CharField(label="Minimum value in pounds", required=False,
                                widget=forms.TextInput(attrs={"class": "govuk-input--width-10",
                                                              "inputmode": "decimal"}))
    value_max = forms.CharField(label="Maximum value in pounds", required=False,
                                widget=forms.TextInput(attrs={"class": "govuk-input--width-10",
                                                              "inputmode": "decimal"}))
    start_from = forms.CharField(label="Starts on or after", required=False, widget=forms.DateInput(
        attrs={"type": "date", "class": "govuk-input--width-10"}))
    start_to = forms.CharField(label="Starts on or before", required=False, widget=forms.DateInput(
        attrs={"type": "date", "class": "govuk-input--width-10"}))
    end_from = forms.CharField(label="Ends on or after", required=False, widget=forms.DateInput(
        attrs={"type": "date", "class": "govuk-input--width-10"}))
    end_to = forms.CharField(label="Ends on or before", required=False, widget=forms.DateInput(
        attrs={"type": "date", "class": "govuk-input--width-10"}))
    feedback = forms.CharField(label="Residents' feedback", required=False, widget=forms.Select(
        choices=_any("All contracts") + list(queries.FEEDBACK_FILTERS.items())))
    sort = forms.CharField(label="Sort by", required=False, widget=forms.Select(choices=SORT_CHOICES))

    ADVANCED = ("buyer", "category", "supplier_type", "status", "method", "value_min", "value_max",
                "start_from", "start_to", "end_from", "end_to", "feedback")

    def __init__(self, data, *, user):
        super().__init__(data)
        buyers = queries.organisations(user, queries.OrgFilters(sort="name"))
        self.fields["buyer"].widget.choices = _any("All buyers") + [
            (o.slug, f"{o.name} ({o.n_contracts})") for o in buyers]
        self.filters = None

    def clean(self):
        try:
            self.filters = queries.ContractFilters.from_params(self.data)
        except queries.FilterError as e:
            self.add_error(e.field if e.field in self.fields else None, f"{self.label_of(e.field)}: {e.message}")
        return self.cleaned_data

    def label_of(self, name):
        return self.fields[name].label if name in self.fields else name

    @property
    def has_advanced(self):
        return any(self.data.get(name) for name in self.ADVANCED)


class AsAtForm(GovukFormMixin, forms.Form):
    as_at = forms.CharField(label="Figures as at", required=False,
                            help_text="Contracts ending are counted from this date. Leave blank for today.",
                            widget=forms.DateInput(attrs={"type": "date", "class": "govuk-input--width-10"}))

    def clean_as_at(self):
        raw = (self.cleaned_data.get("as_at") or "").strip()
        if not raw:
            return None
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            raise ValidationError("Enter the date as year-month-day, for example 2025-01-31") from None
        if not 1990 <= value.year <= 2100:
            raise ValidationError("Enter a date between 1990 and 2100")
        return value


COMPANY_NUMBER = re.compile(r"^(\d{8}|[A-Z]{2}\d{6}|R\d{7})$")
CHARITY_NUMBER = re.compile(r"^(\d{6,8}(-\d{1,2})?|SC0\d{5}|NIC?\d{5,6})$")
CPV_CODE = re.compile(r"^(\d{8})(-\d)?$")


class ContractForm(GovukFormMixin, forms.Form):
    """Add a contract the open data does not hold (in-house, LATC, shared service, grant, ...)."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    owner = forms.ChoiceField(label="Organisation", help_text="The organisation that holds this contract")
    title = forms.CharField(label="Contract title", max_length=1000,
                            error_messages={"required": "Enter the contract title"})
    description = forms.CharField(label="Description (optional)", required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
    delivery_model = forms.ChoiceField(label="How is the service delivered?", choices=DeliveryModel.choices,
                                       initial=DeliveryModel.INHOUSE,
                                       error_messages={"required": "Select how the service is delivered"})
    provider_name = forms.CharField(label="Provider name", max_length=300,
                                    help_text="The team, company or organisation delivering the service",
                                    error_messages={"required": "Enter the provider name"})
    supplier_type = forms.ChoiceField(label="Type of provider", choices=SupplierType.choices,
                                      initial=SupplierType.INHOUSE,
                                      error_messages={"required": "Select the type of provider"})
    value = forms.CharField(label="Total value (optional)", required=False, max_length=40,
                            help_text="In pounds, for the whole contract",
                            widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "decimal",
                                                          "spellcheck": "false"}))
    start_date = GovukDateField(label="Start date (optional)", required=False, help_text="For example, 1 4 2025")
    end_date = GovukDateField(label="End date (optional)", required=False, help_text="For example, 31 3 2028")
    review_date = GovukDateField(label="Review date (optional)", required=False,
                                 help_text="When the contract is next reviewed, for example 1 10 2026")
    cpv = forms.CharField(label="CPV code (optional)", required=False, max_length=12,
                          help_text="8 digits, for example 85311000 (social work services)",
                          widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "numeric",
                                                        "spellcheck": "false"}))
    reference = forms.CharField(label="Your reference (optional)", required=False, max_length=200,
                                widget=forms.TextInput(attrs={"class": "govuk-input--width-20"}))
    companies_house = forms.CharField(label="Companies House number (optional)", required=False, max_length=12,
                                      help_text="8 characters, for example 01234567 or SC123456",
                                      widget=forms.TextInput(attrs={"class": "govuk-input--width-10",
                                                                    "spellcheck": "false"}))
    charity_number = forms.CharField(label="Charity number (optional)", required=False, max_length=12,
                                     help_text="For example, 1123456",
                                     widget=forms.TextInput(attrs={"class": "govuk-input--width-10",
                                                                   "spellcheck": "false"}))
    is_private = forms.BooleanField(label="Only members of the organisation can see this contract",
                                    required=False, initial=True,
                                    help_text="Untick to publish it in the open register")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        orgs = editable_organisations(user)
        self.fields["owner"].choices = [(str(o.pk), o.name) for o in orgs]
        if len(orgs) == 1:
            self.fields["owner"].initial = str(orgs[0].pk)

    def clean_owner(self):
        owner = Organisation.objects.filter(pk=self.cleaned_data["owner"]).first()
        if owner is None or not can_edit(self.user, owner.pk):
            raise ValidationError("Select an organisation you can add contracts for")
        return owner

    def clean_title(self):
        title = clean_text(self.cleaned_data["title"])
        if not title:
            raise ValidationError("Enter the contract title")
        return title

    def clean_provider_name(self):
        name = clean_text(self.cleaned_data["provider_name"])
        if not name:
            raise ValidationError("Enter the provider name")
        return name

    def clean_value(self):
        raw = re.sub(r"[£,\s]", "", self.cleaned_data.get("value") or "")
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ValidationError("Total value must be a number, like 125000 or 125,000.50") from None
        if not value.is_finite():
            raise ValidationError("Total value must be a number, like 125000 or 125,000.50")
        if value < 0:
            raise ValidationError("Total value must be £0 or more")
        if value > settings.MAX_AMOUNT:
            raise ValidationError(f"Total value must be £{settings.MAX_AMOUNT:,} or less")
        if value != value.quantize(Decimal("0.01")):
            raise ValidationError("Total value must be in pounds and pence, like 125000.50")
        return value.quantize(Decimal("0.01"))

    def clean_cpv(self):
        raw = (self.cleaned_data.get("cpv") or "").replace(" ", "")
        if not raw:
            return ""
        match = CPV_CODE.match(raw)
        if not match:
            raise ValidationError("CPV code must be 8 digits, like 85311000")
        if match.group(1)[:2] not in DIVISIONS:
            raise ValidationError("CPV code must start with a real CPV division, like 85 for health and social work")
        return match.group(1)

    def clean_companies_house(self):
        raw = (self.cleaned_data.get("companies_house") or "").replace(" ", "").upper()
        if not raw:
            return ""
        if raw.isdigit() and len(raw) < 8:
            raw = raw.zfill(8)
        if not COMPANY_NUMBER.match(raw):
            raise ValidationError("Companies House number must be 8 characters, like 01234567 or SC123456")
        return raw

    def clean_charity_number(self):
        raw = (self.cleaned_data.get("charity_number") or "").replace(" ", "").upper()
        if not raw:
            return ""
        if not CHARITY_NUMBER.match(raw):
            raise ValidationError("Charity number must be a registered charity number, like 1123456 or SC012345")
        return raw

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "End date must be the same as or after the start date")
        return data

    def save(self, *, actor):
        """Create the contract, or return the same one if it was just submitted: (contract, created)."""
        for attempt in range(3):
            try:
                return self._save(actor)
            except OperationalError:
                # SQLite: a concurrent identical submission committed first ("database is locked");
                # try again, and the duplicate check below finds it.
                if attempt == 2:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def _save(self, actor):
        data = {k: v for k, v in self.cleaned_data.items() if k != "form_token"}
        with transaction.atomic():
            # Serialise additions per organisation (PostgreSQL row lock; SQLite allows one writer anyway),
            # so a double-click cannot slip two identical contracts past the check below.
            list(Organisation.objects.select_for_update().filter(pk=data["owner"].pk))
            existing = recent_duplicate(data["owner"], data["title"], data["provider_name"])
            if existing is not None:
                return existing, False
            return services.create_local_contract(actor=actor, **data), True


def editable_organisations(user):
    """Organisations the user may add contracts for (admin or commissioner role; superusers: councils)."""
    if not user.is_authenticated:
        return []
    qs = Organisation.objects.order_by("name")
    if user.is_superuser:
        return list(qs.filter(kind=Organisation.Kind.COUNCIL))
    return list(qs.filter(pk__in=member_org_ids(user, EDIT_ROLES)))


def can_add_contracts(user):
    return bool(editable_organisations(user))


DUPLICATE_WINDOW = timedelta(minutes=1)


def recent_duplicate(owner, title, provider_name):
    """A contract with the same owner, title and provider added by hand within the last minute."""
    return (Contract.objects.filter(owner=owner, title=title[:1000], source=Source.MANUAL,
                                    created_at__gte=timezone.now() - DUPLICATE_WINDOW,
                                    contract_suppliers__supplier__name=provider_name[:300])
            .order_by("-created_at").first())
