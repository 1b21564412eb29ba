"""A work's figures (works/progress.py): percent done from weighted milestones, lateness, the
next date due, and the money committed and spent against the voted cost."""

from __future__ import annotations

from datetime import date

from opdigital.works.progress import Step, is_late, money, progress

TODAY = date(2026, 6, 15)
PAST, FUTURE = date(2026, 6, 1), date(2026, 7, 1)


def test_no_milestones_is_nothing_done_and_nothing_late():
    p = progress([], TODAY, "in_works")
    assert (p.percent, p.done, p.total, p.late, p.next_due) == (0, 0, 0, False, None)


def test_a_done_work_without_milestones_is_complete():
    assert progress([], TODAY, "done").percent == 100


def test_all_milestones_done():
    steps = [Step(PAST, PAST, 3), Step(FUTURE, TODAY, 1)]
    p = progress(steps, TODAY, "in_works")
    assert (p.percent, p.done, p.total, p.late, p.next_due) == (100, 2, 2, False, None)


def test_weights_decide_the_percent_rounded_down():
    steps = [Step(PAST, PAST, 1), Step(FUTURE, None, 2)]
    assert progress(steps, TODAY).percent == 33  # 1/3, never rounded up
    steps = [Step(PAST, PAST, 99), Step(FUTURE, None, 1)]
    assert progress(steps, TODAY).percent == 99  # not 100 while a step is open


def test_a_milestone_past_its_date_and_not_done_makes_the_work_late():
    steps = [Step(PAST, None), Step(FUTURE, None)]
    p = progress(steps, TODAY, "in_works")
    assert p.late and p.next_due == PAST
    assert is_late(steps[0], TODAY, "in_works") and not is_late(steps[1], TODAY, "in_works")


def test_planned_for_today_is_not_late_yet():
    assert not progress([Step(TODAY, None)], TODAY).late


def test_done_late_is_not_late():
    assert not progress([Step(PAST, TODAY)], TODAY).late


def test_a_done_work_is_complete_and_never_late():
    p = progress([Step(PAST, None, 5), Step(PAST, PAST, 1)], TODAY, "done")
    assert (p.percent, p.late, p.next_due) == (100, False, None)
    assert p.done == 1 and p.total == 2  # the milestones themselves are told as they are


def test_a_cancelled_work_keeps_its_percent_and_is_not_late():
    p = progress([Step(PAST, PAST, 1), Step(PAST, None, 1)], TODAY, "cancelled")
    assert (p.percent, p.late, p.next_due) == (50, False, None)
    assert not is_late(Step(PAST, None), TODAY, "cancelled")


def test_money_against_the_voted_cost():
    m = money(1_000_000_00, 400_000_00, 250_000_00)
    assert (m.committed_percent, m.spent_percent, m.over_budget) == (40, 25, False)


def test_money_not_reported_has_no_percent():
    m = money(1_000_000_00, None, None)
    assert (m.committed_percent, m.spent_percent, m.over_budget) == (None, None, False)


def test_money_over_budget():
    assert money(100_00, 150_00, None).over_budget
    assert money(100_00, 100_00, 120_00).over_budget
    assert not money(100_00, 100_00, 100_00).over_budget
    assert money(100_00, 150_00, None).committed_percent == 150
