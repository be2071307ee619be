"""Summaries over replications: means with confidence intervals, percentiles, paired differences.

Kept apart from the model: these take tidy tables of replications and return tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

PERCENTILES = (5, 25, 50, 75, 95)


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and the t-based confidence interval of the mean; NaNs are left out."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(x.mean())
    if n == 1:
        return (mean, np.nan, np.nan)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return (mean, mean - half, mean + half)


def half_width(values, confidence: float = 0.95) -> float:
    mean, low, high = mean_ci(values, confidence)
    return (high - low) / 2


def describe(values, confidence: float = 0.95) -> dict[str, float]:
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    mean, low, high = mean_ci(x, confidence)
    out = {"n": len(x), "mean": mean, "ci_low": low, "ci_high": high}
    for p in PERCENTILES:
        out[f"p{p}"] = float(np.percentile(x, p)) if len(x) else np.nan
    out["median"] = out["p50"]
    return out


def monthly_summary(reps: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """For every scenario, metric and month: n, mean, CI of the mean, median and percentiles."""
    grouped = reps.groupby(["scenario", "metric", "month"], sort=True)["value"]
    values = grouped.apply(lambda v: pd.Series(describe(v.to_numpy(), confidence))).unstack()
    return values.reset_index()


def paired_difference(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of a - b over paired replications, with its CI: the common-random-numbers estimate."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    return mean_ci(a[keep] - b[keep], confidence)
