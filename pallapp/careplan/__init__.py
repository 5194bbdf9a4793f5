from flask import Blueprint

bp = Blueprint("careplan", __name__)

from pallapp.careplan import views  # noqa: E402,F401  (routes register on import)
