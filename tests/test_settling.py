"""The months a forecast spends settling from its starting census, and the measure they are read from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.outputs.settling import AT_START, FROM_START, SHARE_LEFT, settling_months


def _series(result, metric: str) -> np.ndarray:
    rows = result.metrics[result.metrics["metric"] == metric].sort_values("month")
    return rows["value"].to_numpy(dtype=float)


def test_the_census_cases_still_open_only_fall(example_path):
    """No case joins the census's open assessments: the count of those still open never rises, and
    starts at most at the census's count; a run with no census cases has none."""
    result = sim.run(example_path, seed=7, months=12, cases=False)
    left, at_start = _series(result, FROM_START), _series(result, AT_START)
    assert at_start[0] == 90 and 0 < left[0] <= at_start[0]
    assert np.all(np.diff(left) <= 0) and left[-1] < left[0]
    empty = sim.run(example_path, seed=7, months=3, cases=False, overrides={"initial_state.open_assessments": []})
    assert not _series(empty, FROM_START).any()


def _results(left: list[float], at_start: float, reps: int = 3) -> pd.DataFrame:
    months = pd.date_range("2023-01-01", periods=len(left), freq="MS")
    rows = [("base", rep, months[0], AT_START, at_start) for rep in range(reps)]
    rows += [("base", rep, month, FROM_START, value) for rep in range(reps) for month, value in zip(months, left)]
    return pd.DataFrame(rows, columns=["scenario", "rep", "month", "metric", "value"])


@pytest.mark.parametrize(
    "left, at_start, months",
    [
        ([90, 60, 30, 22, 10, 0], 100, 4),  # the first month with at most a quarter left: the 4th
        ([25, 10, 0], 100, 1),
        ([90, 80, 70], 100, 3),  # never settles within the horizon: all of it is marked
        ([0, 0, 0], 0, 0),  # nothing open at the start: nothing to settle
    ],
)
def test_the_months_marked_end_when_three_in_four_census_cases_have_ended(left, at_start, months):
    assert SHARE_LEFT == 0.25
    assert settling_months(_results(left, at_start), "base") == months


def test_the_median_run_decides():
    """Runs that disagree: the median month by month, not the luckiest run."""
    months = pd.date_range("2023-01-01", periods=4, freq="MS")
    rows = [("base", rep, months[0], AT_START, 100.0) for rep in range(3)]
    paths = {0: [20, 10, 0, 0], 1: [80, 60, 20, 0], 2: [90, 70, 24, 0]}
    rows += [("base", rep, m, FROM_START, float(v)) for rep, path in paths.items() for m, v in zip(months, path)]
    results = pd.DataFrame(rows, columns=["scenario", "rep", "month", "metric", "value"])
    assert settling_months(results, "base") == 3
    assert settling_months(results, "another_plan") == 0
