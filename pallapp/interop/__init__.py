"""Data that leaves pallapp: Svenska palliativregistret pre-fill, FHIR for an EHR, the API."""

from flask import Blueprint

bp = Blueprint("interop", __name__)

from pallapp.interop import views  # noqa: E402,F401  (routes register on import)
