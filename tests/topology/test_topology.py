"""The production topology, end to end: nginx (TLS) in front of two gunicorn instances sharing
PostgreSQL and Redis, started by deploy/topology.py exactly as scripts/topology starts it.

Every request goes through TLS and is verified against the topology's own self-signed
certificate (never with verification turned off). What is shown:

- a login and an assessment form through the proxy; the app sees HTTPS and the client's own
  address (PALLAPP_TRUSTED_PROXIES=1), and a session made on one instance works on the other;
- static files come from nginx with a cache lifetime, pages and CSS compressed;
- slow clients (more of them than both instances have worker threads) wait in nginx while a
  normal user keeps getting answers within a second;
- one instance killed in the middle of a run of submissions: every submission is stored
  exactly once (nginx does not replay a POST that reached an instance; the client resends
  with the same form token, which makes a stored one a no-op);
- the login throttle counts failures made on either instance together (Redis).

Needs nginx (Debian: nginx-light or nginx) and PostgreSQL (PALLAPP_TEST_POSTGRES_URL); skips
with a notice without them. The throttle test also needs Redis (PALLAPP_TEST_REDIS_URL, else
redis://127.0.0.1:6379/15 if it answers).
"""

from __future__ import annotations

import gzip
import http.client
import http.cookiejar
import json
import os
import re
import runpy
import signal
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from deploy.topology import DEPLOY, Settings, Topology, free_ports, nginx_binary
from pallapp.extensions import db
from pallapp.models import Assessment, AuditEvent, Role
from tests.conftest import POSTGRES_URL, TemporaryPostgres, make_app
from tests.factories import PASSWORD, make_patient, make_unit, make_user

# One topology at a time (fixed ports), and never beside another test of the Redis database.
pytestmark = [pytest.mark.topology, pytest.mark.xdist_group("redis")]

# The login limit per account is lowered so that the throttle test reaches it in a few tries.
LOGIN_LIMIT = 3
# A client address other than the proxy's: the app must log this one, not nginx's 127.0.0.1.
CLIENT_ADDRESS = "127.0.0.2"
ESAS_ITEMS = (
    "pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
    "depression", "anxiety", "wellbeing",
)


def _redis_url() -> str | None:
    """The test Redis (database 15, which tests may clear), if one answers."""
    url = os.environ.get("PALLAPP_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - any failure means: no Redis to use
        return None
    return url


REDIS_URL = _redis_url()
#: benchmarks/resilience.py sets this to a JSON file: the tests below then write what they
#: measured there (answer times, sends per form), for benchmarks/RESULTS.md.
REPORT = os.environ.get("PALLAPP_TOPOLOGY_REPORT")


def report(name: str, figures: dict[str, object]) -> None:
    """Keep a test's measured figures under `name` in the report file, if one was asked for."""
    if not REPORT:
        return
    path = Path(REPORT)
    found = json.loads(path.read_text()) if path.exists() else {}
    found[name] = figures
    path.write_text(json.dumps(found, indent=2))


# --- a small browser: cookies, no redirects followed, TLS verified against our certificate ---


@dataclass
class Page:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def location(self) -> str:
        return urllib.parse.urlsplit(self.headers.get("Location", "")).path


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # a redirect is an answer to look at, not to follow


class _HTTPSFrom(urllib.request.HTTPSHandler):
    """HTTPS from a chosen local address (127.0.0.2 is a loopback address like 127.0.0.1)."""

    def __init__(self, context: ssl.SSLContext, source: str) -> None:
        super().__init__(context=context)
        self._source = source
        self._ssl = context

    def https_open(self, req):  # type: ignore[no-untyped-def]
        connection = partial(http.client.HTTPSConnection, source_address=(self._source, 0))
        return self.do_open(connection, req, context=self._ssl)


class Browser:
    def __init__(self, topology: Topology, source: str = CLIENT_ADDRESS) -> None:
        self.base = topology.url
        self.opener = urllib.request.build_opener(
            _HTTPSFrom(topology.ssl_context(), source),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirects(),
        )

    def request(
        self, path: str, fields: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None, referer: bool = True, timeout: float = 15,
    ) -> Page:
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        request = urllib.request.Request(  # noqa: S310 - https to the topology only
            self.base + path, data=data, headers=headers or {}
        )
        if data is not None and referer:
            # Browsers send it; Flask-WTF insists on a same-origin Referer over HTTPS.
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return Page(response.status, response.headers, response.read())
        except urllib.error.HTTPError as answer:  # 3xx, 4xx and 5xx arrive here
            with answer:
                return Page(answer.code, answer.headers, answer.read())

    def login(self, email: str, password: str = PASSWORD) -> Page:
        form = FormParser.parse(self.request("/login").text)
        values = dict(form.fields) | {"email": email, "password": password}
        return self.request("/login", list(values.items()))


class FormParser(HTMLParser):
    """The page's own POST form (the one without an action; the logout button's form has
    one): its fields with their values, and its radio names."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.radios: set[str] = set()
        self._inside = self._done = False

    @classmethod
    def parse(cls, html: str) -> FormParser:
        parser = cls()
        parser.feed(html)
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and a.get("method", "").lower() == "post" and not a.get("action"):
            self._inside = not self._done
        elif self._inside and tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind == "radio":
                self.radios.add(a["name"])
            elif kind not in ("checkbox", "submit", "button"):
                self.fields.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._inside:
            self._inside, self._done = False, True


# --- the topology, once for the module ---------------------------------------------------------


@dataclass
class World:
    nurse: str
    patient: str  # public id
    patient_for_the_kill: str
    throttled: str  # an account only the throttle test uses
    database_url: str

    def fill_path(self, patient: str | None = None) -> str:
        return f"/patients/{patient or self.patient}/assessments/new/esas_r"


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    if nginx_binary() is None:
        pytest.skip("NOTICE: topology tests skipped: nginx is not installed "
                    "(Debian: apt-get install nginx-light; `make test` does it when root)")
    if not POSTGRES_URL:
        pytest.skip("NOTICE: topology tests skipped: they need PostgreSQL "
                    "(set PALLAPP_TEST_POSTGRES_URL)")
    database = TemporaryPostgres(POSTGRES_URL, "topology")
    url = database.create()
    https_port, http_port, app1_port, app2_port = free_ports(4)
    settings = Settings(
        database_url=url,
        # Without Redis the instances still run, each with its own counts; the throttle test
        # then skips.
        redis_url=REDIS_URL or "memory://",
        instance_dir=tmp_path_factory.mktemp("topology"),
        https_port=https_port,
        http_port=http_port,
        app_ports=(app1_port, app2_port),
        environment={"PALLAPP_LOGIN_LIMIT_PER_ACCOUNT": f"{LOGIN_LIMIT} per 15 minutes"},
        demo_data=False,  # the demo takes longer to load than all these tests take to run
    )
    running = Topology(settings)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        database.drop()


@pytest.fixture(scope="module")
def world(topology: Topology) -> World:
    """Accounts and patients, written straight into the topology's (migrated) database."""
    app = make_app(topology.settings.database_url)
    with app.app_context():
        # Production settings require a second factor of staff unless the unit allows a
        # password alone; these tests are about the proxy, not the login.
        unit = make_unit("Team Topologi", password_alone_allowed=True)
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        patient = make_patient([unit], given_name="Britta")
        other = make_patient([unit], given_name="Gösta")
        throttled = make_user(Role.NURSE, email=f"throttle-{uuid.uuid4().hex[:12]}@example.org",
                              units=[unit], language="en")
        db.session.commit()
        found = World(nurse.email, patient.public_id, other.public_id, throttled.email,
                      topology.settings.database_url)
        db.session.remove()
        db.engine.dispose()
    return found


def log_lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def logged(path: Path, since: int, needle: str, count: int, timeout: float = 5.0) -> list[str]:
    """The lines after line `since` that contain `needle`, waiting until there are `count` of
    them: nginx writes a request's line just after the answer has gone out, so the client
    can be a moment ahead of the log."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in log_lines(path)[since:] if needle in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def esas_fields(form: FormParser, score: int = 2, variant: int = 0) -> list[tuple[str, str]]:
    """The form's own fields (CSRF token, form token, observation time) and every ESAS-r item
    at `score`, except that `variant` (0-120) sets pain and nausea: forms with another variant
    have other answers, so that the same nurse's forms for one patient are not the same
    answers twice (which the app asks about before storing: pallapp/assessments/duplicates.py)."""
    assert {f"item_{code}" for code in ESAS_ITEMS} <= form.radios, form.radios
    answers = dict.fromkeys(ESAS_ITEMS, score)
    if variant:
        answers |= {"pain": variant % 11, "nausea": variant // 11}
    return form.fields + [(f"item_{code}", str(value)) for code, value in answers.items()]


# --- 1. login and a form through TLS ------------------------------------------------------------


def test_the_certificate_is_verified_not_waved_through(topology):
    # The system's trust store does not know the self-signed certificate: refused.
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(topology.url + "/healthz", timeout=10,  # noqa: S310
                               context=ssl.create_default_context())
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    # Trusting exactly that certificate: accepted, and the proxy's health check passes through.
    with urllib.request.urlopen(topology.url + "/healthz", timeout=10,  # noqa: S310
                                context=topology.ssl_context()) as response:
        assert response.status == 200


def test_login_and_an_assessment_through_the_proxy(topology, world):
    browser = Browser(topology)
    login = browser.login(world.nurse)
    assert login.status == 302, login.text[:500]
    assert login.location == "/start"
    cookie = login.headers["Set-Cookie"]
    assert "Secure" in cookie  # production settings
    assert "HttpOnly" in cookie

    form = FormParser.parse(browser.request(world.fill_path()).text)
    fields = esas_fields(form)
    token = dict(form.fields)["client_token"]
    # The app knows the request came over HTTPS (X-Forwarded-Proto): Flask-WTF then requires a
    # same-origin Referer on every form post, and refuses one without it.
    assert browser.request(world.fill_path(), fields, referer=False).status == 400
    # A client's own X-Forwarded-For is replaced by the proxy, never believed.
    sent = browser.request(world.fill_path(), fields, headers={"X-Forwarded-For": "203.0.113.7"})
    assert sent.status == 302, sent.text[:500]
    assert re.fullmatch(rf"/patients/{world.patient}/assessments/[\w-]+", sent.location)
    result = browser.request(sent.location)
    assert result.status == 200
    total = 2 * 9  # every one of the nine items answered 2
    assert f"{total} of 90" in result.text

    engine = create_engine(world.database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                select(func.count()).select_from(Assessment).where(Assessment.client_token == token)
            ).scalar_one()
            addresses = set(connection.execute(
                select(AuditEvent.client_address).where(AuditEvent.action.in_(("login", "create")))
            ).scalars())
    finally:
        engine.dispose()
    assert stored == 1
    # The client's address (ProxyFix trusts the one proxy): not nginx's, not the forged one.
    assert addresses == {CLIENT_ADDRESS}


def test_a_session_made_on_one_instance_works_on_the_other(topology, world):
    browser = Browser(topology)
    assert browser.login(world.nurse).status == 302
    mark = len(log_lines(topology.nginx_access_log))
    for _ in range(4):  # round robin: the four pages alternate between the two instances
        assert browser.request(f"/patients/{world.patient}").status == 200
    served = logged(topology.nginx_access_log, mark, f"/patients/{world.patient} ", 4)
    upstreams = {re.search(r"upstream=(\S+)", line).group(1) for line in served}
    assert upstreams == {f"127.0.0.1:{port}" for port in topology.settings.app_ports}


# --- 2. static files and compression -------------------------------------------------------------


def test_static_files_come_from_the_proxy_with_a_lifetime_and_compressed(topology):
    browser = Browser(topology)
    before = [len(log_lines(i.access_log)) for i in topology.instances]
    # A URL without the fingerprint is kept an hour; with one (as every page links it), a year.
    plain = browser.request("/static/app.css", headers={"Accept-Encoding": "gzip"})
    assert plain.headers["Cache-Control"] == "public, max-age=3600"
    css = browser.request("/static/app.css?v=0123abcd", headers={"Accept-Encoding": "gzip"})
    assert css.status == 200
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Set-Cookie" not in css.headers
    assert "cookie" not in css.headers.get("Vary", "").lower()
    assert css.headers["Content-Encoding"] == "gzip"
    original = (Path(__file__).resolve().parents[2] / "pallapp/static/app.css").read_bytes()
    assert gzip.decompress(css.body) == original
    assert len(css.body) < len(original) / 2
    # Unchanged since: a 304 without the file.
    again = browser.request("/static/app.css", headers={"If-None-Match": css.headers["ETag"]})
    assert again.status == 304
    assert again.body == b""
    # Neither instance saw any of it (given the time to write a line if one had).
    time.sleep(0.5)
    assert [len(log_lines(i.access_log)) for i in topology.instances] == before

    page = browser.request("/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "<form" in gzip.decompress(page.body).decode()


def test_plain_http_is_sent_to_https(topology):
    connection = http.client.HTTPConnection("127.0.0.1", topology.settings.http_port, timeout=10)
    try:
        connection.request("GET", "/login?next=/today")
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 301
    assert response.headers["Location"] == f"{topology.url}/login?next=/today"


def test_invitation_tokens_stay_out_of_every_log(topology):
    token = "Xq7" + uuid.uuid4().hex  # unknown: the app answers 404, as for a mistyped link
    assert Browser(topology).request(f"/invitation/{token}").status == 404
    lines = logged(topology.nginx_access_log, 0, "/invitation/", 1)
    assert lines
    app_logs = [i.access_log for i in topology.instances]
    time.sleep(0.5)  # gunicorn's line, written after the answer
    assert any("/invitation/(token)" in line for path in app_logs for line in log_lines(path))
    for path in [topology.nginx_access_log, topology.nginx_error_log, *app_logs]:
        assert token not in path.read_text(errors="replace"), path


# --- 3. slow clients -----------------------------------------------------------------------------


def worker_threads_per_instance() -> int:
    """What one instance can serve at once, read from deploy/gunicorn.conf.py."""
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    threads = config.get("threads", 1) if config.get("worker_class") == "gthread" else 1
    return int(config["workers"]) * int(threads)


class SlowClient(threading.Thread):
    """One TLS connection that sends a request a line (or a body byte) per second, forever."""

    def __init__(
        self, topology: Topology, number: int, body: bool, stop: threading.Event,
        direct_port: int | None = None,
    ) -> None:
        super().__init__(daemon=True)
        # Through nginx with TLS, or (direct_port) in plain HTTP straight at one instance.
        self.port = direct_port or topology.settings.https_port
        self.context = None if direct_port else topology.ssl_context()
        self.number, self.body, self.stop_event = number, body, stop
        self.cut_off_after: float | None = None  # seconds until nginx closed it, if it did
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._trickle()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def _trickle(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        connection = (self.context.wrap_socket(raw, server_hostname="127.0.0.1")
                      if self.context else raw)
        with connection as tls:
            host = f"Host: 127.0.0.1:{self.port}\r\n"
            if self.body:
                # The whole header at once, then a body that never finishes: 1 byte a second.
                tls.sendall((f"POST /login?slow-body-{self.number} HTTP/1.1\r\n{host}"
                             "Content-Type: application/x-www-form-urlencoded\r\n"
                             "Content-Length: 100000\r\n\r\n").encode())
            else:
                tls.sendall(f"GET /login?slow-header-{self.number} HTTP/1.1\r\n{host}".encode())
            started = time.monotonic()
            tls.settimeout(1.0)
            line = 0
            while not self.stop_event.is_set():
                try:
                    if tls.recv(4096) == b"":  # nginx closed the connection
                        self.cut_off_after = time.monotonic() - started
                        return
                except TimeoutError:
                    pass
                except (ssl.SSLError, ConnectionError):
                    self.cut_off_after = time.monotonic() - started
                    return
                line += 1
                try:
                    tls.sendall(b"a" if self.body else f"X-Slow-{line}: {line}\r\n".encode())
                except (ssl.SSLError, ConnectionError):
                    self.cut_off_after = time.monotonic() - started
                    return


def test_slow_clients_wait_in_the_proxy_not_in_a_worker(topology):
    """More slow clients than both instances have threads together: had the proxy passed a
    single one of them on before its request was complete, the workers would all be waiting
    for bytes and the normal user below would get no answer."""
    capacity = worker_threads_per_instance() * len(topology.instances)
    stop = threading.Event()
    header_clients = [SlowClient(topology, n, body=False, stop=stop) for n in range(4)]
    body_clients = [SlowClient(topology, n, body=True, stop=stop) for n in range(capacity + 2)]
    clients = header_clients + body_clients
    for client in clients:
        client.start()
    time.sleep(2)  # every slow client is connected and trickling
    normal = Browser(topology, source="127.0.0.1")
    times = []
    try:
        deadline = time.monotonic() + 11  # past nginx's 10 s for a whole request header
        while time.monotonic() < deadline:
            started = time.monotonic()
            page = normal.request("/login", timeout=5)
            times.append(time.monotonic() - started)
            assert page.status == 200
            time.sleep(0.5)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=5)
    assert not [c.error for c in clients if c.error], [c.error for c in clients if c.error]
    assert max(times) < 1.0, f"answer times with {len(clients)} slow clients: {times}"
    # client_header_timeout: a header not complete after 10 s ends the connection (408).
    for client in header_clients:
        assert client.cut_off_after is not None
        assert 9 <= client.cut_off_after <= 13.5
    # A body that keeps coming, however slowly, is still being read by nginx: no worker waits.
    assert all(client.cut_off_after is None for client in body_clients)

    # The control: the same slow bodies sent straight at instance 2, without the proxy, hold
    # every worker it has, and a normal request to it gets no answer within 3 s. (Without
    # this, the figures above would not show that the slow clients could do any harm.)
    instance = topology.instances[1]
    direct_url = f"http://127.0.0.1:{instance.port}/login"
    stop_direct = threading.Event()
    direct = [SlowClient(topology, n, body=True, stop=stop_direct, direct_port=instance.port)
              for n in range(worker_threads_per_instance() + 2)]
    for client in direct:
        client.start()
    time.sleep(2)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(direct_url, timeout=3):  # noqa: S310 - our instance
            direct_answer: float | None = time.monotonic() - started
    except (TimeoutError, urllib.error.URLError):
        direct_answer = None
    finally:
        stop_direct.set()
        for client in direct:
            client.join(timeout=5)
    assert direct_answer is None, f"instance 2 answered in {direct_answer:.2f} s despite them"
    recovered = wait_for_answer(direct_url, timeout=60)  # its workers are free again
    report("slow_clients", {
        "slow_clients": len(clients), "header_trickles": len(header_clients),
        "body_trickles": len(body_clients), "worker_threads_in_both_instances": capacity,
        "normal_requests": len(times),
        "normal_answer_median_s": round(sorted(times)[len(times) // 2], 3),
        "normal_answer_max_s": round(max(times), 3),
        "header_cut_off_after_s": [round(c.cut_off_after or 0, 1) for c in header_clients],
        "direct_slow_clients": len(direct),
        "direct_answer_within_3_s": direct_answer is not None,
        "direct_recovered_after_s": round(recovered, 1),
    })


def wait_for_answer(url: str, timeout: float) -> float:
    """Seconds until `url` answers at all (any status), failing the test after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our instance
                return time.monotonic() - started
        except urllib.error.HTTPError:
            return time.monotonic() - started
        except (TimeoutError, urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise AssertionError(f"{url} gave no answer for {timeout:.0f} s")


# --- 4. an instance lost in the middle of a run ----------------------------------------------


def stored_per_token(database_url: str, tokens: list[str]) -> dict[str, int]:
    """How many assessments the database holds for each form token (absent: none)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Assessment.client_token, func.count())
                .where(Assessment.client_token.in_(tokens))
                .group_by(Assessment.client_token)
            ).all()
    finally:
        engine.dispose()
    return {token: count for token, count in rows}


def send_until_answered(browser: Browser, path: str, fields: list[tuple[str, str]]) -> tuple[Page, int]:
    """What the on-device outbox does: resend the same form (same token) until an answer
    comes that is not a gateway error. Returns the answer and the number of sends."""
    for attempt in range(1, 8):
        try:
            page = browser.request(path, fields)
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
            page = None
        if page is not None and page.status not in (502, 503, 504):
            return page, attempt
        time.sleep(0.5)
    raise AssertionError(f"no answer for {path} after 7 sends")


@pytest.fixture
def instance_1_back(topology: Topology) -> Iterator[None]:
    """Whatever a test does to instance 1, the next test finds both instances serving."""
    yield
    if not topology.instances[0].alive():
        topology.restart_instance(1)


def test_a_post_cut_off_by_a_dying_instance_is_not_replayed_and_its_resend_is_stored(
    topology, world, instance_1_back
):
    """nginx sends a POST to instance 1, which is frozen and then killed before it answers:
    nginx answers 502 and does not send the POST to instance 2 (it might have been stored;
    proxy_next_upstream without non_idempotent). The resend with the same form token is."""
    browser = Browser(topology)
    assert browser.login(world.nurse).status == 302
    path = world.fill_path(world.patient_for_the_kill)
    app1 = topology.instances[0]
    app1_address = f"127.0.0.1:{app1.port}"
    forms = [esas_fields(FormParser.parse(browser.request(path).text), score=4, variant=100 + i)
             for i in range(2)]
    answers: list[Page] = []
    os.killpg(app1.process.pid, signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        for fields in forms:  # round robin: one of two posts in a row goes to instance 1
            token = dict(fields)["client_token"]
            post = threading.Thread(target=lambda f=fields: answers.append(browser.request(path, f)))
            post.start()
            post.join(timeout=5)
            if post.is_alive():  # waiting for instance 1
                break
            assert answers.pop().status == 302  # instance 2 answered; the next goes to 1
        else:
            pytest.fail("no post went to instance 1")
        mark = len(log_lines(topology.nginx_access_log))
        topology.kill_instance(1)
        post.join(timeout=10)
    finally:
        if app1.alive():
            os.killpg(app1.process.pid, signal.SIGCONT)
    assert [page.status for page in answers] == [502]
    # The proxy's own page, in Swedish first, telling the user to send the form again.
    assert "skicka formuläret igen" in answers[0].text
    cut_off = logged(topology.nginx_access_log, mark, '"POST ', 1)
    assert len(cut_off) == 1
    assert f"upstream={app1_address} " in cut_off[0]  # instance 1 only: not replayed on 2
    assert stored_per_token(world.database_url, [token]) == {}

    resent, sends = send_until_answered(browser, path, fields)
    assert resent.status == 302
    assert sends == 1  # nginx passes over the dead instance (connection refused) itself
    assert stored_per_token(world.database_url, [token]) == {token: 1}


def test_one_instance_killed_mid_run_loses_and_doubles_no_submission(
    topology, world, instance_1_back
):
    """Three nurses send forms they filled in earlier (an outbox emptying), one after the
    other; instance 1 is killed after a few are stored. Every form ends up stored once."""
    forms_per_nurse, nurses = 8, 3
    kill_after = 6  # stored submissions before instance 1 goes
    path = world.fill_path(world.patient_for_the_kill)
    tokens: list[str] = []
    sends: list[int] = []
    waits: list[float] = []  # seconds from the first send of a form to its stored answer
    lock = threading.Lock()
    stored_so_far = threading.Semaphore(0)
    failures: list[BaseException] = []
    filled = threading.Barrier(nurses + 1)

    def nurse_round(number: int) -> None:
        try:
            browser = Browser(topology)
            assert browser.login(world.nurse).status == 302
            forms = [esas_fields(FormParser.parse(browser.request(path).text), score=1,
                                 variant=1 + number * forms_per_nurse + i)
                     for i in range(forms_per_nurse)]
            filled.wait(timeout=60)
            for fields in forms:
                started = time.monotonic()
                page, times_sent = send_until_answered(browser, path, fields)
                assert page.status == 302, page.text[:300]
                with lock:
                    tokens.append(dict(fields)["client_token"])
                    sends.append(times_sent)
                    waits.append(time.monotonic() - started)
                stored_so_far.release()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
            filled.abort()

    app1 = topology.instances[0]
    start_mark = len(log_lines(topology.nginx_access_log))
    threads = [threading.Thread(target=nurse_round, args=(n,)) for n in range(nurses)]
    for thread in threads:
        thread.start()
    filled.wait(timeout=60)
    for _ in range(kill_after):
        assert stored_so_far.acquire(timeout=60)
    posts_on_app1_before = sum(
        1 for line in log_lines(app1.access_log) if '"POST /patients' in line
    )
    topology.kill_instance(1)
    kill_mark = len(log_lines(topology.nginx_access_log))
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures

    expected = forms_per_nurse * nurses
    assert len(tokens) == len(set(tokens)) == expected
    # Every form stored, none twice.
    assert stored_per_token(world.database_url, tokens) == dict.fromkeys(tokens, 1)
    # Instance 1 stored some before it went, instance 2 the rest: nginx logs a request when
    # it ends, so at most one answer per nurse from instance 1 (sent just before the kill)
    # can follow the kill in the log.
    assert posts_on_app1_before > 0
    logged(topology.nginx_access_log, start_mark, f'"POST {path} ', sum(sends))
    answered_by = [
        re.search(r"upstream_status=(?:\S+, )?302 ", line)
        and re.search(r"upstream=(?:\S+, )?(\S+) ", line).group(1)
        for line in log_lines(topology.nginx_access_log)[kill_mark:]
        if f'"POST {path} ' in line
    ]
    assert answered_by.count(f"127.0.0.1:{app1.port}") <= nurses
    assert set(answered_by[-5:]) == {f"127.0.0.1:{topology.instances[1].port}"}
    stored = stored_per_token(world.database_url, tokens)
    report("failover", {
        "forms": expected, "nurses": nurses, "killed_after_stored": kill_after,
        "stored_once": sum(1 for count in stored.values() if count == 1),
        "stored_twice_or_more": sum(1 for count in stored.values() if count > 1),
        "lost": expected - len(stored), "posts_on_instance_1_before_kill": posts_on_app1_before,
        "forms_sent_more_than_once": sum(1 for n in sends if n > 1), "sends_in_all": sum(sends),
        "longest_wait_s": round(max(waits), 2),
        "median_wait_s": round(sorted(waits)[len(waits) // 2], 3),
    })


def test_a_form_sent_twice_is_stored_once_whichever_instance_gets_it(topology, world):
    """A resend of a form whose answer was lost (the 502 case above, made deterministic): the
    two posts go to the two instances in turn; the second finds the first's record."""
    browser = Browser(topology)
    assert browser.login(world.nurse).status == 302
    path = world.fill_path()
    form = FormParser.parse(browser.request(path).text)
    fields = esas_fields(form, score=3)
    mark = len(log_lines(topology.nginx_access_log))
    first = browser.request(path, fields)
    second = browser.request(path, fields)
    assert first.status == second.status == 302
    assert first.location == second.location  # the same record
    posts = logged(topology.nginx_access_log, mark, '"POST ', 2)
    assert len({re.search(r"upstream=(\S+)", line).group(1) for line in posts}) == 2
    token = dict(form.fields)["client_token"]
    assert stored_per_token(world.database_url, [token]) == {token: 1}


# --- 5. throttle counts shared through Redis ---------------------------------------------------


@pytest.mark.skipif(REDIS_URL is None, reason="NOTICE: no Redis answers (set "
                    "PALLAPP_TEST_REDIS_URL, e.g. redis://127.0.0.1:6379/15): shared throttle "
                    "counts not checked")
def test_failed_logins_on_both_instances_count_together(topology, world):
    browser = Browser(topology)
    form = FormParser.parse(browser.request("/login").text)
    wrong = list((dict(form.fields) | {"email": world.throttled, "password": "wrong"}).items())
    mark = len(log_lines(topology.nginx_access_log))
    for _ in range(LOGIN_LIMIT):  # posts in a row alternate between the instances
        assert browser.request("/login", wrong).status == 200  # "wrong e-mail or password"
    right = list((dict(form.fields) | {"email": world.throttled, "password": PASSWORD}).items())
    refused = browser.request("/login", right)
    posts = logged(topology.nginx_access_log, mark, '"POST /login', LOGIN_LIMIT + 1)
    failures_by_instance = {}
    for line in posts[:LOGIN_LIMIT]:
        upstream = re.search(r"upstream=(\S+)", line).group(1)
        failures_by_instance[upstream] = failures_by_instance.get(upstream, 0) + 1
    # Each instance saw fewer than the limit itself (2 and 1): only shared counts refuse.
    assert len(failures_by_instance) == 2, failures_by_instance
    assert refused.status == 429
