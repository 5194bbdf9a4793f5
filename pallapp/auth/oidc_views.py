"""The pages of a provider login: away to the provider, and back."""

from __future__ import annotations

from authlib.common.errors import AuthlibBaseError
from flask import abort, current_app, redirect, render_template, session
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user
from joserfc.errors import JoseError

from pallapp.auth import bp
from pallapp.auth.oidc import (
    IdentityProblem,
    account_for_identity,
    callback_url,
    client,
    id_token_checks,
    identity_from_claims,
    provider_settings,
)
from pallapp.auth.services import (
    InvitationProblem,
    accept_invitation_with_identity,
    open_invitation,
)
from pallapp.auth.session import OIDC_ID_TOKEN, OIDC_PROVIDER, begin_session
from pallapp.auth.throttle import remember_device
from pallapp.extensions import db
from pallapp.i18n import gettext
from pallapp.models import AuditAction

#: Session key: the invitation a provider login is meant to accept.
INVITATION = "oidc_invitation"


def identity_message(reason: str) -> str:
    messages = {
        "unknown": gettext(
            "You logged in, but no account in pallapp belongs to this identity. Use the invitation link from your care team or administrator the first time."
        ),
        "inactive": gettext(
            "The account for this identity is deactivated. Ask the care team or your administrator for help."
        ),
        "assurance": gettext(
            "This login method is not strong enough for pallapp. Log in with an e-identification the care unit accepts."
        ),
        "claim_missing": gettext(
            "The identity provider did not say who you are. Ask your administrator for help."
        ),
        "failed": gettext("The login could not be completed. Please try again."),
    }
    return messages[reason]


def _kept(response_status: int) -> int:
    """The refusal is answered with an error status, which rolls the request back: its audit
    events are committed first (as for a refused patient record)."""
    db.session.commit()
    return response_status


def _refuse(reason: str, status: int = 403) -> tuple[str, int]:
    _kept(status)
    return render_template(
        "auth/login_refused.html", message=identity_message(reason)
    ), status


def _start(provider: str) -> ResponseReturnValue:
    oidc = client(provider)
    if oidc is None:
        abort(404)
    settings = provider_settings(current_app.config, provider)
    extra = {"acr_values": " ".join(sorted(settings.acr))} if settings and settings.acr else {}
    # The provider is asked for the level of assurance we need; the token is checked anyway.
    return oidc.authorize_redirect(callback_url(provider), **extra)


@bp.route("/login/with/<provider>")
def oidc_login(provider: str) -> ResponseReturnValue:
    if current_user.is_authenticated:
        logout_user()
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    return _start(provider)


@bp.route("/invitation/<token>/with/<provider>")
def oidc_invitation(token: str, provider: str) -> ResponseReturnValue:
    from pallapp.auth.views import invitation_message

    if current_user.is_authenticated:
        logout_user()
    session.clear()
    if client(provider) is None:
        abort(404)
    try:
        open_invitation(token)
    except InvitationProblem as problem:
        return render_template(
            "auth/invitation_problem.html", message=invitation_message(problem.reason)
        ), 410 if problem.reason in ("used", "expired", "revoked") else 404
    session[INVITATION] = token
    return _start(provider)


@bp.route("/login/with/<provider>/callback")
def oidc_callback(provider: str) -> ResponseReturnValue:
    from pallapp import audit
    from pallapp.auth.views import invitation_message, start_page_for_current_user

    oidc = client(provider)
    if oidc is None:
        abort(404)
    invitation = session.pop(INVITATION, None)
    try:
        token = oidc.authorize_access_token(claims_options=id_token_checks(provider))
    except (AuthlibBaseError, JoseError, ValueError) as error:
        # A wrong or replayed state, a refused code, a token whose signature, issuer,
        # audience, nonce or expiry is wrong: all end here, audited.
        audit.record(
            AuditAction.LOGIN_FAILED,
            object_type="identity",
            outcome="failed",
            detail=f"{provider}: {type(error).__name__}: {str(error)[:120]}",
        )
        return _refuse("failed", 400)
    claims = token.get("userinfo") or {}
    try:
        value = identity_from_claims(provider, dict(claims))
        if isinstance(invitation, str):
            try:
                user = accept_invitation_with_identity(invitation, provider, value)
            except InvitationProblem as problem:
                db.session.rollback()  # nothing of the half-accepted invitation stays
                _record_invitation_refusal(provider, problem.reason)
                return render_template(
                    "auth/invitation_problem.html", message=invitation_message(problem.reason)
                ), _kept(409)
        else:
            user = account_for_identity(provider, value)
    except IdentityProblem as problem:
        return _refuse(problem.reason)
    begin_session(user, f"oidc:{provider}")
    session[OIDC_PROVIDER] = provider
    session[OIDC_ID_TOKEN] = token.get("id_token")
    response = redirect(start_page_for_current_user())
    remember_device(response, user.email)
    return response


def _record_invitation_refusal(provider: str, reason: str) -> None:
    from pallapp import audit

    audit.record(
        AuditAction.LOGIN_FAILED,
        object_type="invitation",
        outcome="failed",
        detail=f"{provider}: invitation refused ({reason})",
    )


def provider_logout_url(provider: object, id_token: object, after: str) -> str | None:
    """The provider's end-session URL (RP-initiated logout), if it has one."""
    if not isinstance(provider, str):
        return None
    oidc = client(provider)
    if oidc is None:
        return None
    try:
        metadata = oidc.load_server_metadata()
    except Exception:  # noqa: BLE001 (the provider is down: our session still ends)
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    return str(
        oidc.create_logout_url(
            post_logout_redirect_uri=after,
            id_token_hint=id_token if isinstance(id_token, str) else None,
            client_id=oidc.client_id,
        )["url"]
    )

