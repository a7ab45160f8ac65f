"""Error-body parsing and the mapping onto the engine's retry classification."""

from __future__ import annotations

import json

from engine.activities import ActivityResult
from engine.errors import PermanentError, RateLimitedError, TransientError
from workflows.r1 import (
    R1ActivityFailed,
    R1ActivityFailedTransient,
    R1Error,
    R1PermanentError,
    R1RateLimited,
    R1TransientError,
    raise_for_activity,
)
from workflows.r1.errors import error_for_status, parse_error_payload


def nested_fail(message: str, sub: str, field: str = "name") -> str:
    inner = json.dumps(
        {
            "message": message,
            "subErrors": [{"object": "dpskService", "field": field, "message": sub}],
        }
    )
    return json.dumps({"requestId": "req-1", "errors": [inner]})


def test_classes_plug_into_engine_hierarchy() -> None:
    assert issubclass(R1PermanentError, PermanentError) and issubclass(R1PermanentError, R1Error)
    assert issubclass(R1TransientError, TransientError)
    assert issubclass(R1RateLimited, RateLimitedError) and issubclass(R1RateLimited, TransientError)
    err = R1RateLimited(retry_after=2.5)
    assert err.retry_after == 2.5 and err.status == 429 and err.transient


def test_sync_body_shapes() -> None:
    info = parse_error_payload(
        {
            "errors": [
                {"code": "WIFI-10001", "message": "Bad VLAN", "reason": "vlanId must be 1-4094"}
            ]
        }
    )
    assert (info.code, info.message) == ("WIFI-10001", "Bad VLAN")
    assert info.details == ["vlanId must be 1-4094"]
    assert parse_error_payload({"message": "Not here", "error": "Not Found"}).message == "Not here"
    assert parse_error_payload({"error": "invalid_client"}).message == "invalid_client"
    assert parse_error_payload("plain text").message == "plain text"
    assert parse_error_payload(None).message is None


def test_status_mapping() -> None:
    assert isinstance(error_for_status(400, {"message": "x"}), R1PermanentError)
    assert isinstance(error_for_status(409, {"message": "x"}), R1PermanentError)
    assert isinstance(error_for_status(408, None), R1TransientError)
    assert isinstance(error_for_status(503, None), R1TransientError)
    err = error_for_status(429, None, retry_after=4.0)
    assert isinstance(err, R1RateLimited) and err.retry_after == 4.0


def test_activity_fail_json_in_json_innermost_message() -> None:
    raw = nested_fail("Validation Error", "Name must be unique")
    info = parse_error_payload(raw)
    assert info.message == "Validation Error"
    assert info.details == ["name: Name must be unique"]
    result = ActivityResult(id="req-1", status="FAIL", error=raw)
    try:
        raise_for_activity(result)
    except R1ActivityFailed as err:
        assert isinstance(err, PermanentError)
        assert "Name must be unique" in str(err) and err.activity_id == "req-1"
    else:  # pragma: no cover
        raise AssertionError("no error raised")


def test_activity_fail_doubly_encoded_and_transient() -> None:
    inner = json.dumps({"message": "Internal error, please retry"})
    raw = json.dumps(json.dumps({"errors": [inner]}))
    result = ActivityResult(id="req-2", status="FAIL", error=raw)
    try:
        raise_for_activity(result)
    except R1ActivityFailedTransient as err:
        assert isinstance(err, TransientError)
        assert "Internal error, please retry" in str(err)
    else:  # pragma: no cover
        raise AssertionError("no error raised")
    ok = ActivityResult(id="req-3", status="SUCCESS")
    assert raise_for_activity(ok) is ok
