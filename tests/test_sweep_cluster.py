"""Sweeps against a cluster started as separate processes on localhost (`dask scheduler`, `dask
worker`), and sweeps that lose their client or a worker part way: nothing lost, nothing
duplicated, and the table of one uninterrupted sweep, bit for bit. Slow tier."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal

from sim.sweeps.sweep import RESULTS, run_sweep

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
TASKS = 18  # 18 points x 2 replications, 2 runs a task


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    """A Morris sweep of 18 points x 2 replications of a year of the example service."""
    raw = {
        "config": str(ROOT / "configs" / "example.yaml"),
        "months": 12,
        "replications": 2,
        "runs_per_task": 2,
        "design": {"method": "morris", "trajectories": 6, "levels": 4},
        "parameters": {
            "demand.growth_per_year": {"low": 0.0, "high": 0.3, "unit": "share a year"},
            "workforce.roles.caseworker.agency_hourly_rate": {"low": 30, "high": 60, "unit": "£ an hour"},
        },
        "outputs": [{"figure": "on_time_rate", "year": 2023}, {"figure": "cost_total", "year": 2023}],
    }
    path = tmp_path_factory.mktemp("cluster") / "sweep.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(sweep_file) -> pd.DataFrame:
    """The same sweep, uninterrupted, on a LocalCluster of 2 workers."""
    return run_sweep(sweep_file, workers=2)


def _start(*args: str, log: Path) -> subprocess.Popen:
    """A process in its own session, so that it and its children can be killed together."""
    return subprocess.Popen(
        [str(a) for a in args], stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True, cwd=log.parent
    )


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def _wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _alive(group: int) -> bool:
    """Whether any process of the session `group` is still running."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _kept(out: Path) -> int:
    return len(list(Path(f"{out}.partial").glob("*.pickle")))


@pytest.fixture
def cluster(tmp_path) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A scheduler and two single-process workers, each started as `dask` does on a real cluster."""
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = _start(
        BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
        "--scheduler-file", scheduler_file, log=tmp_path / "scheduler.log",
    )  # fmt: skip
    workers: list[subprocess.Popen] = []
    try:
        _wait_for(scheduler_file.exists, "the scheduler's file")
        address = json.loads(scheduler_file.read_text())["address"]
        for i in range(2):
            workers.append(
                _start(
                    BIN / "dask",
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    log=tmp_path / f"worker-{i}.log",
                )  # fmt: skip
            )
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address, workers
    finally:
        for process in [*workers, scheduler]:
            _kill(process)


def test_a_sweep_on_a_separately_started_scheduler_and_workers_gives_the_same_table(
    sweep_file, reference, cluster, tmp_path
):
    address, _ = cluster
    out = tmp_path / "out"
    proc = subprocess.run(
        [BIN / "sendsim", "sweep", sweep_file, "--out", out, "--scheduler", address],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "2 worker(s) at " + address in proc.stderr
    assert_frame_equal(pd.read_parquet(out / RESULTS), reference)


def test_a_killed_client_resumes_with_nothing_lost_or_duplicated(sweep_file, reference, tmp_path):
    out = tmp_path / "out"
    client = _start(BIN / "sendsim", "sweep", sweep_file, "--out", out, "--workers", "1", log=tmp_path / "client.log")
    try:
        _wait_for(lambda: _kept(out) >= 2, "two finished tasks", timeout=120)
    finally:
        _kill(client)  # the client and its local cluster, at once
    kept = _kept(out)
    assert 2 <= kept < TASKS, kept
    assert not (out / RESULTS).exists()
    again = subprocess.run(
        [BIN / "sendsim", "sweep", sweep_file, "--out", out, "--workers", "2"], capture_output=True, text=True
    )
    assert again.returncode == 2 and "--resume" in again.stderr  # kept work is never thrown away unasked
    resumed = subprocess.run(
        [BIN / "sendsim", "sweep", sweep_file, "--out", out, "--workers", "2", "--resume"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    table = pd.read_parquet(out / RESULTS)
    assert not table.duplicated(["point", "rep", "output"]).any()
    assert_frame_equal(table, reference)


def test_sigterm_stops_the_sweep_and_its_cluster_and_says_how_to_go_on(sweep_file, tmp_path):
    out = tmp_path / "out"
    log = tmp_path / "client.log"
    client = _start(BIN / "sendsim", "sweep", sweep_file, "--out", out, "--workers", "2", log=log)
    try:
        _wait_for(lambda: _kept(out) >= 1, "a finished task", timeout=120)
        client.send_signal(signal.SIGTERM)
        assert client.wait(timeout=60) == 143
        _wait_for(lambda: not _alive(client.pid), "the local cluster's workers to stop", timeout=30)
    finally:
        _kill(client)
    text = log.read_text()
    assert f"of {TASKS} tasks finished and kept in {out}.partial" in text and "--resume" in text, text
    assert "Traceback" not in text


def test_a_sweep_survives_a_worker_killed_part_way(sweep_file, reference, cluster, tmp_path):
    address, workers = cluster
    out = tmp_path / "out"
    client = _start(BIN / "sendsim", "sweep", sweep_file, "--out", out, "--scheduler", address, log=tmp_path / "c.log")
    try:
        _wait_for(lambda: _kept(out) >= 1, "a finished task", timeout=120)
        assert _kept(out) < TASKS
        _kill(workers[0])  # its nanny and its worker: the scheduler hands its tasks to the other
        assert client.wait(timeout=300) == 0, (tmp_path / "c.log").read_text()
    finally:
        _kill(client)
    assert_frame_equal(pd.read_parquet(out / RESULTS), reference)


def test_an_inert_parameter_has_a_sobol_total_index_of_zero_below_every_active_one(tmp_path):
    """The agency hourly rate changes the cost, never the on-time rate: its total index for the
    on-time rate is within its interval of 0 and below each parameter that does move it."""
    from sim.outputs.sensitivity import analyse
    from sim.sweeps.design import unit_points
    from sim.sweeps.spec import load_sweep

    raw = {
        "config": str(ROOT / "configs" / "example.yaml"),
        "months": 12,
        "replications": 1,
        "runs_per_task": 8,
        "design": {"method": "sobol", "base_samples": 32},
        "parameters": {
            "demand.growth_per_year": {"low": 0.0, "high": 0.4, "unit": "share a year"},
            "assessment.draft_plan_hours.mean": {"low": 5, "high": 20, "unit": "hours"},
            "workforce.roles.caseworker.agency_hourly_rate": {"low": 30, "high": 60, "unit": "£ an hour"},
        },
        "outputs": [{"figure": "on_time_rate", "year": 2023}],
    }
    path = tmp_path / "sobol.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    sweep = load_sweep(path)
    table = run_sweep(sweep, workers=2)
    indices = analyse(sweep, table, unit_points(sweep)).set_index(["output", "parameter"])
    on_time = indices.loc["on_time_rate.2023"]
    rate = on_time.loc["workforce.roles.caseworker.agency_hourly_rate"]
    assert abs(rate["ST"]) <= rate["ST_conf"] + 1e-12
    for active in ("demand.growth_per_year", "assessment.draft_plan_hours.mean"):
        assert on_time.loc[active, "ST"] > rate["ST"], active
