"""The optimiser on the sweep engine's Dask cluster: the known optimum of queueing theory, the same
trials whatever the number of workers, the recommended plan run by `sendsim compare`, and a study
killed mid-search and resumed (issue 15)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from cli_result import assert_no_exception
from click.testing import CliRunner
from optimise_setup import TARGET, smallest_team, write_problem

from sim.cli import main
from sim.optimise.intervals import wilson
from sim.optimise.study import optimise
from sim.optimise.targets import condition_values, parse_condition

ROOT = Path(__file__).parents[1]


def _trials(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "trials.parquet")


@pytest.mark.slow
def test_optimise_on_a_cluster_finds_erlang_c_s_team_and_compare_meets_the_target(tmp_path):
    problem = write_problem(tmp_path)
    done = CliRunner().invoke(main, ["optimise", str(problem), "--workers", "2", "--out", str(tmp_path / "study")])
    assert_no_exception(done)
    assert done.exit_code == 0, done.output
    assert "Recommended: caseworkers" in done.output
    candidates = pd.read_csv(tmp_path / "study" / "candidates.csv")
    chosen = candidates[candidates["chosen"]].iloc[0]
    assert abs(int(chosen["caseworkers"]) - smallest_team()) <= 1
    # the same trials as in one process: results do not depend on the number of workers
    alone = optimise(problem, workers=0)
    pd.testing.assert_frame_equal(_trials(tmp_path / "study"), alone.trials)
    # the plan as written into the configuration's copy, run by compare, meets the target at the
    # stated probability, within the interval stated for it
    copy = tmp_path / "study" / "mmc.yaml"
    ran = CliRunner().invoke(main, ["compare", str(copy), "--scenarios", "optimised", "--reps", "20", "--jobs", "2",
                                    "--out", str(tmp_path / "compare")])  # fmt: skip
    assert_no_exception(ran)
    assert ran.exit_code == 0, ran.output
    results = pd.read_parquet(tmp_path / "compare" / "results.parquet")
    plan = results[results["scenario"] == "optimised"]
    condition = parse_condition(TARGET)
    met = [condition.holds(condition_values(runs[["month", "metric", "value"]], [condition])[0])
           for _, runs in plan.groupby("rep")]  # fmt: skip
    share = sum(met) / len(met)
    assert chosen["probability_low"] <= share <= chosen["probability_high"]
    assert wilson(sum(met), len(met))[1] >= 0.8
    base = results[results["scenario"] == "base"]  # one caseworker: nowhere near
    assert not any(condition.holds(condition_values(r[["month", "metric", "value"]], [condition])[0])
                   for _, r in base.groupby("rep"))  # fmt: skip


def _complete_trials(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_a_study_killed_mid_search_resumes_the_same_study(tmp_path):
    problem = write_problem(tmp_path, trials=10, reps=4, check_reps=10)
    out = tmp_path / "study"
    command = [sys.executable, "-m", "sim.cli", "optimise", str(problem), "--workers", "1", "--out", str(out)]
    database = tmp_path / "study.partial" / "study.db"
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _complete_trials(database) < 3:
            assert process.poll() is None, process.communicate()[0].decode()[-2000:]
            assert time.monotonic() < deadline, "no 3 trials within 2 minutes"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the command and its cluster, at once
        process.wait(timeout=30)
    with sqlite3.connect(database) as db:
        before = db.execute("SELECT number FROM trials WHERE state = 'COMPLETE' ORDER BY number").fetchall()
        study = db.execute("SELECT study_name FROM studies").fetchall()
    assert len(before) >= 3 and study == [("sendsim-optimise",)]
    assert not (out / "trials.parquet").exists()
    refused = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    resumed = subprocess.run([*command, "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    trials = _trials(out)
    assert list(trials["trial"]) == list(range(10))  # the same study, its numbering continued
    assert not database.parent.exists()
    # the trials of one uninterrupted study
    alone = optimise(problem, workers=0)
    pd.testing.assert_frame_equal(trials, alone.trials)
