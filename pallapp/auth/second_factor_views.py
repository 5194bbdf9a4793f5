"""The second factor's pages: the code after a password, and setting it up."""

from __future__ import annotations

import time

from flask import abort, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from pallapp.auth import bp
from pallapp.auth.second_factor import (
    check_second_factor,
    confirm_enrolment,
    has_second_factor,
    new_secret,
    password_alone_allowed,
    provisioning_uri,
    qr_svg,
    remove_second_factor,
    unused_recovery_codes,
)
from pallapp.auth.services import login_completed
from pallapp.auth.session import begin_session
from pallapp.auth.throttle import credentials_rejected, second_factor_limit
from pallapp.extensions import db
from pallapp.forms.auth import EnrolSecondFactorForm, RemoveSecondFactorForm, SecondFactorForm
from pallapp.i18n import gettext
from pallapp.models import User

#: Session key: the account whose password was right and whose second factor is awaited.
PENDING = "pending_second_factor"
#: Session key: the secret shown during setup, until a code confirms it.
ENROLLING = "enrolling_secret"
#: Minutes between the password and the code.
PENDING_MINUTES = 5


def await_second_factor(user: User, next_path: str | None) -> None:
    """The password was right; nobody is logged in until the second factor is."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    session[PENDING] = {"user": user.public_id, "next": next_path, "at": time.time()}


def _pending_user() -> tuple[User, str | None] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int | float):
        return None
    if time.time() - float(pending["at"]) > PENDING_MINUTES * 60:
        session.pop(PENDING, None)
        return None
    user = db.session.scalar(
        db.select(User).where(User.public_id == pending.get("user"), User.active.is_(True))
    )
    if user is None or not has_second_factor(user):
        return None
    next_path = pending.get("next")
    return user, next_path if isinstance(next_path, str) else None


@bp.route("/login/second-factor", methods=["GET", "POST"])
@second_factor_limit
def second_factor_login() -> ResponseReturnValue:
    found = _pending_user()
    if found is None:
        flash(gettext("Please log in with your e-mail and password first."), "info")
        return redirect(url_for("auth.login"))
    user, next_path = found
    form = SecondFactorForm()
    if form.validate_on_submit():
        result = check_second_factor(user, form.code.data or "")
        if result.ok:
            login_completed(user, "password+recovery code" if result.by_recovery_code else "password+totp")
            begin_session(user, "password+totp")
            if result.by_recovery_code:
                left = unused_recovery_codes(user)
                flash(
                    gettext(
                        "You used a recovery code; %(left)d are left. Set up the second factor again if your phone is lost.",
                        left=left,
                    ),
                    "info",
                )
            from pallapp.auth.views import start_page_for_current_user

            return redirect(next_path or start_page_for_current_user())
        credentials_rejected()
        form.code.errors.append(gettext("The code is not right. Try the code the app shows now."))
    return render_template("auth/second_factor.html", form=form)


@bp.route("/account/second-factor", methods=["GET", "POST"])
@login_required
@second_factor_limit
def second_factor_setup() -> ResponseReturnValue:
    user = current_user._get_current_object()
    enrolled = has_second_factor(user)
    form = EnrolSecondFactorForm()
    remove_form = RemoveSecondFactorForm(prefix="remove")
    if enrolled:
        if remove_form.submit.data and remove_form.validate_on_submit():
            if not password_alone_allowed(user) and user.identity_provider is None:
                abort(403)  # the account cannot do without it
            remove_second_factor(user, user)
            flash(gettext("The second factor is turned off."), "info")
            return redirect(url_for("auth.second_factor_setup"))
        return render_template(
            "auth/second_factor_setup.html",
            enrolled=True,
            codes_left=unused_recovery_codes(user),
            may_remove=password_alone_allowed(user) or user.identity_provider is not None,
            remove_form=remove_form,
        )
    secret = session.get(ENROLLING)
    if not isinstance(secret, str):
        secret = new_secret()
        session[ENROLLING] = secret
    if form.validate_on_submit():
        codes = confirm_enrolment(user, secret, form.code.data or "")
        if codes is not None:
            session.pop(ENROLLING, None)
            # This session has now shown both factors.
            begin_session(user, "password+totp")
            return render_template("auth/recovery_codes.html", codes=codes)
        credentials_rejected()
        form.code.errors.append(gettext("The code is not right. Try the code the app shows now."))
    uri = provisioning_uri(user, secret)
    return render_template(
        "auth/second_factor_setup.html",
        enrolled=False,
        form=form,
        secret=secret,
        qr=qr_svg(uri),
        required=not password_alone_allowed(user),
    )
