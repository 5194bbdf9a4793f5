"""`pallapp.scoring` stays pure: no Flask, no SQLAlchemy, no other app module."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pallapp.scoring as scoring

ROOT = Path(__file__).resolve().parents[3]
SCORING_DIR = ROOT / "pallapp" / "scoring"
FORBIDDEN = ("flask", "flask_babel", "flask_login", "flask_wtf", "sqlalchemy", "wtforms", "babel")


def test_importing_scoring_loads_no_web_or_database_library() -> None:
    program = "import json, sys, pallapp.scoring; print(json.dumps(sorted(sys.modules)))"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", program],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    modules = json.loads(result.stdout)
    loaded = [m for m in modules if m.split(".")[0] in FORBIDDEN]
    assert loaded == []
    # pallapp/__init__.py (the app package) must not pull in app modules at import time either.
    app_modules = [
        m
        for m in modules
        if m.startswith("pallapp.")
        and m != "pallapp.scoring"
        and not m.startswith("pallapp.scoring.")
    ]
    assert app_modules == []
    assert "pallapp.scoring" in modules


def test_scoring_imports_only_the_standard_library_and_itself() -> None:
    # Static check, independent of what pallapp/__init__.py does: every import in the package
    # is relative (within scoring), `__future__`, or a standard-library module.
    allowed = set(sys.stdlib_module_names) | {"__future__"}
    for path in sorted(SCORING_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level > 0:
                    assert node.level == 1, f"{path.name} reaches outside scoring"
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_public_api() -> None:
    assert set(scoring.__all__) >= {
        "INSTRUMENTS",
        "score",
        "flags_for",
        "InvalidAnswers",
        "Score",
        "Flag",
        "Thresholds",
        "DEFAULT_THRESHOLDS",
        "SCORING_VERSION",
        "prn_frequent",
        "prn_over_limit",
        "prn_missing",
        "assessment_overdue",
        "roag_overdue",
        "PrnOrderRule",
        "DoseGiven",
        "AssessmentSeen",
    }
    for name in scoring.__all__:
        assert hasattr(scoring, name), name
    assert issubclass(scoring.InvalidAnswers, ValueError)
