"""Bad input refused in one message, never a hang or a traceback (issue 11): files that are not
regular, too large or not UTF-8; YAML with duplicate keys, deep nesting or alias bombs; numbers
past their bounds, in the file, in a dated `set` and in `--set`; names that are not slugs; SEN2
values no authority has published, and rows missing; an `--out` that cannot be written."""

from __future__ import annotations

import copy
import os
import re
import time
from pathlib import Path

import pytest
import yaml
from bad_inputs import invoke
from cli_result import assert_no_exception, assert_refused
from test_sen2 import write_sen2

from sim.config import MAX_MONTHS, ConfigError, check_horizon, load_config, parse_config
from sim.data.init_config import draft_config
from sim.data.sen2 import DataError, read_sen2
from sim.files import MAX_CONFIG_BYTES, MAX_YAML_DEPTH, check_writable, load_yaml, read_text

ROOT = Path(__file__).parents[1]
EXAMPLE = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text(encoding="utf-8"))


def _invoke(*args):
    """The command in-process, stopped by an alarm if it hangs (then the check below fails)."""
    result = invoke([str(a) for a in args])
    assert_no_exception(result)
    return result


def _refused(config: dict, *phrases: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(config, "bad.yaml")
    message = str(caught.value)
    assert message.startswith("bad.yaml: ")
    for phrase in phrases:
        assert phrase in message, message
    return message


def _with(path: str, value) -> dict:
    raw = copy.deepcopy(EXAMPLE)
    node = raw
    *parents, leaf = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(leaf) if isinstance(node, list) else leaf] = value
    return raw


def _with_action(action: dict) -> dict:
    raw = copy.deepcopy(EXAMPLE)
    raw.setdefault("actions", []).append({"date": "2023-06-01", **action})
    return raw


# --- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, phrase", [
    (lambda p: os.mkfifo(p), r"named pipe \(FIFO\)"),
    (lambda p: p.mkdir(), "a folder|is a directory"),  # click sees a folder first
    (lambda p: p.symlink_to("/dev/zero"), "a device"),
    (lambda p: p.write_text("# " + "x" * MAX_CONFIG_BYTES), "larger than 5 MB"),
    (lambda p: p.write_bytes("name: x\n".encode("utf-16")), "UTF-16"),
    (lambda p: p.write_bytes("name: x\n".encode("utf-32")), "UTF-32"),
    (lambda p: p.write_bytes("name: Caf\xe9\n".encode("latin-1")), r"not UTF-8 text \(byte 0xe9 on line 1"),
    (lambda p: p.write_bytes(b"name: x\x00\n"), "NUL bytes"),
])  # fmt: skip
def test_a_file_that_cannot_be_a_configuration_is_refused_before_it_is_read(tmp_path, make, phrase):
    """A FIFO or /dev/zero would block or never end; the rest would be a traceback or garbage.
    (`phrase` is a regular expression.)"""
    path = tmp_path / "config.yaml"
    make(path)
    started = time.process_time()  # CPU time: a loaded machine must not fail the test
    result = _invoke("validate", path)
    assert_refused(result)
    assert str(path) in result.output and re.search(phrase, result.output), result.output
    assert time.process_time() - started < 5


def test_a_utf8_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (ROOT / "configs" / "example.yaml").read_bytes())
    assert load_config(path).name == load_config(ROOT / "configs" / "example.yaml").name


def test_read_text_names_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="nowhere.yaml: cannot read the file"):
        read_text(tmp_path / "nowhere.yaml")


@pytest.mark.parametrize("text, phrase", [
    ("name: a\nmonths: 12\nname: b\n", "duplicate key 'name' (first given on line 1)"),
    ("demand: {requests_per_month: 1, requests_per_month: 2}\n", "duplicate key 'requests_per_month'"),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", f"nested more than {MAX_YAML_DEPTH} levels deep"),
    ("x: &a [*a]\n", "an alias refers to the value that holds it"),
    ("x: " + "9" * 5000 + "\n", "digits"),
])  # fmt: skip
def test_yaml_that_a_loader_must_not_trust_is_refused(text, phrase):
    with pytest.raises(ConfigError) as caught:
        load_yaml(text, "bad.yaml")
    assert str(caught.value).startswith("bad.yaml: not valid YAML") and phrase in str(caught.value)


def test_a_merge_key_may_be_overridden():
    """`<<: *base` then a key of its own is YAML's way to override; it is no duplicate."""
    assert load_yaml("a: &a {x: 1, y: 2}\nb:\n  <<: *a\n  x: 3\n", "ok.yaml")["b"] == {"x": 3, "y": 2}


def test_an_alias_bomb_in_a_scenarios_overrides_is_refused_at_once(tmp_path):
    lines = ["  bomb:", "    overrides:", "      a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i, name in enumerate("bcdefghi"):
        lines.append(f"      {name}: &{name} [" + ", ".join(["*" + "abcdefghi"[i]] * 9) + "]")
    text = (
        (ROOT / "configs" / "example.yaml")
        .read_text(encoding="utf-8")
        .replace("scenarios:\n", "scenarios:\n" + "\n".join(lines) + "\n", 1)
    )
    path = tmp_path / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.process_time()
    result = _invoke("validate", path)
    assert_refused(result)
    assert "anchors and aliases expand to" in result.output
    assert time.process_time() - started < 5


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path, value, phrase", [
    ("demand.requests_per_month", float("inf"), "finite number"),
    ("demand.requests_per_month", 1e308, "less than or equal to 100000"),
    ("assessment.refusal_probability", float("nan"), "finite number"),
    ("assessment.other_advice_weeks", {"dist": "gamma", "mean": 6, "cv": float("inf")}, "cv: Input should be a finite"),
    ("assessment.other_advice_weeks", {"dist": "gamma", "mean": 6, "cv": 1e-300}, "cv: Input should be greater"),
    ("assessment.decision_hours", {"dist": "fixed", "value": 5000}, "expected hours of at most 1000"),
    ("assessment.other_advice_weeks", {"dist": "uniform", "low": 1, "high": 1e4}, "expected weeks of at most 520"),
    ("start_date", "0001-01-01", "greater than or equal to 1990-01-01"),
    ("start_date", "2101-01-01", "less than or equal to 2100-12-01"),
    ("months", 10_000_000, "less than or equal to 600"),
    ("warm_up_months", 10_000_000, "less than or equal to 600"),
    ("seed", -1, "greater than or equal to 0"),
    ("seed", 2**64, "less than or equal to 9223372036854775807"),
    ("initial_state.plans_in_force", 10**9, "less than or equal to 2000000"),
    ("staff.0.hours_per_week", 200, "less than or equal to 60"),
    ("staff.0.count", 10**9, "less than or equal to 10000"),
    ("workforce.roles.caseworker.permanent_leaving_rate_per_year", 1e9, "less than or equal to 52"),
    ("plans.transfers_in_rate_per_year", 5, "less than or equal to 1"),
    ("workforce.roles.caseworker.salary_per_year", 1e12, "less than or equal to 1000000"),
    ("name", "", "expected a name"),
    ("name", "   ", "expected a name"),
])  # fmt: skip
def test_a_number_or_name_past_its_bound_is_refused(path, value, phrase):
    _refused(_with(path, value), path.split(".")[-1] if "." in path else path, phrase)


def test_a_horizon_the_service_outgrows_is_refused():
    """At +100% a year for 50 years the last month would expect 10^17 requests: never finished."""
    raw = _with("demand.growth_per_year", 1.0)
    raw["months"] = MAX_MONTHS
    _refused(raw, "demand:", "within 600 months")
    check_horizon(parse_config(_with("demand.growth_per_year", 1.0)))  # over the example's 5 years: fine
    with pytest.raises(ValueError, match="within 600 months"):
        check_horizon(parse_config(_with("demand.growth_per_year", 1.0)), MAX_MONTHS)


@pytest.mark.parametrize("action, phrase", [
    ({"action": "set", "parameter": "workforce.establishment_fte.assessment", "value": -50}, "greater than or equal to 0"),
    ({"action": "set", "parameter": "workforce.pressure.reference_caseload_per_fte.assessment", "value": 0}, "greater than 0"),
    ({"action": "set", "parameter": "teams.assessment.caseload_cap_per_fte", "value": 1e9}, "less than or equal to 10000"),
    ({"action": "set", "parameter": "assessment.decision_hours.mean", "value": 1e5}, "hours of at most 1000"),
    ({"action": "set", "parameter": "demand.requests_per_month", "value": float("inf")}, "finite number"),
    ({"action": "set", "parameter": "demand.growth_per_year", "value": 0.9}, "within 24 months"),
    ({"action": "establishment", "team": "assessment", "change_fte": float("inf")}, "finite number"),
    ({"action": "establishment", "team": "assessment", "change_fte": 1e9}, "less than or equal to 10000"),
    ({"action": "cohort", "team": "assessment", "count": 10**9}, "less than or equal to 10000"),
])  # fmt: skip
def test_a_dated_action_meets_the_checks_the_file_does(action, phrase):
    """An establishment set to -50 by an action, or a reference caseload of 0, is refused as the
    same value written in the file would be."""
    raw = _with_action(action)
    if action["parameter" if "parameter" in action else "action"] == "demand.growth_per_year":
        raw["demand"]["requests_per_month"] = 50_000  # at +90% a year, past 100,000 a month within 2 years
    _refused(raw, phrase)


def test_a_dated_set_within_bounds_still_runs():
    raw = _with_action({"action": "set", "parameter": "workforce.establishment_fte.assessment", "value": 9})
    assert parse_config(raw).actions[-1].value == 9


@pytest.mark.parametrize("setting, phrase", [
    ("demand.requests_per_month=[1", "--set demand.requests_per_month: not valid YAML"),
    ("seed=&a [*a]", "--set seed: not valid YAML"),
    ("demand.requests_per_month=.inf", "finite number"),
    ("workforce.establishment_fte.assessment=-50", "greater than or equal to 0"),
])  # fmt: skip
def test_set_goes_through_the_same_checks(tmp_path, setting, phrase):
    out = tmp_path / "out"
    result = _invoke("run", ROOT / "configs" / "example.yaml", "--months", 2, "--out", out, "--set", setting)
    assert_refused(result)
    assert phrase in result.output and not out.exists()


@pytest.mark.parametrize(
    "option",
    [
        ("--seed", "-1"),
        ("--seed", str(2**63)),
        ("--months", "601"),
        ("--precision", "nan"),
        ("--precision", "0"),
        ("--precision", "inf"),
    ],
)
def test_options_past_their_bounds_are_usage_errors(tmp_path, option):
    result = _invoke("run", ROOT / "configs" / "example.yaml", "--out", tmp_path / "out", *option)
    assert_refused(result)
    assert option[0] in result.output and not (tmp_path / "out").exists()


def test_months_on_the_command_line_meet_the_horizon_check(tmp_path):
    config = tmp_path / "growing.yaml"
    config.write_text(yaml.safe_dump(_with("demand.growth_per_year", 1.0)), encoding="utf-8")
    result = _invoke("run", config, "--months", 600, "--out", tmp_path / "out")
    assert_refused(result)
    assert "--months 600" in result.output and "requests" in result.output


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "..", "a/b", "../../escape", "a b", "x" * 65])
def test_a_scenario_name_is_a_slug(name):
    raw = copy.deepcopy(EXAMPLE)
    raw["scenarios"][name] = {"description": "a plan"}
    _refused(raw, "scenarios:", "letters, digits, '-' or '_'")


def test_base_is_not_a_scenario_name():
    raw = copy.deepcopy(EXAMPLE)
    raw["scenarios"]["base"] = {"description": "shadows the base"}
    _refused(raw, "'base' is the configuration without a scenario")


def test_a_team_removed_while_its_staff_remain_is_named_by_the_staff_group():
    raw = copy.deepcopy(EXAMPLE)
    del raw["teams"]["psychology"]
    message = _refused(raw, "staff[", "'psychology'")
    assert "(top level)" not in message


def test_a_team_name_is_a_slug():
    raw = copy.deepcopy(EXAMPLE)
    raw["teams"]["a/b"] = raw["teams"].pop("psychology")
    _refused(raw, "teams:", "'a/b'")


# --- output checked first ------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    lambda out: ["run", ROOT / "configs" / "example.yaml", "--months", 2, "--out", out],
    lambda out: ["run", ROOT / "configs" / "example.yaml", "--months", 2, "--reps", 2, "--jobs", 1, "--out", out],
    lambda out: ["compare", ROOT / "configs" / "example.yaml", "--months", 2, "--reps", 2, "--jobs", 1, "--out", out],
    lambda out: ["calibrate", ROOT / "configs" / "example.yaml", "--out", out],
])  # fmt: skip
def test_an_out_under_a_file_is_refused_before_the_run(tmp_path, command):
    """A path under a regular file can never be written: refused at once, nothing run or written."""
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    out = blocker / "results"
    started = time.process_time()
    result = _invoke(*command(out))
    assert_refused(result)
    assert f"{blocker} is a file" in result.output
    assert time.process_time() - started < 5  # long before any simulation would finish
    assert blocker.read_text() == "mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a read-only folder")
def test_an_out_in_a_read_only_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = _invoke("run", ROOT / "configs" / "example.yaml", "--months", 2, "--out", locked / "out")
        assert_refused(result)
        assert "cannot write in" in result.output
    finally:
        locked.chmod(0o755)


def test_an_unwritable_system_folder_is_refused():
    """Even root cannot create files in /proc."""
    with pytest.raises(ConfigError, match="cannot write in /proc"):
        check_writable(Path("/proc/sendsim-results"), folder=True)


def test_the_probe_leaves_nothing_behind(tmp_path):
    check_writable(tmp_path / "new" / "deeper" / "results", folder=True)
    check_writable(tmp_path / "report.html", folder=False)
    assert list(tmp_path.iterdir()) == []


def test_init_and_report_check_their_out_first(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    sen2 = write_sen2(tmp_path / "sen2")
    result = _invoke("init", "--la", "Devon", "--sen2", sen2, "--year", 2021, "--out", blocker / "devon.yaml")
    assert_refused(result)
    assert "is a file" in result.output
    results = tmp_path / "results"
    assert (
        _invoke(
            "run", ROOT / "configs" / "example.yaml", "--months", 2, "--reps", 2, "--jobs", 1, "--out", results
        ).exit_code
        == 0
    )
    result = _invoke("report", results, "--out", blocker / "report.html")
    assert_refused(result)
    assert not (results / "plots").exists()


# --- a damaged results folder ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def results_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "example"
    assert (
        _invoke(
            "run", ROOT / "configs" / "example.yaml", "--months", 2, "--reps", 2, "--jobs", 1, "--out", out
        ).exit_code
        == 0
    )
    return out


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:40] + b"\xff\xfe damaged")


def _without_a_column(path: Path) -> None:
    if path.suffix == ".parquet":
        import pandas as pd

        table = pd.read_parquet(path)
        table.drop(columns=table.columns[-1]).to_parquet(path)
    else:
        path.write_text("\n".join(line.rsplit(",", 1)[0] for line in path.read_text().splitlines()))


@pytest.mark.parametrize("name, damage, phrase", [
    ("results.parquet", _truncated, "cannot be read"),
    ("summary.parquet", _truncated, "cannot be read"),
    ("kpis.csv", _truncated, "cannot be read"),
    ("config.yaml", _truncated, "not UTF-8"),
    ("provenance.json", _truncated, "not UTF-8"),
    ("provenance.json", lambda p: p.write_text("{not json"), "not valid JSON"),
    ("provenance.json", lambda p: p.write_text("[1, 2]"), "expected an object with the keys scenarios"),
    ("provenance.json", lambda p: p.write_text('{"seed": 1}'), "expected an object with the keys scenarios"),
    ("results.parquet", _without_a_column, "expected the columns value"),
    ("kpis.csv", _without_a_column, "expected the columns"),
    ("results.parquet", Path.unlink, "expected the folder of `sendsim compare`, `sendsim run --reps`"),
    ("kpis.csv", Path.unlink, "missing from the results folder"),
])  # fmt: skip
def test_a_damaged_results_folder_is_named_by_report(results_folder, tmp_path, name, damage, phrase):
    """`sendsim report` on a folder one of whose files is damaged: exit 2, the file named, no report."""
    import shutil

    folder = tmp_path / "damaged"
    shutil.copytree(results_folder, folder)
    damage(folder / name)
    result = _invoke("report", folder)
    assert_refused(result)
    assert str(folder) in result.output and name in result.output and phrase in result.output, result.output
    assert not (folder / "report.html").exists() and not (folder / "plots").exists()


def test_the_undamaged_folder_reports(results_folder, tmp_path):
    import shutil

    folder = tmp_path / "whole"
    shutil.copytree(results_folder, folder)
    assert _invoke("report", folder).exit_code == 0
    assert (folder / "report.html").is_file()


# --- SEN2 ----------------------------------------------------------------------------------------


def _damage(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8-sig")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("name, old, new, phrase", [
    ("ceased_plans.csv", ",581", ",-581", "Devon, 2022, column 'total_ceased': -581 is negative"),
    ("timeliness_20_week.csv", "856,850", "1e308,850", "Devon, 2021, column 'plans_issued_den': 1e+308 is more"),
    ("timeliness_20_week.csv", "856,850", "1000000000000,850", "column 'plans_issued_den': 1,000,000,000,000"),
    ("caseload.csv", "473255", "5000", "Devon, January 2022, column 'ehcplans': 7,926 is more than England's 5,000"),
    ("timeliness_20_week.csv", "38.8,38.8", "388,38.8", "column 'pc_plans_issued_within_20_weeks': 388 is more than 100%"),
    ("requests.csv", "1745,0,1300,385", "1745,0,1300,1900", "'requests_decided_not_to_assess': 1,900 is more than"),
    ("assessments.csv", "960,914", "960,abc", "Devon, 2021, column 'assess_issued': 'abc' is neither a number"),
    ("requests.csv", "1745,0", "inf,0", "'inf' is neither a number"),
    ("ceased_plans.csv", "2022,Calendar year", "9999,Calendar year", "time_period '9999': expected a year"),
])  # fmt: skip
def test_a_value_no_authority_has_published_is_refused(tmp_path, name, old, new, phrase):
    """Named by the file, the authority, the period and the column, with exit status 2."""
    sen2 = write_sen2(tmp_path / "sen2")
    _damage(sen2, name, old, new)
    with pytest.raises(DataError) as caught:
        read_sen2(sen2)
    assert str(sen2 / name) in str(caught.value) and phrase in str(caught.value), str(caught.value)
    out = tmp_path / "x.yaml"
    result = _invoke("init", "--la", "Devon", "--sen2", sen2, "--year", 2021, "--out", out)
    assert_refused(result)
    assert not out.exists()


def test_a_missing_row_is_an_error_unless_defaults_are_asked_for(tmp_path):
    """Devon's 2021 row gone from assessments.csv: no quiet national defaults; --allow-defaults
    drafts from them and says so in the notes and in the drafted file."""
    sen2 = write_sen2(tmp_path / "sen2")
    path = sen2 / "assessments.csv"
    path.write_text(
        "".join(
            line
            for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
            if not (line.startswith("2021,") and ",Devon," in line)
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"assessments.csv: no row for Devon in 2021 .*--allow-defaults"):
        draft_config(read_sen2(sen2), "Devon", 2021)
    out = tmp_path / "devon.yaml"
    refused = _invoke("init", "--la", "Devon", "--sen2", sen2, "--year", 2021, "--out", out)
    assert_refused(refused)
    assert "--allow-defaults" in refused.output and not out.exists()
    accepted = _invoke("init", "--la", "Devon", "--sen2", sen2, "--year", 2021, "--out", out, "--allow-defaults")
    assert accepted.exit_code == 0, accepted.output
    note = "assessments.csv has no row for Devon in 2021: national defaults used (--allow-defaults)"
    assert note in accepted.output.replace("\n", " ") or note in " ".join(accepted.output.split())
    assert note in out.read_text(encoding="utf-8")
    assert load_config(out).assessment.no_plan_probability == 0.055  # the national share


def test_the_shipped_sen2_release_is_accepted_as_it_is():
    """Every check above passes on DfE's files as published (when they are beside the project)."""
    real = ROOT.parent / "shared" / "data" / "sen2"
    if not (real / "requests.csv").exists():
        pytest.skip("the DfE SEN2 release is not present")
    sen2 = read_sen2(real)
    assert draft_config(sen2, "Devon", 2022).raw["initial_state"]["plans_in_force"] == 8400


# --- a replication's drawn parameters ------------------------------------------------------------


def _wide_uncertainty() -> dict:
    """Estimates by their bounds and a spread that reaches past them, drifting each year."""
    raw = copy.deepcopy(EXAMPLE)
    raw["uncertainty"] = {
        "parameters": ["assessment.effort_scale", "plans.ceasing_rate_per_year"],
        "scales": ["log", "linear"],
        "estimates": [9e5, 0.1],
        "covariance": [[4.0, 0.0], [0.0, 4.0]],
        "drift": [3.0, 3.0],
        "drift_from": "2024-01-01",
    }
    return raw


def test_drawn_parameters_stay_within_the_schema_bounds():
    import datetime as dt

    import numpy as np

    from sim.config import field_bounds
    from sim.model.uncertainty import DrawnParameters

    config = parse_config(_wide_uncertainty())
    bounds = {p: field_bounds(config, p) for p in config.uncertainty.parameters}
    assert bounds == {"assessment.effort_scale": (5e-324, 1e6), "plans.ceasing_rate_per_year": (0.0, 52.0)}
    clipped = 0
    for seed in range(50):
        drawn = DrawnParameters(config.uncertainty, np.random.default_rng(seed), config.start_date, bounds)
        values = drawn.values()
        for year in (2024, 2025, 2026):
            values = drawn.new_year(dt.date(year, 1, 1), values) or values
            for path, value in values.items():
                low, high = bounds[path]
                assert low <= value <= high, (path, value)
                clipped += value in (low, high)
    assert clipped > 0  # the spread does reach the bounds: the check above is not idle


def test_a_run_whose_draws_reach_past_a_bound_still_runs(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text(yaml.safe_dump(_wide_uncertainty()), encoding="utf-8")
    result = _invoke("run", path, "--months", 14, "--reps", 4, "--jobs", 1, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output


def test_a_file_is_written_whole_or_not_at_all(tmp_path):
    import os

    from sim.files import write_atomic

    path = tmp_path / "report.html"
    assert write_atomic(path, "<p>first</p>") == path
    assert path.read_text() == "<p>first</p>"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not owner-only

    def refuse(candidate):
        assert candidate.read_bytes() == b"second" and candidate.parent == tmp_path
        raise ValueError("not valid")

    with pytest.raises(ValueError, match="not valid"):
        write_atomic(path, b"second", check=refuse)
    assert path.read_text() == "<p>first</p>"  # the earlier file is kept, and no temporary file is left
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
