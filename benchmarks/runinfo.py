"""What every benchmark report says about its run: the machine, its load and the code measured."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict[str, Any]:
    """CPU count and model, memory and Python version of this machine."""
    cpu = platform.processor() or ""
    ram_kb = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_kb = int(line.split()[1])
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(ram_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
    }


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: how busy the machine was around a measurement."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def git_commit() -> str:
    """The commit measured, marked when the work tree has uncommitted changes."""

    def git(*args: str) -> str:
        # Fixed arguments, no shell: only to stamp the report with the code measured.
        return subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain") else "")
