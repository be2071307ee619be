"""Conservation: every assessment and every plan is accounted for, in total and month by month.

Each test runs once per variant in conftest.VARIANTS (the example; an empty start; a unified team, with and
without a cap; a tight cap; fifo; oldest; triage; round robin; overload; high refusal; a capped EP team;
heavy plan churn).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

MONTHS = 18

STEP_ORDER = [
    ("request_date", "decision_date"),
    ("decision_date", "advice_requested_date"),
    ("advice_requested_date", "ep_advice_date"),
    ("advice_requested_date", "advice_date"),
    ("ep_advice_date", "advice_date"),
    ("advice_date", "draft_date"),
    ("draft_date", "final_date"),
    ("request_date", "end_date"),
]


@pytest.fixture
def result(simulate, variant_name):
    return simulate(variant_name, seed=3, months=MONTHS)


@pytest.fixture
def w(result, monthly):
    return monthly(result)


def _assessment_flows(w: pd.DataFrame) -> pd.Series:
    return w["requests_received"] - w["refusals"] - w["assessments_ended_no_plan"] - w["plans_issued"]


def _plan_flows(w: pd.DataFrame) -> pd.Series:
    return w["plans_issued"] + w["plans_transferred_in"] - w["plans_ceased"]


def test_assessments_are_conserved_over_the_run(w):
    """Open at start + requests = refused + ended with no plan + issued + open at the end."""
    start = w["assessments_open_at_start"].iloc[0]
    assert start + w["requests_received"].sum() == (
        w["refusals"].sum()
        + w["assessments_ended_no_plan"].sum()
        + w["plans_issued"].sum()
        + w["assessments_open"].iloc[-1]
    )


def test_plans_are_conserved_over_the_run(w):
    """Plans in force at start + issued + transferred in - ceased = plans in force at the end."""
    start = w["plans_in_force_at_start"].iloc[0]
    assert start + _plan_flows(w).sum() == w["plans_in_force"].iloc[-1]


def test_assessments_are_conserved_month_by_month(w):
    """Open at month end m = open at month end m-1 (or the start) + the month's flows."""
    before = w["assessments_open"].shift(1)
    before.iloc[0] = w["assessments_open_at_start"].iloc[0]
    np.testing.assert_array_equal(w["assessments_open"].to_numpy(), (before + _assessment_flows(w)).to_numpy())


def test_plans_are_conserved_month_by_month(w):
    """Plans in force at month end m = at month end m-1 (or the start) + the month's flows."""
    before = w["plans_in_force"].shift(1)
    before.iloc[0] = w["plans_in_force_at_start"].iloc[0]
    np.testing.assert_array_equal(w["plans_in_force"].to_numpy(), (before + _plan_flows(w)).to_numpy())


def test_at_start_stocks_match_the_configuration(w, result):
    """The at-start stocks are the configured initial plans and open assessments, reported once."""
    initial = result.config.initial_state
    assert w["plans_in_force_at_start"].iloc[0] == initial.plans_in_force
    assert w["assessments_open_at_start"].iloc[0] == sum(band.count for band in initial.open_assessments)
    at_start = result.metrics[result.metrics["metric"] == "assessments_open_at_start"]
    assert len(at_start) == 1


def test_case_steps_happen_in_order(result):
    """For every case, request <= decision <= advice requested <= EP advice <= advice <= draft <= final."""
    cases = result.cases
    for earlier, later in STEP_ORDER:
        both = cases[earlier].notna() & cases[later].notna()
        bad = cases[both & (cases[earlier] > cases[later])]
        assert bad.empty, f"{earlier} after {later} for cases {bad['case_id'].tolist()[:5]}"


def test_case_steps_are_present_for_their_outcome(result):
    """Issued requests have every step from decision to final; closed cases have an end; open cases none."""
    cases = result.cases
    issued = cases[cases["outcome"] == "issued"]
    issued_requests = issued[~issued["initial"]]  # cases open at the start may skip early steps
    for column in ("decision_date", "advice_requested_date", "ep_advice_date", "advice_date", "draft_date"):
        assert issued_requests[column].notna().all(), column
    assert issued["final_date"].notna().all()
    assert (issued["final_date"] == issued["end_date"]).all()
    refused = cases[cases["outcome"] == "refused"]
    assert refused["decision_date"].notna().all()
    assert refused["advice_requested_date"].isna().all()
    assert (refused["end_date"] == refused["decision_date"]).all()
    no_plan = cases[cases["outcome"] == "no_plan"]
    assert (no_plan["end_date"] == no_plan["draft_date"]).all()
    assert no_plan["final_date"].isna().all()
    still_open = cases[cases["outcome"] == "open"]
    assert still_open["end_date"].isna().all()
    assert set(cases["outcome"]) <= {"issued", "refused", "no_plan", "open"}


def test_case_steps_fall_inside_the_run(result):
    """No step is dated after the end of the run, and only initial cases were requested before it."""
    cases = result.cases
    start = pd.Timestamp(result.config.start_date)
    end = start + pd.DateOffset(months=result.months)
    for column in [c for c in cases.columns if c.endswith("_date") and c != "request_date"]:
        assert (cases[column].dropna() <= end).all(), column
    assert (cases.loc[~cases["initial"], "request_date"] >= start).all()
    assert (cases.loc[cases["initial"], "request_date"] <= start).all()


def test_case_table_agrees_with_the_metrics(result, w):
    """Cases by outcome equal the summed flows, and the open cases equal the last month's stock."""
    outcome = result.cases["outcome"].value_counts()
    assert outcome.get("issued", 0) == w["plans_issued"].sum()
    assert outcome.get("refused", 0) == w["refusals"].sum()
    assert outcome.get("no_plan", 0) == w["assessments_ended_no_plan"].sum()
    assert outcome.get("open", 0) == w["assessments_open"].iloc[-1]
    assert (~result.cases["initial"]).sum() == w["requests_received"].sum()
    assert result.cases["initial"].sum() == w["assessments_open_at_start"].iloc[0]
    assert result.cases["case_id"].is_unique


def test_stocks_are_non_negative_and_age_bands_nest(w):
    """Unallocated counts and caseloads are >= 0; open > 52 <= > 30 <= > 20 weeks <= open."""
    for column in w.columns:
        if column.startswith(("unallocated.", "caseload_per_fte_", "utilisation.", "casework_hours.")):
            assert (w[column] >= 0).all(), column
    assert (w["assessments_open_over_52_weeks"] <= w["assessments_open_over_30_weeks"]).all()
    assert (w["assessments_open_over_30_weeks"] <= w["assessments_open_over_20_weeks"]).all()
    assert (w["assessments_open_over_20_weeks"] <= w["assessments_open"]).all()
    assert (w["assessments_open"] >= 0).all()
    assert (w["plans_in_force"] >= 0).all()
    assert (w["reviews_overdue"] <= w["reviews_in_progress"]).all()


def test_age_bands_agree_with_the_open_cases(result, w):
    """At the last month end, the open cases' ages from the case table give the same age bands."""
    cases = result.cases
    end = pd.Timestamp(result.config.start_date) + pd.DateOffset(months=result.months)
    open_cases = cases[cases["outcome"] == "open"]
    age_weeks = (end - open_cases["request_date"]).dt.total_seconds() / (7 * 86400)
    last = w.iloc[-1]
    for weeks in (20, 30, 52):
        assert (age_weeks > weeks).sum() == last[f"assessments_open_over_{weeks}_weeks"]


def test_flows_nest_within_each_other(w):
    """Sub-counts never exceed their totals (on-time <= issued, late <= completed, and so on)."""
    pairs = [
        ("decisions_within_6_weeks", "decisions_made"),
        ("refusals", "decisions_made"),
        ("plans_issued_within_20_weeks", "plans_issued"),
        ("plans_issued_excluding_exceptions", "plans_issued"),
        ("plans_issued_within_20_weeks_excluding_exceptions", "plans_issued_excluding_exceptions"),
        ("plans_ceased_at_review", "plans_ceased"),
        ("reviews_completed_late", "reviews_completed"),
        ("review_decisions_within_4_weeks", "review_decisions"),
        ("amendments_within_8_weeks", "amendments_finalised"),
    ]
    for part, whole in pairs:
        assert (w[part] <= w[whole]).all(), f"{part} > {whole}"
    assert (
        w["review_decisions_maintain"] + w["review_decisions_amend"] + w["plans_ceased_at_review"]
        == w["review_decisions"]
    ).all()


def _paid_hours(result, team: str, months: pd.DatetimeIndex) -> pd.Series:
    """Paid hours of the team's staff in each month, from the staff history."""
    spells = result.staff[result.staff["team"] == team]
    hours = []
    for begin in months:
        end = begin + pd.offsets.MonthBegin(1)
        overlap = (spells["end_date"].clip(upper=end) - spells["start_date"].clip(lower=begin)).dt.total_seconds()
        days = overlap.clip(lower=0) / 86400
        hours.append((days * spells["hours_per_week"] * spells["fte"] / 7).sum())
    return pd.Series(hours, index=months)


def test_casework_hours_fit_the_capacity_of_the_staff_in_post(result, w):
    """Each month, hours worked <= hours the team could work at its pace <= its staff's paid hours."""
    for team in result.config.teams:
        worked, capacity = w[f"casework_hours.{team}"], w[f"casework_capacity_hours.{team}"]
        assert (worked <= capacity * (1 + 1e-9) + 1e-9).all(), team
        assert (capacity <= _paid_hours(result, team, w.index) * (1 + 1e-9) + 1e-9).all(), team


def test_utilisation_is_worked_over_capacity(result, w):
    """Each month's utilisation is that month's casework hours over the team's capacity hours."""
    for team in result.config.teams:
        np.testing.assert_allclose(
            w[f"utilisation.{team}"], w[f"casework_hours.{team}"] / w[f"casework_capacity_hours.{team}"], rtol=1e-9
        )


def test_utilisation_never_exceeds_one_in_a_month(simulate, monthly):
    """No team works more casework hours in a month than it has (utilisation <= 1 every month)."""
    # Not parametrised over variants: one bug, one failure. Hours are booked to the month a task
    # *finishes*, so a task started late in one month puts all its hours in the next.
    w = monthly(simulate("overloaded", seed=3, months=MONTHS))
    for column in [c for c in w.columns if c.startswith("utilisation.")]:
        above = w[column][w[column] > 1 + 1e-9]
        assert above.empty, f"{column} above 1: {above.round(3).to_dict()}"


def test_monthly_plan_flows_are_counted_in_their_own_month(simulate, monthly):
    """Ceasing and transfers drawn each month land in that month: none doubled, none missing."""
    # ~130 transfers in and ~130 ceased (outside review) a month, expected, on a stock of ~1,500
    w = monthly(
        simulate(
            "example",
            seed=3,
            months=6,
            cases=False,
            **{"plans.transfers_in_rate_per_year": 1.0, "plans.ceasing_rate_per_year": 1.0},
        )
    )
    outside_review = w["plans_ceased"] - w["plans_ceased_at_review"]
    for name, flow in [("plans_transferred_in", w["plans_transferred_in"]), ("ceased outside review", outside_review)]:
        assert (flow > 0).all(), f"{name}: a month with none: {flow.to_dict()}"
        middle = flow.iloc[1:-1].mean()
        assert flow.iloc[0] < 1.5 * middle, f"{name}: first month {flow.iloc[0]} vs {middle:.0f} a month after"
