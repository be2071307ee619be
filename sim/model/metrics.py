"""Monthly measures: counters bumped by the processes, stocks read at each month's end.

Collecting by month keeps the cost per event to one dictionary increment. Rates are derived
from the counts afterwards with DfE's definitions (the denominator is what was completed in
the period), so every rate can be recomputed from the counts beside it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from sim.config import ROLES
from sim.engine.clock import Calendar
from sim.measures import counts, rates, undeclared

# declared in sim/measures.py: the counts reported every month (zero when nothing happened) and
# the rates derived from them, of the month and of the year to date (reset each January)
COUNTS = counts()
RATES = rates()
YTD_RATES = rates(year_to_date=True)
# stocks read once, at the start of the reported period, are named "..._at_start"


class MonthlyMetrics:
    def __init__(self, calendar: Calendar, warm_up_months: int = 0):
        self.calendar = calendar
        self.warm_up_months = warm_up_months
        self.month = 0
        self._values: list[defaultdict[str, float]] = [defaultdict(float) for _ in range(calendar.months)]
        self.current = self._values[0]

    def count(self, name: str, n: float = 1) -> None:
        self.current[name] += n

    def count_at(self, day: float, name: str, n: float = 1) -> None:
        """Count against the month holding `day` (e.g. reviews due), if it is inside the run."""
        month = self.calendar.month_index(day)
        if 0 <= month < self.calendar.months:
            self._values[month][name] += n

    def total(self, name: str) -> float:
        """A count summed over the reported months (the warm-up left out)."""
        return float(sum(month.get(name, 0.0) for month in self._values[self.warm_up_months :]))

    def set(self, name: str, value: float) -> None:
        self.current[name] = value

    def next_month(self) -> None:
        self.month += 1
        if self.month < self.calendar.months:
            self.current = self._values[self.month]

    def raw_frame(self) -> pd.DataFrame:
        """Every simulated month (warm-up included) as counted and read: one column per measure."""
        return pd.DataFrame(self._values)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per month and metric, with the derived rates."""
        return derive(self.raw_frame(), self.calendar, self.warm_up_months)


def derive(wide: pd.DataFrame, calendar: Calendar, warm_up_months: int = 0) -> pd.DataFrame:
    """From the raw monthly values to the tidy table of measures: counts nobody made are 0, rates
    come from their counts, the warm-up is dropped. A name sim/measures.py does not declare is
    an error: every measure is declared once, with its unit and how it adds up."""
    unknown = undeclared(wide.columns)
    if unknown:
        raise ValueError(f"measures counted but not declared in sim/measures.py: {', '.join(unknown)}")
    # counts are zero when nothing happened; a stock or ratio nobody measured stays missing
    wide = wide.reindex(columns=[*wide.columns, *(c for c in COUNTS if c not in wide)])
    counted = [c for c in wide.columns if c in COUNTS]
    wide[counted] = wide[counted].fillna(0.0)
    for rate, (num, den) in RATES.items():
        if num in wide:
            wide[rate] = ratio(wide[num], wide[den])
    for role in ROLES:
        # 12-month turnover: permanent leavers over the year / mean permanent FTE in post
        leavers = wide[f"leavers_fte.{role}.permanent"].rolling(12).sum()
        in_post = wide.get(f"fte_in_post.{role}.permanent")
        if in_post is not None:
            wide[f"turnover_12_months.{role}"] = ratio(leavers, in_post.rolling(12).mean())
    wide.insert(0, "month", pd.to_datetime(calendar.month_starts[:-1]).astype("datetime64[ms]"))
    # the warm-up is dropped before year-to-date sums; turnover above may look back into it
    wide = wide.iloc[warm_up_months:].reset_index(drop=True)
    year = wide["month"].dt.year
    for rate, (num, den) in YTD_RATES.items():
        wide[rate] = ratio(wide[num].groupby(year).cumsum(), wide[den].groupby(year).cumsum())
    # tidy, month by month with metrics in name order (a melt and sort cost 25 ms a run, this 3)
    names = np.array(wide.columns[1:], dtype=object)
    order = np.argsort(names, kind="stable")
    values = wide.iloc[:, 1:].to_numpy(dtype=float)[:, order]
    months = wide["month"].to_numpy()
    tidy = pd.DataFrame({
        "month": np.repeat(months, len(names)),
        "metric": np.tile(names[order], len(months)),
        "value": values.ravel(),
    })  # fmt: skip
    later = tidy["month"] > tidy["month"].min()
    return tidy[~(tidy["metric"].str.contains("_at_start") & later)].reset_index(drop=True)


def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den, missing where there is no denominator (a rate of nothing is not 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.Series(np.where(den > 0, num / den.where(den > 0, 1), np.nan), index=num.index)
