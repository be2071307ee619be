"""What a worker does: run a batch of a sweep's (point, replication) pairs and keep only the outputs.

A task is a list of runs; each sets the point's levers on its own copy of the service's
configuration (the same checks as a value typed into the file) and runs one replication with the
replication's seed. Only the requested yearly figures come back, not the monthly tables, unless
the sweep file asks for them (`monthly: true`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config import Config, replaced
from sim.experiments.runner import run
from sim.outputs.summary import yearly_table


@dataclass(frozen=True)
class Run:
    point: int
    rep: int
    seed: int
    levers: tuple[tuple[str, float | int], ...]  # (dotted path, value) of each parameter


def run_one(config: Config, levers: Sequence[tuple[str, float | int]], seed: int, months: int) -> pd.DataFrame:
    """The tidy monthly metrics of one replication of the service with these lever values."""
    service = config
    for dotted, value in levers:
        service = replaced(service, dotted, value)
    return run(service, seed=seed, months=months, cases=False).metrics


def run_batch(
    config: Config, runs: Sequence[Run], months: int, outputs: Sequence[tuple[str, int]], monthly: bool = False
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy outputs of every run: point, rep, output, value (one row per run and output); with
    `monthly`, also every run's monthly metrics (point, rep, month, metric, value)."""
    rows: dict[str, list] = {"point": [], "rep": [], "output": [], "value": []}
    months_kept = []
    for item in runs:
        metrics = run_one(config, item.levers, item.seed, months)
        table = yearly_table(metrics)
        for figure, year in outputs:
            rows["point"].append(item.point)
            rows["rep"].append(item.rep)
            rows["output"].append(f"{figure}.{year}")
            rows["value"].append(float(table[figure].get(year, np.nan)))
        if monthly:
            months_kept.append(metrics.assign(point=item.point, rep=item.rep)[["point", "rep", *metrics.columns]])
    table = pd.DataFrame(
        {
            "point": np.asarray(rows["point"], dtype=np.int64),
            "rep": np.asarray(rows["rep"], dtype=np.int64),
            "output": rows["output"],
            "value": np.asarray(rows["value"], dtype=float),
        }
    )
    return (table, pd.concat(months_kept, ignore_index=True)) if monthly else table
