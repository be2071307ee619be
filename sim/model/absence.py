"""Absence: sickness spells and annual leave, the share of a person's time at work.

Leave is a share of every working day (the entitlement spread over the year); sickness comes in
spells, each person's own, drawn at a rate while they are well, whose time is booked as absence.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.engine.clock import DAYS_PER_YEAR

if TYPE_CHECKING:
    import numpy as np
    import simpy

    from sim.model.levers import Levers
    from sim.model.payroll import Payroll
    from sim.model.staff import StaffMember

WORKING_DAYS_PER_YEAR = 261.0


class Absence:
    def __init__(
        self,
        env: simpy.Environment,
        levers: Levers,
        sickness: np.random.Generator,
        payroll: Payroll,
        after: Callable[..., Any],
    ):
        self.env = env
        self.levers = levers
        self._sickness = sickness
        self._payroll = payroll
        self._after = after

    def leave_share(self) -> float:
        """The share of working days on annual leave."""
        return self.levers.workforce.absence.annual_leave_days_per_year / WORKING_DAYS_PER_YEAR

    def leave_changed(self, staff: list[StaffMember]) -> None:
        """Annual leave entitlement changed: everyone's pace changes from today."""
        share = 1.0 - self.leave_share()
        for member in staff:
            member.available_share = share
            member.update_rate()

    def schedule_sickness(self, member: StaffMember) -> None:
        rate = self.levers.workforce.absence.sickness_spells_per_year
        if rate > 0:
            self._after(self._sickness.exponential(DAYS_PER_YEAR / rate), self._fall_sick, member)

    def _fall_sick(self, member: StaffMember) -> None:
        if member.gone:
            return
        member.absent = True
        member.sick_since = self.env.now
        member.update_rate()
        working_days = self.levers.workforce.absence.sickness_spell_working_days.sample(self._sickness, 1)[0]
        self._after(working_days * 7 / 5, self._recover, member)

    def _recover(self, member: StaffMember) -> None:
        if member.gone:
            return
        self._payroll.accrue(member)
        member.absent = False
        member.sick_since = math.nan
        member.update_rate()
        self.schedule_sickness(member)
