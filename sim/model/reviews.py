"""The stock of plans in force and their annual reviews.

    due date ─ review work released to the caseworker (weeks ahead)
             ─ review meeting (caseworker; not earlier than the notice allows)
             ─ decision within 4 weeks (caseworker): maintain, amend or cease
             ─ amend: amendment drafted (caseworker), 15 days for comment, final amended plan
               (caseworker) due 8 weeks after the proposal

No process waits a year per plan: plans wait in a heap ordered by due date, and a weekly sweep
releases the reviews coming due. Plans also cease outside review (moving away, leaving
education) and arrive by transfer from other authorities; both are drawn once a month.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.config import Plans
from sim.engine.clock import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR
from sim.model.component import Component
from sim.model.staff import Task, WorkItem

if TYPE_CHECKING:
    import simpy

    from sim.engine.randomness import Streams
    from sim.model.assessment import Case
    from sim.model.levers import Levers
    from sim.model.metrics import MonthlyMetrics
    from sim.model.teams import Team


class Plan(WorkItem):
    fast = False  # no plan is fast-tracked: the fast track is for new assessments
    __slots__ = ("index", "due_day", "in_review", "meeting_day", "decision_due", "amendment_due")

    def __init__(self, seq: int, due_day: float):
        super().__init__(seq, due_day, due_day)  # the oldest review is the one due first
        self.due_day = due_day
        self.index = -1
        self.in_review = False
        self.meeting_day = math.nan
        self.decision_due = self.amendment_due = math.nan  # the statutory 4 and 8 weeks


class ReviewService(Component):
    def __init__(
        self,
        env: simpy.Environment,
        levers: Levers,
        metrics: MonthlyMetrics,
        streams: Streams,
        team: Team,
        next_seq: Callable[[], int],
    ):
        self.env = env
        self.levers = levers
        self.metrics = metrics
        self.team = team
        self._next_seq = next_seq
        self._review_hours = streams.sampler(levers, "plans", "review_hours")
        self._decision_hours = streams.sampler(levers, "plans", "review_decision_hours")
        self._amendment_hours = streams.sampler(levers, "plans", "amendment_hours")
        self._amendment_final_hours = streams.sampler(levers, "plans", "amendment_final_hours")
        self._outcome = streams.uniform("plans.review_outcome")
        self._ceasing = streams.generator("plans.ceasing")
        self._transfers = streams.generator("plans.transfers_in")
        self.plans: list[Plan] = []  # in force, in no particular order (swap-remove)
        self._due: list[tuple[float, int, Plan]] = []
        self.in_review: dict[int, Plan] = {}
        self.reviews_released_total = 0  # reviews released to caseworkers since the start
        self.env.process(self._weekly_release())

    # read when used, from the levers, so a dated action can change them
    @property
    def params(self) -> Plans:
        return self.levers.plans

    @property
    def _interval(self) -> float:
        return self.params.review_interval_months * DAYS_PER_MONTH

    @property
    def _release_ahead(self) -> float:
        return self.params.review_release_weeks * DAYS_PER_WEEK

    @property
    def _earliest_meeting(self) -> float:
        return self.params.earliest_meeting_weeks * DAYS_PER_WEEK

    # --- the stock ------------------------------------------------------------------------------

    def add_plan(self, due_day: float, owner_team: Team | None = None, from_case: Case | None = None) -> Plan:
        plan = Plan(self._next_seq(), due_day)
        plan.index = len(self.plans)
        self.plans.append(plan)
        heapq.heappush(self._due, (due_day, plan.seq, plan))
        if from_case is not None and owner_team is self.team:
            self.team.hand_over(from_case, plan)
        else:
            if from_case is not None:
                assert owner_team is not None  # a case comes with the team that held it (issue_plan)
                owner_team.release(from_case)
            self.team.allocate(plan)
        return plan

    def issue_plan(self, case: Case, assessment_team: Team) -> None:
        self.add_plan(self.env.now + self._interval, assessment_team, case)

    def _cease(self, plan: Plan) -> None:
        plan.closed = True
        last = self.plans.pop()
        if last is not plan:
            last.index = plan.index
            self.plans[plan.index] = last
        self.in_review.pop(plan.seq, None)
        self.team.release(plan)

    def month_start(self, length_days: float) -> None:
        """Draw the month's ceasing outside review and transfers in from other authorities."""
        years = length_days / DAYS_PER_YEAR
        stock = len(self.plans)
        n_cease = self._ceasing.binomial(stock, -math.expm1(-self.params.ceasing_rate_per_year * years))
        for index in sorted(self._ceasing.choice(stock, n_cease, replace=False).tolist(), reverse=True):
            self._cease(self.plans[index])
        self.metrics.count("plans_ceased", n_cease)
        n_in = self._transfers.poisson(stock * self.params.transfers_in_rate_per_year * years)
        for due in self._transfers.uniform(0.0, self._interval, n_in).tolist():
            self.add_plan(self.env.now + due)
        self.metrics.count("plans_transferred_in", n_in)

    # --- reviews --------------------------------------------------------------------------------

    def _weekly_release(self):
        while True:
            horizon = self.env.now + self._release_ahead
            due = self._due
            while due and due[0][0] <= horizon:
                due_day, _, plan = heapq.heappop(due)
                if not plan.closed:
                    self._start_review(plan, due_day)
            yield self.env.timeout(DAYS_PER_WEEK)

    def _start_review(self, plan: Plan, due_day: float) -> None:
        plan.in_review = True
        plan.deadline = due_day
        self.in_review[plan.seq] = plan
        self.metrics.count_at(due_day, "reviews_due")
        self.reviews_released_total += 1
        self.team.give(plan, Task(plan, self._review_hours(), due_day, self._prepared, self._next_seq()))

    def _prepared(self, task: Task) -> None:
        plan = task.item
        wait = plan.due_day - self._earliest_meeting - self.env.now
        if wait > 0:
            self.env.timeout(wait).callbacks.append(lambda _e, plan=plan: self._meeting(plan))  # type: ignore[misc]  # mypy#15459: a default in a lambda
        else:
            self._meeting(plan)

    def _meeting(self, plan: Plan) -> None:
        if plan.closed:
            return
        now = self.env.now
        plan.meeting_day = now
        plan.in_review = False
        del self.in_review[plan.seq]
        self.metrics.count("reviews_completed")
        if now > plan.due_day:
            self.metrics.count("reviews_completed_late")
        plan.decision_due = now + self.params.decision_deadline_weeks * DAYS_PER_WEEK
        # A review is worked to its end in the order of its due date: the decision on a review
        # held late does not wait behind the next plans' meetings, so a backlog of overdue reviews
        # is cleared at the pace the whole review allows, not by holding every meeting first.
        self.team.give(plan, Task(plan, self._decision_hours(), plan.due_day, self._decided, self._next_seq()))

    def _decided(self, task: Task) -> None:
        plan = task.item
        now = self.env.now
        m = self.metrics
        m.count("review_decisions")
        if now <= plan.decision_due:
            m.count("review_decisions_within_4_weeks")
        u = self._outcome()
        outcomes = self.params.outcomes
        if u < outcomes.cease:
            m.count("plans_ceased_at_review")
            m.count("plans_ceased")
            self._cease(plan)
            return
        review_due = plan.due_day
        plan.due_day = plan.meeting_day + self._interval
        plan.origin = plan.deadline = plan.due_day
        heapq.heappush(self._due, (plan.due_day, plan.seq, plan))
        if u < outcomes.cease + outcomes.amend:
            m.count("review_decisions_amend")
            plan.amendment_due = now + self.params.amendment_deadline_weeks * DAYS_PER_WEEK
            self._review_task(plan, self._amendment_hours(), review_due, self._amendment_proposed)
        else:
            m.count("review_decisions_maintain")

    def _review_task(self, plan: Plan, hours: float, review_due: float, on_done) -> None:
        """A task of the review that was due on `review_due`, in that review's place in the queue."""
        task = Task(plan, hours, review_due, on_done, self._next_seq())
        task.origin = review_due
        self.team.give(plan, task)

    def _amendment_proposed(self, task: Task) -> None:
        plan = task.item
        self.env.timeout(self.params.amendment_comment_days).callbacks.append(
            lambda _e: self._review_task(plan, self._amendment_final_hours(), task.deadline, self._amended)
        )

    def _amended(self, task: Task) -> None:
        self.metrics.count("amendments_finalised")
        if self.env.now <= task.item.amendment_due:
            self.metrics.count("amendments_within_8_weeks")

    # --- measures ------------------------------------------------------------------------------

    def teams_merged(self, old: list[Team], merged: Team) -> None:
        if self.team in old:
            self.team = merged

    def month_end(self, length_days: float) -> None:
        now = self.env.now
        m = self.metrics
        m.set("plans_in_force", len(self.plans))
        m.set("reviews_in_progress", len(self.in_review))
        m.set("reviews_overdue", sum(1 for plan in self.in_review.values() if plan.due_day < now))

    def seed_initial_stock(
        self, n: int, overdue_share: float, overdue_max_weeks: float, rng: np.random.Generator
    ) -> None:
        overdue = rng.random(n) < overdue_share
        due = np.where(
            overdue,
            -rng.uniform(0.0, overdue_max_weeks * DAYS_PER_WEEK, n),
            rng.uniform(0.0, self._interval, n),
        )
        for day in due.tolist():
            self.add_plan(self.env.now + day)
