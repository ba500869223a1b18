"""Forms for the participation pages. They collect text; ``services`` checks it and its errors are shown on
the field they name. The ballot form is built from the exercise's projects and ballot type."""

from django import forms

from commissioner.participation.models import Exercise
from commissioner.register.forms import GovukDateField, GovukFormMixin

NUM = {"inputmode": "decimal", "class": "govuk-input--width-10"}
WHOLE = {"inputmode": "numeric", "class": "govuk-input--width-4"}


def _text(label, max_length=300, required=False, attrs=None, help_text=""):
    return forms.CharField(label=label, max_length=max_length + 20, required=required, help_text=help_text,
                           widget=forms.TextInput(attrs=attrs or {"class": "govuk-input--width-30"}))


class PForm(GovukFormMixin, forms.Form):
    def add_service_error(self, error):
        """Every problem the service found (``errors``: a form shows them all at once), each on its field."""
        for field, message in getattr(error, "errors", None) or [(error.field, error.message)]:
            self.add_error(field if field in self.fields else None, message)


BUDGET_BALLOTS = [(k, v) for k, v in Exercise.BallotType.choices if k in ("approval", "choose-1", "cumulative",
                                                                          "ordinal")]
PRIORITY_BALLOTS = [("ordinal", "Ranking: rank the priorities (Borda points)"),
                    ("weights", "Weights: a weight for each priority (mean weight)")]


class ExerciseForm(PForm):
    kind = forms.ChoiceField(label="Kind of exercise", choices=Exercise.Kind.choices, widget=forms.RadioSelect,
                             initial="budget")
    title = _text("Title")
    description = forms.CharField(label="Description", required=False, max_length=10_000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    service_area = _text("Service area (priority setting)", max_length=200,
                         help_text="For example Adult social care: the options appraisal finds the result by it")
    budget = _text("Budget, in pounds", max_length=40, attrs=NUM, help_text="Participatory budgeting only")
    ballot_type = forms.ChoiceField(label="Ballot type", choices=BUDGET_BALLOTS + [("weights", PRIORITY_BALLOTS[1][1])],
                                    widget=forms.RadioSelect, initial="approval",
                                    help_text="Priority setting: ordinal (ranking) or weights")
    min_choices = _text("Fewest choices", max_length=10, attrs=WHOLE, help_text="Blank: at least one")
    max_choices = _text("Most choices", max_length=10, attrs=WHOLE,
                        help_text="Approval and ordinal ballots; blank: no limit")
    points_total = _text("Points each voter shares out (cumulative)", max_length=10, attrs=WHOLE)
    max_points = _text("Highest weight (weights)", max_length=10, attrs=WHOLE, help_text="Blank: 10")
    opens_on = GovukDateField(label="Voting opens on", required=False, help_text="For example 1 6 2026")
    closes_on = GovukDateField(label="Voting closes at the end of", required=False, help_text="For example 30 6 2026")
    eligible_areas = _text("Who may vote: areas", max_length=2000,
                           help_text="Areas separated by commas; blank: anyone")
    minimum_age = _text("Who may vote: minimum age", max_length=10, attrs=WHOLE, help_text="Blank: any age")
    rule = forms.ChoiceField(label="Counting rule", choices=Exercise.Rule.choices, widget=forms.RadioSelect,
                             initial="greedy")
    threshold = _text("Minimum support (votes, or points)", max_length=20, attrs=NUM,
                      help_text="Greedy with a minimum support only")
    tie_break = forms.ChoiceField(label="Ties broken by", choices=Exercise.TieBreak.choices, initial="cost,id")
    verification = forms.ChoiceField(label="How voters prove who they are", choices=Exercise.Verification.choices,
                                     widget=forms.RadioSelect, initial="code")


class RuleForm(PForm):
    rule = ExerciseForm.base_fields["rule"]
    threshold = ExerciseForm.base_fields["threshold"]
    tie_break = ExerciseForm.base_fields["tie_break"]


class ProjectForm(PForm):
    prefix = "project"
    title = _text("Name")
    code = _text("Project id (optional)", max_length=100, attrs={"class": "govuk-input--width-10"},
                 help_text="Letters, digits, '.', '-' or '_'; blank: the next number")
    cost = _text("Cost, in pounds", max_length=40, attrs=NUM)
    description = forms.CharField(label="Description", required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    category = _text("Category", max_length=200)
    area = _text("Area", max_length=200)

    def __init__(self, *args, priorities=False, **kwargs):
        super().__init__(*args, **kwargs)
        if priorities:
            del self.fields["cost"]
            self.fields["title"].label = "Priority"


class CodesForm(PForm):
    prefix = "codes"
    count = _text("Number of codes", max_length=10, attrs=WHOLE, required=True,
                  help_text="Codes are shown once, in the CSV file: only their hashes are kept")


class ImportForm(PForm):
    file = forms.FileField(label="A pabulib .pb file", error_messages={"required": "Choose a .pb file"})


class EmailForm(PForm):
    email = forms.CharField(label="Email address", max_length=320, required=False,
                            widget=forms.EmailInput(attrs={"class": "govuk-input--width-30", "autocomplete": "email",
                                                           "spellcheck": "false"}))


class ReceiptForm(PForm):
    receipt = _text("Your receipt", max_length=40, attrs={"class": "govuk-input--width-20", "spellcheck": "false"},
                    help_text="As shown when you voted, for example ABCD-EFGH-JKLM-NPQR")


class BallotForm(PForm):
    """The ballot: checkboxes (approval), radios (choose one), a number per project (cumulative points, weights,
    ranks), then the declared area and age, and the code."""

    nonce = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, exercise, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.exercise, self.projects = exercise, projects
        kind = exercise.ballot_type
        labels = [(p.code, p.title + (f" (£{p.cost:,.0f})" if p.cost is not None else "")) for p in projects]
        self.hints = {p.code: project_hint(p) for p in projects}
        self.per_project = []
        if kind == "approval":
            self.fields["choices"] = forms.MultipleChoiceField(
                label="Your choices", choices=labels, required=False, widget=forms.CheckboxSelectMultiple)
        elif kind == "choose-1":
            self.fields["choices"] = forms.ChoiceField(label="Your choice", choices=labels, required=False,
                                                       widget=forms.RadioSelect)
        else:
            prefix = "rank" if kind == "ordinal" else "points"
            for p in projects:
                name = f"{prefix}-{p.code}"
                self.fields[name] = forms.CharField(label=labels[projects.index(p)][1], required=False,
                                                    max_length=12, widget=forms.TextInput(attrs=WHOLE),
                                                    help_text=self.hints[p.code])
                self.per_project.append(name)
        if exercise.eligible_areas:
            self.fields["area"] = forms.ChoiceField(
                label="The area you live in", required=False,
                choices=[("", "Choose your area")] + [(a, a) for a in exercise.eligible_areas])
        if exercise.minimum_age is not None:
            self.fields["age"] = _text("Your age", max_length=5, attrs=WHOLE,
                                       help_text=f"You must be {exercise.minimum_age} or older to vote")
        self.fields["code"] = _text("Your voting code" if exercise.verification == "code"
                                    else "The code we emailed you", max_length=40,
                                    attrs={"class": "govuk-input--width-20", "spellcheck": "false",
                                           "autocomplete": "one-time-code"},
                                    help_text="From your letter, for example ABCD-EFGH-JKLM"
                                    if exercise.verification == "code" else "It works once")

    def ballot_kwargs(self):
        d = self.cleaned_data
        kind = self.exercise.ballot_type
        out = {"area": d.get("area"), "age": d.get("age"), "code": d.get("code"), "nonce": d.get("nonce")}
        if kind == "approval":
            out["choices"] = d.get("choices") or []
        elif kind == "choose-1":
            out["choices"] = [d["choices"]] if d.get("choices") else []
        elif kind == "ordinal":
            out["ranks"] = {n.split("-", 1)[1]: d.get(n) for n in self.per_project if str(d.get(n) or "").strip()}
        else:
            out["points"] = {n.split("-", 1)[1]: d.get(n) for n in self.per_project if str(d.get(n) or "").strip()}
        return out

    @property
    def choice_fields(self):
        return [self[n] for n in self.per_project]

    @property
    def choice_options(self):
        """The checkboxes or radios of an approval or choose-one ballot, each with its project's hint."""
        if "choices" not in self.fields:
            return []
        return [{"option": option, "hint": self.hints.get(option.data["value"], "")} for option in self["choices"]]


def project_hint(project):
    """What a voter reads under a project's name: its description and area."""
    description = " ".join((project.description or "").split())
    parts = [description] if description else []
    if project.area:
        parts.append(f"Area: {project.area}.")
    return " ".join(parts)
