"""Forms for the appraisal pages. They only collect the input; ``services`` checks it and writes, and its
``AppraisalInputError`` is shown on the field it names."""

from django import forms

from commissioner.appraisal.models import OPTION_KINDS, Appraisal
from commissioner.methods import options_appraisal as calc
from commissioner.methods.appraisal import OPTIMISM_BIAS
from commissioner.register.forms import GovukFormMixin

NUMBER = {"inputmode": "decimal", "class": "govuk-input--width-5"}
OB_HINT = ("Project types and their shares of the cost, e.g. 'outsourcing 100' or 'non_standard_buildings 30, "
           "standard_buildings 70'. Types: " + ", ".join(OPTIMISM_BIAS) + ". Leave blank for no uplift.")


class AppraisalForm(GovukFormMixin, forms.Form):
    def add_service_error(self, error):
        base = error.field.split(" (")[0]
        if base in self.fields:
            self.add_error(base, error.message if base == error.field else f"{error.field}: {error.message}")
        else:
            self.add_error(None, f"{error.field}: {error.message}")


class NewAppraisalForm(AppraisalForm):
    title = forms.CharField(label="Title", max_length=200)
    service = forms.CharField(label="Service", max_length=200, required=False)
    horizon = forms.CharField(label="Years after year 0", initial="10", max_length=6,
                              widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}),
                              help_text="1 to 300 years")
    bound = forms.ChoiceField(label="Optimism bias", choices=Appraisal.Bound.choices, initial="upper",
                              widget=forms.RadioSelect)
    discounting = forms.ChoiceField(label="Discounting", choices=Appraisal.Discounting.choices, initial="standard",
                                    widget=forms.RadioSelect)
    rate = forms.CharField(label="Single rate, % a year (only for a single rate)", required=False, max_length=12,
                           widget=forms.TextInput(attrs=NUMBER))
    contracts = forms.CharField(label="Contracts in the register (OCIDs, one a line, optional)", required=False,
                                widget=forms.Textarea(attrs={"rows": 2, "class": "govuk-textarea"}),
                                help_text="A business-as-usual option takes its costs from their annual values")


class SettingsForm(NewAppraisalForm):
    """The appraisal's settings after it was opened (the new-appraisal form, plus the description and the Monte
    Carlo run)."""

    description = forms.CharField(label="Description", required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3, "class": "govuk-textarea"}))
    draws = forms.CharField(label="Monte Carlo draws", max_length=8, widget=forms.TextInput(
        attrs={"inputmode": "numeric", "class": "govuk-input--width-5"}), help_text="1,000 to 200,000")
    seed = forms.CharField(label="Monte Carlo seed", max_length=12, widget=forms.TextInput(
        attrs={"inputmode": "numeric", "class": "govuk-input--width-10"}),
        help_text="Any whole number from 0: the same seed gives the same answer every time")

    priorities_area = forms.ChoiceField(
        label="Residents' priorities to show", required=False, widget=forms.Select(attrs={"class": "govuk-select"}),
        help_text="A priority-setting exercise of the council, by its service area: its result is shown with the "
                  "appraisal and in the report for members")

    field_order = ["title", "service", "description", "horizon", "bound", "discounting", "rate", "contracts",
                   "priorities_area", "draws", "seed"]

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        current = (self.initial or {}).get("priorities_area") or ""
        choices = [("", "The exercise for the appraisal's service, if there is one")]
        choices += [(a, a) for a in sorted(set(areas) | ({current} if current else set()))]
        self.fields["priorities_area"].choices = choices
        self.fields["contracts"].label = "Contracts in the register (OCIDs, one a line)"
        self.fields["contracts"].help_text = "Remove a line to unlink a contract"


class OptionForm(AppraisalForm):
    name = forms.CharField(label="Name", max_length=120)
    kind = forms.ChoiceField(label="Kind of option", choices=OPTION_KINDS, widget=forms.Select(
        attrs={"class": "govuk-select"}))
    partners = forms.CharField(label="Partners (named councils, for a shared service)", required=False,
                               max_length=300)
    description = forms.CharField(label="Description", required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 2, "class": "govuk-textarea"}))
    costs = forms.CharField(label="Costs by year (£), year 0 first", required=False, widget=forms.Textarea(
        attrs={"rows": 2, "class": "govuk-textarea"}),
        help_text="Separate the years with a comma and a space or new lines, e.g. '1000000, 150000, 150000'. A "
                  "blank year is missing. Leave all blank for business as usual to use the register")
    benefits = forms.CharField(label="Benefits by year (£), year 0 first", required=False, widget=forms.Textarea(
        attrs={"rows": 2, "class": "govuk-textarea"}))
    ob_shares = forms.CharField(label="Optimism bias: project types and cost shares", required=False,
                                max_length=300, help_text=OB_HINT)
    cost_low = forms.CharField(label="Costs low (% of likely)", initial="90", max_length=10,
                               widget=forms.TextInput(attrs=NUMBER))
    cost_high = forms.CharField(label="Costs high (% of likely)", initial="130", max_length=10,
                                widget=forms.TextInput(attrs=NUMBER))
    benefit_low = forms.CharField(label="Benefits low (% of likely)", initial="70", max_length=10,
                                  widget=forms.TextInput(attrs=NUMBER))
    benefit_high = forms.CharField(label="Benefits high (% of likely)", initial="110", max_length=10,
                                   widget=forms.TextInput(attrs=NUMBER))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in calc.CRITERIA:
            self.fields[f"score_{name}"] = forms.CharField(label=f"Score: {label.lower()} (0 to 100)",
                                                           required=False, max_length=10,
                                                           widget=forms.TextInput(attrs=NUMBER))


class WeightsForm(AppraisalForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in calc.CRITERIA:
            self.fields[f"weight_{name}"] = forms.CharField(label=label, required=False, max_length=12,
                                                            widget=forms.TextInput(attrs=NUMBER))
