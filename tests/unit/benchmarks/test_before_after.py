"""The side-by-side report of full.py --before, from hand-made results (no timing)."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.before_after import merge_load_rounds, merge_rounds, report


def page(name: str, role: str, queries: int, median: float, p95: float, cpu: float,
         samples: list[float] | None = None) -> dict[str, Any]:
    result = {
        "name": name, "role": role, "queries": queries, "queries_min": queries,
        "queries_max": queries, "median_ms": median, "p95_ms": p95, "cpu_median_ms": cpu,
        "ratio_to_floor": median,
    }
    if samples is not None:
        result |= {"samples_ms": samples, "cpu_samples_ms": [s / 2 for s in samples]}
    return result


def pages_run(*pages: dict[str, Any], repeat: int = 2, load: float = 1.0) -> dict[str, Any]:
    floor_samples = [1.0] * repeat if "samples_ms" in pages[0] else None
    return {
        "label": "x1", "date": "2026-11-30T00:00:00+00:00", "repeat": repeat,
        "machine": {"load_average_before": [load, 0, 0], "load_average_after": [load + 1, 0, 0]},
        "floor_median_ms": 1.0, "pages": [page("floor (anonymous)", "anonymous", 0, 1, 1, 1, floor_samples),
                                         *pages],
    }


def mix(rps: float, pages: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"total_rps": rps, "total_failures": 0, "login_failed": 0, "pages": pages}


def load_run(mode: str, rps: float, today_p95: float) -> dict[str, Any]:
    today = {"method": "GET", "name": "today", "requests": 100, "p50_ms": 5.0, "p95_ms": today_p95, "server_p50_ms": 4.0,
             "server_p95_ms": today_p95 - 1}
    login = {"requests": 4, "p50_ms": 90.0, "p95_ms": 90.0, "server_p50_ms": 80.0,
             "server_p95_ms": 80.0}
    return {"modes": {mode: {
        "floor": mix(500.0, {}) | {"login_failed": 0},
        "mix": mix(rps, {"today": today, "login": login}),
    }}}


def test_merge_rounds_pools_the_samples_of_every_round():
    first = pages_run(page("today", "nurse", 7, 2, 2, 1, samples=[1.0, 2.0, 3.0]), repeat=3,
                      load=3.0)
    second = pages_run(page("today", "nurse", 8, 9, 9, 4, samples=[4.0, 5.0, 10.0]), repeat=3,
                       load=5.0)
    merged = merge_rounds([first, second], pooled=True)
    today = merged["pages"][1]
    assert today["median_ms"] == pytest.approx(3.5)
    assert today["p95_ms"] == pytest.approx(10.0)
    assert today["cpu_median_ms"] == pytest.approx(1.75)
    assert (today["queries_min"], today["queries_max"]) == (7, 8)
    assert "samples_ms" not in today
    assert merged["repeat"] == 6
    assert merged["pages"][0]["samples"] == 6
    assert merged["machine"]["load_average_before"][0] == 3.0
    assert merged["machine"]["load_average_after"][0] == 6.0
    assert [r["load_average_before"][0] for r in merged["rounds"]] == [3.0, 5.0]


def test_merge_rounds_without_samples_takes_the_median_of_the_rounds():
    runs = [pages_run(page("today", "nurse", 7, m, m * 2, m / 2)) for m in (1.0, 3.0, 8.0)]
    today = merge_rounds(runs, pooled=False)["pages"][1]
    assert (today["median_ms"], today["p95_ms"], today["cpu_median_ms"]) == (3.0, 6.0, 1.5)


def manifest() -> dict[str, Any]:
    def sized(today: float, trends_all: float) -> dict[str, Any]:
        return pages_run(page("today", "nurse", 7, today, today * 2, today / 2),
                         page("trends all", "nurse", 10, trends_all, trends_all, trends_all))

    return {
        "date": "2026-11-30T02:00:00+00:00",
        "before": {"commit": "aaaa", "root": "/old", "imports": {"pallapp": "/old/p"}},
        "after": {"commit": "bbbb", "root": "/repo", "imports": {"pallapp": "/repo/p"}},
        "same_schema": True,
        "rounds": 2,
        "repeat_per_round": 5,
        "merged": "pooled samples",
        "pages": {
            "x1": {"before": sized(10.0, 20.0), "after": sized(5.0, 10.0)},
            "x100": {"before": sized(12.0, 80.0), "after": sized(6.0, 20.0)},
        },
        "load": {
            "think": {"before": load_run("think", 10.0, 50.0),
                      "after": load_run("think", 10.0, 30.0)},
            "saturate": {"before": load_run("saturate", 40.0, 900.0),
                         "after": load_run("saturate", 100.0, 300.0)},
        },
        "parts": [
            {"part": "pages", "scale": "x1", "tree": "before", "round": 1,
             "load_average_before": [2.0, 0, 0], "load_average_after": [3.5, 0, 0]},
            {"part": "load", "mode": "saturate", "tree": "after",
             "load_average_before": [4.0, 0, 0], "load_average_after": [6.25, 0, 0]},
        ],
    }


def test_report_puts_before_and_after_side_by_side():
    text = report(manifest())
    assert "- Before: commit aaaa (/old); pallapp from /old/p" in text
    assert "one database per size" in text
    # Page, role, SQL before/after, then p50, p95 and CPU each before, after and after ÷ before.
    assert ("| today | nurse | 7 | 7 | 10.00 | 5.00 | 0.50 | 20.00 | 10.00 | 0.50 "
            "| 5.00 | 2.50 | 0.50 |") in text
    assert "before 2.0→3.5; after —" in text


def test_report_gives_the_saturated_throughput_against_the_target():
    text = report(manifest())
    assert ("40.00 → 100.0 requests/s, 2.50x; target ≥ 2x: **met**. Load average (1 min) "
            "before→after the run: before —, after 4.0→6.2.") in text
    assert "| mix req/s | 40.00 | 100.0 | 2.50 |" in text
    assert "| load average (1 min) before→after | — | 4.0→6.2 | |" in text
    assert "| today | 100 | 100 | 5.00 | 5.00 | 900.0 | 300.0 | 4.00 | 4.00 | 899.0 | 299.0 " \
           "| 0.33 |" in text
    assert "| login |" not in text  # start-up requests are not part of the steady mix

    slower = manifest()
    slower["load"]["saturate"]["after"] = load_run("saturate", 60.0, 300.0)
    assert "1.50x; target ≥ 2x: **missed**." in report(slower)


def test_report_shows_how_the_all_pages_grow_with_the_data():
    text = report(manifest())
    assert "| trends all | nurse | 4.00 | 2.00 |" in text
    assert "| today | nurse | 1.20" not in text


def test_load_rounds_are_merged_by_their_median():
    runs = [load_run("saturate", rps, p95) for rps, p95 in ((40.0, 900.0), (60.0, 100.0),
                                                          (50.0, 300.0))]
    merged = merge_load_rounds("saturate", runs)["modes"]["saturate"]["mix"]
    assert merged["total_rps"] == 50.0
    assert merged["rounds_rps"] == [40.0, 60.0, 50.0]
    assert merged["pages"]["today"]["requests"] == 300
    assert merged["pages"]["today"]["p95_ms"] == 300.0
    assert merge_load_rounds("saturate", runs[:1]) is runs[0]

    data = manifest()
    data["load"]["saturate"]["after"] = merge_load_rounds("saturate", runs)
    data["load"]["saturate"]["before"] = merge_load_rounds("saturate", runs[:2])
    text = report(data)
    assert "| mix req/s of each run | 40.0, 60.0 | 40.0, 60.0, 50.0 | |" in text
    assert "50.00 → 50.00 requests/s, 1.00x" in text
