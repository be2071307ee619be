"""Benchmark of a sweep on Dask against the same runs in a bare multiprocessing pool.

A 256-point, 2-replication Morris sweep of Devon for 36 months (the first seven parameters of
experiments/sweeps/devon-morris.yaml, 32 trajectories, as four sweeps of 8 on their own seeds),
run on a LocalCluster of one worker per core, and the same 512 runs in a `multiprocessing` pool
started once; the two take turns a quarter at a time, so that drift in the machine's speed (W1's
wall time moves by 15% or more between rounds here) falls on both. Reported: the wall times,
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


def _timed(args):
    config, runs, months, outputs = args
    t0 = time.perf_counter()
    table = run_batch(config, runs, months, outputs)
    return table, time.perf_counter() - t0


ROUNDS = 4  # Dask and the pool take turns, a quarter of the sweep each, so drift in the machine's speed falls on both


def sweep_file(folder: Path, round_: int) -> Path:
    """A quarter of the benchmark sweep: 8 Morris trajectories of 7 parameters (64 points), its own seed."""
    raw = yaml.safe_load((ROOT / "experiments" / "sweeps" / "devon-morris.yaml").read_text(encoding="utf-8"))
    raw["config"] = str(ROOT / "configs" / "devon.yaml")
    raw["parameters"] = dict(list(raw["parameters"].items())[:7])
    raw["design"] = {"method": "morris", "trajectories": 32 // ROUNDS, "levels": 4}
    raw["seed"] = raw["seed"] + round_
    path = folder / f"bench-{round_}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def main() -> int:
    import logging

    from distributed import Client, LocalCluster, get_task_stream

    from sim.sweeps.cluster import LOCAL_CONFIG

    workers = os.cpu_count() or 1
    dask_wall = pool_wall = busy = pool_busy = 0.0
    points_run = runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        import dask

        t0 = time.perf_counter()
        with dask.config.set(LOCAL_CONFIG):
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR,
            )  # fmt: skip
        client = Client(cluster)
        started = time.perf_counter() - t0
        t2 = time.perf_counter()
        pool = mp.get_context("spawn").Pool(workers)
        pool_started = time.perf_counter() - t2
        for round_ in range(ROUNDS):
            sweep = load_sweep(sweep_file(Path(tmp), round_))
            tasks = plan(sweep, points(sweep))
            outputs = [(o.figure, o.year) for o in sweep.spec.outputs]
            with get_task_stream(client) as stream:
                t1 = time.perf_counter()
                table = run_sweep(sweep, client=client)
                dask_wall += time.perf_counter() - t1
            busy += sum(
                sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute")
                for task in stream.data
            )
            t3 = time.perf_counter()
            results = pool.map(_timed, [(sweep.config, t, sweep.months, outputs) for t in tasks], chunksize=1)
            pool_wall += time.perf_counter() - t3
            pool_busy += sum(seconds for _, seconds in results)
            points_run += int(table["point"].nunique())
            runs += sum(len(t) for t in tasks)
            print(f"round {round_ + 1}: Dask {dask_wall:.1f} s, pool {pool_wall:.1f} s so far", flush=True)
        pool.close()
        pool.join()
        client.close()
        cluster.close()
    per_run = busy / runs
    share = busy / (dask_wall * workers)
    figures = {
        "points": points_run,
        "runs": runs,
        "workers": workers,
        "rounds": ROUNDS,
        "dask_wall_seconds": round(dask_wall, 2),
        "dask_cluster_start_seconds": round(started, 2),
        "dask_busy_share": round(share, 4),
        "pool_wall_seconds": round(pool_wall, 2),
        "pool_start_seconds": round(pool_started, 2),
        "pool_busy_share": round(pool_busy / (pool_wall * workers), 4),
        "overhead": round(dask_wall / pool_wall - 1, 4),
        "seconds_per_run_dask": round(per_run, 3),
        "seconds_per_run_pool": round(pool_busy / runs, 3),
        # 1,000 runs on w workers: whole waves of tasks, each run at the time measured, at the busy share measured
        "extrapolated_1000_runs_seconds": {
            str(w): round(math.ceil(1000 / 4 / w) * 4 * per_run / share, 1) for w in (2, 8, 32)
        },
    }
    out = ROOT / "experiments" / "results" / "sweep-benchmark.json"
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
