"""One replication of a SEND service: the tree of components built from a configuration.

    Model
    ├── Team × n          (teams.py)       allocation of work to staff; the unallocated pool
    │   └── StaffMember × n (staff.py)     each works their own queue of tasks
    ├── Workforce         (workforce.py)   joining and leaving; posts, pressure, recruitment,
    │                                      agency, absence and pay as its parts
    ├── ReviewService     (reviews.py)     plans in force and their annual reviews
    ├── AssessmentService (assessment.py)  the 20-week assessment of each request;
    │                                      its issued plans go to the ReviewService
    ├── TeamMeasures      (teams.py)       each team's caseloads and hours, month by month
    ├── CapacityResponse  (response.py)    capacity that follows the pipeline
    ├── RequestArrivals   (demand.py)      requests arrive, each received by the AssessmentService
    └── MonthlyMetrics    (metrics.py)     counts and month-end stocks

Each component is given its collaborators when it is built; the month clock then only calls the
hooks of the component protocol (component.py) on each, in the order above. The model knows
nothing of files, replications or plots; `runner.py` does.
"""

from __future__ import annotations

import itertools

import simpy

from sim.config import Config, field_bounds
from sim.config import Team as TeamParams
from sim.engine.clock import DAYS_PER_WEEK, Calendar
from sim.engine.randomness import Streams
from sim.engine.simpy_fast import urgent_timeout
from sim.model import actions
from sim.model.assessment import AssessmentService
from sim.model.component import Component
from sim.model.demand import RequestArrivals
from sim.model.levers import Levers
from sim.model.metrics import MonthlyMetrics
from sim.model.response import CapacityResponse
from sim.model.reviews import ReviewService
from sim.model.staff import StaffMember
from sim.model.teams import Team, TeamMeasures
from sim.model.uncertainty import DrawnParameters
from sim.model.workforce import Workforce


class Model:
    def __init__(self, config: Config, seed: int, months: int | None = None):
        self.config = config  # frozen: what changes during the run changes in self.levers
        self.seed = seed
        self.env = simpy.Environment()
        self.warm_up_months = config.warm_up_months
        self.calendar = Calendar(config.start_date, self.warm_up_months + (months or config.months))
        self.streams = Streams(seed)
        # what calibration does not know: this replication's draw of its parameters
        self.parameters: dict[str, float] = {}
        self.drawn: DrawnParameters | None = None
        if config.uncertainty is not None:
            bounds = {path: field_bounds(config, path) for path in config.uncertainty.parameters}
            self.drawn = DrawnParameters(
                config.uncertainty, self.streams.generator("input_uncertainty"), config.start_date, bounds
            )
            self.parameters = self.drawn.values()
        self.levers = levers = Levers(self, config, self.parameters)
        self.metrics = MonthlyMetrics(self.calendar, self.warm_up_months)
        self.next_seq = itertools.count().__next__  # creation order: the tie-breaker everywhere
        self.boundary_actions: dict[float, list] = {}  # actions dated on the 1st of a month

        self.staff: list[StaffMember] = []
        self.teams = {
            name: Team(name, params, [], config.policy.allocation, config.policy.priority, levers)
            for name, params in levers.teams.items()
        }
        self.workforce = Workforce(
            self.env, levers, self.metrics, self.streams, self.teams, self.staff, config.policy, self.next_seq
        )
        self.workforce.start(config.staff)
        self.reviews = ReviewService(
            self.env, levers, self.metrics, self.streams, self.team_for("plans"), self.next_seq
        )
        self.assessments = AssessmentService(
            self.env, levers, self.metrics, self.streams, self.team_for("assessments"), self.team_for("ep_advice"),
            self.next_seq, self.reviews.issue_plan,
        )  # fmt: skip
        self.team_measures = TeamMeasures(self.teams, self.metrics)
        self.response = CapacityResponse(
            levers, self.assessments, self.reviews, self.metrics, self.teams, self.team_measures,
            levers.demand.requests_per_month,
        )  # fmt: skip
        # the month clock's order: staffing first (pressure reads caseloads), the response last
        # (it reads the month's hours and adds its cost to the month's total)
        self.components: list[Component] = [
            self.workforce, self.reviews, self.assessments, self.team_measures, self.response,
        ]  # fmt: skip
        self._seed_initial_state()
        self.demand = RequestArrivals(
            self.env, self.calendar, levers, self.streams.generator("demand.arrivals"), self.assessments.receive
        )
        actions.schedule(self, config.actions)
        self._clock = self.env.process(self._months())

    def team_for(self, kind: str) -> Team:
        return self.teams[self.config.team_for(kind)]

    def merge_teams(self, names: list[str], into: str, caseload_cap_per_fte: float | None) -> None:
        """One team takes over the work and the staff of several (e.g. assessment + review)."""
        old = [self.workforce.team(n) for n in names]
        handles = sorted({kind for team in old for kind in team.params.handles})
        params = TeamParams(role="caseworker", handles=handles, caseload_cap_per_fte=caseload_cap_per_fte)
        self.levers.add_team(into, params)
        merged = Team(into, params, [], self.config.policy.allocation, self.config.policy.priority, self.levers)
        for team in old:
            del self.teams[team.name]
        self.teams[into] = merged
        for team in old:
            merged.absorb(team)
        for component in self.components:
            component.teams_merged(old, merged)

    def _seed_initial_state(self) -> None:
        initial = self.levers.initial_state
        rng = self.streams.generator("initial_state")
        self.reviews.seed_initial_stock(
            initial.plans_in_force, initial.reviews_overdue_share, initial.reviews_overdue_max_weeks, rng
        )
        cases = []
        for band in initial.open_assessments:
            ages = rng.uniform(band.min_age_weeks, band.max_age_weeks, band.count) * DAYS_PER_WEEK
            cases += [(age, band.stage) for age in ages.tolist()]
        # oldest first across every band, as they were requested: creation order breaks ties in
        # every queue, so a case's place must follow its age, not the band it was written in
        for age, stage in sorted(cases, key=lambda c: -c[0]):
            self.assessments.start_open(age, stage)
        if self.warm_up_months == 0:
            self._record_stocks_at_start()

    def _record_stocks_at_start(self) -> None:
        """Stocks at the start of the reported period, for the flows after it to add up."""
        self.metrics.set("plans_in_force_at_start", len(self.reviews.plans))
        self.metrics.set("assessments_open_at_start", len(self.assessments.open))
        for role in ("caseworker", "educational_psychologist"):
            for contract in ("permanent", "agency"):
                self.metrics.set(
                    f"fte_in_post_at_start.{role}.{contract}",
                    sum(m.fte for m in self.staff if m.role == role and m.contract == contract),
                )

    def _months(self):
        """The month clock: flows drawn at each month's start, stocks read at its end."""
        calendar = self.calendar
        for month in range(calendar.months):
            length = calendar.boundaries[month + 1] - calendar.boundaries[month]
            first = calendar.month_starts[month]
            if month > 0 and first.month == 1 and self.drawn is not None:
                now = {path: self.levers.get(path) for path in self.parameters}
                drifted = self.drawn.new_year(first, now)
                for path, value in (drifted or {}).items():  # a year on: the parameters move
                    self.levers.set(path, value)
            for action in self.boundary_actions.pop(calendar.boundaries[month], []):
                actions.apply(self, action)
            for component in self.components:
                component.month_start(length)
            yield self._urgent_timeout(length)
            self._month_end(length)
            self.metrics.next_month()
            if month + 1 == self.warm_up_months:
                self._record_stocks_at_start()
        for component in self.components:
            component.run_end()

    def _urgent_timeout(self, delay: float) -> simpy.Event:
        """A month's end is read before anything dated on the 1st of the next month happens."""
        return urgent_timeout(self.env, delay)

    def _month_end(self, length_days: float) -> None:
        """Month-end stocks and the month's figures, read after everything in the month."""
        for component in self.components:
            component.month_end(length_days)

    def run(self) -> None:
        self.env.run(until=self._clock)
