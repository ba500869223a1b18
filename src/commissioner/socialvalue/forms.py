"""Forms for the social value pages. They only collect text; ``services`` checks it (percentages 0-100,
numbers, duplicates) and its ``SvInputError`` is shown on the field it names."""

from django import forms

from commissioner.register.forms import GovukFormMixin
from commissioner.socialvalue.services import SvInputError

NUM = {"inputmode": "decimal", "class": "govuk-input--width-10"}
PCT = {"inputmode": "decimal", "class": "govuk-input--width-4"}


def _text(label, max_length=300, required=True, attrs=None, help_text=""):
    return forms.CharField(label=label, max_length=max_length + 20, required=required, help_text=help_text,
                           widget=forms.TextInput(attrs=attrs or {"class": "govuk-input--width-30"}))


class SvForm(GovukFormMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # blanks are for services to name ("Enter the ..."), with the rest
            if type(field) is forms.CharField:
                field.required = False

    def add_service_error(self, error):
        """Every problem the service found, each on its field (a field the form already refused keeps its own)."""
        for field, message in error.errors:
            name = field if field in self.fields else None
            if name is not None and name in self.errors:
                continue
            if message not in self.errors.get(name or "__all__", []):
                self.add_error(name, message)

    def submit(self, save, check):
        """``save(cleaned_data)`` when the form accepts the input: (True, its result); otherwise (False, None). When the
        form refuses a field, ``check`` (the service's checks, which save nothing) still runs on the rest, so every
        problem is shown at once."""
        if self.is_valid():
            try:
                return True, save(self.cleaned_data)
            except SvInputError as e:
                self.add_service_error(e)
                return False, None
        data = {name: self.data.get(name, "") for name in self.fields}
        data.update(self.cleaned_data)
        try:
            check(data)
        except SvInputError as e:
            self.add_service_error(e)
        return False, None


class ModelForm(SvForm):
    name = _text("Name of the model")
    service = _text("Service", required=False, help_text="The service the model is for, if not one contract")
    contract = _text("Contract OCID (optional)", max_length=200, required=False,
                     help_text="The identifier of one of the council's contracts, e.g. ocds-b5fd17-...")
    inputs = _text("Value of inputs (£)", max_length=40, attrs=NUM, help_text="What the council spends, in pounds")


class OutcomeForm(SvForm):
    stakeholder = _text("Stakeholder", max_length=200)
    indicator = _text("Indicator")
    quantity = _text("Quantity", max_length=40, attrs=NUM, help_text="How many (people, homes, ...)")
    proxy = forms.ChoiceField(label="Financial proxy from the library", required=False)
    proxy_value = _text("Or enter a proxy: value of one unit (£)", max_length=40, attrs=NUM, required=False)
    proxy_source = _text("Source of the entered proxy", max_length=1000, required=False,
                         help_text="Publication, table and year")
    deadweight = _text("Deadweight (%)", max_length=20, attrs=PCT, required=False,
                       help_text="0 to 100: what would have happened anyway")
    displacement = _text("Displacement (%)", max_length=20, attrs=PCT, required=False, help_text="0 to 100")
    attribution = _text("Attribution (%)", max_length=20, attrs=PCT, required=False,
                        help_text="0 to 100: the share due to others")
    drop_off = _text("Drop-off (%)", max_length=20, attrs=PCT, required=False,
                     help_text="0 to 100: how much the impact falls each year after the first")
    years = _text("Benefit period (years)", max_length=10, attrs={"inputmode": "numeric",
                                                                   "class": "govuk-input--width-3"})

    def __init__(self, *args, proxies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proxy"].choices = [("", "None: I will enter a proxy")] + [
            (str(p.pk), f"{p.name}: £{p.value:,} per {p.unit} ({p.year})") for p in proxies]


class ProxyForm(SvForm):
    name = _text("Name")
    unit = _text("Unit", max_length=100, help_text="e.g. person a year")
    value = _text("Value (£)", max_length=40, attrs=NUM)
    source = _text("Source", max_length=1000, help_text="Publication, table, page")
    year = _text("Price year", max_length=10, attrs={"inputmode": "numeric", "class": "govuk-input--width-4"})
    licence = _text("Licence", max_length=200, help_text="e.g. Open Government Licence v3.0")


class UploadForm(SvForm):
    file = forms.FileField(label="CSV file", error_messages={"required": "Choose a CSV file"})


class CommitmentForm(SvForm):
    measure = _text("Measure", help_text="e.g. Local jobs, Apprenticeships, Spend with local VCSEs")
    unit = _text("Unit", max_length=100, help_text="e.g. FTE-years, starts, £")
    promised = _text("Amount promised over the contract", max_length=40, attrs=NUM)


class DeliveryFields(SvForm):
    period = _text("Period", max_length=20, attrs={"class": "govuk-input--width-10"},
                   help_text="e.g. 2024-25, 2025-Q1")
    amount = _text("Amount delivered", max_length=40, attrs=NUM, required=False)
    full_time = _text("Or, for jobs: full-time staff", max_length=20, attrs=PCT, required=False)
    part_time = _text("Part-time staff (counted at half)", max_length=20, attrs=PCT, required=False)
    shared_by = _text("Shared by how many contracts", max_length=10, required=False,
                      attrs={"inputmode": "numeric", "class": "govuk-input--width-3"},
                      help_text="A benefit shared by 3 contracts counts one third here; blank is 1")
    note = _text("Note", max_length=500, required=False)


class DeliveryEditForm(DeliveryFields):
    """What was delivered in one period, corrected (the commitment stays the same)."""


class DeliveryForm(DeliveryFields):
    commitment = forms.ChoiceField(label="Commitment")
    field_order = ["commitment"]

    def __init__(self, *args, commitments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commitment"].choices = [(str(c.pk), f"{c.measure} ({c.unit})") for c in commitments]


class OpenProxiesForm(SvForm):
    codes = forms.MultipleChoiceField(label="Open proxies to copy", widget=forms.CheckboxSelectMultiple,
                                      error_messages={"required": "Choose at least one open proxy to copy"})

    def __init__(self, *args, proxies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["codes"].choices = [
            (p["code"], f"{p['name']}: £{p['value']:,} per {p['unit']} ({p['price_basis']})") for p in proxies]
