from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, logout_user

from pallapp import audit
from pallapp.auth import bp
from pallapp.auth.accounts import end_all_sessions
from pallapp.auth.oidc import PROVIDER_ROLES, after_logout_url, configured_providers
from pallapp.auth.oidc_views import provider_logout_url
from pallapp.auth.second_factor import has_second_factor
from pallapp.auth.second_factor_views import await_second_factor
from pallapp.auth.services import (
    InvitationProblem,
    accept_invitation,
    authenticate,
    change_password,
    login_completed,
    open_invitation,
)
from pallapp.auth.session import OIDC_ID_TOKEN, OIDC_PROVIDER, begin_session
from pallapp.auth.throttle import (
    credentials_rejected,
    login_limits,
    password_change_limit,
    remember_device,
)
from pallapp.forms.auth import ChangePasswordForm, LanguageForm, LoginForm, SetPasswordForm
from pallapp.i18n import gettext, language_choices
from pallapp.models import AuditAction, Role


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target


def start_page_for_current_user() -> str:
    return url_for("patients.start")


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(start_page_for_current_user())
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "", record_login=False)
        if user is not None and has_second_factor(user):
            # The password was right; the session begins once the second factor is too.
            await_second_factor(user, safe_next(form.next.data))
            response = redirect(url_for("auth.second_factor_login"))
            remember_device(response, user.email)
            return response
        if user is not None:
            next_path = safe_next(form.next.data)
            login_completed(user, "password")
            # A fresh session for the new login (no fixation). Where a second factor is
            # required and not yet set up, the session reaches only its setup page.
            begin_session(user, "password")
            response = redirect(next_path or start_page_for_current_user())
            remember_device(response, user.email)
            return response
        credentials_rejected()
        flash(gettext("Wrong e-mail or password."), "error")
    return render_template("auth/login.html", form=form, providers=configured_providers())


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@password_change_limit
def password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if change_password(user, form.current.data or "", form.password.data or ""):
            # Other devices are logged out; this one continues with the new session token.
            begin_session(user)
            flash(
                gettext("Your password is changed. You are logged out on every other device."),
                "success",
            )
            return redirect(start_page_for_current_user())
        credentials_rejected()
        form.current.errors.append(gettext("The current password is not right."))
    return render_template("auth/password.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    user = current_user._get_current_object()
    audit.record(AuditAction.LOGOUT, obj=user)
    # Ended on the server, not only in this browser: a copy of the cookie (another tab, a
    # proxy log, a stolen tablet's disk) would otherwise stay valid until it went idle. The
    # token belongs to the account, so every device of the account is logged out.
    end_all_sessions(user)
    logout_user()
    # Where the login was at a provider, its session ends too (RP-initiated logout); ours
    # has ended above in every case, whatever the provider answers.
    provider_url = provider_logout_url(
        session.get(OIDC_PROVIDER), session.get(OIDC_ID_TOKEN), after_logout_url()
    )
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    flash(gettext("You are logged out."), "info")
    response = redirect(provider_url or url_for("auth.login"))
    # Chart images are the one thing a browser keeps (to revalidate them): gone at logout.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


def invitation_message(reason: str) -> str:
    # Marked literally so that extraction finds each message.
    messages = {
        "unknown": gettext(
            "This invitation link is not valid. Check that the whole link was copied, or ask the care team for a new one."
        ),
        "used": gettext(
            "This invitation link has already been used. Log in with your e-mail and password, or ask the care team for a new link."
        ),
        "expired": gettext("This invitation link has expired. Ask the care team for a new one."),
        "revoked": gettext(
            "This invitation link has been withdrawn. Ask the care team for a new one."
        ),
        "inactive": gettext(
            "This account is deactivated. Ask the care team or your administrator for help."
        ),
        "conflict": gettext(
            "An account with this e-mail address already exists. Log in with it, or ask the care team for help."
        ),
        "provider": gettext(
            "This invitation is not accepted with this kind of login. Use the other login button on the invitation page."
        ),
        "wrong_person": gettext(
            "The e-identification is not that of the person this invitation is for. Ask the care team for help."
        ),
        "identity_taken": gettext(
            "This e-identification already belongs to another account in pallapp. Log in with it, or ask the care team for help."
        ),
    }
    return messages[reason]


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> ResponseReturnValue:
    if current_user.is_authenticated:
        logout_user()
        session.clear()
    try:
        invite = open_invitation(token)
    except InvitationProblem as problem:
        return render_template(
            "auth/invitation_problem.html", message=invitation_message(problem.reason)
        ), 410 if problem.reason in ("used", "expired", "revoked") else 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accept_invitation(token, form.password.data or "")
        except InvitationProblem as problem:
            return render_template(
                "auth/invitation_problem.html", message=invitation_message(problem.reason)
            ), 409
        begin_session(user)
        audit.record(AuditAction.LOGIN, user=user, obj=user)
        flash(gettext("Welcome! Your password is saved."), "success")
        response = redirect(start_page_for_current_user())
        remember_device(response, user.email)  # the device the account was set up on
        return response
    return render_template(
        "auth/invitation.html",
        form=form,
        invitation=invite,
        providers=[
            name
            for name in configured_providers()
            if Role(invite.role) in PROVIDER_ROLES[name]
        ],
    )


@bp.route("/language", methods=["POST"])
def language() -> ResponseReturnValue:
    form = LanguageForm()
    form.language.choices = language_choices()
    if not form.validate_on_submit():
        abort(400)  # not a configured language, or no CSRF token
    chosen = form.language.data
    session["language"] = chosen
    if current_user.is_authenticated:
        current_user.language = chosen
    return redirect(safe_next(form.next.data) or url_for("auth.login"))
