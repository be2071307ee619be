"""A target's conditions (sim/optimise/targets.py): what they accept, and the values a run gives them."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from pydantic import ValidationError

from sim.config import ConfigError
from sim.optimise.targets import Condition, check_measure, condition_values, parse_condition
from sim.outputs.summary import yearly_table


@pytest.fixture(scope="module")
def year_2023(simulate):
    """The example's first 12 months (calendar 2023), and its months as rows."""
    result = simulate("example", seed=3, months=12, cases=False)
    return result.metrics


@pytest.mark.parametrize("bounds", [{}, {"at_least": 0.5, "at_most": 0.9}])
def test_a_condition_has_exactly_one_bound(bounds):
    with pytest.raises(ValidationError, match="exactly one of at_least or at_most"):
        Condition(measure="on_time_rate", year=2025, **bounds)


def test_a_missing_value_never_meets_a_condition():
    """A year the run has no figure for (NaN) meets neither an upper nor a lower bound."""
    assert not Condition(measure="reviews_overdue", year=2025, at_most=1e9).holds(math.nan)
    assert not Condition(measure="on_time_rate", year=2025, at_least=0.0).holds(math.nan)
    assert Condition(measure="reviews_overdue", year=2025, at_most=10).holds(10)
    assert not Condition(measure="reviews_overdue", year=2025, at_most=10).holds(10.5)


def test_every_month_needs_a_month_end_figure():
    """`every_month` on a rate (a flow) is refused, naming the field and the stocks it may name."""
    with pytest.raises(ConfigError, match=r"^target\.conditions\[0\]: every_month needs a month-end figure") as info:
        check_measure("on_time_rate", ["assessment"], "target.conditions[0]", every_month=True)
    assert "'reviews_overdue'" in str(info.value) and "'on_time_rate'" in str(info.value).split("got")[1]
    # a stock, and a team's stock, are accepted
    check_measure("reviews_overdue", ["assessment"], "where", every_month=True)
    check_measure("caseload_per_fte_mean.assessment", ["assessment"], "where", every_month=True)


def test_an_unknown_measure_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match=r"^where: expected a yearly figure or rate, one of \[.*'on_time_rate'"):
        check_measure("on_tim_rate", ["assessment"], "where")


def test_a_number_that_is_not_one_is_refused():
    with pytest.raises(
        ConfigError, match=r"--target 'on_time_rate\.2025>=1\.2\.3': expected a number after >=, got '1\.2\.3'"
    ):
        parse_condition("on_time_rate.2025>=1.2.3")


def test_every_month_is_the_worst_month_of_the_year(year_2023, monthly):
    """Against an upper bound the year's highest month-end figure counts, against a lower one its lowest;
    the year-end figure lies between them."""
    from sim.outputs.summary import wide

    w = wide(year_2023)
    overdue = w["reviews_overdue"][pd.DatetimeIndex(w.index).year == 2023]
    at_most = parse_condition("reviews_overdue.2023.every_month<=100")
    at_least = parse_condition("reviews_overdue.2023.every_month>=0")
    year_end = parse_condition("reviews_overdue.2023<=100")
    high, low, end = condition_values(year_2023, [at_most, at_least, year_end])
    assert high == overdue.max() and low == overdue.min()
    assert low <= end <= high
    assert end == yearly_table(year_2023).loc[2023, "reviews_overdue"]


def test_every_month_of_a_team_and_of_a_year_not_run(year_2023):
    """A team's month-end caseload is read from its own column; a team or a year the run lacks gives NaN."""
    from sim.outputs.summary import wide

    w = wide(year_2023)
    team = parse_condition("caseload_per_fte_mean.assessment.2023.every_month<=1000")
    nobody = parse_condition("caseload_per_fte_mean.nobody.2023.every_month<=1000")
    later = parse_condition("reviews_overdue.2030.every_month<=1")
    value, missing, not_run = condition_values(year_2023, [team, nobody, later])
    assert value == pytest.approx(w["caseload_per_fte_mean.assessment"].max())
    assert math.isnan(missing) and math.isnan(not_run)


def test_a_monthly_rate_is_its_counts_summed_over_the_year(year_2023):
    """`decisions_within_6_weeks_rate` for 2023 is the year's decisions in time over its decisions;
    a year without any gives NaN rather than a rate."""
    from sim.optimise.targets import rate_measures

    numerator, denominator = rate_measures()["decisions_within_6_weeks_rate"]
    frame = year_2023
    top = frame.loc[frame["metric"] == numerator, "value"].sum()
    bottom = frame.loc[frame["metric"] == denominator, "value"].sum()
    assert bottom > 0
    rate, none = condition_values(
        frame,
        [
            parse_condition("decisions_within_6_weeks_rate.2023>=0.5"),
            parse_condition("decisions_within_6_weeks_rate.2031>=0.5"),
        ],
    )
    assert rate == pytest.approx(top / bottom) and 0 <= rate <= 1
    assert math.isnan(none)
