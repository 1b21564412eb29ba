"""The retention rules: purging rolls after the tally and blanking proposers' contacts.

Four rules (docs/data-model.md, "Retention"):

- **Rolls.** A cycle's own roll (`registry_entry` scopes `cycle:<id>` and `delegates:<id>`) may
  be purged once the cycle is tallied; the city's roll (`city`) once every cycle whose registry
  scope is `city` is tallied. Before deleting, the eligible counts of every cycle that reads the
  roll are stored per region and school (`roll_count`), so the turnout page keeps its "on the
  roll" column. `opdigital retention run` purges a roll `ROLL_RETENTION_DAYS_AFTER_TALLY` days
  after the (last) tally of the cycles using it; `opdigital registry purge` does it at once.
- **Proposer contacts.** `proposal.contact` (an e-mail or phone for staff) is blanked
  `PROPOSER_CONTACT_RETENTION_DAYS` days after the end of the proposal's cycle, the end being
  its last phase's end. The proposal, its public author name and its history stay.
- **E-mails.** The address and the text of an outbox message are blanked
  `OUTBOX_RETENTION_DAYS` days after it was sent or given up (opdigital/mail/services.py);
  its kind, subject and dates stay for the outbox screen.
- **Unconfirmed data-subject requests.** A request whose code was never entered is deleted a
  day after it was made (a phone request once the answer deadline has passed, as it waits for
  the encarregado's call; opdigital/subject_requests/services.py).

Purging touches neither the board, the participation rows, nor the tally package: the tally
read none of the roll (docs/tally-format.md). Each unit of work commits with its audit entry,
which holds counts and codes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.audit.models import AuditEntry
from opdigital.clock import now
from opdigital.cycles.models import Cycle, Phase
from opdigital.cycles.states import CycleState
from opdigital.errors import Conflict
from opdigital.extensions import db
from opdigital.mail import queries as mail_queries
from opdigital.mail import services as mail_services
from opdigital.phone import conversations as phone_conversations
from opdigital.proposals.consent import stop_notifications
from opdigital.proposals.models import Proposal
from opdigital.registry.models import (
    CITY_SCOPE,
    DELEGATE_SCOPE_PREFIX,
    RegistryEntry,
    cycle_scope,
    delegate_scope,
)
from opdigital.registry.services import eligible_groups
from opdigital.retention.models import RollCount
from opdigital.subject_requests import services as subject_requests
from opdigital.tally.models import Tally

# States in which the vote is counted: the roll has served its purpose.
AFTER_TALLY = frozenset({CycleState.TALLIED, CycleState.PUBLISHED, CycleState.MONITORING})

# The audit actions this package writes (the coordinator screen lists the last ones).
PURGE_ACTION = "registry.purge"
CONTACT_ACTION = "proposal.contact_expired"
RUN_ACTION = "retention.run"
OUTBOX_ACTION = mail_services.ERASE_ACTION
REQUEST_ACTION = subject_requests.EXPIRE_ACTION
ACTIONS = (RUN_ACTION, PURGE_ACTION, CONTACT_ACTION, OUTBOX_ACTION, REQUEST_ACTION)


class Roll:
    """The city's roll as an audit object (`object_type` "roll", `object_id` "city")."""

    slug = CITY_SCOPE


def _is_after_tally(cycle: Cycle) -> bool:
    return cycle.state in AFTER_TALLY


def own_scopes(cycle: Cycle) -> tuple[str, str]:
    """The roll scopes that belong to one cycle: its imported roll and its delegate roll."""
    return cycle_scope(cycle.id), delegate_scope(cycle.id)


def _entries_by_scope(scopes: tuple[str, ...] | None = None) -> dict[str, int]:
    query = sa.select(RegistryEntry.scope, sa.func.count()).group_by(RegistryEntry.scope)
    if scopes is not None:
        query = query.where(RegistryEntry.scope.in_(scopes))
    return {scope: int(n) for scope, n in db.session.execute(query)}


def _keep_counts(cycle: Cycle) -> int:
    """Store the cycle's eligible counts (once: a second purge keeps the first ones)."""
    if db.session.scalar(sa.select(RollCount.id).where(RollCount.cycle_id == cycle.id).limit(1)):
        return 0
    groups = eligible_groups(cycle)
    at = now()
    for region_id, school_id, eligible in groups:
        db.session.add(
            RollCount(
                cycle_id=cycle.id,
                region_id=region_id,
                school_id=school_id,
                eligible=eligible,
                counted_at=at,
            )
        )
    return len(groups)


def _delete(scopes: tuple[str, ...]) -> int:
    result = db.session.execute(sa.delete(RegistryEntry).where(RegistryEntry.scope.in_(scopes)))
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class PurgeReport:
    """What a purge deleted (or, in a dry run, would delete): entries per scope."""

    scopes: dict[str, int]
    dry_run: bool = False

    @property
    def entries(self) -> int:
        return sum(self.scopes.values())


def purge_cycle_roll(cycle: Cycle, actor: Any = None, *, dry_run: bool = False) -> PurgeReport:
    """Delete a tallied cycle's own roll and delegate roll, keeping its eligible counts.

    Refused (Conflict `not_tallied`) before the tally: identification, the one-vote rule and the
    turnout's eligible counts need the roll until then. Nothing to delete: nothing written.
    """
    if not _is_after_tally(cycle):
        raise Conflict(
            _l("The roll of %(slug)s is kept until the cycle is tallied.", slug=cycle.slug),
            code="not_tallied",
        )
    scopes = own_scopes(cycle)
    found = _entries_by_scope(scopes)
    report = PurgeReport({scope: found.get(scope, 0) for scope in scopes}, dry_run)
    if dry_run or report.entries == 0:
        return report
    try:
        kept = _keep_counts(cycle) if cycle.registry_scope in scopes else 0
        deleted = {scope: _delete((scope,)) for scope in scopes}
        audit.record(actor, PURGE_ACTION, cycle, after={"entries": deleted, "count_rows": kept})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return PurgeReport(deleted)


def city_roll_users() -> list[Cycle]:
    """The cycles whose registry scope is the city's roll."""
    return list(
        db.session.scalars(
            sa.select(Cycle).where(Cycle.registry_scope == CITY_SCOPE).order_by(Cycle.slug)
        )
    )


def purge_city_roll(actor: Any = None, *, dry_run: bool = False) -> PurgeReport:
    """Delete the city's roll once no cycle using it is before its tally (Conflict
    `roll_in_use` otherwise), keeping each such cycle's eligible counts first."""
    users = city_roll_users()
    waiting = [c.slug for c in users if not _is_after_tally(c)]
    if waiting:
        raise Conflict(
            _l(
                "The city's roll is still used by cycles not yet tallied: %(slugs)s.",
                slugs=", ".join(waiting),
            ),
            code="roll_in_use",
        )
    report = PurgeReport({CITY_SCOPE: _entries_by_scope((CITY_SCOPE,)).get(CITY_SCOPE, 0)}, dry_run)
    if dry_run or report.entries == 0:
        return report
    try:
        kept = sum(_keep_counts(cycle) for cycle in users)
        deleted = {CITY_SCOPE: _delete((CITY_SCOPE,))}
        audit.record(actor, PURGE_ACTION, Roll(), after={"entries": deleted, "count_rows": kept})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return PurgeReport(deleted)


def expire_contacts(cycle: Cycle, actor: Any = None) -> list[str]:
    """Blank the proposers' contacts of a cycle's proposals; the codes of those changed.

    Without the address, the e-mails a proposer asked for stop too, queued ones included.
    """
    proposals = list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.cycle_id == cycle.id, Proposal.contact != "")
            .order_by(Proposal.code)
        )
    )
    try:
        for proposal in proposals:
            proposal.contact = ""
            if proposal.notify_by_email:
                stop_notifications(proposal)
            # The code only: the log must not keep what was just deleted.
            audit.record(actor, CONTACT_ACTION, proposal)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return [p.code for p in proposals]


# --- What is due ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollItem:
    """A roll that still holds entries, and when it may go."""

    scope: str
    entries: int
    cycle: Cycle | None  # None: the city's roll
    due_at: datetime | None  # None: not while `waiting` (or no cycle uses it)
    waiting: tuple[str, ...] = ()  # slugs of the cycles it waits for

    def is_due(self, at: datetime) -> bool:
        return self.due_at is not None and self.due_at <= at


@dataclass(frozen=True)
class ContactItem:
    """A cycle whose proposals still hold proposers' contacts, and when they expire."""

    cycle: Cycle
    contacts: int
    ends_at: datetime | None  # the cycle's last phase's end; None: no calendar, never due
    due_at: datetime | None

    def is_due(self, at: datetime) -> bool:
        return self.due_at is not None and self.due_at <= at


@dataclass(frozen=True)
class Plan:
    at: datetime
    roll_days: int
    contact_days: int
    rolls: list[RollItem] = field(default_factory=list)
    contacts: list[ContactItem] = field(default_factory=list)
    outbox_days: int = 0
    outbox: mail_queries.HeldMessages = mail_queries.HeldMessages(0, 0, None)
    # Data-subject requests never confirmed, past their time (deleted by the next run).
    unconfirmed_requests: int = 0

    @property
    def due_rolls(self) -> list[RollItem]:
        return [item for item in self.rolls if item.is_due(self.at)]

    @property
    def due_contacts(self) -> list[ContactItem]:
        return [item for item in self.contacts if item.is_due(self.at)]


def _tallied_at() -> dict[int, datetime]:
    return dict(db.session.execute(sa.select(Tally.cycle_id, Tally.created_at)).all())


def _cycle_of_scope(scope: str) -> int | None:
    for prefix in ("cycle:", DELEGATE_SCOPE_PREFIX):
        if scope.startswith(prefix) and scope[len(prefix) :].isdigit():
            return int(scope[len(prefix) :])
    return None


def _roll_items(grace: timedelta) -> list[RollItem]:
    tallied = _tallied_at()
    items = []
    entries = _entries_by_scope()
    cycles = {c.id: c for c in db.session.scalars(sa.select(Cycle))}
    for scope, count in sorted(entries.items()):
        if scope == CITY_SCOPE:
            users = city_roll_users()
            waiting = tuple(c.slug for c in users if not _is_after_tally(c))
            last = max((tallied[c.id] for c in users if c.id in tallied), default=None)
            due = last + grace if users and not waiting and last is not None else None
            items.append(RollItem(scope, count, None, due, waiting))
            continue
        cycle = cycles.get(_cycle_of_scope(scope))
        if cycle is None:
            continue  # a scope no cycle owns: left to staff
        done = _is_after_tally(cycle) and cycle.id in tallied
        due = tallied[cycle.id] + grace if done else None
        items.append(RollItem(scope, count, cycle, due, () if done else (cycle.slug,)))
    return items


def _contact_items(grace: timedelta) -> list[ContactItem]:
    with_contacts = dict(
        db.session.execute(
            sa.select(Proposal.cycle_id, sa.func.count())
            .where(Proposal.contact != "")
            .group_by(Proposal.cycle_id)
        ).all()
    )
    if not with_contacts:
        return []
    ends = dict(
        db.session.execute(
            sa.select(Phase.cycle_id, sa.func.max(Phase.ends_at))
            .where(Phase.cycle_id.in_(list(with_contacts)))
            .group_by(Phase.cycle_id)
        ).all()
    )
    cycles = db.session.scalars(
        sa.select(Cycle).where(Cycle.id.in_(list(with_contacts))).order_by(Cycle.slug)
    )
    items = []
    for cycle in cycles:
        end = ends.get(cycle.id)
        due = end + grace if end is not None else None
        items.append(ContactItem(cycle, int(with_contacts[cycle.id]), end, due))
    return items


def plan(at: datetime | None = None) -> Plan:
    """Every roll and every cycle with proposer contacts still held, and when each is due."""
    config = current_app.config
    roll_days = int(config["ROLL_RETENTION_DAYS_AFTER_TALLY"])
    contact_days = int(config["PROPOSER_CONTACT_RETENTION_DAYS"])
    outbox_days = int(config["OUTBOX_RETENTION_DAYS"])
    at = at or now()
    return Plan(
        at=at,
        roll_days=roll_days,
        contact_days=contact_days,
        rolls=_roll_items(timedelta(days=roll_days)),
        contacts=_contact_items(timedelta(days=contact_days)),
        outbox_days=outbox_days,
        outbox=mail_queries.held_messages(at, timedelta(days=outbox_days)),
        unconfirmed_requests=subject_requests.count_unverified_due(at),
    )


@dataclass
class RunReport:
    dry_run: bool
    rolls: list[tuple[str, int]] = field(default_factory=list)  # (scope, entries)
    contacts: list[tuple[str, int]] = field(default_factory=list)  # (cycle slug, contacts)
    outbox_erased: int = 0  # e-mails whose address and text were blanked
    requests_deleted: int = 0  # data-subject requests never confirmed
    phone_conversations_deleted: int = 0  # phone conversations idle past their time

    def counts(self) -> dict[str, int]:
        return {
            "rolls_purged": len(self.rolls),
            "roll_entries_deleted": sum(n for _, n in self.rolls),
            "cycles_with_contacts_expired": len(self.contacts),
            "contacts_expired": sum(n for _, n in self.contacts),
            "outbox_messages_erased": self.outbox_erased,
            "unconfirmed_requests_deleted": self.requests_deleted,
            "phone_conversations_deleted": self.phone_conversations_deleted,
        }


def run(actor: Any = None, *, dry_run: bool = False) -> RunReport:
    """Apply every rule that is due (idempotent: what is done is not due any more). A real run
    ends with a `retention.run` audit entry holding its counts, even when nothing was due, so
    the log shows the schedule runs."""
    due = plan()
    report = RunReport(dry_run)
    # Cycle rolls first, the city's roll last (its purge keeps the city cycles' counts).
    for item in sorted(due.due_rolls, key=lambda i: i.cycle is None):
        if dry_run:
            report.rolls.append((item.scope, item.entries))
            continue
        if item.cycle is None:
            purged = purge_city_roll(actor)
        else:
            purged = purge_cycle_roll(item.cycle, actor)
        report.rolls.extend((scope, n) for scope, n in purged.scopes.items() if n)
    for item in due.due_contacts:
        count = item.contacts if dry_run else len(expire_contacts(item.cycle, actor))
        report.contacts.append((item.cycle.slug, count))
    if due.outbox.is_due(due.at):
        report.outbox_erased = (
            due.outbox.due if dry_run else mail_services.erase_expired(actor, at=due.at)
        )
    if dry_run:
        report.requests_deleted = due.unconfirmed_requests
        report.phone_conversations_deleted = phone_conversations.count_expired()
    else:
        # Turns delete them as conversations start; this catches a quiet line's leftovers.
        report.phone_conversations_deleted = phone_conversations.purge_expired()
        report.requests_deleted = len(subject_requests.delete_unverified(actor, at=due.at))
        audit.record(actor, RUN_ACTION, None, after=report.counts())
        db.session.commit()
    return report


def last_actions(limit: int = 20) -> list[AuditEntry]:
    """The latest retention entries of the audit log, newest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action.in_(ACTIONS))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


def last_run() -> AuditEntry | None:
    return db.session.scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.action == RUN_ACTION)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
