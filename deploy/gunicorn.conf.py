"""Gunicorn settings for one pallapp app host (docs/operations.md, "Production topology").

    gunicorn --config deploy/gunicorn.conf.py --bind 10.0.0.11:8000 wsgi:app

The worker class and counts were chosen from measurements through the proxy
(docs/operations.md). Options on the command line (or in GUNICORN_CMD_ARGS) override this
file, e.g. `--workers 4` on a host with more cores.
"""

import re

from gunicorn import glogging

# The app's worker count and start-up checks, once in the master (pallapp.config).
from pallapp.config import gunicorn_on_starting as on_starting  # noqa: F401  (a gunicorn hook)
from pallapp.config import (  # noqa: F401  (a gunicorn hook)
    gunicorn_post_worker_init as post_worker_init,
)

wsgi_app = "wsgi:app"

# Sync workers, two per core of the app host (one computes while the other waits for
# PostgreSQL). pallapp's pages are CPU-bound (rendering, 10-15 short queries each): threads
# share one interpreter lock, so gthread adds no throughput, and in short runs through the
# proxy it gave longer tails at saturation. Sync workers hold a worker while a client sends or
# reads slowly: nginx's buffering in front is what makes them safe. Measurements and how to
# repeat them: docs/operations.md, "Worker class and counts". 2 here: the measured instance
# had one core; pass --workers for a host with more.
worker_class = "sync"
workers = 2

# A request that runs for 30 s is stuck: the worker is replaced. nginx waits 60 s.
timeout = 30
# On SIGTERM (a deploy, a stop) requests in progress get this long to finish.
graceful_timeout = 20
# Sync workers close every connection after its answer; with --worker-class gthread idle
# connections stay open this long, longer than the proxy's upstream keepalive_timeout (30 s):
# nginx, not gunicorn, closes them, so nginx never sends a request on one gunicorn is closing.
keepalive = 35

# Access log: the client's address (the app takes it from the proxy's X-Forwarded-For), the
# request, its status, size and time in microseconds.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus'

_INVITATION = re.compile(r"(/invitation/)[^\s?]+")


class Logger(glogging.Logger):
    """gunicorn's logger, without invitation tokens: an invitation link works once for whoever
    has it, so its token must not sit in a log file (the proxy leaves it out too)."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U"):
            atoms[key] = _INVITATION.sub(r"\1(token)", atoms[key])
        return atoms


logger_class = Logger

# gunicorn 25.1+ opens a control socket (for gunicornc) at one path per user; nothing uses it,
# and two instances on one machine would share it. Older versions ignore the setting.
control_socket_disable = True
