"""The database models; import them from here."""

from pallapp.models.assessments import Assessment, Flag, Respondent
from pallapp.models.audit import AppendOnlyError, AuditAction, AuditEvent
from pallapp.models.people import (
    Invitation,
    Patient,
    PatientUnit,
    Phase,
    RelativeLink,
    Role,
    User,
)
from pallapp.models.types import utcnow
from pallapp.models.units import CareUnit, UnitKind, UnitMembership

__all__ = [
    "AppendOnlyError",
    "Assessment",
    "Flag",
    "Respondent",
    "AuditAction",
    "AuditEvent",
    "CareUnit",
    "Invitation",
    "Patient",
    "PatientUnit",
    "Phase",
    "RelativeLink",
    "Role",
    "UnitKind",
    "UnitMembership",
    "User",
    "utcnow",
]
