"""Property-based check of the simulator against R1's documents (hypothesis-jsonschema).

For every operation with a JSON body that the simulator serves:
- bodies the documents accept never get a 5xx, and every 2xx answer conforms
  to the documented response schema;
- bodies the documents reject (a field of the wrong type) get an R1-shaped 4xx
  from the simulator itself (the guard is off for that half), never a 5xx.

Bounded (derandomized, a few examples per operation) to stay well under two
minutes; a failure prints the operation and the body hypothesis found.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from workflows.r1.contract.validate import Contract
from workflows.sim import ManualClock, SimConfig, Simulator

CONTRACT = Contract.load()
NOT_SERVED = {"POST /oauth2/token/{tenantId}"}  # form body; covered by tests/sim/test_auth.py
BODY_OPS = sorted(
    key
    for key, spec in CONTRACT.operations.items()
    if key not in NOT_SERVED
    and spec.get("requestBody")
    and "application/json" in spec["requestBody"]["content"]
)
SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure stays bounded
    suppress_health_check=list(HealthCheck),
)


USED_NETWORK_TYPES = ("psk", "dpsk")
"""The Wi-Fi network kinds phasegrid creates: the other four alternatives of
`POST /wifiNetworks` are large and never sent, so they are not drawn."""


def _inline(node: Any, depth: int = 0) -> Any:
    """A schema hypothesis-jsonschema can draw from quickly: refs inlined,
    optional nested objects below depth 2 left out, `unevaluatedProperties:
    false` as `additionalProperties: false` where no `allOf` needs the 2020-12
    keyword, annotations dropped."""
    if isinstance(node, list):
        return [_inline(n, depth) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(CONTRACT.defs[node["$ref"].rsplit("/", 1)[-1]], depth + 1)
    if "allOf" in node:
        node = _flatten(node)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "unevaluatedProperties":
            if "oneOf" not in node:
                out["additionalProperties"] = False
        elif key in ("readOnly", "writeOnly", "format"):
            continue
        elif key == "oneOf":
            kept = [m for m in value if _network_type(m) in (None, *USED_NETWORK_TYPES)]
            out[key] = [_inline(m, depth) for m in kept]
        elif key == "properties":
            required = set(node.get("required", ()))
            out[key] = {
                name: _inline(sub, depth)
                for name, sub in value.items()
                if not (isinstance(sub, dict) and sub.get("readOnly"))
                and (name in required or depth < 2 or not _is_object(sub))
            }
        else:
            out[key] = _inline(value, depth)
    return out


def _flatten(node: dict[str, Any]) -> dict[str, Any]:
    """`allOf` merged into one object, so "no other properties" can be drawn from."""
    merged = {k: v for k, v in node.items() if k != "allOf"}
    merged["properties"] = dict(node.get("properties", {}))
    merged["required"] = list(node.get("required", []))
    for member in node["allOf"]:
        if "$ref" in member:
            member = CONTRACT.defs[member["$ref"].rsplit("/", 1)[-1]]
        if "allOf" in member:
            member = _flatten(member)
        for name, sub in member.get("properties", {}).items():
            have = merged["properties"].get(name)
            both = have is not None and "$ref" not in have and "$ref" not in sub
            merged["properties"][name] = {**have, **sub} if both else sub
        merged["required"] += [r for r in member.get("required", []) if r not in merged["required"]]
    return merged


def _network_type(member: Any) -> str | None:
    ref = member.get("$ref", "") if isinstance(member, dict) else ""
    target = CONTRACT.defs.get(ref.rsplit("/", 1)[-1], {})
    return target.get("properties", {}).get("type", {}).get("const")


def _is_object(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if "$ref" in schema:
        schema = CONTRACT.defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema.get("type") == "object" or "properties" in schema or "allOf" in schema


@cache
def _body_schema(key: str) -> Any:
    return _inline(CONTRACT.operations[key]["requestBody"]["content"]["application/json"])


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False  # lone surrogates: valid JSON escapes, but no HTTP client sends them
    return True


def _simulator(mode: str) -> Simulator:
    return Simulator(
        SimConfig(contract=mode, seed=11, rate_limit_per_minute=10**6, aps=4),
        clock=ManualClock(),
    )


def _path(sim: Simulator, key: str) -> str:
    path = key.split(" ", 1)[1]
    path = path.replace("{venueId}", sim.venue_id or "v-none")
    while "{" in path:
        start = path.index("{")
        path = path[:start] + "unknown-id" + path[path.index("}", start) + 1 :]
    return path


def _send(sim: Simulator, key: str, body: Any) -> httpx.Response:
    import anyio

    method = key.split(" ", 1)[0]
    token, _ = sim.auth.issue(sim.clock.now())

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=sim.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            return await client.request(
                method,
                _path(sim, key),
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )

    return anyio.run(go)


@pytest.mark.parametrize("key", BODY_OPS)
def test_documented_bodies_get_conforming_answers(key: str) -> None:
    sim = _simulator("record")

    @SETTINGS
    @given(from_schema(_body_schema(key)).filter(_encodable))
    def check(body: Any) -> None:
        answer = _send(sim, key, body)
        assert answer.status_code < 500, (key, body, answer.text[:300])
        found = [v.text() for v in sim.contract_violations]
        sim.contract_violations.clear()
        assert not found, (key, body, found)

    check()


def _wrong_type(schema: Any) -> st.SearchStrategy[Any] | None:
    """A body with one documented property given a value of another type."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not props:
        return None
    typed = {
        k: v
        for k, v in props.items()
        if isinstance(v, dict) and v.get("type") in ("string", "integer", "boolean", "array")
    }
    if not typed:
        return None
    wrong = {"string": 12345, "integer": "not-a-number", "boolean": "maybe", "array": 7}

    def build(name: str) -> dict[str, Any]:
        return {name: wrong[typed[name]["type"]]}

    return st.sampled_from(sorted(typed)).map(build)


@pytest.mark.parametrize("key", BODY_OPS)
def test_rejected_bodies_get_r1_shaped_4xx_not_5xx(key: str) -> None:
    strategy = _wrong_type(_body_schema(key))
    if strategy is None:
        assert not isinstance(_body_schema(key), dict) or not _body_schema(key).get("properties")
        return
    sim = _simulator("off")

    @SETTINGS
    @given(strategy)
    def check(body: Any) -> None:
        answer = _send(sim, key, body)
        assert 400 <= answer.status_code < 500, (key, body, answer.status_code, answer.text[:300])
        errors = answer.json().get("errors")
        assert errors and errors[0].get("code") and errors[0].get("message"), answer.text[:300]

    check()
