"""Two commits side by side from one run of benchmarks/full.py --before COMMIT.

    python benchmarks/before_after.py OUT/full.json [--output OUT/before-after.md]

full.json is the manifest full.py writes: the two trees (commit, where their code was imported
from), whether they shared a database, the merged pages.py results of each tree at each size,
the load.py results of each tree per mode, and the load average around every part of the run.
The report gives, per page and per request kind of the load mix, the old and the new figures
and their ratio (new ÷ old: below 1 is faster, fewer statements), the saturated throughput of
the mix both ways against the target of at least twice the old, and how the pages showing all
the history ("trends all") grow from the smallest size to the largest in each tree.

`merge_rounds` is also here: full.py runs pages.py in short interleaved rounds (old, new, new,
old, ...) so that the machine's drift hits both trees, and merges each tree's rounds into one
result in pages.py's format.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file from a checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.load import START_UP_PAGES  # noqa: E402

THROUGHPUT_TARGET = 2.0  # the saturated mix must serve at least twice the old commit's req/s
TREES = ("before", "after")


# --- merging interleaved rounds -----------------------------------------------------------------


def _nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def can_pool(runs: list[dict[str, Any]]) -> bool:
    """Whether every page of every run kept its samples (pages.py since it records them)."""
    return all("samples_ms" in page for run in runs for page in run["pages"])


def merge_rounds(runs: list[dict[str, Any]], pooled: bool) -> dict[str, Any]:
    """One pages.py result from several rounds of the same tree on the same database.

    Pooled: median and p95 over every request of every round. Otherwise (an older pages.py
    kept no samples) the median of the rounds' medians and of their p95s; full.py then merges
    both trees that way, so that they are compared by the same rule."""
    first, last = runs[0], runs[-1]
    merged_pages = []
    for page in first["pages"]:
        key = (page["role"], page["name"])
        same = [
            other
            for run in runs
            for other in run["pages"]
            if (other["role"], other["name"]) == key
        ]
        combined = {k: v for k, v in page.items() if k not in ("samples_ms", "cpu_samples_ms")}
        combined["queries_min"] = min(p["queries_min"] for p in same)
        combined["queries_max"] = max(p["queries_max"] for p in same)
        if pooled:
            times = [t for p in same for t in p["samples_ms"]]
            cpu = [t for p in same for t in p["cpu_samples_ms"]]
            combined["median_ms"] = round(statistics.median(times), 3)
            combined["p95_ms"] = round(_nearest_rank(times, 0.95), 3)
            combined["cpu_median_ms"] = round(statistics.median(cpu), 3)
            combined["samples"] = len(times)
        else:
            for field in ("median_ms", "p95_ms", "cpu_median_ms"):
                combined[field] = round(statistics.median(p[field] for p in same), 3)
            combined["samples"] = sum(run["repeat"] for run in runs)
        merged_pages.append(combined)
    floor = next((p for p in merged_pages if p["name"] == "floor (anonymous)"), None)
    floor_median = (
        floor["median_ms"] if floor else statistics.median(r["floor_median_ms"] for r in runs)
    )
    for page in merged_pages:
        page["ratio_to_floor"] = round(page["median_ms"] / floor_median, 2)
    return first | {
        "date": first["date"],
        "machine": first["machine"]
        | {"load_average_after": last["machine"].get("load_average_after")},
        "repeat": sum(run["repeat"] for run in runs),
        "floor_median_ms": round(floor_median, 3),
        "pages": merged_pages,
        "rounds": [
            {
                "date": run["date"],
                "repeat": run["repeat"],
                "load_average_before": run["machine"].get("load_average_before"),
                "load_average_after": run["machine"].get("load_average_after"),
            }
            for run in runs
        ],
        "merged": "pooled samples" if pooled else "median of the rounds' figures",
    }


# --- the report ---------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.{digits}f}"


def _ratio(new: float | None, old: float | None) -> float | None:
    if new is None or not old:
        return None
    return new / old


def _ratio_cell(new: float | None, old: float | None) -> str:
    ratio = _ratio(new, old)
    return "—" if ratio is None else f"{ratio:.2f}"


def _loads(parts: list[dict[str, Any]], **where: str) -> str:
    """The 1-minute load average before → after each matching part of the run."""
    found = [
        part for part in parts if all(part.get(key) == value for key, value in where.items())
    ]

    def one(value: list[float] | None) -> str:
        return "?" if not value else f"{value[0]:.1f}"

    return ", ".join(
        f"{one(p.get('load_average_before'))}→{one(p.get('load_average_after'))}" for p in found
    ) or "—"


def _tree_line(name: str, tree: dict[str, Any]) -> str:
    imports = tree.get("imports", {})
    where = ", ".join(f"{module} from {path}" for module, path in imports.items())
    return f"- {name.capitalize()}: commit {tree['commit']} ({tree['root']}); {where}"


def _page_table(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    old_pages = {(p["role"], p["name"]): p for p in before["pages"]}
    new_pages = {(p["role"], p["name"]): p for p in after["pages"]}
    keys = list(old_pages) + [key for key in new_pages if key not in old_pages]
    lines = [
        "| Page | Role | SQL before | SQL after | p50 ms before | p50 ms after | p50 × "
        "| p95 ms before | p95 ms after | p95 × | CPU ms before | CPU ms after | CPU × |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for key in keys:
        old, new = old_pages.get(key), new_pages.get(key)

        def get(page: dict[str, Any] | None, field: str) -> Any:
            return None if page is None else page[field]

        cells = [key[1], key[0]]
        cells += [_num(get(old, "queries")), _num(get(new, "queries"))]
        for field in ("median_ms", "p95_ms", "cpu_median_ms"):
            cells += [
                _num(get(old, field)),
                _num(get(new, field)),
                _ratio_cell(get(new, field), get(old, field)),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _growth(pages: dict[str, dict[str, Any]], labels: list[str]) -> list[str]:
    """Pages showing all the history: median at the largest size ÷ at the smallest."""
    if len(labels) < 2:
        return ["One size only: no growth to show."]
    small, large = labels[0], labels[-1]
    lines = [
        f"| Page | Role | before: {large} ÷ {small} | after: {large} ÷ {small} |",
        "|---|---|--:|--:|",
    ]
    for page in pages[small]["after"]["pages"]:
        if "all" not in page["name"].split() and "(all)" not in page["name"]:
            continue
        key = (page["role"], page["name"])
        cells = [page["name"], page["role"]]
        for tree in TREES:
            by_key = {
                label: {(p["role"], p["name"]): p for p in pages[label][tree]["pages"]}
                for label in (small, large)
            }
            low, high = by_key[small].get(key), by_key[large].get(key)
            cells.append(
                _ratio_cell(high and high["median_ms"], low and low["median_ms"])
            )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _rounds(mode: dict[str, Any]) -> str:
    return ", ".join(f"{rps:.1f}" for rps in mode["mix"].get("rounds_rps", []))


def _load_section(mode: str, runs: dict[str, dict[str, Any]], parts: list[dict[str, Any]]
                  ) -> list[str]:
    old, new = runs["before"]["modes"][mode], runs["after"]["modes"][mode]
    old_rps, new_rps = old["mix"]["total_rps"], new["mix"]["total_rps"]
    lines = [
        "",
        f"### {mode}",
        "",
        "| | before | after | × |",
        "|---|--:|--:|--:|",
        f"| mix req/s{' (median of the runs)' if 'rounds_rps' in old['mix'] else ''} "
        f"| {_num(old_rps)} | {_num(new_rps)} | {_ratio_cell(new_rps, old_rps)} |",
        f"| floor-only req/s | {_num(old['floor']['total_rps'])} "
        f"| {_num(new['floor']['total_rps'])} "
        f"| {_ratio_cell(new['floor']['total_rps'], old['floor']['total_rps'])} |",
        *(
            [f"| mix req/s of each run | {_rounds(old)} | {_rounds(new)} | |"]
            if "rounds_rps" in old["mix"] else []
        ),
        f"| mix failures | {old['mix']['total_failures']} | {new['mix']['total_failures']} | |",
        f"| load average (1 min) before→after | {_loads(parts, part='load', mode=mode, tree='before')} "
        f"| {_loads(parts, part='load', mode=mode, tree='after')} | |",
        "",
        "| Request kind | requests before | requests after | p50 before | p50 after | p95 before "
        "| p95 after | server p50 before | server p50 after | server p95 before "
        "| server p95 after | server p95 × |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    names = list(old["mix"]["pages"]) + [
        name for name in new["mix"]["pages"] if name not in old["mix"]["pages"]
    ]
    for name in names:
        if name in START_UP_PAGES:
            continue
        a, b = old["mix"]["pages"].get(name, {}), new["mix"]["pages"].get(name, {})
        lines.append(
            f"| {name} | {_num(a.get('requests'))} | {_num(b.get('requests'))} "
            f"| {_num(a.get('p50_ms'))} | {_num(b.get('p50_ms'))} "
            f"| {_num(a.get('p95_ms'))} | {_num(b.get('p95_ms'))} "
            f"| {_num(a.get('server_p50_ms'))} | {_num(b.get('server_p50_ms'))} "
            f"| {_num(a.get('server_p95_ms'))} | {_num(b.get('server_p95_ms'))} "
            f"| {_ratio_cell(b.get('server_p95_ms'), a.get('server_p95_ms'))} |"
        )
    invalid = [
        tree for tree, data in ((t, runs[t]["modes"][mode]) for t in TREES)
        if data["mix"]["login_failed"] or data["floor"]["login_failed"]
    ]
    if invalid:
        lines += ["", f"**Logins failed ({', '.join(invalid)}): those figures are not valid.**"]
    return lines


def report(data: dict[str, Any]) -> str:
    """The side-by-side markdown from full.py's manifest with its results read in."""
    before, after = data["before"], data["after"]
    parts = data.get("parts", [])
    labels = list(data["pages"])
    lines = [
        "# Before and after, one run",
        "",
        f"- Date: {data.get('date', '?')}",
        _tree_line("before", before),
        _tree_line("after", after),
        "- Database: "
        + (
            "the migrations are identical: one database per size, generated once, read by both"
            if data["same_schema"]
            else "the migrations differ: each tree generated its own database per size with its "
            "own generate.py"
        ),
        f"- Pages: {data['rounds']} rounds per tree of {data['repeat_per_round']} timed request(s) per "
        "page, the trees taking turns (before, after, after, before, …); merged by "
        + data.get("merged", "?"),
        "- Ratios (×) are after ÷ before: below 1 is faster or fewer statements.",
    ]

    load = data.get("load", {})
    if "saturate" in load:
        old = load["saturate"]["before"]["modes"]["saturate"]["mix"]["total_rps"]
        new = load["saturate"]["after"]["modes"]["saturate"]["mix"]["total_rps"]
        ratio = _ratio(new, old)
        verdict = (
            "—" if ratio is None
            else ("**met**" if ratio >= THROUGHPUT_TARGET else "**missed**")
        )
        lines += [
            "",
            "## Saturated throughput of the mix",
            "",
            f"{_num(old)} → {_num(new)} requests/s, "
            f"{'—' if ratio is None else f'{ratio:.2f}'}x; "
            f"target ≥ {THROUGHPUT_TARGET:g}x: {verdict}. Load average (1 min) before→after "
            f"the run: before {_loads(parts, part='load', mode='saturate', tree='before')}, "
            f"after {_loads(parts, part='load', mode='saturate', tree='after')}.",
        ]

    for label in labels:
        pair = data["pages"][label]
        lines += [
            "",
            f"## Pages in-process at {label}",
            "",
            f"Load average (1 min) per round, before→after it: before {_loads(parts, part='pages', scale=label, tree='before')}; "
            f"after {_loads(parts, part='pages', scale=label, tree='after')}. "
            f"Floor median {_num(pair['before']['floor_median_ms'], 3)} ms before, "
            f"{_num(pair['after']['floor_median_ms'], 3)} ms after.",
            "",
            *_page_table(pair["before"], pair["after"]),
        ]

    lines += ["", "## Growth with the history shown", ""]
    lines += _growth(data["pages"], labels)

    if load:
        lines += ["", "## Load run", ""]
        lines.append(
            "Each tree on its own fresh copy of the largest database; times in ms as Locust saw "
            "them and as gunicorn measured them (server)."
        )
        for mode, runs in load.items():
            lines += _load_section(mode, runs, parts)
    return "\n".join(lines) + "\n"


def read_manifest(path: Path) -> dict[str, Any]:
    """full.json with the result files it names read in (paths relative to its folder)."""
    data = json.loads(path.read_text())
    base = path.parent

    def read(name: str) -> dict[str, Any]:
        return json.loads((base / name).read_text())

    data["pages"] = {
        label: {tree: read(files[tree]) for tree in TREES}
        for label, files in data["pages"].items()
    }
    data["load"] = {
        mode: {
            tree: merge_load_rounds(
                mode, [read(name) for name in _as_list(files[tree])]
            )
            for tree in TREES
        }
        for mode, files in data["load"].items()
    }
    return data


def _as_list(names: str | list[str]) -> list[str]:
    return [names] if isinstance(names, str) else names


def merge_load_rounds(mode: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One load.py result for `mode` from several runs of the same tree: per phase the median
    of the runs' requests per second, per page the median of their percentiles, the requests
    and failures added up. One run is returned as it is."""
    if len(runs) == 1:
        return runs[0]

    def median(values: list[Any]) -> Any:
        present = [value for value in values if value is not None]
        if present and not all(isinstance(v, int | float) for v in present):
            return present[0]  # a name or a method, the same in every run
        return statistics.median(present) if present else None

    phases: dict[str, Any] = {}
    for phase in ("floor", "mix"):
        each = [run["modes"][mode][phase] for run in runs]
        names = list(dict.fromkeys(name for one in each for name in one["pages"]))
        pages = {}
        for name in names:
            found = [one["pages"][name] for one in each if name in one["pages"]]
            pages[name] = {
                field: (sum(p.get(field) or 0 for p in found)
                        if field in ("requests", "failures", "server_requests")
                        else median([p.get(field) for p in found]))
                for field in found[0]
            }
        phases[phase] = {
            "total_rps": median([one["total_rps"] for one in each]),
            "total_failures": sum(one["total_failures"] for one in each),
            "login_failed": sum(one["login_failed"] for one in each),
            "floor_p50_ms": median([one.get("floor_p50_ms") for one in each]),
            "floor_p95_ms": median([one.get("floor_p95_ms") for one in each]),
            "pages": pages,
            "rounds_rps": [one["total_rps"] for one in each],
        }
    return {"modes": {mode: phases}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path, help="full.json of a full.py --before run")
    parser.add_argument("--output", type=Path, help="write the markdown here (default: stdout)")
    args = parser.parse_args(argv)
    text = report(read_manifest(args.manifest))
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
