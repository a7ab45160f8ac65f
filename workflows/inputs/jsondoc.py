"""JSON loading with located errors: syntax errors with line/column, and a
lazily built map from JSON paths (`dpsks[12].vlanid`) to line numbers."""

from __future__ import annotations

import bisect
import contextlib
import json
import re
from collections.abc import Sequence
from json.decoder import scanstring
from typing import Any

from .errors import ErrorCollector, Where

Path = tuple[str | int, ...]
_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


class _BadConstant(ValueError):
    pass


def _skip_ws(text: str, i: int) -> int:
    match = _WS.match(text, i)
    return match.end() if match else i


def _reject_constant(name: str) -> Any:
    raise _BadConstant(name)


def format_path(path: Sequence[str | int]) -> str:
    """('dpsks', 12, 'vlanid') -> 'dpsks[12].vlanid'; () -> '$'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text or "$"


class JsonDoc:
    """A parsed JSON document that can tell the line of any value in it."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.data = self._load()
        self._offsets: dict[Path, int] | None = None
        self._line_starts: list[int] = []

    def _load(self) -> Any:
        fail = ErrorCollector(self.source).fail
        if not self.text.strip():
            fail(Where(self.source), "file", "is empty")
        try:
            return json.loads(self.text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            fail(Where(self.source, exc.lineno, exc.colno), "json", f"invalid JSON: {exc.msg}")
        except _BadConstant as exc:
            fail(Where(self.source), "json", f"invalid JSON: {exc} is not allowed")
        except RecursionError:
            fail(Where(self.source), "json", "invalid JSON: nested too deeply")
        except ValueError:
            fail(Where(self.source), "json", "invalid JSON: a number is too long")

    def where(self, path: Sequence[str | int]) -> Where:
        """The line of the value at `path`, or of its nearest existing ancestor."""
        offsets = self._positions()
        key = tuple(path)
        while key and key not in offsets:
            key = key[:-1]
        offset = offsets.get(key)
        if offset is None:
            return Where(self.source)
        return Where(self.source, bisect.bisect_right(self._line_starts, offset))

    def locate(self, path: Sequence[str | int]) -> tuple[Where, str]:
        return self.where(path), format_path(path)

    def _positions(self) -> dict[Path, int]:
        if self._offsets is None:
            self._offsets = {}
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
            with contextlib.suppress(RecursionError, IndexError, ValueError):
                self._walk(0, ())  # best effort: lines stay unknown past a failure
        return self._offsets

    def _walk(self, i: int, path: Path) -> int:
        text, offsets = self.text, self._offsets
        if offsets is None:
            return i
        i = _skip_ws(text, i)
        offsets[path] = i
        char = text[i]
        if char == '"':
            return scanstring(text, i + 1)[1]
        if char in "{[":
            close = "}" if char == "{" else "]"
            i = _skip_ws(text, i + 1)
            index = 0
            while text[i] != close:
                if char == "{":
                    key, i = scanstring(text, i + 1)
                    i = _skip_ws(text, i) + 1  # past ':'
                    i = self._walk(i, (*path, key))
                else:
                    i = self._walk(i, (*path, index))
                    index += 1
                i = _skip_ws(text, i)
                if text[i] == ",":
                    i = _skip_ws(text, i + 1)
            return i + 1
        match = _SCALAR.match(text, i)
        if match is None:
            raise ValueError(f"unexpected character at {i}")
        return match.end()
