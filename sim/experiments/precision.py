"""Replications until the headline measures are precise enough.

The sequential procedure of Hoad, Robinson and Davies (2010): start with a few replications,
add more until the 95% confidence interval of every headline measure (each scenario, each
calendar year) has a half-width of at most `precision` times its mean, and stop only once that
still holds after a look-ahead of further replications, so a lucky early estimate does not end
the run. Where a measure's mean is 0 the half-width itself must be at most `precision`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.config import Config
from sim.experiments.parallel import Staging
from sim.experiments.replications import run_replications
from sim.measures import HEADLINE
from sim.outputs.stats import half_width
from sim.outputs.summary import yearly_by_rep


def relative_half_widths(results: pd.DataFrame, measures=HEADLINE, yearly: pd.DataFrame | None = None) -> pd.DataFrame:
    """Half-width of the 95% CI over |mean| (or the half-width, where the mean is 0). `yearly` is
    `yearly_by_rep(results)`, if the caller has it already."""
    yearly = yearly_by_rep(results) if yearly is None else yearly
    rows = []
    for (scenario, year), group in yearly.groupby(["scenario", "year"]):
        for measure in measures:
            values = group[measure].to_numpy(dtype=float)
            values = values[~np.isnan(values)]
            if len(values) < 2:
                continue  # no plans issued in that year in most replications: nothing to estimate
            hw = half_width(values)
            mean = abs(values.mean())
            rows.append(
                {
                    "scenario": scenario,
                    "year": year,
                    "measure": measure,
                    "n": len(values),
                    "half_width": hw,
                    "relative": hw / mean if mean > 0 else hw,
                }
            )
    return pd.DataFrame(rows)


def look_ahead(n: int) -> int:
    """Extra replications over which the precision must hold (Hoad et al.: kLimit)."""
    return 5 if n <= 100 else math.ceil(0.05 * n)


def run_to_precision(
    config: Config,
    precision: float,
    scenarios: list[str],
    seed: int,
    months: int | None,
    jobs: int,
    min_reps: int = 5,
    max_reps: int = 100,
    progress: Callable[[int], None] | None = None,
    staging: Staging | None = None,
) -> tuple[pd.DataFrame, bool]:
    """Replications 0..n-1 of every scenario, with n the first count that meets `precision`
    and keeps meeting it through the look-ahead, or `max_reps`. Returns (results, reached).

    The rule is applied one replication at a time whatever `jobs` is, so n does not depend on
    it: replications run `jobs` at a time, and any run beyond n is left out."""

    def batch(first: int, count: int) -> pd.DataFrame:
        return run_replications(config, scenarios, range(first, first + count), seed, months, jobs, progress, staging)

    ran = min(min_reps, max_reps)
    frames = [batch(0, ran)]
    # a replication's yearly table depends on it alone: each batch's are built once, not again
    # for every look at the growing results (which made the checks quadratic in replications)
    yearlies = [yearly_by_rep(frames[0])]
    n, confirm_until = ran, None
    while True:
        if n > ran:
            step = min(max(jobs, 1), max_reps - ran)
            frames.append(batch(ran, step))
            yearlies.append(yearly_by_rep(frames[-1]))
            ran += step
        results = pd.concat(frames, ignore_index=True)
        results = results[results["rep"] < n].reset_index(drop=True)
        # in yearly_by_rep's order: by scenario, then replication
        yearly = pd.concat(yearlies, ignore_index=True)
        yearly = yearly[yearly["rep"] < n].sort_values(["scenario", "rep"], kind="stable", ignore_index=True)
        widths = relative_half_widths(results, yearly=yearly)
        met = not widths.empty and bool((widths["relative"] <= precision).all())
        if met:
            confirm_until = confirm_until or n + look_ahead(n)
            if n >= confirm_until:
                return results, True
        else:
            confirm_until = None
        if n >= max_reps:
            return results, False
        n += 1
