"""The full benchmark on PostgreSQL: the region at 1x, 10x and 100x history, then the load run.

    python benchmarks/full.py [--server postgresql+psycopg://postgres@127.0.0.1:5432]
        [--out instance/bench/full] [--scales 1,10,100] [--duration 60]
        [--direct] [--redis-url redis://127.0.0.1:6379/0]

For each history scale it (re)creates the database `pallapp_bench_x<scale>`, fills it with
benchmarks/generate.py (2,000 patients, 200 staff, 20 units), and runs benchmarks/pages.py
(query counts, page weight, server time per page). benchmarks/compare.py then puts the sizes
side by side. The load run (benchmarks/load.py: 32 Locust users, the floor endpoint) runs
against a fresh copy of the largest database, since a load run adds rows, through the
production topology (nginx with TLS in front of two gunicorn instances, deploy/; it needs
nginx and Redis), or with --direct against one gunicorn over plain HTTP as before. Everything it
writes goes to --out; RESULTS.md is written by hand from it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent


def recreate(server: str, name: str, template: str | None = None) -> str:
    """Drop and create database `name` (from `template` if given); return its URL."""
    engine = create_engine(server.rstrip("/") + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        copy = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    engine.dispose()
    return make_url(server.rstrip("/") + "/" + name).render_as_string(hide_password=False)


def run(*args: str) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run([sys.executable, *args], check=True)  # noqa: S603 - our own scripts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--out", type=Path, default=Path("instance/bench/full"))
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--repeat", default="20", help="timed requests per page (pages.py)")
    parser.add_argument("--duration", default="60", help="measured seconds per load phase")
    parser.add_argument("--modes", default="think,saturate")
    parser.add_argument("--direct", action="store_true",
                        help="load one gunicorn over plain HTTP instead of the topology")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0",
                        help="the instances' shared throttle counts (through the topology)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    scales = [scale.strip() for scale in args.scales.split(",")]
    accounts = args.out / "accounts.json"
    for scale in scales:
        url = recreate(args.server, f"pallapp_bench_x{scale}")
        run("-m", "benchmarks.generate", "--database-url", url, "--history-scale", scale,
            "--accounts", str(accounts))
        run(str(HERE / "pages.py"), "--database-url", url, "--accounts", str(accounts),
            "--repeat", args.repeat, "--label", f"x{scale}", "--out", str(args.out))
    run(str(HERE / "compare.py"), *(str(args.out / f"pages-x{s}.json") for s in scales),
        "--output", str(args.out / "compare.md"))
    largest = f"pallapp_bench_x{scales[-1]}"
    copy = recreate(args.server, largest + "_load", template=largest)
    topology = [] if args.direct else ["--through-proxy", "--redis-url", args.redis_url]
    run(str(HERE / "load.py"), "--database-url", copy, "--accounts", str(accounts),
        "--duration", args.duration, "--modes", args.modes, "--out", str(args.out / "load"),
        *topology)


if __name__ == "__main__":
    main()
