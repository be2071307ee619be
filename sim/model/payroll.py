"""Pay, booked day by day, and each person's employment history: what the costs and the staff table
come from.

A person's pay is booked from the day they were last booked to today whenever anything about
their employment changes (a sickness spell ends, they convert, they leave) and at each month's
end, so a month's cost is exact to the day without an event per day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sim.config import ROLES
from sim.engine.clock import DAYS_PER_YEAR

if TYPE_CHECKING:
    import simpy

    from sim.model.levers import Levers
    from sim.model.staff import StaffMember


@dataclass
class Spell:
    """A stretch of one person's employment on one contract: the staff history costs come from."""

    staff_id: int
    role: str
    team: str
    contract: str
    fte: float
    hours_per_week: float
    start_day: float
    end_day: float = math.nan
    ended_by: str = ""


@dataclass
class Ledger:
    """Running totals for the current month, cleared at each month's end."""

    cost: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("permanent", "agency", "recruitment"), 0.0))
    sick_fte_days: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ROLES, 0.0))


class Payroll:
    def __init__(self, env: simpy.Environment, levers: Levers):
        self.env = env
        self.levers = levers
        self.spells: list[Spell] = []  # closed spells, in the order they closed
        self.ledger = Ledger()
        self._open: dict[int, Spell] = {}

    def open(self, member: StaffMember) -> None:
        """A spell starts today on the member's present team and contract."""
        self._open[member.ident] = Spell(
            member.ident, member.role, member.team, member.contract, member.fte, member.hours_per_week, self.env.now
        )

    def close(self, member: StaffMember, reason: str) -> None:
        spell = self._open.pop(member.ident)
        spell.end_day = self.env.now
        spell.ended_by = reason
        self.spells.append(spell)

    def daily_cost(self, member: StaffMember) -> float:
        terms = self.levers.workforce.roles[member.role]
        if member.contract == "permanent":
            return member.fte * terms.salary_per_year * (1 + terms.on_cost_share) / DAYS_PER_YEAR
        # agency staff are paid for the hours they are contracted for
        return member.fte * member.hours_per_week * terms.agency_hourly_rate / 7.0

    def accrue(self, member: StaffMember) -> None:
        """Book pay and sickness since the last booking."""
        now = self.env.now
        self.ledger.cost[member.contract] += self.daily_cost(member) * (now - member.cost_since)
        member.cost_since = now
        if member.absent:
            self.ledger.sick_fte_days[member.role] += member.fte * (now - member.sick_since)
            member.sick_since = now

    def book_recruitment(self, cost: float) -> None:
        self.ledger.cost["recruitment"] += cost

    def month_end(self, staff: list[StaffMember]) -> Ledger:
        """Everyone booked to today; the month's ledger, and a fresh one for the next."""
        for member in staff:
            self.accrue(member)
        month, self.ledger = self.ledger, Ledger()
        return month
