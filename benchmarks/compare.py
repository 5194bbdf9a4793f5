"""Compare `pages-<label>.json` runs of benchmarks/pages.py made on data sets of different sizes.

Run with `python benchmarks/compare.py OUT/pages-1x.json OUT/pages-10x.json ... [--output FILE]`.
The first file is the base. Per page: the SQL statement count at each size, marked when it
differs between sizes (DESIGN.md: the count must not grow with the rows shown, so a difference
points at an N+1 or at a branch that only some data takes); the compressed page weight; the
median server time at each size with its ratio to the base, and the median CPU time of the
benchmark process (Python work without database waits; steadier on a shared machine). The
floor (a trivial route measured in the same run) and the load average are listed per size too:
if they moved, the machine, not the app, changed speed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def load(paths: list[Path]) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in paths]


def page_key(page: dict[str, Any]) -> tuple[str, str]:
    return page["role"], page["name"]


def _ordered_keys(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pages in the order of the first run, then any that only later runs have."""
    keys: dict[tuple[str, str], None] = {}
    for run in runs:
        for page in run["pages"]:
            keys.setdefault(page_key(page), None)
    return list(keys)


def _cell(value: Any, fmt: str = "{}") -> str:
    return "—" if value is None else fmt.format(value)


def compare(runs: list[dict[str, Any]]) -> str:
    labels = [run["label"] for run in runs]
    by_label = [{page_key(page): page for page in run["pages"]} for run in runs]
    lines = ["# Pages by data size", ""]

    lines += [
        "| Size | Date | Commit | Database | " + " | ".join(runs[0]["database"]["rows"]) + " |"
    ]
    lines += ["|---|---|---|---|" + "--:|" * len(runs[0]["database"]["rows"])]
    for run in runs:
        rows = run["database"]["rows"]
        lines.append(
            f"| {run['label']} | {run['date']} | {run['git_commit']} "
            f"| {run['database']['version'].split(' on ')[0]} | "
            + " | ".join(f"{rows.get(name, 0):,}" for name in runs[0]["database"]["rows"])
            + " |"
        )
    lines += ["", "Floor (a trivial route, same process and test client as the pages):", ""]
    lines += [
        "| Size | Floor median ms | × base | Load average before, after |",
        "|---|--:|--:|---|",
    ]
    base_floor = runs[0]["floor_median_ms"]
    for run in runs:
        lines.append(
            f"| {run['label']} | {run['floor_median_ms']:.3f} "
            f"| {run['floor_median_ms'] / base_floor:.2f} "
            f"| {run['machine'].get('load_average_before')}, {run['machine'].get('load_average_after')} |"
        )

    header = ["Page", "Role"]
    header += [f"Queries {label}" for label in labels] + ["Constant"]
    header += [f"Weight gz KB {label}" for label in labels]
    header += [f"Median ms {label}" for label in labels]
    header += [f"× {labels[0]} at {label}" for label in labels[1:]]
    header += [f"CPU ms {label}" for label in labels]
    lines += ["", "| " + " | ".join(header) + " |"]
    lines += [
        "|---|---|" + "--:|" * len(labels) + "---|" + "--:|" * (len(header) - 3 - len(labels))
    ]

    varying = []
    for key in _ordered_keys(runs):
        pages = [pages.get(key) for pages in by_label]
        counts = {page["queries"] for page in pages if page}
        constant = "yes" if len(counts) == 1 else "**NO**"
        if not all(pages):
            constant += " (not in every run)"
        if len(counts) > 1:
            varying.append(key)
        base = pages[0]["median_ms"] if pages[0] else None
        cells = [key[1], key[0]]
        cells += [_cell(page and page["queries"]) for page in pages] + [constant]
        cells += [_cell(page and page["weight_gzip_bytes"] / 1024, "{:.1f}") for page in pages]
        cells += [_cell(page and page["median_ms"], "{:.2f}") for page in pages]
        cells += [
            _cell(page["median_ms"] / base if page and base else None, "{:.2f}")
            for page in pages[1:]
        ]
        cells += [_cell(page and page.get("cpu_median_ms"), "{:.2f}") for page in pages]
        lines.append("| " + " | ".join(cells) + " |")

    lines.append("")
    if varying:
        names = ", ".join(f"{name} ({role})" for role, name in varying)
        lines.append(f"Query count differs between sizes: {names}. Look for an N+1 there.")
    else:
        lines.append("Every page's query count is the same at every size.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="pages-<label>.json, base first")
    parser.add_argument("--output", type=Path, help="write the markdown here (default: stdout)")
    args = parser.parse_args(argv)
    report = compare(load(args.runs))
    if args.output:
        args.output.write_text(report)
    else:
        sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
