"""The About page: what pallapp is, and where each instrument comes from.

The instruments' owners ask for acknowledgement when their instruments are reproduced (IPOS:
registration at the POS website, no rewording; ESAS-r: free with acknowledgement, no
modification; INSTRUMENTS.md, "Wording"). The page is public, reads no patient data and is
the same for everyone, so it needs no login and writes no audit event.
"""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("about", __name__)


@bp.get("/about")
def about() -> str:
    return render_template("about/about.html")
