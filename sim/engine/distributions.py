"""Distributions of effort (hours) and delay (weeks or days), as configuration and as samplers.

Each distribution is a small pydantic model that refuses unknown keys and knows how to draw a
numpy batch. Skewed effort is the norm in casework, so lognormal and gamma are given by their
mean and coefficient of variation (cv), the two figures a manager can reason about.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

# A parameter of any distribution: hours, weeks or days, finite and at most this (the configuration
# bounds each use more tightly by its unit).
MAX_VALUE = 1e6
# A cv is a spread relative to the mean: 10 is wilder than any casework (effort's is ~0.4-0.8), and
# below 0.001 a draw is the mean (gamma's shape 1/cv^2 would overflow).
MIN_CV, MAX_CV = 0.001, 10.0
Value = Annotated[float, Field(ge=0.0, le=MAX_VALUE)]
Mean = Annotated[float, Field(gt=0.0, le=MAX_VALUE)]
Cv = Annotated[float, Field(ge=MIN_CV, le=MAX_CV)]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    @property
    def largest(self) -> float:
        """The largest of its values (a mean, or the highest value; not the cv), for a bound by unit."""
        return max(v for k, v in self.model_dump().items() if k not in ("dist", "cv"))


class Fixed(_Dist):
    dist: Literal["fixed"]
    value: Value

    def sample(self, rng, size):
        return np.full(size, self.value)


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean: Mean

    def sample(self, rng, size):
        return rng.exponential(self.mean, size)


class LogNormal(_Dist):
    dist: Literal["lognormal"]
    mean: Mean
    cv: Cv

    def sample(self, rng, size):
        sigma2 = np.log1p(self.cv**2)
        mu = np.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, np.sqrt(sigma2), size)


class Gamma(_Dist):
    dist: Literal["gamma"]
    mean: Mean
    cv: Cv

    def sample(self, rng, size):
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, size)


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: Value
    high: Value

    @model_validator(mode="after")
    def _ordered(self):
        if self.high < self.low:
            raise ValueError("expected low <= high")
        return self

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: Value
    mode: Value
    high: Value

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError("expected low <= mode <= high with low < high")
        return self

    def sample(self, rng, size):
        return rng.triangular(self.low, self.mode, self.high, size)


Distribution = Annotated[
    Fixed | Exponential | LogNormal | Gamma | Uniform | Triangular,
    Field(discriminator="dist"),
]
