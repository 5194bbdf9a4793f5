"""Which processes cpu_share.py counts for a piece, and its report, from hand-made data."""

from __future__ import annotations

from benchmarks.cpu_share import descendants, markdown


def test_descendants_are_the_whole_tree_below_the_roots() -> None:
    # pid: (parent, CPU seconds, command line)
    processes = {
        10: (1, 0.0, "gunicorn: master"),
        11: (10, 0.0, "gunicorn: worker"),
        12: (10, 0.0, "gunicorn: worker"),
        13: (12, 0.0, "a worker's child"),
        20: (1, 0.0, "another gunicorn: master"),
        21: (20, 0.0, "its worker"),
    }
    assert descendants({10}, processes) == {10, 11, 12, 13}
    assert descendants({20}, processes) == {20, 21}
    assert descendants({99}, processes) == {99}  # ended: only itself, no one else's children


def test_report_per_request_and_shares() -> None:
    # 100 requests; 1.0 s of Locust and 3.0 s of app CPU: 10 and 30 ms per request, 25 % and
    # 75 % of the 40 ms in all; a quiet 2-core machine: 2 / 0.040 = 50 requests per second.
    cpu = {"locust": 1.0, "nginx": 0.0, "app1": 3.0, "app2": 0.0, "postgres": 0.0,
           "redis": 0.0, "total": 4.0}
    result = {
        "label": "test", "date": "2026-11-30", "code": "/x", "git_commit": "abc",
        "load_average": {"start": [1, 1, 1], "end": [1, 1, 1]},
        "gunicorn": {"workers": 2}, "requests": 100, "seconds": 10.0,
        "requests_per_second": 10.0, "statuses": {"200": 100},
        "cpu_seconds": cpu,
        "cpu_ms_per_request": {piece: 1000 * seconds / 100 for piece, seconds in cpu.items()},
        "quiet_requests_per_second_2_cores": 50.0,
    }
    report = markdown(result)
    assert "| locust | 1.0 | 10.0 | 25 % |" in report
    assert "| app1 | 3.0 | 30.0 | 75 % |" in report
    assert "| total | 4.0 | 40.0 | 100 % |" in report
    assert "about 50.0 req/s" in report
