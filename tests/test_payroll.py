"""Payroll: pay is booked to the day, whatever the events in between, and the month's ledger starts
afresh; a spell records the contract a person held and why it ended."""

from __future__ import annotations

import pytest
import simpy

from sim.config import load_config
from sim.engine.clock import DAYS_PER_YEAR
from sim.model.levers import Levers
from sim.model.payroll import Payroll


class _Member:
    def __init__(self, ident: int, contract: str):
        self.ident, self.role, self.team, self.contract = ident, "caseworker", "review", contract
        self.fte, self.hours_per_week = 0.8, 37.0
        self.cost_since, self.absent, self.sick_since = 0.0, False, float("nan")


@pytest.fixture
def payroll():
    env = simpy.Environment()
    config = load_config("configs/example.yaml")
    return env, Payroll(env, Levers(None, config, {})), config.workforce.roles["caseworker"]  # type: ignore[arg-type]


def test_pay_is_booked_to_the_day_however_often_it_is_booked(payroll):
    env, pay, terms = payroll
    permanent, agency = _Member(1, "permanent"), _Member(2, "agency")
    for day in (3.25, 10.0, 30.5):  # bookings part way through change nothing but when it is booked
        env.run(until=day)
        pay.accrue(permanent)
    env.run(until=31.0)
    month = pay.month_end([permanent, agency])
    assert month.cost["permanent"] == pytest.approx(
        0.8 * terms.salary_per_year * (1 + terms.on_cost_share) / DAYS_PER_YEAR * 31
    )
    assert month.cost["agency"] == pytest.approx(0.8 * 37.0 * terms.agency_hourly_rate / 7.0 * 31)
    assert pay.ledger.cost == {"permanent": 0.0, "agency": 0.0, "recruitment": 0.0}  # the next month's


def test_a_spell_closes_with_its_reason_and_a_conversion_opens_a_permanent_one(payroll):
    env, pay, _ = payroll
    member = _Member(7, "agency")
    pay.open(member)
    env.run(until=40.0)
    pay.close(member, "converted")
    member.contract = "permanent"
    pay.open(member)
    env.run(until=55.0)
    pay.close(member, "resigned")
    assert [(s.contract, s.start_day, s.end_day, s.ended_by) for s in pay.spells] == [
        ("agency", 0.0, 40.0, "converted"),
        ("permanent", 40.0, 55.0, "resigned"),
    ]
    with pytest.raises(KeyError):
        pay.close(member, "twice")
