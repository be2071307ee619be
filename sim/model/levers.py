"""The levers of a run: the live values of every parameter that may change while it runs, and
the one place they change.

The configuration is frozen (sim/config.py): it stays what was read. A replication's drawn
parameters, their yearly drift and the dated actions change levers here instead: `set` checks the
value as the file's would be checked (the field's bounds and its model's checks, `with_value`),
puts a new copy of the lever's section in place, and tells the components that must act on the
change at once. Everything else reads its section from here when it uses it (a distribution, a
probability, the conversion rate), so a new value applies from the moment it is set.

This is the model's own record of its levers; `sim/levers.py` lists a configuration's levers for
`--set` and `sendsim levers` before any run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.config import Assessment, Config, Demand, InitialState, Plans, Policy, Workforce, with_value
from sim.config import Team as TeamParams

if TYPE_CHECKING:
    from sim.model.service import Model

# the sections a lever may be in: where a dated `set` reaches (config.SETTABLE_SECTIONS), the
# policy (its fast-track share is drawn and drifts) and the initial state (read once, at the start)
SECTIONS = ("demand", "assessment", "plans", "workforce", "teams", "policy", "initial_state")


class Levers:
    demand: Demand
    assessment: Assessment
    plans: Plans
    workforce: Workforce
    teams: dict[str, TeamParams]  # by the name of the team in place (a merged team's new name)
    policy: Policy
    initial_state: InitialState

    def __init__(self, model: Model, config: Config, drawn: dict[str, float]):
        self._model = model
        for section in SECTIONS:
            setattr(self, section, getattr(config, section))
        for path, value in drawn.items():  # before anything is built from them: nobody to tell
            self._replace(path, value)

    def get(self, dotted: str) -> Any:
        """The value of a lever by its dotted path, as it is now."""
        section, *rest = dotted.split(".")
        node: Any = getattr(self, section)
        for key in rest:
            node = node[key] if isinstance(node, dict) else getattr(node, key)
        return node

    def set(self, dotted: str, value: Any) -> None:
        """Set a lever by its dotted path (checked as the file's value is), and tell whoever acts on it."""
        self._replace(dotted, value)
        self._changed(dotted.split("."), value)

    def add_team(self, name: str, params: TeamParams) -> None:
        """A team made during the run (a merge): its caseload cap is a lever from now on."""
        self.teams = {**self.teams, name: params}

    @property
    def fast_track_share(self) -> float:
        """The work queues' fast-track share (sim/engine/priority.py), read at every pick: it drifts."""
        return self.policy.fast_track_share

    def _replace(self, dotted: str, value: Any) -> None:
        section, *rest = dotted.split(".")
        if section not in SECTIONS or not rest:
            raise KeyError(f"{dotted!r} is not a lever of a run (expected a parameter under {', '.join(SECTIONS)})")
        setattr(self, section, with_value(getattr(self, section), rest, value))

    def _changed(self, keys: list[str], value: Any) -> None:
        """The components that hold state made from a lever, brought up to date with it."""
        model = self._model
        workforce = model.workforce
        match keys:
            case ["demand", *_]:
                model.demand.redraw()
            case ["teams", name, "caseload_cap_per_fte"]:
                team = workforce.team(name)
                team.params = self.teams[name]
                team.fill_all()
            case ["workforce", "establishment_fte", name]:
                workforce.set_establishment(name, value)
            case ["workforce", "pressure", "reference_caseload_per_fte", name]:
                workforce.pressure.references[workforce.team(name).name] = value
            case ["workforce", "roles", role, "agency_cap_fte"]:
                workforce.agency.cap_changed(role)
            case ["workforce", "absence", "annual_leave_days_per_year"]:
                workforce.absence.leave_changed(model.staff)
