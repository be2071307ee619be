"""Distributions of effort (hours) and delay (weeks or days), as configuration and as samplers.

Each distribution is a small pydantic model that refuses unknown keys and knows how to draw a
numpy batch. Skewed effort is the norm in casework, so lognormal and gamma are given by their
mean and coefficient of variation (cv), the two figures a manager can reason about.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, model_validator


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class Fixed(_Dist):
    dist: Literal["fixed"]
    value: NonNegativeFloat

    def sample(self, rng, size):
        return np.full(size, self.value)


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean: PositiveFloat

    def sample(self, rng, size):
        return rng.exponential(self.mean, size)


class LogNormal(_Dist):
    dist: Literal["lognormal"]
    mean: PositiveFloat
    cv: PositiveFloat

    def sample(self, rng, size):
        sigma2 = np.log1p(self.cv**2)
        mu = np.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, np.sqrt(sigma2), size)


class Gamma(_Dist):
    dist: Literal["gamma"]
    mean: PositiveFloat
    cv: PositiveFloat

    def sample(self, rng, size):
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, size)


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self):
        if self.high < self.low:
            raise ValueError("expected low <= high")
        return self

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: NonNegativeFloat
    mode: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError("expected low <= mode <= high with low < high")
        return self

    def sample(self, rng, size):
        return rng.triangular(self.low, self.mode, self.high, size)


Distribution = Annotated[
    Union[Fixed, Exponential, LogNormal, Gamma, Uniform, Triangular],
    Field(discriminator="dist"),
]
