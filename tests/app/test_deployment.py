"""Deployment safety: what production refuses to start with, checked on the real server.

Login throttling counts in memory per process by default; several gunicorn workers would each
count on their own and let through as many guesses as there are workers. Production refuses
that combination, and says what to do instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import gunicorn
import pytest

from pallapp import create_app
from pallapp.config import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> None:
    """A production environment that is complete except for what a test leaves out."""
    for name in ("PALLAPP_WORKERS", "WEB_CONCURRENCY", "SERVER_SOFTWARE",
                 "PALLAPP_RATELIMIT_STORAGE_URI", "PALLAPP_ACCEPT_PER_WORKER_LOGIN_LIMITS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PALLAPP_ENV_NAME", "production")
    monkeypatch.setenv("PALLAPP_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("PALLAPP_BASE_URL", "https://pallapp.example.se")
    monkeypatch.setenv("PALLAPP_DATABASE_URL", f"sqlite:///{tmp_path}/p.db")
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    "workers", [{"PALLAPP_WORKERS": "4"}, {"WEB_CONCURRENCY": "2"}, {"PALLAPP_WORKERS": "2"}]
)
def test_item09_production_refuses_memory_counts_with_several_workers(
    monkeypatch, tmp_path, workers
):
    production(monkeypatch, tmp_path, **workers)
    with pytest.raises(ConfigurationError, match="PALLAPP_RATELIMIT_STORAGE_URI"):
        create_app()


@pytest.mark.parametrize(
    "env",
    [
        {"PALLAPP_WORKERS": "1"},  # one worker: memory is shared by definition
        {},  # not under gunicorn and nothing declared: a flask command, or a single process
        {"PALLAPP_WORKERS": "4", "PALLAPP_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"},
        {"PALLAPP_WORKERS": "4", "PALLAPP_ACCEPT_PER_WORKER_LOGIN_LIMITS": "true"},
        {"PALLAPP_WORKERS": "4", "PALLAPP_ENV_NAME": "development"},
    ],
)
def test_item09_what_production_accepts(monkeypatch, tmp_path, env):
    production(monkeypatch, tmp_path, **env)
    create_app()  # no error (and no connection to Redis is made at start-up)


def test_item09_under_gunicorn_an_unknown_worker_count_is_refused(monkeypatch, tmp_path):
    production(monkeypatch, tmp_path, SERVER_SOFTWARE="gunicorn/27.0.1")
    with pytest.raises(ConfigurationError, match="PALLAPP_WORKERS"):
        create_app()


# --- the real server -------------------------------------------------------------------------


# gunicorn 25.1 and later open a control socket at one fixed path per user; parallel servers
# (other test runs, benchmarks) would share it.
NO_CONTROL_SOCKET = ["--no-control-socket"] if gunicorn.version_info >= (25, 1) else []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(tmp_path: Path, workers: int, cwd: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PALLAPP_") and key not in ("WEB_CONCURRENCY", "SERVER_SOFTWARE")
    }
    env |= {
        "PALLAPP_ENV_NAME": "production",
        "PALLAPP_SECRET_KEY": "k" * 64,
        "PALLAPP_BASE_URL": "https://pallapp.example.se",
        "PALLAPP_DATABASE_URL": f"sqlite:///{tmp_path}/g.db",
    }
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--pythonpath", str(ROOT), *NO_CONTROL_SOCKET, *extra,
        "wsgi:app",
    ]
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, port


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def wait_for_exit(process: subprocess.Popen[str], seconds: float) -> int | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return process.returncode
        time.sleep(0.2)
    return None


def test_item09_gunicorn_with_two_workers_and_memory_counts_refuses_to_start(tmp_path):
    process, _ = start_gunicorn(tmp_path, 2, ROOT)
    code = wait_for_exit(process, 30)
    output = stop(process)
    assert code not in (None, 0), output  # None: it was still serving after 30 seconds
    assert "PALLAPP_RATELIMIT_STORAGE_URI" in output


def test_item09_gunicorn_without_our_config_file_refuses_an_unknown_worker_count(tmp_path):
    # Started elsewhere, gunicorn does not read the checkout's gunicorn.conf.py: pallapp cannot
    # learn the worker count and says so.
    process, _ = start_gunicorn(tmp_path, 2, tmp_path)
    code = wait_for_exit(process, 30)
    output = stop(process)
    assert code not in (None, 0), output
    assert "PALLAPP_WORKERS" in output


def test_item09_gunicorn_with_one_worker_serves(tmp_path):
    process, port = start_gunicorn(tmp_path, 1, ROOT)
    try:
        deadline, status = time.monotonic() + 30, None
        while time.monotonic() < deadline and process.poll() is None and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as page:  # noqa: S310
                    status = page.status
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
    finally:
        output = stop(process)
    assert status == 200, output


# --- the base URL of invitation links ----------------------------------------------------------


def test_item17_production_refuses_to_start_without_a_base_url(monkeypatch, tmp_path):
    production(monkeypatch, tmp_path)
    monkeypatch.delenv("PALLAPP_BASE_URL")
    with pytest.raises(ConfigurationError, match="PALLAPP_BASE_URL"):
        create_app()


@pytest.mark.parametrize(
    "value",
    [
        "pallapp.example.se",  # no scheme
        "http://pallapp.example.se",  # plain HTTP in production
        "https://pallapp.example.se/app",  # a path: the app's own URLs carry any mount point
        "https://pallapp.example.se/?next=x",
        "https://user:secret@pallapp.example.se",
        "https://",
    ],
)
def test_item17_production_refuses_a_base_url_that_is_not_scheme_and_host(
    monkeypatch, tmp_path, value
):
    production(monkeypatch, tmp_path, PALLAPP_BASE_URL=value)
    with pytest.raises(ConfigurationError, match="PALLAPP_BASE_URL"):
        create_app()


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://pallapp.example.se", "https://pallapp.example.se"),
        ("https://pallapp.example.se/", "https://pallapp.example.se"),
        ("https://pallapp.example.se:8443", "https://pallapp.example.se:8443"),
    ],
)
def test_item17_a_scheme_and_host_are_accepted(monkeypatch, tmp_path, value, kept):
    production(monkeypatch, tmp_path, PALLAPP_BASE_URL=value)
    assert create_app().config["BASE_URL"] == kept


def test_item17_development_accepts_plain_http_and_no_base_url(monkeypatch, tmp_path):
    production(monkeypatch, tmp_path, PALLAPP_ENV_NAME="development")
    monkeypatch.delenv("PALLAPP_BASE_URL")
    assert create_app().config["BASE_URL"] is None
    monkeypatch.setenv("PALLAPP_BASE_URL", "http://127.0.0.1:5000")
    assert create_app().config["BASE_URL"] == "http://127.0.0.1:5000"


# --- the garbage collector in a gunicorn worker ------------------------------------------------


def test_a_worker_freezes_what_it_holds_once_the_app_is_built():
    # Both configuration files name the hook; it moves the objects tracked so far out of the
    # collector's sight, so a full collection no longer walks the whole app.
    import gc

    from pallapp.config import gunicorn_post_worker_init

    for conf in (ROOT / "gunicorn.conf.py", ROOT / "deploy" / "gunicorn.conf.py"):
        assert "gunicorn_post_worker_init as post_worker_init" in conf.read_text()
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    tracked = len(gc.get_objects())
    try:
        gunicorn_post_worker_init(object())
        assert gc.get_freeze_count() >= tracked * 0.9  # what was tracked (a few die meanwhile)
        assert len(gc.get_objects()) < tracked // 10  # and the collector no longer sees it
    finally:
        gc.unfreeze()
