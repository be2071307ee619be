"""Model time: days since the start date (floats), and the calendar months that metrics use."""

from __future__ import annotations

import bisect
import datetime as dt

import pandas as pd

DAYS_PER_WEEK = 7.0
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


def add_months(date: dt.date, months: int) -> dt.date:
    index = date.year * 12 + date.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


class Calendar:
    """Maps model days to dates and calendar months, for a run of whole months from a 1st."""

    def __init__(self, start: dt.date, months: int):
        self.start = start
        self.months = months
        self.month_starts = [add_months(start, m) for m in range(months + 1)]
        self.boundaries = [float((d - start).days) for d in self.month_starts]

    @property
    def end_day(self) -> float:
        return self.boundaries[-1]

    def day_of(self, date: dt.date) -> float:
        return float((date - self.start).days)

    def month_index(self, day: float) -> int:
        """Index of the month holding `day`; -1 before the start, `months` after the end."""
        return bisect.bisect_right(self.boundaries, day) - 1

    def month_label(self, index: int) -> str:
        return self.month_starts[index].strftime("%Y-%m")

    def timestamps(self, days) -> pd.Series:
        """Model days (NaN where a step never happened) as timestamps a person can read."""
        # pandas picks microseconds when every day is whole and nanoseconds otherwise; one unit for
        # every run keeps tables of different runs comparable (widening to ns changes no value)
        stamps = pd.Timestamp(self.start) + pd.to_timedelta(pd.Series(days, dtype="float64"), unit="D")
        return stamps.astype("datetime64[ns]")
