"""The registry of measures (sim/measures.py): each measure declared once, and everything that
reports a measure made from the declaration."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.data.calibrate import MEASURES as CALIBRATION_MOMENTS
from sim.engine.clock import Calendar
from sim.experiments.national import combine
from sim.measures import BY_ID, FIGURES, HEADLINE, MONTHLY, YEARLY, family, format_value, label, over_a_period
from sim.model.metrics import RATES, MonthlyMetrics
from sim.outputs.summary import kpi_table, yearly_table


def test_counting_a_name_nobody_declared_fails():
    metrics = MonthlyMetrics(Calendar(pd.Timestamp("2023-01-01").date(), 2))
    metrics.count("plans_issued")
    metrics.count("plans_isued")  # a typo a free string would carry into every output
    with pytest.raises(ValueError, match="plans_isued"):
        metrics.to_frame()


def test_every_name_a_run_writes_is_declared_and_labelled():
    result = sim.run("configs/devon.yaml", seed=1, months=13, cases=False)
    for name in result.metrics["metric"].unique():
        base, rest = family(name)
        assert label(name).startswith(BY_ID[base].label) or FIGURES[base].per_team
    # a yearly figure made from one monthly measure of the same id is read by the same label
    for figure in YEARLY:
        if figure.id in BY_ID:
            assert figure.label == BY_ID[figure.id].label and figure.unit == BY_ID[figure.id].unit, figure.id


def test_ids_and_labels_are_unique_and_sources_declared():
    assert len({m.id for m in MONTHLY}) == len(MONTHLY)
    assert len({f.id for f in YEARLY}) == len(YEARLY) and len({f.label for f in YEARLY}) == len(YEARLY)
    for figure in YEARLY:
        for source in figure.sources:
            family(source[:-2] + ".x" if source.endswith(".*") else source)
        assert (figure.over_months == "ratio") == (len(figure.sources) == 2 and figure.id != "caseworker_fte_in_post"
                                                   and figure.id != "ep_fte_in_post")  # fmt: skip
    assert set(HEADLINE) <= set(FIGURES)


def test_the_metrics_rates_are_the_declared_ones():
    assert RATES["on_time_rate"] == ("plans_issued_within_20_weeks", "plans_issued")
    assert set(RATES) == {m.id for m in MONTHLY if m.ratio_of and not m.year_to_date}


def test_the_calibration_moments_aggregate_as_declared():
    assert CALIBRATION_MOMENTS["plans_issued"] == ("sum", "plans_issued")
    assert CALIBRATION_MOMENTS["plans_in_force"] == ("last", "plans_in_force")
    assert CALIBRATION_MOMENTS["on_time_rate"] == ("rate", ("plans_issued_within_20_weeks", "plans_issued"))
    with pytest.raises(ValueError, match="percentile"):
        over_a_period("caseload_per_fte_p90.assessment")


def test_the_yearly_table_and_kpis_carry_ids_and_the_figures_recompute_from_the_months():
    result = sim.run("configs/example.yaml", seed=4, months=24, cases=False)
    table = yearly_table(result.metrics)
    assert [c for c in table.columns if c != "to" and "." not in c] == [f.id for f in YEARLY if not f.per_team]
    months = result.metrics.pivot(index="month", columns="metric", values="value")
    in_2023 = months[months.index.year == 2023]
    assert table.loc[2023, "plans_issued"] == in_2023["plans_issued"].sum()
    assert table.loc[2023, "on_time_rate"] == pytest.approx(
        in_2023["plans_issued_within_20_weeks"].sum() / in_2023["plans_issued"].sum())  # fmt: skip
    assert table.loc[2023, "reviews_overdue"] == in_2023["reviews_overdue"].iloc[-1]
    assert table.loc[2023, "vacancies_fte_all_teams"] == in_2023.filter(like="vacancies_fte.").iloc[-1].sum()
    assert table.loc[2023, "caseload_per_fte_mean.assessment"] == in_2023["caseload_per_fte_mean.assessment"].iloc[-1]
    reps = result.metrics.assign(scenario="base", rep=0)
    assert set(kpi_table(reps)["measure"]) == set(table.columns.drop("to"))


def test_values_are_shown_by_their_unit():
    assert format_value("on_time_rate", 0.1234) == "12.3%"
    assert format_value("cost_total", 1234567.0, signed=True) == "+£1,234,567"
    assert format_value("plans_issued", 1234.0) == "1,234"
    assert format_value("caseworker_fte_in_post", 7.25) == "7.2"
    assert format_value("on_time_rate", math.nan) == "–"
    assert label("caseload_per_fte_mean.review") == "Caseload per FTE (review)"
    assert label("fte_in_post.caseworker.agency") == "FTE in post (caseworker, agency)"


def test_authorities_add_up_as_each_measure_declares():
    """Counts add; a mean is weighted by what it is a mean over; a percentile cannot be added."""
    one = pd.DataFrame({"plans_issued": [10.0], "capacity_response_share.assessment": [0.5],
                        "casework_capacity_hours.assessment": [100.0], "caseload_per_fte_p90.assessment": [30.0],
                        "caseload_per_fte_mean.assessment": [40.0], "fte_in_post.assessment": [2.0]})  # fmt: skip
    two = pd.DataFrame({"plans_issued": [30.0], "capacity_response_share.assessment": [0.0],
                        "casework_capacity_hours.assessment": [300.0], "caseload_per_fte_p90.assessment": [60.0],
                        "caseload_per_fte_mean.assessment": [10.0], "fte_in_post.assessment": [6.0]})  # fmt: skip
    total = combine([one, two]).iloc[0]
    assert total["plans_issued"] == 40
    assert total["capacity_response_share.assessment"] == pytest.approx(0.125)  # not 0.5 + 0.0
    assert total["caseload_per_fte_mean.assessment"] == pytest.approx((80 + 60) / 8)
    assert np.isnan(total["caseload_per_fte_p90.assessment"])
