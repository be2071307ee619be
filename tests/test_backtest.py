"""The back-test's smoke version: three authorities, drafted from the data before the year they
forecast, calibrated, forecast and scored against the spreadsheet baselines. (The full run over
every authority is `experiments/backtest.py`, recorded in experiments/results/backtest.md.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).parents[1]
REAL_SEN2 = ROOT.parent / "shared" / "data" / "sen2"


def _backtest():
    spec = importlib.util.spec_from_file_location("backtest", ROOT / "experiments" / "backtest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["backtest"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_three_authorities_are_forecast_and_scored(tmp_path):
    if (REAL_SEN2 / "requests.csv").exists():
        sen2, year, names = REAL_SEN2, 2022, ["Rutland", "City of London", "Hartlepool"]
    else:  # the small release of tests/test_sen2.py: Devon in full, Torbay with suppressed figures
        from test_sen2 import write_sen2

        sen2, year, names = write_sen2(tmp_path / "sen2"), 2021, ["Devon", "Torbay"]
    backtest = _backtest()
    out = tmp_path / "results"
    assert (
        backtest.main(
            [
                "--sen2",
                str(sen2),
                "--year",
                str(year),
                "--la",
                *names,
                "--reps",
                "1",
                "--forecast-reps",
                "3",
                "--jobs",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = pd.read_csv(out / f"backtest-{year}.csv")
    assert set(table["authority"]) == set(names)
    assert set(table["measure"]) == {"plans_in_force", "plans_issued", "on_time_rate"}
    ok = table[table["status"] == "ok"]
    counts = ok[ok["measure"] != "on_time_rate"]
    assert len(counts) >= 2 and counts["forecast"].notna().all()  # a rate of no plans may be missing
    ranged = ok[ok["forecast"].notna()]
    assert (ranged["forecast_p5"] <= ranged["forecast"]).all() and (ranged["forecast"] <= ranged["forecast_p95"]).all()
    text = (out / "backtest.md").read_text(encoding="utf-8")
    assert f"Forecasting {year} from the data published to {year - 1}" in text
    assert "spreadsheet baseline" in text and "Failed to draft, calibrate or run" in text
    # nothing of the forecast year reached the drafts
    for record in (out / f"backtest-{year}").glob("*.yaml"):
        from sim.config import load_config

        assert max(load_config(record).history) == year - 1
    # an interrupted run resumes: a second run reuses every calibration
    before = {p.name: p.stat().st_mtime for p in (out / f"backtest-{year}").glob("*.json")}
    backtest.main(
        [
            "--sen2",
            str(sen2),
            "--year",
            str(year),
            "--la",
            *names,
            "--reps",
            "1",
            "--forecast-reps",
            "3",
            "--jobs",
            "1",
            "--out",
            str(out),
        ]
    )
    assert {p.name: p.stat().st_mtime for p in (out / f"backtest-{year}").glob("*.json")} == before
