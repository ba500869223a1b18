"""Forms for loading spend files and mapping spend categories to CPV divisions. They only collect the
input; ``services`` checks it and writes."""

import hashlib
import json

from django import forms

from commissioner.market.layouts import FIELDS, REQUIRED
from commissioner.register.cpv import CHOICES as CPV_CHOICES
from commissioner.register.forms import GovukFormMixin


class UploadForm(GovukFormMixin, forms.Form):
    file = forms.FileField(label="Spend file (CSV)", required=False,
                           help_text="A Transparency Code 'spend over £500' (or £250) file, as the council "
                                     "publishes it: UTF-8 or Windows-1252, with or without a header row")
    is_private = forms.BooleanField(label="This file is not published: keep it private to the council",
                                    required=False)
    # The SHA-256 of a file chosen at an earlier step and kept on the server (services.keep_upload).
    kept = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    confirm_other_council = forms.BooleanField(required=False, label="I have checked: load it for this council")
    asked = forms.CharField(widget=forms.HiddenInput, required=False, max_length=1)  # "1": the question was put

    def __init__(self, *args, kept_name="", ask_confirm=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_name = kept_name
        if kept_name:
            self.fields["file"].label = "Spend file (CSV): optional"
            self.fields["file"].help_text = (f"We are holding {kept_name}, the file you chose: choose a file only to "
                                             "load a different one")
        if ask_confirm or (self.is_bound and self.data.get("asked") == "1"):
            self.fields["asked"].initial = "1"
            self.fields["confirm_other_council"].help_text = "Only if you are sure this file is the council's own"
        else:
            del self.fields["confirm_other_council"]

    def ask_to_confirm(self, message):
        """Put the question (another council's file?) on the form, as an error on its checkbox."""
        if not hasattr(self, "cleaned_data"):
            self.cleaned_data = {}
        self.add_error("confirm_other_council", message)

    def clean(self):
        data = super().clean()
        data.setdefault("confirm_other_council", False)
        if not data.get("file") and not data.get("kept") and "file" not in self.errors:
            self.add_error("file", "Choose a CSV file")
        return data

    def add_service_error(self, error):
        self.add_error(error.field if error.field in self.fields and error.field != "kept" else "file",
                       error.message)


class MappingForm(UploadForm):
    """The upload form again, with a column chosen for each field (for a layout we do not know)."""

    def __init__(self, *args, headers=(), guesses=None, **kwargs):
        super().__init__(*args, **kwargs)
        guesses = guesses or {}
        choices = [("", "Not in this file")] + [
            (str(i + 1), f"Column {i + 1}: {h.strip()[:60] or '(blank)'}") for i, h in enumerate(headers)]
        for name, label in FIELDS.items():
            self.fields[f"map_{name}"] = forms.ChoiceField(
                label=label, choices=choices, required=name in REQUIRED,
                error_messages={"required": f"Choose the column that holds the {label.lower()}",
                                "invalid_choice": "Choose one of the file's columns"},
                initial=str(guesses[name]) if name in guesses else "",
                widget=forms.Select(attrs={"class": "govuk-select"}))
        self.fields["headers"] = forms.CharField(widget=forms.HiddenInput, required=False,
                                                 initial=json.dumps(list(headers)))

    def mapping(self):
        return {name: int(self.cleaned_data[f"map_{name}"]) for name in FIELDS
                if self.cleaned_data.get(f"map_{name}")}


def category_field_name(key: str) -> str:
    """A stable form field name for a category key (the key itself may hold any character)."""
    return "cpv_" + hashlib.sha256(key.encode()).hexdigest()[:12]


class CategoryMappingForm(GovukFormMixin, forms.Form):
    """One CPV division choice per spend category on the page (``rows`` from ``queries.spend_categories``)."""

    def __init__(self, *args, rows=(), suggest=False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "Unmapped")] + [(k, f"{k} {v}") for k, v in CPV_CHOICES]
        self.rows = list(rows)
        for row in self.rows:
            name = category_field_name(row["key"])
            row["field_name"] = name
            hint = f"£{row['spend']:,.0f} in {row['payments']:,} payments"
            if len(row["spellings"]) > 1:
                hint += "; also written " + ", ".join(f"“{s}”" for s in row["spellings"][1:4])
            if row["suggested"]:
                hint += (f". Suggested: {row['suggested']} {row['suggested_name']} (from the word "
                         f"“{row['keyword']}”)")
            else:
                hint += ". No suggestion: no keyword we know"
            self.fields[name] = forms.ChoiceField(
                label=row["category"], choices=choices, required=False, help_text=hint,
                initial=row["division"] or (row["suggested"] if suggest else ""),
                error_messages={"invalid_choice": f"Choose a CPV division for “{row['category'][:80]}” from the list"},
                widget=forms.Select(attrs={"class": "govuk-select"}))

    def choices_by_category(self):
        """{category text: division or ''} for the service."""
        return {row["category"]: self.cleaned_data.get(row["field_name"], "") for row in self.rows}

    def bound_rows(self):
        return [(row, self[row["field_name"]]) for row in self.rows]
