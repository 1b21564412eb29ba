"""How far a work has come: percent done from its milestones, lateness, and the money figures
against the voted cost. Pure (no Flask, no database): the work's page, the "Obras do OP" list,
its per-region summary, the API and the feeds all take their figures from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# Execution statuses (proposals.models.ExecutionStatus values) that settle a work.
DONE = "done"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Step:
    """What progress needs of a milestone."""

    planned_on: date
    done_on: date | None
    weight: int = 1


@dataclass(frozen=True)
class Progress:
    percent: int  # 0-100: the weighted share of milestones done (100 once the work is done)
    done: int  # milestones done
    total: int  # milestones planned
    late: bool  # a milestone is past its planned date and not done (never for settled works)
    next_due: date | None  # the earliest planned date of a milestone not done


def is_late(step: Step, today: date, status: str | None = None) -> bool:
    """True when this milestone is past its planned date and not done, in a work not settled
    (a done or cancelled work has nothing late: what is left will not be done)."""
    return status not in (DONE, CANCELLED) and step.done_on is None and step.planned_on < today


def progress(steps: Iterable[Step], today: date, status: str | None = None) -> Progress:
    """The progress of a work with these milestones on `today`, given its execution status."""
    steps = list(steps)
    pending = [s for s in steps if s.done_on is None]
    total_weight = sum(s.weight for s in steps)
    done_weight = total_weight - sum(s.weight for s in pending)
    if status == DONE:
        percent = 100
    elif total_weight:
        # Rounded down: a work is never shown as 100% while a milestone is still open.
        percent = done_weight * 100 // total_weight
    else:
        percent = 0
    settled = status in (DONE, CANCELLED)
    return Progress(
        percent=percent,
        done=len(steps) - len(pending),
        total=len(steps),
        late=any(is_late(s, today, status) for s in pending),
        next_due=min((s.planned_on for s in pending), default=None) if not settled else None,
    )


@dataclass(frozen=True)
class Money:
    voted_cents: int  # the cost on the ballot (reviewed, else estimated)
    committed_cents: int | None  # empenhado: None while not reported
    spent_cents: int | None  # pago
    committed_percent: int | None  # of the voted cost, rounded down
    spent_percent: int | None
    over_budget: bool  # committed or spent beyond the voted cost


def money(voted_cents: int, committed_cents: int | None, spent_cents: int | None) -> Money:
    def share(part: int | None) -> int | None:
        return None if part is None or voted_cents <= 0 else part * 100 // voted_cents

    over = any(x is not None and x > voted_cents for x in (committed_cents, spent_cents))
    return Money(
        voted_cents=voted_cents,
        committed_cents=committed_cents,
        spent_cents=spent_cents,
        committed_percent=share(committed_cents),
        spent_percent=share(spent_cents),
        over_budget=over,
    )
