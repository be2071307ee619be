"""The `sendsim` command on good input: validate, run, what it writes and what it prints."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cli_result import assert_no_exception
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

from sim.cli import main
from sim.config import load_config
from sim.experiments.national import is_national, load_national
from sim.experiments.runner import run

ROOT = Path(__file__).parents[1]
MONTHS = 6


def _run_cli(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert_no_exception(result)
    return result


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, example_path) -> tuple[Path, str]:
    """One `sendsim run configs/example.yaml --months 6 --out DIR`, shared by the checks below."""
    out_dir = tmp_path_factory.mktemp("cli") / "example"
    result = _run_cli("run", example_path, "--months", MONTHS, "--out", out_dir)
    assert result.exit_code == 0, result.output
    return out_dir, result.output


@pytest.mark.parametrize("config", sorted(p.name for p in (ROOT / "configs").glob("*.yaml")))
def test_validate_accepts_the_shipped_configs(config):
    """`sendsim validate` exits 0 on every configuration in configs/ (national ones included) and
    says it is valid."""
    path = ROOT / "configs" / config
    result = _run_cli("validate", path)
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    name = load_national(path).national.name if is_national(path) else load_config(path).name
    assert name.split()[0] in result.output


def test_run_writes_every_result_file(run_dir):
    """`sendsim run --out DIR` exits 0 and DIR holds metrics, cases, staff history, config and provenance."""
    out_dir, _ = run_dir
    names = {p.name for p in out_dir.iterdir()}
    assert names == {
        "metrics.parquet", "metrics.csv", "cases.parquet", "staff.parquet", "vacancies.parquet",
        "config.yaml", "provenance.json",
    }  # fmt: skip


def test_run_leaves_no_staging_folder_behind(run_dir):
    """Writing is atomic: only DIR itself is left beside it, no hidden staging folder."""
    out_dir, _ = run_dir
    assert [p.name for p in out_dir.parent.iterdir()] == [out_dir.name]


def test_written_metrics_are_the_runs_metrics(run_dir, example_config):
    """metrics.parquet and metrics.csv hold the same table as an in-process run with the seed."""
    out_dir, _ = run_dir
    expected = run(example_config, months=MONTHS, cases=False).metrics
    parquet = pd.read_parquet(out_dir / "metrics.parquet")
    assert_frame_equal(parquet, expected, check_dtype=False)
    csv = pd.read_csv(out_dir / "metrics.csv", parse_dates=["month"])
    assert_frame_equal(csv, expected, check_dtype=False, check_exact=False, rtol=1e-12)
    assert parquet["month"].nunique() == MONTHS


def test_written_cases_are_one_row_per_case(run_dir):
    """cases.parquet has a row per case, with its outcome and the date of each step."""
    out_dir, _ = run_dir
    cases = pd.read_parquet(out_dir / "cases.parquet")
    assert len(cases) > 0 and cases["case_id"].is_unique
    for column in ("request_date", "decision_date", "final_date", "outcome", "exception", "initial"):
        assert column in cases.columns
    assert pd.api.types.is_datetime64_any_dtype(cases["final_date"])


def test_provenance_records_how_the_run_was_made(run_dir, example_config, example_path):
    """provenance.json names the seed, version, months, wall time and start and finish times."""
    out_dir, _ = run_dir
    prov = json.loads((out_dir / "provenance.json").read_text())
    assert prov["seed"] == example_config.seed
    assert prov["months"] == MONTHS
    assert prov["version"] and prov["version"] != "unknown"
    assert prov["config"] == str(example_path)
    assert prov["wall_seconds"] >= 0
    started = dt.datetime.fromisoformat(prov["started"])
    finished = dt.datetime.fromisoformat(prov["finished"])
    assert started.tzinfo is not None
    assert started <= finished
    assert abs((dt.datetime.now(dt.UTC) - finished).total_seconds()) < 3600
    assert prov["events"] > 0


def test_written_config_validates(run_dir):
    """The config.yaml written beside the results is itself a valid configuration."""
    out_dir, _ = run_dir
    result = _run_cli("validate", out_dir / "config.yaml")
    assert result.exit_code == 0, result.output


def test_written_config_reproduces_the_metrics_with_the_same_seed(run_dir, tmp_path):
    """Running the written config.yaml again with the recorded seed and months gives identical metrics."""
    out_dir, _ = run_dir
    prov = json.loads((out_dir / "provenance.json").read_text())
    again = tmp_path / "again"
    result = _run_cli(
        "run", out_dir / "config.yaml", "--seed", prov["seed"], "--months", prov["months"], "--out", again
    )
    assert result.exit_code == 0, result.output
    assert_frame_equal(pd.read_parquet(again / "metrics.parquet"), pd.read_parquet(out_dir / "metrics.parquet"))
    assert_frame_equal(pd.read_parquet(again / "cases.parquet"), pd.read_parquet(out_dir / "cases.parquet"))


def test_written_config_alone_reproduces_a_run_with_seed_and_months_set(example_path, tmp_path):
    """config.yaml is the resolved configuration: run as it is, it repeats a --seed/--months run."""
    first, again = tmp_path / "first", tmp_path / "again"
    result = _run_cli("run", example_path, "--seed", "7", "--months", "3", "--out", first)
    assert result.exit_code == 0, result.output
    result = _run_cli("run", first / "config.yaml", "--out", again)
    assert result.exit_code == 0, result.output
    assert_frame_equal(pd.read_parquet(again / "metrics.parquet"), pd.read_parquet(first / "metrics.parquet"))


def test_printed_table_shows_the_yearly_measures(run_dir):
    """The run prints a yearly table with the on-time rate and the plans issued, and the seed."""
    _, output = run_dir
    for label in ("On-time rate", "Plans issued", "Requests", "Plans in force"):
        assert label in output
    assert "2023" in output
    assert "Seed 42" in output


def test_no_cases_omits_the_case_table(example_path, tmp_path):
    """`--no-cases` writes everything except cases.parquet."""
    out_dir = tmp_path / "out"
    result = _run_cli("run", example_path, "--months", 3, "--out", out_dir, "--no-cases")
    assert result.exit_code == 0, result.output
    names = {p.name for p in out_dir.iterdir()}
    assert "cases.parquet" not in names
    assert {"metrics.parquet", "metrics.csv", "config.yaml", "provenance.json"} <= names


def test_set_changes_a_lever_and_the_written_config(example_path, tmp_path):
    """`--set demand.requests_per_month=10` cuts the requests and is recorded in config.yaml."""
    base, low = tmp_path / "base", tmp_path / "low"
    assert _run_cli("run", example_path, "--months", 6, "--out", base).exit_code == 0
    result = _run_cli("run", example_path, "--months", 6, "--out", low, "--set", "demand.requests_per_month=10")
    assert result.exit_code == 0, result.output

    def requests(folder: Path) -> float:
        m = pd.read_parquet(folder / "metrics.parquet")
        return m.loc[m["metric"] == "requests_received", "value"].sum()

    assert requests(low) < 0.5 * requests(base)
    assert load_config(low / "config.yaml").demand.requests_per_month == 10


def test_seed_option_changes_the_run(example_path, tmp_path):
    """`--seed` is used, recorded in provenance, and gives different metrics from another seed."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert _run_cli("run", example_path, "--months", 3, "--seed", 1, "--out", a).exit_code == 0
    assert _run_cli("run", example_path, "--months", 3, "--seed", 2, "--out", b).exit_code == 0
    assert json.loads((a / "provenance.json").read_text())["seed"] == 1
    assert not pd.read_parquet(a / "metrics.parquet").equals(pd.read_parquet(b / "metrics.parquet"))


def test_version_and_help():
    """`sendsim --version` and `sendsim --help` work and exit 0."""
    version = _run_cli("--version")
    assert version.exit_code == 0 and "version" in version.output
    usage = _run_cli("--help")
    assert usage.exit_code == 0 and "run" in usage.output and "validate" in usage.output


def test_module_entry_point_runs_in_a_subprocess(example_path, tmp_path):
    """`python -m sim.cli run ...` works as a real process: exit 0, table printed, files written."""
    out_dir = tmp_path / "sub"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", str(example_path), "--months", "3", "--out", str(out_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "On-time rate" in proc.stdout
    assert (out_dir / "metrics.parquet").exists()


def test_module_entry_point_refuses_a_bad_file_in_a_subprocess(tmp_path):
    """`python -m sim.cli validate BAD` exits 2 with the message on stderr and no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "validate", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    flat = re.sub(r"\s+", "", proc.stderr)  # the console wraps at 80 columns
    assert re.sub(r"\s+", "", str(bad)) in flat and "notvalidYAML" in flat


def test_run_refuses_an_out_folder_holding_other_files(example_path, tmp_path):
    """--out pointing at a folder of someone's files exits 2 and leaves the files alone."""
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "minutes.docx").write_text("keep me")
    result = _run_cli("run", str(example_path), "--months", "2", "--out", str(folder))
    assert result.exit_code == 2
    assert "not sendsim results" in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["minutes.docx"]


def test_run_into_a_folder_holding_results_is_refused_unless_forced(example_path, tmp_path):
    """Results are never replaced silently: a second run into one --out is refused, exit 2, before
    it simulates, naming the folder, the earlier run and --force; with --force it replaces them."""
    out = tmp_path / "again"
    assert _run_cli("run", str(example_path), "--months", "2", "--out", str(out)).exit_code == 0
    before = (out / "provenance.json").read_text()
    refused = _run_cli("run", str(example_path), "--months", "3", "--out", str(out), "--no-cases")
    assert refused.exit_code == 2, refused.output
    assert str(out) in refused.output and "--force" in refused.output and "example" in refused.output
    assert (out / "provenance.json").read_text() == before and (out / "cases.parquet").exists()
    forced = _run_cli("run", str(example_path), "--months", "3", "--out", str(out), "--no-cases", "--force")
    assert forced.exit_code == 0, forced.output
    assert not (out / "cases.parquet").exists()
    assert json.loads((out / "provenance.json").read_text())["months"] == 3


@pytest.mark.parametrize("first, second", [
    (["run", "--reps", "2", "--jobs", "1"], ["compare", "--reps", "2", "--jobs", "1"]),
    (["compare", "--reps", "2", "--jobs", "1"], ["compare", "--reps", "2", "--jobs", "1"]),
    (["run"], ["run", "--reps", "2", "--jobs", "1"]),
])  # fmt: skip
def test_experiments_are_refused_into_a_folder_holding_results(example_path, tmp_path, first, second):
    out = tmp_path / "results"
    command = lambda args: [args[0], str(example_path), *args[1:], "--months", "2", "--out", str(out)]  # noqa: E731
    assert _run_cli(*command(first)).exit_code == 0
    refused = _run_cli(*command(second))
    assert refused.exit_code == 2 and "--force" in refused.output, refused.output
    assert _run_cli(*command(second), "--force").exit_code == 0


def test_each_kind_of_run_has_its_own_default_folder(example_path, tmp_path, monkeypatch):
    """Following the README in order keeps every result: a run, many runs and a comparison of one
    configuration go to different folders by default."""
    monkeypatch.chdir(tmp_path)
    for args in (["run"], ["run", "--reps", "2", "--jobs", "1"], ["compare", "--reps", "2", "--jobs", "1"]):
        assert _run_cli(args[0], str(example_path), *args[1:], "--months", "2").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["example", "example-compare", "example-reps"]


def test_every_option_of_every_command_says_what_it_does():
    import click

    missing = [f"{name} {p.opts[0]}" for name, command in main.commands.items() for p in command.params
               if isinstance(p, click.Option) and not p.help]  # fmt: skip
    assert missing == []


def test_a_date_in_a_message_is_written_as_a_date(tmp_path):
    text = open("configs/example.yaml", encoding="utf-8").read()
    assert "start_date: 2023-01-01" in text  # YAML reads it as a date, not a string
    bad = tmp_path / "mid-month.yaml"
    bad.write_text(text.replace("start_date: 2023-01-01", "start_date: 2023-01-15"), encoding="utf-8")
    result = _run_cli("validate", str(bad))
    assert result.exit_code == 2
    assert "(got 2023-01-15)" in result.output and "datetime" not in result.output
