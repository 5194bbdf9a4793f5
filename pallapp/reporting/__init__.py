"""Reporting plans (who reports what, how often, by phase), the one due/overdue rule, and
reminders to patients and relatives when a report is due."""
