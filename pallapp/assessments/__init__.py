from flask import Blueprint

from pallapp.forms.markup import hidden_inputs, instrument_blocks

bp = Blueprint("assessments", __name__)
bp.add_app_template_global(instrument_blocks)
bp.add_app_template_global(hidden_inputs)

from pallapp.assessments import views  # noqa: E402,F401  (routes register on import)
