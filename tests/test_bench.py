"""The benchmark suite keeps working (tiny workloads; the timings themselves are not tested)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from sim import bench


@pytest.mark.slow
def test_smoke_suite_runs_every_workload_and_reports_it(capsys):
    """`python -m sim.bench --smoke` runs W1-W4 and C1 and prints a row for each, with the W3 efficiency."""
    assert bench.main(["--smoke"]) == 0
    printed = capsys.readouterr().out
    for name in ("W1", "W2", "W3", "W4", "C1"):
        assert f"| {name} |" in printed
    assert "parallel efficiency" in printed


def test_report_flags_a_missed_target():
    """A workload slower than its target is reported as not met."""
    w = bench.Workload("W1", "test", "configs/example.yaml", 1, 1, target_seconds=0.5)
    lines = bench.report({"W1": w}, {"W1": {"wall_seconds": 0.9, "events": 1000, "cases": 10, "peak_mb": 100}})
    assert lines[-1].endswith("| no |")
    lines = bench.report({"W1": w}, {"W1": {"wall_seconds": 0.4, "events": 1000, "cases": 10, "peak_mb": 100}})
    assert lines[-1].endswith("| yes |")


def _figures(w1: float, w2_cpu: float, w3: float, jobs: int = 4) -> dict[str, dict]:
    return {
        "W1": {
            "wall_seconds": w1,
            "events": 1000,
            "cases": 100,
            "peak_mb": 50,
            "runs_seconds": [w1, w1 * 1.1, w1 * 0.9],
        },
        "W2": {"wall_seconds": 5.0, "cpu_seconds": w2_cpu, "events": 10**6, "cases": 10_000, "peak_mb": 900, "jobs": 2},
        "W3": {"wall_seconds": w3, "events": None, "cases": 10_000, "peak_mb": 60, "jobs": jobs},
    }


def test_report_gives_the_parallel_efficiency_and_the_growth_on_the_serial_cost():
    """W3's efficiency is 100 × W1's time over W3's time × its processes; W2 against W1 is judged on
    W2's CPU time (its serial cost) against 1.2 × the ratio of cases, not on its wall time."""
    workloads = {name: bench.WORKLOADS[name] for name in ("W1", "W2", "W3")}
    lines = bench.report(workloads, _figures(w1=0.5, w2_cpu=60.0, w3=14.0, jobs=4))
    text = "\n".join(lines)
    # 100 x 0.5 s / (14 s x 4) = 89%
    assert "W3 parallel efficiency: 89% (100 × W1 time / (W3 time × 4 processes); target ≥ 85%)." in text
    # 100x the cases, 120x the time allowed; 60 s / 0.5 s = 120x: met
    assert "W2/W1: 120.0× the time (60.0 s of simulation over 2 process(es)) for 100.0× the cases" in text
    assert text.endswith("linear growth allows 120.0×: met.")
    slower = "\n".join(bench.report(workloads, _figures(w1=0.5, w2_cpu=61.0, w3=14.0)))
    assert slower.endswith(": not met.")
    # W1's three fresh-process runs are summarised by their range
    assert "W1: the median of 3 runs, each in a fresh process (0.45 s to 0.55 s)." in text
    # W2's memory target is part of its target, and a row without events shows a dash
    assert "≤ 40 s, ≤ 2 GB" in text
    w3_row = next(line for line in lines if line.startswith("| W3 |"))
    assert w3_row.split(" | ")[4] == "–"


def test_a_workload_over_its_memory_target_is_not_met():
    w = bench.Workload("W2", "test", "configs/example.yaml", 1, 1, target_seconds=10, target_memory_mb=100)
    over = bench.report({"W2": w}, {"W2": {"wall_seconds": 1.0, "peak_mb": 101}})
    assert over[-1].endswith("| no |") and "| 101 MB |" in over[-1]


def test_machine_names_the_cores_and_python():
    import os
    import platform

    text = bench.machine()
    assert f"{os.cpu_count()} cores, Python {platform.python_version()}" in text


def test_the_median_of_fresh_process_runs_is_reported(monkeypatch):
    """A workload run several times reports the median run, and every run's time in order."""
    times = iter([0.9, 0.3, 0.5])
    commands = []

    def fake_run(command, **kwargs):
        commands.append(command)
        figure = {"wall_seconds": next(times), "events": 10, "cases": 1, "jobs": 1, "peak_mb": 1}
        return subprocess.CompletedProcess(command, 0, stdout="noise\n" + json.dumps(figure) + "\n")

    monkeypatch.setattr(bench.subprocess, "run", fake_run)
    w = bench.Workload("W1", "test", "configs/example.yaml", 6, 1, 1.0, repeats=3)
    figures = bench.run_workload(w)
    assert figures["wall_seconds"] == 0.5 and figures["runs_seconds"] == [0.3, 0.5, 0.9]
    assert len(commands) == 3 and "_measure_in_process('configs/example.yaml', 6, 1)" in commands[0][-1]


def test_end_to_end_and_calibration_workloads_run_the_command_line(monkeypatch):
    """W4 runs `sendsim run` with its replications and months, replacing its own folder; C1 calibrates
    against Devon's Table 1a; C2 drafts its authority from SEN2 for 2021 first, then calibrates the draft
    on one core; the smoke calibration writes a one-year history of its own."""
    commands: list[list[str]] = []

    def fake_run(command, **kwargs):
        commands.append([str(part) for part in command])
        if "--history" in command and not bench.ROOT.joinpath("configs", "devon-table-1a.csv").samefile(
            command[command.index("--history") + 1]
        ):
            history = Path(command[command.index("--history") + 1]).read_text(encoding="utf-8")
            assert history.startswith("period,requests_received,refusals\n2023,")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(bench.subprocess, "run", fake_run)
    for name in ("W4", "C1", "C2"):
        figures = bench.run_workload(bench.WORKLOADS[name])
        assert figures["wall_seconds"] >= 0 and figures["events"] is None
    bench.run_workload(bench.SMOKE["C1"], smoke=True)
    w4, c1, draft, c2, smoke = commands
    assert w4[2:4] == ["sim.cli", "run"] and w4[w4.index("--reps") + 1] == "20" and "--force" in w4
    assert w4[w4.index("--months") + 1] == "36"
    assert c1[3] == "calibrate" and c1[c1.index("--history") + 1].endswith("devon-table-1a.csv")
    assert draft[3] == "init" and draft[draft.index("--la") + 1] == "Derbyshire" and "2021" in draft
    assert c2[4] == draft[draft.index("--out") + 1] and c2[c2.index("--jobs") + 1] == "1"
    assert smoke[smoke.index("--max-evaluations") + 1] == "5"


def test_one_replication_is_measured_in_process():
    """A single replication reports its events and the cases it handled (received plus open at the start)."""
    figures = bench._measure_in_process("configs/example.yaml", 2, 1)
    assert figures["jobs"] == 1 and figures["events"] > 0 and figures["peak_mb"] > 0
    assert figures["cases"] >= 90  # the example opens with 90 assessments under way


def test_main_writes_the_figures_between_the_markers_and_keeps_the_rest(tmp_path, monkeypatch, capsys):
    """`--only W1` measures W1 alone, keeps every other workload's last figures (benchmarks.json),
    and rewrites only the part of BENCHMARKS.md between its markers."""
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    monkeypatch.setattr(
        bench, "run_workload", lambda w, smoke=False: {"wall_seconds": 0.25, "events": 500, "cases": 50, "peak_mb": 10}
    )
    earlier = {"W4": {"wall_seconds": 2.0, "measured": "2026-01-02", "machine": "old box"}}
    (tmp_path / "benchmarks.json").write_text(json.dumps(earlier), encoding="utf-8")
    (tmp_path / "BENCHMARKS.md").write_text(
        "# Benchmarks\n\nintro\n<!-- figures -->\nstale\n<!-- /figures -->\n\nafterword\n", encoding="utf-8"
    )
    assert bench.main(["--only", "W1"]) == 0
    stored = json.loads((tmp_path / "benchmarks.json").read_text(encoding="utf-8"))
    assert set(stored) == {"W1", "W4"} and stored["W4"] == earlier["W4"]
    assert stored["W1"]["wall_seconds"] == 0.25
    text = (tmp_path / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nintro\n<!-- figures -->\nMeasured 2026-01-02, ")
    assert "stale" not in text and text.endswith("<!-- /figures -->\n\nafterword\n")
    assert "| W1 |" in text and "| W4 |" in text and "old box" in text
    assert f"Figures written to {tmp_path / 'BENCHMARKS.md'}" in capsys.readouterr().out


def test_main_creates_benchmarks_md_and_smoke_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    monkeypatch.setattr(bench, "run_workload", lambda w, smoke=False: {"wall_seconds": 0.1})
    assert bench.main(["--smoke"]) == 0
    assert not (tmp_path / "benchmarks.json").exists() and not (tmp_path / "BENCHMARKS.md").exists()
    assert "| C1 |" in capsys.readouterr().out
    assert bench.main(["--only", "W2-one"]) == 0
    text = (tmp_path / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\n<!-- figures -->\nMeasured ") and "| W2-one |" in text


def test_replications_are_measured_by_the_requests_they_received(monkeypatch):
    """Several replications report no event count (they run in other processes) and, as cases, the
    requests received over all of them: twice one replication's, near enough, for two."""
    import sim.experiments.replications as replications

    monkeypatch.setattr(replications, "default_jobs", lambda: 1)
    one = bench._measure_in_process("configs/example.yaml", 2, 1)
    two = bench._measure_in_process("configs/example.yaml", 2, 2)
    assert two["events"] is None and two["jobs"] == 1
    # one replication counts the 90 open at the start as well as its ~80 requests
    assert 0 < two["cases"] < 2 * one["cases"]
