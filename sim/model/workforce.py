"""The workforce: people joining and leaving, vacancies, recruitment, agency cover (absence and pay
are its parts in absence.py and payroll.py).

    establishment ─ vacancy ─ campaign (weeks; fills or fails, re-advertised) ─ accepted
                  ─ the starter's notice ─ joins (ramp-up, protected caseload)
    in post ─ leaving hazard (by role and contract, raised by caseload pressure)
            ─ resigns ─ notice ─ leaves: their cases go back to the team, with handover effort
    vacancy not covered ─ after a lag, agency cover up to a cap ─ released when a permanent
            starter arrives; converted to permanent at a monthly rate

Leaving uses each person's own exponential clock: they resign when their cumulative hazard,
which grows month by month at their current rate, passes a draw made when they joined. So a
lever that changes one person's pressure leaves the others' draws alone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.config import CONTRACTS, ROLES, Role, StaffGroup
from sim.config import Workforce as WorkforceParams
from sim.engine.clock import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR
from sim.model.absence import Absence
from sim.model.payroll import Payroll, Spell
from sim.model.staff import StaffMember, Task

if TYPE_CHECKING:
    from sim.model.service import Model
    from sim.model.teams import Team


@dataclass
class Vacancy:
    """One post being recruited to, from its first campaign to its starter's first day."""

    team: str
    fte: float
    opened_day: float
    campaigns: int = 0
    accepted_day: float = math.nan
    started_day: float = math.nan
    withdrawn: bool = False


class Workforce:
    def __init__(self, model: Model):
        self.model = model
        self.env = model.env
        self.levers = model.levers
        params = self.params
        self.metrics = model.metrics
        streams = model.streams
        self._leaving = streams.generator("workforce.leaving")
        self._notice = streams.generator("workforce.notice")
        self._recruitment = streams.generator("workforce.recruitment")
        self._conversion = streams.generator("workforce.conversion")
        self.establishment: dict[str, float] = {}
        self.pipeline: dict[str, float] = {}  # FTE in campaigns or accepted, not yet started
        self.agency_pending: dict[str, float] = {}  # FTE of agency cover arranged, not yet started
        self.references = dict(params.pressure.reference_caseload_per_fte)
        # how a new hire of each team is employed (None for a merged team whose first team had no
        # staff group: its hires get the default terms)
        self.templates: dict[str, StaffGroup | None] = {}
        self.renamed: dict[str, str] = {}  # merged teams: old name -> new
        self.vacancies: list[Vacancy] = []
        self.payroll = Payroll(self.env, self.levers)
        self.absence = Absence(
            self.env, self.levers, streams.generator("workforce.sickness"), self.payroll, self._after
        )
        self._next_ident = 0
        # running FTE totals, so no check of a vacancy scans a team: (team, contract, staying only)
        self._fte: dict[tuple[str, str, bool], float] = defaultdict(float)
        self._agency_staying_fte: dict[str, float] = defaultdict(float)  # by role
        self._exposed_until = 0.0

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
        for name in self.model.teams:
            in_post = sum(m.fte for m in self.model.teams[name].members)
            self.establishment[name] = self.params.establishment_fte.get(name, in_post)
            self.pipeline[name] = 0.0
            self.agency_pending[name] = 0.0

    def team(self, name: str) -> Team:
        while name in self.renamed:
            name = self.renamed[name]
        return self.model.teams[name]

    # --- joining and leaving --------------------------------------------------------------------

    def join(
        self, team_name: str, fte: float, contract: str, starter: bool, template: StaffGroup | None = None
    ) -> StaffMember:
        team = self.team(team_name)
        template = template or self.templates.get(team.name) or StaffGroup(role=team.role, team=team.name, count=1)
        member = StaffMember(
            self.env, self._next_ident, team.role, team.name, contract, fte,
            template.hours_per_week, template.casework_share, self.model.config.policy.priority,
            self.levers,
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
        if self._exposed_until > self.env.now:
            self._expose(member, self._exposed_until - self.env.now)
        self.payroll.open(member)
        self.model.staff.append(member)
        self._count(member, team.name, +1, staying=True)
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

    def _resign(self, member: StaffMember, reason: str) -> None:
        """Notice is given (or a placement is ended): the person works the notice, then leaves."""
        if member.resigned or member.gone:
            return
        member.resigned = True
        self._count(member, member.team, -1, staying=True, in_post=False)
        dist = self.params.permanent_notice_weeks if member.contract == "permanent" else self.params.agency_notice_weeks
        notice = dist.sample(self._notice, 1)[0] * DAYS_PER_WEEK
        self._after(notice, self._leave, member, reason)
        self._recruit(member.team)

    def _leave(self, member: StaffMember, reason: str) -> None:
        team = self.team(member.team)
        self.payroll.accrue(member)
        self.payroll.close(member, reason)
        member.gone = True
        self._count(member, team.name, -1, staying=False)
        self.model.staff.remove(member)
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
                team.give(item, Task(item, handover, item.deadline, _handed_over, self.model.next_seq()))
        for task in tasks:
            team.give(task.item, task)
        self._recruit(team.name)
        self._cover(team.name)

    # --- the monthly round ------------------------------------------------------------------------

    def month_start(self, length_days: float) -> None:
        """Pressure and leaving hazards for the month ahead; conversions; recruitment and cover."""
        pressure = self.params.pressure
        self._exposed_until = self.env.now + length_days
        for member in list(self.model.staff):
            if member.resigned:
                continue
            x = self.load_ratio(member)
            if pressure.productivity_strength > 0:
                productivity = max(pressure.min_productivity, 1 - pressure.productivity_strength * max(0.0, x - 1))
                if productivity != member.pressure_productivity:
                    member.pressure_productivity = productivity
                    member.update_rate()
            self._expose(member, length_days)
        self._convert()
        for name in list(self.model.teams):
            self._recruit(name)
            self._cover(name)

    def _expose(self, member: StaffMember, days: float) -> None:
        terms = self.params.roles[member.role]
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
        pressure = self.params.pressure
        if pressure.strength == 0:
            return 1.0
        if pressure.shape == "linear":
            return 1.0 + pressure.strength * max(0.0, x - 1.0)
        return math.exp(pressure.strength * (x - 1.0))

    # --- establishment, recruitment and agency --------------------------------------------------

    def _count(self, member: StaffMember, team: str, sign: int, staying: bool, in_post: bool = True) -> None:
        """Keep the FTE totals: `in_post` for everyone in post, `staying` for those not leaving."""
        if in_post:
            self._fte[(team, member.contract, False)] += sign * member.fte
        if staying:
            self._fte[(team, member.contract, True)] += sign * member.fte
            if member.contract == "agency":
                self._agency_staying_fte[member.role] += sign * member.fte

    def vacant_fte(self, name: str) -> float:
        """Establishment not held by a permanent member of staff in post today."""
        team = self.team(name)
        return self.establishment[team.name] - self._fte[(team.name, "permanent", False)]

    def _unrecruited_fte(self, name: str) -> float:
        """Establishment with no permanent holder staying, and no recruitment under way for it."""
        team = self.team(name)
        staying = self._fte[(team.name, "permanent", True)]
        return self.establishment[team.name] - staying - self.pipeline[team.name]

    def _unpromised_fte(self, name: str) -> float:
        """Establishment with no permanent holder staying, and no starter accepted for it: a post
        being advertised can still go to the agency worker covering it, and its campaign is then
        withdrawn when it ends (`_campaign_ends`)."""
        team = self.team(name)
        accepted = sum(
            v.fte
            for v in self.vacancies
            if v.accepted_day == v.accepted_day
            and v.started_day != v.started_day
            and self.team(v.team).name == team.name
        )
        return self.establishment[team.name] - self._fte[(team.name, "permanent", True)] - accepted

    def set_establishment(self, name: str, fte: float) -> None:
        team = self.team(name)
        self.establishment[team.name] = fte
        self._recruit(team.name)
        self._cover(team.name)
        self._release_excess_agency(team.name)

    def _recruit(self, name: str) -> None:
        recruitment = self.params.recruitment
        if not recruitment.enabled:
            return
        name = self.team(name).name
        gap = self._unrecruited_fte(name)
        while gap >= recruitment.hire_fte / 2:
            fte = min(recruitment.hire_fte, gap)
            vacancy = Vacancy(name, fte, self.env.now)
            self.vacancies.append(vacancy)
            self._campaign(vacancy)
            gap -= fte

    def _campaign(self, vacancy: Vacancy) -> None:
        recruitment = self.params.recruitment
        vacancy.team = self.team(vacancy.team).name
        self.pipeline[vacancy.team] += vacancy.fte
        vacancy.campaigns += 1
        self.metrics.count("campaigns_started")
        self.payroll.book_recruitment(recruitment.cost_per_campaign)
        weeks = recruitment.campaign_weeks.sample(self._recruitment, 1)[0]
        self._after(weeks * DAYS_PER_WEEK, self._campaign_ends, vacancy)

    def _campaign_ends(self, vacancy: Vacancy) -> None:
        recruitment = self.params.recruitment
        name = self.team(vacancy.team).name
        filled = self._recruitment.random() < recruitment.fill_probability
        if self._unrecruited_fte(name) + vacancy.fte < vacancy.fte / 2:
            # a cohort or a conversion filled the post while it was advertised: no offer is made
            self.pipeline[name] -= vacancy.fte
            vacancy.withdrawn = True
            return
        if filled:
            vacancy.accepted_day = self.env.now
            self.metrics.count("hires_accepted")
            notice = recruitment.starter_notice_weeks.sample(self._recruitment, 1)[0] * DAYS_PER_WEEK
            self._after(notice, self._starter_arrives, vacancy)
            return
        self.metrics.count("campaigns_failed")
        # the post stays in the pipeline while it waits to be re-advertised
        self._after(recruitment.readvertise_weeks * DAYS_PER_WEEK, self._readvertise, vacancy)

    def _readvertise(self, vacancy: Vacancy) -> None:
        name = self.team(vacancy.team).name
        self.pipeline[name] -= vacancy.fte
        if self._unrecruited_fte(name) >= vacancy.fte / 2:
            self._campaign(vacancy)
        else:
            vacancy.withdrawn = True  # the post was cut, or filled some other way, meanwhile

    def _starter_arrives(self, vacancy: Vacancy) -> None:
        name = self.team(vacancy.team).name
        self.pipeline[name] -= vacancy.fte
        vacancy.started_day = self.env.now
        self.join(name, vacancy.fte, "permanent", starter=True)
        self._release_excess_agency(name)

    def _cover(self, name: str) -> None:
        """Arrange agency cover for vacant posts, after the lag, within the role's cap."""
        team = self.team(name)
        need = self.vacant_fte(team.name) - self._agency_fte(team.name) - self.agency_pending[team.name]
        room = self._agency_room(team.role)
        while need >= 0.5 and room >= 0.5:
            fte = min(1.0, need, room)
            self.agency_pending[team.name] += fte
            self._after(self.params.agency.cover_lag_weeks * DAYS_PER_WEEK, self._agency_arrives, team.name, fte)
            need -= fte
            room -= fte

    def _agency_fte(self, name: str) -> float:
        """Agency FTE in a team who are staying (not at the end of their placement)."""
        return self._fte[(self.team(name).name, "agency", True)]

    def _agency_staying(self, role: str) -> float:
        return self._agency_staying_fte[role]

    def _agency_room(self, role: Role) -> float:
        """How much more agency cover the role's cap allows, counting cover already arranged."""
        pending = sum(fte for name, fte in self.agency_pending.items() if self.team(name).role == role)
        return self.params.roles[role].agency_cap_fte - self._agency_staying(role) - pending

    def _agency_arrives(self, name: str, fte: float) -> None:
        team = self.team(name)
        self.agency_pending[team.name] = max(0.0, self.agency_pending[team.name] - fte)
        need = self.vacant_fte(team.name) - self._agency_fte(team.name)
        fte = min(fte, need, self._agency_room(team.role))
        if fte >= 0.25:
            self.join(team.name, fte, "agency", starter=True)

    def _release_excess_agency(self, name: str) -> None:
        """End agency placements no vacancy needs any more, or that the cap no longer allows."""
        team = self.team(name)
        excess = max(
            self._agency_fte(team.name) - max(0.0, self.vacant_fte(team.name)),
            self._agency_staying(team.role) - self.params.roles[team.role].agency_cap_fte,
        )
        for member in reversed(team.members):  # the most recently engaged go first
            if excess <= 1e-9:
                break
            if member.contract == "agency" and not member.resigned:
                self._resign(member, "placement ended")
                excess -= member.fte

    def agency_cap_changed(self, role: str) -> None:
        for name, team in list(self.model.teams.items()):
            if team.role == role:
                self._release_excess_agency(name)
                self._cover(name)

    def _convert(self) -> None:
        """Agency workers take the permanent post they cover, at the conversion rate."""
        rate = self.params.agency.conversion_rate_per_month
        if rate <= 0:
            return
        for member in list(self.model.staff):
            if member.contract != "agency" or member.resigned:
                continue
            if self._conversion.random() < rate and self._unpromised_fte(member.team) >= member.fte / 2:
                self.payroll.accrue(member)
                self.payroll.close(member, "converted")
                self._count(member, member.team, -1, staying=True)
                member.contract = "permanent"
                self._count(member, member.team, +1, staying=True)
                self.payroll.open(member)
                self.metrics.count(f"conversions_fte.{member.role}", member.fte)

    def cohort(self, name: str, count: int, fte: float, contract: str) -> None:
        for _ in range(count):
            self.join(name, fte, contract, starter=True)
        if contract == "permanent":
            self._release_excess_agency(name)

    def merge(self, names: list[str], into: str) -> None:
        """Teams merge: sum their establishment, recruitment and pressure references."""
        weights = {n: self.establishment[n] for n in names}
        refs = [self.references[n] for n in names if n in self.references]
        if into not in self.references and len(refs) == len(names):
            total = sum(weights.values())
            self.references[into] = (
                sum(self.references[n] * w for n, w in weights.items()) / total if total else sum(refs) / len(refs)
            )
        self.templates.setdefault(into, self.templates.get(names[0]))
        for table in (self.establishment, self.pipeline, self.agency_pending):
            table[into] = sum(table.pop(n) for n in names)
        for contract in ("permanent", "agency"):
            for staying in (False, True):
                self._fte[(into, contract, staying)] = sum(self._fte.pop((n, contract, staying), 0.0) for n in names)
        for n in names:
            if n != into:
                self.renamed[n] = into

    # --- history and the month's figures -------------------------------------------------------

    @property
    def spells(self) -> list[Spell]:
        return self.payroll.spells

    def close_history(self) -> None:
        """At the end of the run, close the spells of everyone still in post."""
        for member in self.model.staff:
            self.payroll.close(member, "in post at the end")

    def snapshot(self, days_in_month: float) -> None:
        m = self.metrics
        ledger = self.payroll.month_end(self.model.staff)
        m.set("cost_permanent_staff", ledger.cost["permanent"])
        m.set("cost_agency_staff", ledger.cost["agency"])
        m.set("cost_recruitment", ledger.cost["recruitment"])
        m.set("cost_total", sum(ledger.cost.values()))
        leave_share = self.absence.leave_share()
        for role in ROLES:
            staff = [x for x in self.model.staff if x.role == role]
            fte = {c: sum(x.fte for x in staff if x.contract == c) for c in CONTRACTS}
            for contract in CONTRACTS:
                m.set(f"fte_in_post.{role}.{contract}", fte[contract])
            total = sum(fte.values())
            m.set(f"agency_share.{role}", fte["agency"] / total if total else math.nan)
            m.set(f"sickness_absence_fte.{role}", ledger.sick_fte_days[role] / days_in_month)
            m.set(f"annual_leave_fte.{role}", total * leave_share)
            m.set(f"agency_cap_fte.{role}", self.params.roles[role].agency_cap_fte)
        for name in self.model.teams:
            m.set(f"establishment_fte.{name}", self.establishment[name])
            m.set(f"vacancies_fte.{name}", max(0.0, self.vacant_fte(name)))
            m.set(f"recruitment_pipeline_fte.{name}", self.pipeline[name])

    # --- plumbing -------------------------------------------------------------------------------

    def _after(self, delay: float, callback, *args) -> None:
        self.env.timeout(max(0.0, delay)).callbacks.append(lambda _e: callback(*args))


def _handed_over(task: Task) -> None:
    """Reading a colleague's case file: time spent, nothing decided."""
