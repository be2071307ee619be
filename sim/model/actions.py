"""Hiring plans as data: dated actions that change the service on their date, and not before.

Each action in the configuration is an event at 00:00 on its date. An action dated on the start
date applies before the first event, so it shapes the whole run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.config import (
    AgencyCap,
    AgencyConversion,
    CaseloadCap,
    Cohort,
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
    """An action on its date: a hiring event (a cohort, a merge), or a lever set through the model's
    levers, which check the value and tell the components that act on it (levers.py)."""
    workforce, levers = model.workforce, model.levers
    model.metrics.count("actions_applied")
    if isinstance(action, EstablishmentChange):
        team = workforce.team(action.team)
        if action.set_fte is not None:
            fte = action.set_fte
        else:
            assert action.change_fte is not None  # EstablishmentChange._one_of: one or the other
            fte = workforce.posts.establishment[team.name] + action.change_fte
        levers.set(f"workforce.establishment_fte.{team.name}", max(0.0, fte))
    elif isinstance(action, Cohort):
        workforce.cohort(action.team, action.count, action.fte, action.contract)
    elif isinstance(action, AgencyCap):
        levers.set(f"workforce.roles.{action.role}.agency_cap_fte", action.fte)
    elif isinstance(action, AgencyConversion):
        levers.set("workforce.agency.conversion_rate_per_month", action.rate_per_month)
    elif isinstance(action, CaseloadCap):
        levers.set(f"teams.{workforce.team(action.team).name}.caseload_cap_per_fte", action.per_fte)
    elif isinstance(action, MergeTeams):
        model.merge_teams(action.teams, action.into, action.caseload_cap_per_fte)
    elif isinstance(action, SetParameter):
        levers.set(action.parameter, action.value)
    else:  # pragma: no cover - the schema admits no other kind
        raise TypeError(f"unknown action {action!r}")
