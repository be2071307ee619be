"""Which parameters drive each output of a sweep: Sobol indices or Morris effects, from SALib.

Each point's output is the mean of its replications (common random numbers, so the points differ
by their levers, not their luck). A Sobol design gives first-order and total indices with
bootstrap confidence intervals (`SALib.analyze.sobol`); a Morris design gives μ*, the mean
absolute elementary effect over a parameter's whole range, with its interval, and σ, the spread
that marks interactions or curvature (`SALib.analyze.morris`). The functions below take plain
arrays, so the same code is checked on SALib's Ishigami function, whose indices are known.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sim.measures import FIGURES, format_value, unit
from sim.sweeps.spec import Morris, Sobol, Sweep

CONFIDENCE = 0.95
RESAMPLES = 1_000
SOBOL_COLUMNS = ["S1", "S1_conf", "ST", "ST_conf"]
MORRIS_COLUMNS = ["mu", "mu_star", "mu_star_conf", "sigma"]


def sobol_indices(names: list[str], y: np.ndarray, second_order: bool = False, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices of `y` (in Saltelli's point order), with the half-widths
    of their 95% bootstrap intervals."""
    from SALib.analyze import sobol

    if np.isnan(y).any() or np.var(y) == 0.0:  # undefined, or nothing to explain
        return pd.DataFrame({"parameter": names, **{c: np.nan for c in SOBOL_COLUMNS}})
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        si = sobol.analyze(
            problem, y, calc_second_order=second_order, num_resamples=RESAMPLES, conf_level=CONFIDENCE, seed=seed
        )
    return pd.DataFrame({"parameter": names, **{c: np.asarray(si[c], dtype=float) for c in SOBOL_COLUMNS}})


def morris_effects(names: list[str], x: np.ndarray, y: np.ndarray, levels: int, seed: int = 0) -> pd.DataFrame:
    """Morris's μ (signed), μ* (absolute) with its 95% interval's half-width, and σ, of `y` at the
    unit-cube points `x`: each the change in `y` for a step across the parameter's whole range."""
    from SALib.analyze import morris

    if np.isnan(y).any():
        return pd.DataFrame({"parameter": names, **{c: np.nan for c in MORRIS_COLUMNS}})
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        si = morris.analyze(problem, x, y, num_resamples=RESAMPLES, conf_level=CONFIDENCE, num_levels=levels, seed=seed)
    return pd.DataFrame({"parameter": names, **{c: np.asarray(si[c], dtype=float) for c in MORRIS_COLUMNS}})


def point_means(sweep: Sweep, table: pd.DataFrame, output: str) -> np.ndarray:
    """The output's mean over replications at each point, in point order."""
    rows = table[table["output"] == output]
    return rows.groupby("point", sort=True)["value"].mean().to_numpy(dtype=float)


def noise_share(table: pd.DataFrame, output: str) -> float:
    """The share of the variance between the points' means that is the runs' own noise, not the
    parameters: what the indices attribute to the parameters includes it.

    Replication r of every point shares its random numbers, so part of a run's luck is common to
    all points (a shift of replication r, which moves no index) and only the rest differs between
    points. A two-way split of the point x replication table (point effect + replication effect +
    residual) estimates that rest from the residual; the noise in a point's mean is its variance
    over the replications. NaN with one replication a point, or missing runs.
    """
    grid = table[table["output"] == output].pivot(index="point", columns="rep", values="value").to_numpy(dtype=float)
    points, reps = grid.shape
    if reps < 2 or points < 3 or np.isnan(grid).any():
        return float("nan")
    residual = grid - grid.mean(axis=1, keepdims=True) - grid.mean(axis=0, keepdims=True) + grid.mean()
    noise = float((residual**2).sum() / ((points - 1) * (reps - 1))) / reps
    total = float(grid.mean(axis=1).var(ddof=1))
    return min(noise / total, 1.0) if total > 0 else float("nan")


def analyse(sweep: Sweep, table: pd.DataFrame, unit: np.ndarray) -> pd.DataFrame:
    """One row per (output, parameter): the indices the sweep's design supports."""
    design = sweep.spec.design
    frames = []
    for output in sweep.outputs:
        y = point_means(sweep, table, output)
        if isinstance(design, Sobol):
            frame = sobol_indices(sweep.parameters, y, design.second_order, sweep.seed % 2**32)
        elif isinstance(design, Morris):
            frame = morris_effects(sweep.parameters, unit, y, design.levels, sweep.seed % 2**32)
        else:
            raise ValueError(
                f"a {design.method} design gives a table of runs, not sensitivity indices: "
                "use a sobol or morris design for those"
            )
        frame.insert(0, "output", output)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def describe_output(output: str) -> str:
    """'the 2025 on-time rate' for on_time_rate.2025; a stock at the year's end: 'reviews overdue at
    the end of 2025'."""
    name, _, year = output.rpartition(".")
    figure = FIGURES[name]
    if figure.over_months == "last":
        return f"{figure.in_words} at the end of {year}"
    return f"the {year} {figure.in_words}"


def change(figure: str, value: float) -> str:
    """A change in a figure as a person reads it: a share's in percentage points."""
    if unit(figure) == "share":
        return f"{value * 100:.1f} percentage points"
    return format_value(figure, value)


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


NOISY = 0.25  # a noise share above which a sentence warns that the indices carry the runs' luck


def sentence(output: str, rows: pd.DataFrame, method: str, noise: float = float("nan")) -> str:
    """A plain-language sentence for one output's indices; with the runs' `noise_share`, a warning
    where much of the variation between points is luck."""
    text = _sentence(output, rows, method)
    if noise >= NOISY:
        text += (
            f" But about {noise:.0%} of the variation between points is the runs' own luck, which the indices "
            "count as the parameters' doing: more replications a point would pin them down."
        )
    return text


def _sentence(output: str, rows: pd.DataFrame, method: str) -> str:
    what = describe_output(output)
    subject = what[0].upper() + what[1:]
    if method == "sobol":
        if rows["ST"].isna().all():
            return f"{subject} does not vary across the sweep (or is undefined at some points): no index to report."
        ranked = rows.sort_values("ST", ascending=False)
        top = ranked.iloc[0]
        text = (
            f"{subject} depends most on {top['parameter']} (total index {top['ST']:.2f} ± "
            f"{top['ST_conf']:.2f}), which on its own explains about {max(top['S1'], 0.0):.0%} of its variance"
        )
        others = [f"{r['parameter']} ({r['ST']:.2f})" for _, r in ranked.iloc[1:3].iterrows()]
        if others:
            text += f"; then {_names(others)}"
        inert = list(ranked[ranked["ST"] - ranked["ST_conf"] <= 0.0]["parameter"])
        if inert:
            text += f". No effect can be told from zero for {_names(inert)}"
        return text + "."
    if rows["mu_star"].isna().all():
        return f"{subject} is undefined at some points: no effect to report."
    figure = output.rpartition(".")[0]
    ranked = rows.sort_values("mu_star", ascending=False)
    top = ranked.iloc[0]
    if top["mu_star"] == 0.0:
        return f"{subject} does not change across the ranges swept."
    text = (
        f"{subject} moves most with {top['parameter']}: across its range it changes by "
        f"{change(figure, top['mu_star'])} on average (μ*; σ {change(figure, top['sigma'])})"
    )
    others = [f"{r['parameter']} ({change(figure, r['mu_star'])})" for _, r in ranked.iloc[1:3].iterrows()]
    if others:
        text += f"; then {_names(others)}"
    small = list(ranked[ranked["mu_star"] < 0.05 * top["mu_star"]]["parameter"])
    if small:
        text += f". {_names(small)} change it by less than a twentieth of that"
    return text + "."
