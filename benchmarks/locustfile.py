"""Simulated staff for the load run (issue 8); started by benchmarks/load.py.

Three user classes, chosen on the Locust command line:

- `NurseUser` (weight 3): logs in once, then repeatedly opens Today, clicks a patient, and now
  and then fills in and sends an assessment or records an as-needed dose;
- `PhysicianUser` (weight 1): logs in once, then repeatedly opens the overview, a patient's
  trends (with the chart images, as a browser loads them) over the default period and over
  all time, the patient page and the flag history;
- `FloorUser`: only requests the trivial floor endpoint of benchmarks/bench_wsgi.py.

Users move like people: every link they follow was read from the page before (Today's patient
cards, the order rows of the patient page, the instrument list), and every form is sent with
the fields the page gave (CSRF token, client token, times) plus the answers a user would fill
in. Each request is named by its page ("patient page", "submit esas_r") so that Locust's
statistics group by page, not by URL. Redirects are followed by hand, one named request each,
so that every timing is one server round trip.

Accounts come from the JSON file named by PALLAPP_BENCH_ACCOUNTS:
`{"password": "...", "nurses": ["email", ...], "physicians": ["email", ...]}`; each simulated
user takes the next account of its role, round robin.

Extra command-line options (added to Locust's own): `--warmup` seconds whose results are
discarded, `--wait-min`/`--wait-max` think time in seconds (0 and 0: saturation),
`--floor-share` (how often a staff user also hits the floor, to measure it under the same load)
and `--samples-out` (a JSON file with every measured response time, to the microsecond, for
the percentiles load.py reports: Locust's own percentiles are rounded to whole milliseconds,
too coarse for a floor of one or two milliseconds).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import gevent
from locust import FastHttpUser, events, task
from locust.exception import StopUser

# Run from a checkout without installing the package: the repository root comes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.pagescan import PageParser  # noqa: E402
from pallapp.scoring import INSTRUMENTS  # noqa: E402  (pure: no Flask, no database)

log = logging.getLogger("pallapp.bench")

ACCOUNTS_ENV = "PALLAPP_BENCH_ACCOUNTS"
#: Mounted by benchmarks/bench_wsgi.py; the trailing slash avoids a redirect.
FLOOR_URL = "/__floor/"
#: Gunicorn logs this request header (see load.py), so server times are known per page too.
PAGE_HEADER = "X-Bench-Page"
#: The header's value while warming up: those requests are left out of the server times.
WARMUP_PAGE = "warmup"

# Share of each instrument among the assessments nurses send (as in scoring.py).
INSTRUMENT_MIX = {"ipos_patient": 35, "esas_r": 30, "ipos_staff": 15, "abbey": 10, "roag": 10}
# How often a nurse's round goes on from the patient page to a form.
ASSESSMENT_SHARE = 0.35
DOSE_SHARE = 0.20

_ASSESSMENT_RESULT = re.compile(r"^/patients/[^/]+/assessments/(?!new\b)[^/]+$")
_PATIENT_PAGE = re.compile(r"^/patients/(?!new$)[^/]+$")
_DOSE_LINK = re.compile(r"^/patients/[^/]+/orders/[^/]+/dose$")
_FORM_LINK = re.compile(r"^/patients/[^/]+/assessments/new/(?P<code>[a-z_]+)$")
_TRENDS_LINK = re.compile(r"^/patients/[^/]+/trends$")


# --- command line, warm-up and precise samples ---------------------------------------------


@events.init_command_line_parser.add_listener
def _add_options(parser: Any) -> None:
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds discarded at start")
    parser.add_argument("--wait-min", type=float, default=1.0, help="think time, low (s)")
    parser.add_argument("--wait-max", type=float, default=3.0, help="think time, high (s)")
    parser.add_argument(
        "--floor-share", type=float, default=0.1, help="share of page views followed by a floor hit"
    )
    parser.add_argument("--samples-out", default="", help="JSON file for every response time")


class _Measure:
    """What is measured after the warm-up: response times (ms, float) and failures per page."""

    measuring = False
    samples: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, int] = defaultdict(int)


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any = None, **_kw: Any) -> None:
    if not _Measure.measuring:
        return
    _Measure.samples[name].append(response_time)
    if exception is not None:
        _Measure.failures[name] += 1


@events.test_start.add_listener
def _start_warmup(environment: Any, **_kw: Any) -> None:
    """Reset the statistics once the warm-up is over (the connections, caches and the
    database are warm then), so that the CSV files and the samples hold the steady state."""

    def end_warmup() -> None:
        gevent.sleep(environment.parsed_options.warmup)
        environment.stats.reset_all()
        _Measure.samples.clear()
        _Measure.failures.clear()
        _Measure.measuring = True
        log.info("warm-up over: statistics reset")

    gevent.spawn(end_warmup)


@events.test_stop.add_listener
def _write_samples(environment: Any, **_kw: Any) -> None:
    _Measure.measuring = False
    path = environment.parsed_options.samples_out
    if path:
        Path(path).write_text(
            json.dumps({"samples": _Measure.samples, "failures": _Measure.failures})
        )


# --- reading pages --------------------------------------------------------------------------


def _location_path(response: Any) -> str:
    return urlsplit((response.headers or {}).get("Location", "") or "").path


def _problem_text(html: str) -> str:
    """Why a re-rendered form was not accepted: its first error message and marked fields."""
    match = re.search(r'class="[^"]*\berror\b[^"]*"[^>]*>(.*?)</', html, re.S)
    message = " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())[:160] if match else "?"
    invalid = PageParser(html).invalid
    return message + (f" (fields: {', '.join(invalid)})" if invalid else "")


def _low_skewed(low: int, high: int) -> int:
    """Most ratings are low, a few high, as in clinical data (scoring.py)."""
    return low + int((high - low + 1) * random.random() ** 1.8)


# --- accounts -------------------------------------------------------------------------------


class Accounts:
    """The accounts file, read once per Locust process; next() hands them out round robin."""

    _data: dict[str, Any] | None = None
    _counters: dict[str, itertools.count[int]] = defaultdict(itertools.count)

    @classmethod
    def next(cls, role: str) -> tuple[str, str]:
        if cls._data is None:
            path = os.environ.get(ACCOUNTS_ENV)
            if not path:
                raise RuntimeError(f"Set {ACCOUNTS_ENV} to the accounts JSON file.")
            cls._data = json.loads(Path(path).read_text())
        emails = cls._data.get(role) or []
        if not emails:
            raise RuntimeError(f"The accounts file has no {role!r}.")
        return emails[next(cls._counters[role]) % len(emails)], cls._data["password"]


# --- users ----------------------------------------------------------------------------------


class BenchUser(FastHttpUser):
    """Shared request helpers: named requests, no automatic redirects, a think time."""

    abstract = True
    # FastHttpUser (geventhttpclient) costs Locust far less CPU than HttpUser, which matters
    # on a machine that also runs the server and PostgreSQL.

    def wait_time(self) -> float:
        options = self.environment.parsed_options
        return random.uniform(options.wait_min, options.wait_max)

    def _headers(self, name: str) -> dict[str, str]:
        return {PAGE_HEADER: name if _Measure.measuring else WARMUP_PAGE}

    def get_page(self, path: str, name: str) -> str | None:
        """GET one page; its HTML, or None (reported as a failure) if it is not a 200."""
        with self.client.get(
            path, name=name, headers=self._headers(name), allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                where = _location_path(response)
                response.failure(
                    f"HTTP {response.status_code}" + (f" to {where}" if where else "")
                )
                return None
            response.success()
            text = response.text or ""
        self.maybe_floor()
        return text

    def post_form(self, path: str, name: str, fields: list[tuple[str, str]]) -> Any:
        """POST a form as a browser does (urlencoded); the caller judges the response."""
        headers = self._headers(name) | {
            "Content-Type": "application/x-www-form-urlencoded",
            # Browsers send it; over HTTPS (load.py --through-proxy) Flask-WTF requires it.
            "Referer": (self.host or "") + path,
        }
        return self.client.post(
            path, data=urlencode(fields), name=name, headers=headers, allow_redirects=False,
            catch_response=True,
        )

    def maybe_floor(self) -> None:
        """Now and then hit the floor too, so it is measured under the mix's load."""
        if random.random() < self.environment.parsed_options.floor_share:
            self.client.get(FLOOR_URL, name="floor", headers=self._headers("floor"))


class StaffUser(BenchUser):
    abstract = True
    role = ""  # key in the accounts file

    def on_start(self) -> None:
        email, password = Accounts.next(self.role)
        html = self.get_page("/login", "login form")
        if html is None:
            raise StopUser()
        fields = PageParser(html).fields
        values = dict(fields) | {"email": email, "password": password, "next": ""}
        with self.post_form("/login", "login", list(values.items())) as response:
            target = _location_path(response)
            if response.status_code != 302 or target.startswith("/login"):
                # Loud on purpose: a run with failed logins measures the wrong thing.
                message = f"LOGIN FAILED for {email}: HTTP {response.status_code}"
                log.error(message)
                response.failure(message)
                raise StopUser()
            response.success()
        # The browser follows /start on to the role's start page.
        with self.client.get(
            target, name="start (redirect)", headers=self._headers("start (redirect)"),
            allow_redirects=False, catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"HTTP {response.status_code}, expected a redirect")
            else:
                response.success()


class NurseUser(StaffUser):
    weight = 3
    role = "nurses"

    @task
    def round_of_today(self) -> None:
        """Today → a patient → sometimes an assessment or a dose; a pause after each page."""
        today = self.get_page("/today", "today")
        if today is None:
            return
        patients = PageParser(today).links_matching(_PATIENT_PAGE, "patient-card")
        if not patients:
            return  # a nurse without patients today has nothing to click
        self.wait()
        patient_path = random.choice(patients)
        page_html = self.get_page(patient_path, "patient page")
        if page_html is None:
            return
        self.wait()
        draw = random.random()
        if draw < ASSESSMENT_SHARE:
            self.send_assessment(patient_path)
        elif draw < ASSESSMENT_SHARE + DOSE_SHARE:
            # Read only when used: most rounds end here (Locust's CPU is the machine's too).
            doses = PageParser(page_html).links_matching(_DOSE_LINK)
            if doses:
                self.record_dose(patient_path, random.choice(doses))

    def send_assessment(self, patient_path: str) -> None:
        choose = self.get_page(patient_path + "/assessments/new", "choose assessment")
        if choose is None:
            return
        offered = {}
        for href in PageParser(choose).links_matching(_FORM_LINK):
            match = _FORM_LINK.match(urlsplit(href).path)
            if match and match["code"] in INSTRUMENT_MIX:
                offered[match["code"]] = href
        if not offered:
            return
        codes = list(offered)
        code = random.choices(codes, weights=[INSTRUMENT_MIX[c] for c in codes])[0]
        self.wait()
        form_html = self.get_page(offered[code], f"assessment form {code}")
        if form_html is None:
            return
        fields = self.fill_assessment(code, PageParser(form_html))
        self.wait()  # filling in the form
        with self.post_form(offered[code], f"submit {code}", fields) as response:
            result = _location_path(response)
            if response.status_code == 302 and _ASSESSMENT_RESULT.match(result):
                response.success()
            elif response.status_code == 200:
                response.failure(f"form shown again: {_problem_text(response.text or '')}")
                return
            else:
                response.failure(f"HTTP {response.status_code} to {result or '-'}")
                return
        self.get_page(result, "assessment result")

    @staticmethod
    def fill_assessment(code: str, form: PageParser) -> list[tuple[str, str]]:
        """The form's own fields (tokens, observation time) plus an answer to every required
        item; optional items and context fields are left empty, as most users leave them."""
        definition = INSTRUMENTS[code]
        fields = list(form.fields)
        for item in definition.items:
            name = f"item_{item.code}"
            if item.optional or name not in form.radios:
                continue
            fields.append((name, str(_low_skewed(item.min, item.max))))
        if "respondent" in form.radios:  # only offered to relatives; kept for completeness
            fields.append(("respondent", "patient"))
        return fields

    def record_dose(self, patient_path: str, dose_path: str) -> None:
        form_html = self.get_page(dose_path, "dose form")
        if form_html is None:
            return
        form = PageParser(form_html)
        # "Ordered: Morfin 10 mg/ml · 2,5 mg · s.c.": the nurse writes the ordered dose (the
        # lowest of a range, "1–2 mg"), so that the dose is not a mismatch.
        ordered = form.definitions[0].split("·") if form.definitions else []
        dose = ordered[1].split()[0] if len(ordered) > 1 and ordered[1].split() else "1"
        dose = dose.split("\u2013")[0]
        values = dict(form.fields) | {"dose": dose, "symptom_before": str(random.randint(3, 8))}
        self.wait()
        with self.post_form(dose_path, "submit dose", list(values.items())) as response:
            if response.status_code == 302 and _location_path(response) == patient_path:
                response.success()
                warning = None
            elif response.status_code == 200 and "confirm_over_limit" in (response.text or ""):
                # Over the order's limits (frequent in a load run): the app warns, saves nothing
                # and asks for a confirmation with a reason. That is the right answer.
                response.success()
                warning = PageParser(response.text or "")
            else:
                response.failure(
                    f"HTTP {response.status_code}: {_problem_text(response.text or '')}"
                )
                return
        if warning is not None:
            confirm = dict(warning.fields) | {
                name: value for name, value in warning.checkboxes.items()
                if name == "confirm_over_limit"
            }
            confirm["over_limit_reason"] = "Svår genombrottssmärta, läkare kontaktad."
            self.wait()
            with self.post_form(
                dose_path, "submit dose (over limit, confirmed)", list(confirm.items())
            ) as response:
                if response.status_code == 302 and _location_path(response) == patient_path:
                    response.success()
                else:
                    response.failure(
                        f"HTTP {response.status_code}: {_problem_text(response.text or '')}"
                    )
                    return
        self.get_page(patient_path, "patient page")


class PhysicianUser(StaffUser):
    weight = 1
    role = "physicians"

    @task
    def review_a_patient(self) -> None:
        """Overview → trends (with charts) → all-time trends → patient page → flags."""
        overview = self.get_page("/overview", "overview")
        if overview is None:
            return
        trends = PageParser(overview).links_matching(_TRENDS_LINK)
        if not trends:
            return
        self.wait()
        trends_path = random.choice(trends)
        page = self.open_trends(trends_path, "trends", "trend chart")
        if page is None:
            return
        self.wait()
        all_time = [href for href, _c in page.links if "range=all" in href]
        if all_time and self.open_trends(all_time[0], "trends (all)", "trend chart (all)"):
            self.wait()
        patient_path = trends_path.removesuffix("/trends")
        if self.get_page(patient_path, "patient page") is None:
            return
        self.wait()
        self.get_page(patient_path + "/flags", "flags")

    def open_trends(self, path: str, name: str, chart_name: str) -> PageParser | None:
        """The trends page and its chart images, fetched right after it as a browser does."""
        html = self.get_page(path, name)
        if html is None:
            return None
        page = PageParser(html)
        for src in page.images:
            if ".svg" in src:
                self.get_chart(src, chart_name)
        return page

    def get_chart(self, src: str, name: str) -> None:
        """A chart image as a browser fetches it: with the ETag it holds from an earlier view
        (If-None-Match), so an unchanged chart is a 304, reported as "<name> (304)" apart from
        the charts drawn anew (the issue's budgets: 10 ms for a 304, 50 ms for a changed one)."""
        etags: dict[str, str] = self.__dict__.setdefault("chart_etags", {})
        headers = self._headers(name)
        if src in etags:
            headers = headers | {"If-None-Match": etags[src]}
        with self.client.get(
            src, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code == 304:
                response.request_meta["name"] = f"{name} (304)"
                response.success()
            elif response.status_code == 200:
                if response.headers.get("ETag"):
                    etags[src] = response.headers["ETag"]
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
        self.maybe_floor()


class FloorUser(BenchUser):
    """Phase 1 of load.py: the same wait time, only the trivial endpoint."""

    @task
    def floor(self) -> None:
        self.client.get(FLOOR_URL, name="floor", headers=self._headers("floor"))
