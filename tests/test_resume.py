"""No finished work lost: a killed job resumes where it stopped, with the results of one
uninterrupted run, and leaves no worker process behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal

import sim
from sim.experiments.national import run_national
from sim.experiments.parallel import Staging, StagingError
from sim.experiments.replications import run_replications

ROOT = Path(__file__).parents[1]
DEVON = ROOT / "configs" / "devon.yaml"
SENDSIM = [sys.executable, "-m", "sim.cli"]
MONTHS, REPS = 24, 8


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux's /proc)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start(out: Path, *extra: str) -> subprocess.Popen:
    """`sendsim run` in a process of its own; its output goes to files, not pipes, so that a
    worker that outlived it could not hold the test up waiting for the pipe to close."""
    log = out.parent / f"{out.name}-{time.monotonic_ns()}.log"
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [
                *SENDSIM,
                "run",
                str(DEVON),
                "--months",
                str(MONTHS),
                "--reps",
                str(REPS),
                "--jobs",
                "2",
                "--no-cases",
                "--out",
                str(out),
                *extra,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    process.log = log  # type: ignore[attr-defined]
    return process


def _finish(process: subprocess.Popen) -> str:
    """Wait for the process (at most two minutes) and return what it wrote to stderr."""
    process.wait(timeout=120)
    return process.log.read_text()


def _wait_for_finished(staging: Path, at_least: int, process: subprocess.Popen) -> list[int]:
    """Wait until `at_least` replications are kept; the workers running at that moment."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(list(staging.glob("*.pickle"))) >= at_least:
            return _children(process.pid)
        assert process.poll() is None, _finish(process)
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} replications kept in {staging} after 120 s")


@pytest.fixture(scope="module")
def uninterrupted() -> pd.DataFrame:
    config = sim.load_config(DEVON)
    return run_replications(config, ["base"], REPS, months=MONTHS, jobs=1)


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_results_of_one_run_and_leaves_no_worker(tmp_path, uninterrupted):
    out = tmp_path / "devon"
    staging = tmp_path / "devon.partial"
    process = _start(out)
    workers = _wait_for_finished(staging, 2, process)
    assert workers, "the run had no worker processes to check"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    time.sleep(2.0)  # the workers' watchdog looks every half second
    assert [w for w in workers if _alive(w)] == []
    assert not out.exists()  # the folder appears whole or not at all
    kept = len(list(staging.glob("*.pickle")))
    assert 2 <= kept < REPS

    again = _start(out)  # without --resume: refused, and the kept replications are left alone
    stderr = _finish(again)
    assert again.returncode == 2 and "--resume" in stderr and "Traceback" not in stderr
    assert len(list(staging.glob("*.pickle"))) == kept

    resumed = _start(out, "--resume")
    stderr = _finish(resumed)
    assert resumed.returncode == 0, stderr
    assert not staging.exists()
    assert_frame_equal(pd.read_parquet(out / "results.parquet"), uninterrupted)


def test_sigterm_says_how_to_resume(tmp_path):
    out = tmp_path / "devon"
    process = _start(out)
    _wait_for_finished(tmp_path / "devon.partial", 1, process)
    process.send_signal(signal.SIGTERM)
    stderr = _finish(process)
    assert process.returncode == 143
    assert "--resume" in stderr and "Traceback" not in stderr
    assert not out.exists() and (tmp_path / "devon.partial").exists()


def test_a_resume_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "devon"
    job = {"job": "replications", "seed": 1}
    Staging.beside(out, job, resume=False)
    with pytest.raises(StagingError, match="seed"):
        Staging.beside(out, {**job, "seed": 2}, resume=True)
    assert Staging.beside(out, job, resume=True).folder == tmp_path / "devon.partial"


def test_a_national_run_uses_the_authorities_it_kept(tmp_path, monkeypatch):
    """Each authority is kept as it finishes; a resume runs only those not kept, and gives the
    national figures of one run."""
    import sim.experiments.national

    (tmp_path / "authorities.csv").write_text("authority,requests_per_year,plans_in_force\nA,480,1500\nB,60,200\n")
    path = tmp_path / "national.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "Two",
                "template": str(ROOT / "configs" / "example.yaml"),
                "authorities": "authorities.csv",
                "seed": 5,
            }
        )
    )
    whole = run_national(path, months=3, jobs=1)
    staging = Staging(tmp_path / "kept", {})
    staging.folder.mkdir()
    run_national(path, months=3, jobs=1, staging=staging)
    (staging.folder / "A.pickle").unlink()  # as if killed before A was kept
    ran = []
    simulate = sim.experiments.national._simulate
    monkeypatch.setattr(sim.experiments.national, "_simulate", lambda work: ran.append(work[0]) or simulate(work))
    resumed = run_national(path, months=3, jobs=1, staging=staging)
    assert ran == ["A"]
    assert_frame_equal(resumed.metrics, whole.metrics)
    assert_frame_equal(resumed.by_authority, whole.by_authority)
