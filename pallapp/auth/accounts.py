"""The lifecycle of an account: deactivating, reactivating, ending every session.

Shared by the administrators' staff pages and the care team's pages for a patient's and their
relatives' accounts, so that both follow the same rules: a deactivated account has no session
left anywhere and no invitation that could bring it back.
"""

from __future__ import annotations

from sqlalchemy import func, select

from pallapp import audit
from pallapp.extensions import db
from pallapp.models import AuditAction, Invitation, Patient, User, utcnow
from pallapp.models.people import new_session_token


def end_all_sessions(user: User) -> None:
    """Every session of the account ends at its next request, on every device.

    Flask-Login loads a user by the session token kept in the signed session cookie; a new
    token matches no cookie handed out before.
    """
    user.session_token = new_session_token()


def withdraw_open_invitations(
    actor: User, email: str, *, patient: Patient | None = None
) -> list[Invitation]:
    """Withdraw every invitation for `email` that could still be used; audited one by one."""
    now = utcnow()
    candidates = db.session.scalars(
        select(Invitation).where(
            func.lower(Invitation.email) == email.strip().lower(),
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )
    withdrawn = []
    for invitation in candidates:
        if invitation.status(now) != "open":
            continue
        invitation.revoked_at = now
        audit.record(
            AuditAction.REVOKE,
            user=actor,
            obj=invitation,
            patient=patient or invitation.patient,
            detail="account deactivated",
        )
        withdrawn.append(invitation)
    return withdrawn


def deactivate_account(actor: User, user: User, *, patient: Patient | None = None) -> None:
    """The account can no longer log in: its sessions end and its open invitations are
    withdrawn (an invitation must never reactivate it). `patient` names the record the change
    was made from, for the audit log."""
    user.active = False
    end_all_sessions(user)
    withdraw_open_invitations(actor, user.email, patient=patient)
    audit.record(AuditAction.UPDATE, user=actor, obj=user, patient=patient, detail="deactivated")
    db.session.flush()


def reactivate_account(actor: User, user: User, *, patient: Patient | None = None) -> None:
    """The account may log in again with its password (withdrawn invitations stay withdrawn)."""
    user.active = True
    audit.record(AuditAction.UPDATE, user=actor, obj=user, patient=patient, detail="activated")
    db.session.flush()
