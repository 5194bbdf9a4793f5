"""Throttling password guesses without handing attackers a way to lock people out.

Flask-Limiter keeps the counts (memory or Redis, `PALLAPP_RATELIMIT_STORAGE_URI`). Only
rejected credentials count: a view calls `credentials_rejected()` when it has checked a
password and found it wrong; a form that was not valid, a server error or a database outage
costs nothing.

Logins follow OWASP's "device cookie" scheme (Slow Down Online Guessing Attacks with Device
Cookies, https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies):
a successful login leaves a signed cookie in the browser naming the account (as a
keyed digest, not the e-mail). A browser that brings such a cookie for the account it logs in
to is a known device: its failures count against that device only
(`LOGIN_LIMIT_PER_DEVICE`), never against the account or the address. Everyone else shares
the account's limit and the address's limit. An attacker guessing from elsewhere therefore
runs into the account and address limits, while the owner, on a device used before, logs in
as usual; and a clinic behind one NAT address keeps working on its usual tablets when a
stranger has used up the address's limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from flask import current_app, g, request, session, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug import Response

from pallapp.auth.services import normalise_email
from pallapp.extensions import limiter

DEVICE_COOKIE = "pallapp_device"
DEVICE_SALT = "pallapp-device"
#: How many accounts one device remembers (a shared tablet on a ward).
DEVICE_ACCOUNTS = 12


# --- counting only rejected credentials ---------------------------------------------------


def credentials_rejected() -> None:
    """The password checked in this request was wrong (or the account unknown or inactive)."""
    g.credentials_rejected = True


def _were_rejected(response: Response) -> bool:
    return bool(g.get("credentials_rejected", False))


# --- the device cookie --------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT)


def account_tag(email: str) -> str:
    """A keyed digest of the normalised e-mail: whoever reads the cookie learns no address."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = b"device-account:" + normalise_email(email).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _read_device_cookie() -> dict[str, Any] | None:
    value = request.cookies.get(DEVICE_COOKIE)
    if not value:
        return None
    max_age = int(current_app.config["DEVICE_COOKIE_DAYS"]) * 24 * 3600
    try:
        data = _serializer().loads(value, max_age=max_age)
    except BadSignature:  # forged, damaged or too old (SignatureExpired is a BadSignature)
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("d"), str)
        or not isinstance(data.get("a"), list)
    ):
        return None
    return data


def _submitted_email() -> str:
    return normalise_email(request.form.get("email", ""))[:254]


def _known_device() -> str | None:
    """The device id, if this browser has logged in to the submitted account before."""
    if "known_device" not in g:
        data = _read_device_cookie()
        known = None
        if data is not None and account_tag(_submitted_email()) in data["a"]:
            known = data["d"]
        g.known_device = known
    return g.known_device


def remember_device(response: Response, email: str) -> None:
    """After a successful login: this browser is a known device for this account."""
    data = _read_device_cookie() or {"d": secrets.token_urlsafe(16), "a": []}
    tag = account_tag(email)
    accounts = [tag] + [other for other in data["a"] if other != tag]
    value = _serializer().dumps({"d": data["d"], "a": accounts[:DEVICE_ACCOUNTS]})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(current_app.config["DEVICE_COOKIE_DAYS"]) * 24 * 3600,
        path=url_for("auth.login"),  # sent nowhere else
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Lax",
    )


# --- the limits -----------------------------------------------------------------------------


def _account_key() -> str:
    return "login-account:" + _submitted_email()


def _device_key() -> str:
    return f"login-device:{_known_device()}:{account_tag(_submitted_email())}"


def _password_change_key() -> str:
    return "password-change:" + (current_user.public_id if current_user.is_authenticated else "")


def _config(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


def login_limits(view: Callable[..., Any]) -> Callable[..., Any]:
    """The three login limits: per account and per address for browsers the account has not
    used before, per device for those it has."""
    for decorator in (
        limiter.limit(
            _config("LOGIN_LIMIT_PER_ACCOUNT"),
            key_func=_account_key,
            methods=["POST"],
            deduct_when=_were_rejected,
            exempt_when=lambda: _known_device() is not None,
        ),
        limiter.limit(
            _config("LOGIN_LIMIT_PER_ADDRESS"),
            methods=["POST"],
            deduct_when=_were_rejected,
            exempt_when=lambda: _known_device() is not None,
        ),
        limiter.limit(
            _config("LOGIN_LIMIT_PER_DEVICE"),
            key_func=_device_key,
            methods=["POST"],
            deduct_when=_were_rejected,
            exempt_when=lambda: _known_device() is None,
        ),
    ):
        view = decorator(view)
    return view


def password_change_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrong current passwords on the password page, per account (the session is already
    there, so this guards the password itself: reused elsewhere, or kept after the session)."""
    return limiter.limit(
        _config("PASSWORD_CHANGE_LIMIT"),
        key_func=_password_change_key,
        methods=["POST"],
        deduct_when=_were_rejected,
    )(view)


def _second_factor_key() -> str:
    """Per account: the one waiting for its second factor, or the one setting it up."""
    from pallapp.auth.second_factor_views import PENDING

    pending = session.get(PENDING)
    if isinstance(pending, dict) and isinstance(pending.get("user"), str):
        return "second-factor:" + pending["user"]
    return "second-factor:" + (current_user.public_id if current_user.is_authenticated else "")


def second_factor_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrong second-factor codes, per account: a million six-digit codes are guessable
    without a limit (RFC 6238 section 5.2 asks for throttling)."""
    return limiter.limit(
        _config("SECOND_FACTOR_LIMIT"),
        key_func=_second_factor_key,
        methods=["POST"],
        deduct_when=_were_rejected,
    )(view)
