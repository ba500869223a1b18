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
