"""The EHC needs assessment: one case per request, on the statutory 20-week clock.

    request ─ decision to assess (caseworker; some refused, some withdrawn, deadline week 6)
            ─ advice: EP advice (an educational psychologist's work) and other advice
              (external delays), in parallel; an exception adds a delay that stops the clock
            ─ draft plan (caseworker; some end with no plan, deadline week 16)
            ─ parental comment (15 days, no staff time)
            ─ final plan (caseworker, deadline week 20) ─ the plan joins the stock

Everything random about a case is drawn when its request arrives, from one stream per source,
so the n-th request is the same case in every scenario however the work is then scheduled.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.config import Assessment
from sim.engine.clock import DAYS_PER_WEEK
from sim.model.component import Component
from sim.model.staff import Task, WorkItem

if TYPE_CHECKING:
    import simpy

    from sim.engine.randomness import Streams
    from sim.model.levers import Levers
    from sim.model.metrics import MonthlyMetrics
    from sim.model.teams import Team

NAN = math.nan

# what a case needs next when the model starts it part-way through (the initial state)
STAGE_ORDER = ("decision", "advice", "draft_plan", "final_plan")


class Deadlines(NamedTuple):
    """A case's statutory deadlines, in days from its request."""

    decision: float
    advice: float  # from the day advice is asked for
    draft: float
    final: float


class Case(WorkItem):
    __slots__ = (
        "initial", "exception", "refused", "withdrawn", "no_plan",
        "decision_hours", "ep_hours", "other_advice_days", "draft_hours", "final_hours",
        "decision_day", "advice_requested_day", "ep_advice_day", "advice_day", "draft_day",
        "final_day", "end_day", "outcome", "advice_waiting", "fast", "due",
    )  # fmt: skip
    # drawn when the request arrives (AssessmentService._new_case)
    exception: bool
    refused: bool
    withdrawn: bool
    no_plan: bool
    decision_hours: float
    ep_hours: float
    other_advice_days: float
    draft_hours: float
    final_hours: float
    due: Deadlines  # the statutory deadlines in force on the day of the request

    def __init__(self, seq: int, request_day: float):
        super().__init__(seq, request_day, NAN)
        self.initial = False
        self.decision_day = self.advice_requested_day = self.ep_advice_day = NAN
        self.advice_day = self.draft_day = self.final_day = self.end_day = NAN
        self.outcome = "open"
        self.advice_waiting = 0
        self.fast = False


class AdviceRequest(WorkItem):
    """A request to the EP service for statutory advice on one case."""

    __slots__ = ("case", "fast")

    def __init__(self, seq: int, case: Case, deadline: float):
        super().__init__(seq, case.origin, deadline)
        self.case = case
        self.fast = case.fast


class AssessmentService(Component):
    def __init__(
        self,
        env: simpy.Environment,
        levers: Levers,
        metrics: MonthlyMetrics,
        streams: Streams,
        team: Team,
        ep_team: Team,
        next_seq: Callable[[], int],
        plan_issued: Callable[[Case, Team], None],
    ):
        self.env = env
        self.levers = levers
        self.team = team  # caseworkers
        self.ep_team = ep_team  # educational psychologists, for the EP advice
        self.metrics = metrics
        self._next_seq = next_seq
        self._plan_issued = plan_issued  # the plan joins the stock (ReviewService.issue_plan)
        self._draw = {
            "exception": streams.uniform("assessment.exception"),
            "exception_weeks": streams.sampler(levers, "assessment", "exception_delay_weeks"),
            "refusal": streams.uniform("assessment.refusal"),
            "withdrawal": streams.uniform("assessment.withdrawal"),
            "no_plan": streams.uniform("assessment.no_plan"),
            "decision_hours": streams.sampler(levers, "assessment", "decision_hours"),
            "ep_hours": streams.sampler(levers, "assessment", "ep_advice_hours"),
            "other_weeks": streams.sampler(levers, "assessment", "other_advice_weeks"),
            "draft_hours": streams.sampler(levers, "assessment", "draft_plan_hours"),
            "final_hours": streams.sampler(levers, "assessment", "final_plan_hours"),
            "fast_track": streams.uniform("assessment.fast_track"),
        }
        self.cases: list[Case] = []
        self.open: dict[int, Case] = {}
        self.advice_open: dict[int, AdviceRequest] = {}  # EP advice requested and not yet given
        self.advice_requests_total = 0  # EP advice requested since the start
        self.requests_received_total = 0  # requests received since the start

    @property
    def params(self) -> Assessment:
        """Read when used, from the levers: a dated action may change any of them."""
        return self.levers.assessment

    def _deadlines(self) -> Deadlines:
        """The statutory deadlines in force now, in days: a case keeps those of the day of its
        request, so a dated action that moves one applies to the requests made from its date."""
        p = self.params
        return Deadlines(
            p.decision_deadline_weeks * DAYS_PER_WEEK,
            p.advice_deadline_weeks * DAYS_PER_WEEK,
            p.draft_deadline_weeks * DAYS_PER_WEEK,
            p.final_deadline_weeks * DAYS_PER_WEEK,
        )

    # --- arrival -------------------------------------------------------------------------------

    def _new_case(self, request_day: float) -> Case:
        d = self._draw
        case = Case(self._next_seq(), request_day)
        case.exception = d["exception"]() < self.params.exception_probability
        exception_days = d["exception_weeks"]() * DAYS_PER_WEEK
        case.refused = d["refusal"]() < self.params.refusal_probability
        case.withdrawn = d["withdrawal"]() < self.params.withdrawal_probability
        case.no_plan = d["no_plan"]() < self.params.no_plan_probability
        case.decision_hours = d["decision_hours"]()
        case.ep_hours = d["ep_hours"]()
        case.other_advice_days = d["other_weeks"]() * DAYS_PER_WEEK + (exception_days if case.exception else 0.0)
        case.draft_hours = d["draft_hours"]()
        case.final_hours = d["final_hours"]()
        case.fast = d["fast_track"]() < self.levers.fast_track_share
        case.due = self._deadlines()
        self.cases.append(case)
        self.open[case.seq] = case
        return case

    def receive(self) -> None:
        """A request arrives now."""
        self.metrics.count("requests_received")
        case = self._new_case(self.env.now)
        case.deadline = case.origin + case.due.decision
        self.requests_received_total += 1
        self.team.allocate(case)
        self._caseworker_task(case, case.decision_hours, self._decided)

    def start_open(self, age_days: float, stage: str) -> None:
        """A case already open when the model starts, `age_days` old and waiting at `stage`."""
        case = self._new_case(self.env.now - age_days)
        case.initial = True
        case.refused = case.refused and stage == "decision"
        case.deadline = (
            case.origin
            + {
                "decision": case.due.decision,
                "advice": case.due.draft,
                "draft_plan": case.due.draft,
                "final_plan": case.due.final,
            }[stage]
        )
        self.team.allocate(case)
        if stage == "decision":
            self._caseworker_task(case, case.decision_hours, self._decided)
        elif stage == "advice":
            # Advice was asked for when the decision fell due, not on the model's first day: restarting
            # the clocks then would hold every open case for a full advice wait and make the first
            # months' plans late whatever the service's capacity.
            self._request_advice(case, requested_day=min(self.env.now, case.origin + case.due.decision))
        elif stage == "draft_plan":
            self._caseworker_task(case, case.draft_hours, self._drafted)
        else:
            self._caseworker_task(case, case.final_hours, self._finalised)

    # --- steps ---------------------------------------------------------------------------------

    def _caseworker_task(self, case: Case, hours: float, on_done) -> None:
        hours *= self.params.effort_scale
        self.team.give(case, Task(case, hours, case.deadline, on_done, self._next_seq()))

    def _decided(self, task: Task) -> None:
        case = task.item
        now = self.env.now
        case.decision_day = now
        self.metrics.count("decisions_made")
        if now - case.origin <= case.due.decision:
            self.metrics.count("decisions_within_6_weeks")
        if case.refused:
            self.metrics.count("refusals")
            self._close(case, "refused")
        elif case.withdrawn:
            self.metrics.count("requests_withdrawn")
            self._close(case, "withdrawn")
        else:
            self._request_advice(case)

    def _request_advice(self, case: Case, requested_day: float | None = None) -> None:
        now = self.env.now
        requested = now if requested_day is None else requested_day
        case.advice_requested_day = requested
        case.deadline = case.origin + case.due.draft
        case.advice_waiting = 2
        advice = AdviceRequest(self._next_seq(), case, requested + case.due.advice)
        self.advice_open[advice.seq] = advice
        self.advice_requests_total += 1
        self.ep_team.allocate(advice)
        hours = case.ep_hours * self.params.effort_scale
        self.ep_team.give(advice, Task(advice, hours, advice.deadline, self._ep_advice_in, self._next_seq()))
        other_wait = max(0.0, requested + case.other_advice_days - now)
        self.env.timeout(other_wait).callbacks.append(lambda _e, case=case: self._advice_in(case))  # type: ignore[misc]  # mypy#15459: a default in a lambda

    def _ep_advice_in(self, task: Task) -> None:
        advice = task.item
        advice.closed = True
        del self.advice_open[advice.seq]
        self.ep_team.release(advice)
        advice.case.ep_advice_day = self.env.now
        self._advice_in(advice.case)

    def _advice_in(self, case: Case) -> None:
        case.advice_waiting -= 1
        if case.advice_waiting == 0:
            case.advice_day = self.env.now
            self._caseworker_task(case, case.draft_hours, self._drafted)

    def _drafted(self, task: Task) -> None:
        case = task.item
        case.draft_day = self.env.now
        if case.no_plan:
            self.metrics.count("assessments_ended_no_plan")
            self._close(case, "no_plan")
            return
        case.deadline = case.origin + case.due.final
        self.env.timeout(self.params.parental_comment_days).callbacks.append(
            lambda _e, case=case: self._caseworker_task(case, case.final_hours, self._finalised)  # type: ignore[misc]  # mypy#15459
        )

    def _finalised(self, task: Task) -> None:
        case = task.item
        now = self.env.now
        case.final_day = now
        on_time = now - case.origin <= case.due.final
        m = self.metrics
        m.count("plans_issued")
        m.count("plans_issued_within_20_weeks", on_time)
        if not case.exception:
            m.count("plans_issued_excluding_exceptions")
            m.count("plans_issued_within_20_weeks_excluding_exceptions", on_time)
        self._close(case, "issued")

    def _close(self, case: Case, outcome: str) -> None:
        case.outcome = outcome
        case.end_day = self.env.now
        case.closed = True
        del self.open[case.seq]
        if outcome == "issued":
            self._plan_issued(case, self.team)
        else:
            self.team.release(case)

    # --- measures ------------------------------------------------------------------------------

    def teams_merged(self, old: list[Team], merged: Team) -> None:
        if self.team in old:
            self.team = merged
        if self.ep_team in old:
            self.ep_team = merged

    def month_end(self, length_days: float) -> None:
        now = self.env.now
        origins = np.fromiter((case.origin for case in self.open.values()), dtype=float, count=len(self.open))
        age_weeks = (now - origins) / DAYS_PER_WEEK
        m = self.metrics
        m.set("assessments_open", len(self.open))
        for weeks in (20, 30, 52):
            m.set(f"assessments_open_over_{weeks}_weeks", int(np.count_nonzero(age_weeks > weeks)))
        # the census's cases (made before the run began) still open: how far the run has settled
        m.set("assessments_open_from_start", int(np.count_nonzero(origins < 0)))
