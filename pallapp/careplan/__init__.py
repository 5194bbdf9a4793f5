from flask import Blueprint

bp = Blueprint("careplan", __name__)
