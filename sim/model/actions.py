"""Hiring plans as data: dated actions that change the service on their date, and not before.

Each action in the configuration is an event at 00:00 on its date. An action dated on the start
date applies before the first event, so it shapes the whole run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from sim.config import (
    AgencyCap,
    AgencyConversion,
    CaseloadCap,
    Cohort,
    Config,
    EstablishmentChange,
    MergeTeams,
    SetParameter,
)

if TYPE_CHECKING:
    from sim.model.service import Model


def schedule(model: Model, actions: list) -> None:
    calendar = model.calendar
    for action in sorted(actions, key=lambda a: a.date):  # stable: same-day actions in file order
        day = calendar.day_of(action.date)
        if day >= calendar.end_day:
            continue
        if day <= model.env.now:
            apply(model, action)
        elif day in model.calendar.boundaries:
            model.boundary_actions.setdefault(day, []).append(action)
        else:
            model.env.timeout(day - model.env.now).callbacks.append(lambda _e, a=action: apply(model, a))  # type: ignore[misc]  # mypy#15459: a default in a lambda


def apply(model: Model, action) -> None:
    workforce = model.workforce
    model.metrics.count("actions_applied")
    if isinstance(action, EstablishmentChange):
        team = workforce.team(action.team)
        if action.set_fte is not None:
            fte = action.set_fte
        else:
            assert action.change_fte is not None  # EstablishmentChange._one_of: one or the other
            fte = workforce.establishment[team.name] + action.change_fte
        workforce.set_establishment(team.name, max(0.0, fte))
    elif isinstance(action, Cohort):
        workforce.cohort(action.team, action.count, action.fte, action.contract)
    elif isinstance(action, AgencyCap):
        model.config.workforce.roles[action.role].agency_cap_fte = action.fte
        workforce.agency_cap_changed(action.role)
    elif isinstance(action, AgencyConversion):
        model.config.workforce.agency.conversion_rate_per_month = action.rate_per_month
    elif isinstance(action, CaseloadCap):
        team = workforce.team(action.team)
        team.params.caseload_cap_per_fte = action.per_fte
        team.fill_all()
    elif isinstance(action, MergeTeams):
        model.merge_teams(action.teams, action.into, action.caseload_cap_per_fte)
    elif isinstance(action, SetParameter) and action.parameter.startswith("teams."):
        # the team in place now (a merged team is not in the configuration), as caseload_cap does
        team = workforce.team(action.parameter.split(".")[1])
        team.params.caseload_cap_per_fte = action.value
        team.fill_all()
    elif isinstance(action, SetParameter):
        set_live(model.config, action.parameter, action.value)
        section, *rest = action.parameter.split(".")
        if section == "demand":
            model.demand.redraw()
        elif section == "workforce" and rest[0] == "establishment_fte":
            workforce.set_establishment(rest[1], action.value)
        elif section == "workforce" and rest[:2] == ["pressure", "reference_caseload_per_fte"]:
            workforce.references[workforce.team(rest[2]).name] = action.value
        elif section == "workforce" and rest[-1] == "agency_cap_fte":
            workforce.agency_cap_changed(rest[-2])
        elif section == "workforce" and rest[-1] == "annual_leave_days_per_year":
            workforce.leave_changed()
    else:  # pragma: no cover - the schema admits no other kind
        raise TypeError(f"unknown action {action!r}")


def get_live(config: Config, dotted: str) -> Any:
    """The value of a lever by its dotted path, as it is now."""
    node: Any = config
    for key in dotted.split("."):
        node = node[key] if isinstance(node, dict) else getattr(node, key)
    return node


def set_live(config: Config, dotted: str, value: Any) -> None:
    """Set a lever by its dotted path on a validated configuration, in place.

    Distributions are immutable, so a changed distribution is rebuilt and put in its parent's
    place; the samplers notice the new object and draw from it. A value in a dictionary (an
    establishment by team) is set by giving its model a new dictionary, so that it is validated
    against the field's bounds like any other: a dictionary itself checks nothing.
    """
    keys = dotted.split(".")
    chain: list[Any] = [config]
    for key in keys[:-1]:
        node = chain[-1]
        chain.append(node[key] if isinstance(node, dict) else getattr(node, key))
    for depth in range(len(keys) - 1, -1, -1):
        parent, key = chain[depth], keys[depth]
        if isinstance(parent, dict):
            value = {**parent, key: value}
            continue
        if isinstance(parent, BaseModel) and parent.model_config.get("frozen"):
            value = type(parent).model_validate({**parent.model_dump(), key: value})
            continue
        setattr(parent, key, value)
        return
