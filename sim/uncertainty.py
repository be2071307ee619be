"""Input uncertainty: the parameters a replication runs with, drawn from what calibration knows.

Calibration estimates its parameters on a scale where they are unbounded (log for positive
ones, logit for shares) and reports a covariance there. Each replication draws one vector from
that normal and maps it back, so a positive parameter stays positive and a share stays a share,
and the replications' spread covers what we do not know about the parameters as well as chance.
The draw comes from its own stream under the replication's seed, so replication r of every
scenario runs with the same parameters (common random numbers) and a seed repeats a run.
"""

from __future__ import annotations

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


def draw_parameters(uncertainty: InputUncertainty, rng: np.random.Generator) -> dict[str, float]:
    centre = np.array([to_free(v, s) for v, s in zip(uncertainty.estimates, uncertainty.scales)])
    cov = np.asarray(uncertainty.covariance, dtype=float)
    z = rng.multivariate_normal(centre, cov, method="eigh")
    return {path: from_free(float(zi), scale) for path, zi, scale in zip(uncertainty.parameters, z, uncertainty.scales)}
