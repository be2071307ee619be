"""Benchmark of a sweep on Dask against the same runs in a bare multiprocessing pool.

A 256-point, 2-replication Morris sweep of Devon for 36 months (the first seven parameters of
experiments/sweeps/devon-morris.yaml, 32 trajectories), run on a LocalCluster of one worker per
core, and the same 512 runs in a `multiprocessing` pool started once. Reported: the wall times,
the sweep's overhead over the pool, how busy the cores were (task time over wall time x workers,
from Dask's task stream and the pool's own timings), and the time for 1,000 runs extrapolated to
2, 8 and 32 workers from the measured task times. Writes experiments/results/sweep-benchmark.json
and prints the lines BENCHMARKS.md records.

    .venv/bin/python experiments/sweep_benchmark.py
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.sweeps.design import points  # noqa: E402
from sim.sweeps.spec import load_sweep  # noqa: E402
from sim.sweeps.sweep import plan, run_sweep  # noqa: E402
from sim.sweeps.task import run_batch  # noqa: E402

_config = None


def _init(config) -> None:
    global _config
    _config = config


def _timed(args):
    runs, months, outputs = args
    t0 = time.perf_counter()
    table = run_batch(_config, runs, months, outputs)
    return table, time.perf_counter() - t0


def sweep_file(folder: Path) -> Path:
    raw = yaml.safe_load((ROOT / "experiments" / "sweeps" / "devon-morris.yaml").read_text(encoding="utf-8"))
    raw["config"] = str(ROOT / "configs" / "devon.yaml")
    raw["parameters"] = dict(list(raw["parameters"].items())[:7])
    raw["design"] = {"method": "morris", "trajectories": 32, "levels": 4}
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def main() -> int:
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        sweep = load_sweep(sweep_file(Path(tmp)))
        tasks = plan(sweep, points(sweep))
        runs = sum(len(t) for t in tasks)
        outputs = [(o.figure, o.year) for o in sweep.spec.outputs]

        from distributed import Client, LocalCluster, get_task_stream

        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
        started = time.perf_counter() - t0
        with get_task_stream(client) as stream:
            t1 = time.perf_counter()
            table = run_sweep(sweep, client=client)
            dask_wall = time.perf_counter() - t1
        busy = sum(
            sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute") for task in stream.data
        )
        client.close()
        cluster.close()

        t2 = time.perf_counter()
        with mp.get_context("spawn").Pool(workers, initializer=_init, initargs=(sweep.config,)) as pool:
            pool_started = time.perf_counter() - t2
            t3 = time.perf_counter()
            results = pool.map(_timed, [(t, sweep.months, outputs) for t in tasks], chunksize=1)
            pool_wall = time.perf_counter() - t3
        pool_busy = sum(seconds for _, seconds in results)
    per_run = busy / runs
    figures = {
        "points": int(table["point"].nunique()),
        "runs": runs,
        "workers": workers,
        "dask_wall_seconds": round(dask_wall, 2),
        "dask_cluster_start_seconds": round(started, 2),
        "dask_busy_share": round(busy / (dask_wall * workers), 4),
        "pool_wall_seconds": round(pool_wall, 2),
        "pool_start_seconds": round(pool_started, 2),
        "pool_busy_share": round(pool_busy / (pool_wall * workers), 4),
        "overhead": round(dask_wall / pool_wall - 1, 4),
        "seconds_per_run": round(per_run, 3),
        # 1,000 runs on w workers: the work shared out, in whole waves of tasks, at the busy share measured
        "extrapolated_1000_runs_seconds": {
            str(w): round(
                math.ceil(1000 / sweep.spec.runs_per_task / w)
                * sweep.spec.runs_per_task
                * per_run
                / (busy / (dask_wall * workers)),
                1,
            )
            for w in (2, 8, 32)
        },
    }
    out = ROOT / "experiments" / "results" / "sweep-benchmark.json"
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
