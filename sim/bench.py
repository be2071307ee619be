"""Benchmarks: the four workloads of the performance issue, timed, and written to BENCHMARKS.md.

    python -m sim.bench            all four workloads, then BENCHMARKS.md
    python -m sim.bench --smoke    tiny versions, to keep the suite working (CI)

Each workload runs in a fresh process, so its peak resident memory is its own and W4 counts
process start-up as a planner meets it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Workload:
    name: str
    what: str
    config: str
    months: int
    reps: int
    target_seconds: float
    target_memory_mb: float | None = None
    repeats: int = 1  # fresh-process runs; the median is reported (these machines vary by ±10%)


WORKLOADS = {
    "W1": Workload("W1", "Devon, 60 months, one replication, full model", "configs/devon.yaml", 60, 1, 0.5, repeats=5),
    "W2": Workload(
        "W2",
        "England: 152 authorities, 60 months, one replication",
        "configs/england_benchmark.yaml",
        60,
        1,
        40.0,
        2048,
    ),
    "W3": Workload("W3", "100 replications of W1 on all cores", "configs/devon.yaml", 60, 100, 60.0),
    "W4": Workload("W4", "20 replications of Devon for 36 months, end to end", "configs/devon.yaml", 36, 20, 3.0),
    # calibration (docs/fidelity.md): Devon at the default settings of `sendsim calibrate`, on all
    # cores; and a mid-sized authority drafted by `sendsim init --year 2021`, at the back-test's
    # settings (2 replications an evaluation), on one core as the back-test runs it
    "C1": Workload(
        "C1",
        "calibrate Devon (SEN2 2019-22 and Table 1a), default settings, all cores",
        "configs/devon.yaml",
        0,
        3,
        300.0,
    ),
    "C2": Workload(
        "C2",
        "calibrate a drafted mid-sized authority (Derbyshire, 2019-21), back-test settings, one core",
        "Derbyshire",
        0,
        2,
        60.0,
    ),
}
# not run unless asked for (--only W2-one): England as one service in one process, to show what
# the national model's design avoids
EXTRA = {
    "W2-one": Workload(
        "W2-one",
        "England as one service in one process, 60 months",
        "configs/england_one_service.yaml",
        60,
        1,
        40.0,
        2048,
    ),
}
SMOKE = {
    "W1": Workload("W1", "smoke: example, 6 months", "configs/example.yaml", 6, 1, 60.0),
    "W2": Workload("W2", "smoke: England, 1 month", "configs/england_benchmark.yaml", 1, 1, 60.0, 2048),
    "W3": Workload("W3", "smoke: 4 replications of the example", "configs/example.yaml", 6, 4, 60.0),
    "W4": Workload("W4", "smoke: 2 replications end to end", "configs/example.yaml", 3, 2, 60.0),
    "C1": Workload("C1", "smoke: calibrate the example on one observation", "configs/example.yaml", 0, 1, 60.0),
}


def _measure_in_process(config: str, months: int, reps: int) -> dict:
    """Run inside this (fresh) process; report time, events, cases and peak memory."""
    import sim
    from sim.experiments.national import is_national, run_national
    from sim.experiments.replications import default_jobs, run_replications
    from sim.outputs.summary import wide

    if is_national(ROOT / config):
        # authorities in parallel processes: the serial cost is their summed CPU time
        t0 = time.perf_counter()
        national = run_national(ROOT / config, months=months)
        wall = time.perf_counter() - t0
        metrics = wide(national.metrics)
        cases = int(metrics["requests_received"].sum() + metrics["assessments_open_at_start"].iloc[0])
        peak_kb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        return {
            "wall_seconds": wall,
            "cpu_seconds": national.cpu_seconds,
            "events": national.events,
            "cases": cases,
            "jobs": national.jobs,
            "peak_mb": peak_kb / 1024,
        }
    cfg = sim.load_config(ROOT / config)
    t0 = time.perf_counter()
    if reps == 1:
        result = sim.run(cfg, months=months, cases=False)
        wall = time.perf_counter() - t0
        events = result.events
        cases = int(result.series("requests_received").sum() + result.series("assessments_open_at_start").iloc[0])
        jobs = 1
    else:
        jobs = default_jobs()
        results = run_replications(cfg, ["base"], reps, months=months, jobs=jobs)
        wall = time.perf_counter() - t0
        events = None
        received = results[results["metric"] == "requests_received"]["value"].sum()
        cases = int(received)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"wall_seconds": wall, "events": events, "cases": cases, "jobs": jobs, "peak_mb": peak_kb / 1024}


def _calibration(w: Workload, smoke: bool) -> dict:
    """`sendsim calibrate` as a planner runs it, in a new process; C2 drafts its authority first."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "calibrated.yaml"
        command = [sys.executable, "-m", "sim.cli", "calibrate"]
        if smoke:
            history = Path(folder) / "h.csv"
            history.write_text("period,requests_received,refusals\n2023,500,150\n", encoding="utf-8")
            command += [
                str(ROOT / w.config),
                "--history",
                str(history),
                "--params",
                "assessment.refusal_probability",
                "--reps",
                "1",
                "--max-evaluations",
                "5",
                "--jobs",
                "1",
            ]
        elif w.name == "C1":
            command += [
                str(ROOT / w.config),
                "--history",
                str(ROOT / "configs" / "devon-table-1a.csv"),
                "--reps",
                str(w.reps),
            ]
        else:
            draft = Path(folder) / "draft.yaml"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "sim.cli",
                    "init",
                    "--la",
                    w.config,
                    "--sen2",
                    str(ROOT.parent / "shared" / "data" / "sen2"),
                    "--year",
                    "2021",
                    "--out",
                    str(draft),
                ],
                check=True,
                capture_output=True,
                cwd=ROOT,
            )
            command += [str(draft), "--reps", str(w.reps), "--jobs", "1"]
        t0 = time.perf_counter()
        subprocess.run(command + ["--out", str(out)], check=True, capture_output=True, cwd=ROOT)
        return {"wall_seconds": time.perf_counter() - t0, "events": None, "cases": None, "jobs": None, "peak_mb": None}


def run_workload(w: Workload, smoke: bool = False) -> dict:
    if w.name.startswith("C"):
        return _calibration(w, smoke)
    if w.name == "W4":
        # end to end, as a planner runs it: a new process, the command line, results written
        out = ROOT / "results" / "bench-w4"
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sim.cli",
                "run",
                str(ROOT / w.config),
                "--reps",
                str(w.reps),
                "--months",
                str(w.months),
                "--out",
                str(out),
                "--force",  # the benchmark replaces its own earlier run
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        return {"wall_seconds": time.perf_counter() - t0, "events": None, "cases": None, "jobs": None, "peak_mb": None}
    code = f"import json, sim.bench as b; print(json.dumps(b._measure_in_process({w.config!r}, {w.months}, {w.reps})))"
    runs = []
    for _ in range(w.repeats):
        proc = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    runs.sort(key=lambda r: r["wall_seconds"])
    median = runs[len(runs) // 2]
    return median | ({"runs_seconds": [round(r["wall_seconds"], 3) for r in runs]} if len(runs) > 1 else {})


def machine() -> str:
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def report(workloads: dict[str, Workload], figures: dict[str, dict]) -> list[str]:
    lines = [
        "| workload | what | wall time | target | events/s | cases/s | peak memory | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, w in workloads.items():
        f = figures[name]
        wall = f["wall_seconds"]
        events = f"{f['events'] / wall:,.0f}" if f.get("events") else "–"
        cases = f"{f['cases'] / wall:,.0f}" if f.get("cases") else "–"
        memory = f"{f['peak_mb']:,.0f} MB" if f.get("peak_mb") else "–"
        met = wall <= w.target_seconds and (w.target_memory_mb is None or (f.get("peak_mb") or 0) <= w.target_memory_mb)
        target = f"≤ {w.target_seconds:g} s" + (f", ≤ {w.target_memory_mb / 1024:g} GB" if w.target_memory_mb else "")
        lines.append(
            f"| {name} | {w.what} | {wall:.2f} s | {target} | {events} | {cases} | {memory} | {'yes' if met else 'no'} |"
        )
    for name in workloads:
        runs = figures[name].get("runs_seconds")
        if runs:
            lines.append("")
            lines.append(
                f"{name}: the median of {len(runs)} runs, each in a fresh process ({min(runs):.2f} s to {max(runs):.2f} s)."
            )
    if "W3" in figures and "W1" in figures:
        serial = figures["W1"]["wall_seconds"] * workloads["W3"].reps
        jobs = figures["W3"].get("jobs") or 1
        efficiency = serial / (figures["W3"]["wall_seconds"] * jobs)
        lines.append("")
        lines.append(
            f"W3 parallel efficiency: {efficiency:.0%} ({workloads['W3'].reps} × W1 time / "
            f"(W3 time × {jobs} processes); target ≥ 85%)."
        )
    if "W2" in figures and "W1" in figures and figures["W1"].get("cases") and figures["W2"].get("cases"):
        w1, w2 = figures["W1"], figures["W2"]
        work_ratio = w2["cases"] / w1["cases"]
        # growth is judged on the serial cost (W1 runs in one process), not on W2's parallel wall time
        serial = w2.get("cpu_seconds") or w2["wall_seconds"]
        time_ratio = serial / w1["wall_seconds"]
        linear = "met" if time_ratio <= 1.2 * work_ratio else "not met"
        lines.append(
            f"W2/W1: {time_ratio:.1f}× the time ({serial:.1f} s of simulation over "
            f"{w2.get('jobs') or 1} process(es)) for {work_ratio:.1f}× the cases; linear growth allows "
            f"{1.2 * work_ratio:.1f}×: {linear}."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny workloads; do not write BENCHMARKS.md")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=sorted(WORKLOADS | EXTRA),
        help="run only these workloads; the others keep their last figures (benchmarks.json)",
    )
    args = parser.parse_args(argv)
    workloads = SMOKE if args.smoke else WORKLOADS
    if args.only:
        workloads = {k: v for k, v in (workloads | EXTRA).items() if k in args.only}
    store = ROOT / "benchmarks.json"  # every workload's last measurement, so --only can update a few
    figures = json.loads(store.read_text()) if store.exists() and not args.smoke else {}
    for name, w in workloads.items():
        print(f"{name}: {w.what} …", flush=True)
        figures[name] = run_workload(w, args.smoke) | {"measured": dt.date.today().isoformat(), "machine": machine()}
        print(f"    {figures[name]['wall_seconds']:.2f} s (target ≤ {w.target_seconds:g} s)", flush=True)
    if not args.smoke:
        store.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        workloads = {k: v for k, v in (WORKLOADS | EXTRA).items() if k in figures}
    lines = report(workloads, figures)
    print("\n".join(lines))
    if not args.smoke:
        dates = sorted({f.get("measured", "?") for f in figures.values()})
        machines = sorted({f.get("machine", machine()) for f in figures.values()})
        header = [f"Measured {', '.join(dates)} on {'; '.join(machines)} (each workload alone on the machine).", ""]
        path = ROOT / "BENCHMARKS.md"
        text = (
            path.read_text(encoding="utf-8")
            if path.exists()
            else "# Benchmarks\n\n<!-- figures -->\n<!-- /figures -->\n"
        )
        start, end = "<!-- figures -->", "<!-- /figures -->"
        if start in text and end in text:
            before, rest = text.split(start, 1)
            after = rest.split(end, 1)[1]
            text = before + start + "\n" + "\n".join(header + lines) + "\n" + end + after
        path.write_text(text, encoding="utf-8")
        print(f"Figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
