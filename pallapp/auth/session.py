"""Sessions: how one starts, when it ends, and the browser it belongs to.

- Idle timeouts: staff tablets are shared, so a staff session ends after a short idle time
  (patients and relatives: a longer one). A session without a last-seen time is treated as
  expired, never as fresh: `begin_session` stamps it at login.
- A session belongs to the browser that logged in: the session keeps a digest of its
  User-Agent, and a cookie sent by another browser is refused. The client's address is not
  part of it: phones move between Wi-Fi and mobile networks (and carrier NAT changes the
  public address) during a single visit, and logging a nurse out in the middle of a home visit
  would cost more than it protects. This replaces Flask-Login's "strong" protection, which
  binds the address too and which did not apply to permanent sessions at all.
- The cookie is written again only when something in it changed: the last-seen time is moved
  when it is `LAST_SEEN_STEP` seconds old, not at every request (and Flask's own refresh of
  permanent cookies is off, `SESSION_REFRESH_EACH_REQUEST` in pallapp/config.py). Signing and
  sending the cookie was a tenth of a logged-in request's time; the price is that an idle limit
  ends the session up to a step earlier than the last request plus the limit, never later.
"""

from __future__ import annotations

import hashlib
import time

from flask import Flask, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug import Response

from pallapp import audit
from pallapp.i18n import gettext
from pallapp.models import AuditAction, User
from pallapp.static_files import is_cookieless

LAST_SEEN = "last_seen"
#: Seconds a last-seen time may lag behind the last request (the cookie is not rewritten for a
#: newer one): idle limits count from up to this much before the last request.
LAST_SEEN_STEP = 60
AGENT = "agent"
#: How this session was authenticated: "password", "password+totp", "oidc:<provider>".
AUTH_METHOD = "auth_method"
#: For provider logins: the provider and its ID token (the hint for RP-initiated logout).
OIDC_PROVIDER = "oidc_provider"
OIDC_ID_TOKEN = "oidc_id_token"  # noqa: S105 (a session key, not a secret)
#: Pages a password-only session may reach while a second factor is owed: setting it up,
#: leaving, the language. Everything else waits until it is set up.
SECOND_FACTOR_OPEN = frozenset(
    {"auth.second_factor_setup", "auth.logout", "auth.language", "static", "health.healthz"}
)


def idle_limit_seconds(app: Flask, is_staff: bool) -> int:
    minutes = app.config["STAFF_IDLE_MINUTES"] if is_staff else app.config["SELF_IDLE_MINUTES"]
    return int(minutes) * 60


def browser_digest() -> str:
    """A short digest of the request's User-Agent (the header itself need not be kept)."""
    agent = request.headers.get("User-Agent", "")
    return hashlib.sha256(agent.encode("utf-8", "replace")).hexdigest()[:32]


def begin_session(user: User, method: str = "password") -> None:
    """Log `user` in with a fresh session (nothing set before the login carries over)."""
    session.clear()
    session[AUTH_METHOD] = method
    login_user(user)
    if user.language:
        # Kept for pages drawn without the database (an error page during an outage).
        session["language"] = user.language
    session[LAST_SEEN] = time.time()
    session[AGENT] = browser_digest()
    session.permanent = True


def _idle_too_long(last_seen: object, now: float, limit: int) -> bool:
    if not isinstance(last_seen, int | float) or isinstance(last_seen, bool):
        return True  # no time, or not one: expired, never fresh
    return not (now - limit <= float(last_seen) <= now + 60)  # a minute's leeway for clocks


#: Forms whose answers the page script keeps on the device (static/offline.js): a post that
#: arrives after the session ended is not stored, and the user is sent back to the form.
DEVICE_FORMS = frozenset({"assessments.fill", "careplan.record_dose"})


def _end(outcome: str, message: str) -> Response:
    audit.record(AuditAction.LOGOUT, obj=current_user._get_current_object(), outcome=outcome)
    logout_user()
    session.clear()
    flash(message, "info")
    if request.method == "GET":
        next_path: str | None = request.full_path
    elif request.endpoint in DEVICE_FORMS:
        # The post is not stored; its answers are kept on this device (a draft) and come back
        # in the form after login, where it is sent again by its owner.
        flash(
            gettext(
                "Nothing has been sent yet. Your answers are kept on this device: after you log "
                "in, the form opens again with them, and you can send it."
            ),
            "warning",
        )
        next_path = request.path
    else:
        next_path = None
    return redirect(url_for("auth.login", next=next_path))


def install_session_rules(app: Flask) -> None:
    @app.before_request
    def end_stale_sessions() -> Response | None:
        if is_cookieless() or not current_user.is_authenticated:
            return None
        now = time.time()
        limit = idle_limit_seconds(app, current_user.is_staff)
        if _idle_too_long(session.get(LAST_SEEN), now, limit):
            return _end(
                "idle_timeout",
                gettext("You were logged out after a period without activity."),
            )
        if session.get(AGENT) != browser_digest():
            return _end(
                "other_browser",
                gettext("You were logged out for your security. Please log in again."),
            )
        # Only a changed session is signed and sent again (setting `permanent` marks it changed).
        if now - float(session[LAST_SEEN]) >= LAST_SEEN_STEP:
            session[LAST_SEEN] = now
        if not session.permanent:
            session.permanent = True
        return _second_factor_owed()


def _second_factor_owed() -> Response | None:
    """A session begun with a password alone, for an account that needs more, reaches only
    the second-factor setup (checked on every request: a unit may withdraw its allowance
    while someone is logged in)."""
    from pallapp.auth.second_factor import has_second_factor, password_alone_allowed

    if session.get(AUTH_METHOD, "password") != "password":
        return None
    if request.endpoint in SECOND_FACTOR_OPEN:
        return None
    user = current_user._get_current_object()
    if password_alone_allowed(user):
        return None
    if has_second_factor(user):
        # Set up since this session began: log in again, with it.
        return _end("second_factor", gettext("Please log in again with your second factor."))
    flash(gettext("Set up a second factor before you continue."), "info")
    return redirect(url_for("auth.second_factor_setup"))
