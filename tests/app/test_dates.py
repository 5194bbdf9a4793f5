"""Dates and times on screen: pallapp's formatting gives Flask-Babel's text exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import flask_babel
import pytest

from pallapp.i18n import date_text, datetime_text, time_text

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NAMED = ("short", "medium", "long", "full")
# Every pattern the app passes besides the named styles.
DATE_FORMATS = (*NAMED, "LLLL y")


def _moments() -> list[datetime]:
    """Instants around the changes to and from summer time, midnights and a year's end, as UTC,
    as Stockholm time (zoneinfo, as the app converts), in another zone and naive (read as UTC)."""
    changes = [
        datetime(2024, 3, 31, 1, tzinfo=UTC),
        datetime(2024, 10, 27, 1, tzinfo=UTC),
        datetime(2025, 3, 30, 1, tzinfo=UTC),
        datetime(2025, 10, 26, 1, tzinfo=UTC),
        datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
        datetime(2025, 12, 31, 23, tzinfo=UTC),  # Stockholm's new year
        datetime(2025, 6, 15, 21, 59, 59, tzinfo=UTC),  # a summer midnight
        datetime(2025, 1, 15, 22, 59, 59, 999999, tzinfo=UTC),  # a winter midnight
    ]
    steps = [timedelta(minutes=m) for m in (-61, -60, -59, -1, 0, 1, 30, 59, 60, 61, 120)]
    moments: list[datetime] = []
    for change in changes:
        for step in steps:
            moment = change + step
            moments += [
                moment,
                moment.astimezone(STOCKHOLM),
                moment.astimezone(timezone(timedelta(hours=-5))),
                moment.replace(tzinfo=None),
            ]
    return moments


MOMENTS = _moments()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_dates_and_times_read_as_flask_babel_writes_them(app, language):
    with app.test_request_context(), flask_babel.force_locale(language):
        for moment in MOMENTS:
            for style in DATE_FORMATS:
                assert date_text(moment, style) == flask_babel.format_date(moment, style)
                assert date_text(moment.date(), style) == flask_babel.format_date(
                    moment.date(), style
                )
                assert datetime_text(moment, style) == flask_babel.format_datetime(
                    moment, style
                )
            for style in NAMED:
                assert time_text(moment, style) == flask_babel.format_time(moment, style)


# Patterns of every kind pallapp keeps the texts of (the day, the time of day, both) and does
# not (a time zone name, a fraction of a second).
DATETIME_PATTERNS = ("d MMM y HH:mm", "h:mm a", "HH:mm:ss.SSS", "d MMM HH:mm zzzz", "EEEE")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_kept_texts_read_as_flask_babel_writes_them(app, language):
    with app.test_request_context(), flask_babel.force_locale(language):
        for _second_time_from_what_was_kept in range(2):
            for moment in MOMENTS:
                for style in DATETIME_PATTERNS:
                    assert datetime_text(moment, style) == flask_babel.format_datetime(
                        moment, style
                    )
                for style in NAMED:
                    assert datetime_text(moment, style) == flask_babel.format_datetime(
                        moment, style
                    )
                    assert time_text(moment, style) == flask_babel.format_time(moment, style)
                    assert date_text(moment, style) == flask_babel.format_date(moment, style)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_template_filters_read_as_flask_babel_writes_them(app, language):
    day = date(2025, 3, 30)
    moment = datetime(2025, 3, 30, 0, 59, tzinfo=UTC)
    with app.test_request_context(), flask_babel.force_locale(language):
        rendered = app.jinja_env.from_string(
            "{{ day|local_date }}|{{ moment|local_date }}|{{ moment|local_datetime }}|"
            "{{ moment|local_date('short') }}|{{ none|local_date }}|{{ none|local_datetime }}"
        ).render(day=day, moment=moment, none=None)
        expected = "|".join(
            [
                flask_babel.format_date(day, "medium"),
                flask_babel.format_date(moment, "medium"),
                flask_babel.format_datetime(moment, "short"),
                flask_babel.format_date(moment, "short"),
                "",
                "",
            ]
        )
    assert rendered == expected
