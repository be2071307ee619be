"""How well can anything forecast a year of SEN2 from the years before it? A floor for the back-test.

    .venv/bin/python experiments/forecast_floor.py [--sen2 ../shared/data/sen2] [--out experiments/results]

For Y = 2021 and 2022, on the authorities with every figure needed, it fits to year Y itself (in
the sample: an advantage no forecast has) the best linear forecast from what was published to
Y-1, by least absolute deviations (the back-test's measure is the median absolute error), and
reports its median absolute error beside the spreadsheet's persistence and the back-test's goals:

- plans issued in Y, on the log scale, from the log of Y-1's and Y-2's plans issued, Y-1's
  requests and Y-1's assessments agreed;
- the on-time rate in Y, from Y-1's and Y-2's rates, Y-1's request growth, and Y-1's plans issued
  against the assessments agreed (a proxy for the backlog's growth).

An in-sample fit that cannot reach a goal says that no forecast from these figures will, out of
sample. The table goes to OUT/forecast-floor.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sim.data.sen2 import authorities, history, read_sen2  # noqa: E402

GOALS = {"plans_issued": 0.12, "on_time_rate": 0.10}


def least_absolute_deviations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The coefficients b minimising sum |y - [1, x] b|, as a linear programme."""
    n, k = x.shape[0], x.shape[1] + 1
    a = np.column_stack([np.ones(n), x])
    # variables: b (free), u >= 0, v >= 0 with a b + u - v = y; minimise sum(u + v)
    cost = np.concatenate([np.zeros(k), np.ones(2 * n)])
    result = linprog(
        cost,
        A_eq=np.hstack([a, np.eye(n), -np.eye(n)]),
        b_eq=y,
        bounds=[(None, None)] * k + [(0, None)] * (2 * n),
        method="highs",
    )
    if not result.success:
        raise RuntimeError(result.message)
    return result.x[:k]


def table_of(sen2) -> pd.DataFrame:
    rows = []
    for la in authorities(sen2):
        h = history(sen2, la)
        rows.append(
            {
                f"{column}{year}": float(h[column].get(year, np.nan))
                for column in ("requests", "assessments", "plans_issued", "on_time_rate")
                for year in range(2019, 2023)
            }
            | {"authority": la}
        )
    return pd.DataFrame(rows)


def floor(d: pd.DataFrame, year: int) -> list[dict]:
    p, q = year - 1, year - 2
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        issued = {
            "y": np.log(d[f"plans_issued{year}"]),
            "x": np.column_stack(
                [
                    np.log(d[f"plans_issued{p}"]),
                    np.log(d[f"plans_issued{q}"]),
                    np.log(d[f"requests{p}"]),
                    np.log(d[f"assessments{p}"]),
                ]
            ),  # fmt: skip
            "persistence": np.log(d[f"plans_issued{p}"]),
        }
        on_time = {
            "y": d[f"on_time_rate{year}"].to_numpy(),
            "x": np.column_stack(
                [
                    d[f"on_time_rate{p}"],
                    d[f"on_time_rate{q}"],
                    np.log(d[f"requests{p}"] / d[f"requests{q}"]),
                    np.log(d[f"plans_issued{p}"] / d[f"assessments{p}"]),
                ]
            ),  # fmt: skip
            "persistence": d[f"on_time_rate{p}"].to_numpy(),
        }
    for measure, m in (("plans_issued", issued), ("on_time_rate", on_time)):
        y, x, persistence = np.asarray(m["y"], float), np.asarray(m["x"], float), np.asarray(m["persistence"], float)
        ok = np.isfinite(y) & np.isfinite(x).all(axis=1) & np.isfinite(persistence)
        b = least_absolute_deviations(x[ok], y[ok])
        fitted = b[0] + x[ok] @ b[1:]
        if measure == "plans_issued":  # relative errors, as the back-test scores them
            error, baseline = np.abs(np.expm1(fitted - y[ok])), np.abs(np.expm1(persistence[ok] - y[ok]))
        else:
            error, baseline = np.abs(fitted - y[ok]), np.abs(persistence[ok] - y[ok])
        out.append(
            {
                "year": year,
                "measure": measure,
                "authorities": int(ok.sum()),
                "persistence": float(np.median(baseline)),
                "best_linear_in_sample": float(np.median(error)),
                "goal": GOALS[measure],
            }
        )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sen2", default=str(HERE.parent.parent / "shared" / "data" / "sen2"))
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    d = table_of(read_sen2(args.sen2))
    rows = floor(d, 2021) + floor(d, 2022)

    def show(measure: str, v: float) -> str:
        return f"{100 * v:.1f} points" if measure == "on_time_rate" else f"{v:.1%}"

    lines = [
        "# What any forecast from SEN2 can reach: a floor for the back-test",
        "",
        "Made by `experiments/forecast_floor.py` (its docstring gives the method): the best linear forecast "
        "of year Y from what was published to Y-1, fitted by least absolute deviations **to year Y itself** "
        "(in the sample), against carrying Y-1 forward. Median absolute error over the authorities with every "
        "figure; plans issued relative to the actual, the on-time rate in percentage points. The fit minimises "
        "the sum of absolute errors (plans issued on the log scale), not their median, so its median can come "
        "out above persistence's, which is one of the forecasts it could have chosen.",
        "",
        "| year | measure | authorities | persistence | best linear, in sample | back-test goal |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['year']} | {r['measure']} | {r['authorities']} | {show(r['measure'], r['persistence'])} | "
            f"{show(r['measure'], r['best_linear_in_sample'])} | ≤ {show(r['measure'], r['goal'])} |"
        )
    text = "\n".join(lines) + "\n"
    Path(args.out, "forecast-floor.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
