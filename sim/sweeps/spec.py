"""A sweep as data: the file that names a service, the levers to vary, the design and the outputs.

    config: ../../configs/devon.yaml     # relative to the sweep file
    scenario: base
    months: 36
    replications: 2                      # replication r of every point runs with the same seed
    design: {method: morris, trajectories: 10, levels: 4}
    parameters:
      workforce.recruitment.fill_probability: {low: 0.2, high: 0.6, unit: share}
      assessment.ep_advice_hours.mean: {dist: triangular, low: 12, mode: 17.4, high: 24, unit: hours}
    outputs:
      - {figure: on_time_rate, year: 2025}

Everything a sweep file says is checked against the service before any run: each parameter is a
number lever of the configuration whose range the schema accepts at both ends, each output a
yearly figure (sim/measures.py) of a year the horizon covers. A bad file is one ConfigError naming
the file and the field.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from sim.config import (
    MAX_MONTHS,
    Config,
    ConfigError,
    Seed,
    SetParameter,
    Strict,
    _describe,
    check_numeric,
    load_config,
)
from sim.config import resolve_scenario as _resolve_scenario
from sim.engine.clock import add_months
from sim.files import read_yaml
from sim.measures import FIGURES

MAX_POINTS = 1_000_000  # runs a sweep file may ask for: beyond this no study finishes
MAX_REPLICATIONS = 1_000


class Parameter(Strict):
    """One lever's range: uniform between low and high, triangular with a mode, or normal."""

    dist: Literal["uniform", "triangular", "normal"] = "uniform"
    unit: str = Field(min_length=1, max_length=100)
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0.0)

    @model_validator(mode="after")
    def _complete(self) -> Parameter:
        needs = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"), "normal": ("mean", "sd")}
        missing = [name for name in needs[self.dist] if getattr(self, name) is None]
        extra = [
            n
            for n in ("low", "high", "mode", "mean", "sd")
            if n not in needs[self.dist] and getattr(self, n) is not None
        ]
        if missing:
            raise ValueError(f"a {self.dist} range needs {', '.join(needs[self.dist])}; missing {', '.join(missing)}")
        if extra:
            raise ValueError(f"a {self.dist} range takes {', '.join(needs[self.dist])}, not {', '.join(extra)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"expected low < high, got low {self.low:g} and high {self.high:g}")
        if (
            self.mode is not None
            and self.low is not None
            and self.high is not None
            and not self.low <= self.mode <= self.high
        ):
            raise ValueError(f"expected low <= mode <= high, got mode {self.mode:g}")
        return self

    @property
    def bounded(self) -> bool:
        return self.dist != "normal"

    def ends(self) -> tuple[float, float]:
        """The values a run may take at the edges of the design: a normal's 0.1% and 99.9% points."""
        if self.dist == "normal":
            assert self.mean is not None and self.sd is not None
            return self.mean - 3.09 * self.sd, self.mean + 3.09 * self.sd
        assert self.low is not None and self.high is not None
        return self.low, self.high


class Sobol(Strict):
    """Saltelli's sampling for Sobol indices: base_samples x (parameters + 2) points (x 2 more
    parameters with second-order indices)."""

    method: Literal["sobol"]
    base_samples: int = Field(ge=2, le=MAX_POINTS)
    second_order: bool = False

    @model_validator(mode="after")
    def _power_of_two(self) -> Sobol:
        if self.base_samples & (self.base_samples - 1):
            raise ValueError(f"base_samples: expected a power of 2 (Sobol sequences), got {self.base_samples}")
        return self


class Morris(Strict):
    """Morris's elementary effects: trajectories x (parameters + 1) points on a grid of levels."""

    method: Literal["morris"]
    trajectories: int = Field(ge=2, le=MAX_POINTS)
    levels: int = Field(4, ge=2, le=100)

    @model_validator(mode="after")
    def _even(self) -> Morris:
        if self.levels % 2:
            raise ValueError(f"levels: expected an even number (Morris's symmetric steps), got {self.levels}")
        return self


class Latin(Strict):
    """A Latin hypercube of `points` points."""

    method: Literal["latin"]
    points: int = Field(ge=2, le=MAX_POINTS)


class Grid(Strict):
    """Every combination of `levels` evenly spaced values of each parameter, ends included."""

    method: Literal["grid"]
    levels: int = Field(ge=2, le=1_000)


Design = Annotated[Sobol | Morris | Latin | Grid, Field(discriminator="method")]


class Output(Strict):
    """A yearly figure of one calendar year: the 2025 on-time rate is {figure: on_time_rate, year: 2025}."""

    figure: str
    year: int = Field(ge=1900, le=2200)

    @property
    def name(self) -> str:
        return f"{self.figure}.{self.year}"


class SweepFile(Strict):
    config: str = Field(min_length=1, max_length=4096)
    scenario: str = "base"
    months: int | None = Field(None, ge=1, le=MAX_MONTHS)
    replications: int = Field(2, ge=1, le=MAX_REPLICATIONS)
    seed: Seed | None = None
    runs_per_task: int = Field(4, ge=1, le=10_000)
    design: Design
    parameters: dict[str, Parameter] = Field(min_length=1, max_length=100)
    outputs: list[Output] = Field(min_length=1, max_length=100)
    monthly: bool = False  # also keep every run's monthly metrics (monthly.parquet): large for big sweeps


class Sweep:
    """A sweep file read and checked against its service: everything a run of it needs."""

    def __init__(self, spec: SweepFile, config: Config, source: str):
        self.spec = spec
        self.config = config  # the scenario's configuration, resolved
        self.source = source

    @property
    def parameters(self) -> list[str]:
        return list(self.spec.parameters)

    @property
    def outputs(self) -> list[str]:
        return [o.name for o in self.spec.outputs]

    @property
    def seed(self) -> int:
        return self.config.seed if self.spec.seed is None else self.spec.seed

    @property
    def months(self) -> int:
        return self.spec.months or self.config.months

    @cached_property
    def integer_parameters(self) -> frozenset[str]:
        """Levers the schema holds as whole numbers (a cap of FTE is a float; a count is not)."""
        from sim.config import _lever

        return frozenset(
            p for p in self.parameters if isinstance(_lever(self.config, p.split("."), p, self.source), int)
        )


def _reported(config: Config, months: int) -> tuple[dt.date, dt.date]:
    """The first and last months a run reports (after its warm-up)."""
    first = add_months(config.start_date, config.warm_up_months)
    return first, add_months(first, months - 1)


def load_sweep(path: str | Path) -> Sweep:
    """The sweep file at `path`, checked against its service; ConfigError naming the file and field."""
    path = Path(path)
    source = str(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a YAML mapping of sweep fields, got {type(raw).__name__}")
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise ConfigError(f"{source}: invalid sweep file\n" + "\n".join(lines)) from None
    config_path = (path.parent / spec.config).resolve() if not Path(spec.config).is_absolute() else Path(spec.config)
    if not config_path.is_file():
        raise ConfigError(
            f"{source}: config: no configuration file at {config_path} (a path relative to the sweep file)"
        )
    config = load_config(config_path)
    if spec.scenario not in ("base", *config.scenarios):
        raise ConfigError(
            f"{source}: scenario: expected one of {['base', *config.scenarios]} (the scenarios of {config_path}), "
            f"got {spec.scenario!r}"
        )
    config = _resolve_scenario(config, spec.scenario, str(config_path))
    return check_sweep(spec, config, source)


def check_sweep(spec: SweepFile, config: Config, source: str) -> Sweep:
    """Every parameter a number lever taking both ends of its range; every output a yearly figure
    of a simulated year; a design the parameters can be sampled by; a size that can finish."""
    sweep = Sweep(spec, config, source)
    for dotted, parameter in spec.parameters.items():
        where = f"{source}: parameters.{dotted}"
        if spec.design.method in ("morris", "grid") and not parameter.bounded:
            raise ConfigError(f"{where}: a {spec.design.method} design needs a low and a high; a normal has no ends")
        for value in parameter.ends():
            try:
                check_numeric(config, dotted, value, where)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
    _check_not_set_by_the_configuration(spec, config, source)
    first, last = _reported(config, sweep.months)
    yearly = {f.id for f in FIGURES.values() if not f.per_team}
    for i, output in enumerate(spec.outputs):
        where = f"{source}: outputs[{i}]"
        if output.figure not in yearly:
            raise ConfigError(
                f"{where}.figure: expected a yearly figure, one of {sorted(yearly)}, got {output.figure!r}"
            )
        if not first.year <= output.year <= last.year:
            raise ConfigError(
                f"{where}.year: expected a year the sweep simulates ({first:%B %Y} to {last:%B %Y}), got {output.year}"
            )
    if len(set(sweep.outputs)) != len(sweep.outputs):
        raise ConfigError(f"{source}: outputs: each figure and year once; {sweep.outputs} repeats one")
    runs = point_count(spec) * spec.replications
    if runs > MAX_POINTS:
        raise ConfigError(
            f"{source}: design: {runs:,} runs; expected at most {MAX_POINTS:,} (fewer samples or replications)"
        )
    return sweep


def _check_not_set_by_the_configuration(spec: SweepFile, config: Config, source: str) -> None:
    """A lever the configuration itself moves during the run (a calibrated parameter each
    replication draws, or a dated `set`) would not keep the swept value: refused, not ignored."""
    drawn = set(config.uncertainty.parameters) if config.uncertainty is not None else set()
    dated: dict[str, dt.date] = {}
    for action in config.actions:
        if isinstance(action, SetParameter):
            dated.setdefault(action.parameter, action.date)
    for dotted in spec.parameters:
        where = f"{source}: parameters.{dotted}"
        if dotted in drawn:
            raise ConfigError(
                f"{where}: the configuration's calibrated uncertainty draws this parameter for every replication, "
                "so a swept value would be replaced; expected a lever the configuration leaves as the file sets it"
            )
        if dotted in dated:
            raise ConfigError(
                f"{where}: a dated action of the configuration sets this parameter on {dated[dotted]:%-d %B %Y}, "
                "so a swept value would hold only until then; expected a lever no action sets"
            )


def point_count(spec: SweepFile) -> int:
    """The number of points the design gives, before any is drawn."""
    d = len(spec.parameters)
    design = spec.design
    if isinstance(design, Sobol):
        return design.base_samples * (2 * d + 2 if design.second_order else d + 2)
    if isinstance(design, Morris):
        return design.trajectories * (d + 1)
    if isinstance(design, Latin):
        return design.points
    return min(design.levels**d, MAX_POINTS + 1) if d * math.log10(design.levels) < 7 else MAX_POINTS + 1
