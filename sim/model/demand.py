"""Demand: requests for an EHC needs assessment, a Poisson process month by month.

Each month's expected count is the base rate, grown by the yearly trend and shaped by the
seasonal profile; a month in the configured history uses its observed count instead. The
month's arrivals are spread uniformly over it, which is exactly a Poisson process with a
piecewise-constant rate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import simpy

from sim.config import Demand
from sim.engine.clock import DAYS_PER_MONTH, DAYS_PER_YEAR, Calendar

if TYPE_CHECKING:
    from sim.model.levers import Levers


class RequestArrivals:
    def __init__(
        self,
        env: simpy.Environment,
        calendar: Calendar,
        levers: Levers,
        rng: np.random.Generator,
        receive: Callable[[], None],
    ):
        self.env = env
        self.calendar = calendar
        self.levers = levers
        self.rng = rng
        self.receive = receive
        self._month = 0
        self._generation = 0  # arrivals drawn under superseded levers carry an older generation
        env.process(self._months())

    @property
    def demand(self) -> Demand:
        """Read when used, from the levers: a dated action may change the rate or the trend."""
        return self.levers.demand

    def expected(self, month: int) -> float:
        """Expected requests in a month; requests_per_month is for a month of average length."""
        cal = self.calendar
        start, begin, end = cal.month_starts[month], cal.boundaries[month], cal.boundaries[month + 1]
        trend = (1.0 + self.demand.growth_per_year) ** (begin / DAYS_PER_YEAR)
        season = self.demand.seasonal_profile[start.month - 1]
        return self.demand.requests_per_month * trend * season * (end - begin) / DAYS_PER_MONTH

    def _months(self):
        for month in range(self.calendar.months):
            self._month = month
            begin, end = self.calendar.boundaries[month], self.calendar.boundaries[month + 1]
            observed = self.demand.history.get(self.calendar.month_label(month))
            n = observed if observed is not None else self.rng.poisson(self.expected(month))
            self._schedule(n, begin, end)
            yield self.env.timeout(end - begin)

    def _schedule(self, n: int, begin: float, end: float) -> None:
        generation = self._generation
        now = self.env.now
        for t in np.sort(self.rng.uniform(begin, end, n)).tolist():
            self.env.timeout(t - now).callbacks.append(lambda _e, g=generation: self._arrive(g))  # type: ignore[misc]  # mypy#15459: a default in a lambda

    def redraw(self) -> None:
        """A demand lever changed: redraw the rest of this month's requests at the new rate.

        Arrivals of a Poisson process in disjoint intervals are independent, so the rest of the
        month can be drawn afresh. Observed months keep their observed counts.
        """
        month = self._month
        if self.demand.history.get(self.calendar.month_label(month)) is not None:
            return
        begin, end, now = self.calendar.boundaries[month], self.calendar.boundaries[month + 1], self.env.now
        self._generation += 1
        self._schedule(self.rng.poisson(self.expected(month) * (end - now) / (end - begin)), now, end)

    def _arrive(self, generation: int) -> None:
        if generation == self._generation:
            self.receive()
