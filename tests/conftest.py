"""Shared fixtures. The test database holds the real sample register, imported once per run."""

import copy
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SAMPLES = ROOT / "data" / "samples"
CF_PACKAGE = SAMPLES / "contracts_finder" / "cf_englishdata_release_package.json"
CF_SEARCH_PAGE = SAMPLES / "contracts_finder" / "cf_search_page_2025-01-20_to_2025-01-23.json"
PASSWORD = "correct-horse-battery-staple-42"


def shared(*parts):
    """A file under ../shared/data (tests may read it directly); skip nothing: it must exist."""
    path = SHARED.joinpath(*parts)
    assert path.exists(), f"missing shared data {path}"
    return path


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the real sample register into the test database once."""
    from commissioner.ocds.services import import_ocds

    with django_db_blocker.unblock():
        summary = import_ocds([CF_PACKAGE], source_label="test sample")
        assert summary.contracts_created == 190, summary.as_dict()


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_password_hashing(request, settings):
    """Argon2 is the real hasher (tests marked `argon2` keep it); its cost is not what tests are about."""
    if "argon2" not in request.keywords:
        settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """A transaction around a module's tests, rolled back after its last test, for data that a module's tests all
    start from: a module fixture makes it once (``with module_db():``) instead of every test making it again.

    Each test still runs in its own savepoint inside it (pytest-django's ``db``, as in Django's TestCase), so
    whatever a test writes is undone before the next test, which finds the module's data exactly as made. Function
    fixtures hand each test a deep copy of the module fixture's objects, as Django's ``setUpTestData`` does.
    """
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()

    @contextmanager
    def writing():
        with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            yield

    try:
        yield writing
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def per_test(module_data):
    """A test's own copy of what a module fixture made (the rows are the same; the Python objects are its own)."""
    return copy.deepcopy(module_data)


def make_users():
    """One user per role at Merton (a council in the data), one at another council, a superuser."""
    from commissioner.orgs.models import Organisation
    from commissioner.orgs.services import create_user

    merton = Organisation.objects.get(la_code="MRT")
    other = Organisation.objects.get(la_code="LDS")  # Leeds City Council
    out = {"merton": merton, "other_org": other}
    for role in ("admin", "commissioner", "viewer"):
        out[role] = create_user(username=f"merton-{role}", password=PASSWORD, organisation=merton, role=role)
    out["other"] = create_user(username="leeds-admin", password=PASSWORD, organisation=other, role="admin")
    out["superuser"] = create_user(username="root", password=PASSWORD, is_superuser=True)
    return out


@pytest.fixture
def users(db):
    """One user per role at Merton (a council in the data), one at another council, a superuser."""
    return make_users()


@pytest.fixture
def private_contract(users):
    """A private in-house contract owned by Merton."""
    from commissioner.register.services import create_local_contract

    return create_local_contract(
        owner=users["merton"], actor=users["admin"], title="In-house reablement service",
        description="Council-run home care reablement team", delivery_model="inhouse",
        provider_name="Merton Reablement Team", supplier_type="inhouse", value=1250000,
        is_private=True,
    )

