"""Teams: allocation of work to members of staff, and the pool of work nobody has room for.

An item (a case, a plan, an advice request) is allocated to one member of the responsible team
and stays theirs until it closes or is handed over. The least-loaded rule picks the member with
the fewest items per FTE; a caseload cap per FTE leaves work unallocated when everyone is full,
and unallocated work waits in the pool, in the order of the prioritisation policy, while its
statutory clock keeps running.
"""

from __future__ import annotations

from typing import Any

from sim.priority import work_queue
from sim.staff import StaffMember, Task


class Team:
    def __init__(
        self,
        name: str,
        members: list[StaffMember],
        caseload_cap_per_fte: float | None,
        allocation: str,
        priority: str,
    ):
        self.name = name
        self.members = members
        self.cap = caseload_cap_per_fte
        self._pool = work_queue(priority)
        self._choose = self._least_loaded if allocation == "least_loaded" else self._round_robin
        self._next_turn = 0

    # --- allocation ----------------------------------------------------------------------------

    def has_room(self, member: StaffMember) -> bool:
        # room for one more item without going over the cap (part-time caps are not whole numbers)
        return self.cap is None or member.caseload + 1 <= self.cap * member.fte + 1e-9

    def _least_loaded(self) -> StaffMember | None:
        best, best_load = None, None
        for member in self.members:
            if self.has_room(member):
                load = member.caseload / member.fte
                if best is None or load < best_load:
                    best, best_load = member, load
        return best

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

    @property
    def fte(self) -> float:
        return sum(m.fte for m in self.members)
