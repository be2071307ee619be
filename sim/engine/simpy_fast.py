"""SimPy's internals, used on the hot path, in one place.

A Devon run schedules about 160,000 task completions; going through SimPy's public API for each
(an Event object, `env.schedule`'s keyword handling) costs a tenth of the run. These few lines
reach past it, and SimPy is held to the release range they were written for (pyproject.toml,
4.1.x); tests/test_simpy_fast.py fails if that range's internals change under them.

What they rely on, in SimPy 4.1's `Environment`:
- `_queue` is a heap of `(time, priority, event id, event)` that `step()` pops;
- `_eid` is the itertools counter that numbers the events, `_now` the current time;
- `step()` reads only an event's `callbacks`, `_ok` and `_value`, sets `callbacks` to None and
  calls each callback with the event, without changing the list it was given.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT

TESTED = ("4.1",)  # the SimPy releases (major.minor) these internals were checked against


class LightEvent:
    """The lightest event SimPy's loop can process: it has only what `step()` reads."""

    __slots__ = ("callbacks",)
    callbacks: list[Callable[[Any], None]]
    _ok = True
    _value = None


def schedule(env: simpy.Environment, delay: float, event: LightEvent) -> None:
    """`env.schedule(event, NORMAL, delay)` without the call's overhead."""
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), event))  # type: ignore[misc]  # a LightEvent stands in for an Event


def urgent_timeout(env: simpy.Environment, delay: float) -> simpy.Event:
    """A timeout that fires before every ordinary event at the same instant."""
    event = simpy.Event(env)
    event._ok, event._value = True, None  # a triggered event, as simpy.Timeout makes one
    env.schedule(event, URGENT, delay)
    return event


def events_scheduled(env: simpy.Environment) -> int:
    """How many events were scheduled in all: SimPy numbers them, and the next id is the count."""
    return int(next(env._eid))
