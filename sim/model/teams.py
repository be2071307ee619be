"""Teams: allocation of work to members of staff, and the pool of work nobody has room for.

An item (a case, a plan, an advice request) is allocated to one member of the responsible team
and stays theirs until it closes or is handed over. The least-loaded rule picks the member with
the fewest items per FTE; a caseload cap per FTE leaves work unallocated when everyone is full,
and unallocated work waits in the pool, in the order of the prioritisation policy, while its
statutory clock keeps running.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config import Team as TeamParams
from sim.engine.priority import work_queue
from sim.model.component import Component
from sim.model.staff import StaffMember, Task

if TYPE_CHECKING:
    from sim.model.metrics import MonthlyMetrics


class Team:
    def __init__(
        self,
        name: str,
        params: TeamParams,
        members: list[StaffMember],
        allocation: str,
        priority: str,
        fast_track: Any = None,
    ):
        self.name = name
        self.params = params  # the levers put a new one in place when the caseload cap is set
        self.role = params.role
        self.members = members
        # least-loaded lookup: a heap of (items per FTE, id, version, member); an entry whose
        # version is not the member's current one is stale and is dropped when it surfaces
        self._loads: list[tuple[float, int, int, StaffMember]] = []
        self._full: dict[int, StaffMember] = {}  # at their cap: out of the heap until load or cap changes
        for member in members:
            self._touch(member)
        self._priority = priority, fast_track
        self._pool = work_queue(priority, fast_track)
        self._leavers_hours = [0.0, 0.0]  # worked, and could have worked, by people since gone
        self._choose = self._least_loaded if allocation == "least_loaded" else self._round_robin
        self._next_turn = 0
        self.boost = 1.0

    # --- allocation ----------------------------------------------------------------------------

    def has_room(self, member: StaffMember) -> bool:
        # room for one more item without going over the cap (part-time caps are not whole numbers)
        cap = self.params.caseload_cap_per_fte
        return cap is None or member.caseload + 1 <= cap * member.fte * member.cap_share + 1e-9

    def _touch(self, member: StaffMember) -> None:
        """The member's caseload changed (or they joined): file their new load."""
        member.load_version += 1
        self._full.pop(member.ident, None)
        heapq.heappush(self._loads, (member.caseload / member.fte, member.ident, member.load_version, member))
        if len(self._loads) > 4 * len(self.members) + 64:  # mostly stale: keep only current entries
            self._loads = [
                e for e in self._loads if e[2] == e[3].load_version and e[3].team == self.name and not e[3].gone
            ]
            heapq.heapify(self._loads)

    def _least_loaded(self) -> StaffMember | None:
        """Fewest items per FTE among members with room; ties go to the longest-serving."""
        loads = self._loads
        while loads:
            entry = loads[0]
            member = entry[3]
            if entry[2] != member.load_version or member.team != self.name or member.gone:
                heapq.heappop(loads)
            elif self.has_room(member):
                return member
            else:  # at their cap (a new starter's is lower): parked until their load or the cap changes
                heapq.heappop(loads)
                self._full[member.ident] = member
        return None

    def _round_robin(self) -> StaffMember | None:
        n = len(self.members)
        for step in range(n):
            member = self.members[(self._next_turn + step) % n]
            if self.has_room(member):
                self._next_turn = (self._next_turn + step + 1) % n
                return member
        return None

    def allocate(self, item: Any) -> None:
        member = self._choose()
        if member is None:
            item.owner = None
            self._pool.push(item)
        else:
            self._assign(item, member)

    def _assign(self, item: Any, member: StaffMember) -> None:
        item.owner = member
        member.owned[item.seq] = item
        self._touch(member)
        if item.pending:
            tasks, item.pending = item.pending, None
            for task in tasks:
                member.push(task)

    def release(self, item: Any) -> None:
        """The item no longer needs this team: free its place and give it to waiting work."""
        member = item.owner
        if member is None:
            return  # still in the pool; it is skipped there once closed
        del member.owned[item.seq]
        item.owner = None
        self._touch(member)
        self._fill(member)

    def hand_over(self, item: Any, new_item: Any) -> None:
        """Keep the same owner for a follow-on item (an issued case becomes a plan)."""
        member = item.owner
        del member.owned[item.seq]
        item.owner = None
        new_item.owner = member
        member.owned[new_item.seq] = new_item

    def _fill(self, member: StaffMember) -> None:
        while self._pool and self.has_room(member):
            item = self._pool.pop(member.env.now)
            if not item.closed:
                self._assign(item, member)

    def fill_all(self) -> None:
        """Give waiting work to whoever has room (after the cap rose or someone joined)."""
        for parked in list(self._full.values()):
            if parked.team == self.name and not parked.gone:
                self._touch(parked)
        self._full.clear()
        while self._pool:
            member = self._choose()
            if member is None:
                return
            item = self._pool.pop(member.env.now)
            if not item.closed:
                self._assign(item, member)

    # --- membership ----------------------------------------------------------------------------

    def set_boost(self, boost: float) -> None:
        """Temporary extra capacity for everyone in the team (overtime, a backlog team)."""
        self.boost = boost
        for member in self.members:
            if member.boost != boost:
                member.boost = boost
                member.update_rate()

    def add_member(self, member: StaffMember) -> None:
        member.team = self.name
        if member.boost != self.boost:
            member.boost = self.boost
            member.update_rate()
        self.members.append(member)
        self._touch(member)
        self.fill_all()

    def remove_member(self, member: StaffMember) -> list[Any]:
        """Take a leaver out of the team; return the items they held, now unowned."""
        self.members.remove(member)
        member.progress()
        self._leavers_hours[0] += member.hours_worked - member.hours_reported
        self._leavers_hours[1] += member.capacity_hours - member.capacity_reported
        items = list(member.owned.values())
        member.owned.clear()
        for item in items:
            item.owner = None
        return items

    def absorb(self, other: Team) -> None:
        """Merge another team into this one: its members and its waiting work."""
        for member in other.members:
            member.team = self.name
            self._touch(member)
        self.members.extend(other.members)
        self._leavers_hours = [a + b for a, b in zip(self._leavers_hours, other._leavers_hours)]
        other.members = []
        for item in other._pool:
            if not item.closed:
                self._pool.push(item)
        other._pool = work_queue(*self._priority)
        self.fill_all()

    # --- work ----------------------------------------------------------------------------------

    @staticmethod
    def give(item: Any, task: Task) -> None:
        """Queue a task with the item's owner, or hold it with the item until it is allocated."""
        if item.owner is not None:
            item.owner.push(task)
        elif item.pending is None:
            item.pending = [task]
        else:
            item.pending.append(task)

    # --- measures ------------------------------------------------------------------------------

    @property
    def unallocated(self) -> int:
        return sum(1 for item in self._pool if not item.closed)

    def take_hours(self) -> tuple[float, float]:
        """Casework hours done, and hours the team could have done at its pace (absence,
        ramp-up and pressure included), since last asked; leavers' hours included."""
        (worked, capacity), self._leavers_hours = self._leavers_hours, [0.0, 0.0]
        for member in self.members:
            member.progress()
            worked += member.hours_worked - member.hours_reported
            capacity += member.capacity_hours - member.capacity_reported
            member.hours_reported = member.hours_worked
            member.capacity_reported = member.capacity_hours
        return worked, capacity

    @property
    def fte(self) -> float:
        return sum(m.fte for m in self.members)


class TeamMeasures(Component):
    """Each team's month: caseloads, the unallocated pool, and casework hours against what the
    team could have done at its pace, so sickness, ramp-up and joiners mid-month count fairly."""

    def __init__(self, teams: dict[str, Team], metrics: MonthlyMetrics):
        self.teams = teams  # the model's teams by name (a merge replaces entries)
        self.metrics = metrics
        self.worked_hours: dict[str, float] = {}  # by team, in the month just measured

    def month_end(self, length_days: float) -> None:
        m = self.metrics
        self.worked_hours = {}
        for name, team in self.teams.items():
            members = team.members
            fte = team.fte
            loads = [member.caseload / member.fte for member in members]
            m.set(f"caseload_per_fte_mean.{name}", sum(x.caseload for x in members) / fte if fte else np.nan)
            m.set(f"caseload_per_fte_p90.{name}", float(np.percentile(loads, 90)) if loads else np.nan)
            m.set(f"unallocated.{name}", team.unallocated)
            m.set(f"fte_in_post.{name}", fte)
            worked, capacity = team.take_hours()
            self.worked_hours[name] = worked
            m.set(f"casework_hours.{name}", worked)
            m.set(f"casework_capacity_hours.{name}", capacity)
            m.set(f"utilisation.{name}", worked / capacity if capacity else np.nan)
