"""A national (or regional) view: many authorities, each its own service, simulated apart.

Authorities share no staff and no work, so a national model is the sum of independent services.
Each authority is the template's service at its own size (its requests and plans in force from
the authorities table), with its own seed drawn from the national seed and its name. Simulating
them apart keeps the cost per event at one service's — one process holding all of England's
640,000 plans spends most of its time waiting on memory (BENCHMARKS.md) — lets them run in
parallel, and gives every authority's own measures beside the national ones.

National measures are sums of the authorities' raw monthly counts and stocks; rates are then
derived from the summed counts, as DfE derives the national on-time rate.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from sim.config import Config, ConfigError, National, SetParameter, parse_config, parse_national, read_yaml
from sim.engine.clock import Calendar
from sim.experiments.parallel import Staging, default_jobs, fingerprint, run_all
from sim.files import read_text
from sim.measures import BY_ID, family
from sim.model.metrics import derive, ratio

AUTHORITY_COLUMNS = ("authority", "requests_per_year", "plans_in_force")
# levers that are sizes: a template may not `set` them by a dated action, since the scaled
# authority would be set to the template's size
_SIZE_LEVERS = ("demand.requests_per_month", "workforce.establishment_fte", "workforce.roles")


@dataclass(frozen=True)
class Authority:
    name: str
    requests_per_year: float
    plans_in_force: int


@dataclass
class NationalModel:
    """A national configuration with what it names loaded: the template and the authorities, or
    each authority's own service (then `template` is the first of them, for the calendar)."""

    source: str
    national: National
    template: Config
    authorities: list[Authority]
    own_services: list[tuple[str, Config]] | None = None

    def services(self) -> list[tuple[str, Config]]:
        """Each authority's configuration, in the order of the table (or of the folder)."""
        if self.own_services is not None:
            return list(self.own_services)
        return [(a.name, sized_service(self.template, a, self.source)) for a in self.authorities]


@dataclass
class NationalResult:
    name: str
    seed: int
    months: int
    start_date: dt.date
    metrics: pd.DataFrame  # national, tidy: month, metric, value
    by_authority: pd.DataFrame  # tidy: authority, month, metric, value
    wall_seconds: float
    cpu_seconds: float  # simulation time summed over authorities (the serial cost)
    events: int
    jobs: int


# --- loading ------------------------------------------------------------------------------------


def is_national(path: str | Path) -> bool:
    """Is this file a national configuration (it names a template or a folder of services)
    rather than one service's?"""
    raw = read_yaml(Path(path))
    return isinstance(raw, dict) and ("template" in raw or "services" in raw)


def load_national(path: str | Path) -> NationalModel:
    path = Path(path)
    national = parse_national(read_yaml(path), str(path))
    from sim.config import load_config

    if national.services is not None:
        return _load_services(path, national)
    # National._one_form: without services, a template and its authorities
    assert national.template is not None and national.authorities is not None
    try:
        template = load_config(path.parent / national.template)
    except ConfigError as exc:
        raise ConfigError(f"{path}: template: {exc}") from None
    where = f"{path}: template {national.template}"
    for action in template.actions:
        if isinstance(action, SetParameter) and action.parameter.startswith(_SIZE_LEVERS):
            raise ConfigError(
                f"{where}: actions: a `set` of {action.parameter} would give every authority the "
                "template's size; expected sizes only in the authorities table"
            )
    if not template.initial_state.plans_in_force or not template.demand.requests_per_month:
        raise ConfigError(f"{where}: expected plans_in_force and requests_per_month above 0, to scale from")
    try:
        authorities = read_authorities(path.parent / national.authorities)
    except ConfigError as exc:
        raise ConfigError(f"{path}: authorities: {exc}") from None
    if national.scale_to is not None:
        authorities = rescale(authorities, national.scale_to.plans_in_force, national.scale_to.requests_per_year)
    return NationalModel(str(path), national, template, authorities)


def _load_services(path: Path, national: National) -> NationalModel:
    """Every service configuration in the folder, sorted by file name; all start on one date."""
    from sim.config import load_config

    assert national.services is not None  # the caller's test
    folder = path.parent / national.services
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        raise ConfigError(
            f"{path}: services: expected a folder of service configurations (*.yaml), found none in {folder}"
        )
    services = []
    for file in files:
        try:
            config = load_config(file)
        except ConfigError as exc:
            raise ConfigError(f"{path}: services: {exc}") from None
        services.append((file.stem, config))
    first = services[0][1]
    for name, config in services:
        if (config.start_date, config.warm_up_months) != (first.start_date, first.warm_up_months):
            raise ConfigError(
                f"{path}: services: {name}.yaml starts on {config.start_date} (warm-up "
                f"{config.warm_up_months}); expected every service to start on {first.start_date} "
                f"(warm-up {first.warm_up_months}), as {services[0][0]}.yaml does"
            )
    authorities = [
        Authority(name, c.demand.requests_per_month * 12, c.initial_state.plans_in_force) for name, c in services
    ]
    return NationalModel(str(path), national, first, authorities, services)


def read_authorities(path: Path) -> list[Authority]:
    """The authorities table; a bad row is one message naming the file, the row and the column."""
    try:
        # read_text refuses a FIFO, a huge file or one it cannot read (ConfigError naming the file)
        table = pd.read_csv(io.StringIO(read_text(path)), dtype={"authority": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable CSV table ({exc})") from None
    missing = [c for c in AUTHORITY_COLUMNS if c not in table]
    if missing:
        raise ConfigError(f"{path}: expected columns {', '.join(AUTHORITY_COLUMNS)}; missing {', '.join(missing)}")
    if table.empty:
        raise ConfigError(f"{path}: expected at least one authority")
    authorities = []
    for row, record in enumerate(table.to_dict("records"), start=2):  # row 1 is the header
        name = record["authority"]
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{path}: row {row}: authority: expected a name")
        for column in AUTHORITY_COLUMNS[1:]:
            value = pd.to_numeric(record[column], errors="coerce")
            if not np.isfinite(value) or value < 0:
                raise ConfigError(
                    f"{path}: row {row} ({name}): {column}: expected a number 0 or above, got {record[column]!r}"
                )
        authorities.append(
            Authority(name.strip(), float(record["requests_per_year"]), int(round(record["plans_in_force"])))
        )
    names = [a.name for a in authorities]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"{path}: authority {repeated[0]!r} appears more than once")
    return authorities


def rescale(authorities: list[Authority], plans_in_force: int, requests_per_year: float) -> list[Authority]:
    """Every authority in proportion to its share of the table's totals."""
    plans = sum(a.plans_in_force for a in authorities)
    requests = sum(a.requests_per_year for a in authorities)
    return [
        Authority(
            a.name,
            a.requests_per_year * requests_per_year / requests if requests else 0.0,
            round(a.plans_in_force * plans_in_force / plans) if plans else 0,
        )
        for a in authorities
    ]


# --- one authority's service ----------------------------------------------------------------------


def sized_service(template: Config, authority: Authority, source: str = "<national>") -> Config:
    """The template's service at an authority's size.

    Teams that review plans scale with plans in force, the others (assessment, EP advice) with
    requests; staff are whole people, so small authorities round, and every team keeps at least
    one person. Establishment, cohorts and open assessments scale with their team's work; agency
    caps with the role's staff.
    """
    k_plans = authority.plans_in_force / template.initial_state.plans_in_force
    k_requests = authority.requests_per_year / (template.demand.requests_per_month * 12)
    factor = {name: k_plans if "plans" in team.handles else k_requests for name, team in template.teams.items()}
    raw: dict[str, Any] = template.model_dump(mode="json")
    raw.update(name=f"{authority.name} ({template.name}, scaled)", scenarios={}, scenario=None)
    raw["demand"]["requests_per_month"] = authority.requests_per_year / 12
    raw["demand"]["history"] = {}  # the template's observed months are its own
    initial = raw["initial_state"]
    initial["plans_in_force"] = authority.plans_in_force
    for band in initial["open_assessments"]:
        band["count"] = round(band["count"] * k_requests)
    initial["open_assessments"] = [b for b in initial["open_assessments"] if b["count"] > 0]

    for group in raw["staff"]:
        group["count"] = round(group["count"] * factor[group["team"]])
    for name in template.teams:
        groups = [g for g in raw["staff"] if g["team"] == name]
        if groups and not any(g["count"] for g in groups):
            max(groups, key=lambda g: (g["contract"] == "permanent", g["fte"]))["count"] = 1
    raw["staff"] = [g for g in raw["staff"] if g["count"] > 0]

    workforce = raw["workforce"]
    for name, fte in workforce["establishment_fte"].items():
        workforce["establishment_fte"][name] = fte * factor[name]
    role_factor = {}
    for role, terms in workforce["roles"].items():
        before = sum(g.count * g.fte for g in template.staff if g.role == role)
        after = sum(g["count"] * g["fte"] for g in raw["staff"] if g["role"] == role)
        role_factor[role] = after / before if before else 1.0
        terms["agency_cap_fte"] = terms["agency_cap_fte"] * role_factor[role]
    actions = []
    for action in raw["actions"]:
        kind = action["action"]
        if kind == "cohort":
            action["count"] = round(action["count"] * factor.get(action["team"], k_requests))
            if action["count"] == 0:
                continue
        elif kind == "establishment":
            for key in ("change_fte", "set_fte"):
                if action.get(key) is not None:
                    action[key] = action[key] * factor.get(action["team"], k_requests)
        elif kind == "agency_cap":
            action["fte"] = action["fte"] * role_factor[action["role"]]
        actions.append(action)
    raw["actions"] = actions
    return parse_config(raw, f"{source}: {authority.name}")


def authority_seed(seed: int, name: str) -> int:
    """An authority's seed: from the national seed and its name alone, so it does not depend on
    the table's order or on which other authorities are run."""
    spawn = zlib.crc32(name.encode("utf-8"))
    return int(np.random.SeedSequence(seed, spawn_key=(spawn,)).generate_state(1, dtype=np.uint32)[0])


# --- running ------------------------------------------------------------------------------------


def _simulate(args: tuple[str, Config, int, int]) -> tuple[str, pd.DataFrame, pd.DataFrame, int, float]:
    """One authority: its raw monthly values (to add up) and its own measures (derived here, in
    the worker, so that the parent is not left deriving 152 tables one after another)."""
    from sim.experiments.runner import event_count, simulate

    name, config, seed, months = args
    t0 = time.process_time()
    model = simulate(config, seed, months)
    events = event_count(model)
    raw = model.metrics.raw_frame()
    measures = derive(raw, model.calendar, model.warm_up_months)  # derive works on its own copy
    measures.insert(0, "authority", name)
    return name, raw, measures, events, time.process_time() - t0


def run_national(
    model: NationalModel | str | Path,
    seed: int | None = None,
    months: int | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    staging: Staging | None = None,
) -> NationalResult:
    """Simulate every authority once and add them up. Results do not depend on `jobs`. With
    `staging`, each authority's run is kept there as it finishes and not run again on a resume."""

    t0 = time.perf_counter()
    if not isinstance(model, NationalModel):
        model = load_national(model)
    seed = model.national.seed if seed is None else seed
    months = months or model.national.months or model.template.months
    services = model.services()
    # largest first, so that no process is left with a big authority at the end
    order = sorted(range(len(services)), key=lambda i: -model.authorities[i].plans_in_force)
    work = [(services[i][0], services[i][1], authority_seed(seed, services[i][0]), months) for i in order]
    jobs = min(jobs or default_jobs(), len(work))
    raw: dict[str, pd.DataFrame] = {}
    measures: dict[str, pd.DataFrame] = {}
    events, cpu = 0, 0.0
    for name, frame, own, n_events, seconds in run_all(_simulate, work, [w[0] for w in work], jobs, staging, progress):
        raw[name], measures[name] = frame, own
        events += n_events
        cpu += seconds
    template = model.template
    calendar = Calendar(template.start_date, template.warm_up_months + months)
    names = [a.name for a in model.authorities]  # the table's order: sums do not depend on `jobs`
    by_authority = pd.concat([measures[n] for n in names], ignore_index=True)
    national = derive(combine([raw[n] for n in names]), calendar, template.warm_up_months)
    return NationalResult(
        model.national.name, seed, months, template.start_date, national, by_authority,
        time.perf_counter() - t0, cpu, events, jobs,
    )  # fmt: skip


def national_job(model: NationalModel, seed: int | None, months: int | None) -> dict[str, Any]:
    """What an authority's run depends on, for resuming (every service, the seed, the horizon)."""
    from sim.config import dump_config
    from sim.outputs.provenance import git_commit, package_version

    services = "".join(f"{name}\n{dump_config(config)}" for name, config in model.services())
    return {
        "job": "national",
        "services_sha256": fingerprint(services),
        "seed": model.national.seed if seed is None else seed,
        "months": months or model.national.months or model.template.months,
        "version": package_version(),
        "git_commit": git_commit(),
    }


def combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Raw monthly values of several authorities as one: counts and stocks add up; the few
    measures that are ratios are rebuilt from what adds up (a percentile cannot be, and is left
    out)."""
    columns = sorted(set().union(*(f.columns for f in frames)))
    aligned = [f.reindex(columns=columns) for f in frames]
    total = sum((f.fillna(0.0) for f in aligned), start=pd.DataFrame(0.0, index=aligned[0].index, columns=columns))
    measured = cast(pd.DataFrame, sum(f.notna().astype(int) for f in aligned))  # there is at least one frame
    total = total.where(measured > 0)  # nobody measured it: missing, not 0
    for column in columns:
        base, rest = family(column)
        how = BY_ID[base]
        if how.over_authorities == "weighted":
            # e.g. items per FTE = items / FTE, each authority's items its mean times its FTE
            weight = f"{how.weight}.{rest}"
            weighted = cast(pd.Series, sum((f[column] * f[weight]).fillna(0.0) for f in aligned))
            total[column] = ratio(weighted, total[weight])
        elif how.over_authorities == "none":  # a percentile cannot be added up
            total[column] = math.nan
        elif base == "utilisation":
            total[column] = ratio(total[f"casework_hours.{rest}"], total[f"casework_capacity_hours.{rest}"])
        elif base == "agency_share":
            agency = total[f"fte_in_post.{rest}.agency"]
            total[column] = ratio(agency, agency + total[f"fte_in_post.{rest}.permanent"])
    return total


# --- writing ------------------------------------------------------------------------------------


def write_national(result: NationalResult, model: NationalModel, out_dir: str | Path) -> Path:
    """National and per-authority measures, and what repeats the run, written atomically: the
    folder's config.yaml names the template and the authorities table (as scaled) beside it."""
    import json

    import yaml

    from sim.config import dump_config
    from sim.experiments.runner import atomic_folder
    from sim.outputs.provenance import provenance

    out_dir = Path(out_dir)
    with atomic_folder(out_dir) as staging:
        result.metrics.to_parquet(staging / "metrics.parquet", index=False)
        result.metrics.to_csv(staging / "metrics.csv", index=False, date_format="%Y-%m-%d")
        result.by_authority.to_parquet(staging / "authorities.parquet", index=False)
        if model.own_services is not None:
            (staging / "services").mkdir()
            for name, config in model.own_services:
                (staging / "services" / f"{name}.yaml").write_text(dump_config(config), encoding="utf-8")
            repeat = model.national.model_copy(
                update={"services": "services", "seed": result.seed, "months": result.months}
            )
        else:
            (staging / "template.yaml").write_text(dump_config(model.template), encoding="utf-8")
            pd.DataFrame(
                [
                    {"authority": a.name, "requests_per_year": a.requests_per_year, "plans_in_force": a.plans_in_force}
                    for a in model.authorities
                ]
            ).to_csv(staging / "authorities.csv", index=False)
            repeat = model.national.model_copy(update={
                "template": "template.yaml", "authorities": "authorities.csv", "scale_to": None,
                "seed": result.seed, "months": result.months,
            })  # fmt: skip
        (staging / "config.yaml").write_text(
            yaml.safe_dump(repeat.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        record = provenance(
            config=model.source,
            config_name=result.name,
            authorities=len(model.authorities),
            seed=result.seed,
            start_date=result.start_date.isoformat(),
            months=result.months,
            wall_seconds=round(result.wall_seconds, 3),
            simulation_cpu_seconds=round(result.cpu_seconds, 3),
            events=result.events,
            jobs=result.jobs,
        )
        (staging / "provenance.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return out_dir
