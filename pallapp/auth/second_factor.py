"""The built-in second factor: TOTP (RFC 6238) and one-time recovery codes.

For deployments, or units, without an identity provider. The codes come from pyotp (a
maintained RFC 6238 implementation: HMAC-SHA1, 30-second steps, six digits, the parameters
every authenticator app supports). A code is accepted for the current step and one step on
either side (RFC 6238 section 5.2 recommends at most one step of network delay), and never
twice: the last accepted step is kept and anything at or before it is refused, so a code seen
over someone's shoulder cannot be replayed.

Whether a password alone is enough is decided here too: see `password_alone_allowed`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from flask import current_app
from sqlalchemy import select

from pallapp import audit
from pallapp.extensions import db
from pallapp.models import AuditAction, RecoveryCode, User, utcnow
from pallapp.timeutil import today_local

ISSUER_NAME = "pallapp"
STEP_SECONDS = 30
#: Steps accepted on either side of the current one (RFC 6238 section 5.2).
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
#: Ten base32 characters: 50 random bits per code.
RECOVERY_CODE_LENGTH = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def password_alone_allowed(user: User) -> bool:
    """Whether `user` may use the app after a password without a second factor.

    Roles outside PALLAPP_SECOND_FACTOR_ROLES may. For staff in those roles, only when every
    unit they work in today allows it (a member of one unit that does not would otherwise
    reach that unit's patients with a password alone); an administrator belongs to no unit
    and so always needs the second factor where the role requires it.
    """
    if user.role not in current_app.config["SECOND_FACTOR_ROLES"]:
        return True
    units = user.active_units(today_local())
    return bool(units) and all(unit.password_alone_allowed for unit in units)


def has_second_factor(user: User) -> bool:
    return user.totp_secret is not None and user.totp_enabled_at is not None


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, the length RFC 4226 recommends


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER_NAME)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG markup (no image request, nothing for CSP)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff"))


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code is `code`, within the accepted window, else None."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now // STEP_SECONDS)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def verify_totp(user: User, code: str, now: float | None = None) -> bool:
    """Check a code from the user's app; a step once accepted is never accepted again."""
    if not has_second_factor(user):
        return False
    step = _matching_step(user.totp_secret or "", code, time.time() if now is None else now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def confirm_enrolment(user: User, secret: str, code: str, now: float | None = None) -> list[str] | None:
    """Turn the second factor on if `code` is right for `secret` (the secret the user's app
    was shown); returns the new recovery codes, shown once. None if the code is wrong."""
    step = _matching_step(secret, code, time.time() if now is None else now)
    if step is None:
        audit.record(AuditAction.UPDATE, user=user, obj=user, outcome="failed",
                     detail="second factor enrolment")
        return None
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _replace_recovery_codes(user)
    audit.record(AuditAction.UPDATE, user=user, obj=user, detail="second factor enrolled")
    db.session.flush()
    return codes


def remove_second_factor(actor: User, user: User) -> None:
    """Turn the second factor off (the user's own choice where allowed, or an administrator's
    after a lost phone with no recovery code left); unused recovery codes go with it."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    for code in _unused_codes(user):
        code.used_at = utcnow()
    audit.record(AuditAction.UPDATE, user=actor, obj=user, detail="second factor removed")
    db.session.flush()


# --- recovery codes ---------------------------------------------------------------------------


def recovery_digest(code: str) -> str:
    normalised = code.strip().replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _unused_codes(user: User) -> list[RecoveryCode]:
    return list(
        db.session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
    )


def _replace_recovery_codes(user: User) -> list[str]:
    now = utcnow()
    for old in _unused_codes(user):
        old.used_at = now  # a new set makes the old one void
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=recovery_digest(code)))
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Accept an unused recovery code of `user` once."""
    if not code.strip():
        return False
    digest = recovery_digest(code)
    for candidate in _unused_codes(user):
        if secrets.compare_digest(candidate.code_hash, digest):
            candidate.used_at = utcnow()
            audit.record(AuditAction.UPDATE, user=user, obj=user, detail="recovery code used")
            db.session.flush()
            return True
    return False


def unused_recovery_codes(user: User) -> int:
    return len(_unused_codes(user))


@dataclass(frozen=True)
class SecondFactorCheck:
    ok: bool
    by_recovery_code: bool = False


def check_second_factor(user: User, code: str) -> SecondFactorCheck:
    """A code from the app, or else a recovery code; the failure is audited."""
    if verify_totp(user, code):
        return SecondFactorCheck(True)
    if use_recovery_code(user, code):
        return SecondFactorCheck(True, by_recovery_code=True)
    audit.record(
        AuditAction.LOGIN_FAILED,
        user=user,
        obj=user,
        outcome="failed",
        detail="second factor",
    )
    return SecondFactorCheck(False)
