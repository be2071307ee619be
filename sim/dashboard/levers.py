"""The levers a planning session pulls, in the room's words, and the scenario they make.

A lever is one control on the page: posts added to a team from a month, a cohort of starters, the
agency cap and rate, conversion of agency staff, a team's caseload cap, merging the teams,
recruitment's fill probability and campaign length, the leaving rate, demand growth, effort per
assessment, the prioritisation policy and its fast-track mix. Its bounds are the schema's, its help
the configuration file's own comment on the field it moves. The levers a person has moved become
one `Scenario` (dated actions and overrides), the same kind of scenario a configuration file holds,
so a what-if saved from the page runs the same under `sendsim compare`.
"""

from __future__ import annotations

import datetime as dt
import math
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from sim.config import Config, ConfigError, Policy, Scenario, field_bounds, resolve_scenario
from sim.engine.clock import add_months

Kind = Literal["number", "month", "choice", "switch"]
WHAT_IF = "what_if"
MERGED_TEAM = "casework"
# the hours of an assessment that "effort per assessment" scales (advice from others is waiting, not effort)
ASSESSMENT_EFFORT = ("decision_hours", "draft_plan_hours", "final_plan_hours")
PRIORITIES: tuple[str, ...] = typing.get_args(Policy.model_fields["priority"].annotation)  # the schema's


@dataclass(frozen=True)
class Lever:
    id: str
    label: str
    unit: str
    kind: Kind
    default: Any
    group: str
    path: str = ""  # the configuration field it moves, for its bounds and its help ("" for a dated action)
    step: float | None = None
    low: float | None = None  # as shown (a percentage as a percentage)
    high: float | None = None
    percent: bool = False  # a share shown as a percentage
    options: tuple[str, ...] = ()
    help: str = ""
    when: str = ""  # the id of the month lever that dates this one


@dataclass
class Levers:
    """Every lever of one configuration, in the order of the page."""

    config: Config
    all: list[Lever] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_id = {lever.id: lever for lever in self.all}

    def defaults(self) -> dict[str, Any]:
        return {lever.id: lever.default for lever in self.all}

    def months(self, horizon: int | None = None) -> list[dt.date]:
        """The first of each month of the horizon (default: the configuration's), the dates a
        dated lever may take."""
        start = self.config.start_date.replace(day=1)
        return [add_months(start, i) for i in range(horizon or self.config.months)]


def _month(date: dt.date) -> str:
    return date.replace(day=1).isoformat()


def _centre(dist: Any) -> float:
    """A distribution's typical value, as a person reads a campaign's length."""
    values = dist.model_dump()
    for key in ("mode", "mean", "value"):
        if key in values:
            return float(values[key])
    return (float(values["low"]) + float(values["high"])) / 2


def _scaled(dist: Any, factor: float) -> dict[str, Any]:
    """The distribution with its size scaled and its shape (cv, proportions) kept."""
    return {k: (v if k in ("dist", "cv") else round(v * factor, 6)) for k, v in dist.model_dump().items()}


def _bounds(config: Config, path: str, percent: bool) -> tuple[float | None, float | None]:
    low, high = field_bounds(config, path)
    scale = 100.0 if percent else 1.0
    return (
        None if math.isinf(low) else round(low * scale, 9),
        None if math.isinf(high) else round(high * scale, 9),
    )


def _number(
    config: Config, comments: dict[str, str], id_: str, label: str, unit: str, path: str, group: str, **kw: Any
) -> Lever:
    percent = kw.pop("percent", False)
    node: Any = config
    for key in path.split("."):
        node = node[key] if isinstance(node, dict) else getattr(node, key)
    low, high = _bounds(config, path, percent)
    default = round(float(node) * (100.0 if percent else 1.0), 9)
    return Lever(
        id_, label, unit, "number", default, group, path, low=low, high=high, percent=percent,
        help=comments.get(path, ""), **kw,
    )  # fmt: skip


def levers_for(config: Config, comments: dict[str, str] | None = None) -> Levers:
    """The levers of `config`; `comments` maps dotted paths to the file's comment on each line."""
    comments = comments or {}
    start = _month(config.start_date)
    out: list[Lever] = []
    for team, spec in config.teams.items():
        who = "EP" if spec.role == "educational_psychologist" else "caseworker"
        group = f"Posts and starters: {team} team"
        out += [
            Lever(
                f"posts.{team}", f"{who[0].upper()}{who[1:]} posts added", "FTE", "number", 0.0, group,
                f"workforce.establishment_fte.{team}", step=0.5,
                low=-config.workforce.establishment_fte.get(team, 0.0),
                help=comments.get(f"workforce.establishment_fte.{team}", "")
                or "Posts added to the establishment; they are recruited to, as vacancies are.",
                when=f"posts.{team}.from",
            ),
            Lever(f"posts.{team}.from", "from", "month", "month", start, group),
            Lever(
                f"cohort.{team}", f"New {who}s starting together (a cohort)", "people", "number", 0, group, step=1,
                low=0, help="People who start on the date, as from a campaign run outside the model.",
                when=f"cohort.{team}.from",
            ),
            Lever(f"cohort.{team}.from", "starting", "month", "month", start, group),
        ]  # fmt: skip
    cw = "workforce.roles.caseworker"
    out += [
        _number(config, comments, "agency.cap", "Agency cap", "FTE", f"{cw}.agency_cap_fte", "Agency", step=0.5),
        _number(config, comments, "agency.rate", "Agency hourly rate", "£ an hour", f"{cw}.agency_hourly_rate",
                "Agency", step=1),
        _number(config, comments, "agency.conversion", "Agency staff converted to permanent", "% a month",
                "workforce.agency.conversion_rate_per_month", "Agency", step=1, percent=True,
                when="agency.conversion.from"),
        Lever("agency.conversion.from", "from", "month", "month", start, "Agency"),
    ]  # fmt: skip
    for team, spec in config.teams.items():
        if spec.caseload_cap_per_fte is not None:
            out.append(
                _number(config, comments, f"cap.{team}", f"Caseload cap, {team} team", "items per FTE",
                        f"teams.{team}.caseload_cap_per_fte", "Caseloads and teams", step=1)
            )  # fmt: skip
    if len(_caseworker_teams(config)) > 1:
        out += [
            Lever("merge", "Merge the caseworker teams into one", "", "switch", False, "Caseloads and teams",
                  help=f"One team, {MERGED_TEAM!r}, in which every caseworker does all of "
                  f"{', '.join(_caseworker_teams(config))}' work.", when="merge.from"),
            Lever("merge.from", "from", "month", "month", start, "Caseloads and teams"),
        ]  # fmt: skip
    recruitment = config.workforce.recruitment
    out += [
        _number(config, comments, "recruitment.fill", "Chance a campaign fills the post", "%",
                "workforce.recruitment.fill_probability", "Recruitment and retention", step=1, percent=True),
        Lever("recruitment.weeks", "Typical campaign length", "weeks", "number",
              round(_centre(recruitment.campaign_weeks), 6), "Recruitment and retention",
              "workforce.recruitment.campaign_weeks", step=1, low=0.5, high=104,
              help=comments.get("workforce.recruitment.campaign_weeks", "")
              + " (the whole spread is scaled with it)"),
        _number(config, comments, "leaving", "Caseworkers leaving (permanent)", "% a year",
                f"{cw}.permanent_leaving_rate_per_year", "Recruitment and retention", step=1, percent=True),
        _number(config, comments, "growth", "Growth in requests", "% a year", "demand.growth_per_year",
                "Demand and effort", step=1, percent=True),
        Lever("effort", "Effort per assessment", "% of today's", "number", 100.0, "Demand and effort",
              step=5, low=10, high=1000,
              help="Hours of the decision, the draft plan and the final plan, scaled together "
              "(the EP's advice is its own team's work)."),
        Lever("policy.priority", "Which work goes first", "", "choice", config.policy.priority, "Policy",
              "policy.priority", options=PRIORITIES, help=comments.get("policy.priority", "")),
        _number(config, comments, "policy.fast_track", "New requests fast-tracked", "%",
                "policy.fast_track_share", "Policy", step=1, percent=True),
    ]  # fmt: skip
    return Levers(config, out)


def _caseworker_teams(config: Config) -> list[str]:
    return [name for name, team in config.teams.items() if team.role == "caseworker"]


def _date(value: Any, lever: Lever) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"{lever.label}: expected a date such as 2024-04-01, got {value!r}") from None


def _with_unit(value: float, unit: str) -> str:
    return f"{value:g}{'' if unit.startswith('%') else ' '}{unit}".rstrip()


def allowed_range(lever: Lever) -> str:
    """The values a number lever allows, as a person reads them."""
    if lever.low is not None and lever.high is not None:
        return f"{lever.low:g} to {_with_unit(lever.high, lever.unit)}"
    if lever.low is not None:
        return f"at least {_with_unit(lever.low, lever.unit)}"
    return f"at most {_with_unit(typing.cast(float, lever.high), lever.unit)}"


def _changed(levers: Levers, values: dict[str, Any]) -> dict[str, Any]:
    """The levers moved from their defaults, each value checked against its lever's bounds."""
    moved = {}
    for lever in levers.all:
        value = values.get(lever.id, lever.default)
        if lever.kind == "number":
            if value is None or value == "":
                raise ValueError(f"{lever.label}: expected a number ({lever.unit})")
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{lever.label}: expected a number ({lever.unit}), got {value!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"{lever.label}: expected a finite number, got {value!r}")
            if (lever.low is not None and value < lever.low) or (lever.high is not None and value > lever.high):
                raise ValueError(
                    f"{lever.label}: {_with_unit(value, lever.unit)} is outside the range allowed, {allowed_range(lever)}"
                )
        elif lever.kind == "choice" and value not in lever.options:
            raise ValueError(f"{lever.label}: expected one of {', '.join(lever.options)}, got {value!r}")
        elif lever.kind == "month":
            value = _date(value, lever)
        if value != lever.default:
            moved[lever.id] = value
    return moved


def scenario(levers: Levers, values: dict[str, Any], preset: str | None = None, description: str = "") -> Scenario:
    """The scenario the levers make: the preset scenario's actions and overrides (if one is named),
    then an action or override for each lever moved from its default. ValueError names the lever
    whose value is refused."""
    config = levers.config
    moved = _changed(levers, values)
    base = config.scenarios[preset] if preset and preset != "base" else Scenario()
    overrides: dict[str, Any] = dict(base.overrides)
    actions: list[dict[str, Any]] = [a.model_dump(mode="json") for a in base.actions]

    def value(lever_id: str) -> Any:  # as checked by _changed
        return moved.get(lever_id, levers.by_id[lever_id].default)

    def when(lever_id: str) -> str:
        return value(f"{lever_id}.from")

    for team in config.teams:
        if moved.get(f"posts.{team}"):
            actions.append({"date": when(f"posts.{team}"), "action": "establishment", "team": team,
                            "change_fte": moved[f"posts.{team}"]})  # fmt: skip
        count = moved.get(f"cohort.{team}")
        if count:
            if not float(count).is_integer():
                raise ValueError(f"{levers.by_id[f'cohort.{team}'].label}: expected a whole number of people")
            actions.append({"date": when(f"cohort.{team}"), "action": "cohort", "team": team, "count": int(count)})
    if "agency.conversion" in moved or "agency.conversion.from" in moved:
        rate = value("agency.conversion") / 100
        actions.append({"date": when("agency.conversion"), "action": "agency_conversion", "rate_per_month": rate})
    if moved.get("merge"):
        actions.append({"date": when("merge"), "action": "merge_teams", "teams": _caseworker_teams(config),
                        "into": MERGED_TEAM})  # fmt: skip
    # the levers that set their field as it is (a share from its percentage)
    as_set = ["agency.cap", "agency.rate", "recruitment.fill", "leaving", "growth", "policy.fast_track",
              "policy.priority", *(f"cap.{team}" for team in config.teams)]  # fmt: skip
    for lever_id in as_set:
        if lever_id in moved:
            lever = levers.by_id[lever_id]
            overrides[lever.path] = round(moved[lever_id] / 100.0, 9) if lever.percent else moved[lever_id]
    if "recruitment.weeks" in moved:
        campaign = config.workforce.recruitment.campaign_weeks
        overrides["workforce.recruitment.campaign_weeks"] = _scaled(
            campaign, moved["recruitment.weeks"] / _centre(campaign)
        )
    if "effort" in moved:
        for name in ASSESSMENT_EFFORT:
            overrides[f"assessment.{name}"] = _scaled(getattr(config.assessment, name), moved["effort"] / 100)
    _follow_uncertainty(config, overrides)
    return Scenario.model_validate(
        {"description": description or describe(levers, moved, preset), "overrides": overrides, "actions": actions}
    )


def _follow_uncertainty(config: Config, overrides: dict[str, Any]) -> None:
    """A lever that each replication draws from its calibrated range (the fast-track share, say)
    moves the centre of that range, so the draw keeps its spread around the value the room chose."""
    if config.uncertainty is None:
        return
    for i, path in enumerate(config.uncertainty.parameters):
        if path in overrides:
            overrides[f"uncertainty.estimates.{i}"] = overrides[path]


def describe(levers: Levers, moved: dict[str, Any], preset: str | None = None) -> str:
    """The what-if in words, for the saved scenario and the page."""
    parts = [f"the {preset} scenario"] if preset and preset != "base" else []
    for lever_id, value in moved.items():
        lever = levers.by_id[lever_id]
        if lever.kind == "month":
            continue
        shown = _with_unit(value, lever.unit) if lever.kind == "number" else str(value)
        text = f"{lever.label}: {shown}" if lever.kind != "switch" else lever.label
        if lever.when:
            date = dt.date.fromisoformat(str(moved.get(lever.when, levers.by_id[lever.when].default)))
            text += f" from {date:%B %Y}"
        parts.append(text)
    return "; ".join(parts) if parts else "the base plan"


def what_if_config(config: Config, what_if: Scenario, name: str = WHAT_IF) -> Config:
    """The configuration with the what-if among its scenarios; ConfigError if it cannot be run."""
    if name in config.scenarios and config.scenarios[name] != what_if:
        raise ConfigError(f"the configuration already has a different scenario named {name!r}")
    with_it = config.model_copy(update={"scenarios": {**config.scenarios, name: what_if}})
    resolve_scenario(with_it, name, "the levers")  # every check a scenario in a file meets
    return with_it
