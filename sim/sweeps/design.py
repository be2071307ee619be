"""The points of a sweep: SALib's designs on the unit cube, mapped to each lever's range.

Every design is drawn on [0, 1]^d (SALib's Saltelli/Sobol and Morris samplers, its Latin
hypercube, or a full grid) and each column is then mapped through its parameter's distribution
(uniform, triangular, normal) by the inverse CDF. The analysis works on the same unit points, so a
Morris effect is the change in an output across the whole of a parameter's range. The design is a
function of the sweep file alone (its seed included), never of the machine that runs it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from sim.sweeps.spec import Grid, Latin, Morris, Parameter, Sobol, Sweep


def problem(sweep: Sweep) -> dict:
    """SALib's problem on the unit cube: one variable per lever."""
    names = sweep.parameters
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def unit_points(sweep: Sweep) -> np.ndarray:
    """The design's points on the unit cube, one row per point, in the order SALib analyses them."""
    design = sweep.spec.design
    seed = sweep.seed % 2**32  # SALib's samplers take numpy's legacy 32-bit seeds
    if isinstance(design, Sobol):
        from SALib.sample import sobol

        return sobol.sample(problem(sweep), design.base_samples, calc_second_order=design.second_order, seed=seed)
    if isinstance(design, Morris):
        from SALib.sample import morris

        return morris.sample(problem(sweep), design.trajectories, num_levels=design.levels, seed=seed)
    if isinstance(design, Latin):
        from SALib.sample import latin

        return latin.sample(problem(sweep), design.points, seed=seed)
    assert isinstance(design, Grid)
    axis = np.linspace(0.0, 1.0, design.levels)
    return np.array(list(itertools.product(axis, repeat=len(sweep.parameters))), dtype=float)


def to_values(parameter: Parameter, unit: np.ndarray) -> np.ndarray:
    """Unit-cube coordinates to the lever's values, through its distribution's inverse CDF."""
    from scipy import stats  # here, not at the top: `import sim` stays clear of scipy.stats (W4)

    if parameter.dist == "uniform":
        assert parameter.low is not None and parameter.high is not None
        return parameter.low + unit * (parameter.high - parameter.low)
    if parameter.dist == "triangular":
        assert parameter.low is not None and parameter.high is not None and parameter.mode is not None
        width = parameter.high - parameter.low
        return stats.triang.ppf(unit, (parameter.mode - parameter.low) / width, loc=parameter.low, scale=width)
    # a normal's tails are held at its 0.1% and 99.9% points, the ends checked against the schema
    low, high = parameter.ends()
    return np.clip(stats.norm.ppf(unit, loc=parameter.mean, scale=parameter.sd), low, high)


def points(sweep: Sweep) -> pd.DataFrame:
    """One row per point: its number, then each lever's value (whole numbers where the lever is)."""
    unit = unit_points(sweep)
    table = pd.DataFrame({"point": np.arange(len(unit), dtype=np.int64)})
    for j, name in enumerate(sweep.parameters):
        values = to_values(sweep.spec.parameters[name], unit[:, j])
        table[name] = np.round(values).astype(np.int64) if name in sweep.integer_parameters else values
    return table
