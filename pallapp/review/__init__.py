"""Physician review and unit quality: flags, unit overview, trends, exports, patient summary."""

from flask import Blueprint

bp = Blueprint("review", __name__)

from pallapp.review import views  # noqa: E402,F401  (routes register on import)
