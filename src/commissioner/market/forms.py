"""Forms for loading spend files. They only collect the input; ``services`` checks it and writes."""

import json

from django import forms

from commissioner.market.layouts import FIELDS, REQUIRED
from commissioner.register.forms import GovukFormMixin


class UploadForm(GovukFormMixin, forms.Form):
    file = forms.FileField(label="Spend file (CSV)", error_messages={"required": "Choose a CSV file"},
                           help_text="A Transparency Code 'spend over £500' (or £250) file, as the council "
                                     "publishes it: UTF-8 or Windows-1252, with or without a header row")
    is_private = forms.BooleanField(label="This file is not published: keep it private to the council",
                                    required=False)

    def add_service_error(self, error):
        self.add_error("file", error.message)


class MappingForm(UploadForm):
    """The upload form again, with a column chosen for each field (for a layout we do not know)."""

    def __init__(self, *args, headers=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "Not in this file")] + [
            (str(i + 1), f"Column {i + 1}: {h.strip()[:60] or '(blank)'}") for i, h in enumerate(headers)]
        for name, label in FIELDS.items():
            self.fields[f"map_{name}"] = forms.ChoiceField(
                label=label, choices=choices, required=name in REQUIRED,
                error_messages={"required": f"Choose the column that holds the {label.lower()}",
                                "invalid_choice": "Choose one of the file's columns"},
                widget=forms.Select(attrs={"class": "govuk-select"}))
        self.fields["headers"] = forms.CharField(widget=forms.HiddenInput, required=False,
                                                 initial=json.dumps(list(headers)))

    def mapping(self):
        return {name: int(self.cleaned_data[f"map_{name}"]) for name in FIELDS
                if self.cleaned_data.get(f"map_{name}")}
