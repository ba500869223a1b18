"""Forms for the organisation pages."""

from django import forms

from commissioner.orgs.models import Organisation


class OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.get_kind_display().lower()})"


class AliasCorrectionForm(forms.Form):
    """Choose the organisation a buyer name really belongs to."""

    organisation = OrganisationChoiceField(
        queryset=Organisation.objects.order_by("name"), to_field_name="slug",
        error_messages={"required": "Select the organisation this name belongs to",
                        "invalid_choice": "Select an organisation from the list"},
    )

    def __init__(self, *args, alias, **kwargs):
        kwargs.setdefault("prefix", f"alias-{alias.pk}")
        super().__init__(*args, **kwargs)
        self.alias = alias
        self.fields["organisation"].initial = alias.organisation.slug

    def clean_organisation(self):
        organisation = self.cleaned_data["organisation"]
        if organisation.pk == self.alias.organisation_id:
            raise forms.ValidationError("Select a different organisation from the one it belongs to now")
        return organisation
