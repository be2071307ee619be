"""The forecasts behind the page: a pool of processes kept warm for the app's life, the base plan
run once, and the latest what-if streaming in replication by replication.

Replication r of the what-if runs on the seed of replication r of the base (common random
numbers), exactly as `sendsim compare` runs a scenario, so the page's figures are compare's for
the same levers and seeds. A new what-if cancels the replications of the old one still waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass

import pandas as pd

from sim.config import Config, resolve_scenario
from sim.experiments.experiment import ExperimentResults, provenance_for, summarise
from sim.experiments.parallel import default_jobs, process_pool
from sim.experiments.replications import BASE, _one
from sim.outputs.stats import monthly_summary
from sim.outputs.summary import NATIONAL_ON_TIME_2022, kpi_table, scenario_differences, yearly_by_rep


def _ready() -> bool:
    """A first task for each worker: the import of the model is paid at start-up, not on a change."""
    return True


def _replication(args: tuple[Config, str, int, int, int | None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One replication as `sendsim compare` runs it, and its yearly table, made in the worker once
    rather than on every redraw of the page."""
    metrics = _one(args)
    return metrics, yearly_by_rep(metrics)


@dataclass
class Batch:
    """The replications of one scenario, submitted in order; read at any moment for those finished."""

    name: str
    config: Config
    futures: list[Future]

    @property
    def done(self) -> int:
        return sum(f.done() and not f.cancelled() for f in self.futures)

    @property
    def complete(self) -> bool:
        return self.done == len(self.futures)

    def finished(self) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
        """(metrics, yearly table) of the finished replications, in replication order."""
        return [f.result() for f in self.futures if f.done() and not f.cancelled()]

    def cancel(self) -> None:
        for f in self.futures:
            f.cancel()


class Forecasts:
    """The base plan and one what-if at a time, on a pool of `jobs` processes."""

    def __init__(
        self,
        config: Config,
        reps: int = 20,
        months: int | None = None,
        seed: int | None = None,
        jobs: int | None = None,
        target: float = NATIONAL_ON_TIME_2022,
    ):
        self.config = config
        self.reps = reps
        self.months = months or config.months
        self.seed = config.seed if seed is None else seed
        self.jobs = jobs or default_jobs()
        self.target = target
        self.pool = process_pool(self.jobs)
        for f in [self.pool.submit(_ready) for _ in range(self.jobs)]:
            f.result()
        self._lock = threading.Lock()
        self.base = self._submit(BASE, config)
        self.what_if: Batch | None = None
        self.kept: dict[str, Batch] = {}  # what-ifs saved as scenarios: their runs finish, for the report
        self.generation = 0

    def _submit(self, name: str, config: Config) -> Batch:
        resolved = resolve_scenario(config, name)
        futures = [
            self.pool.submit(_replication, (resolved, name, rep, self.seed, self.months)) for rep in range(self.reps)
        ]
        return Batch(name, config, futures)

    def start(self, config: Config, name: str) -> int:
        """Run scenario `name` of `config` as the what-if, cancelling the last one's waiting runs;
        the generation number the page polls with."""
        with self._lock:
            self._let_go()
            self.what_if = self._submit(name, config)
            self.generation += 1
            return self.generation

    def clear(self) -> None:
        """Back to the base plan alone."""
        with self._lock:
            self._let_go()
            self.what_if = None
            self.generation += 1

    def _let_go(self) -> None:
        """Cancel the waiting runs of the current what-if, unless it was kept."""
        if self.what_if is not None and all(self.what_if is not kept for kept in self.kept.values()):
            self.what_if.cancel()

    def keep(self, name: str) -> None:
        """Keep the current what-if's runs, as the scenario `name`, for a report."""
        assert self.what_if is not None
        self.kept[name] = self.what_if

    def kept_results(self) -> pd.DataFrame:
        """The base's runs and each kept what-if's, named as saved: what `compare` would run on the
        configuration they were saved into."""
        self.wait()
        for batch in self.kept.values():
            for f in batch.futures:
                f.result()
        frames = [m for m, _ in self.base.finished()]
        for name, batch in self.kept.items():
            frames += [m.assign(scenario=name) for m, _ in batch.finished()]
        return pd.concat(frames, ignore_index=True)

    def progress(self) -> tuple[int, int]:
        """(runs finished, runs asked for) of what the page is waiting for."""
        batch = self.what_if or self.base
        return batch.done, len(batch.futures)

    def _finished(self) -> tuple[list[tuple[pd.DataFrame, pd.DataFrame]], list[str], Config]:
        """The base's and the what-if's finished replications, paired: the base's of the numbers
        the what-if has finished (all of them with no what-if)."""
        base = self.base.finished()
        what_if = self.what_if
        done = what_if.finished() if what_if is not None else []
        if what_if is None or not done:
            return base, [BASE], self.config
        reps = {int(m["rep"].iloc[0]) for m, _ in done}
        return [b for b in base if int(b[0]["rep"].iloc[0]) in reps] + done, [BASE, what_if.name], what_if.config

    def snapshot(
        self, measures: tuple[str, ...] | None = None, monthly: Callable[[Iterable[str]], set[str]] | None = None
    ) -> ExperimentResults | None:
        """The base and the what-if so far, for the page: the key figures (of `measures`, default
        all) and paired differences as `sendsim compare` makes them, over the replications
        finished, and the monthly summary (of the monthly measures `monthly` picks from those the
        runs have, default all)."""
        finished, scenarios, config = self._finished()
        if not finished:
            return None
        results = pd.concat([m for m, _ in finished], ignore_index=True)
        yearly = pd.concat([y for _, y in finished], ignore_index=True)
        if measures is not None:
            yearly = yearly[["scenario", "rep", "year", "to", *[m for m in measures if m in yearly]]]
        provenance = self.provenance(config, scenarios, int(results["rep"].nunique()))
        return ExperimentResults(
            config=config,
            results=results,
            summary=monthly_summary(
                results if monthly is None else results[results["metric"].isin(monthly(results["metric"].unique()))]
            ),
            kpis=kpi_table(results, self.target, yearly=yearly),
            differences=scenario_differences(results, yearly=yearly) if len(scenarios) > 1 else pd.DataFrame(),
            provenance=provenance,
        )

    def experiment(self) -> ExperimentResults:
        """Everything `sendsim compare` keeps of the base and the what-if, once all runs are in."""
        self.wait()
        finished, scenarios, config = self._finished()
        results = pd.concat([m for m, _ in finished], ignore_index=True)
        return summarise(config, results, self.provenance(config, scenarios, self.reps))

    def provenance(self, config: Config, scenarios: list[str], reps: int) -> dict:
        return provenance_for(config, scenarios, reps, self.seed, self.months, self.jobs, None, 0.0, target=self.target)

    def wait(self, timeout: float = 600.0) -> None:
        """Until the base and the what-if have finished (for tests, benchmarks and downloads)."""
        deadline = time.monotonic() + timeout
        for batch in (self.base, self.what_if):
            for f in batch.futures if batch else []:
                if not f.cancelled():
                    f.result(timeout=max(deadline - time.monotonic(), 0.001))

    def close(self) -> None:
        for batch in (self.base, self.what_if, *self.kept.values()):
            if batch is not None:
                batch.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)
