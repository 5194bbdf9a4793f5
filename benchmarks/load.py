"""Headless load run (issue 8): pallapp under gunicorn, simulated staff from Locust.

Run with
    python benchmarks/load.py --database-url URL --accounts FILE
        [--users 32] [--duration 60] [--warmup 10] [--workers 4] [--threads 1]
        [--wait 1,3] [--modes think,saturate] [--port 8150] [--out DIR]
        [--through-proxy [--redis-url URL]]

It starts gunicorn on benchmarks/bench_wsgi.py (pallapp plus a trivial Flask "floor" endpoint,
served by the same workers), then for each mode runs two Locust phases with the same users,
spawn rate and wait time:

1. floor: every user only requests the floor endpoint;
2. mix: nurses and physicians doing the real work (benchmarks/locustfile.py), with the floor
   requested now and then (`--floor-share`) so that it is measured under the same load.

The headline is each page's p50 and p95 divided by the floor's, measured in the same phase:
what the machine, the server, the network stack and Locust cost is in the floor, so the ratio
is pallapp's own weight, comparable across noisy runs. Absolute times are reported as well,
both as Locust sees them and as gunicorn measured them (its access log carries the page name
the locustfile sends in a header), for the DESIGN.md budget of p95 ≤ 50 ms server time.

Modes: `think` waits `--wait` seconds between a user's clicks (realistic), `saturate` waits 0
(throughput at saturation). The first `--warmup` seconds of every phase are discarded.

Settings: pallapp runs as in production (PALLAPP_ENV_NAME=production, a fresh random secret
key), except that its cookies are not marked Secure (PALLAPP_SESSION_COOKIE_SECURE=false), as
the run uses plain HTTP on 127.0.0.1.

`--through-proxy` runs the production topology instead (deploy/topology.py): nginx with TLS in
front of two gunicorn instances configured by deploy/gunicorn.conf.py (--workers and --threads
override it per instance), throttle counts in Redis, Secure cookies. Locust then talks HTTPS
to nginx (without checking the self-signed certificate: Locust's default), the floor passes
through nginx too, and the server times come from both instances' access logs. Locust runs as one process (no --processes): at 32
users it needs well under a core, and its CPU is part of what the floor measures.

Results: OUT/load.json and OUT/load.md, with Locust's CSV files and logs, and gunicorn's logs.
Timings depend on the machine: this is a script, not a timed test.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file from a checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.runinfo import git_commit, load_average, machine  # noqa: E402

LOCUSTFILE = ROOT / "benchmarks" / "locustfile.py"
WSGI_APP = "benchmarks.bench_wsgi:app"
FLOOR_URL = "/__floor/"
FLOOR = "floor"
# gunicorn's access log line: page name (request header sent by the locustfile), status,
# request time in microseconds, tab-separated.
ACCESS_LOG_FORMAT = "%({x-bench-page}i)s\t%(s)s\t%(D)s"
WARMUP_PAGE = "warmup"  # the header's value during the warm-up (locustfile.py)
# DESIGN.md, "Quality budgets": server p95 per common page at 32 users.
SERVER_P95_BUDGET_MS = 50.0
# Requests made once per user at start-up, not part of the steady state.
START_UP_PAGES = ("login form", "login", "start (redirect)")


# --- facts about the run ---------------------------------------------------------------------


def database_facts(url: str) -> dict[str, Any]:
    """Server version and the size of the data set the run reads (SQLAlchemy is at hand)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    facts: dict[str, Any] = {"url": engine.url.render_as_string(hide_password=True)}
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            version = "SQLite " + connection.execute(text("select sqlite_version()")).scalar_one()
        else:
            version = connection.execute(text("select version()")).scalar_one()
        facts["version"] = version
        counts = {}
        for table in ("patient", "user_account", "assessment", "flag", "prn_order",
                      "prn_administration"):
            counts[table] = connection.execute(
                text(f"select count(*) from {table}")  # noqa: S608  (fixed table names)
            ).scalar_one()
        facts["rows"] = counts
    engine.dispose()
    return facts


def package_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("gunicorn", "locust", "Flask", "SQLAlchemy")}


# --- gunicorn ---------------------------------------------------------------------------------


class Server:
    """gunicorn serving bench_wsgi on 127.0.0.1:port; `stop()` always ends it."""

    def __init__(self, args: argparse.Namespace, out: Path) -> None:
        self.port = args.port
        self.url = f"http://127.0.0.1:{args.port}"
        self.access_log = out / "gunicorn-access.log"
        self.error_log = out / "gunicorn.log"
        worker_class = "sync" if args.threads == 1 else "gthread"
        self.settings = {
            "instances": 1,
            "workers": args.workers,
            "threads": args.threads,
            "worker_class": worker_class,
            "bind": f"127.0.0.1:{args.port}",
            "timeout": 60,
            "app": WSGI_APP,
        }
        self.command = [
            sys.executable, "-m", "gunicorn",
            "--bind", self.settings["bind"],
            "--workers", str(args.workers),
            "--threads", str(args.threads),
            "--worker-class", worker_class,
            "--timeout", "60",
            "--graceful-timeout", "10",
            "--access-logfile", str(self.access_log),
            "--access-logformat", ACCESS_LOG_FORMAT,
            "--error-logfile", str(self.error_log),
            WSGI_APP,
        ]
        self.env = os.environ | {
            "PALLAPP_ENV_NAME": "production",
            "PALLAPP_SECRET_KEY": secrets.token_hex(32),
            "PALLAPP_DATABASE_URL": args.database_url,
            "PALLAPP_BASE_URL": "https://localhost",  # required in production; links only
            # Plain HTTP on 127.0.0.1: Secure cookies would never come back.
            "PALLAPP_SESSION_COOKIE_SECURE": "false",
            "PALLAPP_REMEMBER_COOKIE_SECURE": "false",
            # Each worker keeps its own login counts: production refuses that; a measurement
            # of page times does not depend on it.
            "PALLAPP_ACCEPT_PER_WORKER_LOGIN_LIMITS": "true",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        print("Server: " + " ".join(self.command[1:]), flush=True)
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env)  # noqa: S603
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(self._failure(f"gunicorn exited with {self.process.returncode}"))
            try:
                with urllib.request.urlopen(self.url + FLOOR_URL, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit(self._failure(f"gunicorn did not answer on {self.url} in {timeout:.0f} s"))

    def _failure(self, what: str) -> str:
        tail = ""
        if self.error_log.exists():
            tail = "\n".join(self.error_log.read_text(errors="replace").splitlines()[-20:])
        return f"load.py: {what}. Last lines of {self.error_log}:\n{tail}"

    def stop(self) -> None:
        """SIGTERM is gunicorn's graceful stop; kill it if it takes too long."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def access_log_size(self) -> dict[Path, int]:
        return {self.access_log: _size(self.access_log)}

    def server_times(self, since: dict[Path, int]) -> dict[str, list[float]]:
        return server_times(since)


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def server_times(since: dict[Path, int]) -> dict[str, list[float]]:
    """Request times in ms per page name from gunicorn access logs, each from its byte on."""
    times: dict[str, list[float]] = {}
    for path, offset in since.items():
        with path.open("rb") as log:
            log.seek(offset)
            for raw in log:
                parts = raw.decode(errors="replace").rstrip("\n").split("\t")
                if len(parts) != 3 or parts[0] in ("-", WARMUP_PAGE):
                    continue
                # A chart answered 304 is its own kind, as the locustfile names it: counted
                # with the drawn ones, it hid their time and had none of its own.
                name = f"{parts[0]} (304)" if parts[1] == "304" else parts[0]
                times.setdefault(name, []).append(int(parts[2]) / 1000)
    return times


class ProxiedServer:
    """The production topology (deploy/topology.py) serving bench_wsgi: nginx with TLS in
    front of two gunicorn instances. The same interface as Server."""

    def __init__(self, args: argparse.Namespace, out: Path) -> None:
        from deploy.topology import DEPLOY, Settings, Topology

        options = ["--access-logformat", ACCESS_LOG_FORMAT]
        deployed = _gunicorn_config(DEPLOY / "gunicorn.conf.py")
        # gunicorn's own defaults where the file says nothing.
        workers = args.workers if args.workers is not None else deployed.get("workers", 1)
        threads = args.threads if args.threads is not None else deployed.get("threads", 1)
        worker_class = deployed.get("worker_class", "sync")
        if args.workers is not None:
            options += ["--workers", str(workers)]
        if args.threads is not None:
            worker_class = "sync" if threads == 1 else "gthread"
            options += ["--threads", str(threads), "--worker-class", worker_class]
        settings = Settings(
            database_url=args.database_url,
            redis_url=args.redis_url,
            instance_dir=out / "topology",
            https_port=args.port,
            http_port=args.port + 1,
            app_ports=(args.port + 2, args.port + 3),
            wsgi_app=WSGI_APP,
            gunicorn_options=options,
            demo_data=False,
        )
        self.topology = Topology(settings)
        self.url = settings.url
        self.settings = {
            "proxy": "nginx " + _nginx_version() + ", TLS, request buffering, gzip",
            "instances": len(settings.app_ports),
            "workers": workers,
            "threads": threads if worker_class == "gthread" else 1,
            "worker_class": worker_class,
            "bind": settings.url + " → " + ", ".join(
                f"127.0.0.1:{port}" for port in settings.app_ports),
            "timeout": deployed.get("timeout"),
            "app": WSGI_APP,
        }

    def start(self) -> None:
        from deploy.topology import TopologyError

        print(f"Topology: {self.settings['bind']}", flush=True)
        try:
            self.topology.start()
        except TopologyError as error:
            raise SystemExit(f"load.py: {error}") from None

    def stop(self) -> None:
        self.topology.stop()

    def access_log_size(self) -> dict[Path, int]:
        return {i.access_log: _size(i.access_log) for i in self.topology.instances}

    def server_times(self, since: dict[Path, int]) -> dict[str, list[float]]:
        return server_times(since)


def _gunicorn_config(path: Path) -> dict[str, Any]:
    import runpy

    return runpy.run_path(str(path))


def _nginx_version() -> str:
    from deploy.topology import nginx_binary

    binary = nginx_binary()
    if binary is None:
        return "(not installed)"
    found = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    return found.stderr.strip().removeprefix("nginx version: nginx/")


# --- Locust -----------------------------------------------------------------------------------


def run_locust(
    args: argparse.Namespace, server: Server, out: Path, mode: str, phase: str,
    wait: tuple[float, float],
) -> dict[str, Any]:
    """One headless Locust phase; its statistics after the warm-up, per page name."""
    prefix = out / f"{mode}-{phase}"
    samples_file = prefix.with_name(prefix.name + "-samples.json")
    users = ["FloorUser"] if phase == "floor" else ["NurseUser", "PhysicianUser"]
    command = [
        sys.executable, "-m", "locust",
        "-f", str(LOCUSTFILE),
        "--headless", "--only-summary",
        "--host", server.url,
        "-u", str(args.users), "-r", str(args.spawn_rate),
        "-t", f"{args.warmup + args.duration}s",
        "--csv", str(prefix),
        "--warmup", str(args.warmup),
        "--wait-min", str(wait[0]), "--wait-max", str(wait[1]),
        "--floor-share", str(args.floor_share),
        "--samples-out", str(samples_file),
        *users,
    ]
    env = os.environ | {"PALLAPP_BENCH_ACCOUNTS": str(Path(args.accounts).resolve())}
    print(f"[{mode}/{phase}] locust {' '.join(command[3:])}", flush=True)
    log_path = prefix.with_name(prefix.name + "-locust.log")
    access_from = server.access_log_size()
    with log_path.open("wb") as log:
        # Locust exits with 1 when any request failed; the failures are reported below.
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                       check=False)
    time.sleep(1)  # the last access-log lines of requests cut short at the time limit
    log_text = log_path.read_text(errors="replace")
    if not samples_file.exists():
        raise SystemExit(f"load.py: Locust wrote no results; see {log_path}:\n{log_text[-2000:]}")
    measured = json.loads(samples_file.read_text())
    login_failed = log_text.count("LOGIN FAILED")
    if login_failed:
        print(f"[{mode}/{phase}] {login_failed} LOGIN(S) FAILED, see {log_path}", file=sys.stderr,
              flush=True)
    return {
        "csv": read_locust_csv(prefix),
        "failures_csv": read_failures_csv(prefix),
        "samples": measured["samples"],
        "server": server.server_times(access_from),
        "login_failed": login_failed,
        "log": str(log_path),
    }


def read_locust_csv(prefix: Path) -> dict[str, dict[str, Any]]:
    rows = {}
    with prefix.with_name(prefix.name + "_stats.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            rows[row["Name"]] = {
                "method": row["Type"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "locust_p50_ms": _number(row["50%"]),
                "locust_p95_ms": _number(row["95%"]),
                "locust_p99_ms": _number(row["99%"]),
            }
    return rows


def read_failures_csv(prefix: Path) -> list[dict[str, Any]]:
    path = prefix.with_name(prefix.name + "_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [
            {"method": r["Method"], "name": r["Name"], "error": r["Error"],
             "count": int(r["Occurrences"])}
            for r in csv.DictReader(f)
        ]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # "N/A"
        return None


# --- statistics -------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (no interpolation between two samples)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return round(value / floor, 2)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summarise(phase: dict[str, Any]) -> dict[str, Any]:
    """Per page: counts from Locust's CSV, percentiles from the exact samples, ratios to the
    floor measured in the same phase, and gunicorn's own request times."""
    floor_samples = phase["samples"].get(FLOOR, [])
    floor_p50, floor_p95 = percentile(floor_samples, 50), percentile(floor_samples, 95)
    pages = {}
    for name, counts in sorted(phase["csv"].items()):
        if name == "Aggregated" or counts["requests"] == 0:
            continue
        samples = phase["samples"].get(name, [])
        server = phase["server"].get(name, [])
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        pages[name] = counts | {
            "p50_ms": _ms(p50),
            "p95_ms": _ms(p95),
            "p99_ms": _ms(percentile(samples, 99)),
            "p50_floor_ratio": _ratio(p50, floor_p50),
            "p95_floor_ratio": _ratio(p95, floor_p95),
            "server_requests": len(server),
            "server_p50_ms": _ms(percentile(server, 50)),
            "server_p95_ms": _ms(percentile(server, 95)),
            "server_p99_ms": _ms(percentile(server, 99)),
        }
    total = phase["csv"].get("Aggregated", {})
    return {
        "total_requests": total.get("requests", 0),
        "total_failures": total.get("failures", 0),
        "total_rps": total.get("rps", 0.0),
        "floor_p50_ms": _ms(floor_p50),
        "floor_p95_ms": _ms(floor_p95),
        "pages": pages,
        "failures": phase["failures_csv"],
        "login_failed": phase["login_failed"],
        "locust_log": phase["log"],
    }


# --- report -----------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """Three significant figures or so: 0.42, 5.22, 44.4, 861.6."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return str(value)


def _server_line(server: dict[str, Any]) -> str:
    gunicorn = (f"gunicorn {server['worker_class']}, {server['workers']} workers × "
                f"{server['threads']} threads")
    if server.get("proxy"):
        return (f"- Server: {server['proxy']} ({server['bind']}) in front of "
                f"{server['instances']} instances, each {gunicorn}; pallapp in production "
                "settings, throttle counts in Redis")
    return (f"- Server: {gunicorn}, {server['bind']}; pallapp in production settings "
            "without Secure cookies (plain HTTP)")


def markdown(result: dict[str, Any]) -> str:
    run, machine, db = result["run"], result["machine"], result["database"]
    server = result["server"]
    lines = [
        "# pallapp load run",
        "",
        f"- Date: {run['date']}; commit {run['git_commit']}",
        f"- Machine: {machine['nproc']} CPUs, {machine['cpu']}, {machine['ram_gib']} GiB RAM; "
        f"load average at start {machine['load_average_at_start']}",
        f"- Database: {db['version']}",
        "- Data: " + ", ".join(f"{count} {table}" for table, count in db["rows"].items()),
        _server_line(server),
        f"- Load: Locust, one process, {run['users']} users spawned at {run['spawn_rate']}/s; "
        f"{run['warmup_s']} s warm-up discarded, then {run['duration_s']} s measured per phase; "
        f"mix = nurses 3 : physicians 1, floor share {run['floor_share']}",
        f"- Versions: {', '.join(f'{k} {v}' for k, v in result['versions'].items())}",
        "",
        "Times in ms as Locust saw them (exact samples, nearest rank) and as gunicorn measured "
        "them (server). Ratios: page ÷ the floor endpoint measured in the same phase.",
    ]
    for mode, data in result["modes"].items():
        floor, mix = data["floor"], data["mix"]
        wait = data["wait_s"]
        ratio = mix["total_rps"] / floor["total_rps"] if floor["total_rps"] else None
        lines += [
            "",
            f"## Mode: {mode} (wait {wait[0]:g}–{wait[1]:g} s)",
            "",
            f"- Floor only: {floor['total_rps']:.1f} req/s, floor p50 {_cell(floor['floor_p50_ms'])} "
            f"ms, p95 {_cell(floor['floor_p95_ms'])} ms, {floor['total_failures']} failures",
            f"- Mix: {mix['total_rps']:.1f} req/s ({_cell(ratio and round(ratio, 2))} × the "
            f"floor-only phase), floor under the mix p50 {_cell(mix['floor_p50_ms'])} ms, "
            f"p95 {_cell(mix['floor_p95_ms'])} ms, {mix['total_failures']} failures",
            "",
            "| page | requests | failures | req/s | p50 | p95 | p99 | p50 ÷ floor | p95 ÷ floor "
            "| server p50 | server p95 |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        if mode == "saturate":
            lines[-3:-3] = [
                "",
                "At saturation every request waits in gunicorn's queue, so Locust's times are "
                "mostly the queue and the ratios are near 1: read req/s and the server times.",
            ]
        for name, page in mix["pages"].items():
            if name in START_UP_PAGES:
                continue
            lines.append(
                f"| {name} | {page['requests']} | {page['failures']} | {page['rps']:.2f} "
                f"| {_cell(page['p50_ms'])} | {_cell(page['p95_ms'])} | {_cell(page['p99_ms'])} "
                f"| {_cell(page['p50_floor_ratio'])} | {_cell(page['p95_floor_ratio'])} "
                f"| {_cell(page['server_p50_ms'])} | {_cell(page['server_p95_ms'])} |"
            )
        over = [
            f"{name} ({page['server_p95_ms']:.0f} ms)"
            for name, page in mix["pages"].items()
            if name != FLOOR and (page["server_p95_ms"] or 0) > SERVER_P95_BUDGET_MS
        ]
        if over:
            lines += ["", f"Server p95 over the {SERVER_P95_BUDGET_MS:.0f} ms budget: "
                      + ", ".join(over)]
        for phase_name, phase in (("floor", floor), ("mix", mix)):
            if phase["login_failed"]:
                lines += ["", f"**{phase['login_failed']} LOGIN(S) FAILED in the {phase_name} "
                          "phase: the run is not valid.**"]
            if phase["failures"]:
                lines += ["", f"Failures ({phase_name}):", ""]
                lines += [f"- {f['count']} × {f['method']} {f['name']}: {f['error']}"
                          for f in phase["failures"]]
    return "\n".join(lines) + "\n"


# --- main -------------------------------------------------------------------------------------


def parse_wait(text: str) -> tuple[float, float]:
    parts = [float(p) for p in text.split(",")]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or parts[0] < 0 or parts[1] < parts[0]:
        raise argparse.ArgumentTypeError("--wait: MIN,MAX seconds (or one number), MIN ≤ MAX")
    return parts[0], parts[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="SQLAlchemy URL, e.g. postgresql+psycopg://postgres@127.0.0.1/x")
    parser.add_argument("--accounts", required=True, help="accounts JSON (see locustfile.py)")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--spawn-rate", type=float, default=8.0, help="users started per second")
    parser.add_argument("--duration", type=int, default=60, help="measured seconds per phase")
    parser.add_argument("--warmup", type=int, default=10, help="discarded seconds per phase")
    # 2 cores shared with PostgreSQL and Locust: 4 sync workers keep both cores busy while
    # some workers wait on the database, without many processes fighting for the CPU.
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn worker processes (default 4; through the proxy: "
                        "deploy/gunicorn.conf.py's, per instance)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per worker, more than 1: the gthread worker class "
                        "(default 1; through the proxy: deploy/gunicorn.conf.py's)")
    parser.add_argument("--wait", type=parse_wait, default=(1.0, 3.0),
                        help="think time MIN,MAX seconds for the think mode (default 1,3)")
    parser.add_argument("--modes", default="think",
                        help="comma-separated: think (wait --wait), saturate (wait 0)")
    parser.add_argument("--floor-share", type=float, default=0.1,
                        help="share of page views in the mix followed by a floor request")
    parser.add_argument("--port", type=int, default=8150,
                        help="gunicorn's port; through the proxy nginx's HTTPS port, and the "
                        "next three for its HTTP port and the two instances")
    parser.add_argument("--through-proxy", action="store_true",
                        help="run the production topology: nginx (TLS) and two instances")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0",
                        help="throttle counts of the instances (--through-proxy)")
    parser.add_argument("--out", type=Path, default=None,
                        help="result folder (default instance/bench/load-<time>, git-ignored)")
    args = parser.parse_args(argv)
    if not args.through_proxy:
        args.workers = 4 if args.workers is None else args.workers
        args.threads = 1 if args.threads is None else args.threads
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not args.modes or set(args.modes) - {"think", "saturate"}:
        parser.error("--modes takes think and/or saturate")
    if args.users / args.spawn_rate >= args.warmup:
        parser.error("the warm-up must be longer than the ramp-up (users / spawn rate)")
    if not Path(args.accounts).is_file():
        parser.error(f"no accounts file at {args.accounts}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    out = args.out or ROOT / "instance" / "bench" / f"load-{started:%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)

    database = database_facts(args.database_url)
    if not database["rows"]["patient"]:
        raise SystemExit("load.py: the database has no patients; load data first.")
    catalogue = ROOT / "translations" / "sv" / "LC_MESSAGES" / "messages.mo"
    if not catalogue.exists():
        print("load.py: warning: no compiled Swedish catalogue, pages render in English "
              "(pybabel compile -d translations)", file=sys.stderr)
    result: dict[str, Any] = {
        "run": {
            "date": started.isoformat(timespec="seconds"),
            "git_commit": git_commit(),
            "users": args.users,
            "spawn_rate": args.spawn_rate,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "floor_share": args.floor_share,
            "swedish_catalogue_compiled": catalogue.exists(),
            "locust_processes": 1,
        },
        "machine": {**machine(), "hostname": platform.node(),
                    "load_average_at_start": load_average()},
        "database": database,
        "versions": package_versions(),
        "modes": {},
    }

    server = ProxiedServer(args, out) if args.through_proxy else Server(args, out)
    result["server"] = server.settings
    try:
        server.start()
        for mode in args.modes:
            wait = args.wait if mode == "think" else (0.0, 0.0)
            phases = {
                phase: summarise(run_locust(args, server, out, mode, phase, wait))
                for phase in ("floor", "mix")
            }
            result["modes"][mode] = {"wait_s": list(wait), **phases}
    finally:
        server.stop()

    (out / "load.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    report = markdown(result)
    (out / "load.md").write_text(report)
    print(report)
    print(f"Results in {out}")
    failed_logins = sum(
        phase["login_failed"] for data in result["modes"].values()
        for phase in (data["floor"], data["mix"])
    )
    if failed_logins:
        print(f"load.py: {failed_logins} login(s) FAILED: check the accounts file and the "
              "database; the numbers above are not valid.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
