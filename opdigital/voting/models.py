"""Who voted and what was voted: two tables that nothing links (docs/security.md, "Ballot secrecy").

`participation` knows the voter (by keyed hash) but not the ballot; `ballot` knows the choices
but not the voter. Both rows are written in one transaction. Participation has no serial id and
no time finer than the day, so neither its order nor its clock can be matched with the ballots.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opdigital.clock import now
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db


class Channel(StrEnum):
    """How a vote reached the board, as the turnout screen counts it (never what was voted).

    A kiosk's or a poll worker's vote is a web vote at a voting point (`voting_point_id`)."""

    WEB = "web"
    API = "api"
    PAPER = "paper"
    VOICE = "voice"  # the toll-free line, keyed in (opdigital/phone)
    TEXT = "text"  # SMS or a messaging app (opdigital/phone)


CHANNELS: tuple[str, ...] = tuple(c.value for c in Channel)


# The cast's rows (participation, ballot, turnout_count) name their cycle, and participation its
# region, without a foreign key: each key check would lock the one cycle row (or a region's) for
# every cast, and concurrent lockers of one row cost PostgreSQL a MultiXact and a WAL record each
# (migration 0017). The cast takes its cycle from the cycle row itself (`cast_gate`), its region
# from the roll, whose writes are checked against `region` (migration 0019); paper votes take
# theirs under a share lock on the cycle row. On PostgreSQL a trigger refuses to delete or
# renumber a cycle or a region that votes refer to (the app never deletes either).


class Participation(db.Model):
    """This voter has voted in this cycle. The primary key is the one-vote-per-citizen rule."""

    __tablename__ = "participation"

    cycle_id: Mapped[int] = mapped_column(primary_key=True)  # no foreign key: see above
    voter_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    voted_on: Mapped[date] = mapped_column(sa.Date)
    # For turnout by region and by public voting point; neither says anything about the choices.
    region_id: Mapped[int | None] = mapped_column()  # a region's id, no foreign key: see above
    voting_point_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voting_point.id"))
    # A poll worker identified the voter from a document (who assisted is never recorded).
    assisted: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    # The voter signed the point's paper list: their ballot is a sheet, entered with its batch.
    on_paper: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    # A `Channel`: counted per channel on the turnout screen. Votes cast before migration 0014
    # are "web" (or "paper"): the API's were not told apart then.
    channel: Mapped[str] = mapped_column(
        sa.String(8), default=Channel.WEB.value, server_default=Channel.WEB.value
    )


class Ballot(db.Model):
    """An accepted ballot waiting to be sealed onto the board: the choices and the hash of the
    voter's receipt code, nothing else.

    A separate transaction moves these rows onto the board in random order (board.services);
    on PostgreSQL a row can only leave this table once its board entry exists.
    """

    __tablename__ = "ballot"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    cycle_id: Mapped[int] = mapped_column(index=True)  # no foreign key: see above
    receipt_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Proposal ids chosen, sorted ascending so the order the voter clicked leaks nothing.
    choices: Mapped[list] = mapped_column(sa.JSON)
    # A paper ballot's batch (None: cast online). Sealed like any other, flagged on the board.
    paper_batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("paper_batch.id"))


class TurnoutCount(db.Model):
    """Votes per cycle and hour, a row per database connection that recorded votes in that
    hour (`shard`: its backend process id, `voting.services.turnout_shard`), so that
    concurrent casts never queue on one row. The total of an hour is the sum of its rows.
    """

    __tablename__ = "turnout_count"

    cycle_id: Mapped[int] = mapped_column(primary_key=True)  # no foreign key: see above
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    shard: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    votes: Mapped[int] = mapped_column(sa.Integer, default=0)


class VotingPoint(db.Model):
    """A public voting point (kiosk, digital-inclusion centre) where staff assist voters.

    Requests from its addresses, or carrying its device token, get the higher rate limits and
    are counted per point in the turnout.
    """

    __tablename__ = "voting_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"))
    # Addresses or networks (CIDR), one per line.
    ip_addresses: Mapped[str] = mapped_column(sa.Text, default="")
    # SHA-256 of the device token; the token itself is shown once, when it is created.
    device_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
