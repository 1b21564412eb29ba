"""The board, key and tally endpoints, and the 503 of casting: real answers against the document."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from opdigital.counting.rules import RULES
from opdigital.cycles.lifecycle import advance
from opdigital.cycles.states import CycleState
from opdigital.ledger import keys
from opdigital.voting.receipts import receipt_hash
from tests.support import factories
from tests.support import voting as vs
from tests.support.api import (
    SPEC,
    assert_documented_headers,
    assert_matches_spec,
    media_type,
    response_pointer,
    validate_against,
)

KEYS = "/api/v1/keys"
HEAD = "/api/v1/cycles/{slug}/board/head"
RECEIPT = "/api/v1/cycles/{slug}/receipts"
OLD_RECEIPT = "/api/v1/cycles/{slug}/receipts/{code}"
PACKAGE = "/api/v1/cycles/{slug}/tally.zip"
RESULTS = "/api/v1/cycles/{slug}/results"
BALLOTS = vs.ballot_path()
UNREACHABLE_DB = "postgresql+psycopg://root@127.0.0.1:1/nowhere"


def assert_zip_matches_spec(response, path_template: str, status: int) -> None:
    """`assert_matches_spec` for a binary body, which it would decode as UTF-8 and fail on:
    status and media type documented, documented headers present and valid, and a real zip."""
    assert response.status_code == status, response.get_data()
    pointer = response_pointer(path_template, "get", status)
    resolved = SPEC["paths"][path_template]["get"]["responses"][str(status)]
    assert media_type(response) == "application/zip"
    assert "application/zip" in resolved["content"]
    assert_documented_headers(response, resolved, pointer)
    assert response.data.startswith(b"PK\x03\x04")


def _url(template: str, **values) -> str:
    return template.format(**values)


def _cast(client, world, ballots, first: int = 700) -> list[str]:
    return vs.cast_all(client, world, ballots, first)


def _tallied(client, world):
    a, b, c = world.ids[:3]
    _cast(client, world, [[a, b], [a, c], [b, c]])
    cycle = advance(vs.reload(world.cycle), CycleState.CLOSED, None).cycle
    return advance(cycle, CycleState.TALLIED, None).tally


# --- the document itself --------------------------------------------------------------------


def _media_examples():
    """(where, schema pointer, example value) for every example given on a media type."""
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                for media, content in response.get("content", {}).items():
                    pointer = "/" + "/".join(
                        t.replace("~", "~0").replace("/", "~1")
                        for t in ("paths", path, method, "responses", status, "content", media)
                    )
                    where = f"{method.upper()} {path} {status}"
                    if "example" in content:
                        yield where, pointer + "/schema", content["example"]
                    for name, example in content.get("examples", {}).items():
                        yield f"{where} ({name})", pointer + "/schema", example["value"]


def test_every_example_matches_its_schema():
    examples = list(_media_examples())
    assert len(examples) >= 5  # keys, head, two receipts, results
    for where, pointer, value in examples:
        try:
            validate_against(pointer, value)
        except Exception as e:  # name the example that is wrong
            raise AssertionError(f"{where}: {e}") from e


def test_the_documented_counting_rules_are_the_code_s():
    documented = SPEC["components"]["schemas"]["CountingRule"]["properties"]["name"]["enum"]
    assert tuple(documented) == RULES


def test_the_example_key_is_a_real_key_with_its_fingerprint():
    example = SPEC["paths"][KEYS]["get"]["responses"]["200"]["content"]["application/json"]
    key = example["example"]["keys"][0]
    public = load_pem_public_key(key["public_key_pem"].encode())
    raw = keys.public_key_raw(public)
    assert keys.fingerprint(raw) == key["fingerprint"]
    assert keys.public_key_base64(public) == key["public_key"]


# --- GET /keys -------------------------------------------------------------------------------


def test_keys_is_empty_before_a_key_exists(client, settings, tmp_path):
    settings(SIGNING_KEY_PATH=str(tmp_path / "absent.pem"))
    response = client.get(KEYS)
    assert_matches_spec(response, KEYS, "get", 200)
    assert response.get_json() == {"keys": []}


def test_keys_lists_the_signing_key(client, signing_key):
    response = client.get(KEYS)
    assert_matches_spec(response, KEYS, "get", 200)
    [key] = response.get_json()["keys"]
    private = keys.load_private_key(signing_key)
    assert key["fingerprint"] == keys.fingerprint(keys.public_key_raw(private))
    assert key["public_key_pem"] == keys.public_key_pem(private)


# --- GET /cycles/{slug}/board/head -----------------------------------------------------------


def test_head_of_an_empty_board_then_after_sealing(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=2, BOARD_MAX_DELAY_SECONDS=3600)
    world = vs.voting_cycle()
    empty = client.get(_url(HEAD, slug=world.slug))
    assert_matches_spec(empty, HEAD, "get", 200)
    assert (empty.get_json()["seq"], empty.get_json()["hash"]) == (0, "0" * 64)
    _cast(client, world, [world.ids[:2]] * 3)
    after = client.get(_url(HEAD, slug=world.slug))
    assert_matches_spec(after, HEAD, "get", 200)
    body = after.get_json()
    assert (body["seq"], body["batch_size"], body["min_batch"]) == (2, 2, 32)
    assert body["max_delay_seconds"] == 3600


def test_head_of_an_unknown_or_draft_cycle_is_404(app_ctx, client):
    draft = factories.cycle(slug="rascunho", state="draft")
    for slug in ("nope", draft.slug):
        response = client.get(_url(HEAD, slug=slug))
        assert_matches_spec(response, HEAD, "get", 404)
        assert response.get_json()["error"]["code"] == "cycle_not_found"


# --- POST /cycles/{slug}/receipts -------------------------------------------------------------


def _look_up(client, slug: str, code: str):
    return client.post(_url(RECEIPT, slug=slug), json={"receipt": code})


def test_receipt_sealed_and_pending_answers_match_the_document(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=2, BOARD_MAX_DELAY_SECONDS=3600)
    world = vs.voting_cycle()
    first, _second, third = _cast(client, world, [world.ids[:2]] * 3)
    sealed = _look_up(client, world.slug, first)
    assert_matches_spec(sealed, RECEIPT, "post", 200)
    assert sealed.get_json()["status"] == "sealed"
    assert sealed.get_json()["entry"]["seq"] in {1, 2}
    pending = _look_up(client, world.slug, third)
    assert_matches_spec(pending, RECEIPT, "post", 200)
    assert pending.get_json()["status"] == "pending"
    assert pending.get_json()["entry"] is None and pending.get_json()["sealed_by"]


def test_unknown_receipt_and_unknown_cycle_are_404(app_ctx, client):
    world = vs.voting_cycle()
    unknown = _look_up(client, world.slug, "AAAA-BBBB-CCCC-DDDD")
    assert_matches_spec(unknown, RECEIPT, "post", 404)
    assert unknown.get_json()["error"]["code"] == "not_found"
    assert unknown.headers["Cache-Control"] == "no-store"
    no_cycle = _look_up(client, "nope", "AAAA-BBBB-CCCC-DDDD")
    assert_matches_spec(no_cycle, RECEIPT, "post", 404)
    assert no_cycle.get_json()["error"]["code"] == "cycle_not_found"


MALFORMED_LOOKUPS = {
    "not json": {"data": "receipt=AAAA", "content_type": "application/json"},
    "form": {"data": {"receipt": "AAAA"}},
    "no content type": {"data": '{"receipt": "AAAA"}'},
    "a list": {"json": ["AAAA"]},
    "no receipt": {"json": {}},
    "another field": {"json": {"receipt": "AAAA", "cycle": "x"}},
    "a number": {"json": {"receipt": 1234}},
    "null": {"json": {"receipt": None}},
    "too long a code": {"json": {"receipt": "A" * 65}},
    "too large a body": {
        "data": '{"receipt": "' + " " * 2000 + '"}',
        "content_type": "application/json",
    },
    "not utf-8": {"data": b'{"receipt": "\xff"}', "content_type": "application/json"},
}


@pytest.mark.parametrize("request_kwargs", MALFORMED_LOOKUPS.values(), ids=MALFORMED_LOOKUPS)
def test_a_malformed_lookup_is_a_400_with_a_message(app_ctx, client, request_kwargs):
    world = vs.voting_cycle()
    response = client.post(_url(RECEIPT, slug=world.slug), **request_kwargs)
    assert_matches_spec(response, RECEIPT, "post", 400)
    assert response.get_json()["error"]["code"] == "bad_request"
    assert response.get_json()["error"]["message"]
    assert response.headers["Cache-Control"] == "no-store"


def test_receipt_lookups_are_rate_limited_with_retry_after(app_ctx, client, settings):
    settings(RECEIPT_LOOKUP_LIMIT_PER_IP="2 per minute")
    world = vs.voting_cycle()
    for _ in range(2):
        _look_up(client, world.slug, "AAAA-BBBB")
    limited = _look_up(client, world.slug, "AAAA-BBBB")
    assert_matches_spec(limited, RECEIPT, "post", 429)
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1


def test_the_old_lookup_with_the_code_in_the_url_is_gone(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=1)
    world = vs.voting_cycle()
    (code,) = _cast(client, world, [world.ids[:2]])
    gone = client.get(_url(OLD_RECEIPT, slug=world.slug, code=code))
    assert_matches_spec(gone, OLD_RECEIPT, "get", 410)
    error = gone.get_json()["error"]
    assert error["code"] == "gone"
    assert f"POST /api/v1/cycles/{world.slug}/receipts" in error["message"]
    assert gone.headers["Cache-Control"] == "no-store"
    assert receipt_hash(code) not in gone.get_data(as_text=True)  # nothing was looked up
    no_cycle = client.get(_url(OLD_RECEIPT, slug="nope", code=code))
    assert_matches_spec(no_cycle, OLD_RECEIPT, "get", 404)
    # The lookup's own path answers POST only.
    assert client.get(_url(RECEIPT, slug=world.slug)).status_code == 405


# --- GET /cycles/{slug}/tally.zip and /results -----------------------------------------------


def test_package_and_results_are_404_until_published(app_ctx, client, signing_key):
    world = vs.voting_cycle()
    for template in (PACKAGE, RESULTS):  # voting
        response = client.get(_url(template, slug=world.slug))
        assert_matches_spec(response, template, "get", 404)
        assert response.get_json()["error"]["code"] == "no_results"
    _tallied(client, world)
    for template in (PACKAGE, RESULTS):  # tallied: staff only, not the public
        response = client.get(_url(template, slug=world.slug))
        assert_matches_spec(response, template, "get", 404)
        assert response.get_json()["error"]["code"] == "no_results"
    for template in (PACKAGE, RESULTS):
        response = client.get(_url(template, slug="nope"))
        assert_matches_spec(response, template, "get", 404)
        assert response.get_json()["error"]["code"] == "cycle_not_found"


def test_published_package_and_results_match_the_document(app_ctx, client, signing_key):
    world = vs.voting_cycle()
    record = _tallied(client, world)
    advance(vs.reload(world.cycle), CycleState.PUBLISHED, None)
    package = client.get(_url(PACKAGE, slug=world.slug))
    assert_zip_matches_spec(package, PACKAGE, 200)
    digest = hashlib.sha256(package.data).hexdigest()
    assert digest == record.sha256
    assert package.headers["ETag"] == f'"{digest}"'
    assert package.headers["Content-Disposition"] == f"attachment; filename={world.slug}-tally.zip"
    results = client.get(_url(RESULTS, slug=world.slug))
    assert_matches_spec(results, RESULTS, "get", 200)
    body = results.get_json()
    assert body["package_sha256"] == digest
    assert body["key_fingerprint"] == client.get(KEYS).get_json()["keys"][0]["fingerprint"]
    in_zip = json.loads(zipfile.ZipFile(io.BytesIO(package.data)).read("result.json"))
    assert body["result"] == in_zip
    assert body["result"]["ballots"] == 3


def test_package_conditional_and_range_requests(app_ctx, client, signing_key):
    world = vs.voting_cycle()
    record = _tallied(client, world)
    advance(vs.reload(world.cycle), CycleState.PUBLISHED, None)
    url = _url(PACKAGE, slug=world.slug)
    unchanged = client.get(url, headers={"If-None-Match": f'"{record.sha256}"'})
    assert unchanged.status_code == 304
    assert "304" in SPEC["paths"][PACKAGE]["get"]["responses"]
    assert unchanged.data == b""
    part = client.get(url, headers={"Range": "bytes=0-3"})
    assert_zip_matches_spec(part, PACKAGE, 206)
    assert part.data == b"PK\x03\x04" == record.package[:4]


# --- POST /cycles/{slug}/ballots when the database is unreachable ----------------------------


def test_casting_answers_503_with_retry_after_when_the_database_is_down(make_app, redis_url):
    down = make_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=UNREACHABLE_DB,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
        REDIS_URL=redis_url,
        RATELIMIT_STORAGE_URI="memory://",
    )
    body = vs.body("123456780248", [1, 2])
    response = down.test_client().post(_url(BALLOTS, slug="op-2026"), json=body)
    assert_matches_spec(response, BALLOTS, "post", 503)
    assert response.get_json()["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) >= 1
