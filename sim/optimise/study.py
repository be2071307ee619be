"""`sim.optimise` and `sim.goal_seek`: a study from its problem to its folder, on the sweep engine's
Dask client (a local cluster by default, any scheduler by its address, or `client=` your own;
`workers=0` runs everything in this process), every finished run kept for `resume`."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.config import ConfigError, Scenario, load_config
from sim.experiments.parallel import Staging
from sim.optimise import page
from sim.optimise.chart import pareto_chart
from sim.optimise.evaluate import Evaluator, InProcess
from sim.optimise.goalseek import Answer, bisect
from sim.optimise.levers import parse_lever
from sim.optimise.search import Trial, best_feasible, run_search, trials_table
from sim.optimise.selection import Choice, select
from sim.optimise.spec import OptimisationFile, Problem, _validated, check_problem, job, load_problem
from sim.optimise.targets import parse_condition
from sim.sweeps.cluster import connect, describe

Progress = Callable[[str, int, int, str], None]  # phase, done, in all, a note (the best plan so far)

PLAN = "optimised"  # the recommended plan's scenario name in the configuration's copy


def _client(scheduler: str | None, workers: int | None, client):
    if client is not None:
        return nullcontext(client)
    if workers == 0:
        return nullcontext(InProcess())
    return connect(scheduler, workers)


def _staging(problem: Problem, out: Path | None, resume: bool, staging: Staging | None):
    if staging is not None or out is None:
        return staging
    return Staging.beside(out, job(problem), resume)


def describe_plan(problem: Problem, steps: tuple[int, ...]) -> str:
    return ", ".join(f"{name} {lever.shown(s)}" for (name, lever), s in zip(problem.levers.items(), steps))


@dataclass
class Study:
    problem: Problem
    trials: pd.DataFrame
    checked: pd.DataFrame
    choice: Choice
    scenario: Scenario | None  # the recommended plan; None: the target is not reached within the bounds
    config_copy: Path | None
    runs: int

    @property
    def reached(self) -> bool:
        return self.choice.chosen is not None


def optimise(
    problem: Problem | str | Path,
    out: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    announce: Callable[[str], None] | None = None,
    client=None,
    staging: Staging | None = None,
) -> Study:
    """Search the levers for the cheapest plan meeting the target, then choose by re-running the
    best candidates on fresh seeds (sim/optimise/selection.py); written to `out` if given."""
    if not isinstance(problem, Problem):
        problem = load_problem(problem)
    started = dt.datetime.now(dt.UTC)
    out = Path(out) if out is not None else None
    staging = _staging(problem, out, resume, staging)
    spec = problem.spec
    with tempfile.TemporaryDirectory() as scratch, _client(scheduler, workers, client) as dask:
        if announce and not isinstance(dask, InProcess):
            announce(describe(dask))
        evaluator = Evaluator(problem, dask, staging)
        database = (staging.folder if staging is not None else Path(scratch)) / "study.db"

        def searching(done: int, total: int, best: Trial | None) -> None:
            if progress:
                note = f"best so far: {describe_plan(problem, best.plan)}" if best else "no plan has met the target yet"
                progress("search", done, total, note)

        trials = run_search(problem, evaluator, database, searching)
        checks = spec.selection.candidates * spec.selection.replications
        before: int = evaluator.runs
        if progress:
            evaluator.on_run = lambda: progress("check", evaluator.runs - before, checks, "")
        choice = select(problem, trials, evaluator.evaluate)
        runs = evaluator.runs
    table = trials_table(problem, trials)
    checked = checked_table(problem, choice)
    scenario = None
    if choice.chosen is not None:
        scenario = problem.scenario(
            dict(zip(problem.levers, choice.chosen.plan)),
            f"The cheapest plan found by sendsim optimise that meets {spec.target.words()}: "
            f"P(target) {choice.chosen.probability:.0%} (95% interval {choice.chosen.low:.0%} to {choice.chosen.high:.0%}) "
            f"from {choice.chosen.runs} runs on fresh seeds.",
        )
    copy = None
    if out is not None:
        from sim.optimise.outputs import write_study

        x, label = (
            ("cost", "Cost over the horizon (£ millions, mean of runs)")
            if spec.objective == "cost"
            else ("posts", "Posts added (FTE)")
        )
        record = {
            "trials": spec.search.trials,
            "replications_per_trial": spec.search.replications,
            "candidates": spec.selection.candidates,
            "replications_per_candidate": spec.selection.replications,
            "runs_this_session": runs,
            "reached": choice.chosen is not None,
        }
        copy = write_study(
            out, problem, "optimise", {"trials": table, "candidates": checked}, PLAN, scenario,
            lambda prov, plots: page.document(problem, "Hiring-plan optimiser", optimise_headline(problem, choice, trials),
                                              optimise_sections(problem, table, checked), prov, plots),
            lambda plots: pareto_chart(table, checked, spec.target.probability, x, label, plots / "pareto"),
            started, record,
        )  # fmt: skip
        if staging is not None:
            staging.remove()
    return Study(problem, table, checked, choice, scenario, copy, runs)


def checked_table(problem: Problem, choice: Choice) -> pd.DataFrame:
    rows = []
    for c in choice.checked:
        steps = dict(zip(problem.levers, c.plan))
        rows.append(
            {
                "trial": c.trial.number,
                **{name: lever.shown(steps[name]) for name, lever in problem.levers.items()},
                "search_probability": c.trial.probability,
                "runs": c.runs,
                "met": c.met,
                "probability": c.probability,
                "probability_low": c.low,
                "probability_high": c.high,
                "cost": c.cost,
                "posts": c.posts,
                "chosen": choice.chosen is not None and c.plan == choice.chosen.plan,
            }
        )
    return pd.DataFrame(rows)


def optimise_headline(problem: Problem, choice: Choice, trials: list[Trial]) -> list[str]:
    need = problem.spec.target.probability
    lines = []
    c = choice.chosen
    if c is not None:
        lines.append(
            f"Recommended: {describe_plan(problem, c.plan)}. Run again on {c.runs} fresh seeds it met the target in "
            f"{c.met} ({c.probability:.0%}; 95% interval {c.low:.0%} to {c.high:.0%}), at a mean cost of "
            f"{page.money(c.cost)} over the horizon, {c.posts:g} posts added."
        )
    else:
        k = choice.closest
        lines.append(
            f"The target is not reached within the levers' bounds: no candidate's lower 95% bound of P(target) is "
            f"{need:g} or more. Closest: {describe_plan(problem, k.plan)}, {k.probability:.0%} of {k.runs} runs "
            f"(95% interval {k.low:.0%} to {k.high:.0%})."
        )
    note = too_few_runs(need, problem.spec.selection.replications, problem.spec.selection.confidence)
    if note:
        lines.append(note)
    best = best_feasible(problem, trials)
    if best is not None:
        lines.append(
            f"The search's own cheapest plan meeting the target was {describe_plan(problem, best.plan)} "
            f"({best.met} of {best.runs} runs in its trial); the choice above rests on the re-runs, not on that estimate."
        )
    lines.append(
        f"Rule: the cheapest of the {len(choice.checked)} best candidates whose lower 95% Wilson bound of P(target), "
        f"from its re-runs alone, is at least {need:g}."
    )
    return lines


def too_few_runs(need: float, runs: int, confidence: float) -> str:
    """A warning when even every run meeting the target could not show the probability asked."""
    from sim.optimise.intervals import fewest_runs, wilson

    fewest = fewest_runs(need, confidence)
    if runs >= fewest:
        return ""
    return (
        f"With {runs} runs a plan, even {runs} of {runs} meeting the target gives a lower bound of "
        f"{wilson(runs, runs, confidence)[0]:.0%}: at least {fewest} runs are needed to show {need:g}."
    )


def optimise_sections(problem: Problem, trials: pd.DataFrame, checked: pd.DataFrame) -> list[str]:
    levers = {name: name for name in problem.levers}
    return [
        "<h2>The candidates, run again on fresh seeds</h2>",
        page.table_html(
            checked,
            {
                "trial": "trial",
                **levers,
                "search_probability": "P in its trial",
                "runs": "runs",
                "probability": "P(target)",
                "probability_low": "95% low",
                "probability_high": "95% high",
                "cost": "cost (mean)",
                "posts": "posts",
                "chosen": "recommended",
            },
        ),  # fmt: skip
        f"<h2>The search: {len(trials)} trials</h2>",
        "<details><summary>Every trial</summary>",
        page.table_html(
            trials,
            {
                "trial": "trial",
                **levers,
                "runs": "runs",
                "met": "met",
                "probability": "P(target)",
                "cost": "cost (mean)",
                "posts": "posts",
            },
        ),  # fmt: skip
        "</details>",
    ]


# --- goal-seek -----------------------------------------------------------------------------------


def goal_problem(
    config_path: str | Path,
    lever: str,
    targets: list[str],
    probability: float,
    replications: int = 20,
    months: int | None = None,
    seed: int | None = None,
    scenario: str = "base",
    confidence: float = 0.95,
) -> Problem:
    """The one-lever problem of `sendsim goal-seek`, checked as an optimisation file would be
    (its messages name the option: --lever, --target)."""
    config_path = Path(config_path)
    config = load_config(config_path)
    name, fields = parse_lever(lever)
    raw = {
        "config": str(config_path.resolve()),
        "scenario": scenario,
        "months": months,
        "seed": seed,
        "target": {
            "probability": probability,
            "conditions": [parse_condition(t).model_dump(exclude_none=True) for t in targets],
        },
        "objective": "posts",
        "levers": {name: fields},
        "search": {"trials": 1, "replications": replications, "startup_trials": 1},
        "selection": {"candidates": 1, "replications": max(2, replications), "confidence": confidence},
    }
    if not targets:
        raise ConfigError("--target: expected at least one, e.g. --target on_time_rate.2025>=0.6")
    source = f"{config_path} (--lever, --target)"
    spec: OptimisationFile = _validated(raw, source)
    return check_problem(spec, config, source, config_path.resolve())


def goal_seek(
    config: str | Path,
    lever: str,
    targets: list[str],
    probability: float = 0.8,
    replications: int = 20,
    months: int | None = None,
    seed: int | None = None,
    scenario: str = "base",
    **run,
) -> GoalSeek:
    """As `sendsim goal-seek`: `lever` as --lever (posts.assessment=0..20@2023-04-01), `targets` as
    --target (on_time_rate.2025>=0.6); `run` takes seek's out, scheduler, workers, resume, client."""
    return seek(goal_problem(config, lever, targets, probability, replications, months, seed, scenario), **run)


@dataclass
class GoalSeek:
    problem: Problem
    answer: Answer
    points: pd.DataFrame
    scenario: Scenario | None
    config_copy: Path | None


def seek(
    problem: Problem,
    out: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    announce: Callable[[str], None] | None = None,
    client=None,
    staging: Staging | None = None,
) -> GoalSeek:
    """The smallest value of the problem's one lever that meets its target, with its interval."""
    started = dt.datetime.now(dt.UTC)
    out = Path(out) if out is not None else None
    staging = _staging(problem, out, resume, staging)
    name, lever = next(iter(problem.levers.items()))
    with _client(scheduler, workers, client) as dask:
        if announce and not isinstance(dask, InProcess):
            announce(describe(dask))
        evaluator = Evaluator(problem, dask, staging)
        count = [0]

        def ran(point) -> None:
            count[0] += 1
            if progress:
                progress("seek", count[0], count[0] + 1, f"{name} {lever.shown(point.step)}: {point.probability:.0%}")

        answer = bisect(problem, evaluator, ran)
    rows = [
        {
            name: lever.shown(p.step),
            "step": p.step,
            "runs": p.runs,
            "met": p.met,
            "probability": p.probability,
            "probability_low": p.low,
            "probability_high": p.high,
            "cost": p.cost,
        }  # fmt: skip
        for p in sorted(answer.points.values(), key=lambda p: p.step)
    ]
    points = pd.DataFrame(rows)
    scenario = None
    if answer.step is not None:
        scenario = problem.scenario({name: answer.step}, seek_sentence(problem, answer))
    copy = None
    if out is not None:
        from sim.optimise.outputs import write_study

        points["chosen"] = points["step"] == answer.step
        record = {"lever": name, "replications_per_value": problem.spec.search.replications, "reached": answer.reached,
                  "answer": None if answer.step is None else lever.shown(answer.step),
                  "interval": None if answer.interval is None else [lever.shown(s) for s in answer.interval]}  # fmt: skip
        copy = write_study(
            out, problem, "goal-seek", {"values": points}, f"goal_seek_{name}"[:63].lower(), scenario,
            lambda prov, plots: page.document(problem, "Goal-seek", [seek_sentence(problem, answer)],
                                              [page.table_html(points, {name: name, "runs": "runs", "met": "met",
                                                               "probability": "P(target)", "probability_low": "95% low",
                                                               "probability_high": "95% high", "cost": "cost (mean)"})],
                                              prov, plots),
            lambda plots: pareto_chart(
                points, points, problem.spec.target.probability, "cost",
                "Cost over the horizon (£ millions, mean of runs)", plots / "pareto",
            ),
            started, record,
        )  # fmt: skip
        if staging is not None:
            staging.remove()
    return GoalSeek(problem, answer, points, scenario, copy)


def seek_sentence(problem: Problem, answer: Answer) -> str:
    name, lever = next(iter(problem.levers.items()))
    need = problem.spec.target.probability
    runs = problem.spec.search.replications
    if answer.step is None:
        note = too_few_runs(need, runs, problem.spec.selection.confidence)
        top = answer.points[lever.steps]
        sure = (
            "shown to fall short (its upper 95% bound is below it)"
            if answer.top_shown_to_fail
            else "short of it in these runs"
        )
        return (
            f"Not reached within the bounds: at {name} {lever.shown(lever.steps)}, the most the lever allows, "
            f"{top.met} of {top.runs} runs met the target ({top.probability:.0%}; {need:g} asked), {sure}."
        ) + (f" {note}" if note else "")
    note = too_few_runs(need, runs, problem.spec.selection.confidence)
    p = answer.points[answer.step]
    assert answer.interval is not None
    low, high = (lever.shown(s) for s in answer.interval)
    return (
        f"The smallest {name} that meets the target with probability {need:g}: {lever.shown(answer.step)} "
        f"({p.met} of {p.runs} runs on common random numbers, {p.probability:.0%}; 95% interval {p.low:.0%} to "
        f"{p.high:.0%}). With 95% confidence the smallest such value lies between {low} and {high}"
        f"{'' if answer.upper_shown else ' or above (no value within the bounds is shown to meet it: ' + high + ' is the bound)'} "
        f"({runs} runs a value)." + (f" {note}" if note else "")
    )
