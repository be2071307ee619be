"""A target as data: conditions on yearly figures that a run meets or not, and the probability asked.

A condition names a measure and a calendar year and one bound: `on_time_rate` in 2025 at least 0.6,
`reviews_overdue` at the end of 2025 at most 500. The measure is a yearly figure (sim/measures.py,
a team's as `caseload_per_fte_mean.assessment`), or a monthly rate, made for the year from its
counts summed over the year's months (`decisions_within_6_weeks_rate`). A run meets the target when
it meets every condition; the target's probability is the share of runs that must.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from sim.config import ConfigError, Strict
from sim.measures import BY_ID, FIGURES, unit
from sim.outputs.summary import yearly_table


class Condition(Strict):
    measure: str = Field(min_length=1, max_length=200)
    year: int = Field(ge=1900, le=2200)
    at_least: float | None = Field(None, allow_inf_nan=False)
    at_most: float | None = Field(None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_bound(self) -> Condition:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("expected exactly one of at_least or at_most")
        return self

    @property
    def name(self) -> str:
        return f"{self.measure}.{self.year}"

    def holds(self, value: float) -> bool:
        if np.isnan(value):
            return False
        return value >= self.at_least if self.at_least is not None else value <= float(self.at_most or 0.0)

    def words(self) -> str:
        bound, sign = (self.at_least, "≥") if self.at_least is not None else (self.at_most, "≤")
        shown = f"{bound:.0%}" if unit(self.measure.split(".")[0]) == "share" else f"{bound:,g}"
        return f"{self.measure} in {self.year} {sign} {shown}"


class Target(Strict):
    probability: float = Field(gt=0.0, le=1.0)  # the share of runs that must meet every condition
    conditions: list[Condition] = Field(min_length=1, max_length=20)

    def words(self) -> str:
        return f"{' and '.join(c.words() for c in self.conditions)}, with probability ≥ {self.probability:g}"


def rate_measures() -> dict[str, tuple[str, str]]:
    """Monthly rates a target may name besides the yearly figures: numerator and denominator."""
    return {m.id: m.ratio_of for m in BY_ID.values() if m.ratio_of is not None and not m.year_to_date}


def check_measure(measure: str, teams: list[str], where: str) -> None:
    """A measure a condition may name, or ConfigError naming the field and what is expected."""
    figures = {f.id for f in FIGURES.values() if not f.per_team}
    per_team = {f"{f.id}.{team}" for f in FIGURES.values() if f.per_team for team in teams}
    allowed = figures | per_team | set(rate_measures())
    if measure not in allowed:
        raise ConfigError(f"{where}: expected a yearly figure or rate, one of {sorted(allowed)}, got {measure!r}")


def condition_values(metrics: pd.DataFrame, conditions: list[Condition]) -> list[float]:
    """Each condition's value in one run's tidy monthly metrics (NaN where the year has none)."""
    table = yearly_table(metrics)
    rates = rate_measures()
    values = []
    for condition in conditions:
        if condition.measure in table.columns:
            column = table[condition.measure]
            values.append(float(column.get(condition.year, np.nan)))
            continue
        numerator, denominator = rates[condition.measure]
        year = metrics[pd.to_datetime(metrics["month"]).dt.year == condition.year]
        top = year.loc[year["metric"] == numerator, "value"].sum()
        bottom = year.loc[year["metric"] == denominator, "value"].sum()
        values.append(float(top / bottom) if bottom > 0 else np.nan)
    return values


CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*?)\.(\d{4})\s*(>=|<=|≥|≤)\s*([-+]?[0-9][0-9_.,eE+-]*)(%?)\s*$")


def parse_condition(text: str, where: str = "--target") -> Condition:
    """`on_time_rate.2025>=0.6` (or `>=60%`), `reviews_overdue.2025<=500`: a condition from the command line."""
    match = CONDITION.match(text)
    if not match:
        raise ConfigError(
            f"{where} {text!r}: expected MEASURE.YEAR>=VALUE or MEASURE.YEAR<=VALUE, e.g. on_time_rate.2025>=0.6"
        )
    measure, year, sign, number, percent = match.groups()
    try:
        value = float(number.replace(",", "").replace("_", ""))
    except ValueError:
        raise ConfigError(f"{where} {text!r}: expected a number after {sign}, got {number!r}") from None
    value = value / 100 if percent else value
    bound = {"at_least": value} if sign in (">=", "≥") else {"at_most": value}
    return Condition(measure=measure, year=int(year), **bound)
