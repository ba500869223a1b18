"""Forms for the feedback pages. They collect the input; ``services`` checks it and writes, and its
``FeedbackInputError`` is shown on the field it names."""

import secrets

from django import forms

from commissioner.feedback import services
from commissioner.feedback.models import BlockedTerm, Change, Recommend
from commissioner.register.cpv import CHOICES as CPV_CHOICES
from commissioner.register.forms import GovukFormMixin

FIELD_FOR_ERROR = {"happened": "month", "subject": None, "provider": None, "story": None, "token": None,
                   "action": "action", "kind": "kind"}


class FeedbackForm(GovukFormMixin, forms.Form):
    def add_service_error(self, error, only_new=False):
        """Every problem of a ``services.FeedbackInputError`` on the field it names (``only_new``: only on fields
        with no error yet, when the form's own checks have found some)."""
        for name, message in error.errors:
            field = self._field_for(name, error)
            if field is not None and field not in self.fields:
                field = None
            if only_new and field is not None and field in self.errors:
                continue
            if only_new and field is None and message in self.non_field_errors():
                continue
            self.add_error(field, message)

    def _field_for(self, name, error):
        return FIELD_FOR_ERROR.get(name, name)


class SearchForm(FeedbackForm):
    q = forms.CharField(label="Service or provider name", required=False, max_length=100,
                        help_text="Services whose title has all the words you type, or that a provider of that "
                                  "name delivers; the exact phrase comes first. For example: home care, library, "
                                  "waste, or a provider's name")
    category = forms.ChoiceField(label="Category", required=False,
                                 choices=[("", "Any category"), *[(k, f"{k} {v}") for k, v in CPV_CHOICES]])
    postcode = forms.CharField(label="Provider's postcode area", required=False, max_length=8,
                               error_messages={"max_length": "Enter a postcode area like DN, a district like DN1, "
                                                             "or a full postcode (8 characters or fewer)"},
                               widget=forms.TextInput(attrs={"class": "govuk-input--width-5", "autocomplete": "off"}),
                               help_text="An area like DN, a district like DN1, or a full postcode")


RATINGS = [(str(i), label) for i, label in ((5, "5: very good"), (4, "4: good"), (3, "3: neither good nor poor"),
                                            (2, "2: poor"), (1, "1: very poor"))]
LISTENED = [(str(i), label) for i, label in ((5, "5: completely"), (4, "4: mostly"), (3, "3: partly"),
                                             (2, "2: a little"), (1, "1: not at all"))]


class StoryForm(FeedbackForm):
    title = forms.CharField(label="Title of your story", max_length=200,
                            error_messages={"required": "Enter a short title for your story"},
                            help_text="A few words, like 'Friendly staff but long wait'")
    text = forms.CharField(label="Your story", max_length=10000, widget=forms.Textarea(attrs={"rows": 8}),
                           error_messages={"required": "Tell us what happened"},
                           help_text="What happened, what went well, what could be better. Do not include "
                                     "names, phone numbers, email addresses or addresses: stories with them are "
                                     "held and the details removed before publishing.")
    overall = forms.ChoiceField(label="Overall, how good was the service?", choices=RATINGS, widget=forms.RadioSelect,
                                error_messages={"required": "Select how good the service was overall"})
    recommend = forms.ChoiceField(label="Would you recommend it to someone in your situation?",
                                  choices=Recommend.choices, widget=forms.RadioSelect,
                                  error_messages={"required": "Select whether you would recommend the service"})
    listened = forms.ChoiceField(label="Did you feel listened to?", choices=LISTENED, widget=forms.RadioSelect,
                                 error_messages={"required": "Select how far you felt listened to"})
    # The month and year are one GOV.UK date input: one message for the date (on the first part in error, so the
    # error summary links there), and every part in error marked (``date_parts``). services.clean_story checks them.
    month = forms.CharField(label="Month", required=False,
                            widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                          "class": "govuk-date-input__input govuk-input--width-2"}))
    year = forms.CharField(label="Year", required=False,
                           widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                         "class": "govuk-date-input__input govuk-input--width-4"}))
    anonymous = forms.BooleanField(label="Show my story as from an \"Anonymous resident\"", required=False,
                                   help_text="Otherwise the name in your account settings is shown (or "
                                             "\"Anonymous resident\" if you have not given one)")
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.date_parts = ()
        if not self.is_bound:
            self.initial.setdefault("submission_key", secrets.token_urlsafe(16))

    def _field_for(self, name, error):
        if name == "happened":
            self.date_parts = error.date_parts or ("month", "year")
            return self.date_parts[0]
        return super()._field_for(name, error)

    @property
    def date_error(self):
        """The one message for the date (month and year), if any."""
        for name in ("month", "year"):
            if self.errors.get(name):
                return self.errors[name][0]
        return ""

    def clean(self):
        """Every problem at once: the service's checks run on what was typed, and name what the form's own checks
        (a missing answer) have not already named."""
        data = super().clean()
        raw = {name: self.data.get(self.add_prefix(name)) for name in
               ("title", "text", "overall", "recommend", "listened", "month", "year")}
        try:
            services.clean_story(**raw)
        except services.FeedbackInputError as e:
            self.add_service_error(e, only_new=True)
        return data


class RegisterForm(FeedbackForm):
    email = forms.CharField(label="Email address", max_length=200,
                            widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
                            error_messages={"required": "Enter your email address"},
                            help_text="We send a link to confirm it. It is never shown with your stories.")
    display_name = forms.CharField(label="Name shown with your stories (optional)", required=False, max_length=60,
                                   widget=forms.TextInput(attrs={"class": "govuk-input--width-20"}),
                                   help_text="For example your first name. Leave it blank to appear as "
                                             "\"Anonymous resident\".")
    password = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               error_messages={"required": "Enter a password"},
                               help_text="At least 12 characters; not a common password")
    password_again = forms.CharField(label="Password again",
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                     error_messages={"required": "Enter the password again"})
    anonymous_by_default = forms.BooleanField(label="Show all my stories as from an \"Anonymous resident\"",
                                              required=False)

    def clean(self):
        """Every problem at once: the form's (missing answers, passwords that differ) and the service's (the
        email address, the name, the password's strength) for what was typed."""
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", "The passwords do not match")
        given = {name: (None if name in self.errors or not data.get(name) and name != "display_name"
                        else data.get(name, "")) for name in ("email", "password", "display_name")}
        problems = services.registration_problems(**given)
        if problems:
            self.add_service_error(services.FeedbackInputError(*problems[0], errors=problems), only_new=True)
        return data


class PreferencesForm(FeedbackForm):
    display_name = forms.CharField(label="Name shown with your stories", required=False, max_length=60,
                                   widget=forms.TextInput(attrs={"class": "govuk-input--width-20"}),
                                   help_text="Leave it blank to appear as \"Anonymous resident\"")
    anonymous_by_default = forms.BooleanField(label="Show new stories as from an \"Anonymous resident\"",
                                              required=False)


class EraseForm(FeedbackForm):
    confirm = forms.BooleanField(label="I understand: my account is deleted, and my stories stay, shown as from an "
                                       "\"Anonymous resident\"",
                                 error_messages={"required": "Tick the box to confirm you want to erase your account"})


class ReportForm(FeedbackForm):
    reason = forms.CharField(label="What is wrong with this story? (optional)", required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ReplyForm(FeedbackForm):
    text = forms.CharField(label="Your public reply", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
                           error_messages={"required": "Enter your reply"})
    change = forms.ChoiceField(label="Is a change coming?", choices=Change.choices, widget=forms.RadioSelect,
                               required=False, initial="")


ACTION_LABELS = {
    "held": {"publish": "Publish as it is", "redact": "Publish with personal data removed (the text below)",
             "reject": "Do not publish (give the reason: the author sees it)"},
    "hidden": {"publish": "Publish it again: the reports were not justified",
               "redact": "Publish it again with personal data removed (the text below)",
               "reject": "Do not publish (give the reason: the author sees it)"},
    "published": {"redact": "Remove personal data (the text below) and keep it published",
                  "hide": "Hide it until it is reviewed (give the reason: the author sees it)",
                  "reject": "Unpublish it (give the reason: the author sees it)"},
}


class ModerateForm(FeedbackForm):
    """A moderator's decision on a story: only the decisions that apply to the story as it is now
    (``services.actions_for``)."""

    action = forms.ChoiceField(label="Decision", widget=forms.RadioSelect, choices=[],
                               error_messages={"required": "Choose a decision",
                                               "invalid_choice": "Choose one of the decisions listed"})
    text = forms.CharField(label="Text to publish, with personal data removed", required=False, max_length=10000,
                           widget=forms.Textarea(attrs={"rows": 5}),
                           help_text="Only used to remove personal data; the removed text is not kept anywhere")
    note = forms.CharField(label="Reason (kept in the moderation history)", required=False, max_length=500,
                           help_text="Needed to hide or not publish a story: the author sees it. Say why, never quote "
                                     "the personal data you removed")

    def __init__(self, *args, story=None, **kwargs):
        super().__init__(*args, **kwargs)
        status = story.status if story is not None else "held"
        labels = ACTION_LABELS.get(status, {})
        allowed = services.actions_for(story) if story is not None else tuple(labels)
        self.fields["action"].choices = [(a, labels.get(a, services.ACTIONS[a])) for a in allowed]
        self.fields["action"].label = {"published": "What to do with this published story",
                                       "hidden": "Review this hidden story"}.get(status, "Decision")


class BlockForm(FeedbackForm):
    kind = forms.ChoiceField(label="Block", choices=BlockedTerm.Kind.choices, widget=forms.RadioSelect,
                             initial="word")
    value = forms.CharField(label="Word, phrase or email address", max_length=200,
                            error_messages={"required": "Enter a word, phrase or email address to block"},
                            help_text="An email address, or @domain to block a whole domain")
