"""Calibration: fit an authority's effective capacity, year by year, and the service's behaviour
to its published history.

The method of simulated moments, on common random numbers. What is observed:

- each published year before the configuration's start (SEN2: requests, refusals, plans issued,
  the share issued within 20 weeks) is a **window**: the model runs that year alone, from the
  open assessments estimated at its start (sim/data/estimate.py), with the year's own requests,
  refusals and no-plan share, and is compared on the plans it issued and its on-time rate;
- figures after the start (a month, a year: the task group seed's Table 1a, say) are compared with
  the configuration's own run from its start.

What is fitted: the effective capacity of each window year (`assessment.effort_scale`, the hours
of every assessment step relative to the configuration's: 1.3 means assessments take 30% more of
the staff's time than configured, or the staff have 30% less of it), and shared parameters of
the service's behaviour (default: the pipeline it aims for, `workforce.capacity_response.
target_share`). The run from the start continues the last year's capacity.

    J(θ, c) = Σ_k ((m_k(θ, c) - y_k) / s_k)²,   s_k² = v_k (1 + 1/R)

with m_k the mean of R replications, v_k the variance of the observation (Poisson for counts,
binomial for rates, floored). Given θ the windows are independent, so each year's capacity is a
one-dimensional fit (bounded Brent on log c) and θ an outer fit (bounded Brent in one dimension,
Nelder-Mead in more), all on scipy. Parameters are fitted on the scale where they are unbounded
(log for positive ones, logit for shares); the covariance is (GᵀWG)⁻¹ with G the Jacobian of the
moments there, by central differences on the same random numbers; intervals are mapped back to
the natural scale, so a positive parameter's interval stays positive. J is tested against χ² on
(moments - parameters) degrees of freedom: a fit with p < 0.05 is reported as rejected.

The calibrated configuration carries the estimates, and an `uncertainty` block from which every
replication of a forecast draws its parameters: the fitted behaviour, and the capacity of the
last year widened by how much an authority's capacity moves from one year to the next (its own
history's, pooled with DEFAULT_CAPACITY_DRIFT).

A history CSV (`--history`) has a `period` column — a year (2021) or a month (2023-01) — and any
of the MEASURES below; for a rate, the plans it was computed over go in `plans_issued`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import optimize, stats

from sim.config import (
    CalibrationRecord,
    Config,
    ConfigError,
    InputUncertainty,
    Scale,
    dump_config,
    parse_config,
    replaced,
)
from sim.data.estimate import open_assessments, withdrawal_share
from sim.experiments.parallel import process_pool
from sim.experiments.runner import run, simulate
from sim.measures import over_a_period
from sim.model.uncertainty import from_free, to_free


def _nanmean(values, axis=None):
    """The mean of what is not missing; missing (quietly) where nothing is: a year with no plan
    issued has no on-time rate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def _nanvar(values, axis=None, ddof=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanvar(values, axis=axis, ddof=ddof)


# the moments a calibration can fit -> (how a period aggregates the monthly metric, the metric),
# as sim/measures.py declares them
MOMENTS = (
    "plans_issued", "requests_received", "refusals", "assessments_ended_no_plan", "plans_in_force",
    "assessments_open_over_30_weeks", "assessments_open_over_52_weeks", "on_time_rate",
)  # fmt: skip
MEASURES = {name: over_a_period(name) for name in MOMENTS}
CAPACITY = "assessment.effort_scale"
FAST_TRACK = "policy.fast_track_share"
# fitted for each published year: (path, scale, low, high)
YEARLY: tuple[tuple[str, Scale, float, float], ...] = (
    (CAPACITY, "log", 0.1, 10.0),
    (FAST_TRACK, "logit", 0.002, 0.998),
)
# How far each yearly parameter moves from one year to the next (standard deviation on its
# fitting scale): the median over the authorities' fitted paths of 2019-2021 (BENCHMARKS.md and
# experiments/results/drift.md, with data to 2021 only). Pooled with an authority's own path as
# DRIFT_PRIOR_YEARS years' worth of evidence.
DEFAULT_DRIFT = {CAPACITY: 0.25, FAST_TRACK: 0.8}
DRIFT_PRIOR_YEARS = 4
REJECT_BELOW = 0.05
MAX_FREE_SD = 2.0
VARIANCE_REPS = 8  # replications at the estimate from which each observation's variance is read
WINDOW_XATOL = 0.02  # a year's parameters are fitted to about 2% on their fitting scale
WINDOW_MAX_EVALUATIONS = 30
WINDOW_COORDINATE_STEPS = 10  # each one-parameter search before the simplex
WINDOW_COORDINATE_GAIN = 1.0  # the least fall in J (one figure's z², on common random numbers) it moves for


class CalibrationError(ConfigError):
    """A history or parameter list that cannot be used; the message names what is wrong."""


@dataclass
class Parameter:
    path: str
    start: float
    low: float
    high: float
    scale: Scale

    def to_free(self, value: float) -> float:
        value = min(max(value, self.low), self.high)
        if self.scale == "logit":
            value = min(max(value, 1e-6), 1 - 1e-6)
        return to_free(value, self.scale)

    def from_free(self, z: float) -> float:
        return min(max(from_free(z, self.scale), self.low), self.high)


@dataclass
class Window:
    """One published year before the start, simulated alone from the state estimated at its start."""

    year: int
    config: Config
    observed: dict[str, float]  # plans_issued, and on_time_rate where published
    n_plans: float


@dataclass
class Calibration:
    years: list[int]  # the window years
    yearly: list[list[float]]  # each year's fitted values of YEARLY
    yearly_parameters: list[Parameter]
    parameters: list[Parameter]  # the shared behaviour
    estimates: np.ndarray  # of the shared behaviour
    covariance: np.ndarray  # fitting scale, in the order of `columns`
    columns: list[tuple[str, int | None, Parameter]]  # ("y", window, parameter) or ("s", None, parameter)
    fit: pd.DataFrame  # per moment: period, measure, observed, simulated, standard error, z
    objective: float
    degrees_of_freedom: int  # 0 or less: exactly identified, no test of fit
    p_value: float
    runs: int
    seconds: float
    drift: dict[str, float]
    config: Config
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return self.degrees_of_freedom > 0 and self.p_value < REJECT_BELOW

    def verdict(self) -> str:
        # the fit's rows are numbered: idxmax is a row number (pandas-stubs type it only as hashable)
        worst = self.fit.loc[cast(int, self.fit["z"].abs().idxmax())] if self.fit["z"].notna().any() else None
        detail = (
            (
                f"; the worst figure is {worst['measure']} in {worst['period']}: simulated {worst['simulated']:.3g} "
                f"against {worst['observed']:.3g} (z = {worst['z']:+.1f})"
            )
            if worst is not None
            else ""
        )
        if self.degrees_of_freedom <= 0:
            return (
                "No test of fit: each year's capacity and fast-track share are fitted to that year's plans issued "
                f"and on-time rate, so the figures are matched by construction (J = {self.objective:.1f}){detail}."
            )
        where = f"J = {self.objective:.1f} on {self.degrees_of_freedom} degrees of freedom, p = {self.p_value:.3f}"
        if self.rejected:
            return (
                f"FIT REJECTED ({where}): the model does not reproduce this history within its noise{detail}. "
                "Read its forecasts as a what-if, not as a calibrated forecast."
            )
        return f"Fit accepted ({where}): the history is within the model's noise{detail}."

    def table(self) -> pd.DataFrame:
        """Every fitted parameter with its estimate and 95% interval on the natural scale."""
        se = np.sqrt(np.clip(np.diag(self.covariance), 0, None))
        rows = []
        for c, (kind, i, p) in enumerate(self.columns):
            if kind == "y":
                assert i is not None  # a yearly parameter's column names its window
                value = self.yearly[i][[q.path for q in self.yearly_parameters].index(p.path)]
                name = f"{p.path} ({self.years[i]})"
            else:
                value = float(self.estimates[[q.path for q in self.parameters].index(p.path)])
                name = p.path
            z, s = p.to_free(value), se[c]
            slope = value if p.scale == "log" else value * (1 - value) if p.scale == "logit" else 1.0
            rows.append(
                {
                    "parameter": name,
                    "start": p.start,
                    "estimate": value,
                    "standard_error": s * slope,
                    "ci_low": p.from_free(z - 1.96 * s) if s > 0 else np.nan,
                    "ci_high": p.from_free(z + 1.96 * s) if s > 0 else np.nan,
                }
            )
        return pd.DataFrame(rows)


# --- history -------------------------------------------------------------------------------------


def config_history_rows(config: Config) -> pd.DataFrame:
    """The `history:` years of a configuration as tidy observations."""
    records = []
    for year, figures in sorted(config.history.items()):
        row: dict[str, Any] = {"period": str(year)}
        for name in ("requests_received", "refusals", "assessments_ended_no_plan", "plans_issued"):
            row[name] = getattr(figures, name)
        issued, within = figures.plans_issued, figures.plans_issued_within_20_weeks
        row["on_time_rate"] = within / issued if issued and within is not None else None
        later = config.history.get(year + 1)
        row["plans_in_force"] = later.plans_in_force_january if later is not None else None
        if year + 1 == config.start_date.year and row["plans_in_force"] is None:
            row["plans_in_force"] = config.initial_state.plans_in_force  # the census the start is drawn from
        records.append(row)
    if not records:
        return pd.DataFrame(columns=["period_start", "period_end", "measure", "observed", "n"])
    return history_rows(pd.DataFrame(records), "configuration history")


def sen2_history(h: pd.DataFrame, years) -> pd.DataFrame:
    """An authority's SEN2 figures (`sim.data.sen2.history`) as a calibration history CSV table."""
    rows = []
    for year in years:
        if year not in h.index:
            continue
        row = {
            "period": str(year),
            "requests_received": h.loc[year, "requests"],
            "refusals": h.loc[year, "decided_not_to_assess"],
            "assessments_ended_no_plan": h.loc[year, "no_plan"],
            "plans_issued": h.loc[year, "plans_issued"],
            "on_time_rate": h.loc[year, "on_time_rate"],
            # the stock at a year's end is the next January's census
            "plans_in_force": h["plans_in_force_january"].get(year + 1, np.nan),
        }
        if any(not pd.isna(v) for k, v in row.items() if k != "period"):
            rows.append(row)
    columns = [
        "period",
        "requests_received",
        "refusals",
        "assessments_ended_no_plan",
        "plans_issued",
        "on_time_rate",
        "plans_in_force",
    ]
    return pd.DataFrame(rows, columns=columns)


def history_rows(table: pd.DataFrame, source: str = "<history>") -> pd.DataFrame:
    """A history table (period + measure columns) as tidy observations."""
    if "period" not in table.columns:
        raise CalibrationError(f"{source}: expected a column 'period' (a year like 2021 or a month like 2023-01)")
    known = [c for c in table.columns if c in MEASURES]
    unknown = [c for c in table.columns if c not in MEASURES and c != "period"]
    if not known:
        raise CalibrationError(f"{source}: expected at least one of {sorted(MEASURES)}")
    if unknown:
        raise CalibrationError(f"{source}: unknown column(s) {unknown}; expected {sorted(MEASURES)}")
    rows = []
    for line, record in enumerate(table.to_dict("records"), start=2):
        start, end = _period(str(record["period"]), source, line)
        for measure in known:
            value = record[measure]
            if value is None or pd.isna(value):
                continue
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise CalibrationError(f"{source}, line {line}: {measure} {value!r}: expected a number") from None
            if not math.isfinite(value) or value < 0 or (measure == "on_time_rate" and value > 1):
                expected = "a share from 0 to 1" if measure == "on_time_rate" else "a count of 0 or more"
                raise CalibrationError(f"{source}, line {line}: {measure} {value!r}: expected {expected}")
            n = record.get("plans_issued") if measure == "on_time_rate" else None
            rows.append(
                {
                    "period_start": start,
                    "period_end": end,
                    "measure": measure,
                    "observed": value,
                    "n": float(n) if n is not None and not pd.isna(n) else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=["period_start", "period_end", "measure", "observed", "n"])


def read_history(path: str | Path) -> pd.DataFrame:
    """A history CSV as tidy rows: period_start, period_end, measure, observed, n (for rates)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype={"period": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"{path}: cannot read the history ({exc})") from None
    return history_rows(frame, str(path))


def _period(text: str, path: str, line: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    text = text.strip()
    if re.fullmatch(r"\d{4}", text):
        start = pd.Timestamp(f"{text}-01-01")
        return start, start + pd.DateOffset(years=1)
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        start = pd.Timestamp(f"{text}-01")
        return start, start + pd.DateOffset(months=1)
    raise CalibrationError(f"{path}, line {line}: period {text!r}: expected a year (2021) or a month (2023-01)")


def simulated_moments(metrics: pd.DataFrame, history: pd.DataFrame) -> np.ndarray:
    """The model's value of each observed moment, from one run's tidy metrics."""
    wide = metrics.pivot(index="month", columns="metric", values="value")
    out = np.empty(len(history))
    row: Any  # an observation: pandas-stubs type its fields only as "some scalar"
    for i, row in enumerate(history.itertuples()):
        months = wide[(wide.index >= row.period_start) & (wide.index < row.period_end)]
        how, metric = MEASURES[row.measure]
        if months.empty:
            out[i] = np.nan
        elif how == "sum":
            out[i] = months[metric].sum()
        elif how == "last":
            out[i] = months[metric].iloc[-1]
        else:
            assert isinstance(metric, tuple)  # a rate: (numerator, denominator)
            num, den = metric
            total = months[den].sum()
            out[i] = months[num].sum() / total if total else np.nan
    return out


def observation_variance(measure: str, observed: float, n: float) -> float:
    """Variance of an observation as one draw of the process: Poisson for counts, binomial for a
    rate over its plans; floored so that no single small figure dominates the fit."""
    if measure == "on_time_rate":
        n = n if n == n else 100.0
        p = min(max(observed, 0.02), 0.98)
        return p * (1 - p) / max(n, 1.0)
    return max(observed, 25.0)


# --- the windows ---------------------------------------------------------------------------------


def _teams_share_plans(config: Config) -> bool:
    return config.team_for("assessments") == config.team_for("plans")


def build_windows(config: Config, history: pd.DataFrame) -> list[Window]:
    """One window for each published year before the start with requests and plans issued."""
    yearly = history[(history["period_end"] - history["period_start"]).dt.days > 300]
    yearly = yearly[yearly["period_start"] < pd.Timestamp(config.start_date)]
    # a group's key is the period's start (pandas-stubs type it only as a scalar)
    by_year = {
        int(cast(pd.Timestamp, ts).year): g.set_index("measure")["observed"].to_dict()
        for ts, g in yearly.groupby("period_start")
    }
    windows = []
    base = config.model_dump(mode="json")
    for key in ("actions", "scenarios", "history"):
        base[key] = [] if key == "actions" else {}
    base.update(scenario=None, uncertainty=None, calibration=None, warm_up_months=0, months=12)
    keep_plans = _teams_share_plans(config)
    for year, figures in sorted(by_year.items()):
        requests, issued = figures.get("requests_received"), figures.get("plans_issued")
        if not requests or issued is None or year >= config.start_date.year:
            continue
        refusals = figures.get("refusals", requests * config.assessment.refusal_probability)
        no_plan = figures.get("assessments_ended_no_plan")
        # The year starts from the open assessments its own flows imply (Little's law, as if the
        # year were steady): the forecast starts from the state the last year's flows imply, so a
        # year's fitted capacity and fast-track share, run again from there, give that year back.
        state_from = figures
        raw = {**base, "start_date": f"{year}-01-01"}
        raw["demand"] = {**base["demand"], "requests_per_month": requests / 12.0, "growth_per_year": 0.0, "history": {}}
        assessment = dict(base["assessment"])
        assessment["refusal_probability"] = min(refusals / requests, 1.0)
        if no_plan is not None and issued + no_plan > 0:
            assessment["no_plan_probability"] = no_plan / (issued + no_plan)
        # requests neither refused nor assessed in the year (withdrawn, or never decided) do not
        # reach the pipeline: the flows through it are the assessments completed
        assessment["withdrawal_probability"] = withdrawal_share(requests, refusals, issued + (no_plan or 0.0))
        raw["assessment"] = assessment
        census = figures.get("plans_in_force_january")
        raw["initial_state"] = {
            "plans_in_force": int(census) if keep_plans and census else 0,
            "open_assessments": open_assessments(
                state_from["requests_received"],
                state_from.get("refusals", state_from["requests_received"] * assessment["refusal_probability"]),
                state_from.get("on_time_rate", 0.5),
                issued + no_plan if no_plan is not None else None,
            ),
        }
        if not keep_plans:
            # reviews are another team's work: leaving them out changes no assessment and saves
            # most of the events
            raw["plans"] = {**base["plans"], "transfers_in_rate_per_year": 0.0}
        observed = {"plans_issued": float(issued)}
        if "on_time_rate" in figures:
            observed["on_time_rate"] = float(figures["on_time_rate"])
        window_config = parse_config(raw, f"calibration window {year}")
        windows.append(Window(year, window_config, observed, float(issued)))
    return windows


def _trial(config: Config, values: dict[str, float]) -> Config:
    trial = config
    for path, value in values.items():
        trial = replaced(trial, path, float(value))
    return trial


with_values = _trial


def _window_moments(config: Config, values: dict[str, float], seeds: list[int]) -> np.ndarray:
    """Plans issued and on-time rate of each replication of a window: shape (reps, 2)."""
    trial = _trial(config, values)
    out = np.empty((len(seeds), 2))
    for r, seed in enumerate(seeds):
        model = simulate(trial, seed, 12)
        issued = model.metrics.total("plans_issued")
        out[r] = issued, (model.metrics.total("plans_issued_within_20_weeks") / issued if issued else np.nan)
    return out


def _window_task(args) -> np.ndarray:
    return _window_moments(*args)


def _window_j(moments: np.ndarray, observed: dict[str, float], variance: dict[str, float], factor: float) -> float:
    mean = _nanmean(moments, axis=0)
    j = 0.0
    if "plans_issued" in observed:
        j += (mean[0] - observed["plans_issued"]) ** 2 / (variance["plans_issued"] * factor)
    if "on_time_rate" in observed:
        rate = mean[1] if not np.isnan(mean[1]) else 0.0
        j += (rate - observed["on_time_rate"]) ** 2 / (variance["on_time_rate"] * factor)
    return float(j)


def _yearly_parameters(config: Config) -> list[Parameter]:
    return [Parameter(path, float(_get(config, path)), low, high, scale) for path, scale, low, high in YEARLY]


def _fit_window(args) -> tuple[list[float], float, int]:
    """One year's capacity and fast-track share, given the shared values, on their fitting scales
    (scipy). The plans a year issues depend mostly on its capacity and its on-time rate on its
    fast-track share, so each is searched in turn (bounded Brent, twice round), the capacity for
    the year's plans and the share for its on-time rate, which crosses the long valley between
    them that a simplex alone creeps along; Nelder-Mead then polishes both on both figures.

    Each search on its own figure matters: with the share held where it starts, the on-time rate
    alone rewards spare capacity, and a search on both figures stops there, in a local minimum
    that issues far more plans than the year did (Devon 2021: 1,042 against 856)."""
    config, observed, variance, factor, shared, seeds, start = args
    yearly = _yearly_parameters(config)
    if "on_time_rate" not in observed:
        yearly = yearly[:1]  # no on-time rate published: the fast-track share stays as configured
    runs = [0]

    def values_at(z) -> dict[str, float]:
        return {**shared, **{p.path: p.from_free(zi) for p, zi in zip(yearly, z)}}

    def j(z, figures=observed) -> float:
        runs[0] += len(seeds)
        return _window_j(_window_moments(config, values_at(z), seeds), figures, variance, factor)

    z0 = np.array([p.to_free(start.get(p.path, p.start)) for p in yearly])
    own_figure = {CAPACITY: "plans_issued", FAST_TRACK: "on_time_rate"}
    for _ in range(2 if len(yearly) > 1 else 1):
        for k, p in enumerate(yearly):
            figure = {own_figure[p.path]: observed[own_figure[p.path]]} if len(yearly) > 1 else observed

            def along(zk, k=k, figure=figure):
                z = z0.copy()
                z[k] = zk
                return j(z, figure)

            found = optimize.minimize_scalar(
                along,
                method="bounded",
                bounds=(p.to_free(p.low), p.to_free(p.high)),
                options={"xatol": 0.05, "maxiter": WINDOW_COORDINATE_STEPS},
            )
            # a figure that barely sees its parameter (the on-time rate of a service with capacity
            # to spare, whatever its fast-track share) would let the search wander on noise alone
            if found.fun < along(z0[k]) - WINDOW_COORDINATE_GAIN:
                z0[k] = found.x
    simplex = np.vstack([z0] + [z0 + 0.4 * np.eye(len(z0))[i] for i in range(len(z0))])
    result = optimize.minimize(
        j,
        z0,
        method="Nelder-Mead",
        options={"initial_simplex": simplex, "xatol": WINDOW_XATOL, "fatol": 0.05, "maxfev": WINDOW_MAX_EVALUATIONS},
    )
    best = values_at(result.x)
    return [best.get(path, float(_get(config, path))) for path, *_ in YEARLY], float(result.fun), runs[0]


# --- the fit -------------------------------------------------------------------------------------


def parameter(config: Config, path: str, low: float | None = None, high: float | None = None) -> Parameter:
    """A shared parameter to fit, with the scale its kind calls for."""
    from sim.config import check_numeric

    try:
        value = _get(config, path)
        check_numeric(config, path, value, "calibration parameter")
    except (ValueError, AttributeError, KeyError, TypeError) as exc:
        raise CalibrationError(f"calibration parameter {path!r}: {exc}") from None
    start = float(value)
    leaf = path.rsplit(".", 1)[-1]
    if "probability" in leaf or (leaf.endswith("_share") and leaf not in ("target_share",) and "max_" not in leaf):
        return Parameter(path, start, 0.0 if low is None else low, 1.0 if high is None else high, "logit")
    if start > 0:
        return Parameter(path, start, start / 10 if low is None else low, start * 10 if high is None else high, "log")
    return Parameter(path, start, -10.0 if low is None else low, 10.0 if high is None else high, "linear")


def _get(config: Config, path: str) -> Any:
    node: Any = config
    for key in path.split("."):
        node = node[key] if isinstance(node, dict) else getattr(node, key)
    return node


def _seed(seed: int, year: int, rep: int) -> int:
    return int(np.random.SeedSequence(seed, spawn_key=(year, rep)).generate_state(1, dtype=np.uint32)[0])


class _Runs:
    """Runs the windows and the run from the start for given parameters; counts what it does."""

    def __init__(self, config: Config, windows: list[Window], forward: pd.DataFrame, reps: int, seed: int, jobs: int):
        self.config, self.windows, self.forward, self.reps, self.seed = config, windows, forward, reps, seed
        self.window_seeds = [[_seed(seed, w.year, r) for r in range(reps)] for w in windows]
        self.forward_seeds = [_seed(seed, 0, r) for r in range(reps)]
        self.pool = process_pool(jobs) if jobs > 1 and len(windows) > 1 else None
        self.runs = 0
        self.progress: Callable[[int], None] | None = None
        self.forward_months = 0
        if not forward.empty:
            end, start = forward["period_end"].max(), config.start_date
            self.forward_months = (end.year - start.year) * 12 + end.month - start.month

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def _map(self, function, args):
        return list(self.pool.map(function, args)) if self.pool and len(args) > 1 else [function(a) for a in args]

    def _count(self, runs: int) -> None:
        self.runs += runs
        if self.progress:
            self.progress(runs)

    def fit_windows(self, shared, starts, observed, variance, factor):
        args = [
            (w.config, observed[i], variance[i], factor, shared, self.window_seeds[i], starts[i])
            for i, w in enumerate(self.windows)
        ]
        results = self._map(_fit_window, args)
        self._count(sum(r[2] for r in results))
        return [(r[0], r[1]) for r in results]

    def window_moments(
        self, which: list[int], yearly: list[list[float]], shared: dict[str, float], reps: int | None = None
    ) -> dict[int, np.ndarray]:
        """Each chosen window's moments by replication; `reps` beyond the fit's adds seeds."""
        reps = reps or self.reps
        args = [
            (
                self.windows[i].config,
                {**shared, **dict(zip((y[0] for y in YEARLY), yearly[i]))},
                self.window_seeds[i] + [_seed(self.seed, self.windows[i].year, r) for r in range(self.reps, reps)],
            )
            for i in which
        ]
        results = self._map(_window_task, args)
        self._count(len(args) * reps)
        return dict(zip(which, results))

    def forward_moments(self, values: dict[str, float], reps: int | None = None) -> np.ndarray:
        reps = reps or self.reps
        seeds = self.forward_seeds + [_seed(self.seed, 0, r) for r in range(self.reps, reps)]
        trial = _trial(self.config, values)
        out = np.array(
            [
                simulated_moments(run(trial, seed=s, months=self.forward_months, cases=False).metrics, self.forward)
                for s in seeds
            ]
        )
        self._count(reps)
        return out


def calibrate(
    config: Config,
    history: pd.DataFrame | None = None,
    paths: list[str] | None = None,
    reps: int = 3,
    seed: int | None = None,
    max_evaluations: int = 20,
    jobs: int = 1,
    drift_prior: dict[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Calibration:
    """Fit each published year's capacity and fast-track share, and the shared `paths`.

    `history` defaults to the configuration's own `history:`; `paths` (default none) are shared
    parameters of the service's behaviour fitted across the years, at most `max_evaluations`
    outer steps; `progress(runs_done, runs_expected)` is told as it goes.
    """
    t0 = time.perf_counter()
    # A calibrated configuration's replications draw their parameters from its `uncertainty:`,
    # which would hide the values under trial: a fit starts from the values alone.
    config = config.model_copy(update={"uncertainty": None, "calibration": None})
    history = config_history_rows(config) if history is None else history
    if history.empty:
        raise CalibrationError(
            "the history has no observations (the configuration has no `history:` and no --history file was given)"
        )
    seed = config.seed if seed is None else seed
    drift_prior = {**DEFAULT_DRIFT, **(drift_prior or {})}
    windows = build_windows(config, history)
    forward = history[history["period_start"] >= pd.Timestamp(config.start_date)]
    forward = forward[forward["measure"].isin(MEASURES)].reset_index(drop=True)
    if not windows and forward.empty:
        raise CalibrationError(
            "the history has no year before the start with requests and plans issued, and no "
            "figures after the start: nothing to fit"
        )
    yearly_paths = [y[0] for y in YEARLY]
    paths = [p for p in (paths or []) if not (windows and p in yearly_paths)]
    if not windows and not paths:
        paths = list(yearly_paths)  # no windows: the run from the start fits them as ordinary parameters
    shared_params = [parameter(config, p) for p in paths]
    runs = _Runs(config, windows, forward, reps, seed, jobs)
    n_w, n_s, n_y = len(windows), len(shared_params), len(YEARLY)
    per_fit = reps * ((WINDOW_MAX_EVALUATIONS + 4 * WINDOW_COORDINATE_STEPS) * n_w + (1 if not forward.empty else 0))
    expected = per_fit * (max_evaluations if shared_params else 1) + reps * (n_w + 1) * (1 + 2 * (n_y + n_s))
    done = [0]
    if progress:

        def advance(n: int) -> None:
            done[0] += n
            progress(done[0], max(expected, done[0]))

        runs.progress = advance

    observed = [w.observed for w in windows]
    variance = [{m: observation_variance(m, v, w.n_plans) for m, v in w.observed.items()} for w in windows]
    factor = 1.0 + 1.0 / reps
    fwd_obs = forward["observed"].to_numpy(float)
    observations: Iterator[Any] = forward.itertuples()  # pandas-stubs type a row's fields only as "some scalar"
    fwd_var = np.array([observation_variance(r.measure, r.observed, r.n) for r in observations])
    starts = [{p: float(_get(config, p)) for p in yearly_paths} for _ in windows]
    yearly_specs = _yearly_parameters(config)
    n_rows = n_w + (1 if windows and not forward.empty else 0)  # the run from the start fits its own

    def forward_values(yearly, shared):
        return {**shared, **(dict(zip(yearly_paths, yearly[-1])) if windows else {})}

    def forward_j(values: dict[str, float]) -> float:
        mean = _nanmean(runs.forward_moments(values), axis=0)
        return float(np.nansum((mean - fwd_obs) ** 2 / (fwd_var * factor)))

    def fit_given(shared: dict[str, float]) -> tuple[float, list[list[float]]]:
        """Each window year's parameters given the shared ones; then, with figures after the
        start, the run from the start gets parameters of its own, from the last year's."""
        fits = runs.fit_windows(shared, starts, observed, variance, factor)
        yearly = [f[0] for f in fits]
        total = sum(f[1] for f in fits)
        if not forward.empty and windows:
            z0 = np.array([p.to_free(v) for p, v in zip(yearly_specs, yearly[-1])])
            simplex = np.vstack([z0] + [z0 + 0.4 * np.eye(len(z0))[i] for i in range(len(z0))])
            found = optimize.minimize(
                lambda z: forward_j({**shared, **{p.path: p.from_free(zi) for p, zi in zip(yearly_specs, z)}}),
                z0,
                method="Nelder-Mead",
                options={
                    "initial_simplex": simplex,
                    "xatol": WINDOW_XATOL,
                    "fatol": 0.05,
                    "maxfev": WINDOW_MAX_EVALUATIONS,
                },
            )
            yearly.append([p.from_free(zi) for p, zi in zip(yearly_specs, found.x)])
            total += float(found.fun)
        elif not forward.empty:
            total += forward_j(forward_values(yearly, shared))
        return total, yearly

    def fit_all() -> dict[str, float]:
        if shared_params:

            def outer(z) -> float:
                return fit_given({p.path: p.from_free(zi) for p, zi in zip(shared_params, np.atleast_1d(z))})[0]

            if n_s == 1:
                p = shared_params[0]
                found = optimize.minimize_scalar(
                    outer,
                    bounds=(p.to_free(p.low), p.to_free(p.high)),
                    method="bounded",
                    options={"xatol": 0.02, "maxiter": max_evaluations},
                )
                z_hat = np.array([found.x])
            else:
                z0 = np.array([p.to_free(p.start) for p in shared_params])
                found = optimize.minimize(
                    outer, z0, method="Nelder-Mead", options={"maxfev": max_evaluations, "xatol": 0.02, "fatol": 0.05}
                )
                z_hat = np.asarray(found.x)
        else:
            z_hat = np.empty(0)
        return {p.path: p.from_free(zi) for p, zi in zip(shared_params, z_hat)}

    # Round 1 weighs each figure by its Poisson or binomial variance. A year's output varies far
    # more than that (turnover, recruitment, chance), so round 2 weighs it by the variance of
    # replications at round 1's estimate, and starts from there.
    shared = fit_all()
    _, yearly = fit_given(shared)
    i: int | None  # a window's index; None in the column of a shared parameter (`columns` below)
    if n_w:
        spread = runs.window_moments(list(range(n_w)), yearly, shared, VARIANCE_REPS)
        for i in range(n_w):
            for col, m in enumerate(("plans_issued", "on_time_rate")):
                if m in variance[i]:
                    draws = spread[i][:, col]
                    if np.sum(~np.isnan(draws)) > 1:
                        variance[i][m] = max(variance[i][m], float(_nanvar(draws, ddof=1)))
        starts[:] = [dict(zip(yearly_paths, v)) for v in yearly[:n_w]]
    if not forward.empty:
        draws = runs.forward_moments(forward_values(yearly, shared), VARIANCE_REPS)
        fwd_var = np.maximum(fwd_var, np.nan_to_num(_nanvar(draws, axis=0, ddof=1)))
    shared = fit_all()
    _, yearly = fit_given(shared)

    # --- the moments at the estimate, and their Jacobian on the fitting scale -------------------
    labels: list[tuple[str, str, tuple]] = []
    obs_list, var_list = [], []
    for i, w in enumerate(windows):
        for col, m in enumerate(("plans_issued", "on_time_rate")):
            if m in w.observed:
                labels.append((str(w.year), m, ("w", i, col)))
                obs_list.append(w.observed[m])
                var_list.append(variance[i][m] * factor)
    r: Any  # an observation after the windows: pandas-stubs type its fields only as "some scalar"
    for k, r in enumerate(forward.itertuples()):
        period = f"{r.period_start:%Y}" if (r.period_end - r.period_start).days > 31 else f"{r.period_start:%b %Y}"
        labels.append((period, r.measure, ("f", k)))
        obs_list.append(r.observed)
        var_list.append(fwd_var[k] * factor)

    def moments(which: list[int], yearly_v, shared_v, with_forward: bool) -> np.ndarray:
        wm = runs.window_moments(which, yearly_v, shared_v) if which else {}
        fm = runs.forward_moments(forward_values(yearly_v, shared_v)) if with_forward and not forward.empty else None
        out = np.full(len(labels), np.nan)
        for row, (_, _, key) in enumerate(labels):
            if key[0] == "w" and key[1] in wm:
                out[row] = _nanmean(wm[key[1]][:, key[2]])
            elif key[0] == "f" and fm is not None:
                out[row] = _nanmean(fm[:, key[1]])
        return out

    # The variance of each observation as one draw of the process, from replications at the
    # estimate (turnover, recruitment and chance make a year's output vary far more than a Poisson
    # count would), floored at the Poisson or binomial variance; the simulated mean of the fit's
    # replications adds its own share.
    wm = runs.window_moments(list(range(n_w)), yearly, shared, VARIANCE_REPS) if n_w else {}
    fm = runs.forward_moments(forward_values(yearly, shared), VARIANCE_REPS) if not forward.empty else None
    simulated = np.full(len(labels), np.nan)
    for row, (_, _measure, key) in enumerate(labels):
        if key[0] == "w":
            draws = wm[key[1]][:, key[2]]
        else:
            assert fm is not None  # a moment after the windows is labelled only when there is one
            draws = fm[:, key[1]]
        simulated[row] = _nanmean(draws[:reps])
        process = float(_nanvar(draws, ddof=1)) if np.sum(~np.isnan(draws)) > 1 else 0.0
        var_list[row] = max(var_list[row] / factor, process) * factor
    columns: list[tuple[str, int | None, Parameter]] = [("y", i, p) for i in range(n_rows) for p in yearly_specs]
    columns += [("s", None, p) for p in shared_params]
    jac = np.zeros((len(labels), len(columns)))
    step = 0.05
    for c, (kind, i, p) in enumerate(columns):
        if kind == "y":
            assert i is not None  # a yearly parameter's column names its window
            k = yearly_paths.index(p.path)
            z = p.to_free(yearly[i][k])
            up = [list(v) for v in yearly]
            down = [list(v) for v in yearly]
            up[i][k], down[i][k] = p.from_free(z + step), p.from_free(z - step)
            h = p.to_free(up[i][k]) - p.to_free(down[i][k])
            last = i == n_rows - 1
            which = [i] if i < n_w else []
            if h > 0:
                jac[:, c] = (moments(which, up, shared, last) - moments(which, down, shared, last)) / h
        else:
            z = p.to_free(shared[p.path])
            v_up, v_down = {**shared, p.path: p.from_free(z + step)}, {**shared, p.path: p.from_free(z - step)}
            h = p.to_free(v_up[p.path]) - p.to_free(v_down[p.path])
            if h > 0:
                every = list(range(n_w))
                jac[:, c] = (moments(every, yearly, v_up, True) - moments(every, yearly, v_down, True)) / h
    jac = np.nan_to_num(jac)
    # a yearly parameter the data of its year cannot see (no on-time rate) is left out of the fit
    seen = np.any(jac != 0, axis=0)
    weights = 1.0 / np.asarray(var_list)
    info = jac[:, seen].T @ (weights[:, None] * jac[:, seen])
    covariance = np.zeros((len(columns), len(columns)))
    try:
        inner_cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        inner_cov = np.linalg.pinv(info)
    covariance[np.ix_(seen, seen)] = inner_cov
    # A parameter the data barely see gets a huge variance; on its fitting scale a standard error
    # beyond MAX_FREE_SD (a factor of e^2 either way for a log scale) says only "unknown", and
    # beyond it the draws would leave every plausible value behind.
    sd = np.sqrt(np.clip(np.diag(covariance), 0, None))
    capped = np.minimum(sd, MAX_FREE_SD) / np.where(sd > 0, sd, 1.0)
    covariance = covariance * np.outer(capped, capped)
    obs_arr = np.asarray(obs_list)
    z_scores = (simulated - obs_arr) / np.sqrt(var_list)
    objective = float(np.nansum(z_scores**2))
    dof = int(np.sum(~np.isnan(z_scores))) - int(seen.sum())
    p_value = float(stats.chi2.sf(objective, dof)) if dof > 0 else float("nan")
    fit = pd.DataFrame(
        {
            "period": [lab[0] for lab in labels],
            "measure": [lab[1] for lab in labels],
            "observed": obs_arr,
            "simulated": simulated,
            "standard_error": np.sqrt(var_list),
            "z": z_scores,
        }
    )

    # --- next year's parameters: the last year's, moved by a year's drift -------------------------
    drift: dict[str, float] = {}
    for k, p in enumerate(yearly_specs):
        path_z = [p.to_free(v[k]) for v in yearly]
        diffs = np.diff(path_z) if len(path_z) > 1 else np.empty(0)
        own = float(np.mean(diffs**2)) if len(diffs) else 0.0
        drift[p.path] = math.sqrt(
            (len(diffs) * own + DRIFT_PRIOR_YEARS * drift_prior[p.path] ** 2) / (len(diffs) + DRIFT_PRIOR_YEARS)
        )
    # Next year's parameters are drawn even where the last year's data could not see them (a tiny
    # service, or one with capacity to spare): nothing is known of them beyond the fitted value, so
    # they get no variance of their own, but they still take a year's drift.
    chosen = [c for c, (kind, i, p) in enumerate(columns) if (kind == "y" and i == n_rows - 1) or kind == "s"]
    cov = covariance[np.ix_(chosen, chosen)].copy()
    names, scales, centre, drifts = [], [], [], []
    for c in chosen:
        kind, i, p = columns[c]
        names.append(p.path)
        scales.append(p.scale)
        if kind == "y":
            assert i is not None  # a yearly parameter's column names its window
            centre.append(yearly[i][yearly_paths.index(p.path)])
            drifts.append(drift[p.path])
        else:
            centre.append(shared[p.path])
            drifts.append(0.0)
    # the yearly parameters drift from the first January after the last period they were fitted to
    fitted_until = forward["period_end"].max() if n_rows > n_w else pd.Timestamp(config.start_date)
    drift_from = dt.date(fitted_until.year + (0 if (fitted_until.month, fitted_until.day) == (1, 1) else 1), 1, 1)
    values = forward_values(yearly, shared) if windows else dict(shared)
    seconds = time.perf_counter() - t0
    runs.close()
    result = Calibration(
        years=[w.year for w in windows] + ([config.start_date.year] if n_rows > n_w else []),
        yearly=yearly,
        yearly_parameters=yearly_specs,
        parameters=shared_params,
        estimates=np.array([shared[p.path] for p in shared_params]),
        covariance=covariance,
        columns=columns,
        fit=fit,
        objective=objective,
        degrees_of_freedom=dof,
        p_value=p_value,
        runs=runs.runs,
        seconds=seconds,
        drift=drift,
        config=config,
    )
    fitted: Iterator[Any] = result.table().itertuples()  # pandas-stubs type a row's fields only as "some scalar"
    record = CalibrationRecord(
        source="",
        method=f"simulated moments, {reps} replications an evaluation, common random numbers",
        years=result.years,
        estimates={row.parameter: float(row.estimate) for row in fitted},
        objective=objective,
        degrees_of_freedom=max(dof, 0),
        p_value=p_value if dof > 0 else 1.0,
        rejected=result.rejected,
        verdict=result.verdict(),
    )
    raw = _trial(config, values).model_dump(mode="json")
    raw["calibration"] = record.model_dump(mode="json")
    raw["uncertainty"] = (
        InputUncertainty(
            parameters=names,
            scales=scales,
            estimates=centre,
            covariance=((cov + cov.T) / 2).tolist(),
            drift=drifts,
            drift_from=drift_from,
        ).model_dump(mode="json")
        if names
        else None
    )
    result.config = parse_config(raw, "calibrated configuration")
    return result


def calibrated_yaml(calibration: Calibration, source: str, original: str | None = None) -> str:
    """The calibrated configuration as YAML, with a header a person reads first.

    With the `original` text of the configuration, the fitted values, `uncertainty:` and
    `calibration:` are written into it (ruamel.yaml's round trip), so every comment, source and
    NEEDS LOCAL INPUT marker stays where it was; otherwise the configuration is dumped whole.
    """
    header = [
        f"Calibrated by `sendsim calibrate` from {source}.",
        calibration.verdict(),
        f"{calibration.runs} runs in {calibration.seconds:.0f} s. Fitted (95% interval):",
    ]
    row: Any  # a fitted parameter: pandas-stubs type its fields only as "some scalar"
    for row in calibration.table().itertuples():
        interval = "unseen by the data" if row.ci_low != row.ci_low else f"{row.ci_low:.3g} to {row.ci_high:.3g}"
        header.append(f"  {row.parameter}: {row.estimate:.4g} ({interval}; started at {row.start:.4g})")
    drift = ", ".join(f"{path} {sd:.2f}" for path, sd in calibration.drift.items())
    header.append(
        "Each replication draws its parameters from `uncertainty:`; next year's capacity and fast-track "
        f"share are this year's moved by a year's drift (standard deviation on the fitting scale: {drift})."
    )
    raw = calibration.config.model_dump(mode="json")
    if raw.get("calibration"):
        raw["calibration"]["source"] = source
    config = parse_config(raw, "calibrated configuration")
    if original is None:
        return "\n".join(f"# {line}" for line in header) + "\n" + dump_config(config)
    return _write_into(original, config, header)


HEADER_START = "# Calibrated by `sendsim calibrate`"


def without_earlier_header(original: str) -> str:
    """The configuration without the header of an earlier calibration, which this one replaces:
    a file calibrated again says what its values are now, not every fit they have come from."""
    if not original.startswith(HEADER_START):
        return original
    lines = original.splitlines(keepends=True)
    end = next((i for i, line in enumerate(lines) if line.rstrip("\n") == "#"), None)
    return original if end is None else "".join(lines[end + 1 :])


def _write_into(original: str, config: Config, header: list[str]) -> str:
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()  # round trip: comments, order and layout kept
    yaml.width = 4096  # never fold a line the author wrote on one
    yaml.indent(mapping=2, sequence=4, offset=2)
    document = yaml.load(without_earlier_header(original))
    fitted = _rounded(config.model_dump(mode="json"))
    assert config.calibration is not None  # a calibrated configuration records its calibration
    changed = [*(config.uncertainty.parameters if config.uncertainty else []), *config.calibration.estimates]
    paths = {path.split(" (")[0] for path in changed}
    for path in sorted(paths):
        keys = path.split(".")
        node, value = document, fitted
        for key in keys:
            value = value[key]
        for key in keys[:-1]:
            if key not in node or node[key] is None:
                node[key] = CommentedMap()
            node = node[key]
        node[keys[-1]] = value
        node.yaml_add_eol_comment("fitted by `sendsim calibrate` (see the header)", keys[-1])
    for block in ("uncertainty", "calibration"):
        document[block] = _flow_lists(fitted[block])
    for key in [k for k in list(document.keys()) if k in ("uncertainty", "calibration")]:
        document.yaml_set_comment_before_after_key(key, before=None)
    stream = io.StringIO()
    yaml.dump(document, stream)
    text = "\n".join(f"# {line}" for line in header) + "\n#\n" + stream.getvalue()
    parse_config(_safe_load(text), "calibrated configuration")  # what is written must load
    return text


def _flow_lists(value: Any) -> Any:
    """Lists written on one line each ([a, b]), as the rest of a configuration is written."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _flow_lists(v)
        return out
    if isinstance(value, list):
        seq = CommentedSeq(_flow_lists(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def _rounded(value: Any, digits: int = 4) -> Any:
    """Fitted figures to 4 significant digits: finer than any of them is known."""
    if isinstance(value, float) and value != 0 and math.isfinite(value):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    return value


def _safe_load(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)
