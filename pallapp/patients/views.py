from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from wtforms import SelectChoice

from pallapp.flags.expected import marking_labels
from pallapp.forms.patients import EnrolPatientForm, InviteForm
from pallapp.homevisit import home_visit
from pallapp.i18n import gettext
from pallapp.models import Role, utcnow
from pallapp.patients import bp, services, show_markup, today_markup
from pallapp.present import instrument_title
from pallapp.reporting.services import due_for_reporter, set_reminders_opt_out
from pallapp.review.common import key_instruments, key_scores, latest_ratings
from pallapp.timeutil import today_local
from pallapp.urls import url_builder


def staff_only() -> None:
    if not current_user.is_staff:
        abort(403)


@bp.route("/")
def index() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("patients.start"))


@bp.route("/start")
@login_required
def start() -> ResponseReturnValue:
    role = current_user.role_enum
    if role is Role.PHYSICIAN and current_app.config["PHYSICIAN_START_PAGE"] == "overview":
        return redirect(url_for("review.overview"))
    if role.is_staff:
        return redirect(url_for("patients.today"))
    if role is Role.ADMIN:
        return redirect(url_for("admin.units"))
    patients = services.own_patients(current_user)
    # Whom to call day and night, from the care plan: patients and relatives see it here, where
    # they land (the start page view is already audited by `own_patients`).
    plans = services.current_care_plans(patients)
    return render_template(
        "patients/start.html",
        patients=patients,
        plans=plans,
        today=today_local(),
        due=due_for_reporter(current_user, patients, utcnow()),
        instrument_title=instrument_title,
    )


@bp.route("/start/reminders", methods=["POST"])
@login_required
def reminder_choice() -> ResponseReturnValue:
    """A patient or relative turns their own e-mail reminders off or on."""
    if current_user.role not in (Role.PATIENT, Role.RELATIVE):
        abort(403)
    opt_out = request.form.get("reminders") == "off"
    set_reminders_opt_out(current_user, opt_out)
    flash(
        gettext("You will get no e-mail reminders.")
        if opt_out
        else gettext("You will get an e-mail when it is time to rate your symptoms."),
        "success",
    )
    return redirect(url_for("patients.start"))


@bp.route("/today", methods=["GET", "POST"])
@login_required
def today() -> ResponseReturnValue:
    staff_only()
    # The search is posted, never put in the URL: a name or personnummer in a query string ends
    # up in proxy logs and the browser history of a shared tablet.
    search = request.form.get("q", "")[:100] if request.method == "POST" else ""
    patients, more = services.patients_for_today(current_user, search)
    # Each phase and each distinct pair of flag counts translated once, not once per patient.
    flag_counts = {patient.open_flags for patient in patients if patient.open_flags}
    flag_texts = {
        counts: gettext(
            "Open flags: %(high)d high, %(medium)d medium",
            high=counts.high,
            medium=counts.medium,
        )
        for counts in flag_counts
    }
    # The cards are drawn in Python (today_markup.py): the template's loop over up to 200
    # patients was a fifth of the page's time.
    cards = today_markup.patient_cards(
        patients,
        url_builder("patients.show", "public_id"),
        {phase: phase.label for phase in {patient.phase for patient in patients}},
        flag_texts,
    )
    return render_template(
        "patients/today.html",
        patients=patients,
        patient_cards=cards,
        more=more,
        search=search,
        limit=services.LIST_LIMIT,
        units=current_user.active_units(today_local()),
    )


@bp.route("/patients/new", methods=["GET", "POST"])
@login_required
def enrol() -> ResponseReturnValue:
    if current_user.role not in (Role.NURSE, Role.PHYSICIAN):
        abort(403)
    units = services.units_to_enrol_in(current_user)
    form = EnrolPatientForm()
    existing = None
    form.unit.choices = [SelectChoice(unit.public_id, unit.name) for unit in units]
    if request.method == "GET":
        form.enrolled_on.data = today_local()
    if form.validate_on_submit():
        unit = next(u for u in units if u.public_id == form.unit.data)
        if form.enrolled_on.data > today_local():
            form.enrolled_on.errors.append(gettext("The enrolment date cannot be in the future."))
        else:
            try:
                patient = services.enrol_patient(
                    current_user,
                    identity=form.personnummer.identity,  # type: ignore[arg-type]  # set: the form validated
                    given_name=form.given_name.data,
                    family_name=form.family_name.data,
                    main_diagnosis=form.main_diagnosis.data or "",
                    enrolled_on=form.enrolled_on.data,
                    unit=unit,
                )
            except services.DuplicatePatient as duplicate:
                existing = duplicate.visible_public_id
                # The same words whatever the reason when the record is not the user's to see:
                # nothing here may tell them that another unit follows this person.
                form.personnummer.errors.append(
                    gettext("This patient is already enrolled in your unit.")
                    if existing
                    else gettext(
                        "This personal identity number cannot be enrolled from your unit. If another unit follows the patient: ask that unit to share the record with your unit."
                    )
                )
            else:
                flash(gettext("The patient is enrolled."), "success")
                return redirect(url_for("patients.show", public_id=patient.public_id))
    return render_template("patients/enrol.html", form=form, units=units, existing=existing)


@bp.route("/patients/<public_id>")
@login_required
def show(public_id: str) -> ResponseReturnValue:
    # One query opens the record and answers every "may I" the page asks.
    patient, needs = services.open_patient_and_needs(current_user, public_id)
    visit = home_visit(current_user, patient, utcnow(), needs)
    may_invite = current_user.is_staff and services.Need.INVITE in needs
    may_report = services.Need.REPORT in needs
    may_view_history = services.Need.VIEW_HISTORY in needs
    # Staff see the latest score of each instrument first thing (the record is opened and
    # audited above; the latest ratings are part of it).
    # Each instrument on its own line: IPOS patient and staff versions are different ratings.
    # Read as plain columns (`latest_ratings`): the headline needs no answers, and building
    # ORM objects with their JSON cost more than the query.
    latest = (
        latest_ratings([patient.id]).get(patient.id, {})
        if current_user.is_staff and may_view_history
        else {}
    )
    scores = [
        score for code in key_instruments() if code in latest for score in key_scores({code: latest[code]})
    ]
    # Staff see the relatives and the expected levels (`alerts/_expected_levels.html`), read
    # together.
    staff_parts: dict[str, object] = {"relatives": []}
    if current_user.is_staff:
        now = utcnow()
        relatives, markings = services.relatives_and_markings(patient, now)
        staff_parts = {
            "relatives": relatives,
            "markings": markings,
            "marking_titles": marking_labels(markings),
            "now": now,
            "may_change": services.Need.CHANGE in needs,
            "show_plan_link": True,
        }
    return render_template(
        "patients/show.html",
        patient=patient,
        today=today_local(),
        episodes=patient.active_episodes(today_local()),
        may_invite=may_invite,
        may_report=may_report,
        may_view_history=may_view_history,
        visit=visit,
        # The repeated parts drawn in Python (show_markup.py): in the templates' loops they
        # were most of the page's rendering.
        visit_markup=show_markup.home_visit_markup(visit, patient.public_id),
        scores=scores,
        urls=show_markup.patient_urls(patient.public_id),
        latest_scores=show_markup.key_scores(scores) if scores else "",
        **staff_parts,
    )


@bp.route("/patients/<public_id>/invite", methods=["GET", "POST"])
@login_required
def invite(public_id: str) -> ResponseReturnValue:
    # Only staff caring for the patient may invite; to everyone else the page does not exist.
    patient = services.open_patient(current_user, public_id, services.Need.INVITE)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            issued = services.invite_to_patient(
                current_user,
                public_id,
                who=form.who.data,
                name=form.name.data,
                email=form.email.data,
                relation=form.relation.data,
                may_answer_as_proxy=form.may_answer_as_proxy.data,
                may_view_history=form.may_view_history.data,
            )
        except ValueError:
            form.email.errors.append(gettext("An account with this e-mail address already exists."))
        else:
            link = issued.link
            return render_template(
                "patients/invitation_created.html",
                patient=patient,
                invitation=issued.invitation,
                link=link,
            )
    return render_template(
        "patients/invite.html",
        form=form,
        patient=patient,
        invitations=services.open_invitations(patient),
    )
