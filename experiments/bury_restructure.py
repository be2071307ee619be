"""Bury's 2021 restructure: how much capacity it added, measured from 2022, and what it shows.

    .venv/bin/python experiments/bury_restructure.py [--reps 8] [--write]

`configs/bury.yaml` is calibrated (`sendsim calibrate configs/bury.yaml --history
configs/bury-2021.csv`) on SEN2 2019-2020 and Bury's 2021, the structure before the restructure.
Its scenario `after_restructure` changes the staffing from May 2021 as the seed describes (7 FTE
permanent caseworkers, agency cover ended). What else the restructure changed (plans written in
house, business support from 1.9 to 2.5 FTE, one senior practitioner instead of three) has no
lever of its own, so its effect on capacity is *measured*, not predicted: the effective capacity
(`assessment.effort_scale`) from May 2021 that makes the scenario's 2022 plans issued and on-time
rate closest to SEN2's 429 and 51.0%, over a grid, on common random numbers. `--write` puts the
value into the scenario (ruamel.yaml, comments kept). The table printed compares base and scenario
with SEN2 for 2019-2022; it goes to experiments/results/bury-restructure.md.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from sim.config import load_config, parse_config, resolve_scenario  # noqa: E402
from sim.experiments.replications import replication_seed  # noqa: E402
from sim.experiments.runner import simulate  # noqa: E402

CONFIG = ROOT / "configs" / "bury.yaml"
SCENARIO = "after_restructure"
ACTUAL = {2019: (213, 0.789), 2020: (302, 0.272), 2021: (263, 0.342), 2022: (429, 0.510)}  # SEN2, excl. exceptions
CHANGE_DATE = "2021-05-01"


def yearly(config, reps: int, seed: int = 7) -> dict[int, np.ndarray]:
    """Plans issued and on-time rate in 2021 and 2022 of each replication."""
    out = {2021: [], 2022: []}
    for r in range(reps):
        model = simulate(config, replication_seed(seed, r), 24)
        values = model.metrics.raw_frame()
        for i, year in enumerate((2021, 2022)):
            months = values.iloc[12 * i : 12 * (i + 1)]
            issued = months["plans_issued"].sum()
            out[year].append((issued, months["plans_issued_within_20_weeks"].sum() / issued if issued else np.nan))
    return {y: np.array(v) for y, v in out.items()}


def with_capacity(base, scale: float | None):
    raw = base.model_dump(mode="json")
    actions = raw["scenarios"][SCENARIO]["actions"]
    actions = [a for a in actions if not (a["action"] == "set" and a.get("parameter") == "assessment.effort_scale")]
    if scale is not None:
        actions.append({"date": CHANGE_DATE, "action": "set", "parameter": "assessment.effort_scale", "value": scale})
    raw["scenarios"][SCENARIO]["actions"] = actions
    return resolve_scenario(parse_config(raw, str(CONFIG)), SCENARIO)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--write", action="store_true", help="write the measured capacity into configs/bury.yaml")
    args = parser.parse_args(argv)
    base = load_config(CONFIG)
    grid = np.exp(np.linspace(np.log(0.25), np.log(2.5), 21))
    best, best_j = None, np.inf
    for scale in grid:
        runs = yearly(with_capacity(base, float(scale)), args.reps)[2022]
        mean, sd = np.nanmean(runs, axis=0), np.nanstd(runs, axis=0, ddof=1)
        j = ((mean[0] - ACTUAL[2022][0]) / max(sd[0], 10)) ** 2 + ((mean[1] - ACTUAL[2022][1]) / max(sd[1], 0.02)) ** 2
        print(f"effort scale {scale:.3f}: 2022 plans {mean[0]:.0f}, on time {mean[1]:.1%} (J {j:.1f})", flush=True)
        if j < best_j:
            best, best_j = float(scale), j
    best = float(f"{best:.3g}")
    base_runs = yearly(resolve_scenario(base, None), args.reps)
    scenario_runs = yearly(with_capacity(base, best), args.reps)
    lines = [
        "# Bury's 2021 restructure, measured from 2022",
        "",
        f"Made by `experiments/bury_restructure.py` ({args.reps} replications each). The scenario "
        f"`{SCENARIO}` is the seed's staffing from May 2021 and an effective capacity "
        f"(`assessment.effort_scale`) of {best} from {CHANGE_DATE}, the value on a grid of 21 that brings "
        "its 2022 closest to SEN2's; the base is the structure before, as calibrated on 2019-2021. 2019 and "
        "2020 are the calibration's windows (configs/bury.yaml's header).",
        "",
        "| year | SEN2 plans | SEN2 on time | base plans | base on time (90% of runs) | restructure plans | "
        "restructure on time (90% of runs) |",
        "|---|---|---|---|---|---|---|",
    ]
    for year in (2021, 2022):
        b, s = base_runs[year], scenario_runs[year]
        lines.append(
            f"| {year} | {ACTUAL[year][0]} | {ACTUAL[year][1]:.1%} | {np.mean(b[:, 0]):.0f} | "
            f"{np.nanmean(b[:, 1]):.1%} ({np.nanpercentile(b[:, 1], 5):.0%}-{np.nanpercentile(b[:, 1], 95):.0%}) | "
            f"{np.mean(s[:, 0]):.0f} | {np.nanmean(s[:, 1]):.1%} "
            f"({np.nanpercentile(s[:, 1], 5):.0%}-{np.nanpercentile(s[:, 1], 95):.0%}) |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "results" / "bury-restructure.md").write_text(text, encoding="utf-8")
    if args.write:
        _write(best)
    return 0


def _write(scale: float) -> None:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    document = yaml.load(CONFIG.read_text(encoding="utf-8"))
    actions = document["scenarios"][SCENARIO]["actions"]
    for i in reversed(range(len(actions))):
        if actions[i].get("action") == "set" and actions[i].get("parameter") == "assessment.effort_scale":
            del actions[i]
    action = CommentedMap(
        [("date", CHANGE_DATE), ("action", "set"), ("parameter", "assessment.effort_scale"), ("value", scale)]
    )
    action.fa.set_flow_style()
    actions.append(action)
    actions.yaml_add_eol_comment(
        "capacity from the restructure, measured from SEN2 2022 (experiments/bury_restructure.py)", len(actions) - 1
    )
    stream = io.StringIO()
    yaml.dump(document, stream)
    parse_config(__import__("yaml").safe_load(stream.getvalue()), str(CONFIG))
    CONFIG.write_text(stream.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
