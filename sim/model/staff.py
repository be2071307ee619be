"""Members of staff, the items they hold and the tasks they work through.

A member of staff works their own queue, one task at a time, in the order the prioritisation
policy gives. The worker is driven by callbacks rather than a generator process: one SimPy event
per task, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import simpy

from sim.engine.priority import work_queue
from sim.engine.simpy_fast import LightEvent, schedule

if TYPE_CHECKING:
    from sim.config import Role


class WorkItem:
    """What a member of staff holds: a case, an advice request or a plan. One person owns it at a
    time (or it waits in its team's pool); its tasks queue with its owner, or wait with it
    (`pending`) until it is allocated."""

    __slots__ = ("seq", "origin", "deadline", "owner", "pending", "closed")
    fast: bool  # fast-tracked (priority.py): a slot of a case and its advice request; never a plan

    def __init__(self, seq: int, origin: float, deadline: float):
        self.seq = seq  # creation order: the tie-breaker in every queue
        self.origin = origin  # the day its clock started: the request, or the review's due date
        self.deadline = deadline  # the statutory deadline its next step counts against
        self.owner: StaffMember | None = None
        self.pending: list[Task] | None = None
        self.closed = False


class Task:
    """A piece of professional work on one item (a case, plan or advice request)."""

    __slots__ = ("item", "hours", "deadline", "origin", "seq", "on_done", "fast")

    def __init__(self, item: Any, hours: float, deadline: float, on_done: Callable[[Task], None], seq: int):
        self.item = item
        self.hours = hours
        self.deadline = deadline
        self.origin = item.origin
        self.seq = seq
        self.on_done = on_done
        self.fast = item.fast  # fast-tracked while it can still be on time (priority.py)


class Completion(LightEvent):
    """The moment a task ends at the pace it was timed with: one is made per task, so its cost is
    paid 160,000 times in a Devon run (sim/engine/simpy_fast.py)."""

    __slots__ = ()


class StaffMember:
    """One person: their own queue, their caseload, and how fast they work today.

    Their pace is their casework hours a day (less annual leave), times their productivity
    (ramp-up as a new starter, caseload pressure), and nothing while they are off sick.
    """

    # booked by the workforce from the day the member joins (Workforce.join, Workforce._accrue)
    cost_since: float
    sick_since: float

    def __init__(
        self,
        env: simpy.Environment,
        ident: int,
        role: Role,
        team: str,
        contract: str,
        fte: float,
        hours_per_week: float,
        casework_share: float,
        priority: str,
        fast_track: Any = None,
    ):
        self.env = env
        self.ident = ident
        self.role = role
        self.team = team
        self.contract = contract
        self.fte = fte
        self.hours_per_week = hours_per_week
        self.casework_share = casework_share
        self.casework_hours_per_day = hours_per_week * fte * casework_share / 7.0
        self._queue = work_queue(priority, fast_track)
        # the workforce's state of this person (joining, leaving, absence, pressure)
        self.joined_day = env.now
        self.resigned = False  # has given notice, or has been told the placement ends
        self.gone = False
        self.available_share = 1.0  # of casework hours, after annual leave
        self.ramp = 1.0  # new starters work slower for a while
        self.pressure_productivity = 1.0
        self.boost = 1.0  # the team's temporary extra capacity under a backlog (response.py)
        self.absent = False
        self.cap_share = 1.0  # new starters get a protected, lower share of the caseload cap
        self.hazard_left = float("inf")  # leaving: cumulative hazard still to run before resigning
        self.current: Task | None = None
        self.owned: dict[int, Any] = {}  # items allocated to this person, by creation order
        self.load_version = 0  # bumped by the team whenever the caseload changes
        self.hours_worked = 0.0
        self.hours_reported = 0.0  # of hours_worked, already counted in a month's measures
        self.capacity_hours = 0.0  # hours of casework this person could have done at their pace
        self.capacity_reported = 0.0
        self.rate = self.casework_hours_per_day  # hours of casework done per day, now
        self._remaining = 0.0  # hours left on the current task
        self._since = env.now  # when _remaining and the hours were last brought up to date
        self._completion: Completion | None = None  # the event that ends the current task at the present rate
        # SimPy reads an event's callbacks once and never changes the list, so one list serves
        # every completion of this person's tasks
        self._on_completion: list[Callable[[Completion], None]] = [self._finish]

    @property
    def caseload(self) -> int:
        return len(self.owned)

    @property
    def queued(self) -> int:
        return len(self._queue)

    def push(self, task: Task) -> None:
        self._queue.push(task)
        if self.current is None:
            self.progress()  # book the idle time before the pace clock restarts
            self._start_next()

    def _start_next(self) -> None:
        """Take the next task; the caller has brought the hours up to date."""
        env = self.env
        task = self._queue.take(env.now)
        while task is not None and task.item.closed:  # ceased or closed while the task waited
            task = self._queue.take(env.now)
        if task is None:
            return
        self.current = task
        self._remaining = task.hours
        if self.rate > 0.0:
            self._completion = completion = Completion()
            completion.callbacks = self._on_completion
            schedule(env, task.hours / self.rate, completion)
        else:
            self._completion = None

    def _schedule(self) -> None:
        if self.current is None or self.rate <= 0.0:
            self._completion = None
            return
        self._completion = completion = Completion()
        completion.callbacks = self._on_completion
        schedule(self.env, self._remaining / self.rate, completion)

    def progress(self) -> None:
        """Book the work done on the current task since the last update."""
        now = self.env.now
        elapsed = (now - self._since) * self.rate
        self.capacity_hours += elapsed
        if self._completion is not None:
            self._remaining -= elapsed
            self.hours_worked += elapsed
        self._since = now

    def update_rate(self) -> None:
        """Re-time the current task after the pace changed (absence, ramp-up, pressure)."""
        self.progress()
        productivity = self.available_share * self.ramp * self.pressure_productivity * self.boost
        self.rate = 0.0 if self.absent else self.casework_hours_per_day * productivity
        self._schedule()

    def drain(self) -> list[Task]:
        """Stop work for good: return the task in hand (with the hours it still needs) and the queue."""
        self.progress()
        tasks = []
        if self.current is not None:
            self.current.hours = max(self._remaining, 0.0)
            tasks.append(self.current)
        tasks.extend(self._queue)
        self.current = None
        self._completion = None
        self._queue = work_queue("fifo")
        return tasks

    def _finish(self, event: Completion) -> None:
        if event is not self._completion:
            return  # superseded: the task was re-timed after this event was scheduled
        # progress(), with the task in hand finished
        now = self.env.now
        elapsed = (now - self._since) * self.rate
        self.capacity_hours += elapsed
        self.hours_worked += elapsed
        self._since = now
        task = self.current
        assert task is not None  # a completion is scheduled only while a task is in hand
        self.current = None
        self._completion = None
        if not task.item.closed:  # a plan that ceased mid-task needs nothing more
            task.on_done(task)
        if self.current is None:  # on_done may already have started the next task
            self._start_next()
