"""Back-test: calibrate on an authority's years up to Y-1, forecast year Y, and score the forecast.

    .venv/bin/python experiments/backtest.py [--sen2 ../shared/data/sen2] [--year 2022]
                                             [--la Devon Bury "Bournemouth, Christchurch and Poole"]

For each authority: `sendsim init` drafts a config from SEN2 flows of year Y-3 (starting on
1 January of Y-2, with that January's census of plans); the unmeasured parameters are fitted to
years Y-2 and Y-1 (requests, refusals, plans issued, the on-time rate, plans in force at the
next January census); then the calibrated model forecasts year Y with replications, and each
forecast is compared with what SEN2 recorded. Results go to experiments/results/backtest.csv
and experiments/results/backtest.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import sim  # noqa: E402
from sim.calibrate import calibrate, history_rows, sen2_history, simulated_moments  # noqa: E402
from sim.config import parse_config  # noqa: E402
from sim.init_config import draft_config  # noqa: E402
from sim.replications import replication_seed  # noqa: E402
from sim.sen2 import history, read_sen2  # noqa: E402

PARAMS = [
    "assessment.draft_plan_hours.mean",
    "assessment.ep_advice_hours.mean",
    "assessment.refusal_probability",
    "demand.growth_per_year",
]


def backtest(sen2, la: str, year: int, reps: int, forecast_reps: int, evaluations: int) -> pd.DataFrame:
    h = history(sen2, la)
    draft = draft_config(sen2, la, year=year - 3)
    config = parse_config(draft.raw, f"sendsim init --la {la!r} --year {year - 3}")
    fit_history = history_rows(sen2_history(h, (year - 2, year - 1)))
    fitted = calibrate(config, fit_history, PARAMS, reps=reps, max_evaluations=evaluations)
    target = history_rows(sen2_history(h, (year,)))
    months = 36
    runs = np.array([
        simulated_moments(sim.run(fitted.config, seed=replication_seed(10_000, r), months=months, cases=False).metrics, target)
        for r in range(forecast_reps)
    ])
    rows = []
    for i, row in enumerate(target.itertuples()):
        forecast = runs[:, i]
        mean = float(np.nanmean(forecast))
        low, high = np.nanpercentile(forecast, [5, 95])
        rows.append({
            "authority": la, "year": year, "measure": row.measure, "actual": row.observed, "forecast": mean,
            "forecast_p5": low, "forecast_p95": high, "error": mean - row.observed,
            "relative_error": (mean - row.observed) / row.observed if row.observed else np.nan,
            "actual_in_90pc_range": bool(low <= row.observed <= high),
        })
    table = pd.DataFrame(rows)
    table.attrs["fit"] = fitted
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sen2", default=str(HERE.parent.parent / "shared" / "data" / "sen2"))
    parser.add_argument("--year", type=int, default=2022)
    parser.add_argument("--la", nargs="+", default=["Devon", "Bury", "Bournemouth, Christchurch and Poole"])
    parser.add_argument("--reps", type=int, default=3, help="replications per calibration evaluation")
    parser.add_argument("--forecast-reps", type=int, default=20)
    parser.add_argument("--evaluations", type=int, default=60)
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    sen2 = read_sen2(args.sen2)
    tables, fits = [], []
    for la in args.la:
        print(f"{la}: calibrating on {args.year - 2}-{args.year - 1}, forecasting {args.year} …", flush=True)
        table = backtest(sen2, la, args.year, args.reps, args.forecast_reps, args.evaluations)
        tables.append(table)
        fit = table.attrs["fit"].table()
        fit.insert(0, "authority", la)
        fit["fit_J"] = table.attrs["fit"].objective
        fit["fit_p_value"] = table.attrs["fit"].p_value
        fits.append(fit)
    result = pd.concat(tables, ignore_index=True)
    fitted = pd.concat(fits, ignore_index=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result.to_csv(out / "backtest.csv", index=False)
    fitted.to_csv(out / "backtest-fitted-parameters.csv", index=False)
    (out / "backtest.md").write_text(render(result, fitted, args), encoding="utf-8")
    print(render(result, fitted, args))
    return 0


def render(result: pd.DataFrame, fitted: pd.DataFrame, args) -> str:
    def show(measure, v):
        return "–" if pd.isna(v) else (f"{v:.1%}" if measure == "on_time_rate" else f"{v:,.0f}")

    lines = [f"# Back-test: forecasting {args.year} from {args.year - 3}-{args.year - 1}", "",
             f"Config drafted by `sendsim init` from SEN2 {args.year - 3}; parameters {', '.join(PARAMS)} fitted "
             f"to {args.year - 2} and {args.year - 1} ({args.reps} replications per evaluation, at most "
             f"{args.evaluations} evaluations); forecast from {args.forecast_reps} replications. "
             f"Made by `experiments/backtest.py`.", "",
             "| authority | measure | actual | forecast (mean) | 90% of runs | error | relative error | actual in range |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result.itertuples():
        lines.append(f"| {r.authority} | {r.measure} | {show(r.measure, r.actual)} | {show(r.measure, r.forecast)} | "
                     f"{show(r.measure, r.forecast_p5)} – {show(r.measure, r.forecast_p95)} | "
                     f"{('%+.1f pts' % (100 * r.error)) if r.measure == 'on_time_rate' else f'{r.error:+,.0f}'} | "
                     f"{r.relative_error:+.0%} | {'yes' if r.actual_in_90pc_range else 'no'} |")
    lines += ["", "## Fitted parameters", "",
              "| authority | parameter | start | estimate | 95% CI | fit J (p) |", "|---|---|---|---|---|---|"]
    for r in fitted.itertuples():
        lines.append(f"| {r.authority} | {r.parameter} | {r.start:.3g} | {r.estimate:.3g} | "
                     f"{r.ci_low:.3g} – {r.ci_high:.3g} | {r.fit_J:.1f} ({r.fit_p_value:.3f}) |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
