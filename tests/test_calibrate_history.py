"""The calibration's inputs, without fitting anything: a configuration's or SEN2's history as
observations, the windows each published year is simulated in, and what a window's run is scored by."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import load_config
from sim.data.calibrate import (
    CAPACITY,
    CalibrationError,
    _window_j,
    _window_moments,
    build_windows,
    config_history_rows,
    history_rows,
    observation_variance,
    parameter,
    read_history,
    sen2_history,
    simulated_moments,
)
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def devon():
    return load_config(ROOT / "configs" / "devon.yaml")


def _observed(rows: pd.DataFrame, year: int, measure: str) -> float:
    match = rows[(rows["period_start"].dt.year == year) & (rows["measure"] == measure)]
    assert len(match) == 1
    return float(match["observed"].iloc[0])


def test_a_configurations_history_becomes_yearly_observations(devon):
    """Devon's `history:` (2019-2022): counts as published, the on-time rate from its counts with
    the plans issued as its denominator, and a year's closing stock the next January's census,
    the last year's being the census the forecast starts from."""
    rows = config_history_rows(devon)
    assert set(rows["period_start"].dt.year) == {2019, 2020, 2021, 2022}
    assert (rows["period_end"] - rows["period_start"]).dt.days.min() >= 365
    for year, figures in devon.history.items():
        assert _observed(rows, year, "requests_received") == figures.requests_received
        assert _observed(rows, year, "plans_issued") == figures.plans_issued
        rate = rows[(rows["period_start"].dt.year == year) & (rows["measure"] == "on_time_rate")].iloc[0]
        assert rate["observed"] == pytest.approx(figures.plans_issued_within_20_weeks / figures.plans_issued)
        assert rate["n"] == figures.plans_issued
    assert _observed(rows, 2019, "plans_in_force") == devon.history[2020].plans_in_force_january
    assert _observed(rows, 2022, "plans_in_force") == devon.initial_state.plans_in_force


def test_a_configuration_without_history_has_no_observations(example_config):
    rows = config_history_rows(example_config.model_copy(update={"history": {}}))
    assert rows.empty and list(rows.columns) == ["period_start", "period_end", "measure", "observed", "n"]


def test_sen2_figures_become_a_history_table():
    """SEN2's names are mapped to the history's; a year's closing stock is next January's census;
    a year not published, or with nothing published, is left out."""
    h = pd.DataFrame(
        {
            "requests": [1000.0, 1100.0, np.nan],
            "decided_not_to_assess": [200.0, 250.0, np.nan],
            "no_plan": [30.0, 40.0, np.nan],
            "plans_issued": [700.0, 720.0, np.nan],
            "on_time_rate": [0.5, 0.4, np.nan],
            "plans_in_force_january": [5000.0, 5400.0, np.nan],
        },
        index=[2020, 2021, 2022],
    )
    table = sen2_history(h, [2019, 2020, 2021, 2022])
    assert list(table["period"]) == ["2020", "2021"]
    first = table.iloc[0]
    assert first["requests_received"] == 1000 and first["refusals"] == 200
    assert first["assessments_ended_no_plan"] == 30 and first["plans_issued"] == 700
    assert first["plans_in_force"] == 5400  # the census of January 2021
    assert np.isnan(table.iloc[1]["plans_in_force"])  # January 2022's census is not published
    # and the table is one the calibration reads
    rows = history_rows(table, "SEN2")
    assert _observed(rows, 2021, "on_time_rate") == 0.4


@pytest.mark.parametrize(
    "text, expected",
    [
        ("period,plans_issued\n2022,many\n", r"h\.csv, line 2: plans_issued 'many': expected a number"),
        (
            "period,plans_issued\n2022,10\n2023,-1\n",
            r"h\.csv, line 3: plans_issued -1\.0: expected a count of 0 or more",
        ),
        ("period,on_time_rate\n2022,1.5\n", r"line 2: on_time_rate 1\.5: expected a share from 0 to 1"),
        ("period,plans_issued\n2022-13,10\n", r"line 2: period '2022-13': expected a year \(2021\) or a month"),
    ],
)
def test_a_bad_figure_is_refused_with_its_line(tmp_path, text, expected):
    path = tmp_path / "h.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalibrationError, match=expected):
        read_history(path)


def test_an_unreadable_history_is_refused_naming_the_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"empty\.csv: cannot read the history"):
        read_history(empty)
    with pytest.raises(CalibrationError, match=r"missing\.csv: cannot read the history"):
        read_history(tmp_path / "missing.csv")


def test_each_published_year_before_the_start_is_a_window_of_its_own_flows(devon):
    """A window runs its year alone for 12 months from 1 January, with that year's requests, share
    refused and share ending without a plan, and is scored on its plans issued and on-time rate."""
    windows = build_windows(devon, config_history_rows(devon))
    assert [w.year for w in windows] == [2019, 2020, 2021, 2022]
    for w in windows:
        figures = devon.history[w.year]
        c = w.config
        assert c.start_date.isoformat() == f"{w.year}-01-01" and c.months == 12
        assert c.demand.requests_per_month == pytest.approx(figures.requests_received / 12)
        assert c.demand.growth_per_year == 0 and not c.actions and not c.scenarios
        assert c.assessment.refusal_probability == pytest.approx(figures.refusals / figures.requests_received)
        ended = figures.plans_issued + figures.assessments_ended_no_plan
        assert c.assessment.no_plan_probability == pytest.approx(figures.assessments_ended_no_plan / ended)
        assert w.observed["plans_issued"] == w.n_plans == figures.plans_issued
        assert w.observed["on_time_rate"] == pytest.approx(figures.plans_issued_within_20_weeks / figures.plans_issued)
        assert sum(o.count for o in c.initial_state.open_assessments) > 0


def test_years_from_the_start_on_and_without_plans_make_no_window(example_config):
    table = pd.DataFrame({"period": ["2021", "2022", "2023"], "requests_received": [400, 450, 500]})
    table["plans_issued"] = [np.nan, 300, 320]
    windows = build_windows(example_config, history_rows(table))
    assert [w.year for w in windows] == [2022]  # 2021 has no plans issued; 2023 is the forecast's
    assert "on_time_rate" not in windows[0].observed


def test_a_window_is_scored_by_its_distance_from_the_year_in_variances():
    observed = {"plans_issued": 100.0, "on_time_rate": 0.5}
    variance = {"plans_issued": 100.0, "on_time_rate": 0.01}
    assert _window_j(np.array([[100.0, 0.5], [100.0, 0.5]]), observed, variance, 1.0) == 0
    # 10 plans short (one standard deviation) and 0.1 off the rate (one more): J = 2, halved by a factor 2
    j = _window_j(np.array([[90.0, 0.4], [90.0, 0.4]]), observed, variance, 1.0)
    assert j == pytest.approx(2.0)
    assert _window_j(np.array([[90.0, 0.4]]), observed, variance, 2.0) == pytest.approx(1.0)
    # a window that issued nothing has no rate: scored as a rate of 0
    assert _window_j(np.array([[0.0, np.nan]]), {"on_time_rate": 0.5}, variance, 1.0) == pytest.approx(25.0)


def test_a_windows_run_gives_its_plans_and_on_time_rate(example_config):
    table = pd.DataFrame({"period": ["2022"], "requests_received": [480], "refusals": [110], "plans_issued": [300]})
    (window,) = build_windows(example_config, history_rows(table))
    moments = _window_moments(window.config, {CAPACITY: 1.0}, [1, 2])
    assert moments.shape == (2, 2)
    assert (moments[:, 0] > 0).all() and ((moments[:, 1] >= 0) & (moments[:, 1] <= 1)).all()
    again = _window_moments(window.config, {CAPACITY: 1.0}, [1])
    assert np.array_equal(again[0], moments[0])  # the same seed gives the same year
    # five times the effort a task takes (a fifth of the capacity) issues fewer plans
    assert _window_moments(window.config, {CAPACITY: 5.0}, [1, 2])[:, 0].mean() < moments[:, 0].mean()


def test_simulated_moments_follow_each_measures_period(simulate):
    """A count is summed over its period, a stock is its period's last month, a rate is its
    counts' ratio; a period the run does not reach is NaN."""
    result = simulate("example", seed=3, months=12, cases=False)
    history = history_rows(
        pd.DataFrame(
            {
                "period": ["2023", "2023-06", "2030"],
                "requests_received": [1, 1, 1],
                "plans_in_force": [1, 1, 1],
                "on_time_rate": [0.5, 0.5, 0.5],
            }
        )
    )
    values = dict(
        zip(
            zip(history["period_start"].dt.strftime("%Y-%m"), history["measure"]),
            simulated_moments(result.metrics, history),
        )
    )
    series = result.series
    assert values[("2023-01", "requests_received")] == series("requests_received").sum()
    assert values[("2023-06", "plans_in_force")] == series("plans_in_force").iloc[5]
    assert values[("2023-01", "plans_in_force")] == series("plans_in_force").iloc[-1]
    issued = series("plans_issued").sum()
    assert values[("2023-01", "on_time_rate")] == pytest.approx(series("plans_issued_within_20_weeks").sum() / issued)
    assert np.isnan(values[("2030-01", "requests_received")])


def test_an_observations_variance_is_floored():
    assert observation_variance("plans_issued", 400, np.nan) == 400
    assert observation_variance("plans_issued", 3, np.nan) == 25  # no small count dominates
    assert observation_variance("on_time_rate", 0.5, 100) == pytest.approx(0.0025)
    assert observation_variance("on_time_rate", 0.0, np.nan) == pytest.approx(0.02 * 0.98 / 100)


def test_a_parameters_scale_follows_its_kind(example_config):
    """A probability is fitted on the logit scale within 0 and 1, a positive number on the log scale
    within a factor of ten, anything else on a linear one; a path that is not a number is refused."""
    p = parameter(example_config, "assessment.refusal_probability")
    assert (p.scale, p.low, p.high, p.start) == ("logit", 0.0, 1.0, 0.24)
    p = parameter(example_config, "demand.requests_per_month")
    assert (p.scale, p.low, p.high) == ("log", 4.0, 400.0)
    p = parameter(example_config, "demand.growth_per_year", low=-0.5)
    assert p.scale == "log" and p.low == -0.5
    with pytest.raises(CalibrationError, match=r"calibration parameter 'demand\.nothing'"):
        parameter(example_config, "demand.nothing")


def _calibration(example_config, degrees_of_freedom: int, p_value: float, z: list[float]):
    from sim.data.calibrate import Calibration, Parameter

    p = Parameter("assessment.refusal_probability", 0.24, 0.0, 1.0, "logit")
    fit = pd.DataFrame(
        {
            "period": ["2022", "2023"],
            "measure": ["plans_issued", "on_time_rate"],
            "observed": [300.0, 0.5],
            "simulated": [310.0, 0.2],
            "z": z,
        }
    )
    return Calibration(
        years=[], yearly=[], yearly_parameters=[], parameters=[p], estimates=np.array([0.3]),
        covariance=np.array([[0.04]]), columns=[("s", None, p)], fit=fit, objective=12.3,
        degrees_of_freedom=degrees_of_freedom, p_value=p_value, runs=10, seconds=1.0, drift={},
        config=example_config,
    )  # fmt: skip


def test_the_verdict_says_whether_the_fit_was_tested_and_what_it_found(example_config):
    """Exactly identified: no test, by construction. Tested: accepted or, below the threshold,
    rejected with a warning; each names the worst figure by its z."""
    from sim.data.calibrate import REJECT_BELOW

    exact = _calibration(example_config, 0, float("nan"), [0.5, -3.0])
    assert not exact.rejected
    assert exact.verdict().startswith("No test of fit: each year's capacity and fast-track share are fitted")
    assert (
        "(J = 12.3); the worst figure is on_time_rate in 2023: simulated 0.2 against 0.5 (z = -3.0)." in exact.verdict()
    )
    rejected = _calibration(example_config, 3, REJECT_BELOW / 2, [0.5, -3.0])
    assert rejected.rejected
    assert rejected.verdict().startswith(f"FIT REJECTED (J = 12.3 on 3 degrees of freedom, p = {REJECT_BELOW / 2:.3f})")
    assert "Read its forecasts as a what-if, not as a calibrated forecast." in rejected.verdict()
    accepted = _calibration(example_config, 3, 0.5, [float("nan"), float("nan")])
    assert not accepted.rejected
    assert (
        accepted.verdict()
        == "Fit accepted (J = 12.3 on 3 degrees of freedom, p = 0.500): the history is within the model's noise."
    )


def test_the_table_gives_each_estimate_with_its_interval_on_the_natural_scale(example_config):
    """A share's interval comes back from the logit scale: inside 0 to 1 and around the estimate."""
    table = _calibration(example_config, 1, 0.5, [0.0, 0.0]).table()
    (row,) = table.to_dict("records")
    assert row["parameter"] == "assessment.refusal_probability" and row["estimate"] == 0.3 and row["start"] == 0.24
    assert 0 < row["ci_low"] < 0.3 < row["ci_high"] < 1
    # 0.2 on the logit scale is 0.2 x p(1 - p) = 0.042 on the natural one
    assert row["standard_error"] == pytest.approx(0.2 * 0.3 * 0.7)
