"""The ID token checks, at the client level: tokens forged here against the real provider's
metadata and keys (tests/identity.py keeps the provider's signing key, so a forged token can
be correctly signed and wrong in one claim only). Each must be refused by the same call the
login callback makes (Authlib's `parse_id_token` with our claim options)."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from pallapp.auth.oidc import client, id_token_checks


@pytest.fixture
def app_config(identity_providers):  # type: ignore[no-untyped-def]
    return identity_providers.config()


def claims(provider, **changes):  # type: ignore[no-untyped-def]
    now = int(time.time())
    values = {
        "iss": provider.issuer,
        "aud": provider.client_id,
        "sub": "staff-0001",
        "hsa_id": "SE2321000016-N001",
        "nonce": "the-nonce-we-sent",
        "iat": now,
        "exp": now + 300,
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def sign(values, key: RSAKey) -> str:  # type: ignore[no-untyped-def]
    return jwt.encode({"alg": "RS256", "kid": key.kid}, values, key)


def parse(app, token: str, nonce: str = "the-nonce-we-sent"):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        return client("staff").parse_id_token(
            {"id_token": token}, nonce=nonce, claims_options=id_token_checks("staff")
        )


def test_a_correct_token_passes_so_that_the_refusals_below_mean_something(app, identity_providers):
    staff = identity_providers.staff
    parsed = parse(app, sign(claims(staff), staff.key))
    assert parsed["hsa_id"] == "SE2321000016-N001"


def test_a_tampered_token_is_refused(app, identity_providers):
    staff = identity_providers.staff
    header, payload, signature = sign(claims(staff), staff.key).split(".")
    other_payload = sign(claims(staff, hsa_id="SE2321000016-X666"), staff.key).split(".")[1]
    with pytest.raises(Exception, match="(?i)signature"):
        parse(app, f"{header}.{other_payload}.{signature}")


def test_a_token_signed_with_another_key_under_the_providers_key_id_is_refused(app, identity_providers):
    staff = identity_providers.staff
    impostor = RSAKey.generate_key(2048, parameters={"kid": staff.key.kid}, private=True)
    with pytest.raises(Exception, match="(?i)signature"):
        parse(app, sign(claims(staff), impostor))


def test_a_token_with_an_unknown_key_id_is_refused_after_fetching_the_keys_again(app, identity_providers):
    staff = identity_providers.staff
    stranger = RSAKey.generate_key(2048, parameters={"kid": "rotated-away"}, private=True)
    with pytest.raises(Exception):  # noqa: B017,PT011 (joserfc's key-id error has no fixed text)
        parse(app, sign(claims(staff), stranger))


def test_a_wrong_nonce_is_refused(app, identity_providers):
    staff = identity_providers.staff
    with pytest.raises(Exception, match="nonce"):
        parse(app, sign(claims(staff), staff.key), nonce="another-login")


def test_a_token_for_another_client_is_refused(app, identity_providers):
    staff = identity_providers.staff
    with pytest.raises(Exception, match="aud"):
        # azp names us, so that the audience itself is what is refused
        parse(app, sign(claims(staff, aud="someone-else", azp=staff.client_id), staff.key))


def test_an_expired_token_is_refused(app, identity_providers):
    staff = identity_providers.staff
    long_ago = int(time.time()) - 3600
    with pytest.raises(Exception, match="(?i)expired|exp"):
        parse(app, sign(claims(staff, iat=long_ago - 300, exp=long_ago), staff.key))


def test_a_token_naming_the_other_provider_as_issuer_is_refused(app, identity_providers):
    """Mix-up: a token that claims to come from the citizens' provider is not accepted by the
    staff client, even when signed with a key the staff client trusts."""
    staff, citizen = identity_providers.staff, identity_providers.citizen
    with pytest.raises(Exception, match="iss"):
        parse(app, sign(claims(staff, iss=citizen.issuer), staff.key))


def test_the_citizen_providers_real_key_is_not_trusted_for_staff(app, identity_providers):
    staff, citizen = identity_providers.staff, identity_providers.citizen
    with pytest.raises(Exception):  # noqa: B017,PT011 (unknown key id, after a fresh fetch)
        parse(app, sign(claims(staff), citizen.key))
