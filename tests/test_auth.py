"""Sign in and out, and the database-backed throttle on failed sign-ins."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from commissioner.orgs.auth import seconds_locked
from commissioner.orgs.models import LoginAttempt
from conftest import PASSWORD


@pytest.fixture
def limit(settings):
    settings.LOGIN_RATE_LIMIT = 3
    settings.LOGIN_RATE_WINDOW_SECONDS = 900
    return 3


def sign_in(client, username, password, ip="10.0.0.1", **extra):
    return client.post("/sign-in/", {"username": username, "password": password, **extra}, REMOTE_ADDR=ip)


def signed_in(client):
    return "_auth_user_id" in client.session


def test_sign_in_and_out(users):
    client = Client()
    page = client.get("/sign-in/")
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.content.decode()
    response = sign_in(client, "merton-viewer", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in(client)
    assert LoginAttempt.objects.filter(username="merton-viewer", success=True).count() == 1
    assert client.get("/sign-out/").status_code == 405  # sign-out is a POST (CSRF-protected)
    assert client.post("/sign-out/").status_code == 302
    assert not signed_in(client)


def test_wrong_password_shows_a_gov_uk_error(users):
    response = sign_in(Client(), "merton-viewer", "wrong")
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html and "Enter a correct username and password" in html
    assert LoginAttempt.objects.filter(username="merton-viewer", success=False).count() == 1


def test_missing_fields_are_named_and_not_counted(users):
    html = sign_in(Client(), "", "").content.decode()
    assert "Enter your username" in html and "Enter your password" in html
    assert LoginAttempt.objects.count() == 0


def test_next_is_followed_only_within_the_site(users):
    response = sign_in(Client(), "merton-admin", PASSWORD, next="/contracts/new/")
    assert response["Location"] == "/contracts/new/"
    response = sign_in(Client(), "merton-admin", PASSWORD, next="https://evil.example/")
    assert response["Location"] == "/"


def test_after_the_limit_even_the_right_password_is_refused(users, limit):
    client = Client()
    for _ in range(limit):
        assert sign_in(client, "merton-admin", "wrong").status_code == 200
    response = sign_in(client, "merton-admin", PASSWORD)
    assert response.status_code == 429
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60
    html = response.content.decode()
    assert "Too many failed attempts, try again in 15 minutes" in html
    assert "There is a problem" in html
    assert not signed_in(client)
    # The same username from another address is refused too (per-username count), case-insensitively.
    assert sign_in(Client(), "MERTON-ADMIN", PASSWORD, ip="10.9.9.9").status_code == 429


def test_per_address_limit_covers_every_username(users, limit):
    for name in ("alice", "bob", "carol"):
        sign_in(Client(), name, "guess", ip="192.0.2.7")
    assert sign_in(Client(), "merton-viewer", PASSWORD, ip="192.0.2.7").status_code == 429
    # Another address and an untouched username are unaffected.
    assert sign_in(Client(), "merton-viewer", PASSWORD, ip="192.0.2.8").status_code == 302


def test_the_lock_ends_when_failures_leave_the_window(users, limit):
    for _ in range(limit):
        sign_in(Client(), "merton-admin", "wrong")
    assert seconds_locked("merton-admin", "10.0.0.1") > 14 * 60
    LoginAttempt.objects.update(at=timezone.now() - timedelta(seconds=901))
    assert seconds_locked("merton-admin", "10.0.0.1") == 0
    assert sign_in(Client(), "merton-admin", PASSWORD).status_code == 302


def test_minutes_left_counts_from_the_oldest_failure_in_the_limit(users, limit):
    for _ in range(limit):
        sign_in(Client(), "merton-admin", "wrong")
    LoginAttempt.objects.update(at=timezone.now() - timedelta(seconds=900 - 61))
    html = sign_in(Client(), "merton-admin", PASSWORD).content.decode()
    assert "try again in 2 minutes" in html


def test_success_clears_the_username_count(users, limit):
    for _ in range(limit - 1):
        sign_in(Client(), "merton-admin", "wrong", ip="10.0.0.5")
    assert sign_in(Client(), "merton-admin", PASSWORD, ip="10.0.0.6").status_code == 302
    # One more typo does not lock the account: failures before the success no longer count.
    sign_in(Client(), "merton-admin", "wrong", ip="10.0.0.7")
    assert sign_in(Client(), "merton-admin", PASSWORD, ip="10.0.0.8").status_code == 302


def test_throttle_is_stored_in_the_database_not_in_a_process(users, limit):
    """Attempts through different clients (as on different workers) share one count."""
    for _ in range(limit):
        sign_in(Client(), "merton-commissioner", "wrong", ip=f"10.1.{_}.1")
    assert LoginAttempt.objects.filter(username="merton-commissioner", success=False).count() == limit
    assert sign_in(Client(), "merton-commissioner", PASSWORD, ip="10.2.0.1").status_code == 429
