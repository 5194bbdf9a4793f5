"""Alert volume of a database: how many alerts its high flags would raise, one per flag
against grouped as `pallapp.alerts.services.raise_alerts` groups them.

    python -m benchmarks.alert_volume --database-url URL

Counted per patient (each unit following the patient gets the same alerts). Only flags that
raise alerts count: high flags of patients' and relatives' own reports (the assessment's
respondent is not staff) and of doses. Grouping is replayed in time order: a flag with the
rule and items of an earlier counted one is a repeat while that earlier one is open; the
flag's own closing (acknowledgement) stands in for the alert's, which stored data does not
have. Expected levels are counted when the database has any (demo and generated data have
none, so their "after expected levels" equals "after grouping").
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from sqlalchemy import create_engine, or_, select
from sqlalchemy.orm import Session

from pallapp.models import Assessment, ExpectedLevel, Flag


def volume(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Flag.patient_id, Flag.code, Flag.items, Flag.created_at, Flag.closed_at,
               Assessment.instrument, Assessment.answers)
        .outerjoin(Assessment, Flag.assessment_id == Assessment.id)
        .where(
            Flag.severity == "high",
            or_(Flag.source == "dose", Assessment.respondent != "staff"),
        )
        .order_by(Flag.created_at, Flag.id)
    ).all()
    markings = session.scalars(select(ExpectedLevel)).all()
    grouped = expected = 0
    open_by_key: dict[tuple[int, str, tuple[str, ...]], object] = {}
    for row in rows:
        key = (row.patient_id, row.code, tuple(sorted(row.items)))
        earlier = open_by_key.get(key)
        if earlier is not None and (earlier.closed_at is None or earlier.closed_at > row.created_at):  # type: ignore[attr-defined]
            continue
        open_by_key[key] = row
        grouped += 1
        beyond = [
            item for item in row.items
            if not any(
                m.patient_id == row.patient_id and m.instrument == row.instrument
                and m.item == item and m.is_active_at(row.created_at)
                and isinstance((row.answers or {}).get(item), int) and row.answers[item] <= m.level
                for m in markings
            )
        ]
        if beyond:
            expected += 1
    return {"flags": len(rows), "after_grouping": grouped, "after_expected_levels": expected}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    engine = create_engine(args.database_url)
    with Session(engine) as session:
        counts = volume(session)
    engine.dispose()
    print(
        f"high flags that raise alerts: {counts['flags']}; alerts after grouping repeats: "
        f"{counts['after_grouping']}; after expected levels: {counts['after_expected_levels']}"
    )


if __name__ == "__main__":
    main()
