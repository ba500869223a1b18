"""Forms for the financial risk page. They only collect the input; ``services`` checks it and writes,
and its ``RiskInputError`` is shown on the field it names."""

from django import forms

from commissioner.methods import supplier_risk
from commissioner.register.forms import GovukFormMixin
from commissioner.risk.models import FIGURES

MONEY = {"inputmode": "decimal", "class": "govuk-input--width-10"}


class RiskForm(GovukFormMixin, forms.Form):
    def add_service_error(self, error):
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


class AssessForm(RiskForm):
    annual_value = forms.CharField(label="Annual contract value (£)", max_length=40,
                                   widget=forms.TextInput(attrs=MONEY),
                                   help_text="The contract's value a year, in pounds")
    criticality = forms.ChoiceField(
        label="How critical is the service?", widget=forms.RadioSelect, initial="medium",
        choices=[("low", "Low: easy to replace or pause"), ("medium", "Medium"),
                 ("high", "High: residents would be harmed if it stopped")])
    mitigations = forms.MultipleChoiceField(
        label="Mitigations in place", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(k, v[0].upper() + v[1:]) for k, v in supplier_risk.MITIGATIONS.items()])
    lots = forms.IntegerField(label="Number of lots", min_value=1, max_value=1000, initial=1,
                              widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}),
                              error_messages={"invalid": "Enter the number of lots as a whole number",
                                              "min_value": "The number of lots must be 1 or more",
                                              "max_value": "The number of lots must be 1,000 or fewer"},
                              help_text="Exposure is measured on one lot when the contract is lotted")
    credit_score = forms.CharField(label="Credit score (0 to 100, optional)", required=False, max_length=10,
                                   widget=forms.TextInput(attrs={"inputmode": "decimal",
                                                                 "class": "govuk-input--width-4"}),
                                   help_text="Bands: 0-20 very high risk, 21-29 high, 30-50 moderate, 51-70 low, "
                                             "71-100 very low")
    audited_accounts_required = forms.BooleanField(
        label="The supplier is required by law to have audited accounts", required=False, initial=True,
        help_text="Small companies, most charities below the threshold and sole traders are not")


class AccountsForm(RiskForm):
    year = forms.CharField(label="Year the accounts end in", max_length=4,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}))
    audited = forms.BooleanField(label="These are audited accounts", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in FIGURES:
            self.fields[name] = forms.CharField(label=f"{label} (£)", required=False, max_length=40,
                                                widget=forms.TextInput(attrs=MONEY))
        self.order_fields(["year", *[n for n, _ in FIGURES], "audited"])


class UploadForm(RiskForm):
    file = forms.FileField(label="CSV file of accounts", error_messages={"required": "Choose a CSV file"},
                           help_text="Columns: provider_id or companies_house, year, then any of the figures "
                                     "(turnover, operating_profit, ...), and audited (yes or no)")
