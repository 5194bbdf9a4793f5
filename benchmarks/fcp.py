"""First contentful paint of every form page on a slow phone connection, first and repeat visit.

Emulated with Chromium's DevTools protocol, as Lighthouse's "slow 3G" does it: 400 ms latency,
50 KB/s down and up (Network.emulateNetworkConditions), and a CPU four times slower
(Emulation.setCPUThrottlingRate). The app runs in this process (demo data, SQLite, the embedded
server with Flask-Compress); a nurse logs in without throttling, then each form page is opened
with an empty HTTP cache and no service worker (first visit) and once more (repeat visit: the
fingerprinted CSS/JS come from the cache). FCP is read from the page's own
`performance.getEntriesByName("first-contentful-paint")`; the bytes on the wire from the
DevTools network events (encoded length).

Goals (the issue on offline capture): FCP at most 1.5 s on a first visit and 0.8 s on a repeat
visit. Run on a quiet machine (CPU throttling multiplies whatever else runs):

    .venv/bin/python benchmarks/fcp.py --out instance/bench/fcp.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select
from werkzeug.serving import make_server

from pallapp import create_app
from pallapp.demo import load_demo_data
from pallapp.extensions import db
from pallapp.models import Patient

SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024,
           "uploadThroughput": 50 * 1024}
CPU_SLOWDOWN = 4
#: The forms a nurse opens (the patients' own two are the same template with fewer items).
FORMS = ("ipos_staff", "abbey", "roag", "esas_r")
NURSE = ("nurse@example.org", "pallapp-demo")
FCP_SCRIPT = """() => new Promise((resolve) => {
  const name = "first-contentful-paint";
  const now = performance.getEntriesByName(name)[0];
  if (now) { resolve(now.startTime); return; }
  new PerformanceObserver((list) => {
    const entry = list.getEntriesByName(name)[0];
    if (entry) resolve(entry.startTime);
  }).observe({ type: "paint", buffered: true });
  setTimeout(() => resolve(-1), 10000);
})"""


def _serve(database: Path):  # type: ignore[no-untyped-def]
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{database}"})
    with app.app_context():
        db.create_all()
        load_demo_data()
        db.session.commit()
        patient = db.session.scalar(
            select(Patient.public_id).where(Patient.family_name == "Lindgren")
        )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, f"http://127.0.0.1:{server.server_port}", patient


def _measure(page, received: list[int], url: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    received.clear()
    page.goto(url, wait_until="load")
    # "load" can come before the first paint when everything is cached and the CPU is throttled:
    # wait for the paint entry (buffered), and give up with -1 after 10 s.
    fcp = page.evaluate(FCP_SCRIPT)
    return {"fcp_ms": round(float(fcp), 1), "bytes": sum(received)}


def run(repeat: int, chromium: str | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        app, server, base, patient = _serve(Path(folder) / "fcp.db")
        results: dict[str, Any] = {"conditions": {**SLOW_3G, "cpu_slowdown": CPU_SLOWDOWN}}
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                context = browser.new_context(
                    viewport={"width": 375, "height": 667}, locale="sv-SE", is_mobile=True,
                    has_touch=True, service_workers="block",
                )
                page = context.new_page()
                page.goto(f"{base}/login")
                page.get_by_label("E-post").fill(NURSE[0])
                page.get_by_label("Lösenord").fill(NURSE[1])
                page.get_by_role("button", name="Logga in").click()
                page.wait_for_url("**/today")
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                received: list[int] = []
                cdp.on("Network.loadingFinished",
                       lambda event: received.append(int(event["encodedDataLength"])))
                for code in FORMS:
                    url = f"{base}/patients/{patient}/assessments/new/{code}"
                    first, again = [], []
                    for _ in range(repeat):
                        cdp.send("Network.clearBrowserCache")
                        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
                        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
                        first.append(_measure(page, received, url))
                        again.append(_measure(page, received, url))
                        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
                        cdp.send("Network.emulateNetworkConditions", {**SLOW_3G, "latency": 0,
                                 "downloadThroughput": -1, "uploadThroughput": -1})
                    results[code] = {
                        "first_fcp_ms": statistics.median(m["fcp_ms"] for m in first),
                        "first_bytes": statistics.median(m["bytes"] for m in first),
                        "repeat_fcp_ms": statistics.median(m["fcp_ms"] for m in again),
                        "repeat_bytes": statistics.median(m["bytes"] for m in again),
                    }
                browser.close()
        finally:
            server.shutdown()
            with app.app_context():
                db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", type=Path)
    arguments = parser.parse_args()
    results = run(arguments.repeat, arguments.chromium or None)
    text = json.dumps(results, indent=2)
    if arguments.out:
        arguments.out.parent.mkdir(parents=True, exist_ok=True)
        arguments.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
