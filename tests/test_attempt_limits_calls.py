"""The limits' own call to Redis (attempt_limits._evalsha): each attempt is counted exactly once
in the shared store, also when the script must be loaded again or a connection fails mid-call.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
import redis
from redis.connection import AbstractConnection

from opdigital import attempt_limits
from opdigital.attempt_limits import count_attempt
from opdigital.extensions import limiter
from opdigital.voting.limits import ADDRESS_VOTES


@pytest.fixture
def three_a_minute(app_ctx, settings):
    settings(VOTE_LIMIT_PER_IP="3 per minute")
    return f"ip:test-{uuid.uuid4().hex}"


def _reserve_script():
    return attempt_limits._script(limiter.storage, "reserve", attempt_limits._CHECK_AND_RESERVE)


def test_a_script_redis_no_longer_holds_is_loaded_and_counts_once(three_a_minute):
    assert count_attempt(ADDRESS_VOTES, three_a_minute) is None
    script = _reserve_script()
    script.sha = "0" * 40  # as after a Redis restart: the server knows no such script
    assert count_attempt(ADDRESS_VOTES, three_a_minute) is None
    assert script.sha == hashlib.sha1(script.script.encode()).hexdigest()  # noqa: S324
    assert count_attempt(ADDRESS_VOTES, three_a_minute) is None
    assert count_attempt(ADDRESS_VOTES, three_a_minute).reason == "flood"  # the 4th of 3


def test_a_connection_failing_mid_call_is_dropped_and_the_call_retried(three_a_minute, monkeypatch):
    send, disconnect = AbstractConnection.send_packed_command, AbstractConnection.disconnect
    failed, dropped = [], []

    def fails_once(connection, command, check_health=True):
        if not failed:
            failed.append(connection)
            raise redis.ConnectionError("connection reset")
        return send(connection, command, check_health)

    def spied_disconnect(connection, *args, **kwargs):
        dropped.append(connection)
        return disconnect(connection, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", fails_once)
    monkeypatch.setattr(AbstractConnection, "disconnect", spied_disconnect)
    assert count_attempt(ADDRESS_VOTES, three_a_minute) is None
    assert failed and failed[0] in dropped  # never lent again as it was
    # Counted once, in Redis (not in this process's own store meanwhile): two more fill the 3.
    assert attempt_limits._STORE.current() is limiter.storage
    assert count_attempt(ADDRESS_VOTES, three_a_minute) is None
    assert count_attempt(ADDRESS_VOTES, three_a_minute) is None
    assert count_attempt(ADDRESS_VOTES, three_a_minute).reason == "flood"
