from flask import Blueprint

from pallapp.forms.markup import hidden_inputs, instrument_steps

bp = Blueprint("assessments", __name__)
bp.add_app_template_global(hidden_inputs)
bp.add_app_template_global(instrument_steps)

from pallapp.assessments import views  # noqa: E402,F401  (routes register on import)
