"""The statutory timeliness measures, recomputed from the case table and compared with the metrics.

DfE's definitions: a plan counts in the month (or year) it is issued, and is on time if issued
within 20 weeks of the request; the denominator is the plans issued in the period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

MONTHS = 30  # two calendar years and a half, so the year-to-date rate resets twice

# variants that stress timeliness differently; each gives late and on-time plans
VARIANTS = ["example", "overloaded", "oldest", "tight_cap"]


@pytest.fixture(params=VARIANTS)
def result(request, simulate):
    return simulate(request.param, seed=4, months=MONTHS)


@pytest.fixture
def w(result, monthly):
    return monthly(result)


def _month(dates: pd.Series) -> pd.Series:
    return dates.dt.to_period("M").dt.to_timestamp()


def _per_month(flags: pd.Series, months: pd.Series, index: pd.Index) -> pd.Series:
    return flags.astype(float).groupby(months).sum().reindex(index, fill_value=0.0)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den).where(den > 0)


@pytest.fixture
def recomputed(result, w) -> pd.DataFrame:
    """Monthly counts of plans issued, on time and excluding exceptions, from the case table alone."""
    cases = result.cases
    deadline = pd.Timedelta(weeks=result.config.assessment.final_deadline_weeks)
    issued = cases[cases["final_date"].notna()]
    month = _month(issued["final_date"])
    on_time = (issued["final_date"] - issued["request_date"]) <= deadline
    ordinary = ~issued["exception"]
    return pd.DataFrame(
        {
            "plans_issued": _per_month(pd.Series(True, index=issued.index), month, w.index),
            "plans_issued_within_20_weeks": _per_month(on_time, month, w.index),
            "plans_issued_excluding_exceptions": _per_month(ordinary, month, w.index),
            "plans_issued_within_20_weeks_excluding_exceptions": _per_month(on_time & ordinary, month, w.index),
        }
    )


def test_the_runs_issue_plans_both_on_time_and_late(recomputed):
    """Sanity for the checks below: there are on-time and late plans to count."""
    issued = recomputed["plans_issued"].sum()
    on_time = recomputed["plans_issued_within_20_weeks"].sum()
    assert 0 < on_time < issued


@pytest.mark.parametrize(
    "count",
    [
        "plans_issued",
        "plans_issued_within_20_weeks",
        "plans_issued_excluding_exceptions",
        "plans_issued_within_20_weeks_excluding_exceptions",
    ],
)
def test_monthly_issue_counts_match_the_case_table(w, recomputed, count):
    """Each month's count of plans issued (on time, excluding exceptions) equals the case table's."""
    pd.testing.assert_series_equal(w[count], recomputed[count], check_names=False)


def test_case_table_on_time_flag_uses_the_20_week_deadline(result):
    """issued_within_20_weeks and weeks_to_final_plan agree with final_date - request_date."""
    cases = result.cases
    issued = cases[cases["final_date"].notna()]
    weeks = (issued["final_date"] - issued["request_date"]) / pd.Timedelta(weeks=1)
    np.testing.assert_allclose(issued["weeks_to_final_plan"], weeks, rtol=1e-9)
    assert (issued["issued_within_20_weeks"] == (weeks <= 20)).all()
    assert not cases.loc[cases["final_date"].isna(), "issued_within_20_weeks"].any()


@pytest.mark.parametrize(
    "rate, num, den",
    [
        ("on_time_rate", "plans_issued_within_20_weeks", "plans_issued"),
        (
            "on_time_rate_excluding_exceptions",
            "plans_issued_within_20_weeks_excluding_exceptions",
            "plans_issued_excluding_exceptions",
        ),
        ("decisions_within_6_weeks_rate", "decisions_within_6_weeks", "decisions_made"),
        ("review_decisions_within_4_weeks_rate", "review_decisions_within_4_weeks", "review_decisions"),
        ("amendments_within_8_weeks_rate", "amendments_within_8_weeks", "amendments_finalised"),
    ],
)
def test_monthly_rates_are_their_counts_ratio(w, rate, num, den):
    """A monthly rate is its numerator over its denominator, and missing (NaN) when nothing was done."""
    expected = _ratio(w[num], w[den])
    np.testing.assert_allclose(w[rate], expected, rtol=1e-12, equal_nan=True)
    assert w.loc[w[den] == 0, rate].isna().all()
    assert ((w[rate].dropna() >= 0) & (w[rate].dropna() <= 1)).all()


@pytest.mark.parametrize(
    "rate, num, den",
    [
        ("on_time_rate_ytd", "plans_issued_within_20_weeks", "plans_issued"),
        (
            "on_time_rate_ytd_excluding_exceptions",
            "plans_issued_within_20_weeks_excluding_exceptions",
            "plans_issued_excluding_exceptions",
        ),
    ],
)
def test_year_to_date_rates_restart_each_january(w, recomputed, rate, num, den):
    """The year-to-date rate is the calendar year's cumulative on-time plans over plans issued."""
    year = w.index.year
    expected = _ratio(recomputed[num].groupby(year).cumsum(), recomputed[den].groupby(year).cumsum())
    np.testing.assert_allclose(w[rate], expected, rtol=1e-12, equal_nan=True)
    # each December's year-to-date rate is that calendar year's rate, from the case table
    for _year, months in recomputed.groupby(year):
        if months.index[-1].month == 12:
            calendar_year = months[num].sum() / months[den].sum()
            assert w.loc[months.index[-1], rate] == pytest.approx(calendar_year, rel=1e-12)


def test_calendar_year_rate_from_cases(result, w):
    """Per calendar year of issue, the on-time share of cases issued equals summed counts' ratio."""
    cases = result.cases
    issued = cases[cases["final_date"].notna()]
    by_year = issued.groupby(issued["final_date"].dt.year)["issued_within_20_weeks"].mean()
    sums = w.groupby(w.index.year)[["plans_issued_within_20_weeks", "plans_issued"]].sum()
    from_metrics = sums["plans_issued_within_20_weeks"] / sums["plans_issued"]
    pd.testing.assert_series_equal(by_year, from_metrics, check_names=False, check_index_type=False)


def test_decisions_within_6_weeks_match_the_case_table(result, w):
    """Decisions made, and those within 6 weeks of the request, per month equal the case table's."""
    cases = result.cases
    decided = cases[cases["decision_date"].notna()]
    month = _month(decided["decision_date"])
    deadline = pd.Timedelta(weeks=result.config.assessment.decision_deadline_weeks)
    within = (decided["decision_date"] - decided["request_date"]) <= deadline
    pd.testing.assert_series_equal(
        w["decisions_made"], _per_month(pd.Series(True, index=decided.index), month, w.index), check_names=False
    )
    pd.testing.assert_series_equal(w["decisions_within_6_weeks"], _per_month(within, month, w.index), check_names=False)


def test_refusals_and_no_plan_endings_match_the_case_table(result, w):
    """Refusals per month of decision, and no-plan endings per month of draft, equal the metrics."""
    cases = result.cases
    refused = cases[cases["outcome"] == "refused"]
    no_plan = cases[cases["outcome"] == "no_plan"]
    pd.testing.assert_series_equal(
        w["refusals"],
        _per_month(pd.Series(True, index=refused.index), _month(refused["end_date"]), w.index),
        check_names=False,
    )
    pd.testing.assert_series_equal(
        w["assessments_ended_no_plan"],
        _per_month(pd.Series(True, index=no_plan.index), _month(no_plan["end_date"]), w.index),
        check_names=False,
    )


def test_requests_per_month_match_the_case_table(result, w):
    """Requests received per month equal the new cases by month of request."""
    new = result.cases[~result.cases["initial"]]
    pd.testing.assert_series_equal(
        w["requests_received"],
        _per_month(pd.Series(True, index=new.index), _month(new["request_date"]), w.index),
        check_names=False,
    )
