"""Calibration: fit the parameters nobody measures to an authority's observed history.

The method of simulated moments. For a parameter vector θ the model runs R replications on
common random numbers (the same seeds for every θ, so the objective is smooth enough for a
derivative-free optimiser) and the mean of each observed measure is compared with the data:

    J(θ) = Σ_k ((m_k(θ) - y_k) / s_k)²,   s_k = the observation's standard error

(Poisson for counts, binomial for rates, floored so no single figure dominates). Nelder-Mead
minimises J in a transformed space (logs for positive parameters, logits for probabilities).
Uncertainty comes from the sandwich formula at the optimum, with the Jacobian G of the moments by
finite differences: Var(θ̂) = (GᵀWG)⁻¹ GᵀW Σ W G (GᵀWG)⁻¹, W = diag(1/s²), Σ = the observation
variance plus the simulation variance of an R-replication mean. Goodness of fit is J against a
χ² with (moments − parameters) degrees of freedom, and the error of each moment.

A history is a CSV with a `period` column — a year (2021) or a month (2023-01) — and any of:
plans_issued, on_time_rate, plans_in_force (at the period's end), refusals, requests_received,
assessments_open_over_30_weeks, assessments_open_over_52_weeks (at the period's end), and, for
a rate, the plans it was computed over in `plans_issued`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from sim.actions import set_live
from sim.config import Config, ConfigError, dump_config
from sim.replications import replication_seed
from sim.runner import run

# measure -> (how a period aggregates the monthly metric, the metric)
MEASURES = {
    "plans_issued": ("sum", "plans_issued"),
    "requests_received": ("sum", "requests_received"),
    "refusals": ("sum", "refusals"),
    "plans_in_force": ("last", "plans_in_force"),
    "assessments_open_over_30_weeks": ("last", "assessments_open_over_30_weeks"),
    "assessments_open_over_52_weeks": ("last", "assessments_open_over_52_weeks"),
    "on_time_rate": ("rate", ("plans_issued_within_20_weeks", "plans_issued")),
}


class CalibrationError(ConfigError):
    """A history or parameter list that cannot be used; the message names what is wrong."""


@dataclass
class Parameter:
    path: str
    start: float
    low: float
    high: float
    kind: str  # "positive", "probability" or "real"

    def to_free(self, value: float) -> float:
        value = min(max(value, self.low), self.high)
        if self.kind == "positive":
            return math.log(value)
        if self.kind == "probability":
            p = min(max(value, 1e-6), 1 - 1e-6)
            return math.log(p / (1 - p))
        return value

    def from_free(self, z: float) -> float:
        if self.kind == "positive":
            value = math.exp(z)
        elif self.kind == "probability":
            value = 1 / (1 + math.exp(-z))
        else:
            value = z
        return min(max(value, self.low), self.high)


@dataclass
class Calibration:
    parameters: list[Parameter]
    estimates: np.ndarray
    standard_errors: np.ndarray
    fit: pd.DataFrame  # per moment: observed, simulated, standard error, z
    objective: float
    degrees_of_freedom: int
    p_value: float
    evaluations: int
    config: Config

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({
            "parameter": [p.path for p in self.parameters],
            "start": [p.start for p in self.parameters],
            "estimate": self.estimates,
            "standard_error": self.standard_errors,
            "ci_low": self.estimates - 1.96 * self.standard_errors,
            "ci_high": self.estimates + 1.96 * self.standard_errors,
        })


# --- history -------------------------------------------------------------------------------------


def sen2_history(h: pd.DataFrame, years) -> pd.DataFrame:
    """An authority's SEN2 figures (`sim.sen2.history`) as a calibration history CSV table."""
    rows = []
    for year in years:
        if year not in h.index:
            continue
        row = {
            "period": str(year),
            "requests_received": h.loc[year, "requests"],
            "refusals": h.loc[year, "decided_not_to_assess"],
            "plans_issued": h.loc[year, "plans_issued"],
            "on_time_rate": h.loc[year, "on_time_rate"],
            # the stock at a year's end is the next January's census
            "plans_in_force": h["plans_in_force_january"].get(year + 1, np.nan),
        }
        if any(not pd.isna(v) for k, v in row.items() if k != "period"):
            rows.append(row)
    return pd.DataFrame(rows, columns=["period", *[m for m in MEASURES if m not in (
        "assessments_open_over_30_weeks", "assessments_open_over_52_weeks")]])


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
            if pd.isna(value):
                continue
            n = record.get("plans_issued") if measure == "on_time_rate" else None
            rows.append({"period_start": start, "period_end": end, "measure": measure,
                         "observed": float(value), "n": float(n) if n is not None and not pd.isna(n) else np.nan})
    return pd.DataFrame(rows)


def read_history(path: str | Path) -> pd.DataFrame:
    """A history CSV as tidy rows: period_start, period_end, measure, observed, n (for rates)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype={"period": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
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
            num, den = metric
            total = months[den].sum()
            out[i] = months[num].sum() / total if total else np.nan
    return out


def observation_errors(history: pd.DataFrame) -> np.ndarray:
    """Standard error of each observation: Poisson for counts, binomial for rates (floored)."""
    errors = []
    for row in history.itertuples():
        if row.measure == "on_time_rate":
            n = row.n if not np.isnan(row.n) else 100.0
            p = min(max(row.observed, 0.02), 0.98)
            errors.append(math.sqrt(p * (1 - p) / max(n, 1.0)))
        else:
            errors.append(math.sqrt(max(row.observed, 25.0)))
    return np.asarray(errors)


# --- the fit -------------------------------------------------------------------------------------


def parameter(config: Config, path: str, low: float | None = None, high: float | None = None) -> Parameter:
    from sim.config import _check_settable

    try:
        _check_settable(config, path, _get(config, path), "calibration parameter")
    except ValueError as exc:
        raise CalibrationError(str(exc)) from None
    start = float(_get(config, path))
    leaf = path.rsplit(".", 1)[-1]
    if "probability" in leaf or leaf.endswith("_share"):
        return Parameter(path, start, low if low is not None else 0.0, high if high is not None else 1.0, "probability")
    if start > 0:
        return Parameter(path, start, low if low is not None else start / 5, high if high is not None else start * 5, "positive")
    return Parameter(path, start, low if low is not None else -10.0, high if high is not None else 10.0, "real")


def _get(config: Config, path: str) -> Any:
    node: Any = config
    for key in path.split("."):
        node = node[key] if isinstance(node, dict) else getattr(node, key)
    return node


def with_values(config: Config, parameters: list[Parameter], values) -> Config:
    trial = config.model_copy(deep=True)
    for p, v in zip(parameters, values):
        set_live(trial, p.path, float(v))
    return trial


def calibrate(
    config: Config,
    history: pd.DataFrame,
    paths: list[str],
    reps: int = 5,
    seed: int | None = None,
    max_evaluations: int = 60,
) -> Calibration:
    if history.empty:
        raise CalibrationError("the history has no observations")
    seed = config.seed if seed is None else seed
    start, end = history["period_start"].min(), history["period_end"].max()
    if start < pd.Timestamp(config.start_date):
        raise CalibrationError(f"the history starts in {start:%B %Y}, before the config's start_date {config.start_date}")
    months = (end.year - config.start_date.year) * 12 + end.month - config.start_date.month
    parameters = [parameter(config, p) for p in paths]
    observed = history["observed"].to_numpy()
    obs_se = observation_errors(history)
    seeds = [replication_seed(seed, r) for r in range(reps)]
    evaluations = 0

    def moments(values) -> np.ndarray:
        nonlocal evaluations
        evaluations += 1
        trial = with_values(config, parameters, values)
        runs = [simulated_moments(run(trial, seed=s, months=months, cases=False).metrics, history) for s in seeds]
        return np.asarray(runs)

    def objective(z) -> float:
        values = [p.from_free(zi) for p, zi in zip(parameters, z)]
        sim = np.nanmean(moments(values), axis=0)
        resid = (sim - observed) / obs_se
        return float(np.nansum(resid**2))

    z0 = np.array([p.to_free(p.start) for p in parameters])
    result = optimize.minimize(objective, z0, method="Nelder-Mead",
                               options={"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-3, "adaptive": True})
    estimates = np.array([p.from_free(z) for p, z in zip(parameters, result.x)])

    # uncertainty: sandwich formula with a finite-difference Jacobian on the same random numbers
    runs = moments(estimates)
    sim_mean = np.nanmean(runs, axis=0)
    sim_var = np.nanvar(runs, axis=0, ddof=1) / reps if reps > 1 else np.zeros_like(sim_mean)
    jac = np.zeros((len(observed), len(parameters)))
    for j, p in enumerate(parameters):
        h = max(abs(estimates[j]) * 0.05, 1e-4)
        up, down = estimates.copy(), estimates.copy()
        up[j] = min(estimates[j] + h, p.high)
        down[j] = max(estimates[j] - h, p.low)
        jac[:, j] = (np.nanmean(moments(up), axis=0) - np.nanmean(moments(down), axis=0)) / (up[j] - down[j])
    keep = ~np.isnan(sim_mean) & ~np.isnan(jac).any(axis=1)
    g, w = jac[keep], 1 / obs_se[keep] ** 2
    sigma = obs_se[keep] ** 2 + sim_var[keep]
    bread = g.T @ (w[:, None] * g)
    try:
        inverse = np.linalg.inv(bread)
        meat = g.T @ ((w**2 * sigma)[:, None] * g)
        covariance = inverse @ meat @ inverse
        errors = np.sqrt(np.clip(np.diag(covariance), 0, None))
    except np.linalg.LinAlgError:
        errors = np.full(len(parameters), np.nan)  # a parameter the data cannot see
    fit = history.copy()
    fit["simulated"] = sim_mean
    fit["standard_error"] = obs_se
    fit["z"] = (sim_mean - observed) / obs_se
    value = float(np.nansum(fit["z"] ** 2))
    dof = max(int(keep.sum()) - len(parameters), 1)
    return Calibration(parameters, estimates, errors, fit, value, dof, float(stats.chi2.sf(value, dof)),
                       evaluations, with_values(config, parameters, estimates))


def calibrated_yaml(calibration: Calibration, source: str) -> str:
    header = [f"# Calibrated from {source} by sendsim calibrate.",
              f"# Fit: J = {calibration.objective:.2f} on {calibration.degrees_of_freedom} degrees of freedom "
              f"(p = {calibration.p_value:.3f}), {calibration.evaluations} model evaluations.", "# Fitted parameters:"]
    for row in calibration.table().itertuples():
        header.append(f"#   {row.parameter}: {row.estimate:.4g} (standard error {row.standard_error:.2g}; "
                      f"started at {row.start:.4g})")
    return "\n".join(header) + "\n" + dump_config(calibration.config)
