"""The dashboard's levers without Devon's: ranges in words, a what-if named like one already in the
file, and a configuration without calibrated uncertainty (tests/test_dashboard.py has Devon's)."""

from __future__ import annotations

import pytest

from sim.config import ConfigError, Scenario
from sim.dashboard.levers import Lever, allowed_range, levers_for, scenario, what_if_config


def _lever(low, high, unit="FTE") -> Lever:
    return Lever("x", "A lever", unit, "number", 0, "group", low=low, high=high)


def test_a_levers_range_is_said_from_its_bounds():
    assert allowed_range(_lever(0, 10)) == "0 to 10 FTE"
    assert allowed_range(_lever(-14, None)) == "at least -14 FTE"
    assert allowed_range(_lever(None, 90, "%")) == "at most 90%"


def test_a_what_if_is_not_put_over_a_different_scenario_of_the_same_name(example_config):
    """The file's own scenario is never replaced by the room's what-if; the same one again is fine."""
    theirs = example_config.scenarios["two_more_caseworkers"]
    mine = Scenario(description="something else", overrides={"demand.growth_per_year": 0.1})
    with pytest.raises(ConfigError, match=r"already has a different scenario named 'two_more_caseworkers'"):
        what_if_config(example_config, mine, "two_more_caseworkers")
    same = what_if_config(example_config, theirs, "two_more_caseworkers")
    assert same.scenarios["two_more_caseworkers"] == theirs


def test_without_calibrated_uncertainty_a_lever_sets_its_field_alone(example_config):
    """The example has no `uncertainty:`: moving a lever sets the field, and nothing else follows it."""
    assert example_config.uncertainty is None
    levers = levers_for(example_config)
    growth = next(lever for lever in levers.all if lever.path == "demand.growth_per_year")
    values = {**levers.defaults(), growth.id: growth.default + (1 if growth.percent else 0.01)}
    made = scenario(levers, values)
    assert list(made.overrides) == ["demand.growth_per_year"]
    assert made.overrides["demand.growth_per_year"] == pytest.approx(example_config.demand.growth_per_year + 0.01)
    assert what_if_config(example_config, made).scenarios
