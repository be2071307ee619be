"""Recruitment to vacant posts.

    establishment ─ vacancy ─ campaign (weeks; fills or fails, re-advertised) ─ accepted
                  ─ the starter's notice ─ joins (ramp-up, protected caseload: workforce.py)

A post whose gap a cohort or a conversion closes while it is advertised is withdrawn when its
campaign ends: no offer is made.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.engine.clock import DAYS_PER_WEEK

if TYPE_CHECKING:
    import numpy as np
    import simpy

    from sim.model.levers import Levers
    from sim.model.metrics import MonthlyMetrics
    from sim.model.payroll import Payroll
    from sim.model.posts import Posts


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


class Recruitment:
    def __init__(
        self,
        env: simpy.Environment,
        levers: Levers,
        metrics: MonthlyMetrics,
        payroll: Payroll,
        posts: Posts,
        rng: np.random.Generator,
        after: Callable[..., Any],
        starter_arrives: Callable[[str, float], None],
    ):
        self.env = env
        self.levers = levers
        self.metrics = metrics
        self._payroll = payroll
        self._posts = posts
        self._rng = rng
        self._after = after
        self._starter_arrives = starter_arrives
        # FTE in campaigns or accepted, not yet started, by team
        self.pipeline: dict[str, float] = dict.fromkeys(posts.teams, 0.0)
        self.vacancies: list[Vacancy] = []

    def unrecruited_fte(self, name: str) -> float:
        """Establishment with no permanent holder staying, and no recruitment under way for it."""
        team = self._posts.team(name).name
        return self._posts.establishment[team] - self._posts.staying_fte(team, "permanent") - self.pipeline[team]

    def unpromised_fte(self, name: str) -> float:
        """Establishment with no permanent holder staying, and no starter accepted for it: a post
        being advertised can still go to the agency worker covering it, and its campaign is then
        withdrawn when it ends."""
        team = self._posts.team(name).name
        accepted = sum(
            v.fte
            for v in self.vacancies
            if v.accepted_day == v.accepted_day
            and v.started_day != v.started_day
            and self._posts.team(v.team).name == team
        )
        return self._posts.establishment[team] - self._posts.staying_fte(team, "permanent") - accepted

    def recruit(self, name: str) -> None:
        """Advertise the team's posts that no one holds or is being recruited to."""
        recruitment = self.levers.workforce.recruitment
        if not recruitment.enabled:
            return
        name = self._posts.team(name).name
        gap = self.unrecruited_fte(name)
        while gap >= recruitment.hire_fte / 2:
            fte = min(recruitment.hire_fte, gap)
            vacancy = Vacancy(name, fte, self.env.now)
            self.vacancies.append(vacancy)
            self._campaign(vacancy)
            gap -= fte

    def _campaign(self, vacancy: Vacancy) -> None:
        recruitment = self.levers.workforce.recruitment
        vacancy.team = self._posts.team(vacancy.team).name
        self.pipeline[vacancy.team] += vacancy.fte
        vacancy.campaigns += 1
        self.metrics.count("campaigns_started")
        self._payroll.book_recruitment(recruitment.cost_per_campaign)
        weeks = recruitment.campaign_weeks.sample(self._rng, 1)[0]
        self._after(weeks * DAYS_PER_WEEK, self._campaign_ends, vacancy)

    def _campaign_ends(self, vacancy: Vacancy) -> None:
        recruitment = self.levers.workforce.recruitment
        name = self._posts.team(vacancy.team).name
        filled = self._rng.random() < recruitment.fill_probability
        if self.unrecruited_fte(name) + vacancy.fte < vacancy.fte / 2:
            # a cohort or a conversion filled the post while it was advertised: no offer is made
            self.pipeline[name] -= vacancy.fte
            self._withdraw(vacancy)
            return
        if filled:
            vacancy.accepted_day = self.env.now
            self.metrics.count("hires_accepted")
            notice = recruitment.starter_notice_weeks.sample(self._rng, 1)[0] * DAYS_PER_WEEK
            self._after(notice, self._starts, vacancy)
            return
        self.metrics.count("campaigns_failed")
        # the post stays in the pipeline while it waits to be re-advertised
        self._after(recruitment.readvertise_weeks * DAYS_PER_WEEK, self._readvertise, vacancy)

    def _readvertise(self, vacancy: Vacancy) -> None:
        name = self._posts.team(vacancy.team).name
        self.pipeline[name] -= vacancy.fte
        if self.unrecruited_fte(name) >= vacancy.fte / 2:
            self._campaign(vacancy)
        else:
            self._withdraw(vacancy)  # the post was cut, or filled some other way, meanwhile

    def _withdraw(self, vacancy: Vacancy) -> None:
        vacancy.withdrawn = True
        self.metrics.count("vacancies_withdrawn")

    def _starts(self, vacancy: Vacancy) -> None:
        name = self._posts.team(vacancy.team).name
        self.pipeline[name] -= vacancy.fte
        vacancy.started_day = self.env.now
        self._starter_arrives(name, vacancy.fte)

    def merge(self, names: list[str], into: str) -> None:
        self.pipeline[into] = sum(self.pipeline.pop(n) for n in names)
