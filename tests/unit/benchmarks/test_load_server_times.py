"""How load.py reads the server's time per request kind from gunicorn's access logs."""

from __future__ import annotations

from pathlib import Path

from benchmarks.load import server_times


def test_server_times_keep_a_304_apart_and_skip_the_warm_up(tmp_path: Path) -> None:
    # Lines as ACCESS_LOG_FORMAT writes them: page header, status, microseconds.
    log = tmp_path / "access.log"
    already_read = "trend chart\t200\t99000\n"
    log.write_text(
        already_read
        + "trend chart\t200\t21000\n"
        + "trend chart\t304\t4000\n"
        + "warmup\t200\t1000\n"
        + "-\t200\t1000\n"
        + "today\t200\t9500\n"
        + "not a log line\n"
    )
    times = server_times({log: len(already_read)})
    assert times == {
        "trend chart": [21.0],  # 21,000 µs; the 99 ms before the offset is not read
        "trend chart (304)": [4.0],  # the 304 as the locustfile names it
        "today": [9.5],
    }
