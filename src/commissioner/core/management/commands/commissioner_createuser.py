"""Create a user with an Argon2-hashed password and a role in an organisation."""

import getpass
import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from commissioner.orgs.models import Organisation, Role


class Command(BaseCommand):
    help = ("Create a user: USERNAME --org SLUG|GSS|LA-CODE --role admin|commissioner|viewer [--superuser], "
            "or a provider user: USERNAME --provider ID (sees that provider's contracts and submits their returns)")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--org", help="organisation slug, GSS code or three-letter council code")
        parser.add_argument("--role", choices=Role.values, default=Role.VIEWER)
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true")
        parser.add_argument("--provider", type=int, help="id of the provider this user acts for (see /providers/)")
        parser.add_argument("--password-env", default="COMMISSIONER_PASSWORD",
                            help="environment variable holding the password (else prompt)")

    def handle(self, *args, username, org=None, role, email, superuser, password_env, provider=None, **opts):
        from commissioner.orgs.reference import councils
        from commissioner.orgs.services import council_organisation, create_user

        organisation = None
        if org:
            organisation = (Organisation.objects.filter(slug=org).first()
                            or Organisation.objects.filter(gss_code=org).first()
                            or Organisation.objects.filter(la_code=org.upper()).first())
            if organisation is None and org.upper() in councils():
                organisation = council_organisation(org.upper())
            if organisation is None:
                raise CommandError(f"no organisation '{org}' (use a slug, GSS code or council code)")
        elif not superuser and provider is None:
            raise CommandError("give --org (or --provider, or --superuser)")
        provider_obj = None
        if provider is not None:
            from commissioner.register.models import Provider

            provider_obj = Provider.objects.filter(pk=provider).first()
            if provider_obj is None:
                raise CommandError(f"no provider with id {provider}")
        password = os.environ.get(password_env) or getpass.getpass("Password: ")
        try:
            validate_password(password)
        except ValidationError as e:
            raise CommandError("; ".join(e.messages)) from None
        try:
            user = create_user(username=username, password=password, email=email, organisation=organisation,
                               role=role, is_superuser=superuser)
        except ValueError as e:
            raise CommandError(str(e)) from None
        where = f" as {role} at {organisation}" if organisation else ""
        if provider_obj is not None:
            from commissioner.performance.services import link_provider_user

            link_provider_user(actor=None, user=user, provider=provider_obj)
            where += f" for the provider {provider_obj.name}"
        self.stdout.write(f"created {user.get_username()}{where}")
