"""gunicorn's settings for pallapp, read when gunicorn starts in the checkout's root directory.

Workers count failed logins in their own memory unless PALLAPP_RATELIMIT_STORAGE_URI names a
Redis that they share. The app cannot see gunicorn's worker count by itself, so this passes it
on (PALLAPP_WORKERS) before any worker starts, and checks the configuration once in the master
process: a refusal then stops gunicorn with one clear message instead of every worker failing.
With --preload the app is built before this hook runs: set PALLAPP_WORKERS yourself then.
"""

from __future__ import annotations

import os
from typing import Any


def on_starting(server: Any) -> None:
    os.environ["PALLAPP_WORKERS"] = str(server.cfg.workers)
    from flask import Flask

    from pallapp.config import load_config

    # The same checks the app makes at start-up (secret key, base URL, login-limit storage);
    # a ConfigurationError is a RuntimeError, which gunicorn prints and exits on.
    load_config(Flask("pallapp", instance_relative_config=True), None)
