"""Plans ranked against the target (sim/outputs/ranking.py), on yearly tables made by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.outputs.ranking import first_year_at_target, rank_plans


def _yearly(plans: dict[str, dict[int, list[float]]], cost: dict[str, list[float]]) -> pd.DataFrame:
    """A yearly_by_rep-shaped table: each plan's on-time rate per year and run, a cost per run."""
    rows = []
    for scenario, years in plans.items():
        for year, rates in years.items():
            for rep, rate in enumerate(rates):
                rows.append(
                    {
                        "scenario": scenario,
                        "rep": rep,
                        "year": year,
                        "to": f"Dec {year}",
                        "on_time_rate": rate,
                        "plans_issued": 100.0,
                        "cost_total": cost[scenario][rep],
                        "assessments_open_over_30_weeks": 50.0 + rep,
                    }
                )
    return pd.DataFrame(rows)


def test_first_year_at_target_needs_half_the_runs():
    yearly = _yearly({"base": {2023: [0.1, 0.6, 0.2, 0.3], 2024: [0.5, 0.6, 0.1, 0.2]}}, {"base": [1, 1, 1, 1]})
    assert first_year_at_target(yearly, 0.5) == 2024  # 2023: one of four; 2024: two of four
    assert first_year_at_target(yearly, 0.7) is None


def test_earlier_reach_ranks_first_then_share_then_cost():
    plans = {
        "base": {2023: [0.1, 0.1, 0.1, 0.1], 2024: [0.2, 0.2, 0.2, 0.2]},
        "late": {2023: [0.1, 0.1, 0.1, 0.1], 2024: [0.6, 0.6, 0.6, 0.2]},
        "early": {2023: [0.6, 0.6, 0.2, 0.2], 2024: [0.6, 0.6, 0.2, 0.2]},
        "late_cheap": {2023: [0.1, 0.1, 0.1, 0.1], 2024: [0.6, 0.6, 0.6, 0.2]},
    }
    cost = {
        "base": [10, 10, 10, 10],
        "late": [30, 30, 30, 30],
        "early": [50, 50, 50, 50],
        "late_cheap": [20, 21, 22, 23],
    }
    table = rank_plans(_yearly(plans, cost), list(plans), 0.5)
    assert list(table["scenario"]) == ["early", "late_cheap", "late", "base"]
    assert list(table["rank"]) == [1, 2, 3, 4]
    assert list(table["reaches_target_in"].astype(object).where(table["reaches_target_in"].notna(), None)) == [
        2023,
        2024,
        2024,
        None,
    ]
    row = table.set_index("scenario").loc["late_cheap"]
    assert row["runs_at_target_last_year"] == 0.75
    assert row["cost"] == pytest.approx(2 * np.mean([20, 21, 22, 23]))  # two years of the run's cost
    # paired: run by run against the base's run
    assert row["cost_difference"] == pytest.approx(2 * np.mean([10, 11, 12, 13]))
    assert row["cost_difference_low"] < row["cost_difference"] < row["cost_difference_high"]
    assert row["on_time_difference"] == pytest.approx(np.mean([0.4, 0.4, 0.4, 0.0]))
    assert row["cost_per_plan_issued"] == pytest.approx(np.mean([20, 21, 22, 23]) / 100)
    base = table.set_index("scenario").loc["base"]
    assert pd.isna(base["cost_difference"]) and pd.isna(base["on_time_difference"])
