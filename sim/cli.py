"""The `sendsim` command: check a configuration, run it, compare scenarios."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.config import MAX_MONTHS, MAX_SEED, ConfigError, check_horizon, load_config, resolve_scenario
from sim.files import check_writable, load_yaml, read_text, read_yaml, write_atomic
from sim.measures import ON_TIME, label

err = Console(stderr=True, soft_wrap=True)  # messages are not broken mid-path
out = Console()


def _parse_overrides(pairs: tuple[str, ...]) -> dict:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--set")
        try:
            overrides[key] = load_yaml(value, f"--set {key}")
        except ConfigError as exc:
            raise click.BadParameter(str(exc), param_hint="--set") from None
    return overrides


# Bounds of the options, as the configuration's (sim/config.py): a seed numpy and every process
# agree on, a horizon of 50 years; more replications or processes than these no machine holds.
SEED = click.IntRange(0, MAX_SEED)
MONTHS = click.IntRange(1, MAX_MONTHS)
MAX_REPS = 100_000
MAX_JOBS = 1_024


def _or_exit(read, *args):
    """A configuration read, or its one clear message and exit status 2."""
    try:
        return read(*args)
    except ConfigError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    """One message, exit status 2."""
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)  # a path may hold [brackets]
    sys.exit(2)


def _ready_to_run(config, config_file: str, scenarios: list, months: int | None, out_dir: Path, force: bool) -> None:
    """Before any simulation: a --months the service (or a scenario) would outgrow, and an --out
    that cannot be written or already holds results, are refused with exit status 2."""
    if months is not None:
        for name in scenarios:
            try:
                check_horizon(resolve_scenario(config, name, config_file), months)
            except ValueError as exc:
                _fail(f"{config_file}: --months {months}: {exc}")
    _fresh(out_dir, force)


def _fresh(out_dir: Path, force: bool) -> None:
    """An --out that can be written and holds no results, or --force to replace the ones it holds:
    results are never replaced silently."""
    from sim.experiments.runner import check_out_dir

    _or_exit(check_writable, out_dir, True)
    try:
        check_out_dir(out_dir)
    except FileExistsError as exc:
        _fail(str(exc))
    earlier = out_dir / "provenance.json"
    if earlier.exists() and not force:
        try:
            record = json.loads(earlier.read_text(encoding="utf-8"))
            when = record.get("finished")
            finished = f", finished on {dt.datetime.fromisoformat(when):%-d %B %Y at %H:%M}" if when else ""
            what = f" (of {record.get('config') or record.get('config_name')}{finished})"
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            what = ""
        _fail(
            f"{out_dir} already holds the results of an earlier run{what}; choose another --out, "
            "or add --force to replace them"
        )


MAX_REPS_OPTION = click.option(
    "--max-reps",
    type=click.IntRange(2, MAX_REPS),
    default=100,
    show_default=True,
    help="With --precision: stop at this many replications if the precision is not reached.",
)
FORCE = click.option(
    "--force", is_flag=True, help="Replace the results already in --out (without it, such a folder is refused)."
)


def _load(path: str, overrides: dict | None = None):
    return _or_exit(load_config, path, overrides)


RESUME_HELP = (
    "Continue a run that was interrupted or killed: the replications it finished (kept in "
    "OUT.partial) are used again and only the rest are run; the results are those of one "
    "uninterrupted run."
)


def _staging(out_dir: Path, job: dict, resume: bool):
    """The folder that keeps each finished piece of a long job, beside its results."""
    from sim.experiments.parallel import Staging, StagingError

    try:
        return Staging.beside(out_dir, job, resume)
    except StagingError as exc:
        _fail(str(exc))


@contextmanager
def _interruptible(staging, total: int, what: str):
    """Ctrl-C or SIGTERM: say what was kept and how to go on, and exit 130 or 143, no traceback."""
    import signal

    def terminated(signum, frame):
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    except (KeyboardInterrupt, _Terminated) as exc:
        err.print(
            f"Interrupted: {staging.finished()} of {total} {what} finished and kept in {staging.folder}. "
            "Run the same command with --resume to go on from there.",
            highlight=False,
        )
        sys.exit(143 if isinstance(exc, _Terminated) else 130)
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Terminated(Exception):
    """SIGTERM, turned into an exception so that the job stops as it would on Ctrl-C."""


class _Commands(click.Group):
    """Lets `--scenarios A B C` and `--params P Q` take several values, as planners write them."""

    def parse_args(self, ctx, args):
        expanded, taking = [], False
        for arg in args:
            if arg in ("--scenarios", "--params"):
                taking = arg
                continue
            if taking and not arg.startswith("-"):
                expanded += [taking, arg]
                continue
            taking = False
            expanded.append(arg)
        return super().parse_args(ctx, expanded)


class _Share(click.FloatRange):
    """A share in (0, 1]; FloatRange alone lets NaN through, since every comparison with it is false."""

    def convert(self, value, param, ctx):
        share = super().convert(value, param, ctx)
        if math.isnan(share):
            self.fail(f"{value!r} is not a number in the range 0<x<=1.", param, ctx)
        return share


PRECISION = _Share(0, 1, min_open=True)
SEED_OPTION = click.option("--seed", type=SEED, default=None, help="Random seed (default: the config's).")
JOBS_OPTION = click.option(
    "--jobs", type=click.IntRange(1, MAX_JOBS), default=None, help="Parallel processes (default: all cores)."
)
PRECISION_OPTION = click.option(
    "--precision",
    type=PRECISION,
    default=None,
    help="Add replications until the 95% CI half-width of the headline measures is at most "
    "this share of their mean (e.g. 0.05), up to --max-reps.",
)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sendsim")
def main() -> None:
    """sendsim: forecast a SEND 0-25 service's assessments, reviews and staff, month by month."""


@main.command()
@click.argument("config_file", metavar="CONFIG", type=click.Path(dir_okay=False))
def validate(config_file: str) -> None:
    """Check a configuration, sweep or optimisation file and say what is wrong with it."""
    if _is_optimisation(config_file):
        from sim.optimise.spec import load_problem

        problem = _or_exit(load_problem, config_file)
        spec = problem.spec
        out.print(
            f"{config_file}: valid — the cheapest plan for {problem.config.name} meeting {spec.target.words()}: "
            f"{len(spec.levers)} levers, {spec.search.trials} trials x {spec.search.replications} replications"
        )
        return
    if _is_sweep(config_file):
        from sim.sweeps.spec import load_sweep, point_count

        sweep = _or_exit(load_sweep, config_file)
        points = point_count(sweep.spec)
        out.print(
            f"{config_file}: valid — a {sweep.spec.design.method} sweep of {sweep.config.name}: "
            f"{len(sweep.parameters)} parameters, {points:,} points x {sweep.spec.replications} replications, "
            f"{len(sweep.outputs)} outputs"
        )
        return
    if _is_national(config_file):
        model = _load_national(config_file)
        plans = sum(a.plans_in_force for a in model.authorities)
        out.print(
            f"{config_file}: valid — {model.national.name}: {len(model.authorities)} authorities, "
            f"{plans:,} plans in force, from {model.template.start_date:%B %Y}"
        )
        return
    config = _load(config_file)
    fte = sum(g.count * g.fte for g in config.staff)
    out.print(
        f"{config_file}: valid — {config.name}, from {config.start_date:%B %Y} for {config.months} months, "
        f"{fte:g} FTE of staff in {len(config.teams)} teams"
    )


@main.command("run")
@click.argument("config_file", metavar="CONFIG", type=click.Path(dir_okay=False))
@SEED_OPTION
@click.option("--months", type=MONTHS, default=None, help="Months to simulate (default: the config's).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the results (default: results/<config name>, with -<scenario>, and -reps or -precision for many runs).",
)
@click.option("--scenario", default=None, help="Run one of the config's scenarios instead of the base.")
@click.option(
    "--reps",
    type=click.IntRange(1, MAX_REPS),
    default=1,
    show_default=True,
    help="Replications; more than one gives means, confidence intervals and percentiles.",
)
@JOBS_OPTION
@PRECISION_OPTION
@MAX_REPS_OPTION
@click.option("--no-cases", is_flag=True, help="Do not write the table of cases.")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a config field by its dotted path, e.g. demand.growth_per_year=0.1.",
)
@click.option("--resume", is_flag=True, help=RESUME_HELP)
@FORCE
def run_command(
    config_file, seed, months, out_dir, scenario, reps, jobs, precision, max_reps, no_cases, sets, resume, force
) -> None:
    """Run CONFIG: one replication (metrics, cases, staff history), or many (summaries with CIs).
    A national CONFIG (one naming a template) runs every authority once and adds them up."""
    if _is_national(config_file):
        if reps > 1 or precision is not None or scenario or sets:
            err.print(
                f"[bold red]error:[/] {config_file}: a national configuration runs every authority once; "
                "--reps, --precision, --scenario and --set apply to one service's configuration",
                highlight=False,
            )
            sys.exit(2)
        _national(config_file, seed, months, jobs, out_dir, resume, force)
        return
    config = _load(config_file, _parse_overrides(sets))
    try:
        config = resolve_scenario(config, scenario, config_file)
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    # each kind of run has its own default folder, so following one with another keeps both
    kind = "" if reps == 1 and precision is None else ("-precision" if precision is not None else "-reps")
    default = Path("results") / (Path(config_file).stem + (f"-{scenario}" if scenario else "") + kind)
    out_dir = Path(out_dir or default)
    _ready_to_run(config, config_file, [None], months, out_dir, force)
    if reps > 1 or precision is not None:
        _experiment(config, config_file, [], reps, seed, months, jobs, out_dir, precision, max_reps, resume)
        return
    from sim.experiments.runner import run, write_result

    with err.status(f"Simulating {config.name} for {months or config.months} months…"):
        result = run(config, seed=seed, months=months, cases=not no_cases)
    write_result(result, out_dir, config_file)
    for view in _table(result.metrics, result.config.name):
        out.print(view)
    out.print(
        f"Seed {result.seed}; {result.events:,} events in {result.wall_seconds:.2f} s. Results in [bold]{out_dir}[/]"
    )


@main.command()
@click.argument("config_file", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option(
    "--scenarios", multiple=True, metavar="NAME...", help="Scenarios to compare with the base (default: all)."
)
@click.option(
    "--reps",
    type=click.IntRange(2, MAX_REPS),
    default=10,
    show_default=True,
    help="Replications of each scenario, on common random numbers.",
)
@SEED_OPTION
@click.option("--months", type=MONTHS, default=None, help="Months to simulate (default: the config's).")
@JOBS_OPTION
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the results (default: results/<config name>-compare).",
)
@PRECISION_OPTION
@MAX_REPS_OPTION
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config field by its dotted path.")
@click.option("--resume", is_flag=True, help=RESUME_HELP)
@FORCE
def compare(
    config_file, scenarios, reps, seed, months, jobs, out_dir, precision, max_reps, sets, resume, force
) -> None:
    """Run the base and scenarios of CONFIG on common random numbers and compare them."""
    config = _load(config_file, _parse_overrides(sets))
    names = list(scenarios) or list(config.scenarios)
    unknown = [n for n in names if n != "base" and n not in config.scenarios]
    if unknown:
        err.print(
            f"[bold red]error:[/] {config_file}: no scenario {unknown[0]!r}; "
            f"expected one of {['base', *config.scenarios]}",
            highlight=False,
        )
        sys.exit(2)
    out_dir = Path(out_dir or Path("results") / f"{Path(config_file).stem}-compare")
    _ready_to_run(config, config_file, ["base", *names], months, out_dir, force)
    _experiment(config, config_file, names, reps, seed, months, jobs, out_dir, precision, max_reps, resume)


def _is_sweep(config_file: str) -> bool:
    """A sweep file names a design; a configuration never does."""
    try:
        raw = read_yaml(config_file)
    except ConfigError:
        return False  # the configuration's own reading says what is wrong
    return isinstance(raw, dict) and "design" in raw and "parameters" in raw


def _is_optimisation(config_file: str) -> bool:
    """An optimisation file names a target and levers; a configuration never does."""
    try:
        raw = read_yaml(config_file)
    except ConfigError:
        return False
    return isinstance(raw, dict) and "target" in raw and "levers" in raw


def _is_national(config_file: str) -> bool:
    from sim.experiments.national import is_national

    return _or_exit(is_national, config_file)


def _load_national(config_file: str):
    from sim.experiments.national import load_national

    return _or_exit(load_national, config_file)


def _counted_columns(unit: str) -> tuple:
    """A progress bar's columns for a job of countable parts: done of all, elapsed, and the ETA."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"{unit} · elapsed"),
        TimeElapsedColumn(),
        TextColumn("· ETA"),
        TimeRemainingColumn(),
    )


def _national(config_file, seed, months, jobs, out_dir, resume, force) -> None:
    from rich.progress import Progress

    from sim.experiments.national import national_job, run_national, write_national

    model = _load_national(config_file)
    out_dir = Path(out_dir or Path("results") / Path(config_file).stem)
    _fresh(out_dir, force)
    staging = _staging(out_dir, national_job(model, seed, months), resume)
    columns = _counted_columns("authorities")
    with (
        _interruptible(staging, len(model.authorities), "authorities"),
        Progress(*columns, console=err, transient=True) as bar,
    ):
        task = bar.add_task(f"Simulating {len(model.authorities)} authorities", total=len(model.authorities))
        result = run_national(model, seed, months, jobs, progress=lambda n: bar.advance(task, n), staging=staging)
    write_national(result, model, out_dir)
    staging.remove()
    for view in _table(result.metrics, result.name):
        out.print(view)
    out.print(
        f"Seed {result.seed}; {len(model.authorities)} authorities, {result.events:,} events in "
        f"{result.wall_seconds:.1f} s on {result.jobs} process(es). Results in [bold]{out_dir}[/]"
    )


def _experiment(config, config_file, scenarios, reps, seed, months, jobs, out_dir, precision, max_reps, resume) -> None:
    from rich.progress import Progress

    from sim.experiments.experiment import provenance_for, replication_job, run_experiment, summarise, write_experiment
    from sim.experiments.precision import relative_half_widths, run_to_precision
    from sim.experiments.replications import BASE, default_jobs

    jobs = jobs or default_jobs()
    seed = config.seed if seed is None else seed
    names = [BASE, *[s for s in scenarios if s != BASE]]
    staging = _staging(out_dir, replication_job(config, seed, months), resume)
    # to a precision, the bar counts up to --max-reps, so its ETA is the longest the job can take
    columns = _counted_columns("runs" if precision is None else "runs at most")
    total = len(names) * (reps if precision is None else max_reps)
    with _interruptible(staging, total, "replications"), Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(f"Simulating {len(names)} scenario(s)", total=total)
        advance = lambda n: bar.advance(task, n)  # noqa: E731
        if precision is None:
            experiment = run_experiment(
                config, names, reps, seed, months, jobs, progress=advance, config_path=config_file, staging=staging
            )
        else:
            import time

            t0 = time.perf_counter()
            results, reached = run_to_precision(
                config, precision, names, seed, months, jobs, max_reps=max_reps, progress=advance, staging=staging
            )
            done = int(results["rep"].nunique())
            experiment = summarise(
                config,
                results,
                provenance_for(
                    config,
                    names,
                    done,
                    seed,
                    months,
                    jobs,
                    config_file,
                    time.perf_counter() - t0,
                    precision=precision,
                    precision_reached=reached,
                ),
            )
            widths = relative_half_widths(results)
            worst = widths["relative"].max() if not widths.empty else float("nan")
            note = "reached" if reached else f"not reached within {max_reps} replications"
            out.print(
                f"Precision {precision:g}: {note} after {done} replications (widest relative half-width {worst:.3f})."
            )
    write_experiment(experiment, out_dir)
    staging.remove()
    for view in _kpi_view(experiment) + (_difference_view(experiment) if len(names) > 1 else []):
        out.print(view, highlight=False)
    prov = experiment.provenance
    out.print(
        f"{prov['replications']} replications x {len(names)} scenario(s), seed {prov['seed']}, "
        f"{prov['wall_seconds']:.1f} s on {prov['jobs']} process(es). Results in [bold]{out_dir}[/]"
    )


@main.command()
@click.argument("results_dir", metavar="DIR", type=click.Path(file_okay=False))
@click.option(
    "--out",
    "report_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The HTML file to write (default: DIR/report.html).",
)
@click.option("--pdf", is_flag=True, help="Also print the report to an A4 PDF beside the HTML file (report.pdf).")
def report(results_dir, report_path, pdf) -> None:
    """Write a self-contained HTML report of the results in DIR (from run --reps, compare, or a run of
    a national configuration)."""
    from sim.outputs.national_report import is_national, write_national_report
    from sim.outputs.report import write_pdf, write_report

    folder = Path(results_dir)
    national = is_national(folder)
    if not national and (not (folder / "results.parquet").exists() or not (folder / "provenance.json").exists()):
        err.print(
            f"[bold red]error:[/] {folder}: expected the folder of `sendsim compare`, `sendsim run --reps` "
            "(results.parquet and provenance.json) or a national run (metrics.parquet, authorities.parquet "
            "and provenance.json)",
            highlight=False,
        )
        sys.exit(2)
    _or_exit(check_writable, Path(report_path) if report_path else folder / "report.html", False)
    _or_exit(check_writable, folder / "plots", True)
    with err.status("Drawing charts and writing the report…"):
        # results whose configuration no longer validates are refused by name
        path = _or_exit(write_national_report if national else write_report, folder, report_path)
    out.print(f"Report written to [bold]{path}[/]")
    if pdf:
        _or_exit(check_writable, path.with_suffix(".pdf"), False)
        with err.status("Printing the report to PDF…"):
            pdf_path = _or_exit(write_pdf, path)
        out.print(f"PDF written to [bold]{pdf_path}[/]")


@main.command()
@click.option(
    "--la",
    "la_name",
    required=True,
    metavar="NAME",
    help="The local authority: its name as DfE writes it (any case), or its LA code (E10000008 or 878).",
)
@click.option(
    "--sen2",
    "sen2_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder of DfE SEN2 files as published (requests.csv, assessments.csv, timeliness_20_week.csv, "
    "caseload.csv; newplans.csv and ceased_plans.csv if present).",
)
@click.option(
    "--year",
    type=click.IntRange(1990, 2100),
    default=None,
    help="SEN2 calendar year to draft from (default: the latest); the configuration starts on 1 January after it.",
)
@click.option(
    "--out", "out_path", required=True, type=click.Path(dir_okay=False), help="The configuration file to write."
)
@click.option("--force", is_flag=True, help="Overwrite --out if it already exists.")
@click.option(
    "--allow-defaults",
    is_flag=True,
    help="Draft even if a file has no row for the authority and year, from national defaults "
    "(recorded in the notes and the drafted file); without it that is an error.",
)
def init(la_name, sen2_dir, year, out_path, force, allow_defaults) -> None:
    """Draft a configuration for an authority from DfE SEN2 data, starting on 1 January after --year,
    with the history of every published year up to --year (and nothing later) for `sendsim calibrate`.

    Demand, refusals, no-plan and exception shares, plans in force, ceasing and the open assessments
    come from the data;
    effort and workforce are national defaults; staffing, which SEN2 does not hold, is sized from
    caseload benchmarks and marked NEEDS LOCAL INPUT in the file.
    """
    from rich.markup import escape

    from sim.data.init_config import draft_config, write_config
    from sim.data.sen2 import read_sen2

    if Path(out_path).exists() and not force:
        err.print(
            f"[bold red]error:[/] {escape(out_path)}: already exists (use --force to overwrite it)", highlight=False
        )
        sys.exit(2)
    _or_exit(check_writable, Path(out_path), False)
    try:
        sen2 = read_sen2(sen2_dir)
        draft = draft_config(sen2, la_name, year, allow_defaults=allow_defaults)
    except ConfigError as exc:  # sim.data.sen2.DataError: a missing file, column or authority
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)
    try:
        write_config(draft, out_path, force=force)
    except OSError as exc:
        err.print(
            f"[bold red]error:[/] {escape(out_path)}: cannot write the file ({exc.strerror or exc})", highlight=False
        )
        sys.exit(2)
    view = Table(
        title=f"{draft.la_name}: set from SEN2 {draft.year}, starting {draft.year + 1}-01-01", title_justify="left"
    )
    view.add_column("Field")
    view.add_column("Value and source")
    for name, value in draft.from_data:
        view.add_row(name, escape(value))
    out.print(view)
    if draft.target_on_time_rate is not None:
        out.print(
            f"Calibration target (in the name and header comment): {draft.target_on_time_rate:.1%} of plans "
            f"issued within 20 weeks in {draft.year}, excluding exceptions.",
            highlight=False,
        )
    out.print("[bold]NEEDS LOCAL INPUT[/] (SEN2 does not hold it; drafted from benchmarks, marked in the file):")
    for item in draft.needs_local_input:
        out.print(f"  - {escape(item)}", highlight=False)
    if draft.notes:
        out.print("Notes on the data:")
        for note in draft.notes:
            out.print(f"  - {escape(note)}", highlight=False)
    out.print(
        f"Written to [bold]{escape(out_path)}[/], with the published history up to {draft.year}. Next: "
        f"sendsim calibrate {escape(out_path)}; then sendsim compare on the calibrated file, with the starter "
        f"plans it holds ({', '.join(draft.raw['scenarios'])}) or your own.",
        highlight=False,
    )


@main.command()
@click.argument("config_file", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option(
    "--history",
    "history_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV of observed figures by year or month (default: the configuration's own `history:`, "
    "which `sendsim init` writes). Columns: period (2021 or 2023-01) and any of "
    "requests_received, refusals, assessments_ended_no_plan, plans_issued, on_time_rate, "
    "plans_in_force, assessments_open_over_30_weeks, assessments_open_over_52_weeks.",
)
@click.option(
    "--params",
    multiple=True,
    metavar="PATH...",
    help="Shared parameters of the service to fit across the years besides each year's capacity "
    "and fast-track share, e.g. workforce.capacity_response.target_share (default: none).",
)
@click.option(
    "--reps",
    type=click.IntRange(1, MAX_REPS),
    default=3,
    show_default=True,
    help="Replications per evaluation, on common random numbers.",
)
@click.option(
    "--max-evaluations",
    type=click.IntRange(5, MAX_REPS),
    default=20,
    show_default=True,
    help="Most steps of the fit of the shared parameters.",
)
@JOBS_OPTION
@click.option("--seed", type=SEED, default=None, help="Random seed of the fit's replications (default: the config's).")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to write the calibrated config (default: CONFIG with -calibrated).",
)
def calibrate(config_file, history_file, params, reps, max_evaluations, jobs, seed, out_file) -> None:
    """Fit CONFIG's capacity and fast-track share, year by year, to its published history (and any
    shared --params); write the calibrated config, whose replications draw what the fit does not know."""
    import pandas as pd
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from sim.data.calibrate import CalibrationError, calibrated_yaml, config_history_rows, read_history
    from sim.data.calibrate import calibrate as fit
    from sim.experiments.replications import default_jobs

    config = _load(config_file)
    out_path = Path(out_file or Path(config_file).with_name(Path(config_file).stem + "-calibrated.yaml"))
    if out_path.parent and not out_path.parent.exists():
        err.print(f"[bold red]error:[/] {escape(str(out_path))}: the folder does not exist", highlight=False)
        sys.exit(2)
    _or_exit(check_writable, out_path, False)
    if history_file:  # a FIFO, a device, a huge or a non-UTF-8 file, refused before pandas reads it
        _or_exit(read_text, history_file)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} of ~{task.total:,.0f} runs"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    try:
        history = None
        if history_file:  # the configuration's own years, and the file's rows beside (or instead of) them
            frames = [f for f in (config_history_rows(config), read_history(history_file)) if not f.empty]
            history = pd.concat(frames, ignore_index=True)
            history = history.drop_duplicates(["period_start", "period_end", "measure"], keep="last")
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(f"Calibrating {config.name}", total=1)
            result = fit(
                config,
                history,
                list(params),
                reps,
                seed,
                max_evaluations,
                jobs or default_jobs(),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except CalibrationError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)
    source = history_file or f"the history in {config_file}"
    try:
        original = Path(config_file).read_text(encoding="utf-8-sig")
        write_atomic(out_path, calibrated_yaml(result, source, original))
    except OSError as exc:
        err.print(
            f"[bold red]error:[/] {escape(str(out_path))}: cannot write the file ({exc.strerror or exc})",
            highlight=False,
        )
        sys.exit(2)
    table = Table(title="Fitted parameters (95% interval, from the fitting scale)", title_justify="left")
    for column in ("Parameter", "Start", "Estimate", "95% interval"):
        table.add_column(column, justify="left" if column == "Parameter" else "right")
    row: Any  # a row of the fit's tables: pandas-stubs type its fields only as "some scalar"
    for row in result.table().itertuples():
        interval = "–" if row.ci_low != row.ci_low else f"{row.ci_low:.3g} – {row.ci_high:.3g}"
        table.add_row(row.parameter, f"{row.start:.3g}", f"{row.estimate:.3g}", interval)
    out.print(table)
    fit_table = Table(title="Observed against simulated (mean of replications)", title_justify="left")
    for column in ("Period", "Measure", "Observed", "Simulated", "z"):
        fit_table.add_column(column, justify="left" if column in ("Period", "Measure") else "right")
    for row in result.fit.itertuples():
        shown = (lambda v: f"{v:.1%}") if row.measure == "on_time_rate" else (lambda v: f"{v:,.0f}")
        fit_table.add_row(row.period, row.measure, shown(row.observed), shown(row.simulated), f"{row.z:+.2f}")
    out.print(fit_table)
    style = "bold red" if result.rejected else "bold"
    out.print(f"[{style}]{escape(result.verdict())}[/]", highlight=False)
    out.print(
        f"{result.runs:,} runs in {result.seconds:.0f} s. Calibrated config written to [bold]{escape(str(out_path))}[/]",
        highlight=False,
    )


# the yearly figures (sim/measures.py) an experiment's table shows, in this order
KPI_ROWS = (
    "on_time_rate",
    "assessments_open_over_20_weeks",
    "assessments_open_over_30_weeks",
    "assessments_open_over_52_weeks",
    "reviews_overdue",
    "caseworker_fte_in_post",
    "caseworker_agency_share",
    "cost_total",
)


def _kpi_view(experiment) -> list[Any]:
    """Each plan's yearly figures: the mean, and beneath it the range of 90% of runs."""
    from sim.terminal import Row, with_range, year_tables

    kpis = experiment.kpis
    target = experiment.provenance.get("target_on_time_rate")
    years = sorted(kpis["year"].unique())
    views: list[Any] = [
        f"[bold]{escape(experiment.config.name)}[/]: the mean by calendar year and, beneath it, the range of "
        f"90% of the {experiment.provenance['replications']} runs (the mean's confidence intervals are in kpis.csv)"
    ]
    for scenario in experiment.scenarios:
        rows = kpis[kpis["scenario"] == scenario]
        lines = []
        for measure in KPI_ROWS:
            cells = []
            for year in years:
                hit = rows[(rows["year"] == year) & (rows["measure"] == measure)]
                # the range of outcomes, not the confidence interval of the mean
                r = hit.iloc[0] if not hit.empty else None
                cells.append("–" if r is None else with_range(measure, r["mean"], r["p5"], r["p95"]))
            lines.append(Row(label(measure), cells))
        on_time = [rows[(rows["year"] == year) & (rows["measure"] == ON_TIME)] for year in years]
        reached = ["–" if hit.empty else f"{hit['p_reaches_target'].iloc[0]:.0%}" for hit in on_time]
        lines.append(Row(f"Runs at ≥ {target:.1%} on time", reached))
        views += year_tables(scenario, [str(y) for y in years], lines, out.width)
    return views


def _difference_view(experiment) -> list[Any]:
    """Each plan minus the base, paired run by run: the mean difference and beneath it its 95% CI."""
    from sim.terminal import Row, with_range, year_tables

    diffs = experiment.differences
    years = sorted(diffs["year"].unique())
    views: list[Any] = [
        "[bold]Difference from the base[/], paired on common random numbers: the mean difference and, "
        "beneath it, its 95% confidence interval"
    ]
    for scenario in [s for s in experiment.scenarios if s != "base"]:
        rows = diffs[diffs["scenario"] == scenario]
        lines = []
        for measure in KPI_ROWS:
            cells = []
            for year in years:
                hit = rows[(rows["year"] == year) & (rows["measure"] == measure)]
                r = hit.iloc[0] if not hit.empty else None
                cells.append(
                    "–" if r is None else with_range(measure, r["difference"], r["ci_low"], r["ci_high"], signed=True)
                )
            lines.append(Row(label(measure), cells))
        views += year_tables(f"{scenario} − base", [str(y) for y in years], lines, out.width)
    return views


@main.command()
@click.argument("sweep_file", metavar="SWEEP", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the sweep's table (default: results/<sweep file's name>).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="A running Dask scheduler, tcp://HOST:PORT (default: a local cluster started and stopped here).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, MAX_JOBS),
    default=None,
    help="Worker processes of the local cluster (default: one per core); ignored with --scheduler.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue a sweep that was interrupted or killed: the tasks it finished (kept in OUT.partial) "
    "are used again and only the rest are run; the table is that of one uninterrupted sweep.",
)
@FORCE
def sweep(sweep_file, out_dir, scheduler, workers, resume, force) -> None:
    """Run every point of a sweep file (its design, levers and outputs) on a Dask cluster."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from sim.sweeps.spec import load_sweep, point_count
    from sim.sweeps.sweep import job, run_sweep

    spec = _or_exit(load_sweep, sweep_file)
    out_dir = Path(out_dir) if out_dir else Path("results") / Path(sweep_file).stem
    _fresh(out_dir, force)
    staging = _staging(out_dir, job(spec), resume)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs · {task.fields[rate]} · ETA"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
    )
    total = spec.spec.replications * point_count(spec.spec)
    tasks = -(-total // spec.spec.runs_per_task)  # what OUT.partial counts
    with _interruptible(staging, tasks, "tasks"), Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("Sweeping", total=total, rate="")
        import time

        t0 = time.perf_counter()
        first: list[int] = []

        def progress(done: int, total: int, workers: int) -> None:
            if not first:  # runs kept from before are not this session's rate
                first.append(done)
            elapsed = time.perf_counter() - t0
            rate = f"{(done - first[0]) / elapsed:.2f} runs/s" if done > first[0] and elapsed > 0 else ""
            bar.update(task, completed=done, rate=rate, description=f"Sweeping on {workers} worker(s)")

        try:
            announce = lambda line: err.print(f"Dask cluster: {line}", highlight=False)  # noqa: E731
            table = run_sweep(spec, out_dir, scheduler, workers, resume, progress, staging, announce)
        except ConfigError as exc:  # a scheduler that cannot be reached
            _fail(str(exc))
    out.print(
        f"{table['point'].nunique():,} points x {spec.spec.replications} replication(s), "
        f"{len(spec.outputs)} output(s), in {time.perf_counter() - t0:.1f} s. Results in [bold]{out_dir}[/]; "
        f"`sendsim sensitivity {out_dir}` analyses them."
    )


@main.command()
@click.argument("results_dir", metavar="DIR", type=click.Path(file_okay=False))
def sensitivity(results_dir) -> None:
    """Sobol indices or Morris effects of each output of the finished sweep in DIR, with charts and a report."""
    from sim.outputs.sensitivity_report import write_sensitivity

    folder = Path(results_dir)
    _or_exit(check_writable, folder / "plots", True)
    with err.status("Analysing the sweep and drawing charts…"):
        try:
            path = _or_exit(write_sensitivity, folder)
        except ValueError as exc:  # a design that gives no indices
            _fail(f"{folder}: {exc}")
    out.print(f"Sensitivity written to [bold]{folder / 'sensitivity.csv'}[/] and [bold]{path}[/]")


@main.command("assumptions")
@click.argument("config_file", metavar="CONFIG", type=click.Path(dir_okay=False))
def assumptions_command(config_file) -> None:
    """List the numbers CONFIG marks `# assumption`, by lever path: the candidates for a sweep."""
    from sim.sweeps.assumptions import assumptions

    _load(config_file)  # a file that does not validate is refused, as by every command
    found = _or_exit(assumptions, config_file)
    view = Table(title=f"{config_file}: {len(found)} numbers marked as assumptions", title_justify="left")
    view.add_column("Lever path", no_wrap=True)  # a path is copied whole into a sweep file
    view.add_column("Value", justify="right")
    view.add_column("Comment")
    for item in found:
        view.add_row(item.path, f"{item.value:g}", item.comment)
    out.print(view)


@main.command("levers")
@click.argument("config_file", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.argument("prefix", required=False, default="")
@click.option("--scenario", help="List the values as this scenario of CONFIG sets them (default: the base).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (with each field's comment) instead of a table.")
def levers_command(config_file, prefix, scenario, as_csv) -> None:
    """List every number lever of CONFIG (or those whose path starts with PREFIX, e.g. `workforce`
    or `staff.review`): its path for `--set`, value, unit and the range the schema accepts, and
    whether a dated `set` may move it during a run."""
    import csv

    from sim.config import resolve_scenario
    from sim.levers import levers
    from sim.sweeps.assumptions import comments

    config = _load(config_file)
    if scenario:
        config = _or_exit(resolve_scenario, config, scenario)
    found = [lever for lever in levers(config, _or_exit(comments, config_file)) if lever.path.startswith(prefix)]
    if not found:
        _fail(f"{config_file}: no lever's path starts with {prefix!r}; expected a section such as demand or staff")
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["path", "value", "unit", "accepts", "dated_set", "comment"])
        for lever in found:
            writer.writerow([lever.path, f"{lever.value:g}", lever.unit, lever.range, lever.settable, lever.help])
        return
    view = Table(title=f"{config_file}: {len(found)} levers", title_justify="left")
    view.add_column("Lever (for --set)", overflow="fold")
    view.add_column("Value", justify="right")
    view.add_column("Unit")
    view.add_column("Accepts")
    view.add_column("Dated set")
    for lever in found:
        view.add_row(lever.path, f"{lever.value:,g}", lever.unit, lever.range, "yes" if lever.settable else "no")
    out.print(view)


@main.command("dashboard")
@click.argument("config_file", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; any other than this machine's loopback is reachable by others (a warning says so).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8050, show_default=True, help="Port to listen on.")
@click.option("--reps", type=click.IntRange(1, 1000), default=20, show_default=True, help="Runs of each plan.")
@click.option(
    "--months", type=MONTHS, default=36, show_default=True, help="Months to forecast (at most the config's horizon)."
)
@SEED_OPTION
@JOBS_OPTION
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="results/dashboard",
    show_default=True,
    help="Folder for saved scenarios (a copy of CONFIG), downloads and the report.",
)
def dashboard_command(config_file, host, port, reps, months, seed, jobs, out_dir) -> None:
    """Open the planning-session dashboard on CONFIG in the browser: move a lever, see the forecast."""
    from sim.dashboard import serve

    _load(config_file)  # a file that does not validate is refused before a process starts
    _or_exit(check_writable, out_dir, True)
    serve(config_file, host=host, port=port, reps=reps, months=months, seed=seed, jobs=jobs, out=out_dir)


SCHEDULER_OPTION = click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="A running Dask scheduler, tcp://HOST:PORT (default: a local cluster started and stopped here).",
)
WORKERS_OPTION = click.option(
    "--workers",
    type=click.IntRange(0, MAX_JOBS),
    default=None,
    help="Worker processes of the local cluster (default: one per core; 0: in this process); ignored with --scheduler.",
)
TARGET_OPTION = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="MEASURE.YEAR>=VALUE",
    help="A condition every run must meet, e.g. on_time_rate.2025>=0.6 or reviews_overdue.2025<=500 (repeat for more).",
)
PROBABILITY_OPTION = click.option(
    "--probability",
    type=float,
    default=None,
    help="The share of runs that must meet every condition (0 < p <= 1; goal-seek's default 0.8).",
)


def _study_progress(bar, task, started):
    """The progress callback of a study: its phase and the best feasible plan so far in the description."""
    words = {"search": "Trials", "check": "Re-running the best on fresh seeds", "seek": "Values run"}

    def progress(phase: str, done: int, total: int, note: str) -> None:
        if started and started[0] != phase:
            bar.reset(task)
        started[:] = [phase]
        text = words[phase] + (f" · {note}" if note else "")
        bar.update(task, completed=done, total=total, description=text)

    return progress


@main.command("optimise")
@click.argument("plan_file", metavar="OPTIMISATION_FILE", type=click.Path(dir_okay=False))
@TARGET_OPTION
@PROBABILITY_OPTION
@click.option(
    "--trials", type=click.IntRange(1, 10_000), default=None, help="Trials of the search (default: the file's)."
)
@click.option("--reps", type=click.IntRange(1, 1_000), default=None, help="Runs of each trial (default: the file's).")
@click.option(
    "--check-reps", type=click.IntRange(2, 1_000), default=None, help="Runs of each candidate re-run on fresh seeds."
)
@click.option("--candidates", type=click.IntRange(1, 100), default=None, help="How many of the best trials are re-run.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the study (default: results/<file's name>-optimise).")  # fmt: skip
@SCHEDULER_OPTION
@WORKERS_OPTION
@click.option(
    "--resume", is_flag=True, help="Continue a study that was interrupted or killed: the same study, its trials kept."
)
@FORCE
def optimise_command(plan_file, targets, probability, trials, reps, check_reps, candidates, out_dir, scheduler, workers,
                     resume, force) -> None:  # fmt: skip
    """The cheapest hiring plan that meets a target, over the levers of OPTIMISATION_FILE (TPE on Dask)."""
    from rich.progress import Progress

    from sim.optimise.spec import load_problem
    from sim.optimise.study import describe_plan, optimise
    from sim.optimise.targets import parse_condition

    problem = _or_exit(load_problem, plan_file)
    conditions = [_or_exit(parse_condition, t).model_dump(exclude_none=True) for t in targets] or None
    problem = _or_exit(
        lambda: problem.with_(
            **{
                "target.conditions": conditions,
                "target.probability": probability,
                "search.trials": trials,
                "search.replications": reps,
                "selection.replications": check_reps,
                "selection.candidates": candidates,
            }
        )  # fmt: skip
    )
    out_dir = Path(out_dir) if out_dir else Path("results") / f"{Path(plan_file).stem}-optimise"
    _fresh(out_dir, force)
    from sim.optimise.spec import job

    staging = _staging(out_dir, job(problem), resume)
    spec = problem.spec
    with (
        _interruptible(staging, spec.search.trials * spec.search.replications, "runs"),
        Progress(*_counted_columns(""), console=err, transient=True) as bar,
    ):
        task = bar.add_task("Trials", total=spec.search.trials)
        try:
            announce = lambda line: err.print(f"Dask cluster: {line}", highlight=False)  # noqa: E731
            study = optimise(problem, out_dir, scheduler, workers, resume, _study_progress(bar, task, ["search"]),
                             announce, staging=staging)  # fmt: skip
        except ConfigError as exc:  # a scheduler that cannot be reached
            _fail(str(exc))
    c = study.choice.chosen
    out.print(f"Target: {spec.target.words()}.")
    if c is not None:
        out.print(
            f"Recommended: {describe_plan(problem, c.plan)}: met the target in {c.met} of {c.runs} runs on fresh seeds "
            f"({c.probability:.0%}, 95% interval {c.low:.0%} to {c.high:.0%}); mean cost £{c.cost:,.0f} over the horizon."
        )
        out.print(f"Written as scenario [bold]optimised[/] in [bold]{study.config_copy}[/] (sendsim compare runs it).")
    else:
        k = study.choice.closest
        out.print(
            f"[bold]Not reached within the levers' bounds.[/] Closest: {describe_plan(problem, k.plan)}, "
            f"{k.met} of {k.runs} runs ({k.probability:.0%}, 95% interval {k.low:.0%} to {k.high:.0%})."
        )
    from sim.optimise.study import too_few_runs

    note = too_few_runs(spec.target.probability, spec.selection.replications, spec.selection.confidence)
    if note:
        out.print(f"[bold]Note:[/] {note} (--check-reps)")
    out.print(f"{len(study.trials)} trials, {study.runs} runs this session. Results in [bold]{out_dir}[/]")


@main.command("goal-seek")
@click.argument("config_file", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option("--lever", required=True, metavar="NAME=LOW..HIGH[:STEP][@DATE]",
              help="The lever, e.g. posts.assessment=0..20@2023-04-01 or staff.assessment.count=8..30.")  # fmt: skip
@TARGET_OPTION
@PROBABILITY_OPTION
@click.option("--reps", type=click.IntRange(2, 1_000), default=20, show_default=True, help="Runs of each value.")
@click.option("--months", type=MONTHS, default=None, help="Months to simulate (default: the config's).")
@SEED_OPTION
@click.option("--scenario", default="base", show_default=True, help="The scenario the lever is added to.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the answer (default: results/<config>-goal-seek).")  # fmt: skip
@SCHEDULER_OPTION
@WORKERS_OPTION
@click.option("--resume", is_flag=True, help="Continue an interrupted goal-seek: the values it ran are kept.")
@FORCE
def goal_seek_command(config_file, lever, targets, probability, reps, months, seed, scenario, out_dir, scheduler,
                      workers, resume, force) -> None:  # fmt: skip
    """The smallest value of one lever that meets the target, with its interval (bisection on common random numbers)."""
    from rich.progress import Progress

    from sim.optimise.spec import job
    from sim.optimise.study import goal_problem, seek, seek_sentence

    need = 0.8 if probability is None else probability
    problem = _or_exit(lambda: goal_problem(config_file, lever, list(targets), need, reps, months, seed, scenario))
    out_dir = Path(out_dir) if out_dir else Path("results") / f"{Path(config_file).stem}-goal-seek"
    _fresh(out_dir, force)
    staging = _staging(out_dir, job(problem), resume)
    with (
        _interruptible(staging, reps, "runs"),
        Progress(*_counted_columns(""), console=err, transient=True) as bar,
    ):
        task = bar.add_task("Values run", total=None)
        try:
            announce = lambda line: err.print(f"Dask cluster: {line}", highlight=False)  # noqa: E731
            result = seek(
                problem, out_dir, scheduler, workers, resume, _study_progress(bar, task, []), announce, staging=staging
            )
        except ConfigError as exc:
            _fail(str(exc))
    out.print(f"Target: {problem.spec.target.words()}.")
    out.print(seek_sentence(problem, result.answer))
    if result.scenario is not None:
        out.print(f"Written as a scenario in [bold]{result.config_copy}[/] (sendsim compare runs it).")
    out.print(f"Results in [bold]{out_dir}[/]")


def _table(metrics, name: str) -> list[Table]:
    """Measures as rows and years as columns, split over tables where the years do not fit."""
    from sim.outputs.summary import yearly_table
    from sim.terminal import Row, figure, year_tables

    table = yearly_table(metrics)
    years = [str(year) if row["to"].startswith("Dec") else f"{year} (to {row['to']})" for year, row in table.iterrows()]
    rows = [Row(label(m), [figure(m, v) for v in table[m]]) for m in table.columns.drop("to")]
    return year_tables(f"{name}: by calendar year", years, rows, out.width)


if __name__ == "__main__":  # pragma: no cover
    main()
