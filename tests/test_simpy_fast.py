"""The SimPy internals sim/engine/simpy_fast.py relies on still behave as it says: this fails on a SimPy
release whose internals changed, before any model result could."""

from __future__ import annotations

import itertools

import simpy

from sim.engine.simpy_fast import TESTED, LightEvent, events_scheduled, schedule, urgent_timeout


def test_simpy_is_a_release_the_fast_paths_were_checked_against():
    assert ".".join(simpy.__version__.split(".")[:2]) in TESTED


def test_the_environment_has_the_internals_used():
    env = simpy.Environment(initial_time=3.5)
    assert isinstance(env._queue, list) and env._now == env.now == 3.5
    assert isinstance(env._eid, itertools.count)


def test_a_light_event_fires_at_its_time_in_the_order_of_scheduling():
    env = simpy.Environment()
    fired: list[tuple[str, float]] = []
    shared = [lambda e: fired.append(("light", env.now))]  # one list for many events, as staff use
    before = env.timeout(2.0)
    before.callbacks.append(lambda e: fired.append(("timeout before", env.now)))
    for delay in (2.0, 1.0):
        event = LightEvent()
        event.callbacks = shared
        schedule(env, delay, event)
    after = env.timeout(2.0)
    after.callbacks.append(lambda e: fired.append(("timeout after", env.now)))
    env.run()
    assert fired == [("light", 1.0), ("timeout before", 2.0), ("light", 2.0), ("timeout after", 2.0)]
    assert len(shared) == 1  # step() left the shared list of callbacks as it was


def test_an_urgent_timeout_comes_before_ordinary_events_at_the_same_time():
    env = simpy.Environment()
    order: list[str] = []
    env.timeout(5.0).callbacks.append(lambda e: order.append("normal"))
    urgent_timeout(env, 5.0).callbacks.append(lambda e: order.append("urgent"))
    env.run()
    assert order == ["urgent", "normal"]


def test_events_scheduled_counts_every_event():
    env = simpy.Environment()
    for delay in range(4):
        env.timeout(delay)
    event = LightEvent()
    event.callbacks = []
    schedule(env, 1.0, event)
    assert events_scheduled(env) == 5
