"""Two hundred callers at once, each a different voter, on gunicorn with PostgreSQL and Redis:
every call completes with a receipt, and every vote is on the board, nothing lost or doubled.

The calls are the phone simulator's (`opdigital.phone.simulator.Call`), signed as the provider
signs, over real HTTP to several worker processes and threads, so conversations, limits per
caller and casts run concurrently as on a busy voting night.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from opdigital.board import services as board
from opdigital.board.models import BoardEntry
from opdigital.extensions import db
from opdigital.phone.models import PhoneConversation
from opdigital.phone.services import forget_phone_works
from opdigital.phone.simulator import Call
from opdigital.registry.models import CITY_SCOPE, RegistryEntry
from opdigital.voting.models import Ballot, Participation
from opdigital.voting.receipts import receipt_hash
from tests.support import voting as vs
from tests.support.live import gunicorn, phone_line_env

CALLERS = 200
TOKEN = "load-test-phone-token"
PUBLIC = "https://op.prefeitura.example"
BIRTH_KEYS = vs.BIRTH.strftime("%d%m%Y")


def _roll(count: int) -> list[str]:
    """`count` títulos on the city's roll, all born on vs.BIRTH."""
    titulos = [vs.make_titulo(5000 + n) for n in range(count)]
    db.session.execute(
        sa.insert(RegistryEntry),
        [{"scope": CITY_SCOPE, "voter_key": vs.key_of(t), "birth_date": vs.BIRTH} for t in titulos],
    )
    db.session.commit()
    return titulos


def _count(model, **where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def test_two_hundred_concurrent_calls_all_complete_and_nothing_is_lost(
    app, database_url, redis_url
):
    with app.app_context():
        forget_phone_works()
        world = vs.voting_cycle(phone_voice=True)
        titulos = _roll(CALLERS)
        slug, cycle_id = world.slug, world.cycle.id
        db.session.remove()
    env = phone_line_env(database_url, redis_url, TOKEN, PUBLIC)

    def place(n: int):
        caller = Call(base, TOKEN, slug, f"+55319{n:08d}", public_url=PUBLIC, timeout=120)
        # Título, birth date, the first two works, the summary, confirm, end.
        return caller.run([titulos[n], BIRTH_KEYS, "1", "1", "#", "1", "2"])

    with gunicorn(env, workers=2, threads=8) as base, ThreadPoolExecutor(CALLERS) as pool:
        transcripts = list(pool.map(place, range(CALLERS)))

    failed = [t.error or t.sentences[-3:] for t in transcripts if not t.receipt]
    assert failed == [], failed[:3]
    receipts = {t.receipt for t in transcripts}
    assert len(receipts) == CALLERS
    with app.app_context():
        assert _count(Participation, cycle_id=cycle_id, channel="voice") == CALLERS
        assert _count(PhoneConversation) == 0  # every call ended and was forgotten
        cycle = vs.reload(world.cycle)
        board.seal_all(cycle)
        stored = set(
            db.session.scalars(sa.select(BoardEntry.receipt_hash).filter_by(cycle_id=cycle_id))
        )
        assert _count(Ballot, cycle_id=cycle_id) == 0  # all moved onto the board
        assert stored == {receipt_hash(code) for code in receipts}
        db.session.remove()
