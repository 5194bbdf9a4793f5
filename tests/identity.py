"""Real OpenID Connect providers for the tests: `oidc-provider` (npm) run from tests/oidc.

Two providers, as in a region: "staff" (HSA-id claims, like the region's SITHS login) and
"citizen" (personnummer claims, like an e-identification broker). Each runs in its own node
process on a free port of 127.0.0.1 with signing keys made here, so that client-level tests
can also forge tokens signed with the provider's own key (expired, wrong audience, wrong
nonce) and with another key (tampered). `make oidc-provider` installs the package; without
node or the package the tests that need a provider skip and say so.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey

SERVER_DIR = Path(__file__).resolve().parent / "oidc"
SKIP_REASON = (
    "NOTICE: OpenID Connect tests skipped: the test identity provider is not installed "
    "(needs node and `make oidc-provider`, which runs npm ci in tests/oidc)"
)

#: Users of the two providers: login name -> claims (and the acr the provider reports).
STAFF_USERS = {
    "nurse-nina": {"sub": "staff-0001", "hsa_id": "SE2321000016-N001", "name": "Nina Nurse", "acr": "http://id.elegnamnden.se/loa/1.0/loa3"},
    "nurse-weak": {"sub": "staff-0002", "hsa_id": "SE2321000016-N002", "name": "Weak Login", "acr": "http://id.elegnamnden.se/loa/1.0/loa2"},
    "stranger": {"sub": "staff-0666", "hsa_id": "SE2321000016-X666", "name": "Stranger", "acr": "http://id.elegnamnden.se/loa/1.0/loa3"},
}
CITIZEN_USERS = {
    "patient-alma": {"sub": "citizen-0001", "personnummer": "194103149995", "name": "Alma", "acr": "http://id.elegnamnden.se/loa/1.0/loa3"},
    "relative-rut": {"sub": "citizen-0002", "personnummer": "197002029994", "name": "Rut", "acr": "http://id.elegnamnden.se/loa/1.0/loa3"},
}
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def provider_available() -> bool:
    return shutil.which("node") is not None and (SERVER_DIR / "node_modules" / "oidc-provider").is_dir()


@dataclass
class RunningProvider:
    name: str
    issuer: str
    client_id: str
    client_secret: str
    key: RSAKey  # the provider's signing key (private: tests forge tokens with it)
    process: subprocess.Popen[bytes] = field(repr=False)

    def config(self, claim: str) -> dict[str, object]:
        """The pallapp settings that connect to this provider."""
        prefix = f"OIDC_{self.name.upper()}_"
        return {
            prefix + "ISSUER": self.issuer,
            prefix + "CLIENT_ID": self.client_id,
            prefix + "CLIENT_SECRET": self.client_secret,
            prefix + "CLAIM": claim,
            prefix + "ACR": LOA3,
            prefix + "SCOPE": f"openid profile {self.name}",
        }


def start_provider(name: str, users: dict[str, Any], claim: str, workdir: Path) -> RunningProvider:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    key = RSAKey.generate_key(2048, parameters={"kid": f"{name}-1", "use": "sig", "alg": "RS256"}, private=True)
    client_id, secret = f"pallapp-{name}", f"{name}-client-secret-for-tests"
    config = {
        "port": port,
        "issuer": issuer,
        "title": f"Test identity provider ({name})",
        "jwks": {"keys": [key.as_dict(private=True)]},
        "clients": [
            {
                "client_id": client_id,
                "client_secret": secret,
                "redirect_uris": [f"http://127.0.0.1/login/with/{name}/callback"],
                "post_logout_redirect_uris": ["http://127.0.0.1/login"],
                "token_endpoint_auth_method": "client_secret_basic",
            }
        ],
        "users": users,
        "claims": {"profile": ["name"], name: [claim]},
        "acrValues": sorted({str(user["acr"]) for user in users.values()}),
    }
    path = workdir / f"{name}.json"
    path.write_text(json.dumps(config))
    process = subprocess.Popen(
        ["node", str(SERVER_DIR / "server.mjs"), str(path)],
        cwd=SERVER_DIR,
        stdin=subprocess.PIPE,  # the provider exits when this process does (server.mjs)
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if b'"ready":true' not in line:
        process.kill()
        process.wait()
        process.stdout.close()
        if process.stdin is not None:
            process.stdin.close()
        raise RuntimeError(f"the test identity provider did not start: {line!r}")
    return RunningProvider(name, issuer, client_id, secret, key, process)


def stop_provider(provider: RunningProvider) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        provider.process.kill()
        provider.process.wait()
    for stream in (provider.process.stdout, provider.process.stdin):
        if stream is not None:
            stream.close()


@dataclass
class Providers:
    staff: RunningProvider
    citizen: RunningProvider

    def config(self) -> dict[str, object]:
        return self.staff.config("hsa_id") | self.citizen.config("personnummer")


def running_providers(workdir: Path) -> Iterator[Providers]:
    if not provider_available():
        pytest.skip(SKIP_REASON)
    staff = start_provider("staff", STAFF_USERS, "hsa_id", workdir)
    try:
        citizen = start_provider("citizen", CITIZEN_USERS, "personnummer", workdir)
    except Exception:
        stop_provider(staff)
        raise
    try:
        yield Providers(staff, citizen)
    finally:
        stop_provider(staff)
        stop_provider(citizen)


def login_at_provider(client, start_path: str, login: str):  # type: ignore[no-untyped-def]
    """Go through a provider login with the Flask test `client`, as a browser would: our
    redirect to the provider, its login page, and back to our callback. Returns the callback's
    response."""
    response = client.get(start_path)
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    response.close()
    with requests.Session() as browser:
        page = browser.get(location, timeout=10)
        match = re.search(r'action="([^"]+)"', page.text)
        assert match, page.text[:500]
        answer = browser.post(
            urljoin(page.url, match.group(1)), data={"login": login}, allow_redirects=False, timeout=10
        )
        for _ in range(10):
            assert answer.is_redirect, (answer.status_code, answer.text[:500])
            target = urljoin(answer.url, answer.headers["Location"])
            if urlsplit(target).hostname == "localhost":
                break
            answer = browser.get(target, allow_redirects=False, timeout=10)
        else:
            raise AssertionError("the provider never sent the browser back")
    back = urlsplit(target)
    return client.get(f"{back.path}?{back.query}")
