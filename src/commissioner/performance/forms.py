"""Forms for KPIs, returns, assessments, changes and events (GOV.UK markup via register.forms).

Forms only collect and type the input; ``services`` checks it and writes, and its
``PerformanceError`` is shown on the field it names.
"""

from django import forms

from commissioner.methods import procurement
from commissioner.performance.models import Assessment, ContractChange, ContractEvent, Direction, Exemption, Frequency
from commissioner.register.forms import GovukDateField, GovukFormMixin


class PerformanceForm(GovukFormMixin, forms.Form):
    def add_service_error(self, error):
        """Show a services.PerformanceError on its field (or the whole form)."""
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


class KpiForm(PerformanceForm):
    name = forms.CharField(label="Name", max_length=200)
    definition = forms.CharField(label="Definition", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text="What is measured and how, so that everyone counts it the same way")
    unit = forms.CharField(label="Unit", max_length=40,
                           help_text="For example %, visits, days. A unit cost starts with '£ per' (for example "
                                     "'£ per hour'), so that it can be compared with other contracts")
    target = forms.CharField(label="Target", max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    direction = forms.ChoiceField(label="Which way is better", choices=Direction.choices, widget=forms.RadioSelect,
                                  initial=Direction.HIGHER)
    tolerance = forms.CharField(label="Tolerance band", max_length=40, required=False, initial="0",
                                help_text="How far from the target still counts as slightly below, in the unit",
                                widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    frequency = forms.ChoiceField(label="How often results are due", choices=Frequency.choices,
                                  initial=Frequency.QUARTERLY, widget=forms.RadioSelect)
    weight = forms.CharField(label="Weight", max_length=20, initial="1", required=False,
                             help_text="How much this KPI counts in the proposed rating",
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    is_act_kpi = forms.BooleanField(label="This is one of the contract's Procurement Act KPIs (s.52)", required=False)


class ReturnForm(PerformanceForm):
    kpi = forms.ChoiceField(label="KPI")
    period = GovukDateField(label="Any day in the period", error_messages={"required": "Enter a day in the period"},
                            help_text="For example 15 5 2025 for the quarter from "
                                                                        "April to June 2025")
    value = forms.CharField(label="Result", max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    evidence = forms.CharField(label="Evidence", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="Where the figure comes from, and anything that explains it")

    def __init__(self, *args, kpis=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kpis = {str(k.pk): k for k in kpis}
        self.fields["kpi"].choices = [("", "Choose a KPI")] + [
            (str(k.pk), f"{k.name} ({k.unit}, {k.get_frequency_display().lower()})") for k in kpis]

    def clean_kpi(self):
        kpi = self.kpis.get(self.cleaned_data["kpi"])
        if kpi is None:
            raise forms.ValidationError("Choose a KPI")
        return kpi

    def clean_period(self):
        if self.cleaned_data.get("period") is None:
            raise forms.ValidationError("Enter a day in the period")
        return self.cleaned_data["period"]


class CorrectionForm(PerformanceForm):
    value = forms.CharField(label="Corrected result", max_length=40,
                            widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    evidence = forms.CharField(label="Evidence", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(label="Why is it corrected?", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class AssessmentForm(PerformanceForm):
    kind = forms.ChoiceField(label="Assessment", choices=Assessment.Kind.choices, widget=forms.RadioSelect,
                             initial=Assessment.Kind.PERIODIC)
    period_start = GovukDateField(label="Period from", error_messages={"required": "Enter the date the period starts"})
    period_end = GovukDateField(label="Period to", error_messages={"required": "Enter the date the period ends"})
    rating = forms.ChoiceField(label="Rating", widget=forms.RadioSelect,
                               choices=[(r, procurement.RATING_LABELS[r]) for r in procurement.RATINGS])
    reason = forms.CharField(label="Reason", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Needed when the rating is not the one proposed")

    def clean(self):
        data = super().clean()
        for name in ("period_start", "period_end"):
            if name in data and data[name] is None:
                self.add_error(name, f"Enter the {self.fields[name].label.lower()} date")
        return data


class ChangeForm(PerformanceForm):
    kind = forms.ChoiceField(label="What changes", choices=ContractChange.Kind.choices, widget=forms.RadioSelect)
    changed_on = GovukDateField(label="Date of the change", error_messages={"required": "Enter the date of the change"})
    value_change = forms.CharField(label="Change in value", max_length=40, required=False, initial="0",
                                   help_text="Negative for a reduction", widget=forms.TextInput(
                                       attrs={"inputmode": "decimal"}))
    term_change_days = forms.IntegerField(label="Change in term (days)", required=False, initial=0,
                                          help_text="Negative for a shorter term")
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 3}))
    linked_to = forms.ChoiceField(label="Linked to an earlier change", required=False,
                                  help_text="A change that could reasonably have been made together with this one: "
                                            "the two are added up (s.74)")

    def __init__(self, *args, changes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.changes = {str(c.pk): c for c in changes}
        self.fields["linked_to"].choices = [("", "Not linked")] + [
            (str(c.pk), f"{c.changed_on:%d %b %Y}: {c.get_kind_display()} ({c.reason[:60]})") for c in changes]

    def clean_linked_to(self):
        value = self.cleaned_data.get("linked_to")
        return self.changes.get(value) if value else None

    def clean_changed_on(self):
        if self.cleaned_data.get("changed_on") is None:
            raise forms.ValidationError("Enter the date of the change")
        return self.cleaned_data["changed_on"]


class EventForm(PerformanceForm):
    kind = forms.ChoiceField(label="Event", choices=ContractEvent.Kind.choices, widget=forms.RadioSelect)
    day = GovukDateField(label="Date", error_messages={"required": "Enter the date"})
    extension_months = forms.IntegerField(label="Length of the extension (months)", required=False, min_value=0,
                                          max_value=600)
    notice_days = forms.IntegerField(label="Notice period (days)", required=False, min_value=0, max_value=3650)
    note = forms.CharField(label="Note", required=False, max_length=500)

    def clean_day(self):
        if self.cleaned_data.get("day") is None:
            raise forms.ValidationError("Enter the date")
        return self.cleaned_data["day"]


class ExemptionForm(PerformanceForm):
    kind = forms.ChoiceField(label="Why no KPIs are needed (s.52)", widget=forms.RadioSelect,
                             choices=[("", "It is not exempt"), *Exemption.Kind.choices], required=False)
    note = forms.CharField(label="Note", required=False, max_length=500)
