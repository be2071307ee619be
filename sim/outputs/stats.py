"""Summaries over replications: means with confidence intervals, percentiles, paired differences.

Kept apart from the model: these take tidy tables of replications and return tables.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

PERCENTILES = (5, 25, 50, 75, 95)
# what `describe` gives of a set of values, in this order
DESCRIBED = ("n", "mean", "ci_low", "ci_high", *(f"p{p}" for p in PERCENTILES), "median")


@cache
def t_quantile(q: float, df: int) -> float:
    """Student's t quantile: scipy.stats.t.ppf(q, df), bit for bit.

    t.ppf is scipy.special.stdtrit underneath; importing scipy.stats for it alone cost half a
    second of every `sendsim run --reps`, scipy.special about 0.2 s, and only when first needed.
    Few distinct (q, df) occur in an experiment, so each is worked out once.
    """
    from scipy.special import stdtrit

    return float(stdtrit(df, q))


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
    half = float(t_quantile(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
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


def describe_rows(x: np.ndarray, confidence: float = 0.95) -> pd.DataFrame:
    """`describe` of each row of a 2-D array at once, with the same numbers bit for bit.

    Rows holding a NaN (a rate with no denominator that month, a replication without the cell)
    have fewer values and go through `describe` one by one; the others, nearly all, are reduced
    along the row, which numpy sums in the same (pairwise) order as a 1-D array.
    """
    x = np.ascontiguousarray(x, dtype=float)
    rows, n = x.shape
    columns = list(DESCRIBED)
    out = np.full((rows, len(columns)), np.nan)
    full = ~np.isnan(x).any(axis=1) if n >= 2 else np.zeros(rows, dtype=bool)
    if full.any():
        xf = x[full]
        mean = xf.mean(axis=1)
        half = t_quantile(0.5 + confidence / 2, n - 1) * xf.std(axis=1, ddof=1) / np.sqrt(n)
        out[full, 0] = n
        out[full, 1] = mean
        out[full, 2] = mean - half
        out[full, 3] = mean + half
        out[full, 4:9] = np.percentile(xf, PERCENTILES, axis=1).T
        out[full, 9] = out[full, 6]
    # a cell of one value (a what-if's first replication): its mean and every percentile are that
    # value and it has no CI, as `describe` gives it
    valid = ~np.isnan(x)
    single = ~full & (valid.sum(axis=1) == 1)
    if single.any():
        value = x[single][valid[single]]  # one per row, in row order
        out[single, 0] = 1
        out[single, 1] = value
        out[single, 4:10] = value[:, None]
    for i in np.flatnonzero(~full & ~single):
        out[i] = list(describe(x[i], confidence).values())
    return pd.DataFrame(out, columns=columns)


def monthly_summary(reps: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """For every scenario, metric and month: n, mean, CI of the mean, median and percentiles."""
    grouped = reps.groupby(["scenario", "metric", "month"], sort=True)["value"]
    # one row per cell, its values in the order the results hold them (replication order), so
    # sums run in the same order as they did cell by cell
    cell = grouped.ngroup().to_numpy()
    slot = grouped.cumcount().to_numpy()
    keys = grouped.size().index
    values = np.full((len(keys), int(slot.max()) + 1 if len(slot) else 0), np.nan)
    values[cell, slot] = reps["value"].to_numpy(dtype=float)
    table = describe_rows(values, confidence)
    table.index = keys
    return table.reset_index()


def paired_difference(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of a - b over paired replications, with its CI: the common-random-numbers estimate."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    return mean_ci(a[keep] - b[keep], confidence)
