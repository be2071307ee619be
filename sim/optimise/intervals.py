"""The probability of meeting the target, from k runs of n that met it: Wilson's score interval."""

from __future__ import annotations

import math

from scipy import stats


def wilson(met: int, runs: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's interval for a binomial proportion: good coverage even at 0 or n of n, where the
    normal approximation collapses to a point."""
    if runs <= 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = met / runs
    centre = (p + z * z / (2 * runs)) / (1 + z * z / runs)
    half = z / (1 + z * z / runs) * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs))
    return max(0.0, centre - half), min(1.0, centre + half)


def fewest_runs(probability: float, confidence: float = 0.95, most: int = 100_000) -> int:
    """The fewest runs whose lower bound can reach `probability` at all (every run meeting the target)."""
    n = 1
    while n < most and wilson(n, n, confidence)[0] < probability:
        n += 1
    return n
