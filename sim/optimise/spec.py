"""The optimisation file: a service, a target, an objective and the levers to choose, checked
against the service before any run.

    config: ../configs/devon.yaml        # relative to this file
    months: 36
    target:
      probability: 0.8                   # the share of runs that must meet every condition
      conditions:
        - {measure: on_time_rate, year: 2025, at_least: 0.6}
    objective: cost                      # cost: £ over the horizon (mean of runs); posts: posts added
    levers:
      assessment_posts: {kind: posts, team: assessment, date: 2023-04-01, low: 0, high: 12}
    search: {trials: 30, replications: 10}
    selection: {candidates: 4, replications: 40}

A bad file is one ConfigError naming the file, the field and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from sim.config import (
    MAX_MONTHS,
    Config,
    ConfigError,
    Scenario,
    Seed,
    Strict,
    _describe,
    load_config,
    resolve_scenario,
)
from sim.engine.clock import add_months
from sim.files import read_yaml
from sim.optimise.levers import Lever, plan_scenario
from sim.optimise.targets import Target, check_measure

MAX_TRIALS = 10_000
MAX_REPLICATIONS = 1_000


class Search(Strict):
    trials: int = Field(30, ge=1, le=MAX_TRIALS)
    replications: int = Field(10, ge=1, le=MAX_REPLICATIONS)  # a trial's runs, on common random numbers
    startup_trials: int = Field(8, ge=1, le=MAX_TRIALS)  # random trials before TPE models the rest


class Selection(Strict):
    candidates: int = Field(4, ge=1, le=100)  # the best plans of the search run again
    replications: int = Field(40, ge=2, le=MAX_REPLICATIONS)  # on fresh seeds
    confidence: float = Field(0.95, gt=0.5, lt=1.0)  # of the Wilson interval of P(target)


class OptimisationFile(Strict):
    config: str = Field(min_length=1, max_length=4096)
    scenario: str = "base"
    months: int | None = Field(None, ge=1, le=MAX_MONTHS)
    seed: Seed | None = None
    target: Target
    objective: Literal["cost", "posts"] = "cost"
    levers: dict[str, Lever] = Field(min_length=1, max_length=20)
    search: Search = Field(default_factory=Search)
    selection: Selection = Field(default_factory=Selection)


class Problem:
    """An optimisation file read and checked against its service: what a study needs."""

    def __init__(self, spec: OptimisationFile, config: Config, source: str, config_path: Path):
        self.spec = spec
        self.config = config  # the scenario's configuration, resolved
        self.source = source
        self.config_path = config_path

    @property
    def levers(self) -> dict[str, Lever]:
        return self.spec.levers

    @property
    def seed(self) -> int:
        return self.config.seed if self.spec.seed is None else self.spec.seed

    @property
    def months(self) -> int:
        return self.spec.months or self.config.months

    def scenario(self, steps: dict[str, int], description: str = "") -> Scenario:
        return plan_scenario(self.levers, steps, description)

    def candidate(self, steps: dict[str, int]) -> Config:
        """The configuration a plan runs: the service with the plan's actions and values."""
        return plan_config(self.config, self.scenario(steps), self.source)

    def with_(self, **changes: Any) -> Problem:
        """The same problem with fields of the file changed (as the command line's flags do), checked again."""
        raw = self.spec.model_dump(mode="json")
        for dotted, value in changes.items():
            if value is None:
                continue
            node = raw
            *parents, leaf = dotted.split(".")
            for key in parents:
                node = node[key]
            node[leaf] = value
        spec = _validated(raw, self.source)
        return check_problem(spec, self.config, self.source, self.config_path)


def plan_config(config: Config, scenario: Scenario, source: str) -> Config:
    """The base with the plan added, validated as a scenario of the file would be."""
    trial = config.model_copy(update={"scenarios": {"plan": scenario}, "scenario": None})
    return resolve_scenario(trial, "plan", source)


def _validated(raw: Any, source: str) -> OptimisationFile:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a YAML mapping of optimisation fields, got {type(raw).__name__}")
    try:
        return OptimisationFile.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise ConfigError(f"{source}: invalid optimisation file\n" + "\n".join(lines)) from None


def load_problem(path: str | Path) -> Problem:
    """The optimisation file at `path`, checked against its service; ConfigError naming the file and field."""
    path = Path(path)
    source = str(path)
    spec = _validated(read_yaml(path), source)
    config_path = (path.parent / spec.config).resolve() if not Path(spec.config).is_absolute() else Path(spec.config)
    if not config_path.is_file():
        raise ConfigError(f"{source}: config: no configuration file at {config_path} (a path relative to this file)")
    config = load_config(config_path)
    return check_problem(spec, config, source, config_path)


def check_problem(spec: OptimisationFile, config: Config, source: str, config_path: Path) -> Problem:
    """Every condition a measure and a year the runs report; every lever's both ends a plan the
    service accepts (the checks of a scenario in the file)."""
    if spec.scenario not in ("base", *config.scenarios):
        raise ConfigError(
            f"{source}: scenario: expected one of {['base', *config.scenarios]} (the scenarios of {config_path}), "
            f"got {spec.scenario!r}"
        )
    config = resolve_scenario(config, spec.scenario, str(config_path)).model_copy(update={"scenarios": {}})
    problem = Problem(spec, config, source, config_path)
    months = problem.months
    first = add_months(config.start_date, config.warm_up_months)
    last = add_months(first, months - 1)
    teams = sorted(config.teams)
    for i, condition in enumerate(spec.target.conditions):
        where = f"{source}: target.conditions[{i}]"
        check_measure(condition.measure, teams, f"{where}.measure", condition.every_month)
        if not first.year <= condition.year <= last.year:
            raise ConfigError(
                f"{where}.year: expected a year the runs report ({first:%B %Y} to {last:%B %Y}), got {condition.year}"
            )
    low = {name: 0 for name in spec.levers}
    for name, lever in spec.levers.items():
        where = f"{source}: levers.{name}"
        if lever.kind == "merge_date" and lever.latest is not None and lever.latest > last:
            raise ConfigError(f"{where}.latest: expected a date within the runs ({last:%B %Y} at the latest)")
        for end in (0, lever.steps):
            steps = {**low, name: end}
            try:
                problem.candidate(steps)
            except ConfigError as exc:
                detail = str(exc).split("\n", 1)[-1].strip()
                raise ConfigError(
                    f"{where}: the plan at {lever.shown(end)} is refused by the configuration: {detail}"
                ) from None
        if lever.date is not None and not config.start_date <= lever.date <= last:
            raise ConfigError(f"{where}.date: expected a date within the runs ({config.start_date} to {last})")
    return problem


def job(problem: Problem) -> dict:
    """What a study's results depend on: a resume with anything different is refused."""
    import json

    from sim.experiments.parallel import fingerprint
    from sim.outputs.provenance import package_version

    spec = problem.spec.model_dump(mode="json")
    spec.pop("config")
    return {
        "optimisation": spec,
        "config": fingerprint(json.dumps(problem.config.model_dump(mode="json"), sort_keys=True)),
        "seed": problem.seed,
        "months": problem.months,
        "sendsim": package_version(),
    }
