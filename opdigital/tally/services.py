"""The tally's work: counting a closed cycle into a signed package, dating it public
(docs/tally-format.md). The state changes around it (close, tallied, published) are
`cycles.lifecycle`'s.

The tally reads the sealed board, counts it with the cycle's rule through the same pure function
the verifier runs (`ledger.result.compute_result`), signs the package, checks it with the
verifier before keeping it, marks the proposals selected or not, and stores the package's bytes:
what is downloaded later is exactly what was signed.
"""

from __future__ import annotations

import hashlib
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from opdigital.audit import services as audit
from opdigital.board import services as board
from opdigital.clock import now
from opdigital.counting.rules import RULES
from opdigital.cycles.models import Cycle, PhaseKind
from opdigital.cycles.services import region_budgets
from opdigital.errors import IllegalTransition, NotFound
from opdigital.extensions import db
from opdigital.ledger import keys as signing
from opdigital.ledger.early_board import EarlyBoardRead
from opdigital.ledger.package import PackageBuilder
from opdigital.ledger.paper import Batch, Point, paper_json
from opdigital.ledger.result import FORMAT, TIE_BREAK, TallyError, compute_result
from opdigital.ledger.verify import CheckFailed, Counted, ExpectedKey, verify_package
from opdigital.paper.models import BatchStatus, PaperBatch
from opdigital.proposals.models import BALLOT_STATUSES, Proposal
from opdigital.proposals.services import mark_result
from opdigital.regions.models import Region
from opdigital.tally.models import Tally
from opdigital.voting.models import Participation, VotingPoint
from opdigital.voting.settings import ballot_rule_for

log = logging.getLogger(__name__)

# Equal Shares' completion raises every voter's budget by this step (one real, in centavos).
MES_INCREMENT_CENTS = 100


class SigningKeyMissing(IllegalTransition):
    code = "signing_key_missing"


class _Steps:
    """How long each step of a count took, for the log line operators read on the night."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.taken: list[tuple[str, float]] = []

    def done(self, step: str) -> None:
        now_ = time.perf_counter()
        self.taken.append((step, now_ - self.last))
        self.last = now_

    def __str__(self) -> str:
        return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.taken)


def signing_key():
    path = current_app.config["SIGNING_KEY_PATH"]
    try:
        return signing.load_private_key(path)
    except (OSError, ValueError) as e:
        raise SigningKeyMissing(
            _l(
                "The tally signing key cannot be read (%(path)s): create it with "
                "'opdigital keys generate'.",
                path=path,
            )
        ) from e


def _iso_utc(moment) -> str:
    return moment.astimezone(UTC).isoformat()


def _on_ballot(cycle: Cycle, *options: LoaderOption) -> list[Proposal]:
    return list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.cycle_id == cycle.id, Proposal.status.in_(BALLOT_STATUSES))
            .order_by(Proposal.id)
            .options(*options)
        )
    )


def definition_of(cycle: Cycle) -> dict:
    """The cycle as the package states it (docs/tally-format.md, cycle.json)."""
    if cycle.counting_rule not in RULES:
        raise IllegalTransition(
            _l("Choose the counting rule on the voting settings screen before tallying."),
            code="counting_rule_missing",
        )
    voting = cycle.phase_of_kind(PhaseKind.VOTING.value)
    if voting is None:
        raise IllegalTransition(_l("This cycle has no voting phase."), code="no_voting_phase")
    rule = ballot_rule_for(cycle)
    budgets = region_budgets(cycle)
    per_region = bool(budgets) and (
        cycle.ballot_rule == "one-per-region" or rule.per_region is True
    )
    regions = db.session.scalars(sa.select(Region).order_by(Region.id))
    return {
        "format": FORMAT,
        "cycle": {
            "slug": cycle.slug,
            "title": cycle.title,
            "kind": cycle.kind,
            "edition": cycle.edition,
        },
        "regions": [{"id": r.id, "slug": r.slug, "name": r.name} for r in regions],
        "budget_cents": cycle.total_budget_cents,
        "region_budgets_cents": {str(k): v for k, v in sorted(budgets.items())},
        "proposals": [
            {
                "id": p.id,
                "code": p.code,
                "title": p.title,
                "region_id": p.region_id,
                "cost_cents": p.cost_cents,
            }
            for p in _on_ballot(cycle)
        ],
        "ballot_rule": {"name": cycle.ballot_rule, "params": dict(cycle.ballot_rule_params or {})},
        "counting_rule": {
            "name": cycle.counting_rule,
            "per_region": per_region,
            "increment_cents": MES_INCREMENT_CENTS,
        },
        "tie_break": TIE_BREAK,
        "voting": {"opens_at": _iso_utc(voting.starts_at), "closes_at": _iso_utc(voting.ends_at)},
    }


def paper_of(cycle: Cycle, ballots: int, paper: int) -> dict | None:
    """paper.json's object (docs/tally-format.md, "Paper ballots") for a board of `ballots`
    entries, `paper` of them paper ballots; or None for a cycle with no sealed paper batch, no
    paper participation and no paper ballot on its board: its package then has no paper.json,
    exactly as before paper ballots existed.

    The batches are the sealed ones, each with the sheets counted into it; the points are those
    with a sealed batch or a paper participation. Batches still being entered are left out: their
    sheets are not on the board, so the points' sums show them missing.
    """
    batches = [
        Batch(b.id, b.voting_point_id, b.number, b.sheet_count)
        for b in db.session.scalars(
            sa.select(PaperBatch).where(
                PaperBatch.cycle_id == cycle.id, PaperBatch.status == BatchStatus.SEALED
            )
        )
    ]
    participation = dict(
        db.session.execute(
            sa.select(Participation.voting_point_id, sa.func.count())
            .where(Participation.cycle_id == cycle.id, Participation.on_paper.is_(True))
            .group_by(Participation.voting_point_id)
        ).all()
    )
    if not batches and not participation and not paper:
        return None
    if None in participation:
        raise IllegalTransition(
            _l(
                "%(n)d paper participation(s) were recorded without a voting point: "
                "the package could not match them with the point's batches.",
                n=participation[None],
            ),
            code="paper_without_point",
        )
    point_ids = set(participation) | {b.voting_point_id for b in batches}
    names = dict(
        db.session.execute(
            sa.select(VotingPoint.id, VotingPoint.name).where(VotingPoint.id.in_(point_ids))
        ).all()
    )
    points = [Point(pid, names[pid], participation.get(pid, 0)) for pid in point_ids]
    return paper_json(batches, points, ballots, paper)


def seal_for_count(cycle: Cycle) -> None:
    """Before a count, in transactions of their own: refuse early when the package could not be
    signed, and seal every ballot still waiting (none should after the close; this makes sure,
    or stops)."""
    signing_key()
    board.seal_all(cycle)


def count(cycle: Cycle, actor) -> Tally:
    """Count a closed, sealed cycle into its signed package, in the caller's transaction.

    Called by `cycles.lifecycle` on the way to "tallied", whose state change commits the package,
    the proposals' results and the audit entry together.
    """
    key = signing_key()
    definition = definition_of(cycle)
    if board.pending_count(cycle.id):
        # A paper batch sealed after `seal_for_count` sealed the board: count it too, next time.
        raise board.BoardNotSealed(
            _l("Ballots arrived while the count was starting: please tally again.")
        )
    steps = _Steps()
    sealed = board.sealed_board(cycle.id)  # board.jsonl's bytes, the ballots and the head
    steps.done("reading the board")
    participation = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Participation)
        .where(Participation.cycle_id == cycle.id)
    )
    head, ballots = sealed.head, sealed.ballots
    paper = paper_of(cycle, len(ballots), sealed.paper)
    # While the count runs, on the other core: the board's half of the package is compressed
    # (a thread), then the check of the package has its board.jsonl read (a child process,
    # forked first, before any thread, and started when the compression is done:
    # `ledger.early_board`).
    with (
        EarlyBoardRead.start(definition, sealed.lines, ballots, paper=paper is not None) as early,
        PackageBuilder(
            definition, board=sealed.lines, then=early.go if early is not None else None
        ) as builder,
    ):
        del sealed  # its pieces of board.jsonl (280 MB a million) go once the builder joins them
        steps.done("writing the board")
        result = _result(definition, ballots, participation, head)
        steps.done("counting")
        package = builder.finish(result, key, paper)
        steps.done("the package")
        counted = Counted(definition, ballots, participation, head, result, board=early)
        # The check of the package runs on a thread while it is stored: its inflating and
        # hashing let go of the GIL, and storing mostly waits on the server. Nothing is
        # committed before the check has passed (the caller commits after this returns).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="package-check") as pool:
            checking = pool.submit(_verify, package, key, counted)
            record = _store(cycle, actor, package, key, result)
            steps.done("storing it")
            _refuse_unless_verified(checking)
        steps.done("verifying it (alongside)")
    log.info("tally of %s, %d ballots: %s", cycle.slug, len(ballots), steps)
    return record


def _store(cycle: Cycle, actor, package: bytes, key, result: dict) -> Tally:
    """The package, the proposals' results and the audit entry, in the caller's transaction."""
    selected = set(result["selected"])
    # Each proposal's result goes into its public history: those histories are read in one
    # query, not one per proposal (while the package's check runs on a thread beside this).
    for proposal in _on_ballot(cycle, selectinload(Proposal.history)):
        mark_result(proposal, proposal.id in selected, actor)
    fingerprint = signing.fingerprint(signing.public_key_raw(key))
    digest = hashlib.sha256(package).hexdigest()
    record = db.session.get(Tally, cycle.id) or Tally(cycle_id=cycle.id)
    record.package, record.sha256, record.key_fingerprint = package, digest, fingerprint
    record.result, record.created_at = result, now()
    db.session.add(record)
    audit.record(
        actor, "cycle.tally", cycle, before=None, after={"sha256": digest, "key": fingerprint}
    )
    db.session.flush()
    return record


def _result(definition: dict, ballots: list, participation: int, head: tuple[int, str]) -> dict:
    try:
        return compute_result(definition, ballots, participation=participation, head=head)
    except TallyError as e:  # beyond what the format allows (docs/tally-format.md, section 3)
        db.session.rollback()
        raise IllegalTransition(
            _l("This cycle cannot be counted into a package: %(why)s", why=str(e)),
            code="tally_not_countable",
        ) from e


def _verify(package: bytes, key, counted: Counted) -> None:
    """Our own verifier's checks of the package (the count just made spares its recount: see
    `ledger.verify.Counted`); raises CheckFailed."""
    verify_package(
        package, expected_key=ExpectedKey(public_raw=signing.public_key_raw(key)), counted=counted
    )


def _refuse_unless_verified(checking: Future) -> None:
    """Never keep a package our own verifier refuses: wait for its check, and on a failure undo
    the storing (nothing was committed) and say why."""
    try:
        checking.result()
    except CheckFailed as e:
        db.session.rollback()
        raise IllegalTransition(
            _l("The tally package failed verification: %(why)s", why=str(e)),
            code="tally_not_verified",
        ) from e


def mark_published(cycle: Cycle) -> Tally:
    """Date the tally public, in the caller's transaction (`cycles.lifecycle`, to "published").

    A cycle marked tallied before packages existed has nothing to publish: say so plainly rather
    than answer "not found" for a page that is there.
    """
    record = db.session.get(Tally, cycle.id)
    if record is None:
        raise IllegalTransition(
            _l("This cycle has no tally package, so there is nothing to publish."),
            code="no_tally",
        )
    record.published_at = now()
    return record


def tally_of(cycle: Cycle) -> Tally:
    record = db.session.get(Tally, cycle.id)
    if record is None:
        raise NotFound(_l("This cycle has not been tallied yet."), code="no_tally")
    return record


def published_tally(cycle: Cycle) -> Tally:
    """The tally, if the public may see it (published, or a later state)."""
    record = db.session.get(Tally, cycle.id)
    if record is None or record.published_at is None:
        raise NotFound(_l("The results of this cycle are not published yet."), code="no_results")
    return record
