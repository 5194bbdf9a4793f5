"""Access-log review (loggkontroll): managers search the audit log; patients see who opened
their record. Patientdatalagen asks that access to records be logged and the logs reviewed."""

from flask import Blueprint

bp = Blueprint("logreview", __name__)

from pallapp.logreview import views  # noqa: E402,F401  (routes register on import)
