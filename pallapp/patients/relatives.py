"""Who may act for a patient, and ending it: relatives' access and the accounts around a patient.

The patient themself and the nurses and physicians of the patient's units see which relatives
may answer for the patient and see their history, and can end a relative's access with a
reason; the relative's sessions end at once. Those staff can also deactivate the patient's own
account and their relatives' accounts (and reactivate them). Every read and change is audited;
the reason stays on the link, not in the audit log (which holds no free text).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from pallapp import audit
from pallapp.access import Need, find_patient, find_patient_and_needs
from pallapp.auth.accounts import deactivate_account, end_all_sessions, reactivate_account
from pallapp.extensions import db
from pallapp.models import (
    AuditAction,
    Invitation,
    Patient,
    RelativeLink,
    Role,
    User,
    utcnow,
)

REASON_MAX_LENGTH = 500


class NotFound(LookupError):
    """No such link, account or invitation belongs to this patient (answered as a 404)."""


@dataclass(frozen=True)
class RelativesOverview:
    patient: Patient
    needs: frozenset[Need]
    active_links: list[RelativeLink]
    ended_links: list[RelativeLink]
    # The patient's own account(s) and the relatives' accounts: for staff who may invite.
    patient_accounts: list[User]
    open_invitations: list[Invitation]

    @property
    def may_manage_accounts(self) -> bool:
        return Need.INVITE in self.needs


def _links(patient: Patient) -> list[RelativeLink]:
    return list(
        db.session.scalars(
            select(RelativeLink)
            .where(RelativeLink.patient_id == patient.id)
            .options(
                joinedload(RelativeLink.relative, innerjoin=True),
                joinedload(RelativeLink.revoked_by),
            )
            .order_by(RelativeLink.created_at)
        )
    )


def _open_invitations(patient: Patient) -> list[Invitation]:
    now = utcnow()
    pending = db.session.scalars(
        select(Invitation)
        .where(
            Invitation.patient_id == patient.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .options(selectinload(Invitation.created_by))
        .order_by(Invitation.created_at)
    )
    return [invitation for invitation in pending if invitation.status(now) == "open"]


def relatives_overview(user: User, patient_public_id: str) -> RelativesOverview:
    """The page of who may act for the patient (`MANAGE_RELATIVES`); audited as a view."""
    patient, needs = find_patient_and_needs(user, patient_public_id, Need.MANAGE_RELATIVES)
    links = _links(patient)
    accounts: list[User] = []
    if Need.INVITE in needs:
        accounts = list(
            db.session.scalars(
                select(User)
                .where(User.patient_id == patient.id, User.role == Role.PATIENT.value)
                .order_by(User.created_at)
            )
        )
    audit.record(
        AuditAction.VIEW, user=user, patient=patient, obj=patient, detail="relatives and accounts"
    )
    return RelativesOverview(
        patient=patient,
        needs=needs,
        active_links=[link for link in links if link.is_active],
        ended_links=[link for link in links if not link.is_active],
        patient_accounts=accounts,
        open_invitations=_open_invitations(patient),
    )


def relative_link_for(user: User, patient_public_id: str, link_public_id: str) -> RelativeLink:
    """One active link of the patient, for the page that ends it; audited as a view."""
    patient = find_patient(user, patient_public_id, Need.MANAGE_RELATIVES)
    link = _link_of(patient, link_public_id)
    audit.record(AuditAction.VIEW, user=user, patient=patient, obj=link)
    return link


def _link_of(patient: Patient, link_public_id: str) -> RelativeLink:
    link = db.session.scalar(
        select(RelativeLink)
        .where(RelativeLink.patient_id == patient.id, RelativeLink.public_id == link_public_id)
        .options(joinedload(RelativeLink.relative, innerjoin=True))
    )
    if link is None:
        raise NotFound(link_public_id)
    return link


def end_relative_access(
    user: User, patient_public_id: str, link_public_id: str, reason: str
) -> RelativeLink:
    """End a relative's access to the patient, with the reason given; every session of the
    relative ends at once. Ending an access already ended changes nothing."""
    patient = find_patient(user, patient_public_id, Need.MANAGE_RELATIVES)
    link = _link_of(patient, link_public_id)
    if not link.is_active:
        audit.record(AuditAction.VIEW, user=user, patient=patient, obj=link, detail="no change")
        return link
    link.revoked_at = utcnow()
    link.revoked_by_id = user.id
    link.revoked_reason = reason.strip()[:REASON_MAX_LENGTH]
    # The relative may be on a page of the patient right now: the next request finds no session.
    end_all_sessions(link.relative)
    audit.record(
        AuditAction.REVOKE,
        user=user,
        patient=patient,
        obj=link,
        detail="ended by the patient" if user.role == Role.PATIENT.value else "ended by staff",
    )
    db.session.flush()
    return link


def _account_of(patient: Patient, account_public_id: str) -> User:
    """The patient's own account, or the account of a relative linked to the patient (now or
    before)."""
    linked = select(RelativeLink.relative_id).where(RelativeLink.patient_id == patient.id)
    account = db.session.scalar(
        select(User).where(
            User.public_id == account_public_id,
            or_(
                (User.patient_id == patient.id) & (User.role == Role.PATIENT.value),
                (User.role == Role.RELATIVE.value) & User.id.in_(linked),
            ),
        )
    )
    if account is None:
        raise NotFound(account_public_id)
    return account


def set_account_active(
    user: User, patient_public_id: str, account_public_id: str, active: bool | None
) -> User:
    """Deactivate (sessions end, open invitations are withdrawn) or reactivate the patient's or
    a relative's account; only staff who may invite to the patient's record. `active` None
    (no choice sent) raises ValueError, after the access check."""
    patient = find_patient(user, patient_public_id, Need.INVITE)
    account = _account_of(patient, account_public_id)
    if active is None:
        raise ValueError("active must be chosen")
    if active and not account.active:
        reactivate_account(user, account, patient=patient)
    elif not active and account.active:
        deactivate_account(user, account, patient=patient)
    else:
        audit.record(AuditAction.VIEW, user=user, patient=patient, obj=account, detail="no change")
    return account


def withdraw_invitation(user: User, patient_public_id: str, invitation_public_id: str) -> None:
    """Withdraw an unused invitation to the patient's record (for the patient or a relative)."""
    patient = find_patient(user, patient_public_id, Need.MANAGE_RELATIVES)
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.patient_id == patient.id, Invitation.public_id == invitation_public_id
        )
    )
    if invitation is None:
        raise NotFound(invitation_public_id)
    if invitation.status(utcnow()) != "open":
        audit.record(
            AuditAction.VIEW, user=user, patient=patient, obj=invitation, detail="no change"
        )
        return
    invitation.revoked_at = utcnow()
    audit.record(AuditAction.REVOKE, user=user, patient=patient, obj=invitation)
    db.session.flush()
