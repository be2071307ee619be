"""A replication's draw of its calibrated parameters and their yearly drift (sim/model/uncertainty.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.config import InputUncertainty
from sim.model.uncertainty import DrawnParameters, draw_parameters, from_free, to_free

PATHS = ["assessment.refusal_probability", "assessment.effort_scale", "demand.growth_per_year"]


def _uncertainty(variance: float = 0.0, drift=None, drift_from=None) -> InputUncertainty:
    return InputUncertainty(
        parameters=PATHS,
        scales=["logit", "log", "linear"],
        estimates=[0.24, 1.5, 0.05],
        covariance=np.diag([variance] * 3).tolist(),
        drift=drift,
        drift_from=drift_from,
    )


def test_each_scale_maps_back_to_itself():
    for value, scale in ((0.24, "logit"), (1.5, "log"), (-0.3, "linear")):
        assert from_free(to_free(value, scale), scale) == pytest.approx(value)
    assert 0 < from_free(-1e6, "logit") < from_free(1e6, "logit") <= 1  # no overflow at the ends


def test_without_uncertainty_the_draw_is_the_estimates_held_within_their_bounds():
    rng = np.random.default_rng(1)
    drawn = draw_parameters(_uncertainty(), rng)
    assert drawn == pytest.approx(dict(zip(PATHS, [0.24, 1.5, 0.05])))
    held = draw_parameters(_uncertainty(), rng, bounds={"assessment.effort_scale": (0.1, 1.2)})
    assert held["assessment.effort_scale"] == 1.2 and held["assessment.refusal_probability"] == pytest.approx(0.24)


def test_a_draw_stays_on_its_scale_and_repeats_with_its_seed():
    """Shares stay shares and positive numbers positive, however wide the uncertainty."""
    draws = [draw_parameters(_uncertainty(4.0), np.random.default_rng(seed)) for seed in range(200)]
    assert all(0 < d["assessment.refusal_probability"] < 1 and d["assessment.effort_scale"] > 0 for d in draws)
    assert any(d["demand.growth_per_year"] < 0 for d in draws)  # a linear one may go either way
    assert draw_parameters(_uncertainty(4.0), np.random.default_rng(7)) == draws[7]


def test_a_forecast_starting_after_the_fitted_year_has_already_drifted_a_year():
    """With drift from 2024 on, a run starting in 2025 starts a step away from the estimates; one
    starting in 2023 starts at them."""
    u = _uncertainty(drift=[0.5, 0.5, 0.0], drift_from="2024-01-01")
    at = DrawnParameters(u, np.random.default_rng(3), dt.date(2023, 1, 1)).values()
    on = DrawnParameters(u, np.random.default_rng(3), dt.date(2025, 1, 1)).values()
    assert at == pytest.approx(dict(zip(PATHS, [0.24, 1.5, 0.05])))
    assert on["assessment.refusal_probability"] != pytest.approx(0.24) and on["assessment.effort_scale"] != 1.5
    assert on["demand.growth_per_year"] == pytest.approx(0.05)  # no drift of its own


def test_each_january_from_drift_from_moves_only_the_parameters_that_drift():
    u = _uncertainty(drift=[0.5, 0.0, 0.0], drift_from="2024-01-01")
    drawn = DrawnParameters(u, np.random.default_rng(5), dt.date(2023, 1, 1))
    current = {"assessment.refusal_probability": 0.3, "assessment.effort_scale": 2.0, "demand.growth_per_year": 0.1}
    assert drawn.new_year(dt.date(2023, 1, 1), current) is None  # before drift_from
    moved = drawn.new_year(dt.date(2024, 1, 1), current)
    assert moved is not None and set(moved) == {"assessment.refusal_probability"}
    assert 0 < moved["assessment.refusal_probability"] < 1 and moved["assessment.refusal_probability"] != 0.3
    # no drift at all: nothing to move, ever
    still = DrawnParameters(
        _uncertainty(drift=[0.0] * 3, drift_from="2024-01-01"), np.random.default_rng(5), dt.date(2023, 1, 1)
    )
    assert still.new_year(dt.date(2025, 1, 1), current) is None
    assert (
        DrawnParameters(_uncertainty(), np.random.default_rng(5), dt.date(2023, 1, 1)).new_year(
            dt.date(2025, 1, 1), current
        )
        is None
    )
