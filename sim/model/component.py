"""The component protocol: what the month clock asks of each part of a model.

`Model` builds its components with their collaborators passed in (desmod's tree of components
with declared connections) and then only loops over them, in the order it built them:

    month_start(length_days)  the month's draws and decisions, before anything else that month
    month_end(length_days)    the month's figures, read after everything in it has happened
    teams_merged(old, into)   teams were merged on a date: re-point anything held to the old
    run_end()                 the run is over: close what is still open

Every hook does nothing unless a component needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sim.model.teams import Team


@runtime_checkable
class Component(Protocol):
    def month_start(self, length_days: float) -> None:
        return None

    def month_end(self, length_days: float) -> None:
        return None

    def teams_merged(self, old: list[Team], merged: Team) -> None:
        return None

    def run_end(self) -> None:
        return None
