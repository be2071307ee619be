"""A study's folder, written whole or not at all: the trials (Parquet and CSV), the candidates run
again, the recommended plan as a named scenario in a copy of the configuration (comments kept,
ready for `sendsim compare`), the Pareto chart, the HTML page and provenance."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.config import Scenario
from sim.dashboard.scenarios import save_scenario
from sim.experiments.runner import atomic_folder
from sim.optimise.spec import Problem
from sim.outputs.provenance import provenance as make_provenance

TRIALS = "trials.parquet"


def recommended_scenario(problem: Problem, plan: Scenario) -> Scenario:
    """The plan as a scenario of the configuration file: on top of the file's scenario it was sought for."""
    from sim.config import load_config

    config = load_config(problem.config_path)
    if problem.spec.scenario == "base":
        return plan
    base = config.scenarios[problem.spec.scenario]
    return Scenario(
        description=plan.description,
        overrides={**base.overrides, **plan.overrides},
        actions=[*base.actions, *plan.actions],
    )


def write_study(
    out: Path,
    problem: Problem,
    kind: str,
    tables: dict[str, pd.DataFrame],
    scenario_name: str,
    plan: Scenario | None,
    page: Callable[[dict, Path], str],
    chart: Callable[[Path], object],
    started: dt.datetime,
    record: dict,
) -> Path:
    """Write the folder atomically; the path of the configuration copy (with the plan if there is one)."""
    copy_name = problem.config_path.name
    with atomic_folder(out) as staging:
        for name, table in tables.items():
            table.to_parquet(staging / f"{name}.parquet", index=False)
            table.to_csv(staging / f"{name}.csv", index=False)
        if plan is not None:
            save_scenario(
                problem.config_path, staging / copy_name, scenario_name, recommended_scenario(problem, plan),
                comment=f"saved from sendsim {kind}",
            )  # fmt: skip
        (staging / "plots").mkdir()
        chart(staging / "plots")
        (staging / "optimisation.json").write_text(
            json.dumps(problem.spec.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
        )
        prov = make_provenance(
            kind=kind,
            optimisation_file=problem.source,
            config=str(problem.config_path),
            config_name=problem.config.name,
            scenario=problem.spec.scenario,
            seed=problem.seed,
            months=problem.months,
            started=started.isoformat(timespec="seconds"),
            finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **record,
        )
        (staging / "provenance.json").write_text(json.dumps(prov, indent=2, default=str) + "\n", encoding="utf-8")
        (staging / f"{kind}.html").write_text(page(prov, staging / "plots"), encoding="utf-8")
    return out / copy_name
