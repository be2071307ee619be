"""Input uncertainty: the parameters a replication runs with, drawn from what calibration knows.

Calibration estimates its parameters on a scale where they are unbounded (log for positive
ones, logit for shares) and reports a covariance there. Each replication draws one vector from
that normal and maps it back, so a positive parameter stays positive and a share stays a share,
and the replications' spread covers what we do not know about the parameters as well as chance.
The draw comes from its own stream under the replication's seed, so replication r of every
scenario runs with the same parameters (common random numbers) and a seed repeats a run.

Parameters that change from year to year (an authority's capacity, its fast-track share) also
*drift*: from `drift_from` on, each 1 January every replication takes one more step of a normal
with the parameter's yearly drift, so that what we do not know grows with the horizon as it does
in the data, where a year's capacity is last year's and then some.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sim.config import InputUncertainty


def to_free(value: float, scale: str) -> float:
    if scale == "log":
        return math.log(value)
    if scale == "logit":
        return math.log(value / (1.0 - value))
    return value


def from_free(z: float, scale: str) -> float:
    if scale == "log":
        return math.exp(min(z, 700.0))
    if scale == "logit":
        return 1.0 / (1.0 + math.exp(-min(max(z, -700.0), 700.0)))
    return z


class DrawnParameters:
    """One replication's parameters: drawn at the start, and a step further each January."""

    def __init__(
        self,
        uncertainty: InputUncertainty,
        rng: np.random.Generator,
        start: dt.date,
        bounds: dict[str, tuple[float, float]] | None = None,
    ):
        self.uncertainty = uncertainty
        # Each parameter's range in the schema: a draw in the tail (or years of drift) is held at
        # its edge, as a value typed into the file past it would be refused.
        self.bounds = bounds or {}
        self.rng = rng
        centre = np.array([to_free(v, s) for v, s in zip(uncertainty.estimates, uncertainty.scales)])
        cov = np.asarray(uncertainty.covariance, dtype=float)
        self.z = rng.multivariate_normal(centre, cov, method="eigh")
        self.drift = np.asarray(uncertainty.drift if uncertainty.drift is not None else [0.0] * len(centre))
        if uncertainty.drift_from is not None and uncertainty.drift_from <= start:
            self.step()  # the first year forecast is already a year on from the one fitted

    def step(self) -> None:
        self.z = self.z + self.rng.normal(0.0, 1.0, len(self.z)) * self.drift

    def values(self) -> dict[str, float]:
        u = self.uncertainty
        return {
            path: self._within(path, from_free(float(zi), scale))
            for path, zi, scale in zip(u.parameters, self.z, u.scales)
        }

    def _within(self, path: str, value: float) -> float:
        low, high = self.bounds.get(path, (-math.inf, math.inf))
        return min(max(value, low), high)

    def new_year(self, first_of_january: dt.date, current: dict[str, float]) -> dict[str, float] | None:
        """On a 1 January after the start: the parameters a year's step on from their `current`
        values (so a dated action that set one is kept, and drifts from there), if they drift."""
        u = self.uncertainty
        if u.drift_from is None or first_of_january < u.drift_from or not self.drift.any():
            return None
        steps = self.rng.normal(0.0, 1.0, len(self.drift)) * self.drift
        return {
            path: self._within(path, from_free(to_free(current[path], scale) + step, scale))
            for path, scale, step in zip(u.parameters, u.scales, steps)
            if step != 0.0
        }


def draw_parameters(
    uncertainty: InputUncertainty,
    rng: np.random.Generator,
    start: dt.date | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> dict[str, float]:
    """The parameters a replication starts with (see DrawnParameters)."""
    return DrawnParameters(uncertainty, rng, start or dt.date.min, bounds).values()
