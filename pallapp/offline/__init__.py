"""The installable app: web app manifest, service worker and the page shown without a network.

All three are the same for everyone: no login, no patient data, no cookie
(`pallapp.static_files.COOKIELESS_ENDPOINTS`). The service worker keeps the static files and
the offline page on the device; the answers themselves are kept by the page script
(static/offline.js) in the browser's local storage, per account (docs/security.md).
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, jsonify, render_template, url_for
from werkzeug.wrappers import Response

from pallapp.i18n import gettext
from pallapp.sending import device_account

bp = Blueprint("offline", __name__)
bp.add_app_template_global(device_account, "device_account")

#: The static files every page may need, kept by the service worker at install time.
PRECACHED_STATIC = (
    "app.css",
    "assessment.css",
    "assessment.js",
    "offline.js",
    "menu.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
)


def _precache_urls() -> list[str]:
    return [url_for("static", filename=name) for name in PRECACHED_STATIC] + [
        url_for("offline.page")
    ]


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, at the root so that its scope is the whole site. Its text names the
    fingerprinted files, so any change to them is a new worker (browsers compare the bytes)."""
    urls = _precache_urls()
    version = hashlib.sha256("\n".join(urls).encode()).hexdigest()[:12]
    body = render_template("offline/sw.js", urls=urls, version=version,
                           offline_url=url_for("offline.page"))
    response = Response(body, mimetype="text/javascript")
    # Browsers check for a new worker on navigation; this asks them never to take it from
    # the HTTP cache without asking.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    icons = [
        {"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
         "type": "image/png", "purpose": "any maskable"}
        for size in (192, 512)
    ]
    body = {
        "name": "pallapp",
        "short_name": "pallapp",
        "description": gettext("Symptom assessments in palliative care"),
        "start_url": url_for("patients.index"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d5c63",
        "icons": icons,
    }
    response = jsonify(body)  # the app's JSON provider, typed as a Flask response
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/offline")
def page() -> Response:
    """Shown by the service worker for a page that cannot be loaded: the forms kept on this
    device are listed by the script, and sent when the connection returns."""
    response = Response(render_template("offline/offline.html"), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response

