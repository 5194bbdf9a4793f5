"""Idle timeouts: staff tablets are shared, so a staff session ends after a short idle time."""

from __future__ import annotations

import time

from flask import Flask, flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user

from pallapp import audit
from pallapp.models import AuditAction


def idle_limit_seconds(app: Flask, is_staff: bool) -> int:
    minutes = app.config["STAFF_IDLE_MINUTES"] if is_staff else app.config["SELF_IDLE_MINUTES"]
    return int(minutes) * 60


def install_session_rules(app: Flask) -> None:
    @app.before_request
    def end_idle_sessions():  # type: ignore[no-untyped-def]
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        now = time.time()
        last_seen = session.get("last_seen")
        limit = idle_limit_seconds(app, current_user.is_staff)
        if last_seen is not None and now - float(last_seen) > limit:
            audit.record(
                AuditAction.LOGOUT, obj=current_user._get_current_object(), outcome="idle_timeout"
            )
            logout_user()
            session.clear()
            flash(gettext("You were logged out after a period without activity."), "info")
            next_path = request.full_path if request.method == "GET" else None
            return redirect(url_for("auth.login", next=next_path))
        session["last_seen"] = now
        session.permanent = True
        return None
