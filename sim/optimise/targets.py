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
from sim.outputs.summary import _monthly, wide, yearly_table


class Condition(Strict):
    measure: str = Field(min_length=1, max_length=200)
    year: int = Field(ge=1900, le=2200)
    at_least: float | None = Field(None, allow_inf_nan=False)
    at_most: float | None = Field(None, allow_inf_nan=False)
    # a year-end figure held in every month of the year ("through 2025"), not only at its end
    every_month: bool = False

    @model_validator(mode="after")
    def _one_bound(self) -> Condition:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("expected exactly one of at_least or at_most")
        return self

    @property
    def name(self) -> str:
        return f"{self.measure}.{self.year}" + (".every_month" if self.every_month else "")

    def holds(self, value: float) -> bool:
        if np.isnan(value):
            return False
        return value >= self.at_least if self.at_least is not None else value <= float(self.at_most or 0.0)

    def words(self) -> str:
        bound, sign = (self.at_least, "≥") if self.at_least is not None else (self.at_most, "≤")
        shown = f"{bound:.0%}" if unit(self.measure.split(".")[0]) == "share" else f"{bound:,g}"
        when = f"in every month of {self.year}" if self.every_month else f"in {self.year}"
        return f"{self.measure} {when} {sign} {shown}"


class Target(Strict):
    probability: float = Field(gt=0.0, le=1.0)  # the share of runs that must meet every condition
    conditions: list[Condition] = Field(min_length=1, max_length=20)

    def words(self) -> str:
        return f"{' and '.join(c.words() for c in self.conditions)}, with probability ≥ {self.probability:g}"


def rate_measures() -> dict[str, tuple[str, str]]:
    """Monthly rates a target may name besides the yearly figures: numerator and denominator."""
    return {m.id: m.ratio_of for m in BY_ID.values() if m.ratio_of is not None and not m.year_to_date}


def check_measure(measure: str, teams: list[str], where: str, every_month: bool = False) -> None:
    """A measure a condition may name, or ConfigError naming the field and what is expected."""
    figures = {f.id for f in FIGURES.values() if not f.per_team}
    per_team = {f"{f.id}.{team}" for f in FIGURES.values() if f.per_team for team in teams}
    allowed = figures | per_team | set(rate_measures())
    if measure not in allowed:
        raise ConfigError(f"{where}: expected a yearly figure or rate, one of {sorted(allowed)}, got {measure!r}")
    if every_month:
        stocks = {m for m in figures | per_team if FIGURES[m.split(".")[0]].over_months == "last"}
        if measure not in stocks:
            raise ConfigError(
                f"{where}: every_month needs a month-end figure (a stock), one of {sorted(stocks)}, got {measure!r}"
            )


def condition_values(metrics: pd.DataFrame, conditions: list[Condition]) -> list[float]:
    """Each condition's value in one run's tidy monthly metrics (NaN where the year has none)."""
    table = yearly_table(metrics)
    rates = rate_measures()
    values = []
    for condition in conditions:
        if condition.every_month:
            values.append(_worst_month(metrics, condition))
            continue
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


def _worst_month(metrics: pd.DataFrame, condition: Condition) -> float:
    """A month-end figure's worst month of the year: the highest against at_most, the lowest against at_least."""
    figure_id, _, team = condition.measure.partition(".")
    figure = FIGURES[figure_id]
    w = wide(metrics)
    index = pd.DatetimeIndex(w.index)
    if team:
        column = figure.sources[0].removesuffix("*") + team
        series = w[column].to_numpy(dtype=float) if column in w.columns else np.full(len(w), np.nan)
    else:
        series = _monthly(w, w.to_numpy(dtype=float), figure)[0]
    year = series[np.asarray(index.year) == condition.year]
    if len(year) == 0 or np.isnan(year).all():
        return np.nan
    return float(np.nanmax(year) if condition.at_most is not None else np.nanmin(year))


CONDITION = re.compile(
    r"^\s*([A-Za-z_][\w.]*?)\.(\d{4})(\.every_month)?\s*(>=|<=|≥|≤)\s*([-+]?[0-9][0-9_.,eE+-]*)(%?)\s*$"
)


def parse_condition(text: str, where: str = "--target") -> Condition:
    """`on_time_rate.2025>=0.6` (or `>=60%`), `reviews_overdue.2025<=500`, and for a month-end figure
    held all year, `caseload_per_fte_mean.assessment.2025.every_month<=55`: a condition from the command line."""
    match = CONDITION.match(text)
    if not match:
        raise ConfigError(
            f"{where} {text!r}: expected MEASURE.YEAR>=VALUE or MEASURE.YEAR<=VALUE, e.g. on_time_rate.2025>=0.6"
        )
    measure, year, every, sign, number, percent = match.groups()
    try:
        value = float(number.replace(",", "").replace("_", ""))
    except ValueError:
        raise ConfigError(f"{where} {text!r}: expected a number after {sign}, got {number!r}") from None
    value = value / 100 if percent else value
    bound = {"at_least": value} if sign in (">=", "≥") else {"at_most": value}
    return Condition(measure=measure, year=int(year), every_month=bool(every), **bound)
