"""The Dask cluster a sweep runs on: a local one by default, or any scheduler by its address.

The local cluster has one single-threaded worker process per core (the model is pure Python: a
thread more per process would only contend for the interpreter lock), bound to 127.0.0.1. An
existing cluster is reached with `--scheduler tcp://HOST:PORT`; start one with

    dask scheduler --host 127.0.0.1 --port 8786
    dask worker tcp://127.0.0.1:8786 --nworkers 2 --nthreads 1

on each machine, in an environment where `import sim` works (this package installed).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec

from sim.config import ConfigError

# The local cluster's workers run pure-Python tasks of a second or more: Dask's statistical
# profiler, which wakes every 10 ms to walk the task thread's stack, costs them for nothing.
LOCAL_CONFIG = {"distributed.worker.profile.enabled": False}


def _has_dashboard() -> bool:
    return find_spec("bokeh") is not None  # Dask serves its dashboard only with bokeh installed


@contextmanager
def connect(scheduler: str | None = None, workers: int | None = None) -> Iterator:
    """A distributed Client: to `scheduler` if given, otherwise to a LocalCluster started here
    with `workers` processes (default: one per core) and closed on leaving."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            _reachable(scheduler)
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    with dask.config.set(LOCAL_CONFIG):  # the workers take the configuration they start with
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # the scheduler's HTTP server (health, metrics; the dashboard with bokeh) always starts: on a
            # free port, so that two clusters on one machine do not contend for 8787
            dashboard_address="127.0.0.1:0",
            # a task's failure comes back to the client through its future; what the workers log
            # themselves is the cluster's housekeeping, and at shutdown (a finished sweep, Ctrl-C or
            # SIGTERM) a worker whose scheduler has already gone logs a heartbeat traceback at ERROR
            silence_logs=logging.CRITICAL,
        )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _reachable(address: str) -> None:
    """A TCP scheduler that refuses connections is told at once, not after Dask's retries."""
    import socket

    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    protocol, location = parse_address(address)
    if protocol == "tcp":
        with socket.create_connection(parse_host_port(location), timeout=10):
            pass


def worker_count(client) -> int:
    """The workers the scheduler knows now (a remote cluster's may come and go)."""
    return len(client.scheduler_info(n_workers=-1).get("workers", {}))


def describe(client) -> str:
    """The cluster in a line: its workers, and its dashboard where it has one."""
    workers = worker_count(client)
    link = f"; dashboard {client.dashboard_link}" if _has_dashboard() and client.dashboard_link else ""
    return f"{workers} worker(s) at {client.scheduler.address}{link}"
