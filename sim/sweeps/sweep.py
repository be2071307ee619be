"""Running a sweep on Dask: every (point, replication) of the design, with nothing finished lost.

The runs are cut into tasks of `runs_per_task` consecutive runs, in (point, replication) order,
whatever the cluster; each task's outputs are kept (in OUT.partial) the moment they come back, so a
killed client, worker or cluster costs only the tasks running then, and `resume` runs only the
rest. Replication r of every point runs with the seed of replication r (common random numbers),
and the table is assembled in task order, so it is the same bit for bit however many workers ran
it and in whatever order their tasks finished. A worker that dies mid-task has its task run again
by the scheduler; the client keeps each task's result once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import Config
from sim.experiments.parallel import Staging, fingerprint
from sim.experiments.replications import replication_seed
from sim.experiments.runner import atomic_folder
from sim.outputs.provenance import package_version
from sim.outputs.provenance import provenance as make_provenance
from sim.sweeps.cluster import connect, describe, worker_count
from sim.sweeps.design import points
from sim.sweeps.spec import Sweep, load_sweep
from sim.sweeps.task import Run, run_batch

RESULTS = "results.parquet"

Progress = Callable[[int, int, int], None]  # runs done, runs in all, workers


def plan(sweep: Sweep, design: pd.DataFrame) -> list[list[Run]]:
    """The sweep's tasks: its runs in (point, replication) order, `runs_per_task` at a time."""
    names = sweep.parameters
    seeds = [replication_seed(sweep.seed, rep) for rep in range(sweep.spec.replications)]
    runs = []
    for point, row in zip(design["point"], design[names].itertuples(index=False, name=None)):
        levers = tuple((name, value.item() if hasattr(value, "item") else value) for name, value in zip(names, row))
        runs += [Run(int(point), rep, seed, levers) for rep, seed in enumerate(seeds)]
    k = sweep.spec.runs_per_task
    return [runs[i : i + k] for i in range(0, len(runs), k)]


def job(sweep: Sweep) -> dict:
    """What the sweep's results depend on: a resume with anything different is refused."""
    spec = sweep.spec.model_dump(mode="json")
    spec.pop("config")  # where the file is does not change what it says; its contents are below
    return {
        "sweep": spec,
        "config": fingerprint(json.dumps(sweep.config.model_dump(mode="json"), sort_keys=True)),
        "seed": sweep.seed,
        "months": sweep.months,
        "sendsim": package_version(),
    }


def assemble(sweep: Sweep, design: pd.DataFrame, tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The tidy table: point, each parameter's value, rep, output, value."""
    table = pd.concat(tables, ignore_index=True)
    table = table.merge(design, on="point", how="left", validate="many_to_one")
    return table[["point", *sweep.parameters, "rep", "output", "value"]]


def run_sweep(
    sweep: Sweep | str | Path,
    out: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    staging: Staging | None = None,
    announce: Callable[[str], None] | None = None,
    client=None,
) -> pd.DataFrame:
    """Run every point of the sweep; the tidy table, also written to `out` if given.

    `scheduler` is a Dask scheduler's address; without it a LocalCluster of `workers` processes
    (default: one per core) is started and stopped here. With `out`, finished tasks are kept in
    OUT.partial until the whole table is written, and `resume` takes them from there.
    `announce` is told the cluster in a line (its workers, and its dashboard if it has one).
    `client`, a distributed.Client of your own, is used as it is and left open.
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    started = dt.datetime.now(dt.UTC)
    design = points(sweep)
    tasks = plan(sweep, design)
    if out is not None and staging is None:
        staging = Staging.beside(Path(out), job(sweep), resume)
    keys = [f"task-{i:06d}" for i in range(len(tasks))]
    tables: dict[int, Any] = {}  # a task's outputs, and its monthly metrics if the file asks
    if staging is not None:
        tables = {i: staging.load(key) for i, key in enumerate(keys) if staging.has(key)}
    total = sum(len(t) for t in tasks)
    done = sum(len(tasks[i]) for i in tables)
    todo = [i for i in range(len(tasks)) if i not in tables]
    outputs = [(o.figure, o.year) for o in sweep.spec.outputs]
    if todo:
        from distributed import as_completed

        with nullcontext(client) if client is not None else connect(scheduler, workers) as client:
            if announce:
                announce(describe(client))
            if progress:
                progress(done, total, worker_count(client))
            config = client.scatter(sweep.config, broadcast=True)  # sent to each worker once
            tag = fingerprint(json.dumps(job(sweep), sort_keys=True))[:12]
            futures = {
                client.submit(
                    run_batch,
                    config,
                    tasks[i],
                    sweep.months,
                    outputs,
                    sweep.spec.monthly,
                    key=f"sendsim-{tag}-{keys[i]}",
                ): i
                for i in todo
            }
            for future in as_completed(futures):
                i = futures[future]
                tables[i] = future.result()
                future.release()  # the cluster need not hold what the client now has
                if staging is not None:
                    staging.save(keys[i], tables[i])
                done += len(tasks[i])
                if progress:
                    progress(done, total, worker_count(client))
    if sweep.spec.monthly:
        monthly = pd.concat([tables[i][1] for i in range(len(tasks))], ignore_index=True)
        table = assemble(sweep, design, [tables[i][0] for i in range(len(tasks))])
    else:
        monthly = None
        table = assemble(sweep, design, [tables[i] for i in range(len(tasks))])
    if out is not None:
        write_sweep(sweep, design, table, Path(out), started, monthly)
        if staging is not None:
            staging.remove()
    return table


def write_sweep(
    sweep: Sweep,
    design: pd.DataFrame,
    table: pd.DataFrame,
    out: Path,
    started: dt.datetime,
    monthly: pd.DataFrame | None = None,
) -> None:
    """The sweep's folder, written whole or not at all: the table, its points, the sweep file and
    the resolved configuration it ran, and provenance."""
    from sim.config import dump_config

    with atomic_folder(out) as staging:
        table.to_parquet(staging / RESULTS, index=False)
        table.to_csv(staging / "results.csv", index=False)
        if monthly is not None:
            monthly.to_parquet(staging / "monthly.parquet", index=False)
        design.to_csv(staging / "points.csv", index=False)
        (staging / "sweep.json").write_text(
            json.dumps(sweep.spec.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
        )
        (staging / "config.yaml").write_text(dump_config(sweep.config), encoding="utf-8")
        record = make_provenance(
            kind="sweep",
            sweep_file=sweep.source,
            config_name=sweep.config.name,
            scenario=sweep.spec.scenario,
            seed=sweep.seed,
            months=sweep.months,
            design=sweep.spec.design.method,
            points=int(len(design)),
            replications=sweep.spec.replications,
            runs=int(len(design) * sweep.spec.replications),
            started=started.isoformat(timespec="seconds"),
            finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        (staging / "provenance.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def load_sweep_results(folder: str | Path) -> tuple[Sweep, pd.DataFrame]:
    """A finished sweep's folder: its sweep (checked against the configuration it ran) and table."""
    from sim.config import ConfigError, load_config
    from sim.sweeps.spec import SweepFile, check_sweep

    folder = Path(folder)
    try:
        spec = SweepFile.model_validate_json((folder / "sweep.json").read_text(encoding="utf-8"))
        table = pd.read_parquet(folder / RESULTS)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{folder}: not a finished sweep's folder ({exc.__class__.__name__}: {exc})") from None
    config: Config = load_config(folder / "config.yaml")
    sweep = check_sweep(spec, config, str(folder / "sweep.json"))
    # the analysis draws the design again from the file and its seed: it must be the one that ran
    ran = table.drop_duplicates("point").set_index("point")[sweep.parameters].sort_index()
    drawn = points(sweep).set_index("point")
    if ran.shape != drawn.shape or not (ran.to_numpy() == drawn.to_numpy()).all():
        raise ConfigError(
            f"{folder}: the design drawn again from sweep.json differs from the points in {RESULTS} "
            "(a different SALib, or an edited folder): its indices would not be those of these runs"
        )
    return sweep, table
