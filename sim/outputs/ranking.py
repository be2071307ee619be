"""Plans ranked against the planner's target: one row per plan, in the order a committee reads.

A plan that reaches the target on-time rate earlier ranks higher; between plans that reach it in
the same year (or never), the one with more runs at the target in the last year, then the cheaper.
Each row also gives what the plan costs over the whole forecast, per plan issued, and its paired
difference from the base (run by run on the same random numbers), with a 95% confidence interval.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import pandas as pd

from sim.measures import ON_TIME
from sim.outputs.stats import mean_ci

COST, ISSUED, BACKLOG = "cost_total", "plans_issued", "assessments_open_over_30_weeks"
COLUMNS = (
    "rank", "scenario", "reaches_target_in", "runs_at_target_last_year", "on_time_last_year",
    "on_time_last_year_p5", "on_time_last_year_p95", "on_time_difference", "on_time_difference_low",
    "on_time_difference_high", "cost", "cost_difference", "cost_difference_low", "cost_difference_high",
    "cost_per_plan_issued", "open_over_30_weeks_at_end", "open_over_30_weeks_at_end_p5",
    "open_over_30_weeks_at_end_p95",
)  # fmt: skip


def first_year_at_target(yearly: pd.DataFrame, target: float) -> int | None:
    """The first calendar year in which at least half of a plan's runs reach the target."""
    for year, group in yearly.groupby("year", sort=True):
        if int((group[ON_TIME] >= target).sum()) * 2 >= group["rep"].nunique():
            return int(cast(int, year))
    return None


def rank_plans(yearly: pd.DataFrame, scenarios: list[str], target: float) -> pd.DataFrame:
    """`yearly` is `summary.yearly_by_rep` of an experiment; its base is `scenarios[0]`."""
    last_year = yearly["year"].max()
    # a column per plan, a row per replication: replication r of every plan ran on the same numbers
    totals = yearly.groupby(["rep", "scenario"])[[COST, ISSUED]].sum()
    cost, issued = (totals[m].unstack("scenario") for m in (COST, ISSUED))
    last = yearly[yearly["year"] == last_year]
    on_time, backlog = (last.pivot(index="rep", columns="scenario", values=m) for m in (ON_TIME, BACKLOG))
    base = scenarios[0]
    rows = []
    for scenario in scenarios:
        row = {
            "scenario": scenario,
            "reaches_target_in": first_year_at_target(yearly[yearly["scenario"] == scenario], target),
            "runs_at_target_last_year": float((on_time[scenario] >= target).mean()),
            "on_time_last_year": float(on_time[scenario].median()),
            "on_time_last_year_p5": float(on_time[scenario].quantile(0.05)),
            "on_time_last_year_p95": float(on_time[scenario].quantile(0.95)),
            "cost": float(cost[scenario].mean()),
            "cost_per_plan_issued": float((cost[scenario] / issued[scenario].replace(0, np.nan)).mean()),
            "open_over_30_weeks_at_end": float(backlog[scenario].median()),
            "open_over_30_weeks_at_end_p5": float(backlog[scenario].quantile(0.05)),
            "open_over_30_weeks_at_end_p95": float(backlog[scenario].quantile(0.95)),
        }
        for name, values in (("on_time_difference", on_time), ("cost_difference", cost)):
            paired = (values[scenario] - values[base]).to_numpy(dtype=float)
            mean, low, high = mean_ci(paired) if scenario != base else (np.nan, np.nan, np.nan)
            row.update({name: mean, f"{name}_low": low, f"{name}_high": high})
        rows.append(row)
    table = pd.DataFrame(rows)
    order = table.assign(
        _year=table["reaches_target_in"].map(lambda y: math.inf if y is None or pd.isna(y) else y),
        _share=-table["runs_at_target_last_year"],
    ).sort_values(["_year", "_share", "cost"], kind="stable")
    table = table.loc[order.index].reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    table["reaches_target_in"] = table["reaches_target_in"].astype("Int64")
    return table[list(COLUMNS)]
