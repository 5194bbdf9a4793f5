"""Logging in through OpenID Connect providers, with Authlib as the client.

Two provider configurations, each offered when its issuer and client id are set:

- "staff": the region's identity provider (SITHS eID and the like), bound by HSA-id;
- "citizen": an e-identification broker (BankID, Freja eID), bound by personnummer.

Authlib does the protocol: the authorization code flow with PKCE (S256), `state` kept in the
session and checked on the way back, a `nonce` in the request and checked in the ID token,
and the ID token's signature (keys from the provider's `jwks_uri`, fetched again when a token
names a key id not yet seen: key rotation), nonce and expiry; issuer and audience are checked
through the claim options we pass (`id_token_checks`). This module adds what is ours: the level of assurance (`acr`) the deployment requires, and binding the provider's
stable claim to one account, once, through an invitation. An identity is never matched on an
e-mail address.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, url_for
from sqlalchemy import select

from pallapp import audit
from pallapp.extensions import db
from pallapp.models import AuditAction, Role, User, utcnow

PROVIDERS = ("staff", "citizen")
#: Who may log in through which provider.
PROVIDER_ROLES = {
    "staff": frozenset({Role.NURSE, Role.PHYSICIAN, Role.MANAGER, Role.ADMIN}),
    "citizen": frozenset({Role.PATIENT, Role.RELATIVE}),
}
EXTENSION = "pallapp_oidc"
#: Seconds to wait for the provider's back channel (metadata, keys, token endpoint).
BACK_CHANNEL_TIMEOUT = 10


class IdentityProblem(Exception):
    """A login through a provider that cannot go on; `reason` names why (see the views)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProviderSettings:
    name: str
    issuer: str
    client_id: str
    client_secret: str | None
    claim: str
    acr: frozenset[str]
    scope: str


def provider_settings(config: Any, name: str) -> ProviderSettings | None:
    prefix = f"OIDC_{name.upper()}_"
    issuer = config.get(prefix + "ISSUER")
    client_id = config.get(prefix + "CLIENT_ID")
    if not issuer or not client_id:
        return None
    acr = str(config.get(prefix + "ACR") or "")
    return ProviderSettings(
        name=name,
        issuer=str(issuer).rstrip("/"),
        client_id=str(client_id),
        client_secret=config.get(prefix + "CLIENT_SECRET") or None,
        claim=str(config.get(prefix + "CLAIM")),
        acr=frozenset(value.strip() for value in acr.split(",") if value.strip()),
        scope=str(config.get(prefix + "SCOPE")),
    )


def init_oidc(app: Flask) -> None:
    """One Authlib registry per app (tests build many apps with different providers)."""
    oauth = OAuth(app)
    for name in PROVIDERS:
        settings = provider_settings(app.config, name)
        if settings is None:
            continue
        oauth.register(
            name=name,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=settings.issuer + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.scope,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": (
                    "client_secret_basic" if settings.client_secret else "none"
                ),
                "default_timeout": BACK_CHANNEL_TIMEOUT,
            },
        )
    app.extensions[EXTENSION] = oauth


def configured_providers() -> list[str]:
    return [name for name in PROVIDERS if provider_settings(current_app.config, name)]


def client(name: str) -> Any:
    """The Authlib client of provider `name`, or None when it is not configured."""
    if name not in configured_providers():
        return None
    return current_app.extensions[EXTENSION].create_client(name)


def id_token_checks(provider: str) -> dict[str, Any]:
    """Authlib's claim options for the ID token: the issuer we configured (OpenID Connect Core
    3.1.3.7 item 2; naming it here, not taking it from the metadata, keeps one provider's
    tokens out of the other's login: mix-up), and our client id in the audience (item 3).
    Authlib alone checks the audience only through `azp`, so a token for another client that
    named us as its authorized party would pass without this."""
    settings = provider_settings(current_app.config, provider)
    assert settings is not None  # noqa: S101 (the view checked that the provider exists)
    return {
        "iss": {"essential": True, "values": [settings.issuer, settings.issuer + "/"]},
        "aud": {"essential": True, "value": settings.client_id},
        "sub": {"essential": True},
    }


def callback_url(provider: str) -> str:
    """Our redirect URI, from the configured base URL (never the request's Host header)."""
    base = current_app.config.get("BASE_URL")
    if not base:
        return url_for("auth.oidc_callback", provider=provider, _external=True)
    return base + url_for("auth.oidc_callback", provider=provider)


def after_logout_url() -> str:
    base = current_app.config.get("BASE_URL")
    if not base:
        return url_for("auth.login", _external=True)
    return base + url_for("auth.login")


def _claim_tag(value: str) -> str:
    """A short digest of a claim for the audit log: correlates attempts without storing a
    personnummer there."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def identity_from_claims(provider: str, claims: dict[str, Any]) -> str:
    """The bound claim's value, after the level-of-assurance check; refusals are audited."""
    settings = provider_settings(current_app.config, provider)
    assert settings is not None  # noqa: S101 (the view checked that the provider exists)
    if settings.acr and claims.get("acr") not in settings.acr:
        audit.record(
            AuditAction.LOGIN_FAILED,
            object_type="identity",
            outcome="failed",
            detail=f"{provider}: level of assurance {str(claims.get('acr'))[:40]!r} not accepted",
        )
        raise IdentityProblem("assurance")
    value = claims.get(settings.claim)
    if not isinstance(value, str) or not value.strip():
        audit.record(
            AuditAction.LOGIN_FAILED,
            object_type="identity",
            outcome="failed",
            detail=f"{provider}: the ID token has no {settings.claim}",
        )
        raise IdentityProblem("claim_missing")
    value = value.strip()
    if settings.claim == "personnummer":
        value = "".join(ch for ch in value if ch.isdigit())
    return value


def account_for_identity(provider: str, value: str) -> User:
    """The active account bound to this identity; a login with no such account is refused
    and audited (with a digest of the claim, not the claim)."""
    user = db.session.scalar(
        select(User).where(User.identity_provider == provider, User.identity_claim == value)
    )
    if user is None or not user.active or user.role_enum not in PROVIDER_ROLES[provider]:
        audit.record(
            AuditAction.LOGIN_FAILED,
            user=user,
            object_type="identity",
            object_id=_claim_tag(value),
            outcome="failed",
            detail=f"{provider}: no active account for this identity",
        )
        raise IdentityProblem("unknown" if user is None else "inactive")
    user.last_login_at = utcnow()
    audit.record(AuditAction.LOGIN, user=user, obj=user, detail=f"oidc:{provider}")
    return user


def bind_identity(user: User, provider: str, value: str) -> None:
    """Bind `value` at `provider` to `user`, once (the caller accepts the invitation)."""
    taken = db.session.scalar(
        select(User.id).where(User.identity_provider == provider, User.identity_claim == value)
    )
    if taken is not None or user.identity_provider is not None:
        raise IdentityProblem("identity_taken")
    user.identity_provider = provider
    user.identity_claim = value
    user.identity_bound_at = utcnow()
