"""How a service's capacity follows its workload: extra capacity under a backlog, time released
to other duties when the pipeline runs short.

Real services are not a fixed set of servers working a queue. When work piles up, managers buy
overtime, set up backlog teams and bring in agency staff beyond the vacancies (docs/domain.md, "How
services respond to pressure": Devon's backlog team of six interims); when the pipeline is short,
the same people's time goes to other duties (tribunals, reviews, training). Each month every
team compares the pipeline it holds with the one it aims for:

    x = (open work - inflow a month x target_share x deadline) / (inflow a month x deadline)

summed over the kinds of work it handles (open assessments against the 20-week deadline and the
requests of a month; open
EP advice requests against their 6 weeks; reviews in progress against the weeks from release to
decision), and moves its capacity multiplier towards 1 + clip(strength x x, -max_released_share,
max_extra_share), closing 1/adjustment_months of the gap a month; on the first day it is there
already, as a service that has held its position for a while has its response in place. A service short of capacity
then settles where the extra capacity covers the gap, with a pipeline longer than it aims for; a
service with capacity to spare settles with a shorter one. The time cases take, and so the
on-time rate, is then a smooth function of capacity rather than all or nothing (docs/fidelity.md).
Strength 0 leaves every team at its own capacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.config import CapacityResponse as ResponseParams
from sim.engine.clock import DAYS_PER_MONTH, DAYS_PER_WEEK
from sim.model.component import Component

if TYPE_CHECKING:
    from sim.model.assessment import AssessmentService
    from sim.model.levers import Levers
    from sim.model.metrics import MonthlyMetrics
    from sim.model.reviews import ReviewService
    from sim.model.teams import Team, TeamMeasures

INFLOW_MONTHS = 3.0  # the inflow a month is smoothed over about this many months
KINDS = ("assessments", "ep_advice", "plans")


class CapacityResponse(Component):
    def __init__(
        self,
        levers: Levers,
        assessments: AssessmentService,
        reviews: ReviewService,
        metrics: MonthlyMetrics,
        teams: dict[str, Team],
        team_measures: TeamMeasures,
        requests_per_month: float,
    ):
        self.levers = levers
        self.team_measures = team_measures  # the hours each team worked, for the extra hours' cost
        self.requests_per_month = requests_per_month
        self.assessments = assessments
        self.reviews = reviews
        self.metrics = metrics
        self.teams = teams  # the model's teams by name (a merge replaces entries)
        self.change: dict[str, float] = {}  # by team: the share of capacity added (or released, < 0)
        self._totals = self._inflow_totals()
        self._inflow: dict[str, float] | None = None  # smoothed inflow a month, by kind of work
        self._last_length = 0.0  # days in the month just measured

    @property
    def params(self) -> ResponseParams:
        """Read when used, from the levers: a dated action may change the strength."""
        return self.levers.workforce.capacity_response

    def _inflow_totals(self) -> dict[str, int]:
        return {
            "assessments": self.assessments.requests_received_total,
            "ep_advice": self.assessments.advice_requests_total,
            "plans": self.reviews.reviews_released_total,
        }

    def _pipeline(self) -> dict[str, tuple[int, float]]:
        """Open work of each kind, and the weeks its statutory clock allows it."""
        a, r = self.assessments, self.reviews
        return {
            "assessments": (len(a.open), a.params.final_deadline_weeks),
            "ep_advice": (len(a.advice_open), a.params.advice_deadline_weeks),
            "plans": (len(r.in_review), r.params.review_release_weeks + r.params.decision_deadline_weeks),
        }

    def month_start(self, length_days: float) -> None:
        """Measure last month's inflow and today's pipeline; set each team's capacity."""
        totals = self._inflow_totals()
        observed = None
        if self._last_length:
            observed = {k: (totals[k] - self._totals[k]) * DAYS_PER_MONTH / self._last_length for k in KINDS}
        self._totals, self._last_length = totals, length_days
        params = self.params
        if params.strength == 0.0 and not any(self.change.values()):
            return
        starting = observed is None
        if observed is None:  # the inflow the configuration expects, until a month has been measured
            a, r = self.assessments, self.reviews
            self._inflow = {
                "assessments": self.requests_per_month,
                "ep_advice": self.requests_per_month * (1 - a.params.refusal_probability),
                "plans": len(r.plans) / r.params.review_interval_months,
            }
        elif self._inflow is None:
            self._inflow = observed
        else:
            for kind, n in observed.items():
                self._inflow[kind] += (n - self._inflow[kind]) / INFLOW_MONTHS
        pipeline = self._pipeline()
        weeks_per_month = DAYS_PER_MONTH / DAYS_PER_WEEK
        for name, team in self.teams.items():
            if params.teams is not None and name not in params.teams:
                continue
            held = scale = 0.0
            for kind in team.params.handles:
                open_, deadline_weeks = pipeline[kind]
                held += open_
                scale += self._inflow[kind] * deadline_weeks / weeks_per_month
            if scale <= 0:
                continue
            x = held / scale - params.target_share
            aim = min(params.max_extra_share, max(-params.max_released_share, params.strength * x))
            # A service starts in the position it has held: its response to its pipeline is in
            # place on the first day (Devon's backlog team was), and moves with the pipeline after.
            change = (
                aim
                if starting
                else self.change.get(name, 0.0) + (aim - self.change.get(name, 0.0)) / params.adjustment_months
            )
            self.change[name] = change
            team.set_boost(1.0 + change)

    def month_end(self, length_days: float) -> None:
        """The month's capacity change by team, and what the extra hours worked cost."""
        worked_hours = self.team_measures.worked_hours
        cost = 0.0
        for name in self.teams:
            change = self.change.get(name, 0.0)
            self.metrics.set(f"capacity_response_share.{name}", change)
            if change > 0:
                cost += worked_hours.get(name, 0.0) * change / (1.0 + change) * self.params.extra_hourly_cost
        self.metrics.set("cost_capacity_response", cost)
        self.metrics.count("cost_total", cost)
