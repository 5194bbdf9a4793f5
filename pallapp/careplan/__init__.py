from flask import Blueprint

from pallapp.forms.markup import form_field, hidden_field, kept_form_field, kept_submit

bp = Blueprint("careplan", __name__)
# The dose form's fields drawn in Python (the `field` macro and WTForms' widgets were a third
# of the page's time).
bp.add_app_template_global(form_field)
bp.add_app_template_global(hidden_field)
bp.add_app_template_global(kept_form_field)
bp.add_app_template_global(kept_submit)

from pallapp.careplan import views  # noqa: E402,F401  (routes register on import)
