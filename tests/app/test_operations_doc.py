"""The backup commands of docs/operations.md, run as written: the files they create are
private from their first byte, not only after a later chmod.

A fake `pg_dump` on PATH creates its output file the way the real one does (honouring the
umask) and records the file's mode at that moment. With PostgreSQL available, the documented
command also runs with the real `pg_dump`.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL, temporary_database_url

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
DOC_URL = "postgresql://pallapp@db.example.internal:5432/pallapp"
DOC_DIR = "/var/backups/pallapp"


def documented_block(containing: str) -> str:
    """The shell block of docs/operations.md that contains `containing`."""
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    found = [block for block in blocks if containing in block]
    assert len(found) == 1, f"expected one ```sh block with {containing!r}"
    return found[0]


FAKE_PG_DUMP = """#!/bin/sh
# Creates --file like pg_dump (fopen: 0666 minus the umask) and records its mode at once.
for argument in "$@"; do
  case "$argument" in --file=*) out="${argument#--file=}" ;; esac
done
: > "$out"
stat -c %a "$out" > "$MODE_RECORD"
echo "fake dump" >> "$out"
"""


def run_documented(block: str, directory: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = block.replace(DOC_DIR, str(directory))
    # The operator's shell as it usually is: files readable by everyone unless told otherwise.
    return subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", "umask 022\n" + script],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_item20_the_documented_pg_dump_creates_a_private_file_from_the_start(tmp_path):
    block = documented_block("pg_dump --format=custom")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pg_dump"
    fake.write_text(FAKE_PG_DUMP)
    fake.chmod(0o755)
    backups = tmp_path / "backups"
    backups.mkdir()
    record = tmp_path / "mode-at-creation"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "MODE_RECORD": str(record)}
    result = run_documented(block, backups, env)
    assert result.returncode == 0, result.stderr
    dumps = list(backups.glob("*.dump"))
    assert len(dumps) == 1
    assert int(record.read_text().strip(), 8) & 0o077 == 0, "readable by others while written"
    assert stat.S_IMODE(dumps[0].stat().st_mode) & 0o077 == 0


def test_item20_the_documented_pg_dump_command_works_with_the_real_pg_dump(tmp_path):
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not on PATH (Debian: apt install postgresql-client)")
    block = documented_block("pg_dump --format=custom")
    backups = tmp_path / "backups"
    backups.mkdir()
    for url in temporary_database_url("postgresql", tmp_path, "opsdoc"):
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
        result = run_documented(block.replace(DOC_URL, libpq), backups, env)
        assert result.returncode == 0, result.stderr
    dumps = list(backups.glob("*.dump"))
    assert len(dumps) == 1
    assert dumps[0].read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    assert stat.S_IMODE(dumps[0].stat().st_mode) & 0o077 == 0
