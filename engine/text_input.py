"""Inputs as users have them: an input file's content, given as text to a face
(plan_job's `input_text`), read by the workflow's own parser (`WorkflowSpec.parse_text`:
the CLI's loaders), so the engine needs to know no file format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from engine.bounds import MAX_INPUT_BYTES
from engine.errors import InputError
from engine.registry import Registry

InputFormat = Literal["auto", "csv", "json", "cloudpath"]
INPUT_FORMATS: tuple[str, ...] = get_args(InputFormat)


@dataclass(frozen=True)
class ParsedInput:
    """Typed units, and the options the input implies (a Cloudpath export's pool)."""

    units: list[Any]
    options: dict[str, Any] = field(default_factory=dict)


def parse_input(registry: Registry, workflow: str, text: str, fmt: str = "auto") -> ParsedInput:
    """Parse `text` for `workflow`; InputError (located details, no secret) otherwise."""
    spec = registry.get(workflow)
    if fmt not in INPUT_FORMATS:
        raise InputError(
            "invalid format", details=[f"format: must be one of {', '.join(INPUT_FORMATS)}"]
        )
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_INPUT_BYTES:
        raise InputError(
            "input too large", details=[f"input_text: {size} bytes; at most {MAX_INPUT_BYTES}"]
        )
    if spec.parse_text is None:
        raise InputError(
            f"{workflow} reads no input text",
            details=[f"input_text: {workflow} takes unit objects only; pass units instead"],
        )
    units, options = spec.parse_text(text, fmt)
    return ParsedInput(list(units), dict(options))
