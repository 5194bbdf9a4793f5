from flask import Blueprint

bp = Blueprint("patients", __name__)

from pallapp.patients import relatives_views, views  # noqa: E402,F401  (routes register on import)
