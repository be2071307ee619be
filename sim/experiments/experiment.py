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
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import Config, dump_config, load_config, parse_config
from sim.experiments.parallel import Staging, fingerprint
from sim.experiments.replications import BASE, default_jobs, replication_seed, run_replications
from sim.experiments.runner import atomic_folder
from sim.files import ConfigError, read_text, read_yaml
from sim.outputs.provenance import git_commit, package_version, provenance
from sim.outputs.stats import DESCRIBED, monthly_summary
from sim.outputs.summary import NATIONAL_ON_TIME_2022, kpi_table, scenario_differences, yearly_by_rep


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
    provenance = provenance_for(
        config, scenarios, reps, seed, months, jobs, config_path, time.perf_counter() - t0, target=target
    )
    return summarise(config, results, provenance)


def compare(
    config: Config | str | Path,
    scenarios: list[str] | None = None,
    reps: int = 10,
    seed: int | None = None,
    months: int | None = None,
    jobs: int | None = None,
    out: str | Path | None = None,
) -> ExperimentResults:
    """`sendsim compare` from Python: the base and each named scenario, `reps` replications each on
    common random numbers, summarised (kpis, paired differences); written to `out` if given."""
    path = None
    if not isinstance(config, Config):
        path = str(config)
        config = load_config(config)
    experiment = run_experiment(config, scenarios, reps, seed, months, jobs, config_path=path)
    if out is not None:
        write_experiment(experiment, out)
    return experiment


def replication_job(config: Config, seed: int, months: int | None) -> dict[str, Any]:
    """What a replication's result depends on, for resuming: a kept replication is used again
    only if all of it is the same (scenarios are in the configuration)."""
    return {
        "job": "replications",
        "config_sha256": fingerprint(dump_config(config)),
        "seed": seed,
        "months": months or config.months,
        "version": package_version(),
        "git_commit": git_commit(),
    }


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
    finished = dt.datetime.now(dt.UTC)
    return provenance(
        config=config_path,
        config_name=config.name,
        scenarios=scenarios,
        seed=seed,
        replications=reps,
        replication_seeds=[replication_seed(seed, r) for r in range(reps)],
        months=months or config.months,
        start_date=config.start_date.isoformat(),
        jobs=jobs,
        target_on_time_rate=target,
        started=(finished - dt.timedelta(seconds=wall_seconds)).isoformat(timespec="seconds"),
        finished=finished.isoformat(timespec="seconds"),
        wall_seconds=round(wall_seconds, 3),
        **extra,
    )


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
        differences=(
            scenario_differences(results, yearly=yearly) if len(provenance["scenarios"]) > 1 else pd.DataFrame()
        ),
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
        source = experiment.provenance.get("config")
        if source and Path(source).is_file():  # the file as written, comments (its sources) and all
            shutil.copyfile(source, staging / "config-source.yaml")
        (staging / "provenance.json").write_text(json.dumps(experiment.provenance, indent=2) + "\n", encoding="utf-8")
    return out_dir


# What each file must hold for a report to be drawn from it; a damaged or foreign file is named.
_COLUMNS = {
    "results.parquet": ("scenario", "rep", "month", "metric", "value"),
    "summary.parquet": ("scenario", "metric", "month", *DESCRIBED),
    "kpis.csv": ("scenario", "year", "to", "measure", *DESCRIBED, "p_reaches_target"),
}
_PROVENANCE_KEYS = ("scenarios", "seed", "months", "replications")


def _read_table(path: Path) -> pd.DataFrame:
    reader = pd.read_parquet if path.suffix == ".parquet" else pd.read_csv
    if not path.is_file():
        raise ConfigError(f"{path}: missing from the results folder (expected a folder written by sendsim run --reps)")
    if path.name == "differences.csv" and path.stat().st_size <= 1:  # a single-scenario run writes it empty
        return pd.DataFrame()
    try:
        table = reader(path)
    except Exception as exc:  # pyarrow, the CSV parser and the codecs each raise their own kinds
        raise ConfigError(
            f"{path}: cannot be read ({type(exc).__name__}: {str(exc)[:200]}); "
            "the results folder is damaged: run the experiment again"
        ) from None
    missing = [c for c in _COLUMNS.get(path.name, ()) if c not in table.columns]
    if missing:
        raise ConfigError(
            f"{path}: expected the columns {', '.join(missing)}; "
            "the results folder is damaged or not sendsim's: run the experiment again"
        )
    return table


def load_results(out_dir: str | Path) -> ExperimentResults:
    """Read an experiment folder written by `sendsim run --reps`, `sendsim compare` or Python;
    ConfigError, naming the file, if any part of it is missing or damaged."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: not a folder (expected a results folder written by sendsim run --reps)")
    provenance_path = out_dir / "provenance.json"
    try:
        provenance = json.loads(read_text(provenance_path))
    except ValueError as exc:  # JSONDecodeError
        raise ConfigError(f"{provenance_path}: not valid JSON ({exc}); the results folder is damaged") from None
    missing = [k for k in _PROVENANCE_KEYS if not isinstance(provenance, dict) or k not in provenance]
    if missing:
        raise ConfigError(
            f"{provenance_path}: expected an object with the keys {', '.join(missing)}; the results folder is damaged"
        )
    config_path = out_dir / "config.yaml"
    config = parse_config(read_yaml(config_path), str(config_path))
    tables = {name: _read_table(out_dir / name) for name in (*_COLUMNS, "differences.csv")}
    return ExperimentResults(
        config=config,
        results=tables["results.parquet"],
        summary=tables["summary.parquet"],
        kpis=tables["kpis.csv"],
        differences=tables["differences.csv"],
        provenance=provenance,
    )
