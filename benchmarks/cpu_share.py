"""CPU seconds per request of each piece of the production topology at saturation (issue 19).

    python benchmarks/cpu_share.py --template-database NAME --accounts FILE
        [--warmup 15] [--duration 60] [--users 32] [--workers N] [--threads N]
        [--port 8350] [--label main] [--out DIR]

On a shared, loaded machine requests per second say little: they depend on what the other
processes take. The CPU time each process spends per request does not (much), and on a
quiet machine with N cores the saturated throughput is about N core-seconds divided by the
CPU seconds all pieces together spend per request. So this script runs the topology of
`benchmarks/load.py --through-proxy` (deploy/topology.py: nginx with TLS, two gunicorn
instances, PostgreSQL, Redis) under Locust's saturating mix (benchmarks/locustfile.py, no
think time), and reads every process's CPU time (user + system, /proc/PID/stat) at the end
of the warm-up (`--warmup` seconds after the last user has logged in: the password
checks are not the steady state) and at the end of the measured window, sampling once a second in between so
that a PostgreSQL backend that ends early still counts. Per piece:

- locust: the Locust process (the load generator, not the system under test, but it shares
  the cores);
- nginx: the master and its workers;
- app1, app2: each gunicorn master and its workers;
- postgres: the backends connected to this run's database (the server's shared background
  processes serve every database on the machine and are left out);
- redis: a redis-server started for the run alone, on a free port.

Requests are the lines nginx wrote to its access log in the window (every page, chart image
and floor request; static files are not logged and Locust fetches none). Each run works on a
fresh copy of the template database (CREATE DATABASE ... TEMPLATE), dropped afterwards.

The code measured is whatever `benchmarks.load` and `deploy.topology` resolve to: to measure
another checkout, run this file with that checkout first on PYTHONPATH and as the working
directory, e.g. `cd ../main && PYTHONPATH=$PWD python ../wt/x/benchmarks/cpu_share.py ...`.

Results: OUT/cpu_share.json and OUT/cpu_share.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import load
from benchmarks.runinfo import git_commit, load_average, machine

PIECES = ("locust", "nginx", "app1", "app2", "postgres", "redis")
TICKS = os.sysconf("SC_CLK_TCK")


# --- processes --------------------------------------------------------------------------------


def read_processes() -> dict[int, tuple[int, float, str]]:
    """Every process's (parent pid, CPU seconds used, command line) from /proc."""
    found: dict[int, tuple[int, float, str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # ended while being read
            continue
        # The command name (field 2) may hold spaces and parentheses: fields after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        parent, user, system = int(fields[1]), int(fields[11]), int(fields[12])
        found[int(entry.name)] = (parent, (user + system) / TICKS, command)
    return found


def descendants(roots: set[int], processes: dict[int, tuple[int, float, str]]) -> set[int]:
    """The roots and every process below them."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu, _command) in processes.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo += children.get(pid, [])
    return found


class Sampler:
    """CPU seconds per piece: each process's last reading minus its reading at `start()`
    (0 for a process that started later). Samples once a second in a thread."""

    def __init__(self, roots: dict[str, int], database: str) -> None:
        self.roots = roots  # piece -> the pid at the top of its process tree
        self.database = database
        self.baseline: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _classify(self, processes: dict[int, tuple[int, float, str]]) -> dict[int, str]:
        piece_of: dict[int, str] = {}
        for piece, root in self.roots.items():
            for pid in descendants({root}, processes):
                piece_of[pid] = piece
        marker = f" {self.database} "
        for pid, (_parent, _cpu, command) in processes.items():
            if command.startswith("postgres: ") and marker in command:
                piece_of[pid] = "postgres"
        return piece_of

    def sample(self) -> None:
        processes = read_processes()
        for pid, piece in self._classify(processes).items():
            self.last[pid] = (piece, processes[pid][1])

    def start(self) -> None:
        processes = read_processes()
        self.baseline = {pid: processes[pid][1] for pid in self._classify(processes)}
        self.last = {}
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self.sample()
        used = dict.fromkeys(PIECES, 0.0)
        for pid, (piece, cpu) in self.last.items():
            used[piece] += cpu - self.baseline.get(pid, 0.0)
        return used


# --- the run ----------------------------------------------------------------------------------


def psql_admin(url: str, statement: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("cpu_share.py: redis-server is not installed")
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return process


def wait_for_logins(access_log: Path, users: int, locust: subprocess.Popen[bytes]) -> None:
    """Until every user has logged in (a password check costs far more than a page, and
    happens once per user, not in the steady state)."""
    while locust.poll() is None:
        text = access_log.read_text(errors="replace") if access_log.exists() else ""
        if text.count('"POST /login HTTP/1.1" 302') >= users:
            return
        time.sleep(1)
    raise SystemExit("cpu_share.py: Locust stopped before every user had logged in")


def line_count(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def measure(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    database = f"{args.template_database}_cpu{secrets.token_hex(3)}"
    base_url = args.database_url.rsplit("/", 1)[0]
    url = f"{base_url}/{database}"
    psql_admin(url, f'CREATE DATABASE "{database}" TEMPLATE "{args.template_database}"')
    redis_port = args.port + 10
    redis = start_redis(redis_port, out)
    load_args = load.parse_args([
        "--database-url", url, "--accounts", args.accounts, "--through-proxy",
        "--redis-url", f"redis://127.0.0.1:{redis_port}/0", "--port", str(args.port),
        "--users", str(args.users), "--warmup", str(args.warmup),
        "--duration", str(args.duration), "--modes", "saturate",
        *(["--workers", str(args.workers)] if args.workers else []),
        *(["--threads", str(args.threads)] if args.threads else []),
    ])
    server = load.ProxiedServer(load_args, out)
    try:
        server.start()
        topology = server.topology
        prefix = out / "saturate-mix"
        command = [
            sys.executable, "-m", "locust", "-f", str(load.LOCUSTFILE),
            "--headless", "--only-summary", "--host", server.url,
            "-u", str(args.users), "-r", str(load_args.spawn_rate),
            "--csv", str(prefix), "--warmup", "0", "--wait-min", "0", "--wait-max", "0",
            "--floor-share", str(load_args.floor_share),
            "NurseUser", "PhysicianUser",
        ]
        env = os.environ | {"PALLAPP_BENCH_ACCOUNTS": str(Path(args.accounts).resolve())}
        with (out / "locust.log").open("wb") as log:
            locust = subprocess.Popen(  # noqa: S603 - our own command line
                command, env=env, stdout=log, stderr=subprocess.STDOUT)
            wait_for_logins(topology.nginx_access_log, args.users, locust)
            time.sleep(args.warmup)
            assert topology.nginx is not None
            roots = {"locust": locust.pid, "nginx": topology.nginx.pid, "redis": redis.pid}
            roots |= {f"app{i.number}": i.process.pid for i in topology.instances if i.process}
            sampler = Sampler(roots, database)
            requests_before = line_count(topology.nginx_access_log)
            load_before = load_average()
            started = time.monotonic()
            sampler.start()
            time.sleep(args.duration)
            used = sampler.stop()
            seconds = time.monotonic() - started
            requests = line_count(topology.nginx_access_log) - requests_before
            load_after = load_average()
            locust.send_signal(signal.SIGTERM)  # Locust's graceful stop
            locust.wait()
        statuses: dict[str, int] = {}
        for line in topology.nginx_access_log.read_text(errors="replace").splitlines():
            status = line.split('" ', 1)[1].split()[0] if '" ' in line else "?"
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        server.stop()
        redis.terminate()
        redis.wait()
        psql_admin(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    used["total"] = sum(used.values())
    return {
        "label": args.label,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "code": str(Path(load.__file__).resolve().parents[1]),
        "machine": machine(),
        "load_average": {"start": load_before, "end": load_after},
        "users": args.users,
        "gunicorn": {key: server.settings[key] for key in ("workers", "threads", "worker_class")},
        "seconds": round(seconds, 1),
        "requests": requests,
        "requests_per_second": round(requests / seconds, 1),
        "statuses": statuses,
        "cpu_seconds": {piece: round(cpu, 2) for piece, cpu in used.items()},
        "cpu_ms_per_request": {
            piece: round(1000 * cpu / requests, 2) if requests else None
            for piece, cpu in used.items()
        },
        "quiet_requests_per_second_2_cores":
            round(2 * requests / used["total"], 1) if used["total"] else None,
    }


def markdown(result: dict[str, Any]) -> str:
    per = result["cpu_ms_per_request"]
    total = per["total"] or 0
    lines = [
        f"# CPU per request at saturation: {result['label']}",
        "",
        f"- {result['date']}, code {result['code']} ({result['git_commit']}); "
        f"load average {result['load_average']['start']} → {result['load_average']['end']}",
        f"- gunicorn per instance: {result['gunicorn']}",
        f"- {result['requests']} requests in {result['seconds']} s "
        f"({result['requests_per_second']} req/s here); statuses {result['statuses']}",
        f"- On a quiet 2-core machine: about {result['quiet_requests_per_second_2_cores']} req/s "
        "(2 core-seconds ÷ total CPU per request)",
        "",
        "| piece | CPU s | CPU ms per request | share |",
        "|---|--:|--:|--:|",
    ]
    for piece in (*PIECES, "total"):
        cpu = result["cpu_seconds"][piece]
        share = f"{100 * per[piece] / total:.0f} %" if total else "–"
        lines.append(f"| {piece} | {cpu} | {per[piece]} | {share} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template-database", required=True,
                        help="PostgreSQL database copied for the run (generated data)")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/x",
                        help="server to use; the database name in it is ignored")
    parser.add_argument("--accounts", required=True)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=15,
                        help="seconds after the last user logged in before measuring")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--port", type=int, default=8350,
                        help="nginx's HTTPS port; the next three and port+10 (Redis) are used too")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers per instance (default: deploy/gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per worker; more than 1 is the gthread worker class")
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="cpu_share-"))
    out.mkdir(parents=True, exist_ok=True)
    result = measure(args, out)
    (out / "cpu_share.json").write_text(json.dumps(result, indent=2) + "\n")
    report = markdown(result)
    (out / "cpu_share.md").write_text(report)
    print(report)
    print(f"Results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
