"""Back-test: for every authority, forecast a year from the data published before it, and score it.

    .venv/bin/python experiments/backtest.py --year 2022 [--sen2 ../shared/data/sen2] [--la Devon Bury ...]
                                             [--jobs 2] [--reps 2] [--forecast-reps 10] [--out experiments/results]

The honest protocol, for year Y and each authority in the SEN2 files:

1. `sendsim init --year Y-1`: a configuration starting on 1 January of Y from the flows of Y-1 and
   the census of January Y (which DfE publishes with them), with the history of every year up to
   Y-1. Nothing of Y or later is read.
2. `sendsim calibrate`: each history year's capacity and fast-track share (backtest settings:
   `--reps` replications an evaluation).
3. Forecast Y with `--forecast-reps` replications, each drawing its parameters from the
   calibration's uncertainty: next year's capacity and fast-track share are the last year's moved
   by a year's drift, whose size is pooled over every authority's fitted path (years up to Y-1).
4. Score plans in force the next January, plans issued and the on-time rate in Y against what SEN2
   recorded, beside the spreadsheet a planner would use instead on the same authorities: plans in
   force by last year's growth ratio, plans issued and the on-time rate carried forward.

Each authority's calibration is written to OUT/backtest-Y/ as soon as it is done, so an
interrupted run resumes where it stopped. The table goes to OUT/backtest.md (a section per year),
the per-authority rows to OUT/backtest-Y.csv and a chart to OUT/backtest-Y.png.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sim.config import dump_config, load_config, parse_config  # noqa: E402
from sim.data.calibrate import CAPACITY, DEFAULT_DRIFT, FAST_TRACK, YEARLY, calibrate  # noqa: E402
from sim.data.init_config import draft_config  # noqa: E402
from sim.data.sen2 import authorities, history, read_sen2  # noqa: E402
from sim.experiments.replications import replication_seed  # noqa: E402
from sim.experiments.runner import simulate  # noqa: E402
from sim.model.uncertainty import to_free  # noqa: E402

MEASURES = ("plans_in_force", "plans_issued", "on_time_rate")
GOALS = {"plans_in_force": 0.025, "plans_issued": 0.12, "on_time_rate": 0.10}


def calibrate_one(sen2_dir: str, la: str, year: int, reps: int, folder: str, overrides: dict | None = None) -> dict:
    """Draft from Y-1, calibrate, and keep the result; a failure is recorded with its reason."""
    out = Path(folder) / f"{_slug(la)}.json"
    if out.exists():
        return json.loads(out.read_text())
    t0 = time.perf_counter()
    record: dict = {"authority": la, "year": year}
    try:
        sen2 = read_sen2(sen2_dir)
        draft = draft_config(sen2, la, year=year - 1)
        config = parse_config(draft.raw, f"sendsim init --la {la!r} --year {year - 1}", overrides)
        fitted = calibrate(config, reps=reps, jobs=1)
        path = Path(folder) / f"{_slug(la)}.yaml"
        path.write_text(dump_config(fitted.config), encoding="utf-8")
        record.update(
            status="ok",
            config=path.name,
            years=fitted.years,
            yearly={p: [v[k] for v in fitted.yearly] for k, (p, *_) in enumerate(YEARLY)},
            objective=fitted.objective,
            runs=fitted.runs,
            seconds=time.perf_counter() - t0,
            verdict=fitted.verdict(),
        )
    except Exception as exc:  # recorded and reported by name: the goal is 0 failures
        record.update(
            status="failed",
            reason=f"{type(exc).__name__}: {exc}".splitlines()[0],
            trace=traceback.format_exc(limit=3),
            seconds=time.perf_counter() - t0,
        )
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, default=float))
    tmp.replace(out)
    return record


def pooled_drift(records: list[dict]) -> dict[str, float]:
    """How far each yearly parameter moves from one year to the next on its fitting scale: a
    robust standard deviation (1.4826 x the median absolute change, so that a few wild years, as
    2020 was, do not set it) over every authority's fitted path, all of it from years before the
    forecast."""
    out = {}
    for path, scale, *_ in YEARLY:
        diffs = []
        for r in records:
            if r.get("status") != "ok":
                continue
            z = [to_free(min(max(v, 1e-6), 1 - 1e-6) if scale == "logit" else v, scale) for v in r["yearly"][path]]
            diffs += list(np.diff(z))
        out[path] = float(1.4826 * np.median(np.abs(diffs))) if diffs else DEFAULT_DRIFT[path]
    return out


def forecast_one(record: dict, drift: dict[str, float], forecast_reps: int, seed: int, folder: str) -> np.ndarray:
    """Plans in force at the year's end, plans issued and on-time rate of each replication."""
    path = Path(folder) / Path(record["config"]).name  # kept beside the record, wherever the folder is
    config = load_config(path)
    u = config.uncertainty
    if u is not None:
        # the calibration's own estimate of the last year, moved by a year's drift pooled over
        # every authority (in place of the authority's own path pooled with the default)
        raw = config.model_dump(mode="json")
        raw["uncertainty"]["drift"] = [
            drift.get(path, d) for path, d in zip(u.parameters, u.drift or [0.0] * len(u.parameters))
        ]
        config = parse_config(raw, str(path))
    out = np.empty((forecast_reps, 3))
    # each authority its own seeds: one set for all would draw the same parameter deviations for
    # every authority, and the whole back-test would lean the way those few draws lean
    own_seed = seed ^ zlib.crc32(record["authority"].encode("utf-8"))
    for r in range(forecast_reps):
        model = simulate(config, replication_seed(own_seed, r), 12)
        issued = model.metrics.total("plans_issued")
        on_time = model.metrics.total("plans_issued_within_20_weeks") / issued if issued else np.nan
        out[r] = len(model.reviews.plans), issued, on_time
    return out


def score(sen2, records: list[dict], forecasts: dict[str, np.ndarray], year: int) -> pd.DataFrame:
    rows = []
    for r in records:
        la = r["authority"]
        h = history(sen2, la)
        get = lambda column, y, h=h: float(h[column].get(y, np.nan))  # noqa: E731
        actual = {
            "plans_in_force": get("plans_in_force_january", year + 1),
            "plans_issued": get("plans_issued", year),
            "on_time_rate": get("on_time_rate", year),
        }
        census, census_before = get("plans_in_force_january", year), get("plans_in_force_january", year - 1)
        baseline = {
            "plans_in_force": census * census / census_before if census_before else np.nan,
            "plans_issued": get("plans_issued", year - 1),
            "on_time_rate": get("on_time_rate", year - 1),
        }
        for k, measure in enumerate(MEASURES):
            row = {
                "authority": la,
                "year": year,
                "measure": measure,
                "status": r["status"],
                "actual": actual[measure],
                "baseline": baseline[measure],
            }
            if r["status"] == "ok" and np.isfinite(forecasts[la][:, k]).any():
                values = forecasts[la][:, k]  # an authority whose runs issue no plan has no on-time rate
                low, high = prediction_interval(values)
                # the middle of the range of outcomes: the replications' spread is skewed where a
                # parameter is drawn on a log or logit scale, and the mean follows the long tail
                row.update(
                    forecast=float(np.nanmedian(values)),
                    forecast_mean=float(np.nanmean(values)),
                    forecast_p5=float(low),
                    forecast_p95=float(high),
                )
            rows.append(row)
    table = pd.DataFrame(rows)
    rate = table["measure"] == "on_time_rate"
    table["error"] = np.where(
        rate, table["forecast"] - table["actual"], (table["forecast"] - table["actual"]) / table["actual"]
    )
    table["baseline_error"] = np.where(
        rate, table["baseline"] - table["actual"], (table["baseline"] - table["actual"]) / table["actual"]
    )
    table["in_90pc_range"] = (table["forecast_p5"] <= table["actual"]) & (table["actual"] <= table["forecast_p95"])
    return table


def prediction_interval(values: np.ndarray) -> tuple[float, float]:
    """The 90% range of outcomes from n replications, by their order statistics: the k-th lowest to
    the k-th highest, k = max(1, floor(0.05 (n + 1))), which covers a new outcome from the same
    distribution with probability (n + 1 - 2k) / (n + 1), 90.5% at n = 20 whatever the distribution.
    (The interpolated 5th-95th percentile of so few runs covers less: about 76% at n = 10.)"""
    x = np.sort(values[np.isfinite(values)])
    k = max(1, int(0.05 * (len(x) + 1)))
    return float(x[k - 1]), float(x[len(x) - k])


def nominal_coverage(n: int) -> float:
    k = max(1, int(0.05 * (n + 1)))
    return (n + 1 - 2 * k) / (n + 1)


def summary(table: pd.DataFrame, records: list[dict]) -> pd.DataFrame:
    rows = []
    for measure in MEASURES:
        t = table[
            (table["measure"] == measure)
            & table["forecast"].notna()
            & table["actual"].notna()
            & table["baseline"].notna()
        ]
        rows.append(
            {
                "measure": measure,
                "authorities": len(t),
                "model_median_abs_error": float(t["error"].abs().median()),
                "model_bias": float(t["error"].median()),
                "baseline_median_abs_error": float(t["baseline_error"].abs().median()),
                "in_90pc_range": float(t["in_90pc_range"].mean()),
                "correlation": float(np.corrcoef(t["forecast"], t["actual"])[0, 1]) if len(t) > 2 else np.nan,
                "baseline_correlation": float(np.corrcoef(t["baseline"], t["actual"])[0, 1]) if len(t) > 2 else np.nan,
                "goal": GOALS[measure],
            }
        )
    return pd.DataFrame(rows)


def render(
    year: int, table: pd.DataFrame, summ: pd.DataFrame, records: list[dict], drift: dict, args, seconds: float
) -> str:
    def show(measure, v):
        return "–" if pd.isna(v) else (f"{100 * v:.1f} points" if measure == "on_time_rate" else f"{v:.1%}")

    failed = [r for r in records if r["status"] != "ok"]
    ok = [r for r in records if r["status"] == "ok"]
    cal_seconds = [r["seconds"] for r in ok]
    lines = [
        f"## Forecasting {year} from the data published to {year - 1}",
        "",
        f"{len(records)} authorities in the SEN2 files; {len(ok)} drafted, calibrated and forecast. "
        f"Each was drafted by `sendsim init --year {year - 1}` (a January {year} start, history to {year - 1}), "
        f"calibrated ({args.reps} replications an evaluation: each year's capacity and fast-track share) and "
        f"forecast with {args.forecast_reps} replications drawing their parameters from the calibration's "
        f"uncertainty, next year's parameters moved by the drift pooled over all authorities' fitted paths "
        f"(standard deviation on the fitting scale: capacity {drift[CAPACITY]:.2f} (log), fast-track share "
        f"{drift[FAST_TRACK]:.2f} (logit)). Baselines on the same authorities: plans in force by last year's "
        f"growth ratio, plans issued and on-time rate carried forward from {year - 1}.",
        "",
        "| measure | authorities | sendsim: median absolute error (bias) | spreadsheet baseline | goal | "
        "actual in sendsim's 90% range | correlation with actual (baseline) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in summ.itertuples():
        met = "met" if r.model_median_abs_error <= r.goal else "not met"
        lines.append(
            f"| {r.measure} | {r.authorities} | {show(r.measure, r.model_median_abs_error)} "
            f"({'+' if r.model_bias >= 0 else '−'}{show(r.measure, abs(r.model_bias))}) | "
            f"{show(r.measure, r.baseline_median_abs_error)} | ≤ {show(r.measure, r.goal)}: {met} | "
            f"{r.in_90pc_range:.0%} | {r.correlation:.2f} ({r.baseline_correlation:.2f}) |"
        )
    lines += [
        "",
        f"Errors of plans in force and plans issued are relative to the actual; on-time errors are in "
        f"percentage points. The forecast is the median of the {args.forecast_reps} replications (the mean "
        f"is in the CSV); the 90% range runs from their lowest to their highest, which a new outcome of the "
        f"same model falls within with probability {nominal_coverage(args.forecast_reps):.1%} (order "
        "statistics, whatever the distribution).",
        "",
    ]
    if failed:
        lines.append(f"Failed to draft, calibrate or run ({len(failed)}):")
        lines += [f"- {r['authority']}: {r['reason']}" for r in failed]
    else:
        lines.append("Failed to draft, calibrate or run: none.")
    if cal_seconds:
        lines += [
            "",
            f"Calibration time per authority (one core): median {np.median(cal_seconds):.0f} s, "
            f"90th percentile {np.percentile(cal_seconds, 90):.0f} s, longest {max(cal_seconds):.0f} s; "
            f"this run {seconds / 60:.0f} minutes on {args.jobs} processes (calibrations kept in the folder "
            f"from an earlier run are reused, not redone).",
        ]
    return "\n".join(lines) + "\n"


def plot(table: pd.DataFrame, year: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    titles = {
        "plans_in_force": f"Plans in force, January {year + 1}",
        "plans_issued": f"Plans issued in {year}",
        "on_time_rate": f"Issued within 20 weeks in {year} (%)",
    }
    for ax, measure in zip(axes, MEASURES):
        t = table[(table["measure"] == measure) & table["forecast"].notna() & table["actual"].notna()]
        scale = 100 if measure == "on_time_rate" else 1
        x, y = t["actual"] * scale, t["forecast"] * scale
        err = (
            np.vstack(
                [(t["forecast"] - t["forecast_p5"]).clip(lower=0), (t["forecast_p95"] - t["forecast"]).clip(lower=0)]
            )
            * scale
        )
        ax.errorbar(x, y, yerr=err, fmt="o", ms=3, alpha=0.6, elinewidth=0.8, label="sendsim: mean and 90% range")
        ax.scatter(x, t["baseline"] * scale, s=8, color="grey", alpha=0.6, label="spreadsheet baseline")
        top = max(float(np.nanmax(x)), float(np.nanmax(y)))
        ax.plot([0, top], [0, top], color="black", lw=0.8)
        if measure != "on_time_rate":
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_title(titles[measure])
        ax.set_xlabel("actual (SEN2)" + (" %" if measure == "on_time_rate" else ", plans"))
        ax.set_ylabel("forecast" + (" %" if measure == "on_time_rate" else ", plans"))
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Back-test: every authority's {year}, forecast from data to {year - 1}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _slug(la: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in la.lower()).strip("-")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sen2", default=str(HERE.parent.parent / "shared" / "data" / "sen2"))
    parser.add_argument("--year", type=int, default=2022)
    parser.add_argument("--la", nargs="+", default=None, help="authorities (default: every one in the files)")
    parser.add_argument("--reps", type=int, default=2, help="replications an evaluation in the calibration")
    # 20, not the 10 the issue proposed: with 10 runs no range of them is a 90% range (the widest,
    # lowest to highest, covers 82%; the interpolated 5th-95th percentile about 76%), so coverage
    # could not be judged against 80-95%; with 20 the lowest to highest covers 90.5%
    parser.add_argument("--forecast-reps", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--seed", type=int, default=10_000)
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a field of every draft (to try another setting of the behaviour)",
    )
    args = parser.parse_args(argv)
    import yaml

    overrides = {k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.sets)}
    t0 = time.perf_counter()
    sen2 = read_sen2(args.sen2)
    names = args.la or authorities(sen2)
    out = Path(args.out)
    folder = out / f"backtest-{args.year}"
    folder.mkdir(parents=True, exist_ok=True)
    records: dict[str, dict] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            pool.submit(calibrate_one, args.sen2, la, args.year, args.reps, str(folder), overrides): la for la in names
        }
        for i, future in enumerate(as_completed(futures), 1):
            r = future.result()
            records[r["authority"]] = r
            print(
                f"[{i}/{len(names)}] {r['authority']}: {r['status']}"
                + (f" ({r['seconds']:.0f} s)" if r["status"] == "ok" else f" — {r['reason']}"),
                flush=True,
            )
    ordered = [records[la] for la in names]
    drift = pooled_drift(ordered)
    forecasts = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            pool.submit(forecast_one, r, drift, args.forecast_reps, args.seed, str(folder)): r["authority"]
            for r in ordered
            if r["status"] == "ok"
        }
        for future in as_completed(futures):
            forecasts[futures[future]] = future.result()
    table = score(sen2, ordered, forecasts, args.year)
    summ = summary(table, ordered)
    table.to_csv(out / f"backtest-{args.year}.csv", index=False)
    summ.to_csv(out / f"backtest-{args.year}-summary.csv", index=False)
    plot(table, args.year, out / f"backtest-{args.year}.png")
    section = render(args.year, table, summ, ordered, drift, args, time.perf_counter() - t0)
    (out / f"backtest-{args.year}.md").write_text(section, encoding="utf-8")
    _combine(out)
    print(section)
    return 0


def _combine(out: Path) -> None:
    """backtest.md: the sections of every year run, newest first."""
    parts = sorted(out.glob("backtest-[0-9][0-9][0-9][0-9].md"), reverse=True)
    text = [
        "# Back-test: every authority, a year ahead, from data published before it",
        "",
        "Made by `experiments/backtest.py` (see its docstring for the protocol). Per-authority rows in "
        "`backtest-YEAR.csv`, charts in `backtest-YEAR.png`.",
        "",
    ]
    for part in parts:
        text.append(part.read_text(encoding="utf-8"))
    (out / "backtest.md").write_text("\n".join(text), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
