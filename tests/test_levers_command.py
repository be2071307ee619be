"""`sendsim levers`: every number lever of a configuration, by the path `--set` takes, with its
value, unit and the range the schema accepts."""

from __future__ import annotations

import copy
import csv
import io
import math
from pathlib import Path

import pytest
import yaml
from cli_result import assert_no_exception
from click.testing import CliRunner

from sim.cli import main
from sim.config import ConfigError, apply_overrides, parse_config
from sim.experiments.national import is_national
from sim.levers import levers, unit


def _raw(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


# one authority's configurations (a national one lists its authorities' files instead)
CONFIGS = [p for p in sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml")) if not is_national(p)]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_lever_of_a_shipped_configuration_has_a_unit(path):
    config = parse_config(_raw(path), str(path))
    missing = [lever.path for lever in levers(config) if not lever.unit]
    assert not missing, f"name these fields so their unit shows (sim/levers.py UNITS): {missing}"


def _another_value(value: float, low: float, high: float) -> float:
    """A value inside [low, high] other than `value`, whole where `value` is."""
    top = value * 1.5 + 1 if math.isinf(high) else high
    candidate = (value + top) / 2 if top > value else (value + max(low, -abs(value) - 1)) / 2
    return float(round(candidate)) if value.is_integer() and round(candidate) != value else candidate


def test_each_listed_path_sets_that_lever_and_no_other():
    """For every lever of Devon, `--set PATH=VALUE` with the path as listed moves that lever alone
    (named staff groups resolve to the group listed; a change a check across fields refuses is
    left out, and those must stay few)."""
    raw = _raw(CONFIGS[[p.stem for p in CONFIGS].index("devon")])
    base = parse_config(copy.deepcopy(raw), "devon.yaml")
    before = {lever.path: lever.value for lever in levers(base)}
    moved = refused = 0
    for lever in levers(base):
        new = _another_value(lever.value, lever.low, lever.high)
        value = int(new) if new.is_integer() and lever.value.is_integer() else new
        try:
            changed = parse_config(apply_overrides(copy.deepcopy(raw), {lever.path: value}), "devon.yaml")
        except ConfigError:  # e.g. outcome shares that must add up to 1, or a range whose low passes its high
            refused += 1
            continue
        after = {item.path: item.value for item in levers(changed)}
        differs = {path for path in before if not math.isclose(after.get(path, math.nan), before[path])}
        if lever.path.startswith("demand.seasonal_profile."):  # the profile is rescaled to average 1
            assert lever.path in differs and all(p.startswith("demand.seasonal_profile.") for p in differs)
        else:
            assert differs == {lever.path}, (lever.path, value, differs)
        moved += 1
    assert moved >= 0.8 * (moved + refused), (moved, refused)


def test_a_value_past_a_listed_bound_is_refused():
    config = parse_config(_raw(CONFIGS[[p.stem for p in CONFIGS].index("devon")]), "devon.yaml")
    raw = _raw(CONFIGS[[p.stem for p in CONFIGS].index("devon")])
    checked = 0
    for lever in levers(config):
        if math.isinf(lever.high) or not lever.path.startswith(("demand.", "assessment.", "workforce.roles")):
            continue
        with pytest.raises(ConfigError) as refused:
            parse_config(apply_overrides(copy.deepcopy(raw), {lever.path: lever.high * 2 + 1}), "devon.yaml")
        assert lever.path.rsplit(".", 1)[0] in str(refused.value)  # the field, or the distribution it is of
        checked += 1
    assert checked >= 10


def test_units_come_from_the_field_names():
    assert unit("workforce.roles.caseworker.salary_per_year") == "£ a year"
    assert unit("workforce.roles.caseworker.permanent_leaving_rate_per_year") == "share a year"
    assert unit("assessment.ep_advice_hours.mean") == "hours"
    assert unit("assessment.ep_advice_hours.cv") == "sd ÷ mean"
    assert unit("workforce.pressure.reference_caseload_per_fte.review") == "cases per FTE"
    assert unit("staff.review.agency.count") == "people"
    assert unit("initial_state.open_assessments.3.count") == "cases"


def test_levers_command_lists_filters_and_refuses_an_unknown_prefix():
    devon = str(CONFIGS[[p.stem for p in CONFIGS].index("devon")])
    runner = CliRunner()
    shown = runner.invoke(main, ["levers", devon, "staff.review"], terminal_width=200)
    assert_no_exception(shown)
    assert shown.exit_code == 0, shown.output
    assert "staff.review.agency.count" in shown.output and "demand." not in shown.output
    table = runner.invoke(main, ["levers", devon, "--csv", "--scenario", "fill_17_posts"])
    rows = list(csv.DictReader(io.StringIO(table.output)))
    assert table.exit_code == 0 and len(rows) > 100
    assert {"path", "value", "unit", "accepts", "dated_set", "comment"} == set(rows[0])
    assert any(row["comment"].startswith("SEN2") for row in rows)  # the file's comments are the help
    unknown = runner.invoke(main, ["levers", devon, "nosuch"])
    assert_no_exception(unknown)
    assert unknown.exit_code == 2 and "nosuch" in unknown.output
