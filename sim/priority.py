"""Prioritisation policies: which waiting work goes first.

Under overload these decide who is served on time:
- ``deadline``: earliest statutory deadline first. Work already past its deadline keeps going
  first, so under overload every case ends up late (the domino effect of earliest-deadline-first).
- ``oldest``: oldest case first, by request date (or review due date).
- ``fifo``: in the order the work arrived.
- ``triage``: work that can still meet its deadline first, earliest deadline first; work already
  late waits behind it, oldest first. It protects the on-time rate and lets the backlog age.

Every key ends in a sequence number, so ties break the same way in every run. Heap entries are
flat (key, seq, work) tuples: the work itself is never compared.
"""

from __future__ import annotations

from heapq import heappop, heappush
from operator import attrgetter
from typing import Any, Callable, Iterator, Protocol


class Prioritised(Protocol):
    deadline: float  # model day of the statutory deadline the work counts against
    origin: float  # model day the case started (the request, or the review due date)
    seq: int  # creation order, unique


PriorityKey = Callable[[Prioritised], float]

# the first part of each key; the sequence number follows it
KEYS: dict[str, PriorityKey] = {
    "deadline": attrgetter("deadline"),
    "oldest": attrgetter("origin"),
    "fifo": attrgetter("seq"),
}
POLICIES = (*KEYS, "triage")


class WorkQueue:
    """Waiting work in policy order: a heap on the policy's key."""

    __slots__ = ("_heap", "_key")

    def __init__(self, policy: str):
        self._heap: list[tuple[float, int, Any]] = []
        self._key = KEYS[policy]

    def push(self, work: Any) -> None:
        heappush(self._heap, (self._key(work), work.seq, work))

    def pop(self, now: float) -> Any:
        return heappop(self._heap)[2]

    def take(self, now: float) -> Any | None:
        """The next work, or None when nothing waits (one call where `while queue: pop` is two)."""
        return heappop(self._heap)[2] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)

    def __iter__(self) -> Iterator[Any]:
        return (entry[2] for entry in self._heap)


class TriageQueue:
    """Work that can still be on time, earliest deadline first; then late work, oldest first.

    The on-time heap is ordered by deadline, so whatever has gone late since it was queued is
    at its top and moves to the late heap when work is next taken.
    """

    __slots__ = ("_on_time", "_late")

    def __init__(self):
        self._on_time: list[tuple[float, int, Any]] = []
        self._late: list[tuple[float, int, Any]] = []

    def push(self, work: Any) -> None:
        heappush(self._on_time, (work.deadline, work.seq, work))

    def pop(self, now: float) -> Any:
        on_time, late = self._on_time, self._late
        while on_time and on_time[0][0] < now:
            work = heappop(on_time)[2]
            heappush(late, (work.origin, work.seq, work))
        return heappop(on_time if on_time else late)[2]

    def take(self, now: float) -> Any | None:
        return self.pop(now) if self._on_time or self._late else None

    def __len__(self) -> int:
        return len(self._on_time) + len(self._late)

    def __iter__(self) -> Iterator[Any]:
        yield from (entry[2] for entry in self._on_time)
        yield from (entry[2] for entry in self._late)


def work_queue(policy: str) -> WorkQueue | TriageQueue:
    return TriageQueue() if policy == "triage" else WorkQueue(policy)
