"""Per-page SQL statement counts, page weight and in-process server time (issue 8).

Run with

    python benchmarks/pages.py --database-url URL --accounts FILE [--repeat 30] [--out DIR]
        [--label 1x] [--scan 50]

The accounts file is JSON: {"password": ..., "nurses": [...], "physicians": [...],
"managers": [...], "patients": [...] (optional)}; `benchmarks/accounts-demo.json` fits the demo
data (`flask --app pallapp demo-data`). Reading pages writes: every view is audited (a few
thousand `audit_event` rows per run) and the patient page evaluates reminders, which may open
reminder flags. Row counts are taken before the run.

What it does, and why this way:

- The app is built in-process as in production (a random secret key, https as the URL scheme so
  the secure session cookie is kept) and driven through Flask's test client. "testing" is not
  used: it sets TESTING, which changes how errors propagate, and production is what we budget.
- Users log in through the real form (GET /login, CSRF token from the page, POST).
- The patient: the nurse's Today page lists patient links; of the first `--scan` of them (0:
  all) the one with the most assessments is taken, counted in the database (the history page
  shows 50 at a time). That is the worst case for the patient pages among those scanned.
- SQL statements are counted with a `before_cursor_execute` listener on the engine, reset right
  before and read right after each request (nothing else runs in this process meanwhile). BEGIN
  and COMMIT are driver calls, not cursor executions, and are not counted (nor is the pool's
  pre-ping on PostgreSQL). The JSON keeps each page's distinct statements with how often each
  was sent: an N+1 shows up as one statement sent as many times as rows are shown, even when
  only one data size is measured; the table shows the most repeated one.
- Page weight: the HTML compressed with gzip level 6 (as a typical reverse proxy does; the app
  itself does not compress) plus every stylesheet, script and image it references, each distinct
  URL fetched once through the test client and compressed the same way.
- Server time: one warm-up request per page, then `--repeat` rounds in which every page is
  requested once (round-robin, so slow moments of a shared machine spread over all pages
  instead of landing on one). Reported: median and p95 (nearest rank), and the median as a
  multiple of the floor: a route `/__floor` returning "ok", registered on the same app object
  before the first request and requested anonymously through the same test client, so it
  includes Flask, Werkzeug and the app's before/after-request hooks but no query. The same
  route requested while logged in is reported too: it shows the fixed cost of any logged-in
  request (loading the user, refreshing the session). On a shared machine the floor hardly
  moves under load (a 1 ms request rarely loses the CPU) while longer pages do, so the report
  also gives the load average and each page's median CPU time of this process (Python work,
  without the time spent waiting for PostgreSQL), which other processes disturb far less.

Where the time goes: `--profile PAGE` (a page name as the report names it, e.g. `today`,
`"form esas_r"`, `"floor (logged in)"`; `--profile-role` picks the role, nurse by default,
`anonymous` for `"floor (anonymous)"`) runs pyinstrument over
`--repeat` requests of that page after the warm-up, instead of the timed rounds, and writes
`profile-<page>.txt` and `.html` to `--out` (the text report is printed too). pyinstrument
samples the stack every millisecond: it shows which templates, macros, queries and helpers the
request's time is spent in, at a small cost to every call.

This is a plain script, not a timed test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import secrets
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import event, func, select, table, text  # noqa: E402

from benchmarks.runinfo import git_commit, load_average, machine  # noqa: E402
from pallapp import config as pallapp_config  # noqa: E402
from pallapp.extensions import db  # noqa: E402
from pallapp.factory import build_app  # noqa: E402
from pallapp.models import Assessment, Patient  # noqa: E402

FORM_BUDGET_BYTES = 60 * 1024  # DESIGN.md "Quality budgets": a form page ≤ 60 KB compressed
GZIP_LEVEL = 6
INSTRUMENTS = ("esas_r", "ipos_patient", "ipos_staff", "abbey", "roag")
COUNTED_TABLES = (
    "patient",
    "assessment",
    "flag",
    "prn_administration",
    "care_plan",
    "audit_event",
)
FLOOR_PATH = "/__floor"
#: What every browser accepts (a revalidation is asked with it; the pages are timed without
#: compression, which the figures then leave out).
BROWSER_ENCODING = {"Accept-Encoding": "gzip, deflate, br"}


class BenchmarkError(RuntimeError):
    """The run cannot go on (a page did not answer 200, a login failed, ...)."""


# --- reading pages -----------------------------------------------------------------------------


class _PageLinks(HTMLParser):
    """Collects what a browser would load (stylesheets, scripts, images) and the links."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.links: list[str] = []
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "link" and "stylesheet" in values.get("rel", "").split() and values.get("href"):
            self.assets.append(values["href"])
        elif tag in ("script", "img") and values.get("src"):
            self.assets.append(values["src"])
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"])
        elif tag == "input" and values.get("name"):
            self.inputs.setdefault(values["name"], values.get("value", ""))


def parse_page(html: str) -> _PageLinks:
    parser = _PageLinks()
    parser.feed(html)
    parser.close()
    return parser


def compressed_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def get_ok(client: FlaskClient, path: str, what: str) -> bytes:
    """The body of a GET that must answer 200; anything else stops the run."""
    with client.get(path, buffered=True) as response:
        if response.status_code != 200:
            where = response.headers.get("Location", "")
            raise BenchmarkError(
                f"{what}: GET {path} answered {response.status_code}"
                + (f" (redirect to {where})" if where else "")
                + ". Check the accounts file and that the database has the demo or generated data."
            )
        return response.get_data()


def log_in(client: FlaskClient, email: str, password: str) -> None:
    """Log in through the real form, CSRF token included."""
    form = parse_page(get_ok(client, "/login", "login page").decode())
    if "csrf_token" not in form.inputs:
        raise BenchmarkError("The login page has no csrf_token field.")
    with client.post(
        "/login",
        data={
            "csrf_token": form.inputs["csrf_token"],
            "email": email,
            "password": password,
            "next": "",
        },
        # Over https Flask-WTF also checks that the Referer is this site, as a browser sends.
        headers={"Referer": "https://localhost/login"},
    ) as response:
        if response.status_code != 302:
            raise BenchmarkError(
                f"Login as {email} failed (status {response.status_code}, expected a redirect)."
            )


# --- counting statements -----------------------------------------------------------------------


class StatementLog:
    """Every SQL statement sent to the database since the last `reset()`."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def reset(self) -> None:
        self.statements = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        self.statements.append(statement)

    def counted(self) -> list[tuple[int, str]]:
        """(times sent, statement) for each distinct statement, most repeated first."""
        return [
            (count, _short_statement(statement))
            for statement, count in Counter(self.statements).most_common()
        ]


def _short_statement(statement: str) -> str:
    """One line, the column list of the first SELECT elided: what is read and how is what
    tells two statements apart when looking for an N+1."""
    flat = " ".join(statement.split())
    return re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", flat, count=1)[:300]


# --- the pages ---------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    role: str
    path: str
    is_form: bool = False
    anonymous: bool = False
    html: bytes = b""
    assets: dict[str, tuple[int, int]] = field(default_factory=dict)  # url: (raw, gzip)
    external_assets: list[str] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    statements: list[tuple[int, str]] = field(default_factory=list)  # of the first timed request
    times_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    #: A revalidation: the request carries the ETag of the warm-up's answer and must get a 304.
    #: Both are asked as a browser asks, accepting gzip: a compressed answer's ETag is the one
    #: a browser holds (until 2026-11-30 the app tagged it apart, drew the chart again for
    #: every browser's revalidation and answered 304 only after compressing it).
    revalidate: bool = False
    etag: str = ""

    def result(self, floor_median: float) -> dict[str, Any]:
        html_gzip = compressed_size(self.html)
        weight = html_gzip + sum(gz for _raw, gz in self.assets.values())
        median = statistics.median(self.times_ms)
        return {
            "name": self.name,
            "role": self.role,
            "path": self.path,
            "queries": self.queries[0],
            "queries_min": min(self.queries),
            "queries_max": max(self.queries),
            "statements": [
                {"count": count, "statement": statement} for count, statement in self.statements
            ],
            "html_bytes": len(self.html),
            "html_gzip_bytes": html_gzip,
            "assets": [
                {"url": url, "bytes": raw, "gzip_bytes": gz}
                for url, (raw, gz) in self.assets.items()
            ],
            "external_assets": self.external_assets,
            "weight_gzip_bytes": weight,
            "requests": 1 + len(self.assets) + len(self.external_assets),
            "form_budget": (
                ("PASS" if weight <= FORM_BUDGET_BYTES else "OVER") if self.is_form else None
            ),
            "median_ms": round(median, 3),
            "p95_ms": round(nearest_rank(self.times_ms, 0.95), 3),
            "cpu_median_ms": round(statistics.median(self.cpu_ms), 3),
            "ratio_to_floor": round(median / floor_median, 2),
            # Every timed request, so that runs split into interleaved rounds (full.py
            # --before) pool their samples instead of averaging medians.
            "samples_ms": [round(value, 3) for value in self.times_ms],
            "cpu_samples_ms": [round(value, 3) for value in self.cpu_ms],
        }


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _links_matching(html: bytes, pattern: str) -> list[str]:
    regex = re.compile(pattern)
    seen: dict[str, None] = {}
    for link in parse_page(html.decode()).links:
        path = urlsplit(link).path
        if regex.fullmatch(path):
            seen.setdefault(path, None)
    return list(seen)


def choose_patient(app: Flask, client: FlaskClient, scan: int) -> tuple[str, int, int]:
    """(public id, assessments, patients considered): of the patients on the nurse's Today
    page, the one with the most assessments (the worst case for history, trends and charts).

    The history page shows one page of 50, so the count is read from the database (only to
    pick the patient; every page measured is then opened as the nurse)."""
    today = get_ok(client, "/today", "today page (nurse)")
    links = _links_matching(today, r"/patients/(?!new$)[^/]+")
    if not links:
        raise BenchmarkError("The nurse's Today page lists no patient.")
    scanned = links if scan <= 0 else links[:scan]
    public_ids = [link.rsplit("/", 1)[1] for link in scanned]
    with app.app_context():
        counts = dict(
            db.session.execute(
                select(Patient.public_id, func.count(Assessment.id))
                .join(Assessment, Assessment.patient_id == Patient.id)
                .where(Patient.public_id.in_(public_ids))
                .group_by(Patient.public_id)
            ).all()
        )
        db.session.rollback()
    best_id = max(public_ids, key=lambda public_id: (counts.get(public_id, 0), public_id))
    return best_id, counts.get(best_id, 0), len(scanned)


def assessment_links(client: FlaskClient, public_id: str) -> list[str]:
    history = get_ok(client, f"/patients/{public_id}/assessments", "assessment history")
    return _links_matching(history, rf"/patients/{public_id}/assessments/(?!new)[^/]+")


def dose_form_path(client: FlaskClient, public_id: str) -> str | None:
    orders = get_ok(client, f"/patients/{public_id}/orders", "orders")
    found = _links_matching(orders, rf"/patients/{public_id}/orders/[^/]+/dose")
    return found[0] if found else None


def build_pages(clients: dict[str, FlaskClient], patient: str, dose_path: str | None) -> list[Page]:
    """The pages to measure, in the order of the report."""
    pages: list[Page] = []
    p = f"/patients/{patient}"
    nurse = "nurse" in clients
    if nurse:
        first = assessment_links(clients["nurse"], patient)
        pages += [
            Page("today", "nurse", "/today"),
            Page("overview", "nurse", "/overview"),
            Page("patient", "nurse", p),
            Page("assessment history", "nurse", f"{p}/assessments"),
        ]
        if first:
            pages.append(Page("assessment result", "nurse", first[0]))
        pages += [
            Page(f"form {code}", "nurse", f"{p}/assessments/new/{code}", is_form=True)
            for code in INSTRUMENTS
        ]
        pages += [
            Page("trends", "nurse", f"{p}/trends"),
            Page("trends all", "nurse", f"{p}/trends?range=all"),
            Page("flags", "nurse", f"{p}/flags"),
            Page("care plan", "nurse", f"{p}/care-plan"),
            Page("orders", "nurse", f"{p}/orders"),
        ]
        if dose_path:
            pages.append(Page("dose form", "nurse", dose_path, is_form=True))
        pages.append(Page("summary", "nurse", f"{p}/summary"))
    if "physician" in clients:
        pages += [
            Page("today", "physician", "/today"),
            Page("overview", "physician", "/overview"),
        ]
    if "manager" in clients:
        pages += [Page("today", "manager", "/today"), Page("quality", "manager", "/quality")]
    if "patient" in clients:
        pages.append(Page("start", "patient", "/start"))
    return pages


def chart_pages(pages: list[Page]) -> list[Page]:
    """Each chart image linked from the trends pages, as a page of its own."""
    charts: list[Page] = []
    for page in pages:
        if page.name.startswith("trends"):
            for url in page.assets:
                if ".svg" in url:
                    key = urlsplit(url).path.rsplit("/", 1)[1].removesuffix(".svg")
                    suffix = " all" if "range=all" in url else ""
                    charts.append(Page(f"chart {key}{suffix}", page.role, url))
    # A repeat view of a chart whose data did not change: the browser revalidates, the app
    # answers 304 (the trends issue's budget: at most 10 ms).
    if charts:
        first = charts[0]
        charts.append(Page(f"{first.name} (304)", first.role, first.path, revalidate=True))
    return charts


def revalidation_headers(page: Page) -> dict[str, str]:
    """What a browser sends when it asks again about an image it holds: none for a page."""
    return (BROWSER_ENCODING | {"If-None-Match": page.etag}) if page.revalidate else {}


def warm_up(page: Page, client: FlaskClient, asset_client: FlaskClient) -> None:
    """First request: checks status 200, keeps the HTML and fetches what it references."""
    if page.revalidate:
        with client.get(page.path, headers=BROWSER_ENCODING, buffered=True) as response:
            page.etag = response.headers.get("ETag", "")
        if not page.etag:
            raise BenchmarkError(f"{page.name}: {page.path} has no ETag to revalidate with.")
        return
    page.html = get_ok(client, page.path, f"{page.name} ({page.role})")
    content_type_html = not page.path.split("?")[0].endswith(".svg")
    if not content_type_html:
        return
    for ref in parse_page(page.html.decode()).assets:
        if ref.startswith("data:"):
            continue
        url = urljoin(page.path, ref)
        parts = urlsplit(url)
        if parts.netloc:  # another host: DESIGN.md says no page needs a CDN
            page.external_assets.append(url)
            continue
        if url not in page.assets:
            body = get_ok(asset_client, url, f"asset of {page.name}")
            page.assets[url] = (len(body), compressed_size(body))


def timed_get(client: FlaskClient, page: Page, log: StatementLog) -> None:
    log.reset()
    start, cpu_start = time.perf_counter(), time.process_time()
    headers = revalidation_headers(page)
    with client.get(page.path, headers=headers, buffered=True) as response:
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        status = response.status_code
    if status != (304 if page.revalidate else 200):
        raise BenchmarkError(f"{page.name} ({page.role}): GET {page.path} answered {status}.")
    page.times_ms.append(elapsed * 1000)
    page.cpu_ms.append(cpu * 1000)
    page.queries.append(len(log.statements))
    if not page.statements:
        page.statements = log.counted()


# --- describing the run ------------------------------------------------------------------------


def database_facts(app: Flask) -> dict[str, Any]:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            version = db.session.scalar(text("select version()"))
        elif engine.dialect.name == "sqlite":
            version = "SQLite " + str(db.session.scalar(text("select sqlite_version()")))
        else:
            version = engine.dialect.name
        counts = {
            name: db.session.scalar(select(func.count()).select_from(table(name)))
            for name in COUNTED_TABLES
        }
        db.session.rollback()
    return {
        "url": engine.url.render_as_string(hide_password=True),
        "version": version,
        "rows": counts,
    }


# --- the run -----------------------------------------------------------------------------------


def build_measured_app(database_url: str) -> Flask:
    app = build_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": database_url,
            "BASE_URL": "https://localhost",  # production needs one; only invitation links use it
            # The test client builds its URLs with this scheme: the secure cookie is kept.
            "PREFERRED_URL_SCHEME": "https",
        }
    )
    # Registered before the first request (Flask refuses later), on the same app, so the floor
    # goes through the same hooks and test client path as the pages.
    app.add_url_rule(FLOOR_PATH, "bench_floor", lambda: "ok")
    # As a gunicorn worker of deploy/gunicorn.conf.py does once it has built the app: what the
    # app holds for its whole life is frozen out of the garbage collector's sight, so a full
    # collection does not walk it (pallapp.config.gunicorn_post_worker_init). Older commits
    # measured with --before have no such hook and run as their workers did.
    post_worker_init = getattr(pallapp_config, "gunicorn_post_worker_init", None)
    if post_worker_init is not None:
        post_worker_init(None)
    return app


def load_accounts(path: Path) -> tuple[str, dict[str, str]]:
    data = json.loads(path.read_text())
    first = {}
    for role, key in (
        ("nurse", "nurses"),
        ("physician", "physicians"),
        ("manager", "managers"),
        ("patient", "patients"),
    ):
        if data.get(key):
            first[role] = data[key][0]
    if "nurse" not in first:
        raise BenchmarkError("The accounts file needs at least one nurse.")
    return data["password"], first


def profile_page(
    page: Page, client: FlaskClient, repeat: int, out: Path, interval: float
) -> Path:
    """pyinstrument over `repeat` requests of `page`; writes the text and HTML reports and
    returns the text report's path."""
    from pyinstrument import Profiler  # the `bench` extra; only this option needs it

    profiler = Profiler(interval=interval)
    profiler.start()
    # A revalidation is profiled as it is timed: with the ETag, answered 304.
    headers = revalidation_headers(page)
    expected = 304 if page.revalidate else 200
    for _ in range(repeat):
        with client.get(page.path, headers=headers, buffered=True) as response:
            if response.status_code != expected:
                profiler.stop()
                raise BenchmarkError(
                    f"{page.name} ({page.role}): GET {page.path} answered {response.status_code}."
                )
    profiler.stop()
    out.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", f"{page.name} {page.role}".lower()).strip("-")
    text_path = out / f"profile-{slug}.txt"
    text_path.write_text(
        f"# {page.name} ({page.role}) GET {page.path}, {repeat} requests\n"
        + profiler.output_text(unicode=True, color=False, show_all=False)
    )
    (out / f"profile-{slug}.html").write_text(profiler.output_html())
    return text_path


def run(args: argparse.Namespace) -> dict[str, Any]:
    password, accounts = load_accounts(args.accounts)
    app = build_measured_app(args.database_url)
    facts = database_facts(app)
    measured_on = {**machine(), "load_average_before": load_average()}

    clients: dict[str, FlaskClient] = {}
    for role, email in accounts.items():
        clients[role] = app.test_client()
        log_in(clients[role], email, password)
    anonymous = app.test_client()

    patient, shown, scanned = choose_patient(app, clients["nurse"], args.scan)
    dose_path = dose_form_path(clients["nurse"], patient)
    pages = build_pages(clients, patient, dose_path)
    floor = Page("floor (anonymous)", "anonymous", FLOOR_PATH, anonymous=True)
    floor_logged_in = Page("floor (logged in)", "nurse", FLOOR_PATH)

    asset_client = app.test_client()
    log_in(asset_client, accounts["nurse"], password)  # chart images need a login
    for page in pages:
        warm_up(page, clients[page.role], asset_client)
    pages += chart_pages(pages)
    everything = [floor, floor_logged_in, *pages]
    for page in everything:
        if page.name.startswith("chart"):
            warm_up(page, clients[page.role], asset_client)
    warm_up(floor, anonymous, anonymous)
    warm_up(floor_logged_in, clients["nurse"], anonymous)

    if args.profile:
        chosen = [
            page
            for page in everything
            if page.name in args.profile and page.role == args.profile_role
        ]
        missing = set(args.profile) - {page.name for page in chosen}
        if missing:
            names = sorted({page.name for page in everything if page.role == args.profile_role})
            raise BenchmarkError(
                f"No page {sorted(missing)} for {args.profile_role}; there are: {names}"
            )
        for page in chosen:
            client = anonymous if page.anonymous else clients[page.role]
            path = profile_page(page, client, args.repeat, args.out, args.profile_interval)
            print(path.read_text())
            print(f"Wrote {path} and {path.with_suffix('.html')}")
        return {}

    log = StatementLog()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", log)
    try:
        for round_number in range(args.repeat):
            for page in everything:
                client = anonymous if page.anonymous else clients[page.role]
                timed_get(client, page, log)
            if args.verbose:
                print(f"round {round_number + 1}/{args.repeat}", file=sys.stderr)
    finally:
        event.remove(engine, "before_cursor_execute", log)

    floor_median = statistics.median(floor.times_ms)
    return {
        "label": args.label,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**measured_on, "load_average_after": load_average()},
        "git_commit": git_commit(),
        "database": facts,
        "repeat": args.repeat,
        "patient": {
            "public_id": patient,
            "assessments_shown": shown,
            "patients_scanned": scanned,
            "dose_form": dose_path is not None,
        },
        "floor_median_ms": round(floor_median, 3),
        "pages": [page.result(floor_median) for page in everything],
    }


# --- reports -----------------------------------------------------------------------------------


def _kb(value: int) -> str:
    return f"{value / 1024:.1f}"


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    d = result["database"]
    rows = ", ".join(f"{name} {count:,}" for name, count in d["rows"].items())
    patient = result["patient"]
    lines = [
        f"# Pages: {result['label']}",
        "",
        f"- Date: {result['date']}; commit {result['git_commit']}",
        f"- Machine: {m['nproc']} CPUs, {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}; "
        f"load average (1, 5, 15 min) {m['load_average_before']} before, "
        f"{m['load_average_after']} after",
        f"- Database: {d['url']} — {d['version']}",
        f"- Rows before the run: {rows}",
        f"- Patient: the one with most assessments ({patient['assessments_shown']}) among the "
        f"first {patient['patients_scanned']} on the nurse's Today page"
        + ("" if patient["dose_form"] else "; it has no order in force, so no dose form"),
        f"- {result['repeat']} timed requests per page after one warm-up; floor = `/__floor` "
        f"anonymous, median {result['floor_median_ms']:.2f} ms",
        f"- Weight = HTML + CSS/JS/images, each gzip level {GZIP_LEVEL}; form budget "
        f"{FORM_BUDGET_BYTES // 1024} KB",
        "",
        "| Page | Role | Queries | Most repeated statement | HTML KB | HTML gz KB "
        "| Weight gz KB | Requests | Budget | Median ms | p95 ms | × floor | CPU ms |",
        "|---|---|--:|---|--:|--:|--:|--:|---|--:|--:|--:|--:|",
    ]
    for page in result["pages"]:
        queries = str(page["queries"])
        if page["queries_min"] != page["queries_max"]:
            queries = f"{page['queries_min']}–{page['queries_max']}"
        top = page["statements"][0] if page["statements"] else {"count": 0}
        repeated_text = f"{top['count']}× `{top['statement'][:70]}…`" if top["count"] > 1 else ""
        lines.append(
            f"| {page['name']} | {page['role']} | {queries} | {repeated_text} "
            f"| {_kb(page['html_bytes'])} | {_kb(page['html_gzip_bytes'])} "
            f"| {_kb(page['weight_gzip_bytes'])} | {page['requests']} | {page['form_budget'] or ''} "
            f"| {page['median_ms']:.2f} | {page['p95_ms']:.2f} | {page['ratio_to_floor']:.1f} "
            f"| {page['cpu_median_ms']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--accounts", required=True, type=Path)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--label", default="1x")
    parser.add_argument(
        "--scan", type=int, default=50, help="Today patients considered (0: all)"
    )
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--profile",
        action="append",
        metavar="PAGE",
        help="profile this page (repeatable) with pyinstrument instead of timing every page",
    )
    parser.add_argument("--profile-role", default="nurse")
    parser.add_argument(
        "--profile-interval", type=float, default=0.0005, help="pyinstrument's sampling interval (s)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.repeat < 1:
        print("--repeat must be at least 1", file=sys.stderr)
        return 2
    try:
        result = run(args)
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.profile:
        return 0  # the profiles are written; nothing was timed
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / f"pages-{args.label}.json"
    md_path = args.out / f"pages-{args.label}.md"
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    report = markdown(result)
    md_path.write_text(report)
    print(report)
    print(f"Wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
