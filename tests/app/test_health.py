"""The health check the proxy, monitors and deploy/topology.py ask: 200 with a reachable
database, 503 without one, and nothing in it for anyone else."""

from __future__ import annotations

from tests.conftest import make_app


def test_an_instance_with_its_database_is_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # a monitor polling it opens no sessions


def test_an_instance_without_its_database_says_so_and_nothing_more():
    # Port 1 on the loopback: nothing listens there, the connection is refused at once.
    app = make_app(
        "postgresql+psycopg://pallapp@127.0.0.1:1/nothing",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    assert "127.0.0.1" not in response.get_data(as_text=True)
