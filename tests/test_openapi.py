"""The OpenAPI document: valid, served as-is, and covering exactly the routes that exist."""

from __future__ import annotations

import re

import pytest
from jsonschema import ValidationError
from openapi_spec_validator import validate

from opdigital.cycles.models import CycleKind, EventKind, PhaseKind
from opdigital.cycles.states import CycleState
from opdigital.proposals.models import ExecutionStatus, HistoryTrack, ProposalOrigin, ProposalStatus
from tests.support.api import SPEC, assert_matches_spec, validate_against


def _template(rule: str) -> str:
    """Werkzeug rule `/a/<slug>/b` (or `<string:slug>`) as an OpenAPI template `/a/{slug}/b`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _schema(name: str) -> dict:
    return SPEC["components"]["schemas"][name]


def test_document_is_valid_openapi():
    validate(SPEC)
    assert SPEC["openapi"].startswith("3.")


def test_served_document_is_the_file(client):
    response = client.get("/api/v1/openapi.json")
    assert_matches_spec(response, "/api/v1/openapi.json", "get", 200)
    assert response.get_json() == SPEC


def test_every_api_route_is_documented_and_nothing_else(app):
    routes = {
        (_template(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") or rule.rule == "/healthz"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method)
        for path, operations in SPEC["paths"].items()
        for method in operations
        if method in {"get", "put", "post", "delete", "patch"}
    }
    assert routes == documented


def test_path_parameters_match_the_routes():
    for path, operations in SPEC["paths"].items():
        in_template = set(re.findall(r"{([^}]+)}", path))
        for operation in operations.values():
            params = [
                SPEC["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                for p in operation.get("parameters", [])
            ]
            assert {p["name"] for p in params if p["in"] == "path"} == in_template, path


def test_every_operation_documents_its_errors_as_the_error_schema():
    for path, operations in SPEC["paths"].items():
        for operation in operations.values():
            assert operation["responses"]["default"]["$ref"] == "#/components/responses/Error"
            if "{slug}" in path:
                assert operation["responses"]["404"]["$ref"] == "#/components/responses/NotFound"


def test_enums_in_the_document_match_the_code():
    def values(enum):
        return [e.value for e in enum]

    assert _schema("CycleSummary")["properties"]["kind"]["enum"] == values(CycleKind)
    public_states = [s for s in values(CycleState) if s != "draft"]
    assert _schema("CycleSummary")["properties"]["state"]["enum"] == public_states
    assert _schema("CycleDetail")["properties"]["state"]["enum"] == public_states
    assert _schema("Phase")["properties"]["kind"]["enum"] == values(PhaseKind)
    assert _schema("ScheduleEvent")["properties"]["kind"]["enum"] == values(EventKind)
    proposal = _schema("Proposal")["properties"]
    assert proposal["status"]["enum"] == values(ProposalStatus)
    assert proposal["origin"]["enum"] == values(ProposalOrigin)
    assert proposal["execution_status"]["enum"] == [*values(ExecutionStatus), None]
    assert _schema("ProposalHistoryEntry")["properties"]["track"]["enum"] == values(HistoryTrack)
    assert set(_schema("ProposalCounts")["required"]) == set(values(ProposalStatus))
    status_param = SPEC["components"]["parameters"]["StatusFilter"]["schema"]["enum"]
    assert status_param == values(ProposalStatus)


def test_object_schemas_are_closed_and_require_every_property():
    for name, schema in SPEC["components"]["schemas"].items():
        if schema.get("type") == "object":
            assert schema["additionalProperties"] is False, name
            assert set(schema["required"]) == set(schema["properties"]), name


def test_the_validator_rejects_what_the_document_forbids():
    """Guard against a helper that accepts anything: extra, missing and mistyped fields fail."""
    validate_against("/components/schemas/Error", {"error": {"code": "x", "message": "No."}})
    for bad in (
        {"error": {"code": "not_found"}},
        {"error": {"code": "not_found", "message": "No.", "extra": 1}},
        {"error": {"code": 404, "message": "No."}},
        {"detail": "No."},
    ):
        with pytest.raises(ValidationError):
            validate_against("/components/schemas/Error", bad)
    phase = {
        "id": 1,
        "kind": "voting",
        "name": "Votação",
        "description": "",
        "position": 0,
        "starts_at": "2026-01-01T00:00:00-03:00",
        "ends_at": "2026-01-02T00:00:00-03:00",
        "status": "current",
    }
    validate_against("/components/schemas/Phase", phase)
    with pytest.raises(ValidationError, match="date-time"):
        validate_against("/components/schemas/Phase", phase | {"starts_at": "tomorrow"})
    with pytest.raises(ValidationError):
        validate_against("/components/schemas/Phase", phase | {"kind": "party"})


def test_footer_link_points_to_the_document(app):
    with app.test_request_context():
        from flask import url_for

        assert url_for("api.openapi") == "/api/v1/openapi.json"


def _parameter(parameter: dict) -> dict:
    if "$ref" in parameter:
        return SPEC["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
    return parameter


def test_receipt_codes_travel_in_bodies_never_in_urls():
    """A receipt code shows the voter's choices, and access logs keep URLs (issue 10)."""
    lookup = SPEC["paths"]["/api/v1/cycles/{slug}/receipts"]["post"]
    assert lookup["operationId"] == "lookUpReceipt"
    body = lookup["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ReceiptLookupRequest"}
    assert _schema("ReceiptLookupRequest")["required"] == ["receipt"]
    for path, operations in SPEC["paths"].items():
        for operation in operations.values():
            in_url = {
                _parameter(p)["name"]
                for p in operation.get("parameters", [])
                if _parameter(p)["in"] in ("path", "query")
            }
            if in_url & {"code", "receipt", "codigo"}:
                # Only the old lookup, which answers 410 and looks nothing up.
                assert operation.get("deprecated") is True, path
                assert set(operation["responses"]) == {"404", "410", "default"}, path
