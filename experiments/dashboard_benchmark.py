"""W5: the dashboard's answer time, in the running app, in a real browser (issue 14).

Starts `sendsim dashboard configs/devon.yaml` (20 runs of 36 months, all cores) on a free port of
127.0.0.1, opens it in Debian's headless Chromium, waits for the base plan, then moves a lever
(assessment posts added from April 2023) several times and measures, from the key press, the time
to the first what-if chart on the page and to all 20 runs of it. Also the start-up of the command
line (`import sim`, `sendsim --help`). Writes experiments/results/dashboard-benchmark.json, and
the README's screenshot, docs/dashboard.png.

    python experiments/dashboard_benchmark.py [--changes 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import choose, chromium, free_port, lever, progress, type_into, until  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

REPS, MONTHS = 20, 36


def _start_up() -> dict[str, float]:
    """Median of 5 fresh processes each: `import sim`, and `sendsim --help` end to end."""

    def timed(args: list[str]) -> float:
        t0 = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        return time.perf_counter() - t0

    python = sys.executable
    return {
        "import_sim_s": round(statistics.median(timed([python, "-c", "import sim"]) for _ in range(5)), 3),
        "import_sim_config_s": round(
            statistics.median(timed([python, "-c", "import sim.config"]) for _ in range(5)), 3
        ),
        "sendsim_help_s": round(statistics.median(timed([python, "-m", "sim.cli", "--help"]) for _ in range(5)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    out = Path(tempfile.mkdtemp(prefix="w5-"))
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "dashboard", "configs/devon.yaml", "--port", str(port),
         "--reps", str(REPS), "--months", str(MONTHS), "--out", str(out)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    driver = chromium(out / "profile")
    changes = []
    try:
        t0 = time.perf_counter()
        while True:  # until the app listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.perf_counter() - t0 < 60, "the dashboard did not start"
                time.sleep(0.1)
        driver.get(f"http://127.0.0.1:{port}/")
        until(driver, 600, lambda d: progress(d) == f"{REPS} of {REPS} runs (complete)")
        base_seconds = time.perf_counter() - t0
        for posts in [5, 3, 8, 2, 6][: args.changes]:
            time.sleep(1.0)
            start = time.perf_counter()
            type_into(lever(driver, "posts.assessment"), posts)
            # the page shows "0 of 20 runs" for the new what-if (a run takes longer than the page's
            # timer), then draws its charts and the count in one response as the first run is in
            until(driver, 60, lambda d: progress(d).startswith("0 of "))
            until(driver, 600, lambda d: not progress(d).startswith("0 of "))
            first = time.perf_counter() - start
            assert "what-if: median" in driver.find_element(By.ID, "chart-on_time_rate").text
            first_runs = progress(driver)
            until(driver, 600, lambda d: progress(d) == f"{REPS} of {REPS} runs (complete)")
            changes.append({"posts": posts, "first_chart_s": round(first, 2), "shown_with": first_runs,
                            "all_runs_s": round(time.perf_counter() - start, 2)})  # fmt: skip
            print(changes[-1], flush=True)
        # the README's picture: five assessment posts from April 2023 against the base plan
        choose(driver, "posts.assessment.from", "April 2023")
        type_into(lever(driver, "posts.assessment"), 5)
        until(driver, 60, lambda d: "5 FTE from April 2023" in d.find_element(By.ID, "what-if").text)
        until(driver, 60, lambda d: progress(d).startswith("0 of "))
        until(driver, 600, lambda d: progress(d) == f"{REPS} of {REPS} runs (complete)")
        driver.save_screenshot(str(ROOT / "docs" / "dashboard.png"))
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)
    record = {
        "workload": "W5",
        "what": f"dashboard on configs/devon.yaml, {REPS} runs of {MONTHS} months, a lever moved in the browser",
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "cores": len(__import__("os").sched_getaffinity(0)),
        },  # fmt: skip
        "measured": time.strftime("%Y-%m-%d"),
        "base_plan_on_opening_s": round(base_seconds, 2),
        "changes": changes,
        "first_chart_median_s": statistics.median(c["first_chart_s"] for c in changes),
        "all_runs_median_s": statistics.median(c["all_runs_s"] for c in changes),
        "start_up": _start_up(),
    }
    path = ROOT / "experiments" / "results" / "dashboard-benchmark.json"
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
