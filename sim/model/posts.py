"""Posts: each team's establishment and the FTE holding it, as running totals.

The totals are kept as people join, resign and leave, so no check of a vacancy scans a team. When
teams merge, the old names resolve to the merged team's, so a dated action may name either.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.config import Role
    from sim.model.staff import StaffMember
    from sim.model.teams import Team


class Posts:
    def __init__(self, teams: dict[str, Team]):
        self.teams = teams  # the model's teams, by name: a merge replaces entries in it
        self.establishment: dict[str, float] = {}
        self.renamed: dict[str, str] = {}  # merged teams: old name -> new
        # FTE by (team, contract, staying only): `in post` counts everyone until they leave,
        # `staying` drops them when they resign
        self._fte: dict[tuple[str, str, bool], float] = defaultdict(float)
        self._agency_staying_fte: dict[str, float] = defaultdict(float)  # by role

    def team(self, name: str) -> Team:
        while name in self.renamed:
            name = self.renamed[name]
        return self.teams[name]

    def count(self, member: StaffMember, team: str, sign: int, staying: bool, in_post: bool = True) -> None:
        """Keep the FTE totals: `in_post` for everyone in post, `staying` for those not leaving."""
        if in_post:
            self._fte[(team, member.contract, False)] += sign * member.fte
        if staying:
            self._fte[(team, member.contract, True)] += sign * member.fte
            if member.contract == "agency":
                self._agency_staying_fte[member.role] += sign * member.fte

    def in_post_fte(self, name: str, contract: str) -> float:
        """FTE of a team's staff on a contract who are in post, working their notice or not."""
        return self._fte[(self.team(name).name, contract, False)]

    def staying_fte(self, name: str, contract: str) -> float:
        """FTE of a team's staff on a contract who are in post and have not resigned."""
        return self._fte[(self.team(name).name, contract, True)]

    def vacant_fte(self, name: str) -> float:
        """Establishment not held by a permanent member of staff in post today."""
        team = self.team(name).name
        return self.establishment[team] - self._fte[(team, "permanent", False)]

    def agency_staying(self, role: Role | str) -> float:
        """Agency FTE of a role, across its teams, not at the end of their placement."""
        return self._agency_staying_fte[role]

    def merge(self, names: list[str], into: str) -> None:
        self.establishment[into] = sum(self.establishment.pop(n) for n in names)
        for contract in ("permanent", "agency"):
            for staying in (False, True):
                self._fte[(into, contract, staying)] = sum(self._fte.pop((n, contract, staying), 0.0) for n in names)
        for n in names:
            if n != into:
                self.renamed[n] = into
