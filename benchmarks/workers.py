"""gunicorn worker settings compared through the production topology, with wrk.

    python benchmarks/workers.py --template-database pallapp_demo
        [--server postgresql+psycopg://postgres@127.0.0.1:5432] [--redis-url URL]
        [--configs sync:2:1,sync:4:1,gthread:2:4] [--rounds 3] [--connections 8,32]
        [--duration 10] [--out instance/bench/workers]

For every round and every configuration (class:workers:threads, per instance) it copies the
template database (a database filled by `flask demo-data` or benchmarks/generate.py), starts
deploy/topology.py with those gunicorn options, logs in as the first nurse of the accounts
file (default: the demo accounts), and runs wrk (Debian package `wrk`) against nginx for each
connection count: no think time, the nurse's Today page, a patient page, its trends and flags,
and the unit overview in turn, gzip accepted as a browser does. The configurations take turns
within a round, so a change in what else the machine is doing spreads over all of them.

Writes workers.json and workers.md (requests per second and latency percentiles per run, and
the median over rounds) to --out. wrk does not check the self-signed certificate.
"""

from __future__ import annotations

import argparse
import datetime
import http.cookiejar
import json
import re
import shutil
import statistics
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file from a checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.runinfo import git_commit, load_average, machine  # noqa: E402
from deploy.topology import Settings, Topology  # noqa: E402


def copy_database(server: str, template: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(server.rstrip("/") + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    engine.dispose()
    return server.rstrip("/") + "/" + name


def log_in(topology: Topology, email: str, password: str) -> tuple[str, str]:
    """The session cookie of a fresh login, and the first patient on the nurse's Today page."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=topology.ssl_context()),
        urllib.request.HTTPCookieProcessor(jar := http.cookiejar.CookieJar()),
    )
    with opener.open(topology.url + "/login") as response:
        form = response.read().decode()
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    if csrf is None:
        raise SystemExit("workers.py: no CSRF token on the login page")
    fields = {"csrf_token": csrf.group(1), "email": email, "password": password, "next": ""}
    request = urllib.request.Request(  # noqa: S310 - https to the topology only
        topology.url + "/login", data=urllib.parse.urlencode(fields).encode(),
        headers={"Referer": topology.url + "/login"},
    )
    with opener.open(request) as response:
        response.read()
    with opener.open(topology.url + "/today") as response:
        today = response.read().decode()
    patient = re.search(r'href="(/patients/[\w-]{16})"', today)  # a public id: 16 characters
    cookie = next((c for c in jar if c.name == "pallapp_session"), None)
    if patient is None or cookie is None:
        raise SystemExit(f"workers.py: the login as {email} did not lead to a Today page")
    return f"{cookie.name}={cookie.value}", patient.group(1)


def run_wrk(topology: Topology, cookie: str, patient: str, connections: int, duration: int,
            script: Path) -> dict[str, Any]:
    paths = ["/today", patient, patient + "/trends", "/overview", patient + "/flags"]
    script.write_text(
        "local paths = {" + ", ".join(f'"{p}"' for p in paths) + "}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\n'
        "end\n"
    )
    output = subprocess.run(  # noqa: S603 - wrk with our arguments
        [shutil.which("wrk") or "wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency",
         "--timeout", "20s", "-H", f"Cookie: {cookie}", "-H", "Accept-Encoding: gzip",
         "-s", str(script), topology.url],
        capture_output=True, text=True, check=True,
    ).stdout
    latency = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M)}
    not_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "latency_ms": latency,
        "not_ok": int(not_ok.group(1)) if not_ok else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# gunicorn worker settings through the topology (wrk)",
        "",
        f"- {result['date']}, commit {result['commit']}; {result['machine']['nproc']} CPUs, "
        f"{result['machine']['cpu']}; load average at start {result['load_average_at_start']}",
        f"- template database {result['template']}, {result['duration_s']} s per run, "
        "2 app instances behind nginx; settings per instance",
        "",
        "| round | configuration | connections | req/s | p50 ms | p90 ms | p99 ms | not 2xx/3xx | load avg |",
        "|--:|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for run in result["runs"]:
        lat = run["latency_ms"]
        lines.append(
            f"| {run['round']} | {run['config']} | {run['connections']} | {run['rps']:.1f} "
            f"| {lat.get('50', 0):.0f} | {lat.get('90', 0):.0f} | {lat.get('99', 0):.0f} "
            f"| {run['not_ok']} | {run['load_average']} |"
        )
    lines += ["", "Median over rounds:", "",
              "| configuration | connections | req/s | p50 ms | p99 ms |", "|---|--:|--:|--:|--:|"]
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for run in result["runs"]:
        groups.setdefault((run["config"], run["connections"]), []).append(run)
    for (config, connections), runs in groups.items():
        lines.append(
            f"| {config} | {connections} | {statistics.median(r['rps'] for r in runs):.1f} "
            f"| {statistics.median(r['latency_ms'].get('50', 0) for r in runs):.0f} "
            f"| {statistics.median(r['latency_ms'].get('99', 0) for r in runs):.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--template-database", required=True,
                        help="a database with data (demo or generated); copied for each run")
    parser.add_argument("--accounts", type=Path, default=ROOT / "benchmarks/accounts-demo.json")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--configs", default="sync:2:1,sync:4:1,gthread:2:4",
                        help="class:workers:threads per instance, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="8,32")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--port", type=int, default=8450,
                        help="nginx's HTTPS port; the next three for HTTP and the instances")
    parser.add_argument("--out", type=Path, default=ROOT / "instance/bench/workers")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("workers.py: wrk is not installed (Debian: apt-get install wrk)")
    accounts = json.loads(args.accounts.read_text())
    email, password = accounts["nurses"][0], accounts["password"]
    configs = [tuple(c.split(":")) for c in args.configs.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(), "machine": machine(),
        "load_average_at_start": load_average(), "template": args.template_database,
        "duration_s": args.duration, "runs": [],
    }
    for round_number in range(1, args.rounds + 1):
        for worker_class, workers, threads in configs:
            name = f"{worker_class} {workers}×{threads}"
            url = copy_database(args.server, args.template_database, "pallapp_bench_workers")
            topology = Topology(Settings(
                database_url=url, redis_url=args.redis_url, instance_dir=args.out / "topology",
                https_port=args.port, http_port=args.port + 1,
                app_ports=(args.port + 2, args.port + 3), demo_data=False,
                gunicorn_options=["--worker-class", worker_class, "--workers", workers,
                                  "--threads", threads, "--access-logfile", "/dev/null"],
            ))
            topology.start()
            try:
                cookie, patient = log_in(topology, email, password)
                for connections in (int(c) for c in args.connections.split(",")):
                    average = load_average()
                    run = run_wrk(topology, cookie, patient, connections, args.duration,
                                  args.out / "mix.lua")
                    run |= {"round": round_number, "config": name, "connections": connections,
                            "load_average": average[0] if average else None}
                    print(json.dumps(run), flush=True)
                    result["runs"].append(run)
            finally:
                topology.stop()
    (args.out / "workers.json").write_text(json.dumps(result, indent=1) + "\n")
    report = markdown(result)
    (args.out / "workers.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
