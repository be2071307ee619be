"""One replication of a SEND service: the tree of components built from a configuration.

    Model
    ├── RequestArrivals   (demand.py)      requests arrive
    ├── AssessmentService (assessment.py)  the 20-week assessment of each request
    ├── ReviewService     (reviews.py)     plans in force and their annual reviews
    ├── Team × n          (teams.py)       allocation of work to staff; the unallocated pool
    │   └── StaffMember × n (staff.py)     each works their own queue of tasks
    └── MonthlyMetrics    (metrics.py)     counts and month-end stocks

The model knows nothing of files, replications or plots; `runner.py` does.
"""

from __future__ import annotations

import itertools

import numpy as np
import simpy

from sim.assessment import AssessmentService
from sim.clock import DAYS_PER_WEEK, Calendar
from sim.config import Config
from sim.demand import RequestArrivals
from sim.metrics import MonthlyMetrics
from sim.randomness import Streams
from sim.reviews import ReviewService
from sim.staff import StaffMember
from sim.teams import Team


class Model:
    def __init__(self, config: Config, seed: int, months: int | None = None):
        self.config = config
        self.seed = seed
        self.env = simpy.Environment()
        self.calendar = Calendar(config.start_date, months or config.months)
        self.streams = Streams(seed)
        self.metrics = MonthlyMetrics(self.calendar)
        self._seq = itertools.count()
        priority = config.policy.priority

        self.staff: list[StaffMember] = []
        for group in config.staff:
            for _ in range(group.count):
                self.staff.append(
                    StaffMember(
                        self.env, len(self.staff), group.role, group.team, group.contract, group.fte,
                        group.hours_per_week, group.casework_share, priority,
                    )
                )
        self.teams = {
            name: Team(
                name,
                [m for m in self.staff if m.team == name],
                team.caseload_cap_per_fte,
                config.policy.allocation,
                priority,
            )
            for name, team in config.teams.items()
        }

        self.reviews = ReviewService(self, config.plans)
        self.assessments = AssessmentService(self, config.assessment)
        self._seed_initial_state()
        RequestArrivals(self.env, self.calendar, config.demand, self.streams.generator("demand.arrivals"),
                        self.assessments.receive)
        self._hours_worked_before = dict.fromkeys(self.teams, 0.0)
        self._clock = self.env.process(self._months())

    def next_seq(self) -> int:
        return next(self._seq)

    def team_for(self, kind: str) -> Team:
        return self.teams[self.config.team_for(kind)]

    def _seed_initial_state(self) -> None:
        initial = self.config.initial_state
        rng = self.streams.generator("initial_state")
        self.reviews.seed_initial_stock(
            initial.plans_in_force, initial.reviews_overdue_share, initial.reviews_overdue_max_weeks, rng
        )
        for band in initial.open_assessments:
            ages = rng.uniform(band.min_age_weeks, band.max_age_weeks, band.count) * DAYS_PER_WEEK
            for age in np.sort(ages)[::-1].tolist():  # oldest first, as they were requested
                self.assessments.start_open(age, band.stage)
        self.metrics.set("plans_in_force_at_start", len(self.reviews.plans))
        self.metrics.set("assessments_open_at_start", len(self.assessments.open))

    def _months(self):
        """The month clock: flows drawn at each month's start, stocks read at its end."""
        calendar = self.calendar
        for month in range(calendar.months):
            length = calendar.boundaries[month + 1] - calendar.boundaries[month]
            self.reviews.month_start(length)
            yield self.env.timeout(length)
            self._snapshot()
            self.metrics.next_month()

    def _snapshot(self) -> None:
        self.assessments.snapshot()
        self.reviews.snapshot()
        m = self.metrics
        month = m.month
        days_in_month = self.calendar.boundaries[month + 1] - self.calendar.boundaries[month]
        for name, team in self.teams.items():
            members = team.members
            loads = np.array([member.caseload / member.fte for member in members]) if members else np.zeros(0)
            fte = team.fte
            m.set(f"caseload_per_fte_mean.{name}", sum(x.caseload for x in members) / fte if fte else np.nan)
            m.set(f"caseload_per_fte_p90.{name}", float(np.percentile(loads, 90)) if len(loads) else np.nan)
            m.set(f"unallocated.{name}", team.unallocated)
            m.set(f"fte_in_post.{name}", fte)
            for member in members:
                member.progress()
            worked = sum(x.hours_worked for x in members)
            available = sum(x.casework_hours_per_day for x in members) * days_in_month
            m.set(f"casework_hours.{name}", worked - self._hours_worked_before[name])
            m.set(f"utilisation.{name}", (worked - self._hours_worked_before[name]) / available if available else np.nan)
            self._hours_worked_before[name] = worked
        for role in ("caseworker", "educational_psychologist"):
            for contract in ("permanent", "agency"):
                m.set(f"fte_in_post.{role}.{contract}",
                      sum(x.fte for x in self.staff if x.role == role and x.contract == contract))

    def run(self) -> None:
        self.env.run(until=self._clock)
