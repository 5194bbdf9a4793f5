"""Reporting plans (who reports what, how often, by phase), the one due/overdue rule, and
reminders to patients and relatives when a report is due."""

from flask import Blueprint

bp = Blueprint("reporting", __name__)


def register_views() -> None:
    """Import the views (they register on `bp`); called by the application factory only."""
    from pallapp.reporting import views  # noqa: F401
