"""The Swedish calendar day of a stored UTC time, computed in SQL.

Care relationships (unit memberships, care episodes) run by local calendar days; the audit log
stores UTC. To ask "did this user have a care relationship with this patient on the day of the
event" for thousands of events at once, the database computes the local day itself.

PostgreSQL knows the time zone: `timezone('Europe/Stockholm', at)`. SQLite knows none, so the
rule for Sweden is written out: UTC+2 (CEST) from 01:00 UTC on the last Sunday of March to
01:00 UTC on the last Sunday of October, else UTC+1 (CET), the EU rule in force since 1996
(Directive 2000/84/EC, art. 2 and 3). Times before 1996 are not in an audit log of this app.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from pallapp.timeutil import STOCKHOLM


class local_date(FunctionElement[Any]):  # noqa: N801  (reads like the SQL function it is)
    """`local_date(column)`: the Europe/Stockholm date of a UTC datetime column."""

    type = Date()
    inherit_cache = True
    name = "local_date"


@compiles(local_date, "postgresql")
def _postgresql(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    moment = compiler.process(column, **kw)
    return f"CAST(timezone('{STOCKHOLM.key}', {moment}) AS DATE)"


@compiles(local_date, "sqlite")
def _sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    moment = compiler.process(column, **kw)
    year = f"strftime('%Y', {moment})"

    def last_sunday_before(month_day: str) -> str:
        # 'weekday 0' moves forward to a Sunday; from the 1st of the next month, a week back
        # is the last Sunday of the month before.
        return f"datetime(date({year} || '{month_day}', 'weekday 0', '-7 days'), '+1 hour')"

    summer = (
        f"{moment} >= {last_sunday_before('-04-01')} AND {moment} < {last_sunday_before('-11-01')}"
    )
    # Whole seconds: SQLite rounds fractions to milliseconds, so 23:59:59.9999 would be the
    # next day.
    seconds = f"substr({moment}, 1, 19)"
    return f"date({seconds}, CASE WHEN {summer} THEN '+2 hours' ELSE '+1 hour' END)"


@compiles(local_date)
def _other(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError("local_date is written for PostgreSQL and SQLite only")
