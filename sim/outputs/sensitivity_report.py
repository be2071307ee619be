"""The sensitivity of a finished sweep: its table of indices, charts and a one-page HTML report.

Charts per output: the indices with their 95% intervals (Sobol S1 and ST, or Morris μ*); a tornado
chart of the output's mean over the runs where each parameter lies in the lowest and in the
highest fifth of its range (from the runs themselves, whatever the design); and for Morris, μ*
against σ. Each is PNG and SVG, with units.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.measures import format_value, unit
from sim.outputs.plots import COLOURS, _save, plt
from sim.outputs.report import STYLE, _figure
from sim.outputs.sensitivity import analyse, describe_output, point_means, sentence
from sim.sweeps.design import unit_points
from sim.sweeps.spec import Sweep
from sim.sweeps.sweep import load_sweep_results


def _axis_label(output: str) -> str:
    figure = output.rpartition(".")[0]
    kind = unit(figure)
    return f"{describe_output(output)} ({'share' if kind == 'share' else kind})"


def index_chart(output: str, rows: pd.DataFrame, method: str, stem: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.6), dpi=110)
    if method == "sobol":
        rows = rows.sort_values("ST")
        y = np.arange(len(rows))
        ax.barh(y + 0.2, rows["ST"], 0.4, xerr=rows["ST_conf"], color=COLOURS[0], label="total (ST)", capsize=3)
        ax.barh(y - 0.2, rows["S1"], 0.4, xerr=rows["S1_conf"], color=COLOURS[1], label="first order (S1)", capsize=3)
        ax.set_xlabel("Sobol index (share of the output's variance), with 95% intervals")
        ax.axvline(0, color="#444", lw=0.8)
    else:
        rows = rows.sort_values("mu_star")
        y = np.arange(len(rows))
        ax.barh(y, rows["mu_star"], 0.6, xerr=rows["mu_star_conf"], color=COLOURS[0], capsize=3, label="μ*")
        ax.set_xlabel(f"μ*: mean absolute change across the parameter's range ({_axis_label(output)}), 95% intervals")
    ax.set_yticks(y, list(rows["parameter"]), fontsize=8)
    ax.set_title(f"What drives {describe_output(output)}", loc="left", fontsize=11)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, stem)


def tornado(sweep: Sweep, table: pd.DataFrame, output: str, stem: Path) -> list[Path]:
    """The output's mean where each parameter is in the lowest and the highest fifth of its values."""
    rows = table[table["output"] == output]
    centre = float(rows["value"].mean())
    bars = []
    for name in sweep.parameters:
        low_cut, high_cut = np.quantile(rows[name], [0.2, 0.8])
        low = rows[rows[name] <= low_cut]["value"].mean()
        high = rows[rows[name] >= high_cut]["value"].mean()
        bars.append((name, float(low), float(high)))
    bars.sort(key=lambda b: abs(b[2] - b[1]))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(bars) + 1.6), dpi=110)
    for i, (_, low, high) in enumerate(bars):
        ax.barh(i, low - centre, left=centre, color=COLOURS[1], height=0.6)
        ax.barh(i, high - centre, left=centre, color=COLOURS[0], height=0.6)
    ax.axvline(centre, color="#444", lw=0.8)
    ax.set_yticks(range(len(bars)), [b[0] for b in bars], fontsize=8)
    ax.set_xlabel(f"mean {_axis_label(output)}: lowest fifth of the parameter (red), highest fifth (blue)")
    ax.set_title(f"Tornado: {describe_output(output)}", loc="left", fontsize=11)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, stem)


def mu_sigma_chart(output: str, rows: pd.DataFrame, stem: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    ax.scatter(rows["mu_star"], rows["sigma"], color=COLOURS[0])
    for _, r in rows.iterrows():
        ax.annotate(r["parameter"], (r["mu_star"], r["sigma"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"μ* ({_axis_label(output)} across the range)")
    ax.set_ylabel("σ (spread of the effects: interactions or curvature)")
    ax.set_title(f"Morris: {describe_output(output)}", loc="left", fontsize=11)
    ax.grid(True, alpha=0.3)
    return _save(fig, stem)


def write_sensitivity(folder: str | Path) -> Path:
    """Analyse the finished sweep in `folder`: sensitivity.csv, plots/ and sensitivity.html there."""
    folder = Path(folder)
    sweep, table = load_sweep_results(folder)
    method = sweep.spec.design.method
    indices = analyse(sweep, table, unit_points(sweep))
    plots = folder / "plots"
    plots.mkdir(exist_ok=True)
    indices.to_csv(folder / "sensitivity.csv", index=False)
    parts = [
        f"<h1>Sensitivity: {html.escape(sweep.config.name)}</h1>",
        f"<p class='sub'>{method.title()} design: {table['point'].nunique():,} points × "
        f"{sweep.spec.replications} replications, {sweep.months} months; each point's output is the mean "
        "of its replications, which share their random numbers across points.</p>",
        "<h2>In brief</h2><ul class='headline'>",
    ]
    sentences = {o: sentence(o, indices[indices["output"] == o], method) for o in sweep.outputs}
    parts += [f"<li>{html.escape(s)}</li>" for s in sentences.values()]
    parts.append(
        "</ul><h2>The parameters</h2><table><thead><tr><th>parameter</th><th>range</th><th>unit</th></tr></thead><tbody>"
    )
    for name, p in sweep.spec.parameters.items():
        low, high = p.ends()
        parts.append(
            f"<tr><td>{html.escape(name)}</td><td>{p.dist} {low:g} to {high:g}</td><td>{html.escape(p.unit)}</td></tr>"
        )
    parts.append("</tbody></table>")
    for i, output in enumerate(sweep.outputs):
        rows = indices[indices["output"] == output]
        y = point_means(sweep, table, output)
        parts.append(f"<h2>{html.escape(describe_output(output))}</h2>")
        parts.append(
            f"<p class='note'>Across the points: from {format_value(output.rpartition('.')[0], float(np.nanmin(y)))} "
            f"to {format_value(output.rpartition('.')[0], float(np.nanmax(y)))}.</p>"
        )
        parts.append(_index_table(rows, method))
        if not rows.iloc[:, 2:].isna().all().all():
            shown = index_chart(output, rows, method, plots / f"indices_{i}")
            parts.append(_figure(shown[0], f"Indices of {describe_output(output)}, with 95% intervals"))
            if method == "morris":
                shown = mu_sigma_chart(output, rows, plots / f"mu_sigma_{i}")
                parts.append(_figure(shown[0], f"μ* against σ for {describe_output(output)}"))
        shown = tornado(sweep, table, output, plots / f"tornado_{i}")
        parts.append(_figure(shown[0], f"Tornado chart of {describe_output(output)}"))
    provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    parts.append(f"<h2>How these numbers were made</h2><pre>{html.escape(json.dumps(provenance, indent=2))}</pre>")
    document = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Sensitivity: {html.escape(sweep.config.name)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )
    path = folder / "sensitivity.html"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(document, encoding="utf-8")
    tmp.replace(path)
    return path


def _index_table(rows: pd.DataFrame, method: str) -> str:
    columns = (
        [("S1", "first order S1", "S1_conf"), ("ST", "total ST", "ST_conf")]
        if method == "sobol"
        else [("mu_star", "μ*", "mu_star_conf"), ("mu", "μ", None), ("sigma", "σ", None)]
    )
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in columns)
    body = []
    order = rows.sort_values(columns[-1 if method == "sobol" else 0][0], ascending=False)
    for _, r in order.iterrows():
        cells = "".join(f"<td>{r[c]:.3g}" + (f" ± {r[conf]:.2g}" if conf else "") + "</td>" for c, _, conf in columns)
        body.append(f"<tr><td>{html.escape(r['parameter'])}</td>{cells}</tr>")
    return f"<table><thead><tr><th>parameter</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
