"""Work done in parallel processes that end with their parent, and kept as each piece finishes.

`run_all` runs a function over a list of work items, in `jobs` processes, and returns the results
in the items' order (so they do not depend on `jobs`). With a `Staging` folder each finished
result is written there at once, and a later call with the same staging runs only what is
missing: a job killed half-way loses only the pieces that were running.

Workers ignore Ctrl-C (the parent decides what an interrupt means) and die with the parent
however it ends, even by SIGKILL: Linux's parent-death signal where there is one, and a watchdog
thread that notices the parent has gone everywhere.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import pickle
import shutil
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sim.files import write_atomic

WATCHDOG_SECONDS = 0.5
PR_SET_PDEATHSIG = 1


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _die_with_parent(parent: int) -> None:
    """In a worker: ignore Ctrl-C, and exit as soon as the parent process is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the watchdog below does it
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def process_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of `jobs` worker processes that end with this one."""
    return ProcessPoolExecutor(max_workers=jobs, initializer=_die_with_parent, initargs=(os.getpid(),))


class StagingError(Exception):
    """A staging folder that cannot be used as asked; the message says what to do."""


class Staging:
    """A folder beside a job's results, OUT.partial, holding each finished piece as it completes.

    `job` describes the job (configuration, seed, horizon, code version): a resume with anything
    different would not give the results of one uninterrupted run, so it is refused.
    """

    SUFFIX = ".partial"

    def __init__(self, folder: Path, job: dict[str, Any]):
        self.folder = folder
        self.job = job

    @classmethod
    def beside(cls, out_dir: Path, job: dict[str, Any], resume: bool) -> Staging:
        folder = out_dir.parent / f"{out_dir.name}{cls.SUFFIX}"
        job = json.loads(json.dumps(job, default=str))  # as it will read back
        staging = cls(folder, job)
        if folder.exists():
            kept = staging.finished()
            if not resume:
                raise StagingError(
                    f"{folder} holds {kept} finished piece(s) of an interrupted run of this job: run the same "
                    "command with --resume to continue it, or delete that folder to start again"
                )
            try:
                before = json.loads((folder / "job.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise StagingError(
                    f"{folder}: job.json is missing or damaged; delete the folder to start again"
                ) from None
            changed = sorted(k for k in {*before, *job} if before.get(k) != job.get(k))
            if changed:
                raise StagingError(
                    f"{folder} was started with different settings ({', '.join(changed)}): resuming would not "
                    "give the results of one run; use the settings it was started with, or delete the folder"
                )
            return staging
        try:
            folder.mkdir(parents=True)
            write_atomic(folder / "job.json", (json.dumps(job, indent=2, sort_keys=True) + "\n").encode())
        except OSError as exc:
            raise StagingError(f"{folder}: cannot keep finished work there ({exc.strerror})") from None
        return staging

    def _path(self, key: str) -> Path:
        return self.folder / f"{quote(key, safe='')}.pickle"

    def has(self, key: str) -> bool:
        return self._path(key).exists()

    def load(self, key: str) -> Any:
        with open(self._path(key), "rb") as handle:
            return pickle.load(handle)

    def save(self, key: str, value: Any) -> None:
        write_atomic(self._path(key), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def finished(self) -> int:
        return sum(1 for _ in self.folder.glob("*.pickle"))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_all(
    function: Callable[[Any], Any],
    work: Sequence[Any],
    keys: Sequence[str],
    jobs: int,
    staging: Staging | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Any]:
    """function(item) for every item, in the items' order; each result kept in `staging` (under
    its key) as soon as it is done, and taken from there if it was done before."""
    results: dict[int, Any] = {}
    for i, key in enumerate(keys):
        if staging is not None and staging.has(key):
            results[i] = staging.load(key)
    if progress and results:
        progress(len(results))
    todo = [i for i in range(len(work)) if i not in results]

    def finish(i: int, value: Any) -> None:
        if staging is not None:
            staging.save(keys[i], value)
        results[i] = value
        if progress:
            progress(1)

    if jobs <= 1 or len(todo) <= 1:
        for i in todo:
            finish(i, function(work[i]))
    else:
        pool = process_pool(min(jobs, len(todo)))
        running: dict[Any, int] = {}
        try:
            running.update({pool.submit(function, work[i]): i for i in todo})
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    finish(running.pop(future), future.result())
        finally:
            # on an interrupt or an error, nothing more is started and the parent does not wait for
            # the pieces running: their workers end with it
            pool.shutdown(wait=not running, cancel_futures=True)
    return [results[i] for i in range(len(work))]
