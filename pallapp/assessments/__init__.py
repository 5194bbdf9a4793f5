from flask import Blueprint

bp = Blueprint("assessments", __name__)

from pallapp.assessments import views  # noqa: E402,F401  (routes register on import)
