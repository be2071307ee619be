"""The dashboard in a real browser: Debian's Chromium driven by selenium through Debian's
chromedriver (installed by .ci/run; nothing is downloaded), against `sendsim dashboard` started on
a free port of 127.0.0.1 by the test and stopped by it.

The room's path: the page opens on the base plan; a lever moved (five assessment posts from April
2023) runs the what-if, whose key figures move the right way and are those of `sim.compare` for the
same lever and seeds; the what-if saved as a scenario gives the same figures under `sendsim
compare`; an out-of-bounds value is refused on the page; a screenshot is kept.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from browser import choose, chromium, free_port, have_chromium, lever, progress, type_into, until
from selenium.webdriver.common.by import By

import sim
from sim.config import load_config
from sim.dashboard.levers import WHAT_IF, levers_for, scenario, what_if_config
from sim.measures import format_value

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "test-artefacts"
REPS, MONTHS = 4, 24
POSTS = {"posts.assessment": 5, "posts.assessment.from": "2023-04-01"}
WAIT = 240.0

if not have_chromium():
    if os.environ.get("CI"):
        raise RuntimeError("CI must have Debian's chromium and chromium-driver: .ci/run installs them")
    pytest.skip("no /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
                allow_module_level=True)  # fmt: skip


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """`sendsim dashboard` on a copy of Devon's configuration, as a planner starts it."""
    work = tmp_path_factory.mktemp("dashboard")
    shutil.copytree(ROOT / "configs", work / "configs")
    port = free_port()
    args = [sys.executable, "-m", "sim.cli", "dashboard", "configs/devon.yaml", "--port", str(port),
            "--reps", str(REPS), "--months", str(MONTHS), "--jobs", "2", "--out", "results/dashboard"]  # fmt: skip
    log = (work / "dashboard.log").open("w")
    process = subprocess.Popen(args, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, (work / "dashboard.log").read_text()
            time.sleep(0.2)
    else:
        pytest.fail("the dashboard did not start listening within 60 s")
    yield {"url": f"http://127.0.0.1:{port}/", "port": port, "work": work, "pid": process.pid}
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def wait_for_runs(driver) -> None:
    until(driver, WAIT, lambda d: progress(d) == f"{REPS} of {REPS} runs (complete)")


def cell(driver, measure: str, year: int) -> tuple[str, str | None]:
    """(base, what-if) as the key-figures table shows them."""
    td = driver.find_element(By.CSS_SELECTOR, f"#key-figures-table td[data-measure='{measure}'][data-year='{year}']")
    base = td.find_element(By.CSS_SELECTOR, ".base").text
    mine = td.find_elements(By.CSS_SELECTOR, ".what-if")
    return base, (mine[0].text if mine else None)


KEY = ("on_time_rate", "assessments_open_over_20_weeks", "caseworker_fte_in_post", "cost_total")


def shown(kpis: pd.DataFrame, scenario_name: str, measure: str, year: int) -> str:
    row = kpis[(kpis["scenario"] == scenario_name) & (kpis["measure"] == measure) & (kpis["year"] == year)]
    return format_value(measure, float(row["mean"].iloc[0]))


def test_the_room_s_path_in_a_real_browser(app, browser):
    browser.get(app["url"])
    wait_for_runs(browser)
    assert browser.find_element(By.ID, "chart-on_time_rate").is_displayed()
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-on_time_rate .main-svg")  # plotly drew it
    base_2024 = {m: cell(browser, m, 2024)[0] for m in KEY}
    assert all(value not in ("", "–") for value in base_2024.values())

    # five assessment posts from April 2023
    choose(browser, "posts.assessment.from", "April 2023")
    type_into(lever(browser, "posts.assessment"), 5)
    until(browser, 30, lambda d: "Caseworker posts added: 5 FTE from April 2023" in d.find_element(
        By.ID, "what-if").text)  # fmt: skip
    until(browser, WAIT, lambda d: cell(d, "caseworker_fte_in_post", 2024)[1] is not None)
    wait_for_runs(browser)
    page = {(m, y): cell(browser, m, y) for m in KEY for y in (2023, 2024)}
    assert "what-if: median" in browser.find_element(By.ID, "chart-on_time_rate").text

    # the same lever and seeds in sim.compare
    config = load_config(app["work"] / "configs" / "devon.yaml")
    levers = levers_for(config)
    what_if = what_if_config(config, scenario(levers, {**levers.defaults(), **POSTS}))
    expected = sim.compare(what_if, [WHAT_IF], reps=REPS, months=MONTHS, jobs=2).kpis
    for (measure, year), (base, mine) in page.items():
        assert base == shown(expected, "base", measure, year), (measure, year)
        assert mine == shown(expected, WHAT_IF, measure, year), (measure, year)
    # and in the right direction: more caseworkers in post, fewer assessments waiting over 20 weeks
    mean = expected.set_index(["scenario", "measure", "year"])["mean"]
    assert mean[WHAT_IF, "caseworker_fte_in_post", 2024] > mean["base", "caseworker_fte_in_post", 2024]
    assert mean[WHAT_IF, "assessments_open_over_20_weeks", 2024] < mean["base", "assessments_open_over_20_weeks", 2024]

    ARTEFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTEFACTS / "dashboard.png"))

    # save it as a scenario; sendsim compare on the saved file gives the same figures
    type_into(browser.find_element(By.ID, "scenario-name"), "five_assessment_posts")
    browser.find_element(By.ID, "save").click()
    until(browser, 30, lambda d: "Saved scenario" in d.find_element(By.ID, "action-message").text)
    saved = app["work"] / "results" / "dashboard" / "devon.yaml"
    out = app["work"] / "results" / "saved-compare"
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", "compare", str(saved), "--scenarios", "five_assessment_posts",
         "--reps", str(REPS), "--months", str(MONTHS), "--out", str(out)],
        cwd=app["work"], capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    kpis = pd.read_csv(out / "kpis.csv")
    for (measure, year), (base, mine) in page.items():
        assert base == shown(kpis, "base", measure, year), (measure, year)
        assert mine == shown(kpis, "five_assessment_posts", measure, year), (measure, year)

    # an out-of-bounds value is refused on the page, and the what-if on the page stays
    type_into(lever(browser, "recruitment.fill"), 150)
    until(browser, 30, lambda d: d.find_element(By.ID, "lever-error").text)
    assert browser.find_element(By.ID, "lever-error").text.startswith(
        "Not run: Chance a campaign fills the post: 150% is outside the range allowed, 0 to 100%"
    )
    assert "5 FTE from April 2023" in browser.find_element(By.ID, "what-if").text


def _listening(port: int) -> list[str]:
    """The local addresses listening on `port`, from the kernel's socket tables."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.append(address)
    return found


def test_the_app_listens_on_loopback_only(app):
    addresses = _listening(app["port"])
    assert addresses == ["0100007F"]  # 127.0.0.1, in the kernel's byte order; nothing on 0.0.0.0 or ::
    # and another address of this machine does not answer
    others = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for other in others:
        with pytest.raises(OSError):
            socket.create_connection((other, app["port"]), timeout=2).close()
