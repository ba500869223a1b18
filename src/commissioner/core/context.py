from functools import cached_property

from django.conf import settings


def site(request):
    return {"SITE_NAME": settings.SITE_NAME}


class Nav:
    """Which links of the navigation apply to the signed-in user: the one place that decides (base.html reads it).

    Everyone: the public pages (contracts, organisations, benchmarking, providers, market, feedback,
    participation). Members of an organisation and superusers: performance, appraisals, social value and the
    audit trail. Provider users: performance (their contracts' returns). Residents (a resident profile): their
    feedback account. Worked out only when the template asks (no queries for anonymous visitors)."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def signed_in(self):
        return self.user is not None and self.user.is_authenticated

    @cached_property
    def member(self):
        """A member of an organisation, or a superuser."""
        from commissioner.orgs import tenancy

        return self.signed_in and (self.user.is_superuser or bool(tenancy.member_org_ids(self.user)))

    @cached_property
    def provider(self):
        from commissioner.orgs import tenancy

        return self.signed_in and bool(tenancy.provider_ids(self.user))

    @cached_property
    def performance(self):
        return self.member or self.provider

    @property
    def appraisals(self):
        return self.member

    @property
    def social_value(self):
        return self.member

    @property
    def audit(self):
        return self.member

    @cached_property
    def feedback_account(self):
        """A resident's feedback account (a user with a resident profile)."""
        if not self.signed_in:
            return False
        from commissioner.feedback.services import profile_of

        return profile_of(self.user) is not None


def nav(request):
    return {"nav": Nav(getattr(request, "user", None))}
