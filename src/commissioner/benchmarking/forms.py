from django import forms

from commissioner.register.forms import GovukFormMixin

MAX_BYTES = 2 * 1024 * 1024


class UploadForm(GovukFormMixin, forms.Form):
    file = forms.FileField(
        label="CSV file of values", allow_empty_file=True,
        help_text="A CSV file of at most 2 MB with the columns organisation code, period and value",
        error_messages={"required": "Select a CSV file of values", "invalid": "Select a CSV file of values",
                        "missing": "Select a CSV file of values"},
        widget=forms.FileInput(attrs={"class": "govuk-file-upload", "accept": ".csv,text/csv,text/plain"}))

    def mark_error(self):
        widget = self.fields["file"].widget
        widget.attrs["class"] = "govuk-file-upload govuk-file-upload--error"
        widget.attrs["aria-describedby"] = "id_file_helptext id_file_error"


# Local value measures: the forms only carry text; ``services`` validates it (BenchmarkError names the field,
# and the view puts the message on that field), so the page and the API give the same messages.

POLARITY_CHOICES = [("higher", "Higher is better"), ("lower", "Lower is better"),
                    ("none", "Neither (a context measure)")]


class OrganisationChoiceMixin:
    """An ``organisation`` select when the user acts for more than one council (else it is that council)."""

    def add_organisation(self, organisations, label):
        organisations = list(organisations)
        self.organisations = {o.slug: o for o in organisations}
        if len(organisations) > 1:
            self.fields["organisation"] = forms.ChoiceField(
                label=label, required=False, choices=[(o.slug, o.name) for o in organisations])

    def chosen_organisation(self):
        if len(self.organisations) == 1:
            return next(iter(self.organisations.values()))
        return self.organisations.get(self.cleaned_data.get("organisation") or "")


class LocalMeasureForm(OrganisationChoiceMixin, GovukFormMixin, forms.Form):
    name = forms.CharField(label="Name", required=False, help_text="Up to 300 characters",
                           widget=forms.TextInput(attrs={"spellcheck": "true"}))
    definition = forms.CharField(label="Definition", required=False, widget=forms.Textarea(attrs={"rows": 5}),
                                 help_text="What is counted and how it is worked out, so that another council "
                                           "gets the same figure from the same facts")
    unit = forms.CharField(label="Unit", required=False, help_text="For example %, £ per resident, or starts per "
                                                                   "£1m of contract spend",
                           widget=forms.TextInput(attrs={"class": "govuk-input--width-20"}))
    polarity = forms.ChoiceField(label="Which way is better?", required=False, choices=POLARITY_CHOICES,
                                 widget=forms.RadioSelect)
    collection = forms.CharField(label="How it is collected", required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text="Where the figures come from, who collects them and how often")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class ValueForm(OrganisationChoiceMixin, GovukFormMixin, forms.Form):
    period = forms.CharField(label="Period", required=False,
                             help_text="A financial year such as 2023-24 (2023/24 and FY2024 are read the same), or "
                                       "a calendar year such as 2024",
                             widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}))
    value = forms.CharField(label="Value", required=False, help_text="A number in the measure's unit",
                            widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "decimal"}))
    note = forms.CharField(label="Note (optional)", required=False, help_text="Up to 200 characters",
                           widget=forms.TextInput())
