"""Real-browser tests: a real gunicorn server on its own database, driven by Debian's chromium."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
DEMO_PASSWORD = "demo-password-change-me"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


def _free_port():
    for port in range(20000 + os.getpid() % 5000, 32000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port below 32768")


def _postgres_e2e_name(url):
    """The server's own database, named after the suite's (as pytest-django names its test databases), so two
    runs on different databases of one PostgreSQL server never drop each other's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{url.rsplit('/', 1)[1].split('?')[0]}_e2e_{worker}"


def _drop_postgres(url, name):
    import psycopg

    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database_url(tmp):
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        name = _postgres_e2e_name(url)
        base = url.rsplit("/", 1)[0]
        _drop_postgres(url, name)
        with psycopg.connect(base + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{base}/{name}"
    return f"sqlite:///{tmp / 'e2e.sqlite3'}"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The demo as a user would run it (demo set-up, then gunicorn), on a free port."""
    tmp = tmp_path_factory.mktemp("e2e")
    env = dict(os.environ, DATABASE_URL=_database_url(tmp), PYTHONUNBUFFERED="1")
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "commissioner"), "demo", "--no-serve"], env=env, check=True,
                   capture_output=True, cwd=ROOT, timeout=300)
    port = _free_port()
    log = open(tmp / "server.log", "w")  # noqa: SIM115 (open for the server's whole life)
    proc = subprocess.Popen([str(bin_dir / "commissioner"), "serve", "--bind", f"127.0.0.1:{port}",
                             "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp / "server.log").read_text())
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("server did not start: " + (tmp / "server.log").read_text())
    yield base
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
    if env["DATABASE_URL"].startswith("postgres"):
        _drop_postgres(env["DATABASE_URL"], env["DATABASE_URL"].rsplit("/", 1)[1])


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is required (make test installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    yield pg
    context.close()


def sign_in(page, base, username="demo-admin"):
    page.goto(base + "/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")
