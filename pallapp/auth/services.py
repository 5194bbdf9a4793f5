"""Logging in and out, and accepting invitations."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import func, select

from pallapp import audit
from pallapp.extensions import db
from pallapp.models import (
    AuditAction,
    Invitation,
    RelativeLink,
    Role,
    UnitMembership,
    User,
    utcnow,
)
from pallapp.passwords import check_password, hash_password
from pallapp.timeutil import today_local


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str, *, record_login: bool = True) -> User | None:
    """The active user with this e-mail and password, else None; audit either way (the
    login itself only with `record_login`: a second factor still to come records it then)."""
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    ok = check_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        audit.record(
            AuditAction.LOGIN_FAILED,
            user=user,
            object_type="user_account",
            object_id=user.public_id if user else None,
            outcome="failed",
            detail=email if user is None else None,
        )
        return None
    if record_login:
        login_completed(user, "password")
    return user


def login_completed(user: User, method: str) -> None:
    user.last_login_at = utcnow()
    audit.record(AuditAction.LOGIN, user=user, obj=user, detail=method)


def change_password(user: User, current: str, new: str) -> bool:
    """Set a new password if `current` is right; every other session of the account ends.

    The session token is replaced (Flask-Login loads users by it), so a stolen or forgotten
    session elsewhere stops working; the caller logs this device in again with the new token.
    Returns False, audited as a failed attempt, when `current` is wrong.
    """
    from pallapp.models.people import new_session_token

    if not check_password(user.password_hash, current):
        audit.record(
            AuditAction.UPDATE, user=user, obj=user, outcome="failed", detail="password change"
        )
        return False
    user.password_hash = hash_password(new)
    user.session_token = new_session_token()
    audit.record(AuditAction.UPDATE, user=user, obj=user, detail="password change")
    db.session.flush()
    return True


# --- invitations -------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once to the person who created it, never stored

    @property
    def link(self) -> str:
        """The whole link to hand over (in a request: it names the configured site)."""
        return invitation_url(self.token)


def issue_invitation(
    *,
    created_by: User,
    email: str,
    name: str,
    role: Role,
    valid_for: timedelta,
    patient_id: int | None = None,
    unit_id: int | None = None,
    relation: str | None = None,
    may_answer_as_proxy: bool = False,
    may_view_history: bool = False,
) -> IssuedInvitation:
    """Create a one-time invitation; the caller has already checked the creator's rights."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=token_digest(token),
        email=normalise_email(email),
        name=name.strip(),
        role=role.value,
        patient_id=patient_id,
        unit_id=unit_id,
        relation=relation,
        may_answer_as_proxy=may_answer_as_proxy,
        may_view_history=may_view_history,
        created_by_id=created_by.id,
        expires_at=utcnow() + valid_for,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        AuditAction.INVITE,
        user=created_by,
        obj=invitation,
        patient=invitation.patient if patient_id else None,
    )
    return IssuedInvitation(invitation, token)


class InvitationProblem(Exception):
    """The invitation cannot be used; `reason` is `unknown`, `used`, `expired`, `revoked`,
    `conflict` (the e-mail belongs to an account in use) or `inactive` (a deactivated account)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def invitation_url(token: str) -> str:
    """The link to hand over: the configured site (PALLAPP_BASE_URL) and the invitation's path.

    Never built from the request's Host header, which the client chooses: a forged one would
    put another site's address in front of a valid token. Without a base URL (development and
    tests only; production refuses to start without one) the request's host is used.
    """
    base = current_app.config.get("BASE_URL")
    if not base:
        return url_for("auth.invitation", token=token, _external=True)
    return base + url_for("auth.invitation", token=token)


def open_invitation(token: str, now: datetime | None = None) -> Invitation:
    """The usable invitation for `token`, or raise `InvitationProblem`."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_digest(token))
    )
    if invitation is None:
        raise InvitationProblem("unknown")
    status = invitation.status(now or utcnow())
    if status != "open":
        raise InvitationProblem(status)
    return invitation


def email_taken(email: str) -> bool:
    return (
        db.session.scalar(select(User.id).where(func.lower(User.email) == normalise_email(email)))
        is not None
    )


def _account_for_invitation(invitation: Invitation) -> User:
    """The account the invitation completes: new, or one created without a way to log in."""
    role = Role(invitation.role)
    user = db.session.scalar(
        select(User).where(func.lower(User.email) == normalise_email(invitation.email))
    )
    if user is None:
        user = User(email=invitation.email, name=invitation.name, role=role.value)
        db.session.add(user)
    elif (
        user.role != role.value
        or user.password_hash is not None
        or user.identity_provider is not None
    ):
        # One e-mail, one account with one role. An invitation never replaces the password
        # (or the bound identity) of an account already in use: that would let whoever holds
        # the link take it over.
        raise InvitationProblem("conflict")
    elif not user.active:
        # Deactivating withdraws open invitations; this refuses any link left over, so that
        # only an administrator or the care team can bring an account back.
        raise InvitationProblem("inactive")
    return user


def accept_invitation(token: str, password: str) -> User:
    """Use the invitation: create (or complete) the account, link it, set the password."""
    invitation = open_invitation(token)
    user = _account_for_invitation(invitation)
    user.password_hash = hash_password(password)
    return _complete_invitation(invitation, user)


def accept_invitation_with_identity(token: str, provider: str, claim: str) -> User:
    """Use the invitation by logging in at a provider: the account is bound to the provider's
    stable claim (no password is set). A patient's personnummer from the provider must be the
    one on the patient's record, so that a forwarded link cannot be used by someone else."""
    from pallapp.auth.oidc import PROVIDER_ROLES, IdentityProblem, bind_identity

    invitation = open_invitation(token)
    role = Role(invitation.role)
    if role not in PROVIDER_ROLES[provider]:
        raise InvitationProblem("provider")
    user = _account_for_invitation(invitation)
    if (
        role is Role.PATIENT
        and current_app.config[f"OIDC_{provider.upper()}_CLAIM"] == "personnummer"
        and invitation.patient is not None
        and invitation.patient.personnummer != claim
    ):
        raise InvitationProblem("wrong_person")  # audited by the view
    try:
        bind_identity(user, provider, claim)
    except IdentityProblem:
        raise InvitationProblem("identity_taken") from None
    user = _complete_invitation(invitation, user)
    user.last_login_at = utcnow()
    audit.record(AuditAction.LOGIN, user=user, obj=user, detail=f"oidc:{provider}")
    return user


def _complete_invitation(invitation: Invitation, user: User) -> User:
    role = Role(invitation.role)
    if role is Role.PATIENT:
        user.patient_id = invitation.patient_id
    db.session.flush()
    if role is Role.RELATIVE and invitation.patient_id is not None:
        db.session.add(
            RelativeLink(
                relative_id=user.id,
                patient_id=invitation.patient_id,
                relation=invitation.relation or "",
                may_answer_as_proxy=invitation.may_answer_as_proxy,
                may_view_history=invitation.may_view_history,
                created_by_id=invitation.created_by_id,
            )
        )
    if role.is_staff and invitation.unit_id is not None:
        already = any(m.unit_id == invitation.unit_id and m.end is None for m in user.memberships)
        if not already:
            db.session.add(
                UnitMembership(user_id=user.id, unit_id=invitation.unit_id, start=today_local())
            )
    invitation.used_at = utcnow()
    invitation.user_id = user.id
    audit.record(AuditAction.CREATE, user=user, obj=user, patient=invitation.patient)
    return user
