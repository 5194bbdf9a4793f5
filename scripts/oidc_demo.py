"""The demo with provider logins: `make oidc-demo`.

Starts the two test identity providers of tests/identity.py (oidc-provider, from tests/oidc),
binds three demo accounts to identities there, and serves the demo on http://127.0.0.1:5000
with both providers configured. Development settings only: the binding below skips the
invitation on purpose, which the app itself never does.

    staff provider:   log in as "nurse-nina"   -> nurse@example.org
    citizen provider: log in as "patient"      -> patient@example.org (her own personnummer)
                      log in as "relative-rut" -> relative@example.org
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from pallapp import create_app  # noqa: E402
from pallapp.demo import load_demo_data  # noqa: E402
from pallapp.extensions import db  # noqa: E402
from pallapp.models import Patient, User  # noqa: E402
from tests import identity  # noqa: E402

PORT = int(os.environ.get("PALLAPP_DEMO_PORT", "5000"))


def _demo_app(extra: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    return create_app({"ENV_NAME": "development", **(extra or {})})


def prepare_database() -> str:
    """Migrate, load the demo if empty; returns the demo patient's personnummer."""
    from flask_migrate import upgrade

    app = _demo_app()
    with app.app_context():
        upgrade()
        if db.session.scalar(select(User.id).limit(1)) is None:
            load_demo_data()
            db.session.commit()
        own = db.session.scalar(
            select(Patient).join(User, User.patient_id == Patient.id).where(
                User.email == "patient@example.org"
            )
        )
        number = own.personnummer if own is not None else "194103149995"
        db.engine.dispose()
    return number


def bind(app, bindings: list[tuple[str, str, str]]) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        for email, provider, claim in bindings:
            user = db.session.scalar(select(User).where(User.email == email))
            taken = db.session.scalar(
                select(User.id).where(
                    User.identity_provider == provider, User.identity_claim == claim
                )
            )
            if user is not None and user.identity_provider is None and taken is None:
                user.identity_provider, user.identity_claim = provider, claim
        db.session.commit()


def main() -> None:
    # Stopped by a signal, the providers stop too (the `finally` below runs).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if not identity.provider_available():
        sys.exit("The test identity provider is not installed: run `make oidc-provider` (needs npm).")
    number = prepare_database()
    citizen_users = dict(identity.CITIZEN_USERS)
    citizen_users["patient"] = {
        "sub": "citizen-demo-patient", "personnummer": number, "name": "Demo patient",
        "acr": identity.LOA3,
    }
    with tempfile.TemporaryDirectory() as workdir:
        staff = identity.start_provider("staff", identity.STAFF_USERS, "hsa_id", Path(workdir))
        citizen = identity.start_provider("citizen", citizen_users, "personnummer", Path(workdir))
        try:
            settings = identity.Providers(staff, citizen).config()
            app = _demo_app(settings)
            bind(app, [
                ("nurse@example.org", "staff", str(identity.STAFF_USERS["nurse-nina"]["hsa_id"])),
                ("patient@example.org", "citizen", number),
                ("relative@example.org", "citizen",
                 str(identity.CITIZEN_USERS["relative-rut"]["personnummer"])),
            ])
            print(f"Staff provider {staff.issuer}: log in as nurse-nina (nurse@example.org)")
            print(f"Citizen provider {citizen.issuer}: patient, relative-rut")
            print(f"pallapp: http://127.0.0.1:{PORT}/login")
            app.run(host="127.0.0.1", port=PORT)
        finally:
            for provider in (staff, citizen):
                identity.stop_provider(provider)


if __name__ == "__main__":
    main()
