"""`flask translate …`, as the README gives it, runs without PALLAPP_ENV_NAME or a secret key:
it only wraps pybabel, so it must not build the application (whose production default stops
start-up without a secret key)."""

from __future__ import annotations

import os
import subprocess  # noqa: S404  (runs this interpreter's own flask, fixed arguments)
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_translate_needs_no_environment_variables(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PALLAPP_")}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "pallapp", "translate", "--help"],
        cwd=tmp_path,  # anywhere: the command finds the catalogues itself
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for command in ("update", "compile", "init"):
        assert command in result.stdout
    # The same environment does stop the application itself (production needs a secret key).
    app_result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "pallapp", "routes"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert app_result.returncode != 0
    assert "PALLAPP_SECRET_KEY" in app_result.stderr
