"""Agency cover for vacant posts.

    vacancy not covered ─ after a lag, agency cover up to the role's cap ─ released when a
            permanent starter arrives or the cap falls; converted to permanent at a monthly rate

Cover is arranged per team and capped per role, across the role's teams.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.engine.clock import DAYS_PER_WEEK

if TYPE_CHECKING:
    import numpy as np
    import simpy

    from sim.config import Role
    from sim.model.levers import Levers
    from sim.model.metrics import MonthlyMetrics
    from sim.model.payroll import Payroll
    from sim.model.posts import Posts
    from sim.model.recruitment import Recruitment
    from sim.model.staff import StaffMember


class AgencyCover:
    def __init__(
        self,
        env: simpy.Environment,
        levers: Levers,
        metrics: MonthlyMetrics,
        payroll: Payroll,
        posts: Posts,
        recruitment: Recruitment,
        conversion: np.random.Generator,
        after: Callable[..., Any],
        join: Callable[..., StaffMember],
        resign: Callable[[StaffMember, str], None],
    ):
        self.env = env
        self.levers = levers
        self.metrics = metrics
        self._payroll = payroll
        self._posts = posts
        self._recruitment = recruitment
        self._conversion = conversion
        self._after = after
        self._join = join
        self._resign = resign
        # FTE of agency cover arranged, not yet started, by team
        self.pending: dict[str, float] = dict.fromkeys(posts.teams, 0.0)

    def cover(self, name: str) -> None:
        """Arrange agency cover for vacant posts, after the lag, within the role's cap."""
        team = self._posts.team(name)
        need = (
            self._posts.vacant_fte(team.name) - self._posts.staying_fte(team.name, "agency") - self.pending[team.name]
        )
        room = self._room(team.role)
        while need >= 0.5 and room >= 0.5:
            fte = min(1.0, need, room)
            self.pending[team.name] += fte
            self._after(self.levers.workforce.agency.cover_lag_weeks * DAYS_PER_WEEK, self._arrives, team.name, fte)
            need -= fte
            room -= fte

    def _room(self, role: Role) -> float:
        """How much more agency cover the role's cap allows, counting cover already arranged."""
        pending = sum(fte for name, fte in self.pending.items() if self._posts.team(name).role == role)
        return self.levers.workforce.roles[role].agency_cap_fte - self._posts.agency_staying(role) - pending

    def _arrives(self, name: str, fte: float) -> None:
        team = self._posts.team(name)
        self.pending[team.name] = max(0.0, self.pending[team.name] - fte)
        need = self._posts.vacant_fte(team.name) - self._posts.staying_fte(team.name, "agency")
        fte = min(fte, need, self._room(team.role))
        if fte >= 0.25:
            self._join(team.name, fte, "agency", starter=True)

    def release_excess(self, name: str) -> None:
        """End agency placements no vacancy needs any more, or that the cap no longer allows."""
        team = self._posts.team(name)
        excess = max(
            self._posts.staying_fte(team.name, "agency") - max(0.0, self._posts.vacant_fte(team.name)),
            self._posts.agency_staying(team.role) - self.levers.workforce.roles[team.role].agency_cap_fte,
        )
        for member in reversed(team.members):  # the most recently engaged go first
            if excess <= 1e-9:
                break
            if member.contract == "agency" and not member.resigned:
                self._resign(member, "placement ended")
                excess -= member.fte

    def cap_changed(self, role: str) -> None:
        for name, team in list(self._posts.teams.items()):
            if team.role == role:
                self.release_excess(name)
                self.cover(name)

    def convert(self, staff: list[StaffMember]) -> None:
        """Agency workers take the permanent post they cover, at the conversion rate."""
        rate = self.levers.workforce.agency.conversion_rate_per_month
        if rate <= 0:
            return
        for member in list(staff):
            if member.contract != "agency" or member.resigned:
                continue
            if self._conversion.random() < rate and self._recruitment.unpromised_fte(member.team) >= member.fte / 2:
                self._payroll.accrue(member)
                self._payroll.close(member, "converted")
                self._posts.count(member, member.team, -1, staying=True)
                member.contract = "permanent"
                self._posts.count(member, member.team, +1, staying=True)
                self._payroll.open(member)
                self.metrics.count(f"conversions_fte.{member.role}", member.fte)

    def merge(self, names: list[str], into: str) -> None:
        self.pending[into] = sum(self.pending.pop(n) for n in names)
