"""Health check for the proxy, monitors and the start script: can this instance answer and
reach its database?

`GET /healthz` answers 200 when one `SELECT 1` succeeds and 503 when the database cannot be
reached. It needs no login, reads no patient data, sets no cookie and says nothing about the
failure beyond its status: a monitor needs the status, an outsider nothing more.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pallapp.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        response = jsonify(status="unavailable")
        response.status_code = 503
    else:
        response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
