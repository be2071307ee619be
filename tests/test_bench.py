"""The benchmark suite keeps working (tiny workloads; the timings themselves are not tested)."""

from __future__ import annotations

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
