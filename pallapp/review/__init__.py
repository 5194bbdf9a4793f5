"""Physician review and unit quality: flags, unit overview, trends, exports, patient summary."""

from flask import Blueprint

bp = Blueprint("review", __name__)

from pallapp.review import views  # noqa: E402,F401  (routes register on import)
from pallapp.review.overview_words import key_score_words  # noqa: E402

# The key scores macro (review/_macros.html) is shared with the patient page.
bp.add_app_template_filter(key_score_words, "key_score_words")
