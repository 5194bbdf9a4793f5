from flask import Blueprint

bp = Blueprint("auth", __name__)

from pallapp.auth import oidc_views, second_factor_views, views  # noqa: E402,F401  (routes register on import)
