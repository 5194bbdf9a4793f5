"""The layer contracts of pyproject.toml ([tool.importlinter]) hold for the code, and fail on a
planted violation: a view that imports `access`, one feature's services importing another's, and
one feature importing another's presentation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    args = [str(LINT_IMPORTS), "--no-cache"]
    for contract in contracts:
        args += ["--contract", contract]
    return subprocess.run(
        args,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )


def planted(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of the package (sources only) with `line` added at the end of `module`."""
    shutil.copytree(
        ROOT / "pallapp",
        tmp_path / "pallapp",
        ignore=shutil.ignore_patterns("__pycache__", "templates", "static"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # planted\n", encoding="utf-8")
    return tmp_path


def test_the_code_keeps_every_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_view_that_imports_access_breaks_the_views_contract(tmp_path):
    tree = planted(tmp_path, "pallapp/review/views.py", "from pallapp.access import can")
    result = lint(tree, "views-do-not-call-access")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "views reach access only through the services (which audit-log) BROKEN" in result.stdout
    assert "pallapp.review.views -> pallapp.access" in result.stdout


def test_services_importing_another_features_services_break_their_contract(tmp_path):
    tree = planted(
        tmp_path, "pallapp/review/summary.py", "from pallapp.careplan.plan import read_care_plan"
    )
    result = lint(tree, "review-services-alone")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "review services import no other feature's services BROKEN" in result.stdout
    assert "pallapp.review.summary -> pallapp.careplan.plan" in result.stdout


def test_scoring_importing_the_app_breaks_its_contract(tmp_path):
    tree = planted(tmp_path, "pallapp/scoring/flags.py", "from pallapp import models")
    result = lint(tree, "scoring-is-pure")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pallapp.scoring.flags -> pallapp.models" in result.stdout


def test_a_feature_importing_another_features_presentation_breaks_its_contract(tmp_path):
    tree = planted(
        tmp_path, "pallapp/patients/views.py", "from pallapp.careplan.present import ordered_dose"
    )
    result = lint(tree, "careplan-present-alone")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no other module imports the care plan pages' presentation BROKEN" in result.stdout
    assert "pallapp.patients.views -> pallapp.careplan.present" in result.stdout
