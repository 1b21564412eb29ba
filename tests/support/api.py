"""Shared by the API tests: checking a response against the OpenAPI document, and test data.

No tests here. `assert_matches_spec` validates a real response body against the schema the
document gives for (path, method, status), resolving `$ref`s against the whole document.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from openapi_schema_validator import OAS31Validator, oas31_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from opdigital.cycles.models import RegionBudget
from opdigital.extensions import db
from opdigital.proposals.models import ProposalHistory
from tests.support import factories

SPEC_PATH = Path(__file__).resolve().parents[2] / "opdigital" / "api" / "openapi.json"
SPEC = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
SPEC_URI = "urn:opdigital:openapi"
REGISTRY = Registry().with_resource(
    SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(*tokens: str) -> str:
    return "".join("/" + _escape(t) for t in tokens)


def response_pointer(path_template: str, method: str, status: int) -> str:
    operation = SPEC["paths"][path_template][method.lower()]
    assert str(status) in operation["responses"], (
        f"{method.upper()} {path_template} answered {status}, which the document does not list"
    )
    response = operation["responses"][str(status)]
    if "$ref" in response:
        assert response["$ref"].startswith("#/")
        return response["$ref"][1:]
    return _pointer("paths", path_template, method.lower(), "responses", str(status))


def validate_against(pointer: str, instance) -> None:
    """Validate `instance` against the schema at JSON pointer `pointer` in the document."""
    validator = OAS31Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"}, registry=REGISTRY, format_checker=oas31_format_checker
    )
    validator.validate(instance)


def media_type(response) -> str:
    return response.headers["Content-Type"].split(";")[0].strip()


def assert_matches_spec(response, path_template: str, method: str, status: int) -> None:
    """The response has `status`, a documented media type, and a body valid for its schema."""
    assert response.status_code == status, response.get_data(as_text=True)
    pointer = response_pointer(path_template, method, status)
    resolved = SPEC
    for token in pointer.strip("/").split("/"):
        resolved = resolved[token.replace("~1", "/").replace("~0", "~")]
    content_type = media_type(response)
    assert content_type in resolved["content"], f"{content_type} not documented at {pointer}"
    schema_pointer = pointer + _pointer("content", content_type, "schema")
    # JSON and its structured-syntax kinds (application/geo+json) are compared as JSON.
    is_json = content_type == "application/json" or content_type.endswith("+json")
    body = (
        json.loads(response.get_data(as_text=True)) if is_json else response.get_data(as_text=True)
    )
    validate_against(schema_pointer, body)
    assert_documented_headers(response, resolved, pointer)


def assert_documented_headers(response, resolved: dict, pointer: str) -> None:
    """Headers the document marks as required are present, and valid for their schema."""
    for name, header in resolved.get("headers", {}).items():
        if name not in response.headers:
            assert not header.get("required"), f"{name} missing, required at {pointer}"
            continue
        value = response.headers[name]
        if header.get("schema", {}).get("type") == "integer":
            assert value.isdigit(), f"{name}: {value!r} is not an integer"
            value = int(value)
        validate_against(pointer + _pointer("headers", name, "schema"), value)


def assert_error(response, status: int, code: str | None = None) -> None:
    """A JSON error body as documented, with the expected status (and code)."""
    assert response.status_code == status
    validate_against("/components/schemas/Error", response.get_json())
    if code is not None:
        assert response.get_json()["error"]["code"] == code


def all_keys(value) -> set[str]:
    """Every key at any depth of a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


T0 = datetime(2026, 9, 1, 3, tzinfo=UTC)  # 2026-09-01 00:00 in Belo Horizonte
SECRET_CONTACT = "maria.segredo@example.org"


def build_world(state: str = "voting") -> SimpleNamespace:
    """Two regions, a school, a cycle with phases, every kind of event scope, two proposals."""
    north = factories.region(slug="norte", name="Norte")
    south = factories.region(slug="barreiro", name="Barreiro")
    school = factories.school(north, slug="em-norte", name="Escola Municipal do Norte")
    cycle = factories.cycle(
        slug="op-2026",
        title="OP Digital 2026",
        state=state,
        description="Votação on-line das obras.",
        phases=[
            ("proposals", T0, T0 + timedelta(days=30)),
            ("review", T0 + timedelta(days=30), T0 + timedelta(days=60)),
            ("voting", T0 + timedelta(days=60), T0 + timedelta(days=90, minutes=30)),
        ],
    )
    cycle.region_budgets.append(RegionBudget(region=north, amount_cents=30_000_000_00))
    cycle.region_budgets.append(RegionBudget(region=south, amount_cents=20_000_000_00))
    db.session.commit()
    city = factories.event(
        cycle, title="Abertura", kind="other", starts_at=T0 + timedelta(days=1), place=""
    )
    in_north = factories.event(
        cycle, title="Assembleia Norte", region=north, starts_at=T0 + timedelta(days=2)
    )
    in_south = factories.event(
        cycle, title="Assembleia Barreiro", region=south, starts_at=T0 + timedelta(days=3)
    )
    at_school = factories.event(
        cycle,
        title="Assembleia escolar",
        kind="school_assembly",
        school=school,
        starts_at=T0 + timedelta(days=4, minutes=15),
    )
    accepted = factories.proposal(
        cycle,
        code="OPD2026-0001",
        region=north,
        place="Praça Norte",
        contact=SECRET_CONTACT,
        reviewed_cost_cents=1_200_000_00,
        status="accepted",
    )
    accepted.history.append(
        ProposalHistory(from_status="submitted", to_status="accepted", note="Viável.")
    )
    rejected = factories.proposal(
        cycle,
        code="OPD2026-0002",
        region=south,
        contact=SECRET_CONTACT,
        status="rejected",
        rejection_reason="Fora da competência municipal.",
    )
    school_proposal = factories.proposal(
        cycle, code="OPD2026-0003", school=school, contact=SECRET_CONTACT
    )
    db.session.commit()
    return SimpleNamespace(
        north=north,
        south=south,
        school=school,
        cycle=cycle,
        city=city,
        in_north=in_north,
        in_south=in_south,
        at_school=at_school,
        accepted=accepted,
        rejected=rejected,
        school_proposal=school_proposal,
    )
