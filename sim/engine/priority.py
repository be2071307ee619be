"""Prioritisation policies: which waiting work goes first.

Under overload these decide who is served on time:
- ``deadline``: earliest statutory deadline first. Work already past its deadline keeps going
  first, so under overload every case ends up late (the domino effect of earliest-deadline-first).
- ``oldest``: oldest case first, by request date (or review due date).
- ``fifo``: in the order the work arrived.
- ``triage``: work that can still meet its deadline first, earliest deadline first; work already
  late waits behind it, oldest first. It protects the on-time rate and lets the backlog age.

A *fast track* mixes the two ideas, as real services do: a share of the requests (drawn when
each arrives) is fast-tracked, and the same share of every person's picks is ring-fenced for it,
earliest deadline first, while that work can still meet its deadline; everything else is taken
in the policy's order. Share 0 is the policy alone. Under overload it keeps that share of the
plans on time while the backlog is worked in order (docs/fidelity.md).

Every key ends in a sequence number, so ties break the same way in every run. Heap entries are
flat (key, seq, work) tuples: the work itself is never compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from operator import attrgetter
from typing import Any, Protocol


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


class FastTrackQueue:
    """The policy's order, with a share of the picks ring-fenced for fast-tracked work.

    Every piece of work is in the policy's heap; fast-tracked work is also in a heap by deadline.
    A pick goes to the fast-tracked heap, earliest deadline first, when that work is owed picks
    (a running balance: each pick in the policy's order owes it `share`, each fast-tracked pick
    repays 1 - share) and some of it can still meet its deadline; work whose deadline has passed
    leaves that heap for good and waits in the policy's order with the rest. So a person gives the
    fast track `share` of their picks while it has work that can still be on time, and the rest
    of their time goes in the policy's order. A pick from one heap leaves a stale entry in the
    other, skipped when it surfaces.
    """

    __slots__ = ("_main", "_fast", "_key", "_waiting", "_source", "_balance")

    def __init__(self, policy: str, source: Any):
        self._main: list[tuple[float, int, Any]] = []
        self._fast: list[tuple[float, int, Any]] = []
        self._key = KEYS[policy]
        self._waiting: set[int] = set()  # seq of the work still queued
        self._source = source  # has fast_track_share, read at every pick: a share can drift by the year
        self._balance = 0.0  # picks owed to the fast track, within one pick either way

    def push(self, work: Any) -> None:
        seq = work.seq
        heappush(self._main, (self._key(work), seq, work))
        if work.fast:
            heappush(self._fast, (work.deadline, seq, work))
        self._waiting.add(seq)

    def take(self, now: float) -> Any | None:
        waiting = self._waiting
        if not waiting:
            return None
        fast = self._fast
        while fast and (fast[0][1] not in waiting or fast[0][0] < now):
            heappop(fast)
        if fast and self._balance >= 0.0:
            work = heappop(fast)[2]
            self._balance = max(self._balance - (1.0 - self._source.fast_track_share), -1.0)
        else:
            main = self._main
            while main[0][1] not in waiting:
                heappop(main)
            work = heappop(main)[2]
            self._balance = min(self._balance + self._source.fast_track_share, 1.0)
        waiting.discard(work.seq)
        return work

    def pop(self, now: float) -> Any:
        work = self.take(now)
        if work is None:
            raise IndexError("pop from an empty queue")
        return work

    def __len__(self) -> int:
        return len(self._waiting)

    def __iter__(self) -> Iterator[Any]:
        waiting = self._waiting
        return (entry[2] for entry in self._main if entry[1] in waiting)


def work_queue(policy: str, fast_track: Any = None) -> WorkQueue | TriageQueue | FastTrackQueue:
    """The queue of a policy. With `fast_track` (anything with a `fast_track_share`, the
    configuration's policy) sharing above 0, that share of the picks is ring-fenced for
    fast-tracked work that can still be on time."""
    if policy == "triage":
        return TriageQueue()
    if fast_track is not None and fast_track.fast_track_share > 0.0:
        return FastTrackQueue(policy, fast_track)
    return WorkQueue(policy)
