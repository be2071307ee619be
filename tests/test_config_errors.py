"""Bad configurations: refused with exit status 2 and one message a person can act on.

Each bad file is the example with one thing wrong, written to tmp_path. Both `sendsim validate`
and `sendsim run --out DIR` must exit 2, name the file, the dotted field and what was expected,
print no traceback, and write nothing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_result import assert_no_exception
from click.testing import CliRunner

from sim.cli import main
from sim.config import ConfigError, load_config, parse_config


def squash(text: str) -> str:
    """Text without whitespace: the console wraps long lines (and long paths) at 80 columns."""
    return re.sub(r"\s+", "", text)


def _delete(section: str, key: str) -> Callable[[dict], None]:
    return lambda raw: raw[section].pop(key)


def _put(section: str, key: str, value: Any) -> Callable[[dict], None]:
    return lambda raw: raw[section].__setitem__(key, value)


def _rename(section: str, key: str, new: str) -> Callable[[dict], None]:
    return lambda raw: raw[section].__setitem__(new, raw[section].pop(key))


# id -> (change to the example's raw mapping, dotted field named in the message, what was expected)
BAD_FIELDS: dict[str, tuple[Callable[[dict], None], str, str]] = {
    "missing_required_field": (
        _delete("assessment", "refusal_probability"),
        "assessment.refusal_probability",
        "required field is missing",
    ),
    "string_for_a_number": (_put("demand", "requests_per_month", "lots"), "demand.requests_per_month", "valid number"),
    "negative_rate": (
        _put("plans", "ceasing_rate_per_year", -0.05),
        "plans.ceasing_rate_per_year",
        "greater than or equal to 0",
    ),
    "negative_demand": (
        _put("demand", "requests_per_month", -40),
        "demand.requests_per_month",
        "greater than or equal to 0",
    ),
    "probability_above_one": (
        _put("assessment", "refusal_probability", 1.5),
        "assessment.refusal_probability",
        "less than or equal to 1",
    ),
    "misspelt_key": (_rename("demand", "growth_per_year", "growth_per_yaer"), "demand.growth_per_yaer", "unknown key"),
    "seasonal_profile_of_11": (
        _put("demand", "seasonal_profile", [1.0] * 11),
        "demand.seasonal_profile",
        "expected 12 monthly multipliers",
    ),
    "negative_effort_in_a_distribution": (
        lambda raw: raw["plans"]["review_hours"].__setitem__("mean", -3),
        "plans.review_hours.mean",
        "greater than 0",
    ),
    "unknown_distribution": (
        _put("plans", "review_hours", {"dist": "weibull", "mean": 3}),
        "plans.review_hours",
        "lognormal",
    ),
    "outcomes_not_summing_to_one": (
        _put("plans", "outcomes", {"maintain": 0.5, "amend": 0.4, "cease": 0.2}),
        "plans.outcomes",
        "maintain + amend + cease = 1",
    ),
    "fte_above_one": (lambda raw: raw["staff"][1].__setitem__("fte", 1.5), "staff.1.fte", "less than or equal to 1"),
    "start_not_first_of_month": (
        lambda raw: raw.__setitem__("start_date", "2023-01-15"),
        "start_date",
        "first day of a month",
    ),
    "unknown_priority_policy": (_put("policy", "priority", "random"), "policy.priority", "'deadline'"),
    "bad_history_month": (_put("demand", "history", {"2023-13": 5}), "demand.history", "YYYY-MM"),
    "history_month_out_of_range": (
        _put("demand", "history", {"1800-01": 5}),
        "demand.history",
        "expected months from",
    ),
    "too_many_open_assessments": (
        _put(
            "initial_state",
            "open_assessments",
            [{"count": 100_000, "min_age_weeks": 0, "max_age_weeks": 6, "stage": "decision"}] * 11,
        ),
        "initial_state",
        "expected at most 1,000,000 open assessments in all, got 1,100,000",
    ),  # fmt: skip
    "history_more_on_time_than_issued": (
        lambda raw: raw.__setitem__("history", {2022: {"plans_issued": 10, "plans_issued_within_20_weeks": 11}}),
        "history.2022",
        "expected plans_issued_within_20_weeks <= plans_issued",
    ),
    "history_more_refused_than_requested": (
        lambda raw: raw.__setitem__("history", {2022: {"requests_received": 10, "refusals": 11}}),
        "history.2022",
        "expected refusals <= requests_received",
    ),
    "staff_of_the_wrong_role_for_their_team": (
        lambda raw: raw["staff"][3].__setitem__("role", "caseworker"),
        "staff[3]",
        "expected role educational_psychologist for team 'psychology'",
    ),
    "a_caseworker_team_giving_ep_advice": (
        lambda raw: (
            raw["teams"]["psychology"].__setitem__("role", "caseworker"),
            raw["staff"][3].update(role="caseworker"),
        ),
        "teams.psychology",
        "expected ep_advice to be handled by an educational_psychologist team of its own",
    ),
    "establishment_of_a_team_not_there": (
        lambda raw: raw["workforce"]["establishment_fte"].__setitem__("nobody", 3),
        "workforce.establishment_fte",
        "expected a team name, one of ['assessment', 'psychology', 'review'], got 'nobody'",
    ),
    "more_people_than_simulated": (
        lambda raw: raw["staff"].extend([dict(raw["staff"][0], count=10_000) for _ in range(10)]),
        "staff",
        "expected at most 100,000 people in all",
    ),
    "plans_growing_without_end": (
        lambda raw: raw.update(
            initial_state={**raw["initial_state"], "plans_in_force": 1_000_000},
            plans={**raw["plans"], "transfers_in_rate_per_year": 1.0, "ceasing_rate_per_year": 0.0},
        ),
        "plans",
        "plans in force, with transfers in exceeding ceasing by 100.0% a year",
    ),
    "a_dated_set_of_a_teams_field_not_its_lever": (
        lambda raw: raw["actions"].append(
            {"date": "2023-06-01", "action": "set", "parameter": "teams.assessment.handles", "value": 3}
        ),
        "actions (set on 2023-06-01)",
        "expected teams.assessment.caseload_cap_per_fte, a team's one numeric lever, got 'teams.assessment.handles'",
    ),
}

_UNCERTAIN = {
    "parameters": ["assessment.refusal_probability", "demand.requests_per_month"],
    "scales": ["logit", "log"],
    "estimates": [0.24, 40.0],
    "covariance": [[0.01, 0.0], [0.0, 0.01]],
}
# the calibration's `uncertainty:` block with one thing wrong -> what the message says
BAD_UNCERTAINTY: dict[str, tuple[dict[str, Any], str]] = {
    "one_estimate_short": ({"estimates": [0.24]}, "expected one scale and one estimate per parameter (2)"),
    "covariance_not_square": ({"covariance": [[0.01, 0.0], [0.0]]}, "expected a 2 x 2 covariance matrix"),
    "drift_short": ({"drift": [0.1], "drift_from": "2024-01-01"}, "expected one drift per parameter (2)"),
    "drift_without_its_date": ({"drift": [0.1, 0.1]}, "expected drift and drift_from together"),
    "drift_from_not_january": (
        {"drift": [0.1, 0.1], "drift_from": "2024-03-01"},
        "expected drift_from to be a 1 January",
    ),
    "variance_beyond_any_fit": ({"covariance": [[1e6, 0.0], [0.0, 0.01]]}, "expected variances of at most"),
    "covariance_not_symmetric": (
        {"covariance": [[0.01, 0.005], [0.0, 0.01]]},
        "expected a finite, symmetric, positive semi-definite covariance matrix",
    ),
    "estimate_outside_its_scale": ({"estimates": [1.5, 40.0]}, "expected estimates inside the range of their logit"),
}
for _case, (_change, _message) in BAD_UNCERTAINTY.items():
    BAD_FIELDS[f"uncertainty_{_case}"] = (
        lambda raw, change=_change: raw.__setitem__("uncertainty", {**_UNCERTAIN, **change}),
        "uncertainty",
        _message,
    )

# id -> (file text, what the message says instead of a field path)
BAD_FILES: dict[str, tuple[str | None, str]] = {
    "not_yaml": ("a: [1, 2", "not valid YAML at line 1"),
    "a_list_not_a_mapping": ("- 1\n- 2\n", "expected a YAML mapping"),
    "empty_file": ("", "expected a YAML mapping"),
    "nonexistent_file": (None, "cannot read the file"),
}


@pytest.fixture
def write_bad(tmp_path, example_raw):
    """Write a bad configuration for a BAD_FIELDS or BAD_FILES id; return its path."""

    def _write(case: str) -> Path:
        path = tmp_path / f"{case}.yaml"
        if case in BAD_FIELDS:
            BAD_FIELDS[case][0](example_raw)
            path.write_text(yaml.safe_dump(example_raw, sort_keys=False), encoding="utf-8")
        elif BAD_FILES[case][0] is not None:
            path.write_text(BAD_FILES[case][0], encoding="utf-8")
        return path

    return _write


def _expected(case: str) -> list[str]:
    if case in BAD_FIELDS:
        _, field, expected = BAD_FIELDS[case]
        return [f"{field}:", expected]
    return [BAD_FILES[case][1]]


def _assert_refused(result, path: Path, case: str) -> None:
    output = result.output  # stdout and stderr together
    assert_no_exception(result)
    assert result.exit_code == 2, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "error:" in output
    flat = squash(output)
    assert squash(str(path)) in flat, f"file not named: {output}"
    for phrase in _expected(case):
        assert squash(phrase) in flat, f"{phrase!r} not in: {output}"


ALL_CASES = [*BAD_FIELDS, *BAD_FILES]


@pytest.mark.parametrize("case", ALL_CASES)
def test_validate_refuses_bad_configuration(write_bad, case):
    """`sendsim validate BAD` exits 2 naming the file, the field and what was expected, no traceback."""
    path = write_bad(case)
    result = CliRunner().invoke(main, ["validate", str(path)])
    _assert_refused(result, path, case)


@pytest.mark.parametrize("case", ALL_CASES)
def test_run_refuses_bad_configuration_and_writes_nothing(write_bad, tmp_path, case):
    """`sendsim run BAD --out DIR` exits 2 with the same message and leaves no DIR behind."""
    path = write_bad(case)
    out_dir = tmp_path / "results" / "run"
    result = CliRunner().invoke(main, ["run", str(path), "--months", "2", "--out", str(out_dir)])
    _assert_refused(result, path, case)
    assert not out_dir.exists()
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


@pytest.mark.parametrize("case", list(BAD_FIELDS))
def test_load_config_raises_config_error_with_the_field(write_bad, case):
    """load_config raises ConfigError (not a pydantic error) whose message names file and field."""
    path = write_bad(case)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path))
    for phrase in _expected(case):
        assert phrase in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_misspelt_required_key_reports_both_the_unknown_and_the_missing_field(example_raw):
    """A misspelt required key is reported as unknown, and the real field as missing, together."""
    example_raw["demand"]["requests_per_mnth"] = example_raw["demand"].pop("requests_per_month")
    with pytest.raises(ConfigError) as info:
        parse_config(example_raw, "typo.yaml")
    message = str(info.value)
    assert "demand.requests_per_mnth: unknown key" in message
    assert "demand.requests_per_month: required field is missing" in message


def test_several_errors_are_reported_at_once(example_raw):
    """Every problem in a file is listed, one per line, rather than only the first."""
    example_raw["assessment"]["refusal_probability"] = 2
    example_raw["demand"]["requests_per_month"] = -1
    with pytest.raises(ConfigError) as info:
        parse_config(example_raw, "two.yaml")
    lines = str(info.value).splitlines()
    assert lines[0] == "two.yaml: invalid configuration"
    assert any(line.strip().startswith("assessment.refusal_probability:") for line in lines)
    assert any(line.strip().startswith("demand.requests_per_month:") for line in lines)


def test_teams_must_cover_every_kind_of_work(example_raw):
    """A configuration where no team handles plans is refused with the reason."""
    example_raw["teams"]["review"]["handles"] = []
    with pytest.raises(ConfigError, match="exactly one team to handle plans"):
        parse_config(example_raw, "teams.yaml")


def test_staff_must_belong_to_a_known_team(example_raw):
    """Staff in a misspelt team are refused, naming the staff group and the teams there are."""
    example_raw["staff"][0]["team"] = "asessment"
    with pytest.raises(ConfigError, match=r"staff\[0\]: expected team to be one of"):
        parse_config(example_raw, "staff.yaml")


# --- overrides on the command line ---------------------------------------------------------------


@pytest.mark.parametrize(
    "setting, expected",
    [
        ("demand.requests_per_month=-5", "demand.requests_per_month"),
        ("assessment.refusal_probability=1.2", "assessment.refusal_probability"),
        ("demand.requests_per_mnth=5", "demand.requests_per_mnth"),
        ("staff.99.count=1", "cannot apply override"),
        ("name.first=1", "cannot apply override"),
        # a path that goes through a number: must be refused like any other bad override
        ("demand.requests_per_month.low.high=1", "cannot apply override"),
    ],
)
def test_bad_override_is_refused_without_a_traceback(example_path, tmp_path, setting, expected):
    """`sendsim run --set BAD` exits 2 naming the override, with no traceback and nothing written."""
    out_dir = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["run", str(example_path), "--months", "1", "--out", str(out_dir), "--set", setting]
    )
    assert_no_exception(result)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert squash(expected) in squash(result.output)
    assert not out_dir.exists()


DEVON = Path(__file__).resolve().parents[1] / "configs" / "devon.yaml"


@pytest.fixture
def devon_raw_for_overrides() -> dict:
    return yaml.safe_load(DEVON.read_text())


def test_a_staff_group_is_named_by_team_then_contract_or_role(devon_raw_for_overrides):
    """`staff.review.agency.count` sets the same field as the review team's agency group's position;
    a team alone, where it has several groups, is refused listing them with their positions."""
    from sim.config import apply_overrides

    by_position, by_name = copy.deepcopy(devon_raw_for_overrides), copy.deepcopy(devon_raw_for_overrides)
    position = next(
        i for i, g in enumerate(by_position["staff"]) if g.get("team") == "review" and g.get("contract") == "agency"
    )
    apply_overrides(by_position, {f"staff.{position}.count": 7})
    apply_overrides(by_name, {"staff.review.agency.count": 7})
    assert by_name == by_position and by_name != devon_raw_for_overrides
    psychology = copy.deepcopy(devon_raw_for_overrides)
    apply_overrides(psychology, {"staff.psychology.count": 30})  # the one group of its team
    assert [g["count"] for g in psychology["staff"] if g["team"] == "psychology"] == [30]
    with pytest.raises(ValueError, match=r"names several groups.*review\.permanent\.caseworker \(position \d+\)"):
        apply_overrides(copy.deepcopy(devon_raw_for_overrides), {"staff.review.count": 7})
    with pytest.raises(ValueError, match=r"'reveiw' names no group"):
        apply_overrides(copy.deepcopy(devon_raw_for_overrides), {"staff.reveiw.agency.count": 7})


def test_an_ambiguous_staff_name_on_the_command_line_exits_2(tmp_path):
    out_dir = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["run", str(DEVON), "--months", "1", "--out", str(out_dir), "--set", "staff.review.count=1"]
    )
    assert_no_exception(result)
    assert result.exit_code == 2, result.output
    assert squash("names several groups") in squash(result.output) and "position" in result.output
    assert not out_dir.exists()


def test_override_without_equals_is_a_usage_error(example_path, tmp_path):
    """`--set KEY` without a value is a usage error (exit 2) that says KEY=VALUE is expected."""
    out_dir = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(example_path), "--out", str(out_dir), "--set", "demand"])
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.output
    assert not out_dir.exists()


def test_months_must_be_positive(example_path, tmp_path):
    """`--months 0` is refused by the command line before anything runs."""
    out_dir = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(example_path), "--months", "0", "--out", str(out_dir)])
    assert result.exit_code == 2
    assert not out_dir.exists()
