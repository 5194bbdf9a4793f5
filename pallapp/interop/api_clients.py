"""API credentials: managers issue them for one of their units and revoke them; the API
authenticates a bearer token, and every read is audit-logged as the credential.

Tokens are opaque random strings (`secrets.token_urlsafe(32)`, 256 bits) sent as RFC 6750
bearer tokens; only their SHA-256 digest is stored, as for invitations. Why not OAuth2 client
credentials: the integration is one EHR per unit, configured by hand on both sides; a token
endpoint would add a second secret and a flow without adding a control (expiry, revocation,
per-unit scope and audit are here either way). Documented in docs/fhir.md.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import has_request_context, request
from sqlalchemy import select

from pallapp import audit
from pallapp.extensions import db
from pallapp.models import ApiClient, AuditAction, AuditEvent, CareUnit, Patient, Role, User, utcnow
from pallapp.timeutil import today_local

#: How long a credential may be valid at most (a project choice: credentials are renewed at
#: least once a year, so a forgotten one does not live for ever).
MAX_VALID_DAYS = 365


class NotForApiClients(LookupError):
    """Not a manager of that unit, or no such credential (the view answers 404)."""


class Unauthenticated(Exception):
    """No token, or one that is unknown, expired or revoked (the API answers 401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def managed_units(user: User) -> list[CareUnit]:
    """The units whose API credentials `user` manages: their own active units, managers only."""
    if not (user.is_authenticated and user.role == Role.MANAGER):
        return []
    return sorted(user.active_units(today_local()), key=lambda unit: unit.name)


def _unit(user: User, unit_public_id: str) -> CareUnit:
    unit = next((u for u in managed_units(user) if u.public_id == unit_public_id), None)
    if unit is None:
        raise NotForApiClients(unit_public_id)
    return unit


def unit_clients(user: User, unit_public_id: str) -> tuple[CareUnit, list[ApiClient]]:
    unit = _unit(user, unit_public_id)
    clients = list(
        db.session.scalars(
            select(ApiClient).where(ApiClient.unit_id == unit.id).order_by(ApiClient.created_at.desc())
        )
    )
    return unit, clients


@dataclass(frozen=True)
class Issued:
    client: ApiClient
    token: str  # shown once, never stored


def issue(user: User, unit_public_id: str, name: str, valid_days: int, now: datetime | None = None) -> Issued:
    """A new credential for the unit; the token is returned once. Audited (`invite`)."""
    unit = _unit(user, unit_public_id)
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise ValueError(valid_days)
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    client = ApiClient(
        unit_id=unit.id, name=name.strip(), token_hash=token_digest(token), created_by_id=user.id,
        created_at=now, expires_at=now + timedelta(days=valid_days),
    )
    db.session.add(client)
    db.session.flush()
    audit.record(AuditAction.INVITE, user=user, obj=client, detail=f"unit {unit.public_id}")
    return Issued(client, token)


def revoke(user: User, unit_public_id: str, client_public_id: str) -> ApiClient:
    """End a credential now (once; revoking again changes nothing). Audited (`revoke`)."""
    unit = _unit(user, unit_public_id)
    client = db.session.scalar(
        select(ApiClient).where(ApiClient.unit_id == unit.id, ApiClient.public_id == client_public_id)
    )
    if client is None:
        raise NotForApiClients(client_public_id)
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        client.revoked_by_id = user.id
        audit.record(AuditAction.REVOKE, user=user, obj=client)
    return client


def authenticate(header: str | None) -> ApiClient:
    """The credential of an `Authorization: Bearer <token>` header; `Unauthenticated` for a
    missing, unknown, expired or revoked token (an expired or revoked one is logged as a
    `denied` event of that credential)."""
    if not header or not header.startswith("Bearer "):
        raise Unauthenticated("missing")
    token = header.removeprefix("Bearer ").strip()
    client = db.session.scalar(select(ApiClient).where(ApiClient.token_hash == token_digest(token)))
    if client is None:
        raise Unauthenticated("unknown")
    status = client.status(utcnow())
    if status != "active":
        record(client, AuditAction.DENIED, outcome=status, detail=status)
        raise Unauthenticated(status)
    return client


def record(
    client: ApiClient,
    action: AuditAction,
    *,
    patient: Patient | None = None,
    object_type: str = "fhir_api",
    object_id: str | None = None,
    outcome: str = "ok",
    detail: str = "",
) -> None:
    """One audit event by the credential (no user): the detail names it, so the event still
    says who read after the credential itself is gone."""
    db.session.add(
        AuditEvent(
            action=action.value, user_id=None, api_client_id=client.id,
            patient_id=patient.id if patient is not None else None,
            object_type=object_type, object_id=object_id, outcome=outcome,
            client_address=request.remote_addr if has_request_context() else None,
            detail=f"api client {client.public_id}: {detail}"[:254],
        )
    )


def record_reads(client: ApiClient, patients: list[Patient], detail: str) -> None:
    for patient in patients:
        record(client, AuditAction.VIEW, patient=patient, object_id=patient.public_id, detail=detail)
