"""An experiment: scenarios x replications, their summaries, and the folder they are kept in.

    DIR/results.parquet     tidy: scenario, rep, month, metric, value
    DIR/summary.parquet     per scenario, metric and month: mean, CI, median, percentiles
    DIR/kpis.csv            per scenario, calendar year and measure, with P(on time >= target)
    DIR/differences.csv     each scenario minus the base, paired by replication, with CIs
    DIR/config.yaml         the configuration run (base and scenarios)
    DIR/provenance.json     version, seed, replications, months, jobs, git commit, times

`load_results(DIR)` reads it all back.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from sim.config import Config, dump_config, parse_config
from sim.parallel import Staging, fingerprint
from sim.replications import BASE, default_jobs, replication_seed, run_replications
from sim.runner import git_commit, atomic_folder, package_version
from sim.stats import monthly_summary
from sim.summary import NATIONAL_ON_TIME_2022, kpi_table, scenario_differences, yearly_by_rep


@dataclass
class ExperimentResults:
    config: Config
    results: pd.DataFrame
    summary: pd.DataFrame
    kpis: pd.DataFrame
    differences: pd.DataFrame
    provenance: dict[str, Any]

    @property
    def scenarios(self) -> list[str]:
        return list(self.provenance["scenarios"])


def run_experiment(
    config: Config,
    scenarios: list[str] | None = None,
    reps: int = 10,
    seed: int | None = None,
    months: int | None = None,
    jobs: int | None = None,
    target: float = NATIONAL_ON_TIME_2022,
    progress: Callable[[int], None] | None = None,
    config_path: str | None = None,
    staging: Staging | None = None,
) -> ExperimentResults:
    """Every scenario's replications, summarised; with `staging`, each finished replication is
    kept there as it completes and one kept by an interrupted run is not run again."""
    scenarios = [BASE, *[s for s in (scenarios or []) if s != BASE]]
    seed = config.seed if seed is None else seed
    jobs = jobs or default_jobs()
    t0 = time.perf_counter()
    results = run_replications(config, scenarios, reps, seed, months, jobs, progress, staging)
    provenance = provenance_for(config, scenarios, reps, seed, months, jobs, config_path,
                                time.perf_counter() - t0, target=target)
    return summarise(config, results, provenance)


def replication_job(config: Config, seed: int, months: int | None) -> dict[str, Any]:
    """What a replication's result depends on, for resuming: a kept replication is used again
    only if all of it is the same (scenarios are in the configuration)."""
    return {"job": "replications", "config_sha256": fingerprint(dump_config(config)), "seed": seed,
            "months": months or config.months, "version": package_version(), "git_commit": git_commit()}


def provenance_for(
    config: Config,
    scenarios: list[str],
    reps: int,
    seed: int,
    months: int | None,
    jobs: int,
    config_path: str | None,
    wall_seconds: float,
    target: float = NATIONAL_ON_TIME_2022,
    **extra: Any,
) -> dict[str, Any]:
    finished = dt.datetime.now(dt.timezone.utc)
    return {
        "package": "sendsim",
        "version": package_version(),
        "config": config_path,
        "config_name": config.name,
        "scenarios": scenarios,
        "seed": seed,
        "replications": reps,
        "replication_seeds": [replication_seed(seed, r) for r in range(reps)],
        "months": months or config.months,
        "start_date": config.start_date.isoformat(),
        "jobs": jobs,
        "target_on_time_rate": target,
        "git_commit": git_commit(),
        "started": (finished - dt.timedelta(seconds=wall_seconds)).isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "wall_seconds": round(wall_seconds, 3),
        **extra,
    }


def summarise(config: Config, results: pd.DataFrame, provenance: dict[str, Any]) -> ExperimentResults:
    target = provenance.get("target_on_time_rate", NATIONAL_ON_TIME_2022)
    # every replication's yearly table is built once, for the key figures and the differences
    yearly = yearly_by_rep(results)
    return ExperimentResults(
        # the configuration alone repeats the experiment: the seed and horizon used are in it
        config=config.model_copy(update={"seed": provenance["seed"], "months": provenance["months"]}),
        results=results,
        summary=monthly_summary(results),
        kpis=kpi_table(results, target, yearly=yearly),
        differences=(scenario_differences(results, yearly=yearly) if len(provenance["scenarios"]) > 1
                     else pd.DataFrame()),
        provenance=provenance,
    )


def write_experiment(experiment: ExperimentResults, out_dir: str | Path) -> Path:
    """Write the experiment's folder atomically: a half-written folder is never left behind."""
    out_dir = Path(out_dir)
    with atomic_folder(out_dir) as staging:
        experiment.results.to_parquet(staging / "results.parquet", index=False)
        experiment.summary.to_parquet(staging / "summary.parquet", index=False)
        experiment.kpis.to_csv(staging / "kpis.csv", index=False)
        experiment.differences.to_csv(staging / "differences.csv", index=False)
        (staging / "config.yaml").write_text(dump_config(experiment.config), encoding="utf-8")
        (staging / "provenance.json").write_text(json.dumps(experiment.provenance, indent=2) + "\n", encoding="utf-8")
    return out_dir


def load_results(out_dir: str | Path) -> ExperimentResults:
    """Read an experiment folder written by `sendsim run --reps`, `sendsim compare` or Python."""
    import yaml

    out_dir = Path(out_dir)
    provenance = json.loads((out_dir / "provenance.json").read_text(encoding="utf-8"))
    config = parse_config(yaml.safe_load((out_dir / "config.yaml").read_text(encoding="utf-8")), str(out_dir / "config.yaml"))
    differences_path = out_dir / "differences.csv"
    differences = pd.read_csv(differences_path) if differences_path.stat().st_size > 1 else pd.DataFrame()
    return ExperimentResults(
        config=config,
        results=pd.read_parquet(out_dir / "results.parquet"),
        summary=pd.read_parquet(out_dir / "summary.parquet"),
        kpis=pd.read_csv(out_dir / "kpis.csv"),
        differences=differences,
        provenance=provenance,
    )
