"""Derive the compact R1 contract from RUCKUS's published OpenAPI documents.

    python -m workflows.r1.contract.build [--source DIR] [--check]

Reads `DIR/*.yaml` (default: `$PHASEGRID_R1_OPENAPI`, else the nearest
`shared/r1-openapi` beside the project or an ancestor) and writes
`r1_contract.json` next to this file: the operations phasegrid calls, their
parameters and request/response schemas as JSON Schema 2020-12, no prose.
`--check` exits 1 if the committed file is not what the documents give (CI runs
it through the test suite).

What the build changes, deliberately, and only this:
- OpenAPI 3.0 dialect -> JSON Schema: `nullable`, boolean `exclusiveMinimum`,
  `$ref`s renamed into one `$defs` (prefixed by service); descriptions,
  examples and defaults dropped.
- Objects are closed (`unevaluatedProperties: false`) unless they are the base
  of an `allOf` or declare `additionalProperties`: R1 silently ignores a body
  field or filter it does not define, so sending one is a bug we want to see,
  and a simulator answering a field R1 does not have is one too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from workflows.r1.contract.operations import (
    CORRECTIONS,
    DISCRIMINATORS,
    EXTRA_OPERATIONS,
    MEDIA,
    OPERATIONS,
)

HERE = Path(__file__).resolve().parent
CONTRACT_FILE = HERE / "r1_contract.json"
PROJECT = HERE.parents[2]
_DROP = {
    "description",
    "example",
    "examples",
    "default",
    "xml",
    "externalDocs",
    "title",
    "discriminator",
    "deprecated",
}
_JSON_TYPES = (
    "application/json",
    "application/vnd.ruckus.v1+json",
    "multipart/form-data",
    "application/octet-stream",
    "text/csv",
    "*/*",
)


def default_source() -> Path:
    """`$PHASEGRID_R1_OPENAPI`, else the nearest `shared/r1-openapi` beside the
    project or one of its ancestors (the developers' tree; CI clones within it)."""
    env = os.environ.get("PHASEGRID_R1_OPENAPI")
    if env:
        return Path(env)
    for folder in PROJECT.parents:
        candidate = folder / "shared" / "r1-openapi"
        if candidate.is_dir():
            return candidate
    return PROJECT.parent / "shared" / "r1-openapi"


def service_of(filename: str) -> str:
    """`wifi_api-17.3.3.205.yaml` -> `wifi_api`: the prefix of its `$defs`."""
    return filename.split("-", 1)[0]


class _Converter:
    """Converts one document's schemas, collecting the components they use."""

    def __init__(self, service: str, doc: dict[str, Any], defs: dict[str, Any]) -> None:
        self.service = service
        self.components = doc.get("components", {}).get("schemas", {})
        self.defs = defs
        self.allof_bases: set[str] = set()
        self._scan_allof_bases()

    def _scan_allof_bases(self) -> None:
        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for member in node.get("allOf", []):
                    if isinstance(member, dict) and "$ref" in member:
                        self.allof_bases.add(member["$ref"].rsplit("/", 1)[-1])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.components)

    def ref(self, name: str) -> str:
        key = f"{self.service}.{name}"
        if key not in self.defs:
            self.defs[key] = {}  # placeholder first: schemas may be recursive
            self.defs[key] = self.convert(self.components[name], close=name not in self.allof_bases)
        return f"#/$defs/{key}"

    def convert(self, node: Any, *, close: bool = True) -> Any:
        if isinstance(node, list):
            return [self.convert(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return {"$ref": self.ref(node["$ref"].rsplit("/", 1)[-1])}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROP or key.startswith("x-") or key == "nullable":
                continue
            if key == "properties":
                out[key] = {name: self.convert(sub) for name, sub in value.items()}
            elif key == "allOf":
                out[key] = [self.convert(sub, close=False) for sub in value]
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
                bound = "minimum" if key == "exclusiveMinimum" else "maximum"
                if value and bound in node:
                    out[key] = node[bound]
            elif key in ("items", "additionalProperties", "not"):
                out[key] = self.convert(value)
            elif key in ("oneOf", "anyOf"):
                out[key] = [self.convert(sub) for sub in value]
            else:
                out[key] = value
        if "exclusiveMinimum" in out and out.get("minimum") == out["exclusiveMinimum"]:
            del out["minimum"]
        if "exclusiveMaximum" in out and out.get("maximum") == out["exclusiveMaximum"]:
            del out["maximum"]
        if node.get("nullable"):
            out = _nullable(out)
        if close and ("properties" in out or "allOf" in out) and "additionalProperties" not in out:
            out["unevaluatedProperties"] = False
        return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema = {**schema, "type": [kind, "null"]}
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _content(
    conv: _Converter, content: dict[str, Any], prefer: str | None = None
) -> dict[str, Any]:
    """The first JSON-like media type's schema, and `prefer`'s (a documented
    alternative phasegrid sends, see `MEDIA`) next to it."""
    out = {}
    if prefer in content:
        out[prefer] = conv.convert(content[prefer].get("schema", {}))
    for media in _JSON_TYPES:
        if media in content:
            out[media] = conv.convert(content[media].get("schema", {}))
            break
    return out


def _parameters(conv: _Converter, params: list[dict[str, Any]], doc: dict[str, Any]):
    out: dict[str, dict[str, Any]] = {}
    for param in params:
        if "$ref" in param:
            param = doc["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
        where = param["in"]
        if where == "header":
            continue  # headers (tenant, content type) belong to the transport
        schema = param.get("schema", {})
        target = conv.components.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
        if where == "query" and target.get("type") == "object" and param.get("explode", True):
            # A Spring object parameter (`pageable`) is exploded into its fields.
            for name, sub in target.get("properties", {}).items():
                out.setdefault("query", {})[name] = {"required": False, "schema": conv.convert(sub)}
            continue
        out.setdefault(where, {})[param["name"]] = {
            "required": bool(param.get("required", where == "path")),
            "schema": conv.convert(schema),
        }
    return out


def build(source: Path) -> dict[str, Any]:
    import yaml  # the build runs in the test extra only

    docs = {p.name: p for p in sorted(source.glob("*.yaml"))}
    if not docs:
        raise SystemExit(f"no OpenAPI documents (*.yaml) in {source}")
    defs: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    sources: dict[str, str] = {}
    loaded = {name: yaml.safe_load(path.read_text()) for name, path in docs.items()}
    for key, filename in OPERATIONS.items():
        method, path = key.split(" ", 1)
        if filename not in loaded:
            raise SystemExit(f"{key}: document {filename} is not in {source}")
        doc = loaded[filename]
        sources[filename] = hashlib.sha256(docs[filename].read_bytes()).hexdigest()
        try:
            op = doc["paths"][path][method.lower()]
        except KeyError:
            raise SystemExit(f"{key}: not an operation of {filename}") from None
        conv = _Converter(service_of(filename), doc, defs)
        body = op.get("requestBody")
        responses = {
            status: _content(conv, answer.get("content", {}), MEDIA.get(key))
            for status, answer in op.get("responses", {}).items()
            if str(status).startswith("2")
        }
        operations[key] = {
            "document": filename,
            "operationId": op.get("operationId"),
            "parameters": _parameters(
                conv, [*doc["paths"][path].get("parameters", []), *op.get("parameters", [])], doc
            ),
            "requestBody": None
            if body is None
            else {
                "required": bool(body.get("required")),
                "content": _content(conv, body.get("content", {}), MEDIA.get(key)),
            },
            "responses": responses,
        }
    for key, extra in EXTRA_OPERATIONS.items():
        operations[key] = {"document": None, **extra}
    for service, values in DISCRIMINATORS.items():
        for schema_name, value in values.items():
            node = defs.get(f"{service}.{schema_name}")
            if node is not None:
                node.setdefault("properties", {})["type"] = {"const": value}
    for name, pointer, schema, _why in CORRECTIONS:
        if name.startswith("op:"):
            _replace(operations, name[3:], pointer, schema)
        else:
            _replace(defs, name, pointer, schema)
    return {
        "comment": "Generated by `python -m workflows.r1.contract.build`; do not edit.",
        "sources": dict(sorted(sources.items())),
        "operations": dict(sorted(operations.items())),
        "$defs": dict(sorted(defs.items())),
    }


def _replace(table: dict[str, Any], name: str, pointer: str, schema: Any) -> None:
    if name not in table:
        raise SystemExit(f"correction for {name}: not in the contract")
    *parents, last = [
        p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/")
    ]
    node = table[name]
    for part in parents:
        node = node[part]
    if last not in node:
        raise SystemExit(f"correction for {name}{pointer}: nothing there to correct")
    node[last] = schema


def render(contract: dict[str, Any]) -> str:
    return json.dumps(contract, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows.r1.contract.build")
    parser.add_argument("--source", type=Path, default=None, help="directory of *.yaml")
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    source = args.source or default_source()
    text = render(build(source))
    if args.check:
        current = CONTRACT_FILE.read_text() if CONTRACT_FILE.exists() else ""
        if current != text:
            print(f"{CONTRACT_FILE} is stale against {source}: rebuild it", file=sys.stderr)
            return 1
        print(f"{CONTRACT_FILE.name} is current against {source}")
        return 0
    CONTRACT_FILE.write_text(text)
    print(f"wrote {CONTRACT_FILE} ({len(json.loads(text)['operations'])} operations)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
