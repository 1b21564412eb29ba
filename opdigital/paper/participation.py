"""The paper list: a voter who votes on paper signs it, and the poll worker records their
participation, so the same citizen cannot also vote online (or on paper twice).

One INSERT of a participation row, flagged `on_paper`, at the poll worker's point, with the
region the roll gives the voter: the same primary key (cycle, voter key) as every online vote,
so whichever comes second is refused as "already voted". No ballot is written here: the sheet
the voter fills is entered later with its batch, and nothing links the two.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from opdigital.clock import CITY_TZ, now
from opdigital.cycles.models import Cycle
from opdigital.errors import AlreadyVoted, Conflict, NotFound, VotingClosed
from opdigital.extensions import db
from opdigital.paper.services import NotAllowed, is_bound_to, share_lock_cycle
from opdigital.polling.services import point_is_open
from opdigital.registry.credentials import EligibleVoter
from opdigital.voting.models import Channel, Participation, TurnoutCount, VotingPoint
from opdigital.voting.services import ensure_voting_open, turnout_shard, voting_window


def ensure_may_record(actor: Any, cycle: Cycle, voting_point_id: int) -> None:
    """Only a poll worker of the point, in their cycle, keeps its paper list, and only while
    the vote is open and the point too."""
    if not is_bound_to(actor, cycle.id, voting_point_id):
        raise NotAllowed(_l("Only the poll workers of this voting point keep its paper list."))
    ensure_voting_open(cycle)
    if not point_is_open(voting_point_id, cycle.id):
        raise Conflict(
            _l("This voting point is closed: open it before recording votes."),
            code="point_closed",
        )


def record_paper_participation(
    cycle: Cycle, voting_point_id: int, voter: EligibleVoter, actor: Any
) -> None:
    """Record that `voter` voted on paper at the point (AlreadyVoted, 409, if they voted in this
    cycle already, online or on paper). Who recorded it is not kept, nor the time: like every
    participation, only the day."""
    ensure_may_record(actor, cycle, voting_point_id)
    if db.session.get(VotingPoint, voting_point_id) is None:
        raise NotFound(_l("No such voting point."))
    moment = now()
    try:
        # The vote cannot close under us: the close locks the cycle row for update (casts share
        # an advisory lock instead: `voting.services.hold_casts`), so it waits for this one.
        state = share_lock_cycle(cycle)
        if state != "voting" or not voting_window(cycle, moment).is_open:
            raise VotingClosed(_l("Voting is not open in this cycle now."))
        db.session.execute(
            sa.insert(Participation).values(
                cycle_id=cycle.id,
                voter_key=voter.voter_key,
                voted_on=moment.astimezone(CITY_TZ).date(),
                region_id=voter.region_id,
                voting_point_id=voting_point_id,
                assisted=False,
                on_paper=True,
                channel=Channel.PAPER.value,
            )
        )
        _count_turnout(cycle.id, moment)
        db.session.commit()
    except IntegrityError as e:
        db.session.rollback()
        raise AlreadyVoted(
            _l("This voter has already voted in this cycle (online or on paper).")
        ) from e
    except BaseException:
        db.session.rollback()
        raise


def _count_turnout(cycle_id: int, moment) -> None:
    """One vote more in the hour's turnout, as a cast counts it."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(TurnoutCount).values(
        cycle_id=cycle_id,
        hour=moment.replace(minute=0, second=0, microsecond=0),
        shard=turnout_shard(),
        votes=1,
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["cycle_id", "hour", "shard"],
            set_={"votes": TurnoutCount.votes + 1},
        )
    )


def paper_participations(cycle_id: int, voting_point_id: int) -> int:
    """How many voters signed the point's paper list in the cycle."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Participation)
        .where(
            Participation.cycle_id == cycle_id,
            Participation.voting_point_id == voting_point_id,
            Participation.on_paper.is_(True),
        )
    )
