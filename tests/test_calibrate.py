"""Calibration by simulated moments: reading histories, recovering known parameters from a run
after the start, and the command. (Each year's capacity and fast-track share: test_fidelity.py.)"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import sim
from sim.cli import main
from sim.data.calibrate import CalibrationError, calibrate, read_history, simulated_moments

PARAMS = ["assessment.refusal_probability", "plans.ceasing_rate_per_year"]
TRUTH = {"assessment.refusal_probability": 0.32, "plans.ceasing_rate_per_year": 0.10}


def _history_from_run(metrics: pd.DataFrame, years=(2023, 2024)) -> pd.DataFrame:
    rows = [
        {
            "period_start": pd.Timestamp(f"{y}-01-01"),
            "period_end": pd.Timestamp(f"{y + 1}-01-01"),
            "measure": m,
            "observed": np.nan,
            "n": np.nan,
        }
        for y in years
        for m in ("requests_received", "refusals", "plans_issued", "on_time_rate", "plans_in_force")
    ]
    history = pd.DataFrame(rows)
    history["observed"] = simulated_moments(metrics, history)
    issued = history[history["measure"] == "plans_issued"].set_index("period_start")["observed"]
    history["n"] = [
        issued[p] if m == "on_time_rate" else np.nan for p, m in zip(history["period_start"], history["measure"])
    ]
    return history


@pytest.mark.slow
def test_known_parameters_are_recovered_within_their_reported_uncertainty(example_path):
    """Data simulated at known parameters calibrates back to them, within 3 standard errors."""
    truth = sim.load_config(example_path, overrides=TRUTH)
    observed = sim.run(truth, seed=999, months=24, cases=False)  # one noisy realisation, as real data are
    history = _history_from_run(observed.metrics)
    config = sim.load_config(example_path)  # starts from 0.24 and 0.06, far from the truth
    fitted = calibrate(config, history, PARAMS, reps=3, max_evaluations=25)
    table = fitted.table().set_index("parameter")
    for path, true_value in TRUTH.items():
        estimate, se = table.loc[path, "estimate"], table.loc[path, "standard_error"]
        assert se > 0
        assert abs(estimate - true_value) <= 3 * se, (path, estimate, se, true_value)
        assert table.loc[path, "ci_low"] > 0  # fitted on the logit scale: the interval stays a share
        start = table.loc[path, "start"]
        assert abs(estimate - true_value) < abs(start - true_value)  # it moved towards the truth
    assert fitted.p_value > 0.01 and not fitted.rejected  # the model that made the data fits it
    assert "Fit accepted" in fitted.verdict()
    # the calibrated config carries the estimates
    assert fitted.config.assessment.refusal_probability == pytest.approx(table.loc[PARAMS[0], "estimate"])


def test_history_csv_is_read_by_year_and_month(tmp_path):
    """Yearly and monthly periods, a rate with its denominator, blanks skipped; a BOM is fine."""
    path = tmp_path / "history.csv"
    path.write_text(
        "\ufeffperiod,plans_issued,on_time_rate,assessments_open_over_30_weeks\n2022,897,0.118,\n2023-01,58,0.17,304\n",
        encoding="utf-8",
    )
    history = read_history(path)
    assert len(history) == 6 - 1  # the blank over-30 figure for 2022 is skipped
    rate_2022 = history[(history["measure"] == "on_time_rate") & (history["period_start"].dt.year == 2022)].iloc[0]
    assert rate_2022["n"] == 897 and rate_2022["period_end"] == pd.Timestamp("2023-01-01")
    jan = history[history["period_start"] == pd.Timestamp("2023-01-01")]
    assert set(jan["period_end"]) == {pd.Timestamp("2023-02-01")}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("year,plans_issued\n2022,10\n", "expected a column 'period'"),
        ("period,plans_issued,plans_made\n2022,10,3\n", "unknown column"),
        ("period,plans_made\n2022,10\n", "expected at least one of"),
        ("period,plans_issued\n22-Jan,10\n", "expected a year"),
    ],
)
def test_bad_history_is_refused_with_a_clear_message(tmp_path, text, expected):
    """A history the calibration cannot use names the file and what was expected."""
    path = tmp_path / "h.csv"
    path.write_text(text)
    with pytest.raises(CalibrationError, match=expected):
        read_history(path)


def test_calibrate_command_writes_a_config_that_validates(tmp_path, example_path):
    """`sendsim calibrate` prints the fit and its verdict and writes a calibrated config that loads,
    with the fit in its header and in its `calibration:` record."""
    history = tmp_path / "h.csv"
    history.write_text("period,requests_received,refusals\n2023,500,150\n")
    out = tmp_path / "calibrated.yaml"

    def calibrate_file(config_path, out):
        options = ["--params", "assessment.refusal_probability", "--reps", "2", "--max-evaluations", "8", "--jobs", "1"]
        return CliRunner().invoke(
            main, ["calibrate", str(config_path), "--history", str(history), *options, "--out", str(out)]
        )

    result = calibrate_file(example_path, out)
    assert result.exit_code == 0, result.output
    assert "Observed against simulated" in result.output and "assessment.refusal_probability" in result.output
    config = sim.load_config(out)
    assert config.assessment.refusal_probability != pytest.approx(0.24)
    text = out.read_text()
    assert text.startswith("# Calibrated by `sendsim calibrate`")
    assert config.calibration is not None and config.calibration.verdict in text
    assert config.uncertainty is not None and config.uncertainty.parameters == ["assessment.refusal_probability"]
    # calibrated again, the file's header is the new fit's alone, and the author's comments stay once
    again = tmp_path / "again.yaml"
    assert calibrate_file(out, again).exit_code == 0
    text_again = again.read_text()
    assert text_again.count("# Calibrated by `sendsim calibrate`") == 1
    assert text_again.count("runs in") == 1
    first_comment = next(line for line in example_path.read_text().splitlines() if line.startswith("#"))
    assert text_again.count(first_comment) == text.count(first_comment) == 1


@pytest.mark.slow
def test_a_rejected_fit_says_so_in_the_terminal_and_the_file(tmp_path, example_path):
    """A history the model cannot reproduce is fitted as well as it can be, and called rejected."""
    history = tmp_path / "h.csv"
    history.write_text("period,requests_received,refusals\n2023,500,150\n2024,5000,4900\n")
    out = tmp_path / "calibrated.yaml"
    result = CliRunner().invoke(
        main,
        [
            "calibrate",
            str(example_path),
            "--history",
            str(history),
            "--params",
            "assessment.refusal_probability",
            "--reps",
            "2",
            "--max-evaluations",
            "8",
            "--jobs",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "FIT REJECTED" in result.output
    config = sim.load_config(out)
    assert config.calibration.rejected and "FIT REJECTED" in out.read_text().splitlines()[1]


def test_calibrate_refuses_a_parameter_that_is_not_a_number(tmp_path, example_path):
    """A parameter path that is not a numeric lever exits 2 with a message, and writes nothing."""
    history = tmp_path / "h.csv"
    history.write_text("period,refusals\n2023,150\n")
    out = tmp_path / "calibrated.yaml"
    result = CliRunner().invoke(
        main,
        ["calibrate", str(example_path), "--history", str(history), "--params", "policy.priority", "--out", str(out)],
    )
    assert result.exit_code == 2
    assert "policy.priority" in result.output
    assert not out.exists()


def test_calibrate_without_any_history_is_refused(tmp_path, example_path):
    result = CliRunner().invoke(main, ["calibrate", str(example_path), "--out", str(tmp_path / "c.yaml")])
    assert result.exit_code == 2 and "no observations" in result.output


def test_a_calibrated_config_is_fitted_again_from_its_values_not_its_draws(example_path):
    """Recalibrating a calibrated configuration fits the parameters it carries: its `uncertainty:`
    (here centred on a refusal probability of 0.9, with no spread) must not hide the trial values."""
    config = sim.load_config(
        example_path,
        overrides={
            "uncertainty": {
                "parameters": ["assessment.refusal_probability"],
                "scales": ["logit"],
                "estimates": [0.9],
                "covariance": [[0.0]],
            }
        },
    )
    history = read_history_text("period,requests_received,refusals\n2023,500,150\n")
    fit = calibrate(config, history, ["assessment.refusal_probability"], reps=2, max_evaluations=8)
    assert fit.estimates[0] == pytest.approx(0.3, abs=0.08)
    assert fit.config.uncertainty.estimates[0] == pytest.approx(fit.estimates[0])


def read_history_text(text: str) -> pd.DataFrame:
    from io import StringIO

    from sim.data.calibrate import history_rows

    return history_rows(pd.read_csv(StringIO(text)))
