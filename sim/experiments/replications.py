"""Replications of one or more scenarios, in parallel processes, on common random numbers.

Replication r of every scenario runs with the same seed, derived from the experiment's seed and
r alone, so scenarios differ only where their levers differ. Results are gathered in
(scenario, replication) order, so they are bit-identical whatever the number of processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from sim.config import Config, resolve_scenario
from sim.experiments.parallel import Staging, default_jobs, run_all
from sim.experiments.runner import run

__all__ = ["BASE", "default_jobs", "replication_seed", "run_replications"]

BASE = "base"


def replication_seed(seed: int, rep: int) -> int:
    """The seed of replication `rep`: independent of the scenario, so scenarios share draws."""
    return int(np.random.SeedSequence(seed, spawn_key=(rep,)).generate_state(1, dtype=np.uint32)[0])


def _one(args: tuple[Config, str, int, int, int | None]) -> pd.DataFrame:
    config, scenario, rep, seed, months = args
    result = run(config, seed=replication_seed(seed, rep), months=months, cases=False)
    metrics = result.metrics
    metrics.insert(0, "rep", rep)
    metrics.insert(0, "scenario", scenario)
    return metrics


def run_replications(
    config: Config,
    scenarios: Iterable[str] = (BASE,),
    reps: int | Iterable[int] = 10,
    seed: int | None = None,
    months: int | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    staging: Staging | None = None,
) -> pd.DataFrame:
    """Tidy metrics of every (scenario, replication): scenario, rep, month, metric, value.

    `reps` is a count, or the replication numbers to run (to add to an earlier batch). With
    `staging`, each finished replication is kept there and one kept before is not run again.
    """
    seed = config.seed if seed is None else seed
    rep_ids = list(range(reps)) if isinstance(reps, int) else list(reps)
    resolved = {name: resolve_scenario(config, name) for name in scenarios}
    work = [(resolved[name], name, rep, seed, months) for name in resolved for rep in rep_ids]
    keys = [f"{name}/{rep}" for name in resolved for rep in rep_ids]
    frames = run_all(_one, work, keys, jobs or default_jobs(), staging, progress)
    return pd.concat(frames, ignore_index=True)
