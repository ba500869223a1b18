"""Sign-in with failed-attempt throttling stored in the database (LoginAttempt), not in a process.

After ``LOGIN_RATE_LIMIT`` failures for one username, or from one client address, within
``LOGIN_RATE_WINDOW_SECONDS``, further attempts are refused (HTTP 429) without checking the
password, until the oldest of those failures leaves the window. A successful sign-in clears the
username's count (not the address's).

The client address is REMOTE_ADDR. Behind trusted proxies set ``LOGIN_TRUSTED_PROXIES`` to how
many of them append to X-Forwarded-For, so the address the nearest one saw is used instead.
"""

import math
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.utils import timezone

from commissioner.orgs.models import LoginAttempt
from commissioner.register.forms import GovukFormMixin


def client_ip(request):
    proxies = int(getattr(settings, "LOGIN_TRUSTED_PROXIES", 0) or 0)
    if proxies > 0:
        chain = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(chain) >= proxies:
            return chain[-proxies][:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def seconds_locked(username, ip, now=None):
    """Seconds until another attempt is allowed for this username and address (0: allowed now)."""
    now = now or timezone.now()
    limit, window = settings.LOGIN_RATE_LIMIT, timedelta(seconds=settings.LOGIN_RATE_WINDOW_SECONDS)
    since = now - window
    failures = LoginAttempt.objects.filter(success=False, at__gte=since)
    scopes = []
    if username:
        last_ok = (LoginAttempt.objects.filter(username=username, success=True, at__gte=since)
                   .order_by("-at").values_list("at", flat=True).first())
        scopes.append(failures.filter(username=username, at__gt=last_ok or since))
    if ip:
        scopes.append(failures.filter(ip=ip))
    wait = 0.0
    for qs in scopes:
        recent = list(qs.order_by("-at").values_list("at", flat=True)[:limit])
        if len(recent) >= limit:
            wait = max(wait, (recent[-1] + window - now).total_seconds())
    return max(wait, 0.0)


def normalise_username(username):
    return (username or "").strip().lower()[:150]


class SignInForm(GovukFormMixin, AuthenticationForm):
    error_messages: ClassVar[dict] = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password",
        "throttled": "Too many failed attempts, try again in %(minutes)s",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.fields["username"].widget.attrs.update({"class": "govuk-input--width-20", "spellcheck": "false"})
        self.fields["password"].widget.attrs.update({"class": "govuk-input--width-20"})
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.retry_after = 0

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not (username and password):
            return self.cleaned_data  # the required-field errors say what is missing
        key, ip = normalise_username(username), client_ip(self.request) if self.request else ""
        wait = seconds_locked(key, ip)
        if wait:
            self.retry_after = math.ceil(wait)
            minutes = max(1, math.ceil(wait / 60))
            raise ValidationError(self.error_messages["throttled"], code="throttled",
                                  params={"minutes": f"{minutes} minute{'s' if minutes != 1 else ''}"})
        try:
            cleaned = super().clean()
        except ValidationError:
            LoginAttempt.objects.create(username=key, ip=ip, success=False)
            raise
        LoginAttempt.objects.create(username=key, ip=ip, success=True)
        return cleaned


class SignInView(LoginView):
    template_name = "core/sign_in.html"
    authentication_form = SignInForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response
