"""Pieces of the outputs that the end-to-end tests reach only in some runs: a Sobol chart, the noise
note of a sweep of one run a point, and charts' sums over measures a run may not have."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.outputs.plots import with_derived
from sim.outputs.sensitivity import noise_share
from sim.outputs.sensitivity_report import _noise_note, index_chart


def test_a_sobol_chart_is_written_as_png_and_svg(tmp_path):
    rows = pd.DataFrame(
        {"parameter": ["a", "b"], "S1": [0.5, 0.1], "S1_conf": [0.05, 0.02], "ST": [0.6, 0.2], "ST_conf": [0.05, 0.03]}
    )
    paths = index_chart("on_time_rate.2025", rows, "sobol", tmp_path / "sobol")
    assert {p.suffix for p in paths} == {".png", ".svg"}
    png = next(p for p in paths if p.suffix == ".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = next(p for p in paths if p.suffix == ".svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def _table(reps: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        {"output": "on_time_rate.2025", "point": p, "rep": r, "value": p * 0.1 + rng.normal(0, 0.01)}
        for p in range(5)
        for r in range(reps)
    ]
    return pd.DataFrame(rows)


def test_one_run_a_point_cannot_tell_noise_from_effects_and_says_so():
    one = _table(1)
    assert np.isnan(noise_share(one, "on_time_rate.2025"))
    assert _noise_note(one, "on_time_rate.2025") == (
        "With one run a point, the runs' own noise cannot be told from the parameters' effects."
    )
    several = _table(4)
    share = noise_share(several, "on_time_rate.2025")
    assert 0 <= share < 0.1  # the points differ by 0.1 each, the runs by 0.01
    assert _noise_note(several, "on_time_rate.2025").startswith("The runs' own noise")


def test_the_charts_sums_are_added_only_from_measures_the_run_has():
    """A summary whose results hold none of the measures a chart adds up comes back as it was; with
    one of them (vacancies of one team) the sum over teams is added, equal to that team's."""
    summary = pd.DataFrame({"scenario": ["base"], "month": ["2023-01"], "metric": ["plans_issued"], "mean": [3.0]})
    results = pd.DataFrame(
        {
            "scenario": ["base"] * 2,
            "rep": [0, 1],
            "month": ["2023-01"] * 2,
            "metric": ["plans_issued"] * 2,
            "value": [2.0, 4.0],
        }
    )
    assert with_derived(summary, results) is summary
    vacancies = results.assign(metric="vacancies_fte.review", value=[1.0, 3.0])
    derived = with_derived(summary, pd.concat([results, vacancies], ignore_index=True))
    added = derived[derived["metric"] == "vacancies_fte_all_teams"]
    assert len(added) == 1 and added["mean"].iloc[0] == 2.0
    assert "caseworkers_in_post" not in set(derived["metric"])
