"""The flag lifecycle in one place: raising flags from the scoring rules' results (assessments,
doses, reminders), closing and superseding them, open-flag queries and counts, acknowledgement,
the one due/overdue rule, and the unit settings the rules read.

Features call this package; it calls `pallapp.access` (through its callers' checks) and the
models, never a feature. Functions here take a patient the caller has already found through
`access`; the features audit-log what the user reads.
"""

from pallapp.flags.due import (
    ReminderChanges,
    close_reminders,
    end_of_life_since,
    evaluate_all_reminders,
    evaluate_reminders,
    is_overdue,
    rating_overdue,
    reminders_due,
)
from pallapp.flags.orders import in_force, open_orders, order_rule
from pallapp.flags.queries import (
    COUNTED_SEVERITIES,
    FlagCounts,
    FlagGroup,
    open_flag_count_columns,
    open_flag_counts,
    open_flag_groups,
    open_flags_by_patient,
    open_flags_of,
)
from pallapp.flags.settings import (
    interval_thresholds,
    rating_interval_days,
    rating_interval_for,
    recall_period_for,
    thresholds_for,
    unit_for,
)
from pallapp.flags.store import (
    NOTE_MAX_LENGTH,
    FlagRefused,
    acknowledge,
    close,
    current_versions,
    flag_of,
    new_flag,
    open_flags,
)

__all__ = [
    "COUNTED_SEVERITIES",
    "NOTE_MAX_LENGTH",
    "FlagCounts",
    "FlagGroup",
    "FlagRefused",
    "ReminderChanges",
    "acknowledge",
    "close",
    "close_reminders",
    "current_versions",
    "end_of_life_since",
    "evaluate_all_reminders",
    "evaluate_reminders",
    "flag_of",
    "in_force",
    "interval_thresholds",
    "is_overdue",
    "new_flag",
    "open_flag_count_columns",
    "open_flag_counts",
    "open_flag_groups",
    "open_flags",
    "open_flags_by_patient",
    "open_flags_of",
    "open_orders",
    "order_rule",
    "rating_interval_days",
    "rating_interval_for",
    "rating_overdue",
    "recall_period_for",
    "reminders_due",
    "thresholds_for",
    "unit_for",
]
