"""Choosing the plan by a stated rule, not by the luckiest trial.

The search's estimates are from a few replications each, and the best of many noisy estimates is
biased towards luck. So the best candidates of the search (the cheapest that met the target in
their trials, then, if too few did, those that came closest) are run again on fresh seeds, many
replications each, and the recommended plan is

    the cheapest candidate whose lower Wilson bound of P(target), from its re-runs alone, is at
    least the probability asked (ties: the higher lower bound).

If no candidate passes, the target is reported unreached within the levers' bounds, with the
candidate that came closest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from sim.optimise.evaluate import FRESH, Steps
from sim.optimise.intervals import wilson
from sim.optimise.levers import posts
from sim.optimise.search import Trial, objective
from sim.optimise.spec import Problem

Evaluate = Callable[[Sequence[Steps], Sequence[int]], pd.DataFrame]


@dataclass(frozen=True)
class Checked:
    """A candidate run again on fresh seeds."""

    plan: Steps
    trial: Trial  # what the search estimated
    runs: int
    met: int
    cost: float
    posts: float
    low: float  # Wilson bounds of P(target) from the re-runs
    high: float

    @property
    def probability(self) -> float:
        return self.met / self.runs


@dataclass(frozen=True)
class Choice:
    checked: list[Checked]  # in the order of the rule: passing ones by objective first
    chosen: Checked | None  # the recommended plan; None: the target is not reached within the bounds
    closest: Checked  # the candidate with the highest lower bound


def candidates(problem: Problem, trials: list[Trial], count: int) -> list[Trial]:
    """The search's best distinct plans: those that met the target in their trial by objective,
    then the others by their estimate of P(target), highest first."""
    need = problem.spec.target.probability
    first: dict[Steps, Trial] = {}
    for t in sorted(trials, key=lambda t: t.number):
        first.setdefault(t.plan, t)
    distinct = list(first.values())
    met = sorted(
        (t for t in distinct if t.probability >= need), key=lambda t: (objective(problem, t.cost, t.posts), t.number)
    )
    rest = sorted(
        (t for t in distinct if t.probability < need),
        key=lambda t: (-t.probability, objective(problem, t.cost, t.posts), t.number),
    )
    return (met + rest)[:count]


def select(problem: Problem, trials: list[Trial], evaluate: Evaluate) -> Choice:
    """Re-run the best candidates on fresh seeds and choose by the rule above."""
    chosen_ones = candidates(problem, trials, problem.spec.selection.candidates)
    reps = [FRESH + r for r in range(problem.spec.selection.replications)]
    table = evaluate([t.plan for t in chosen_ones], reps)
    confidence = problem.spec.selection.confidence
    checked = []
    for i, trial in enumerate(chosen_ones):
        runs = table[table["plan"] == i]
        met = int(runs["met"].sum())
        low, high = wilson(met, len(runs), confidence)
        steps = dict(zip(problem.levers, trial.plan))
        checked.append(
            Checked(
                trial.plan, trial, len(runs), met, float(runs["cost"].mean()), posts(problem.levers, steps), low, high
            )
        )
    need = problem.spec.target.probability

    def order(c: Checked):
        return (c.low < need, objective(problem, c.cost, c.posts), -c.low, c.trial.number)

    checked.sort(key=order)
    passing = [c for c in checked if c.low >= need]
    closest = max(checked, key=lambda c: (c.low, -objective(problem, c.cost, c.posts)))
    return Choice(checked, passing[0] if passing else None, closest)
