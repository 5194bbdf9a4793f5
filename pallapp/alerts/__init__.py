"""Alerts that reach whoever is on call: coverage hours, routing, escalation, acknowledgement,
and the outbox that sends e-mail (and, through the same interface, SMS) exactly once."""

from flask import Blueprint

bp = Blueprint("alerts", __name__)


def register_views() -> None:
    """Import the views (they register on `bp`); called by the application factory only, so
    that services importing this package do not pull in the views."""
    from pallapp.alerts import views  # noqa: F401
