"""The search: optuna's TPE over the levers' steps, each trial a plan run on common random numbers.

A trial's value is the plan's objective (its mean cost over the horizon, or its posts), and its
constraint the shortfall of its estimated P(target) from the probability asked, so TPE looks for
the cheapest plan among those that meet the target (optuna's constrained TPE). The study lives in
a SQLite file in the study's staging folder: a resumed study is the same study, its finished
trials kept; a trial cut off by a kill is run again from its stored plan. Each trial asks a sampler
seeded by the study's seed and the trial's number, so the trials are the same whether or not the
study was interrupted, and whatever the number of workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.optimise.evaluate import Evaluator, Steps, summary
from sim.optimise.levers import posts
from sim.optimise.spec import Problem

STUDY = "sendsim-optimise"


@dataclass(frozen=True)
class Trial:
    number: int
    plan: Steps
    runs: int
    met: int
    cost: float
    posts: float

    @property
    def probability(self) -> float:
        return self.met / self.runs


Progress = Callable[[int, int, Trial | None], None]  # trials done, trials in all, best feasible so far


def objective(problem: Problem, cost: float, plan_posts: float) -> float:
    return cost if problem.spec.objective == "cost" else plan_posts


def best_feasible(problem: Problem, trials: list[Trial]) -> Trial | None:
    """The search's cheapest plan that met the target in its trial (as estimated there)."""
    need = problem.spec.target.probability
    feasible = [t for t in trials if t.probability >= need]
    return min(feasible, key=lambda t: (objective(problem, t.cost, t.posts), t.number)) if feasible else None


def _sampler(problem: Problem, number: int):
    import optuna

    # optuna 5 reads each trial's constraints as the trial sets them; optuna 4 asks a function
    seed = (problem.seed * 100_003 + number) % 2**32
    startup = problem.spec.search.startup_trials
    if hasattr(optuna.trial.Trial, "set_constraint"):
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, constraints_func=_shortfall)


def _shortfall(trial) -> tuple[float]:
    return (trial.user_attrs["shortfall"],)


def open_study(problem: Problem, storage_file: Path):
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{storage_file}")
    return optuna.create_study(
        study_name=STUDY, storage=storage, direction="minimize", load_if_exists=True, sampler=_sampler(problem, 0)
    )


def run_search(
    problem: Problem, evaluator: Evaluator, storage_file: Path, progress: Progress | None = None
) -> list[Trial]:
    """Run the study's trials (to `search.trials` in all, a resumed study's kept ones included)."""
    import optuna
    from optuna.trial import TrialState

    study = open_study(problem, storage_file)
    names = list(problem.levers)
    reps = list(range(problem.spec.search.replications))
    need = problem.spec.target.probability
    total = problem.spec.search.trials
    done: list[Trial] = []

    def finish(trial_id: int, number: int, plan: Steps) -> None:
        table = evaluator.evaluate([plan], reps)
        s = summary(table)
        steps = dict(zip(names, plan))
        trial = Trial(number, plan, s.runs, s.met, s.cost, posts(problem.levers, steps))
        handle = optuna.trial.Trial(study, trial_id)
        shortfall = need - trial.probability  # feasible at 0 or less: P(target) at least the probability asked
        for key, value in (("met", trial.met), ("runs", trial.runs), ("cost", trial.cost), ("posts", trial.posts)):
            handle.set_user_attr(key, value)
        handle.set_user_attr("shortfall", shortfall)
        if hasattr(handle, "set_constraint"):
            handle.set_constraint("shortfall", shortfall)
        study.tell(number, objective(problem, trial.cost, trial.posts))
        done.append(trial)

    for frozen in study.get_trials(deepcopy=False):
        plan = tuple(int(frozen.params[n]) for n in names)
        if frozen.state == TrialState.COMPLETE:
            a = frozen.user_attrs
            done.append(Trial(frozen.number, plan, int(a["runs"]), int(a["met"]), float(a["cost"]), float(a["posts"])))
        elif frozen.state == TrialState.RUNNING:  # cut off by a kill: its plan is run again
            finish(frozen._trial_id, frozen.number, plan)
    if progress:
        progress(len(done), total, best_feasible(problem, done))
    while len(done) < total:
        study.sampler = _sampler(problem, len(study.get_trials(deepcopy=False)))
        trial = study.ask()
        plan = tuple(trial.suggest_int(n, 0, problem.levers[n].steps) for n in names)
        finish(trial._trial_id, trial.number, plan)
        if progress:
            progress(len(done), total, best_feasible(problem, done))
    return sorted(done, key=lambda t: t.number)


def trials_table(problem: Problem, trials: list[Trial]) -> pd.DataFrame:
    """The trials table: number, each lever's value (as a person reads it), runs, met, P(target), cost, posts."""
    from sim.optimise.intervals import wilson

    rows = []
    for t in trials:
        steps = dict(zip(problem.levers, t.plan))
        low, high = wilson(t.met, t.runs)
        rows.append(
            {
                "trial": t.number,
                **{name: lever.shown(steps[name]) for name, lever in problem.levers.items()},
                "runs": t.runs,
                "met": t.met,
                "probability": t.probability,
                "probability_low": low,
                "probability_high": high,
                "cost": t.cost,
                "posts": t.posts,
            }
        )
    return pd.DataFrame(rows)
