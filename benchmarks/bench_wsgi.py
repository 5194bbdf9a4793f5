"""WSGI entry point for the load run: pallapp plus a trivial "floor" endpoint in one process.

`gunicorn benchmarks.bench_wsgi:app` serves pallapp exactly as `wsgi.py` does, and answers
`/__floor/` from a separate minimal Flask app mounted with werkzeug's DispatcherMiddleware.
The floor shares the workers, the server settings and the machine with the real pages, so
the ratio page time / floor time says how much of a page's time is pallapp's own work
rather than the server, the network stack and the load generator (benchmarks/load.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask, Response
from werkzeug.middleware.dispatcher import DispatcherMiddleware

# Run from a checkout without installing the package: the repository root comes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pallapp import create_app  # noqa: E402

#: Where the floor is mounted; the locustfile requests FLOOR_PATH + "/".
FLOOR_PATH = "/__floor"


def create_floor_app() -> Flask:
    """The smallest Flask app that does the same kind of work per request: route, respond."""
    floor = Flask(__name__)

    @floor.get("/")
    def floor_page() -> Response:
        return Response("floor\n", mimetype="text/plain")

    return floor


def create_bench_app() -> DispatcherMiddleware:
    """pallapp at `/`, the floor at FLOOR_PATH, one WSGI callable for gunicorn."""
    return DispatcherMiddleware(create_app(), {FLOOR_PATH: create_floor_app()})


# Built at import because gunicorn imports `module:app`, as with `wsgi.py`.
app = create_bench_app()
