"""Gunicorn settings for one pallapp app host (docs/operations.md, "Production topology").

    gunicorn --config deploy/gunicorn.conf.py --bind 10.0.0.11:8000 wsgi:app

The worker class and counts were chosen from measurements through the proxy
(docs/operations.md). Options on the command line (or in GUNICORN_CMD_ARGS) override this
file, e.g. `--workers 4` on a host with more cores.
"""

import re

from gunicorn import glogging

wsgi_app = "wsgi:app"

worker_class = "gthread"
workers = 2
threads = 4

# A request that runs for 30 s is stuck: the worker is replaced. nginx waits 60 s.
timeout = 30
# On SIGTERM (a deploy, a stop) requests in progress get this long to finish.
graceful_timeout = 20
# Longer than the proxy's upstream keepalive_timeout (30 s): nginx, not gunicorn, closes idle
# connections, so nginx never sends a request on a connection gunicorn is closing.
keepalive = 35

# Access log: the client's address as the proxy saw it, the proxy's, the request and its time
# in microseconds.
access_log_format = '%({x-forwarded-for}i)s via %(h)s "%(r)s" %(s)s %(b)s %(D)sus'

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
