"""Running plans: each plan's replications as tasks on the sweep engine's Dask client, each kept as
it finishes.

Replication r of every plan runs with the same seed (common random numbers), so plans differ by
their levers, not their luck; the selection's re-runs take a second set of seeds, never used by
the search (`FRESH`). A run returns only what the study needs: each condition's value, whether it
met the target, and the cost over the horizon. Every finished run is kept in the study's staging
folder (OUT.partial) under its plan and seed, so a resumed study runs none of them again, and a
plan the search proposes twice is run once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config import Config
from sim.experiments.parallel import Staging
from sim.experiments.replications import replication_seed
from sim.experiments.runner import run
from sim.optimise.spec import Problem
from sim.optimise.targets import Condition, condition_values

FRESH = 1_000_000  # the selection's replications are numbered from here: seeds the search never used

Steps = tuple[int, ...]  # a plan: each lever's step number, in the file's order of levers


@dataclass(frozen=True)
class Outcome:
    """One run of one plan."""

    values: tuple[float, ...]  # each condition's value
    met: bool
    cost: float  # £ over the horizon


def run_plan(config: Config, seed: int, months: int, conditions: Sequence[Condition]) -> Outcome:
    """What a worker does: one replication of one plan's configuration."""
    metrics = run(config, seed=seed, months=months, cases=False).metrics
    values = condition_values(metrics, list(conditions))
    cost = float(metrics.loc[metrics["metric"] == "cost_total", "value"].sum())
    met = all(c.holds(v) for c, v in zip(conditions, values))
    return Outcome(tuple(values), met, cost)


class InProcess:
    """A stand-in for a Dask client that runs each task at once, in this process (tests, `workers=0`)."""

    def submit(self, function: Callable, *args, key: str | None = None, **kwargs):
        return _Done(function(*args, **kwargs))

    def scatter(self, value, broadcast: bool = False):
        return value


class _Done:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value

    def release(self) -> None:
        pass


def _completed(futures: dict):
    if all(isinstance(f, _Done) for f in futures):
        return list(futures)
    from distributed import as_completed

    return as_completed(list(futures))


class Evaluator:
    """Runs plans' replications on a client, keeping each run; `runs` counts those done here."""

    def __init__(
        self, problem: Problem, client, staging: Staging | None = None, on_run: Callable[[], None] | None = None
    ):
        self.problem = problem
        self.client = client
        self.staging = staging
        self.on_run = on_run
        self.names = list(problem.levers)
        self.conditions = list(problem.spec.target.conditions)
        self._memory: dict[str, Outcome] = {}
        self.runs = 0

    def key(self, plan: Steps, rep: int) -> str:
        text = json.dumps([dict(zip(self.names, plan)), rep], sort_keys=True)
        return "run-" + hashlib.sha256(text.encode()).hexdigest()[:24]

    def _kept(self, key: str) -> Outcome | None:
        if key in self._memory:
            return self._memory[key]
        if self.staging is not None and self.staging.has(key):
            outcome = self.staging.load(key)
            self._memory[key] = outcome
            return outcome
        return None

    def evaluate(self, plans: Sequence[Steps], reps: Sequence[int]) -> pd.DataFrame:
        """One row per (plan, replication): plan (its position in `plans`), rep, met, cost and each
        condition's value; in (plan, rep) order whatever the order runs finished in."""
        outcomes: dict[tuple[int, int], Outcome] = {}
        todo: dict[str, list[tuple[int, int]]] = {}
        for i, plan in enumerate(plans):
            for rep in reps:
                key = self.key(plan, rep)
                kept = self._kept(key)
                if kept is not None:
                    outcomes[(i, rep)] = kept
                else:
                    todo.setdefault(key, []).append((i, rep))
        if todo:
            futures = {}
            configs: dict[int, object] = {}
            for key, places in todo.items():
                i, rep = places[0]
                if i not in configs:
                    configs[i] = self.client.scatter(self.problem.candidate(dict(zip(self.names, plans[i]))))
                future = self.client.submit(
                    run_plan,
                    configs[i],
                    replication_seed(self.problem.seed, rep),
                    self.problem.months,
                    self.conditions,
                    key=f"sendsim-optimise-{key}",
                )
                futures[future] = key
            for future in _completed(futures):
                key = futures[future]
                outcome = future.result()
                future.release()
                self._memory[key] = outcome
                if self.staging is not None:
                    self.staging.save(key, outcome)
                for place in todo[key]:
                    outcomes[place] = outcome
                self.runs += 1
                if self.on_run:
                    self.on_run()
        rows = []
        for i in range(len(plans)):
            for rep in reps:
                o = outcomes[(i, rep)]
                rows.append(
                    {
                        "plan": i,
                        "rep": rep,
                        "met": o.met,
                        "cost": o.cost,
                        **{c.name: v for c, v in zip(self.conditions, o.values)},
                    }
                )
        table = pd.DataFrame(rows)
        table["met"] = table["met"].astype(bool)
        return table


@dataclass(frozen=True)
class Tally:
    """A plan's runs in figures: runs, runs meeting the target, mean cost (£ over the horizon)."""

    runs: int
    met: int
    cost: float


def summary(table: pd.DataFrame) -> Tally:
    return Tally(int(len(table)), int(table["met"].sum()), float(np.mean(table["cost"])))
