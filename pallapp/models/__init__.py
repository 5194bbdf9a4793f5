"""The database models; import them from here."""

from pallapp.models.alerts import Alert, ExpectedLevel, OutboxMessage, ReportingPlanEntry
from pallapp.models.api import ApiClient
from pallapp.models.assessments import Assessment, Flag, Respondent
from pallapp.models.audit import AppendOnlyError, AuditAction, AuditEvent
from pallapp.models.careplan import (
    CARE_PLAN_FIELD_LABELS,
    CARE_PLAN_FIELDS,
    CarePlan,
    Effect,
    Milestone,
    MilestoneKind,
    PlaceOfDeath,
    PrnAdministration,
    PrnOrder,
    Route,
    StopCause,
)
from pallapp.models.people import (
    Invitation,
    Patient,
    PatientUnit,
    Phase,
    RecoveryCode,
    RelativeLink,
    Role,
    User,
)
from pallapp.models.types import utcnow
from pallapp.models.units import CareUnit, UnitKind, UnitMembership

__all__ = [
    "Alert",
    "ExpectedLevel",
    "OutboxMessage",
    "ReportingPlanEntry",
    "ApiClient",
    "CARE_PLAN_FIELDS",
    "CARE_PLAN_FIELD_LABELS",
    "CarePlan",
    "Effect",
    "Milestone",
    "MilestoneKind",
    "PlaceOfDeath",
    "PrnAdministration",
    "PrnOrder",
    "Route",
    "StopCause",
    "AppendOnlyError",
    "Assessment",
    "Flag",
    "Respondent",
    "AuditAction",
    "AuditEvent",
    "CareUnit",
    "Invitation",
    "Patient",
    "RecoveryCode",
    "PatientUnit",
    "Phase",
    "RelativeLink",
    "Role",
    "UnitKind",
    "UnitMembership",
    "User",
    "utcnow",
]
