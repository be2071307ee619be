"""The summaries of an experiment, made fast, give the numbers they gave cell by cell, bit for bit.

monthly_summary reduces every cell at once; these tests hold it to `describe` applied to each
cell, which is how it was computed before. The t quantile no longer comes from scipy.stats.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps

from sim.outputs.stats import describe, describe_rows, monthly_summary, t_quantile


def _bits(a) -> np.ndarray:
    return np.asarray(a, dtype=float).view(np.int64)


def _cell_by_cell(reps: pd.DataFrame) -> pd.DataFrame:
    grouped = reps.groupby(["scenario", "metric", "month"], sort=True)["value"]
    return grouped.apply(lambda v: pd.Series(describe(v.to_numpy()))).unstack().reset_index()


@pytest.fixture(scope="module")
def reps() -> pd.DataFrame:
    """Tidy results of 2 scenarios x 23 replications: rates with NaNs, a constant, counts."""
    rng = np.random.default_rng(11)
    months = pd.date_range("2024-01-01", periods=4, freq="MS").astype("datetime64[ms]")
    rows = []
    for scenario in ("base", "other"):
        for rep in range(23):
            for month in months:
                rows.append((scenario, rep, month, "cost", rng.lognormal(12, 1)))
                rows.append((scenario, rep, month, "plans", float(rng.poisson(40))))
                rows.append((scenario, rep, month, "rate", rng.random() if rng.random() > 0.1 else np.nan))
                rows.append((scenario, rep, month, "constant", 3.0))
    return pd.DataFrame(rows, columns=["scenario", "rep", "month", "metric", "value"])


def test_monthly_summary_is_describe_of_each_cell_bit_for_bit(reps):
    expected = _cell_by_cell(reps)
    got = monthly_summary(reps)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    for column in expected.columns[3:]:
        np.testing.assert_array_equal(_bits(got[column]), _bits(expected[column]))


def test_monthly_summary_keeps_the_order_of_the_values_in_each_cell(reps):
    """Values are summed in the order the results hold them, missing rows or not."""
    shuffled = reps.sample(frac=1.0, random_state=3)
    fewer = reps.drop(index=reps.sample(frac=0.1, random_state=4).index)
    for table in (shuffled, fewer, reps[reps["rep"] == 0]):
        pd.testing.assert_frame_equal(monthly_summary(table), _cell_by_cell(table), check_exact=True)


@pytest.mark.parametrize("n", [2, 5, 8, 9, 20, 100, 129, 300])
def test_describe_rows_is_describe_of_each_row(n):
    x = np.random.default_rng(n).lognormal(3, 2, (12, n))
    x[3, n // 2] = np.nan
    x[4] = np.nan
    table = describe_rows(x)
    for i in range(len(x)):
        np.testing.assert_array_equal(_bits(table.iloc[i]), _bits(list(describe(x[i]).values())))


@pytest.mark.parametrize("q", [0.95, 0.975, 0.995])
def test_t_quantile_is_scipy_stats_t_ppf_exactly(q):
    for df in range(1, 400):
        assert t_quantile(q, df) == sps.t.ppf(q, df)


def test_experiments_do_not_import_scipy_stats():
    """scipy.stats took half a second to import on every `sendsim run --reps`."""
    code = "import sys, sim.cli, sim.experiments.experiment, sim.experiments.precision; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
