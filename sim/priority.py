"""Prioritisation policies: which waiting work goes first.

Under overload these decide who is served on time. Earliest statutory deadline first keeps
serving work whose deadline has already passed; oldest case first serves by request date; FIFO
serves in the order work arrived. Every key ends in a sequence number so ties break the same
way in every run.
"""

from __future__ import annotations

from typing import Callable, Protocol


class Prioritised(Protocol):
    deadline: float  # model day of the statutory deadline the work counts against
    origin: float  # model day the case started (the request, or the review due date)
    seq: int  # creation order, unique


PriorityKey = Callable[[Prioritised], tuple]

POLICIES: dict[str, PriorityKey] = {
    "deadline": lambda w: (w.deadline, w.seq),
    "oldest": lambda w: (w.origin, w.seq),
    "fifo": lambda w: (w.seq,),
}
