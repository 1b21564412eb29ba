"""Demo ballots for the finished OP Digital 2024, so its results come from a real tally.

The vote took place in the past, so the ballots cannot go through the cast (which accepts votes
only inside the voting phase): they are written as the cast writes them — a participation row
and a pending ballot each — then the real services close, seal, count, sign and publish.
Voter keys are synthetic (no registration number behind them) and the receipt codes are thrown
away. DEMO ONLY.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import date
from pathlib import Path

from flask import current_app

from opdigital.extensions import db
from opdigital.ledger.keys import fingerprint, generate_key_file, load_private_key, public_key_raw
from opdigital.voting.models import Ballot, Participation
from opdigital.voting.receipts import new_receipt_code, receipt_hash

VOTERS = 1200
# A voter votes in a region with this chance, and then for the work the city went on to build
# with this one: enough for it to win its region, as it did.
VOTES_IN_A_REGION = 0.55
FOR_THE_CHOSEN_WORK = 0.64


def ensure_demo_signing_key() -> str:
    """The tally signing key at SIGNING_KEY_PATH, created if missing; a line to print."""
    path = current_app.config["SIGNING_KEY_PATH"]
    if Path(path).exists():
        key = load_private_key(path)
        return f"Tally signing key: {path} (fingerprint {fingerprint(public_key_raw(key))})."
    made = generate_key_file(path)
    return f"Tally signing key created at {path} (DEMO: fingerprint {made})."


def demo_ballots(works: list[tuple[int, int, bool]], seed: int = 2024) -> list[list[int]]:
    """Ballots of VOTERS people over (proposal id, region id, chosen) works, one per region."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    by_region: dict[int, list[tuple[int, bool]]] = {}
    for proposal_id, region_id, chosen in works:
        by_region.setdefault(region_id, []).append((proposal_id, chosen))
    ballots = []
    for _ in range(VOTERS):
        choices = []
        for options in by_region.values():
            if rng.random() >= VOTES_IN_A_REGION:
                continue
            chosen = [p for p, is_chosen in options if is_chosen]
            others = [p for p, is_chosen in options if not is_chosen]
            if chosen and (not others or rng.random() < FOR_THE_CHOSEN_WORK):
                choices.append(rng.choice(chosen))
            else:
                choices.append(rng.choice(others))
        ballots.append(sorted(choices))
    _check_winners(works, ballots)
    return ballots


def _check_winners(works: list[tuple[int, int, bool]], ballots: list[list[int]]) -> None:
    votes = Counter(p for ballot in ballots for p in ballot)
    for region in {r for _, r, _ in works}:
        in_region = [(votes[p], chosen) for p, r, chosen in works if r == region]
        if max(in_region)[1] is not True:
            raise RuntimeError(f"demo ballots: the chosen work does not win region {region}")


def record_past_ballots(cycle_id: int, ballots: list[list[int]], voted_on: date) -> None:
    """Write each ballot as the cast does: who voted (synthetic key) and, apart, what."""
    for n, choices in enumerate(ballots):
        key = hashlib.sha256(f"demo-voter\x00{cycle_id}\x00{n}".encode()).hexdigest()
        db.session.add(Participation(cycle_id=cycle_id, voter_key=key, voted_on=voted_on))
        db.session.add(
            Ballot(
                cycle_id=cycle_id, receipt_hash=receipt_hash(new_receipt_code()), choices=choices
            )
        )
    db.session.commit()
