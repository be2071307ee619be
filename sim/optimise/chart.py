"""The Pareto chart: each plan's cost against its probability of meeting the target."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from sim.outputs.plots import COLOURS, _save  # noqa: E402


def pareto_front(cost: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Which plans no other beats on both: as cheap or cheaper and as likely or likelier, one strictly."""
    keep = np.ones(len(cost), dtype=bool)
    for i in range(len(cost)):
        better = (
            (cost <= cost[i]) & (probability >= probability[i]) & ((cost < cost[i]) | (probability > probability[i]))
        )
        keep[i] = not better.any()
    return keep


def pareto_chart(
    trials: pd.DataFrame, checked: pd.DataFrame, required: float, x: str, x_label: str, stem: Path
) -> list[Path]:
    """Trials (their search estimates) and the candidates run again (their Wilson intervals);
    `x` is the objective's column (cost in £, or posts)."""
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=110)
    scale = 1e6 if x == "cost" else 1.0
    cost, p = trials[x].to_numpy(float) / scale, trials["probability"].to_numpy(float)
    ax.scatter(cost, p, s=18, color="#9aa7b4", label="a trial of the search (its replications)", zorder=2)
    front = pareto_front(cost, p)
    order = np.argsort(cost[front])
    ax.step(
        cost[front][order], p[front][order], where="post", color=COLOURS[0], lw=1.2, label="Pareto front of the search"
    )
    if len(checked):
        cx = checked[x].to_numpy(float) / scale
        cp = checked["probability"].to_numpy(float)
        err = np.clip(
            np.vstack(
                [cp - checked["probability_low"].to_numpy(float), checked["probability_high"].to_numpy(float) - cp]
            ),
            0.0,
            None,
        )
        ax.errorbar(
            cx,
            cp,
            yerr=err,
            fmt="o",
            color=COLOURS[1],
            capsize=3,
            label="run again on fresh seeds (95% interval)",
            zorder=3,
        )
        chosen = checked[checked["chosen"]]
        if len(chosen):
            ax.scatter(chosen[x] / scale, chosen["probability"], s=140, facecolors="none", edgecolors=COLOURS[2], lw=2,
                       label="recommended", zorder=4)  # fmt: skip
    ax.axhline(required, color="#444", ls="--", lw=0.9, label=f"probability asked ({required:g})")
    ax.set_xlabel(x_label)
    ax.set_ylabel("P(target): share of runs meeting it")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if x == "cost":
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"£{v:.2f}m"))
    ax.set_ylim(-0.03, 1.03)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    fig.suptitle("Cost against the probability of meeting the target", x=0.01, ha="left", fontsize=11)
    return _save(fig, stem)
