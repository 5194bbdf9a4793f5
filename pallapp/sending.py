"""How a sent form is answered, for the browser's own post and for the device's outbox.

Forms work without JavaScript: a stored record answers with a redirect to it. The page's
script (static/offline.js) sends the same form with `fetch` and the header
`X-Pallapp-Send: 1` so that it can keep the answers on the device when the connection drops;
it then gets the address of the stored record as JSON and goes there itself. Anything else
(a page with errors, the login page after an idle timeout) comes back as the page it is, and
the script leaves the answers on the device.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, jsonify, redirect, request
from werkzeug.wrappers import Response

SEND_HEADER = "X-Pallapp-Send"


def sent_by_script() -> bool:
    return request.headers.get(SEND_HEADER) == "1"


def answer_stored(location: str, *, created: bool) -> Response:
    """The answer to a form whose record is stored (`created`) or was stored before."""
    if sent_by_script():
        return jsonify(location=location, created=created)
    return redirect(location)


def device_account(user_id: int) -> str:
    """The label under which this account's drafts and outbox are kept on a device.

    Derived from the secret key, so that it names no one: a device shared by several people
    keeps their items apart without storing who they are, and a label cannot be guessed from
    an account number.
    """
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"device-drafts:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:24]
