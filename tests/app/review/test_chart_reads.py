"""A chart image reads only its own instrument's ratings and only the scores it draws
(review.chartreads): every chart of every range is drawn byte for byte as from the trends
page's rows (and, for "all", as from the entities), with the corrected rating once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from pallapp.extensions import db
from pallapp.models import Patient
from pallapp.review import chartreads, charts, timeline, trends
from tests.app.review.test_trends_reads import _entities, every_kind  # noqa: F401  (a fixture)

RATING_CHARTS = [key for key in charts.chart_keys() if key != charts.DOSES_KEY]


def _svg(chart: charts.Chart) -> bytes:
    """The drawing, with pygal's id of the chart (a new uuid every time) made one."""
    return re.sub(rb"chart-[0-9a-f-]{36}", b"chart-id", charts.render_svg(chart))


@pytest.mark.parametrize("range_code", sorted(trends.TREND_RANGES))
def test_every_chart_is_drawn_as_from_the_page_rows(app, every_kind, range_code):  # noqa: F811
    with app.test_request_context():
        patient = db.session.scalar(select(Patient).where(Patient.public_id == every_kind["patient"]))
        axis = timeline.trend_axis(patient, range_code)
        page_rows = trends.assessments_in_range(patient, range_code)
        drawn = 0
        for key in RATING_CHARTS:
            own = chartreads.chart_ratings(patient, key, range_code)
            assert {row.instrument for row in own} <= set(charts.chart_instruments(key))
            chart = charts.build_chart(key, own, axis=axis)
            before = charts.build_chart(key, page_rows, axis=axis)
            assert (chart is None) == (before is None), key
            if chart is not None and before is not None:
                assert _svg(chart) == _svg(before), key
                drawn += 1
            if range_code == "all":
                entities = charts.build_chart(key, _entities(patient), axis=axis)
                assert chart is not None
                assert entities is not None
                assert _svg(chart) == _svg(entities), key
        assert drawn >= (5 if range_code == "all" else 1)


def test_a_chart_reads_its_ratings_in_one_statement_without_other_scores(app, every_kind):  # noqa: F811
    with app.test_request_context():
        patient = db.session.scalar(select(Patient).where(Patient.public_id == every_kind["patient"]))
        sent: list[str] = []

        def listener(conn, cursor, statement, parameters, context, executemany):
            # The paths into the scores are parameters (SQLite); the columns kept of them are
            # named in the statement (PostgreSQL).
            sent.append(statement + repr(parameters))

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            esas = chartreads.chart_ratings(patient, "esas_total", "all")
            roag = chartreads.chart_ratings(patient, "roag", "all")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(sent) == 2
        # Of the scores, ESAS-r's two subscales only; ROAG's highest grade only.
        assert "physical" in sent[0]
        assert "emotional" in sent[0]
        assert "communication_practical" not in sent[0]
        assert "max_grade" not in sent[0]
        assert "max_grade" in sent[1]
        assert "physical" not in sent[1]
        assert len(esas) == 14  # 14 rated, one of them corrected: once, in its new version
        assert {row.instrument for row in esas} == {"esas_r"}
        assert set(esas[0].scores["subscales"]) == {"physical", "emotional"}
        assert [row.scores["max_grade"] for row in roag] == [3]
