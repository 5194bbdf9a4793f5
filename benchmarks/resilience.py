"""The production topology under two kinds of trouble, with the figures the tests measure.

    python benchmarks/resilience.py [--out instance/bench/resilience]

Runs two tests of tests/topology/test_topology.py (nginx with TLS in front of two gunicorn
instances on PostgreSQL, deploy/topology.py) and keeps what they measured
(PALLAPP_TOPOLOGY_REPORT):

- slow clients: more connections trickling a request (header lines or a body) than both
  instances have workers, while a normal user keeps asking for the login page; then, as the
  control, the same slow bodies sent straight at one instance without the proxy;
- failover: three nurses empty their outboxes (24 forms) and one instance is killed after six
  are stored; every form must be stored exactly once.

The tests fail when a limit is broken (an answer slower than 1 s, a lost or doubled form), so a
report here is also a pass. Needs nginx and PostgreSQL as the tests do
(PALLAPP_TEST_POSTGRES_URL, default the machine's `test` server).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file from a checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.runinfo import git_commit, load_average  # noqa: E402

TESTS = (
    "tests/topology/test_topology.py::test_slow_clients_wait_in_the_proxy_not_in_a_worker",
    "tests/topology/test_topology.py::"
    "test_one_instance_killed_mid_run_loses_and_doubles_no_submission",
)
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def markdown(figures: dict[str, dict[str, object]], commit: str, load: str) -> str:
    slow, failover = figures.get("slow_clients", {}), figures.get("failover", {})
    lines = [f"Commit {commit}; load average before the run {load}.", ""]
    if slow:
        lines += [
            "| slow clients | figure |", "|---|--:|",
            f"| connections trickling (header / body) | {slow['slow_clients']} "
            f"({slow['header_trickles']} / {slow['body_trickles']}) |",
            f"| worker threads of both instances | {slow['worker_threads_in_both_instances']} |",
            f"| normal user's answers through nginx: median / slowest | "
            f"{slow['normal_answer_median_s']} s / {slow['normal_answer_max_s']} s "
            f"({slow['normal_requests']} requests) |",
            f"| header trickles closed by nginx after | {slow['header_cut_off_after_s']} s |",
            f"| control, {slow['direct_slow_clients']} slow bodies straight at one instance: "
            f"answer within 3 s | {'yes' if slow['direct_answer_within_3_s'] else 'no'} |",
            f"| that instance answering again after the slow clients left | "
            f"{slow['direct_recovered_after_s']} s |",
            "",
        ]
    if failover:
        lines += [
            "| one instance killed mid-run | figure |", "|---|--:|",
            f"| forms sent by {failover['nurses']} nurses | {failover['forms']} |",
            f"| stored once / twice or more / lost | {failover['stored_once']} / "
            f"{failover['stored_twice_or_more']} / {failover['lost']} |",
            f"| stored by instance 1 before it was killed | "
            f"{failover['posts_on_instance_1_before_kill']} |",
            f"| forms the client had to send again | {failover['forms_sent_more_than_once']} "
            f"({failover['sends_in_all']} sends in all) |",
            f"| wait from first send to stored: median / longest | "
            f"{failover['median_wait_s']} s / {failover['longest_wait_s']} s |",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("instance/bench/resilience"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report = (args.out / "resilience.json").resolve()
    report.unlink(missing_ok=True)
    averages = load_average()
    load = " ".join(f"{value:.2f}" for value in averages) if averages else "(unknown)"
    env = os.environ | {
        "PALLAPP_ENV_NAME": "testing",
        "PALLAPP_TOPOLOGY_REPORT": str(report),
        "PALLAPP_TEST_POSTGRES_URL": os.environ.get("PALLAPP_TEST_POSTGRES_URL", POSTGRES),
    }
    command = [sys.executable, "-m", "pytest", "-q", *TESTS]
    finished = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603
    if finished.returncode != 0 or not report.exists():
        raise SystemExit(f"resilience.py: the topology tests failed or skipped "
                         f"(exit {finished.returncode}); no figures")
    figures = json.loads(report.read_text())
    text = markdown(figures, git_commit(), load)
    (args.out / "resilience.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
