"""Platform guards: migrations, deployment checks, the CLI, password hashing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def test_no_missing_migrations(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_deploy_checks_pass_with_production_settings(tmp_path):
    env = dict(os.environ, COMMISSIONER_ENV="production", SECRET_KEY="x" * 30 + "production-secret-abcdefghijk",
               DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused", ALLOWED_HOSTS="commissioner.example.org")
    out = subprocess.run([str(BIN / "commissioner"), "check", "--deploy", "--fail-level", "WARNING"],
                         env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_refuses_sqlite():
    env = dict(os.environ, COMMISSIONER_ENV="production", SECRET_KEY="y" * 50, DATABASE_URL="sqlite:///x.db")
    out = subprocess.run([str(BIN / "commissioner"), "check"], env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    assert out.returncode != 0
    assert "SQLite is for the demo and tests only" in out.stderr


@pytest.mark.argon2
def test_passwords_are_argon2(users):
    assert users["admin"].password.startswith("argon2$")


def test_cli_help_lists_the_commands():
    out = subprocess.run([str(BIN / "commissioner"), "--help"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert out.returncode == 0
    for word in ("migrate", "import ocds", "import register", "export ocds|csv", "createuser", "demo", "serve"):
        assert word in out.stdout


def test_cli_createuser_and_migrate(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
               COMMISSIONER_PASSWORD="a-long-enough-passphrase-77")
    def run(*args):
        return subprocess.run([str(BIN / "commissioner"), *args], env=env, capture_output=True, text=True,
                              cwd=ROOT, check=False)

    assert run("migrate", "-v0").returncode == 0
    out = run("createuser", "officer", "--org", "MRT", "--role", "commissioner")
    assert out.returncode == 0, out.stderr
    assert "created officer as commissioner at London Borough of Merton" in out.stdout
    again = run("createuser", "officer", "--org", "MRT")
    assert again.returncode != 0 and "already exists" in again.stderr
    weak = subprocess.run([str(BIN / "commissioner"), "createuser", "weak", "--org", "MRT"],
                          env=dict(env, COMMISSIONER_PASSWORD="password"), capture_output=True, text=True, check=False)
    assert weak.returncode != 0 and "too short" in weak.stderr
    unknown = run("createuser", "nobody", "--org", "no-such-council")
    assert unknown.returncode != 0 and "no organisation" in unknown.stderr
