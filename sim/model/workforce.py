"""The workforce: people joining and leaving; the parts that act on them are its collaborators.

    in post ─ leaving hazard (pressure.py: by role and contract, raised by caseload pressure)
            ─ resigns ─ notice ─ leaves: their cases go back to the team, with handover effort
    a post empty or being left ─ recruitment (recruitment.py) ─ a starter joins (ramp-up,
            protected caseload)
                               ─ agency cover (agency.py) until the starter arrives
    every post and who holds it: posts.py; absence and pay: absence.py and payroll.py

The parts share one Posts object (the establishment and FTE totals) and reach the workforce only
through the callbacks they are given (join, resign, a starter's arrival).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.config import CONTRACTS, ROLES, StaffGroup
from sim.config import Workforce as WorkforceParams
from sim.engine.clock import DAYS_PER_MONTH, DAYS_PER_WEEK
from sim.model.absence import Absence
from sim.model.agency import AgencyCover
from sim.model.component import Component
from sim.model.payroll import Payroll, Spell
from sim.model.posts import Posts
from sim.model.pressure import Pressure
from sim.model.recruitment import Recruitment
from sim.model.staff import StaffMember, Task

if TYPE_CHECKING:
    import simpy

    from sim.config import Policy
    from sim.engine.randomness import Streams
    from sim.model.levers import Levers
    from sim.model.metrics import MonthlyMetrics
    from sim.model.teams import Team


class Workforce(Component):
    def __init__(
        self,
        env: simpy.Environment,
        levers: Levers,
        metrics: MonthlyMetrics,
        streams: Streams,
        teams: dict[str, Team],
        staff: list[StaffMember],
        policy: Policy,
        next_seq: Callable[[], int],
    ):
        self.env = env
        self.levers = levers
        self.metrics = metrics
        self.teams = teams  # the model's, by name: a merge replaces entries in it
        self.staff = staff  # everyone in post, in the order they joined
        self._priority = policy.priority
        self._next_seq = next_seq
        self._leaving = streams.generator("workforce.leaving")
        self._notice = streams.generator("workforce.notice")
        # how a new hire of each team is employed (None for a merged team whose first team had no
        # staff group: its hires get the default terms)
        self.templates: dict[str, StaffGroup | None] = {}
        self.posts = Posts(teams)
        self.payroll = Payroll(env, levers)
        self.absence = Absence(env, levers, streams.generator("workforce.sickness"), self.payroll, self._after)
        self.pressure = Pressure(env, levers, self._after, self.resign)
        self.recruitment = Recruitment(
            env, levers, metrics, self.payroll, self.posts, streams.generator("workforce.recruitment"),
            self._after, self._starter_arrives,
        )  # fmt: skip
        self.agency = AgencyCover(
            env, levers, metrics, self.payroll, self.posts, self.recruitment,
            streams.generator("workforce.conversion"), self._after, self.join, self.resign,
        )  # fmt: skip
        self._next_ident = 0

    @property
    def params(self) -> WorkforceParams:
        """Read when used, from the levers: a dated action may change any of them."""
        return self.levers.workforce

    # --- set-up ---------------------------------------------------------------------------------

    def start(self, groups: list[StaffGroup]) -> None:
        """Put the staff in post at the start; establishment defaults to them."""
        for group in groups:
            self.templates.setdefault(group.team, group)
            for _ in range(group.count):
                self.join(group.team, group.fte, group.contract, starter=False, template=group)
        for name in self.teams:
            in_post = sum(m.fte for m in self.teams[name].members)
            self.posts.establishment[name] = self.params.establishment_fte.get(name, in_post)

    def team(self, name: str) -> Team:
        return self.posts.team(name)

    # --- joining and leaving --------------------------------------------------------------------

    def join(
        self, team_name: str, fte: float, contract: str, starter: bool, template: StaffGroup | None = None
    ) -> StaffMember:
        team = self.team(team_name)
        template = template or self.templates.get(team.name) or StaffGroup(role=team.role, team=team.name, count=1)
        member = StaffMember(
            self.env, self._next_ident, team.role, team.name, contract, fte,
            template.hours_per_week, template.casework_share, self._priority, self.levers,
        )  # fmt: skip
        self._next_ident += 1
        member.available_share = 1.0 - self.absence.leave_share()
        member.hazard_left = self._leaving.exponential()
        member.cost_since = self.env.now
        member.sick_since = math.nan
        new = self.params.new_starters
        if starter and contract == "permanent":
            if new.ramp_months > 0 and new.ramp_productivity < 1:
                member.ramp = new.ramp_productivity
                self._after(new.ramp_months * DAYS_PER_MONTH, self._end_ramp, member)
            if new.protected_months > 0 and new.protected_caseload_share < 1:
                member.cap_share = new.protected_caseload_share
                self._after(new.protected_months * DAYS_PER_MONTH, self._end_protection, member)
        member.update_rate()
        self.pressure.joined(member)
        self.payroll.open(member)
        self.staff.append(member)
        self.posts.count(member, team.name, +1, staying=True)
        team.add_member(member)
        if starter:
            self.metrics.count(f"starters_fte.{member.role}.{contract}", fte)
        self.absence.schedule_sickness(member)
        return member

    def _end_ramp(self, member: StaffMember) -> None:
        member.ramp = 1.0
        member.update_rate()

    def _end_protection(self, member: StaffMember) -> None:
        member.cap_share = 1.0
        self.team(member.team).fill_all()

    def _starter_arrives(self, name: str, fte: float) -> None:
        self.join(name, fte, "permanent", starter=True)
        self.agency.release_excess(name)

    def resign(self, member: StaffMember, reason: str) -> None:
        """Notice is given (or a placement is ended): the person works the notice, then leaves."""
        if member.resigned or member.gone:
            return
        member.resigned = True
        self.posts.count(member, member.team, -1, staying=True, in_post=False)
        dist = self.params.permanent_notice_weeks if member.contract == "permanent" else self.params.agency_notice_weeks
        notice = dist.sample(self._notice, 1)[0] * DAYS_PER_WEEK
        self._after(notice, self.leave, member, reason)
        self.recruitment.recruit(member.team)

    def leave(self, member: StaffMember, reason: str) -> None:
        team = self.team(member.team)
        self.payroll.accrue(member)
        self.payroll.close(member, reason)
        member.gone = True
        self.posts.count(member, team.name, -1, staying=False)
        self.staff.remove(member)
        tasks = member.drain()
        items = team.remove_member(member)
        self.metrics.count(f"leavers_fte.{member.role}.{member.contract}", member.fte)
        if reason == "resigned":
            self.metrics.count(f"resignations_fte.{member.role}.{member.contract}", member.fte)
        # Cases go back to the team: to colleagues with room, otherwise to the unallocated pool.
        handover = self.params.handover_hours_per_item
        for item in items:
            team.allocate(item)
            if handover > 0:
                team.give(item, Task(item, handover, item.deadline, _handed_over, self._next_seq()))
        for task in tasks:
            team.give(task.item, task)
        self.recruitment.recruit(team.name)
        self.agency.cover(team.name)

    # --- the monthly round ------------------------------------------------------------------------

    def month_start(self, length_days: float) -> None:
        """Pressure and leaving hazards for the month ahead; conversions; recruitment and cover."""
        self.pressure.month_start(self.staff, length_days)
        self.agency.convert(self.staff)
        for name in list(self.teams):
            self.recruitment.recruit(name)
            self.agency.cover(name)

    # --- what dated actions change --------------------------------------------------------------

    def set_establishment(self, name: str, fte: float) -> None:
        team = self.team(name)
        self.posts.establishment[team.name] = fte
        self.recruitment.recruit(team.name)
        self.agency.cover(team.name)
        self.agency.release_excess(team.name)

    def cohort(self, name: str, count: int, fte: float, contract: str) -> None:
        for _ in range(count):
            self.join(name, fte, contract, starter=True)
        if contract == "permanent":
            self.agency.release_excess(name)

    def teams_merged(self, old: list[Team], merged: Team) -> None:
        """Teams merge: sum their establishment, recruitment and pressure references."""
        names, into = [team.name for team in old], merged.name
        self.pressure.merge(names, into, {n: self.posts.establishment[n] for n in names})
        self.templates.setdefault(into, self.templates.get(names[0]))
        self.posts.merge(names, into)
        self.recruitment.merge(names, into)
        self.agency.merge(names, into)

    # --- history and the month's figures -------------------------------------------------------

    @property
    def spells(self) -> list[Spell]:
        return self.payroll.spells

    def run_end(self) -> None:
        """At the end of the run, close the spells of everyone still in post."""
        for member in self.staff:
            self.payroll.close(member, "in post at the end")

    def month_end(self, length_days: float) -> None:
        m = self.metrics
        ledger = self.payroll.month_end(self.staff)
        m.set("cost_permanent_staff", ledger.cost["permanent"])
        m.set("cost_agency_staff", ledger.cost["agency"])
        m.set("cost_recruitment", ledger.cost["recruitment"])
        m.set("cost_total", sum(ledger.cost.values()))
        leave_share = self.absence.leave_share()
        for role in ROLES:
            staff = [x for x in self.staff if x.role == role]
            fte = {c: sum(x.fte for x in staff if x.contract == c) for c in CONTRACTS}
            for contract in CONTRACTS:
                m.set(f"fte_in_post.{role}.{contract}", fte[contract])
            total = sum(fte.values())
            m.set(f"agency_share.{role}", fte["agency"] / total if total else math.nan)
            m.set(f"sickness_absence_fte.{role}", ledger.sick_fte_days[role] / length_days)
            m.set(f"annual_leave_fte.{role}", total * leave_share)
            m.set(f"agency_cap_fte.{role}", self.params.roles[role].agency_cap_fte)
        for name in self.teams:
            m.set(f"establishment_fte.{name}", self.posts.establishment[name])
            m.set(f"vacancies_fte.{name}", max(0.0, self.posts.vacant_fte(name)))
            m.set(f"recruitment_pipeline_fte.{name}", self.recruitment.pipeline[name])

    # --- plumbing -------------------------------------------------------------------------------

    def _after(self, delay: float, callback, *args) -> None:
        self.env.timeout(max(0.0, delay)).callbacks.append(lambda _e: callback(*args))


def _handed_over(task: Task) -> None:
    """Reading a colleague's case file: time spent, nothing decided."""
