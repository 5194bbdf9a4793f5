"""Static files: fingerprinted URLs, a year in every cache, no cookies, compressed answers.

A phone on a weak link should fetch app.css and the scripts once, not on every page:
- every `url_for("static", ...)` gets `?v=<content hash>`; a changed file gets a new URL, so an
  answer for a fingerprinted URL may be kept for a year and never revalidated (`immutable`);
  a URL without the current fingerprint (an old page, a hand-typed address) is kept an hour;
- a static answer carries no session cookie and no `Vary: Cookie`: it is the same for
  everyone, and a shared cache (or the service worker) may keep it;
- HTML, CSS, JavaScript and JSON are compressed by Flask-Compress when the app serves them
  itself (`make run`, tests); in production nginx compresses and serves /static/ with the same
  rules (deploy/nginx/pallapp.conf.in).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, cast

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_compress import Compress
from itsdangerous import URLSafeTimedSerializer

#: Endpoints whose answers are the same for everyone: never a cookie, never `Vary: Cookie`.
COOKIELESS_ENDPOINTS = frozenset(
    {"static", "offline.service_worker", "offline.manifest", "offline.page"}
)

#: A year, the longest lifetime HTTP caches are asked to honour (RFC 9111 §5.2.2.1 suggests
#: max-age values up to 2^31 s may be ignored; a year is the usual ceiling), with `immutable`
#: (RFC 8246) so that browsers do not revalidate on reload.
FINGERPRINTED = "public, max-age=31536000, immutable"
UNFINGERPRINTED = "public, max-age=3600"

#: What Flask-Compress compresses (text only: images and fonts are compressed already).
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
]


class _Fingerprints:
    """Content hashes of static files, computed once per file (again when its mtime changes)."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder).resolve()
        self.known: dict[str, tuple[str, float, str]] = {}

    def of(self, filename: str) -> str | None:
        cached = self.known.get(filename)
        if cached is not None:
            # A name already checked to lie inside the folder: one stat, not a path walk (every
            # page links a handful of static files).
            resolved, mtime, digest = cached
            try:
                if os.stat(resolved).st_mtime == mtime:
                    return digest
            except OSError:
                pass
        path = (self.folder / filename).resolve()
        if not path.is_relative_to(self.folder) or not path.is_file():
            return None
        mtime = path.stat().st_mtime
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self.known[filename] = (str(path), mtime, digest)
        return digest


def static_fingerprint(app: Flask, filename: str) -> str | None:
    fingerprints: _Fingerprints = app.extensions["pallapp_fingerprints"]
    return fingerprints.of(filename)


def is_cookieless() -> bool:
    return request.endpoint in COOKIELESS_ENDPOINTS


class SessionWithoutStaticCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except that static answers neither set nor vary on it."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if is_cookieless():
            return
        super().save_session(app, session, response)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # Flask builds the serializer twice a request (reading the cookie, writing it), and
        # itsdangerous serializes an empty dict each time to learn that it writes text. It holds
        # nothing of a request: the one built for the same keys is used again.
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        cached = app.extensions.get("pallapp_session_serializer")
        if cached is not None and cached[0] == keys:
            return cast(URLSafeTimedSerializer, cached[1])
        serializer = super().get_signing_serializer(app)
        app.extensions["pallapp_session_serializer"] = (keys, serializer)
        return serializer


def install_static_files(app: Flask) -> None:
    app.extensions["pallapp_fingerprints"] = _Fingerprints(app.static_folder or "static")
    app.session_interface = SessionWithoutStaticCookies()
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    # gzip only: every browser takes it, and nginx produces the same in production.
    app.config.setdefault("COMPRESS_ALGORITHM", ["gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["gzip"])
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_STREAMS", True)
    Compress(app)

    @app.url_defaults
    def fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = static_fingerprint(app, values["filename"])
            if digest is not None:
                values["v"] = digest


def static_cache_control(app: Flask, response: Response) -> None:
    """The caching headers of a static answer (called by the factory's header hook)."""
    if request.endpoint != "static" or response.status_code >= 400:
        return
    filename = (request.view_args or {}).get("filename", "")
    current = static_fingerprint(app, filename)
    fingerprinted = current is not None and request.args.get("v") == current
    response.headers["Cache-Control"] = FINGERPRINTED if fingerprinted else UNFINGERPRINTED
    response.headers.pop("Set-Cookie", None)
    if response.direct_passthrough and request.method == "GET" and response.status_code == 200:
        # Read into memory (the files are a few KB) so that Flask-Compress compresses it whole;
        # the file is closed with the answer (make_sequence keeps the stream's close).
        response.direct_passthrough = False
        response.make_sequence()
        response.headers.pop("Accept-Ranges", None)
    if response.vary:
        response.vary.discard("Cookie")
