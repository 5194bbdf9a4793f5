"""Submits in-process: the POST of each assessment form and of the dose form, as a nurse.

    PYTHONPATH=$PWD python benchmarks/submits.py --database-url URL --accounts FILE
        [--repeat N] [--patients N] [--seed S] [--only esas_r,dose] [--json OUT]
        [--profile FILE] [--statements]

pages.py times what a GET costs; a submit writes, so it is timed here, on a copy of a
generated region (`createdb -T`): every run adds assessments, doses, flags and audit events,
and a later run on the same copy meets more doses in the last 24 hours (more warnings).
Of the first `--patients` on the nurse's Today page a third take part in each round: each
gets every assessment form (GET, not timed) and sends it with every required item answered
(low-skewed, as the load mix does, from a generator seeded by `--seed`); then about half of
the first dose links of their order pages get a dose of the ordered amount, and a dose that
the app warns about (over the order's limits) is sent again confirmed with a reason, timed
as "submit dose (confirmed)". Per kind: CPU time of this process (median), wall time,
statements sent (counted as pages.py does) and the answers' status codes. `--profile` writes
cProfile statistics (process time) of the timed POSTs only; `--statements` prints the
statements of the first POST of each kind. Compare trees by running each on its own fresh
copy, taking turns.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event

from benchmarks.pages import (
    StatementLog,
    _links_matching,
    build_measured_app,
    get_ok,
    load_accounts,
    log_in,
)
from benchmarks.pagescan import PageParser
from pallapp.extensions import db
from pallapp.scoring import INSTRUMENTS

CODES = ("esas_r", "ipos_patient", "ipos_staff", "abbey", "roag")


def form_values(page: PageParser) -> dict[str, str]:
    """The page's own POST form's fields sent as they are, by name (the first of a name)."""
    return dict(reversed(page.fields))


def low_skewed(rng: random.Random, low: int, high: int) -> int:
    return low + int((high - low + 1) * rng.random() ** 1.8)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--accounts", required=True, type=Path)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--patients", type=int, default=10)
    parser.add_argument("--profile", default="")
    parser.add_argument("--json", default="")
    parser.add_argument("--only", default="")
    parser.add_argument("--statements", action="store_true")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    rng = random.Random(args.seed)
    password, accounts = load_accounts(args.accounts)
    app = build_measured_app(args.database_url)
    client = app.test_client()
    log_in(client, accounts["nurse"], password)
    today = get_ok(client, "/today", "today")
    patients = [
        link.rsplit("/", 1)[1] for link in _links_matching(today, r"/patients/(?!new$)[^/]+")
    ][: args.patients]
    dose_paths: list[str] = []
    for public_id in patients:
        orders = get_ok(client, f"/patients/{public_id}/orders", "orders")
        dose_paths += _links_matching(orders, rf"/patients/{public_id}/orders/[^/]+/dose")[:1]
    log = StatementLog()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", log)
    results: dict[str, dict[str, list[float]]] = {}
    outcomes: dict[str, dict[str, int]] = {}
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)

    def timed_post(name: str, path: str, data: dict[str, str]) -> tuple[int, str]:
        log.reset()
        if profiler:
            profiler.enable()
        start, cpu_start = time.perf_counter(), time.process_time()
        response = client.post(path, data=data, headers={"Referer": "https://localhost" + path})
        body = response.get_data(as_text=True)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if profiler:
            profiler.disable()
        entry = results.setdefault(name, {"cpu": [], "wall": [], "sql": []})
        if args.statements and not entry["cpu"]:
            print(name, response.status_code)
            for statement in log.statements:
                print("    ", " ".join(statement.split())[:200])
        entry["cpu"].append(cpu * 1000)
        entry["wall"].append(elapsed * 1000)
        entry["sql"].append(len(log.statements))
        outcomes.setdefault(name, {}).setdefault(str(response.status_code), 0)
        outcomes[name][str(response.status_code)] += 1
        return response.status_code, body

    for round_number in range(args.repeat):
        for index, public_id in enumerate(patients):
            if (round_number * len(patients) + index) % 3:
                continue  # a third of the patient-rounds, to keep runs short
            for code in CODES:
                if only and code not in only:
                    continue
                path = f"/patients/{public_id}/assessments/new/{code}"
                form = PageParser(get_ok(client, path, code).decode())
                data = {
                    name: value
                    for name, value in form_values(form).items()
                    if name in ("csrf_token", "client_token", "observed_at")
                }
                for item in INSTRUMENTS[code].items:
                    name = f"item_{item.code}"
                    if item.optional or name not in form.radios:
                        continue
                    data[name] = str(low_skewed(rng, item.min, item.max))
                status, body = timed_post(f"submit {code}", path, data)
                if status != 302:
                    print(f"submit {code}: {status}", file=sys.stderr)
        if only and "dose" not in only:
            continue
        for path in dose_paths:
            if rng.random() > 0.5:
                continue
            page = get_ok(client, path, "dose form").decode()
            data = form_values(PageParser(page))
            data["symptom_before"] = str(rng.randint(3, 8))
            ordered = [
                line for line in page.split("\n") if "<dt>" in line and "·" in line
            ]
            dose = "1"
            if ordered:
                part = ordered[0].split("<dd>")[1].split("·")[1].split()[0]
                dose = part.split("\u2013")[0]
            data["dose"] = dose
            status, body = timed_post("submit dose", path, data)
            if status == 200 and "confirm_over_limit" in body:
                again = PageParser(body)
                confirm = form_values(again)
                confirm.update(
                    {k: v for k, v in again.checkboxes.items() if k == "confirm_over_limit"}
                )
                if "confirm_dose_mismatch" in again.checkboxes:
                    confirm["confirm_dose_mismatch"] = again.checkboxes["confirm_dose_mismatch"]
                    confirm["dose_mismatch_reason"] = "Ordinerat muntligt."
                confirm["over_limit_reason"] = "Svår genombrottssmärta, läkare kontaktad."
                status, body = timed_post("submit dose (confirmed)", path, confirm)
                if status != 302:
                    print(f"confirm dose: {status}", file=sys.stderr)
            elif status != 302:
                print(f"submit dose: {status}", file=sys.stderr)
    event.remove(engine, "before_cursor_execute", log)
    summary = {}
    for name, entry in results.items():
        summary[name] = {
            "n": len(entry["cpu"]),
            "cpu_median": round(statistics.median(entry["cpu"]), 2),
            "wall_median": round(statistics.median(entry["wall"]), 2),
            "sql_median": statistics.median(entry["sql"]),
            "sql_min": min(entry["sql"]),
            "sql_max": max(entry["sql"]),
            "outcomes": outcomes[name],
            "cpu": entry["cpu"],
        }
        print(
            f"{name:28} n={len(entry['cpu']):3} cpu {summary[name]['cpu_median']:7.2f} "
            f"wall {summary[name]['wall_median']:7.2f} sql {summary[name]['sql_median']} "
            f"({summary[name]['sql_min']}-{summary[name]['sql_max']}) {outcomes[name]}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(summary))
    if profiler:
        profiler.dump_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
