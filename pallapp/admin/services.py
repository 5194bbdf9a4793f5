"""Administration: care units, staff accounts, invitations. No clinical data here."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pallapp import audit
from pallapp.auth.accounts import deactivate_account, reactivate_account
from pallapp.auth.services import IssuedInvitation, email_taken, issue_invitation, normalise_email
from pallapp.extensions import db
from pallapp.models import (
    AuditAction,
    CareUnit,
    Invitation,
    Role,
    UnitMembership,
    User,
    utcnow,
)
from pallapp.timeutil import today_local


def all_units() -> list[CareUnit]:
    return list(db.session.scalars(select(CareUnit).order_by(CareUnit.name)))


def unit_by_public_id(public_id: str) -> CareUnit | None:
    return db.session.scalar(select(CareUnit).where(CareUnit.public_id == public_id))


def unit_name_taken(name: str, except_unit: CareUnit | None = None) -> bool:
    query = select(CareUnit.id).where(CareUnit.name == name.strip())
    if except_unit is not None:
        query = query.where(CareUnit.id != except_unit.id)
    return db.session.scalar(query) is not None


def save_unit(admin: User, unit: CareUnit | None, **fields: object) -> CareUnit:
    creating = unit is None
    if unit is None:
        unit = CareUnit()
        db.session.add(unit)
    was_allowed = bool(unit.password_alone_allowed)
    for name, value in fields.items():
        setattr(unit, name, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    audit.record(AuditAction.CREATE if creating else AuditAction.UPDATE, user=admin, obj=unit)
    if bool(unit.password_alone_allowed) != was_allowed or (creating and unit.password_alone_allowed):
        # Letting staff reach patient data with a password alone is a decision the log must
        # show on its own line, not inside a general "unit changed".
        audit.record(
            AuditAction.UPDATE,
            user=admin,
            obj=unit,
            detail="password alone allowed" if unit.password_alone_allowed else "password alone not allowed",
        )
    return unit


def staff_accounts() -> list[User]:
    staff_roles = [Role.NURSE.value, Role.PHYSICIAN.value, Role.MANAGER.value, Role.ADMIN.value]
    query = (
        select(User)
        .where(User.role.in_(staff_roles))
        .options(selectinload(User.memberships).selectinload(UnitMembership.unit))
        .order_by(User.name)
    )
    return list(db.session.scalars(query))


def create_staff_account(
    admin: User, *, name: str, email: str, role: Role, units: list[CareUnit]
) -> IssuedInvitation:
    """A staff account without a password, its memberships, and an invitation to set one."""
    if email_taken(email):
        raise ValueError("email_taken")
    user = User(email=normalise_email(email), name=name.strip(), role=role.value)
    db.session.add(user)
    db.session.flush()
    for unit in units:
        db.session.add(UnitMembership(user_id=user.id, unit_id=unit.id, start=today_local()))
    audit.record(AuditAction.CREATE, user=admin, obj=user)
    return issue_invitation(
        created_by=admin,
        email=user.email,
        name=user.name,
        role=role,
        valid_for=timedelta(hours=current_app.config["INVITATION_VALID_HOURS"]),
    )


def remove_staff_second_factor(admin: User, user: User) -> None:
    """After a lost phone: the second factor goes (audited) and every session ends."""
    from pallapp.auth.accounts import end_all_sessions
    from pallapp.auth.second_factor import remove_second_factor

    remove_second_factor(admin, user)
    end_all_sessions(user)
    db.session.flush()


def user_by_public_id(public_id: str) -> User | None:
    return db.session.scalar(select(User).where(User.public_id == public_id))


def set_active(admin: User, user: User, active: bool) -> None:
    """Deactivating ends every session of the account at once and withdraws its open
    invitations (`pallapp.auth.accounts`)."""
    if active:
        reactivate_account(admin, user)
    else:
        deactivate_account(admin, user)


def end_membership(admin: User, membership: UnitMembership) -> None:
    """The staff member stops seeing the unit's patients from today (kept for history)."""
    membership.end = today_local()
    audit.record(AuditAction.UPDATE, user=admin, obj=membership, object_type="unit_membership")


def membership_by_id(membership_id: int) -> UnitMembership | None:
    return db.session.get(UnitMembership, membership_id)


def add_membership(admin: User, user: User, unit: CareUnit) -> None:
    day = today_local()
    if any(m.unit_id == unit.id and m.is_active_on(day) for m in user.memberships):
        return
    membership = UnitMembership(user_id=user.id, unit_id=unit.id, start=day)
    db.session.add(membership)
    db.session.flush()
    audit.record(AuditAction.UPDATE, user=admin, obj=membership, object_type="unit_membership")


#: The invitations that are the administrator's: new staff accounts. Patients' and relatives'
#: invitations name a patient; they belong to the care team (on the patient page).
_STAFF_INVITATION_ROLES = [Role.NURSE.value, Role.PHYSICIAN.value, Role.MANAGER.value, Role.ADMIN.value]


def invitations() -> list[Invitation]:
    """The newest staff invitations (never a patient's or a relative's)."""
    query = (
        select(Invitation)
        .where(Invitation.role.in_(_STAFF_INVITATION_ROLES))
        .options(selectinload(Invitation.created_by), selectinload(Invitation.unit))
        .order_by(Invitation.created_at.desc())
        .limit(500)
    )
    return list(db.session.scalars(query))


def revoke_invitation(admin: User, invitation: Invitation) -> None:
    if invitation.status(utcnow()) == "open":
        invitation.revoked_at = utcnow()
        audit.record(AuditAction.REVOKE, user=admin, obj=invitation)


def invitation_by_public_id(public_id: str) -> Invitation | None:
    """A staff invitation; a patient's or a relative's is not the administrator's to see."""
    return db.session.scalar(
        select(Invitation).where(
            Invitation.public_id == public_id, Invitation.role.in_(_STAFF_INVITATION_ROLES)
        )
    )
