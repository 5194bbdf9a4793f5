"""Alerts, escalation, the outbox and reminder e-mail, against a real SMTP server.

The clock is controlled: services take `now`, and `submit_assessment` reads the time from a
patched `utcnow`. Coverage hours are Monday to Friday 08:00-17:00 Swedish time; 2026-11-30 is a
Monday, and Stockholm is UTC+1 then, so 10:00 UTC is 11:00 in coverage and 20:00 UTC is 21:00
outside it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from pallapp.alerts import outbox
from pallapp.alerts import services as alerts
from pallapp.alerts.delivery import sender_for
from pallapp.assessments import services as assessments
from pallapp.extensions import db
from pallapp.models import Alert, AuditEvent, Flag, OutboxMessage, Role
from pallapp.refusals import Reason
from pallapp.reporting.services import enqueue_reminders
from tests.app.alerts.smtp import free_port, smtp_server
from tests.factories import link_relative, make_patient, make_unit, make_user

IN_HOURS = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
OUT_OF_HOURS = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
ESAS = ("pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
        "depression", "anxiety", "wellbeing")


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def app_config(smtp):
    inbox, port = smtp
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
            "MAIL_FROM": "pallapp@test.example"}


@pytest.fixture
def ctx(app, monkeypatch):
    clock = {"now": IN_HOURS}
    monkeypatch.setattr(assessments, "utcnow", lambda: clock["now"])
    with app.app_context():
        unit = make_unit("Team Norr")
        unit.coverage_weekdays = "12345"
        unit.coverage_start, unit.coverage_end = time(8, 0), time(17, 0)
        unit.alert_email = "team-norr@test.example"
        unit.escalation_email = "jour@test.example"
        nurse = make_user(Role.NURSE, units=[unit])
        patient = make_patient([unit], given_name="Signe")
        patient.enrolled_on = IN_HOURS.date() - timedelta(days=60)
        own = make_user(Role.PATIENT, patient=patient, email="signe@test.example")
        db.session.commit()
        yield {"unit": unit, "nurse": nurse, "patient": patient, "self": own, "clock": clock}


def report_pain(ctx, pain: int, token: str, at: datetime):
    ctx["clock"]["now"] = at
    answers = dict.fromkeys(ESAS, 1) | {"pain": pain}
    submitted = assessments.submit_assessment(
        ctx["self"], ctx["patient"].public_id, instrument="esas_r", answers=answers,
        client_token=token * 32,
    )
    db.session.commit()
    return submitted.assessment


def deliver(app, now):
    return outbox.deliver_due(now, lambda channel: sender_for(channel, app.config))


def test_alert_in_coverage_hours_mails_the_unit_and_promises_an_answer(app, ctx, smtp):
    inbox, _port = smtp
    assessment = report_pain(ctx, 9, "a", IN_HOURS)
    alert = db.session.scalar(select(Alert))
    assert alert.in_coverage
    assert alert.respond_by == IN_HOURS + timedelta(minutes=60)  # the default response time
    assert alert.flag.assessment_id == assessment.id
    report = deliver(app, IN_HOURS)
    db.session.commit()
    assert report.sent == 1
    [mail] = inbox.to("team-norr@test.example")
    body = mail.get_content()
    # No name, no personnummer, no rating: only that there is an alert, and the link.
    assert "Signe" not in body
    assert ctx["patient"].personnummer not in body
    assert "9" not in body
    assert "http://localhost/alerts" in body
    sends = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "send")
    )
    assert sends == 1


def test_alert_outside_coverage_hours_sends_nothing_and_never_escalates(app, ctx, smtp):
    inbox, _port = smtp
    report_pain(ctx, 9, "b", OUT_OF_HOURS)
    alert = db.session.scalar(select(Alert))
    assert not alert.in_coverage
    assert alert.respond_by is None
    assert alerts.escalate_due(OUT_OF_HOURS + timedelta(days=3)) == 0
    deliver(app, OUT_OF_HOURS + timedelta(days=3))
    assert inbox.messages == []
    listing = alerts.alerts_for(ctx["nurse"], OUT_OF_HOURS)
    assert [a.id for a in listing.alerts] == [alert.id]  # waits in the staff's list


def test_escalation_after_the_response_time_and_not_before_and_only_once(app, ctx, smtp):
    inbox, _port = smtp
    report_pain(ctx, 9, "c", IN_HOURS)
    respond_by = IN_HOURS + timedelta(minutes=60)
    assert alerts.escalate_due(respond_by - timedelta(microseconds=1)) == 0
    assert alerts.escalate_due(respond_by) == 1
    db.session.commit()
    assert alerts.escalate_due(respond_by + timedelta(hours=1)) == 0
    deliver(app, respond_by)
    deliver(app, respond_by + timedelta(hours=1))
    assert len(inbox.to("jour@test.example")) == 1
    assert len(inbox.to("team-norr@test.example")) == 1


def test_an_acknowledged_alert_does_not_escalate(app, ctx):
    report_pain(ctx, 9, "d", IN_HOURS)
    alert = db.session.scalar(select(Alert))
    alerts.acknowledge(ctx["nurse"], alert.public_id, IN_HOURS + timedelta(minutes=59))
    db.session.commit()
    assert alerts.escalate_due(IN_HOURS + timedelta(hours=2)) == 0
    with pytest.raises(alerts.AlertNotOpen):
        alerts.acknowledge(ctx["nurse"], alert.public_id, IN_HOURS + timedelta(hours=2))
    [load] = alerts.unit_load(ctx["nurse"], IN_HOURS + timedelta(hours=2))
    assert (load.alerts, load.in_coverage, load.acknowledged_in_time) == (1, 1, 1)


def test_a_repeat_of_an_open_alert_is_grouped_not_stacked(app, ctx, smtp):
    inbox, _port = smtp
    report_pain(ctx, 9, "e", IN_HOURS)
    report_pain(ctx, 8, "f", IN_HOURS + timedelta(hours=1))  # same rule, same item: pain
    alert = db.session.scalar(select(Alert))
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 1
    assert alert.repeats == 1
    assert alert.last_repeat_at == IN_HOURS + timedelta(hours=1)
    deliver(app, IN_HOURS + timedelta(hours=1))
    assert len(inbox.to("team-norr@test.example")) == 1
    # Once acknowledged, the next severe rating is a new alert again.
    alerts.acknowledge(ctx["nurse"], alert.public_id, IN_HOURS + timedelta(hours=2))
    db.session.commit()
    report_pain(ctx, 9, "g", IN_HOURS + timedelta(hours=3))
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 2


def test_a_staff_rating_raises_no_alert(app, ctx):
    answers = dict.fromkeys(ESAS, 1) | {"pain": 9}
    assessments.submit_assessment(
        ctx["nurse"], ctx["patient"].public_id, instrument="esas_r", answers=answers,
        client_token="n" * 32,
    )
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0


def test_reminder_reaches_the_patient_once_a_day_without_clinical_content(app, ctx, smtp):
    inbox, _port = smtp
    report_pain(ctx, 2, "h", IN_HOURS - timedelta(days=8))  # last rating 8 days ago: due
    for run in range(2):  # the job twice the same day
        enqueue_reminders(IN_HOURS + timedelta(hours=run))
        db.session.commit()
        deliver(app, IN_HOURS + timedelta(hours=run))
    [mail] = inbox.to("signe@test.example")
    body = mail.get_content()
    assert mail["Subject"] == "pallapp: dags att skatta dina symtom"
    assert body.splitlines() == [
        "Det är dags att skatta dina symtom i pallapp. Logga in här:",
        "http://localhost/start",
    ]
    next_day = IN_HOURS + timedelta(days=1)
    enqueue_reminders(next_day)
    db.session.commit()
    deliver(app, next_day)
    assert len(inbox.to("signe@test.example")) == 2


def test_no_reminder_when_not_due_or_opted_out(app, ctx, smtp):
    inbox, _port = smtp
    report_pain(ctx, 2, "i", IN_HOURS - timedelta(days=6))  # 6 of 7 days: not yet due
    assert enqueue_reminders(IN_HOURS) == 0
    ctx["self"].reminders_opt_out = True
    db.session.commit()
    assert enqueue_reminders(IN_HOURS + timedelta(days=2)) == 0  # due now, but opted out
    relative = make_user(Role.RELATIVE, email="son@test.example")
    link_relative(relative, ctx["patient"], proxy=True)
    db.session.commit()
    assert enqueue_reminders(IN_HOURS + timedelta(days=2)) == 1  # the proxy relative still
    deliver(app, IN_HOURS + timedelta(days=2))
    [mail] = inbox.messages
    assert mail["To"] == "son@test.example"
    assert mail["Subject"] == "pallapp: dags för en symtomskattning"  # not "your symptoms"


def test_a_failed_send_is_retried_then_shown_to_staff(app, ctx):
    app.config["SMTP_PORT"] = free_port()  # nothing listens there
    report_pain(ctx, 9, "j", IN_HOURS)
    now = IN_HOURS
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        report = deliver(app, now)
        message = db.session.scalar(select(OutboxMessage))
        assert message.attempts == attempt
        if attempt < outbox.MAX_ATTEMPTS:
            assert (report.retrying, message.status) == (1, "pending")
            assert deliver(app, message.next_attempt_at - timedelta(seconds=1)).retrying == 0
            now = message.next_attempt_at
    assert message.status == "failed"
    assert message.last_error
    listing = alerts.alerts_for(ctx["nurse"], now)
    assert [m.id for m in listing.failed_messages] == [message.id]
    failures = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "send", AuditEvent.outcome == "failed"
        )
    )
    assert failures == outbox.MAX_ATTEMPTS


def test_two_senders_at_once_send_each_message_once(app, ctx, smtp):
    inbox, _port = smtp
    for number in range(12):
        outbox.enqueue(
            key=f"test:{number}", kind="reminder", channel="email",
            recipient=f"p{number}@test.example", subject="s", body="b", now=IN_HOURS,
        )
    # The same send asked for again is one row.
    assert not outbox.enqueue(
        key="test:0", kind="reminder", channel="email", recipient="p0@test.example",
        subject="s", body="b", now=IN_HOURS,
    )
    db.session.commit()
    barrier = threading.Barrier(2)
    reports = []

    def run():
        with app.app_context():
            barrier.wait()
            reports.append(deliver(app, IN_HOURS))
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m["To"] for m in inbox.messages) == sorted(
        f"p{number}@test.example" for number in range(12)
    )
    assert sum(report.sent for report in reports) == 12


def test_an_expected_level_holds_back_alerts_then_expires(app, ctx):
    from pallapp.flags import expected

    marked_at = IN_HOURS - timedelta(hours=1)
    expected.mark_expected(
        ctx["nurse"], ctx["patient"].public_id, instrument="esas_r", item="pain", level=8,
        days=7, reason="Känd skelettsmärta, behandling justerad i dag", now=marked_at,
    )
    db.session.commit()
    report_pain(ctx, 8, "k", IN_HOURS)  # at the expected level: the flag stands, no alert
    flags = db.session.scalars(select(Flag).where(Flag.severity == "high")).all()
    assert [flag.code for flag in flags] == ["severe_item"]
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0
    report_pain(ctx, 9, "l", IN_HOURS + timedelta(hours=1))  # above it: an alert
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 1
    alert = db.session.scalar(select(Alert))
    alerts.acknowledge(ctx["nurse"], alert.public_id, IN_HOURS + timedelta(hours=2))
    db.session.commit()
    # Seven days after marking, the marking has expired by itself: 8 alerts again.
    expires = marked_at + timedelta(days=7)
    report_pain(ctx, 8, "m", expires - timedelta(seconds=1))
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 1
    report_pain(ctx, 8, "o", expires)
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 2


def test_an_expected_level_needs_a_reason_a_scale_value_and_at_most_two_weeks(app, ctx):
    from pallapp.flags import expected

    def mark(**changes):
        values = {"instrument": "esas_r", "item": "pain", "level": 3, "days": 7, "reason": "r"}
        values.update(changes)
        with pytest.raises(expected.MarkingRefused) as refused:
            expected.mark_expected(ctx["nurse"], ctx["patient"].public_id, now=IN_HOURS, **values)
        return refused.value.reason

    assert mark(reason="  ") is Reason.MARKING_REASON_REQUIRED
    assert mark(level=10) is Reason.LEVEL_OUT_OF_RANGE  # the top of ESAS-r's 0-10: alerts off
    assert mark(level=-1) is Reason.LEVEL_OUT_OF_RANGE
    assert mark(days=15) is Reason.DAYS_OUT_OF_RANGE
    assert mark(item="teeth") is Reason.UNKNOWN_ITEM


def test_the_weekly_share_counts_only_alerts_whose_response_time_has_come(app, ctx):
    report_pain(ctx, 9, "p", IN_HOURS)
    first = db.session.scalar(select(Alert))
    alerts.acknowledge(ctx["nurse"], first.public_id, IN_HOURS + timedelta(minutes=61))  # late
    report_pain(ctx, 9, "q", IN_HOURS + timedelta(hours=2))  # a new alert, still open
    db.session.commit()
    [week] = alerts.unit_load(ctx["nurse"], IN_HOURS + timedelta(hours=2, minutes=30))
    # Two alerts; the open one has 30 of its 60 minutes left, so only the late one counts.
    assert (week.alerts, week.in_coverage, week.acknowledged_in_time) == (2, 1, 0)
    [week] = alerts.unit_load(ctx["nurse"], IN_HOURS + timedelta(hours=3))
    assert (week.in_coverage, week.acknowledged_in_time) == (2, 0)


def test_a_relatives_dose_outside_the_order_raises_an_alert(app, ctx):
    from pallapp.careplan import doses, orders

    physician = make_user(Role.PHYSICIAN, units=[ctx["unit"]])
    relative = make_user(Role.RELATIVE)
    link_relative(relative, ctx["patient"])
    ctx["unit"].relatives_may_record_doses = True
    order = orders.create_order(
        physician, ctx["patient"].public_id,
        orders.OrderDetails(
            indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg",
            route="sc", min_interval_minutes=60, max_doses_per_24h=6,
        ),
        start_at=IN_HOURS - timedelta(days=1),
    )

    def give(minutes: int, token: str, **confirm):  # type: ignore[no-untyped-def]
        return doses.record_dose(
            relative, ctx["patient"].public_id, order.public_id,
            given_at=IN_HOURS + timedelta(minutes=minutes), dose="2,5", dose_unit="mg",
            route="sc", client_token=token * 32, now=IN_HOURS + timedelta(minutes=minutes), **confirm,
        )

    give(0, "u")
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0  # within the order
    # 30 minutes later: closer than the order's 60-minute interval, a high flag.
    recorded = give(30, "v", over_limit_confirmed=True, over_limit_reason="Svår smärta")
    assert "prn_over_limit" in [flag.code for flag in recorded.flags]
    alert = db.session.scalar(select(Alert))
    assert alert.flag.code == "prn_over_limit"
    assert alert.in_coverage  # Monday 11:00 Swedish time
    assert alert.respond_by == IN_HOURS + timedelta(minutes=30 + 60)
