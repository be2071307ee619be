"""Caseload pressure: how far a person's caseload is above their team's reference, and what that
does to their pace and to their hazard of leaving.

Leaving uses each person's own exponential clock: they resign when their cumulative hazard, which
grows month by month at their current rate, passes a draw made when they joined. So a lever that
changes one person's pressure leaves the others' draws alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.engine.clock import DAYS_PER_YEAR

if TYPE_CHECKING:
    import simpy

    from sim.model.levers import Levers
    from sim.model.staff import StaffMember


class Pressure:
    def __init__(
        self,
        env: simpy.Environment,
        levers: Levers,
        after: Callable[..., Any],
        resign: Callable[[StaffMember, str], None],
    ):
        self.env = env
        self.levers = levers
        self._after = after
        self._resign = resign
        self.references = dict(levers.workforce.pressure.reference_caseload_per_fte)  # by team
        self._exposed_until = 0.0  # the end of the month whose hazard has been drawn

    def month_start(self, staff: list[StaffMember], length_days: float) -> None:
        """Each person's pace under their caseload, and their hazard for the month ahead."""
        pressure = self.levers.workforce.pressure
        self._exposed_until = self.env.now + length_days
        for member in list(staff):
            if member.resigned:
                continue
            x = self.load_ratio(member)
            if pressure.productivity_strength > 0:
                productivity = max(pressure.min_productivity, 1 - pressure.productivity_strength * max(0.0, x - 1))
                if productivity != member.pressure_productivity:
                    member.pressure_productivity = productivity
                    member.update_rate()
            self._expose(member, length_days)

    def joined(self, member: StaffMember) -> None:
        """Someone joining mid-month faces the rest of the month's hazard."""
        if self._exposed_until > self.env.now:
            self._expose(member, self._exposed_until - self.env.now)

    def _expose(self, member: StaffMember, days: float) -> None:
        terms = self.levers.workforce.roles[member.role]
        base = (
            terms.permanent_leaving_rate_per_year
            if member.contract == "permanent"
            else terms.agency_leaving_rate_per_year
        )
        rate = base * self.leaving_multiplier(self.load_ratio(member)) / DAYS_PER_YEAR
        if member.resigned or rate <= 0:
            return
        if rate * days >= member.hazard_left:
            self._after(member.hazard_left / rate, self._resign, member, "resigned")
            member.hazard_left = math.inf
        else:
            member.hazard_left -= rate * days

    def load_ratio(self, member: StaffMember) -> float:
        reference = self.references.get(member.team)
        return member.caseload / (reference * member.fte) if reference else 1.0

    def leaving_multiplier(self, x: float) -> float:
        pressure = self.levers.workforce.pressure
        if pressure.strength == 0:
            return 1.0
        if pressure.shape == "linear":
            return 1.0 + pressure.strength * max(0.0, x - 1.0)
        return math.exp(pressure.strength * (x - 1.0))

    def merge(self, names: list[str], into: str, weights: dict[str, float]) -> None:
        """A merged team's reference is its teams' references weighted by establishment."""
        refs = [self.references[n] for n in names if n in self.references]
        if into not in self.references and len(refs) == len(names):
            total = sum(weights.values())
            self.references[into] = (
                sum(self.references[n] * w for n, w in weights.items()) / total if total else sum(refs) / len(refs)
            )
