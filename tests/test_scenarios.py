"""Each shipped scenario's staffing does what its description says, against the base on the same
seeds: a plan's name and words are what a planner reads, so they must match what the model does.

Devon's base holds the vacancies Devon reported (about 14 FTE of its 43.5 caseworker posts unfilled
by permanent staff, about 4.5 FTE of them covered by interims); `fill_17_posts` fills them with
permanent caseworkers and stays ahead of the base through 2024 while leavers are replaced at the
base's rate; `convert_and_cap_agency` converts interims to permanent and lowers the agency cap in
step, so that agency cover falls and permanent staff rise; `merge_teams` leaves one caseworker
team from September 2024.
"""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.config import load_config

pytestmark = pytest.mark.slow

SEEDS = (1, 2, 3)
MONTHS = 24  # January 2023 to December 2024
CW = "caseworker"


@pytest.fixture(scope="module")
def devon():
    return load_config("configs/devon.yaml")


def _monthly(config, scenario: str | None) -> pd.DataFrame:
    """The seeds' mean of every measure by month (rows: month, columns: measure)."""
    frames = [sim.run(config, seed=seed, months=MONTHS, cases=False, scenario=scenario).metrics for seed in SEEDS]
    table = pd.concat(frames).pivot_table(index="month", columns="metric", values="value", aggfunc="mean")
    table.index = pd.to_datetime(table.index)
    return table


@pytest.fixture(scope="module")
def base(devon):
    return _monthly(devon, None)


def _unfilled(config, table: pd.DataFrame) -> pd.Series:
    """Caseworker posts not held by permanent staff, by month (the establishment less them)."""
    caseworker_teams = [name for name, team in config.teams.items() if team.role == CW]
    establishment = sum(config.workforce.establishment_fte[name] for name in caseworker_teams)
    return establishment - table[f"fte_in_post.{CW}.permanent"]


def test_the_base_holds_the_vacancies_devon_reported(devon, base):
    cap = devon.workforce.roles[CW].agency_cap_fte
    assert cap == 4.5
    unfilled = _unfilled(devon, base)
    # 14 FTE unfilled by permanent staff in December 2022; new starters only replaced leavers
    assert unfilled.min() >= 10, unfilled.describe()
    assert unfilled.loc["2024"].mean() == pytest.approx(14, abs=3)
    agency = base[f"fte_in_post.{CW}.agency"]
    assert agency.max() <= cap + 1e-9
    assert agency.loc["2024"].mean() >= 3.5  # the interims' cover goes on at about the observed 4.5


def test_fill_17_posts_fills_them_and_stays_ahead_through_2024(devon, base):
    plan = _monthly(devon, "fill_17_posts")
    ahead = plan[f"fte_in_post.{CW}.permanent"] - base[f"fte_in_post.{CW}.permanent"]
    cohorts = sum(a.count * a.fte for a in devon.scenarios["fill_17_posts"].actions)
    assert cohorts == 17
    assert ahead.loc["2023-03"].iloc[0] == pytest.approx(0, abs=1e-9)  # nothing before April 2023
    assert ahead.loc["2024-01"].iloc[0] >= 10  # most of the 17, less leavers and the base's own hires
    assert ahead.loc["2024"].min() >= 4  # not overtaken by the base within the year
    assert _unfilled(devon, plan).loc["2024-01"].iloc[0] <= 4
    # the interims are released as permanent staff arrive into their posts
    assert (
        plan[f"fte_in_post.{CW}.agency"].loc["2024-01"].iloc[0]
        < base[f"fte_in_post.{CW}.agency"].loc["2024-01"].iloc[0]
    )
    # and the posts filled issue more plans in 2024 than the base
    assert plan["plans_issued"].loc["2024"].sum() > 1.05 * base["plans_issued"].loc["2024"].sum()


def test_convert_and_cap_agency_converts_interims_and_does_not_replace_them(devon, base):
    plan = _monthly(devon, "convert_and_cap_agency")
    caps = [(a.date, a.fte) for a in devon.scenarios["convert_and_cap_agency"].actions if a.action == "agency_cap"]
    agency = plan[f"fte_in_post.{CW}.agency"]
    assert caps == sorted(caps) and all(later[1] < earlier[1] for earlier, later in zip(caps, caps[1:], strict=False))
    assert caps[0][1] < devon.workforce.roles[CW].agency_cap_fte  # below the base's, as described
    for (start, cap), end in zip(caps, [*(d for d, _ in caps[1:]), None], strict=True):
        window = agency.loc[str(start) : str(end) if end else None]  # empty past the horizon
        assert window.empty or window.max() <= cap + 1e-9
    assert agency.loc["2023"].equals(base[f"fte_in_post.{CW}.agency"].loc["2023"])  # nothing before 2024
    assert agency.loc["2024-12"].iloc[0] < base[f"fte_in_post.{CW}.agency"].loc["2024-12"].iloc[0] - 1.5
    # interims are converted (none in the base), and stay as permanent staff in posts the base
    # leaves vacant for longer: ahead of the base, by less than the conversions as its hires catch up
    assert base[f"conversions_fte.{CW}"].sum() == 0
    conversions = plan[f"conversions_fte.{CW}"].loc["2024"].sum()
    assert conversions >= 1.5
    ahead = plan[f"fte_in_post.{CW}.permanent"] - base[f"fte_in_post.{CW}.permanent"]
    assert 0 < ahead.loc["2024-04":].mean() < conversions


def test_merge_teams_leaves_one_caseworker_team_from_september_2024(devon):
    plan = _monthly(devon, "merge_teams")
    before, after = plan.loc["2024-08"], plan.loc["2024-10"]
    assert before["fte_in_post.assessment"].iloc[0] > 0 and before["fte_in_post.review"].iloc[0] > 0
    assert after["fte_in_post.casework"].iloc[0] > 0
    assert "fte_in_post.assessment" not in after or pd.isna(after["fte_in_post.assessment"].iloc[0])
