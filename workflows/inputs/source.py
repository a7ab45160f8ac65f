"""Turn a path, a text or bytes into decoded text plus a name for error messages."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from engine.bounds import MAX_INPUT_BYTES

from .errors import ErrorCollector, Where

Source = str | bytes | os.PathLike[str]
TEXT_SOURCE_NAME = "<input>"


def _looks_like_path(value: str) -> bool:
    if "\n" in value or "\r" in value or not value.strip() or len(value) >= 4096:
        return False
    if value.lower().endswith((".csv", ".json", ".txt")):
        return True
    try:
        return Path(value).is_file()
    except (OSError, ValueError):
        return False


def decode_bytes(data: bytes, source: str) -> str:
    """UTF-8 (optional BOM), or UTF-16 with a BOM; anything else is an InputError."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            ErrorCollector(source).fail(Where(source), "file", "not valid UTF-16 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        ErrorCollector(source).fail(
            Where(source, line, col),
            "file",
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
        )
    return text.removeprefix("\ufeff")


def _check_size(size: int, name: str) -> None:
    """Refused before reading or parsing: a huge input would cost minutes and gigabytes."""
    if size > MAX_INPUT_BYTES:
        ErrorCollector(name).fail(
            Where(name), "file", f"too large ({size} bytes; at most {MAX_INPUT_BYTES})"
        )


def read_source(path_or_text: Source, source_name: str | None = None) -> tuple[str, str]:
    """(text, source name); a str is a path when it names a file (or ends .csv/.json)."""
    if isinstance(path_or_text, bytes):
        name = source_name or TEXT_SOURCE_NAME
        _check_size(len(path_or_text), name)
        return decode_bytes(path_or_text, name), name
    if isinstance(path_or_text, str) and not _looks_like_path(path_or_text):
        _check_size(len(path_or_text), source_name or TEXT_SOURCE_NAME)
        return path_or_text.removeprefix("\ufeff"), source_name or TEXT_SOURCE_NAME
    path = Path(path_or_text)
    name = source_name or path.name
    try:
        _check_size(path.stat().st_size, name)
        data = path.read_bytes()
    except FileNotFoundError:
        ErrorCollector(name).fail(Where(name), "file", f"not found: {str(path)!r}")
    except IsADirectoryError:
        ErrorCollector(name).fail(Where(name), "file", "is a directory, not a file")
    except OSError as exc:
        ErrorCollector(name).fail(Where(name), "file", f"cannot be read ({exc.strerror})")
    return decode_bytes(data, name), name


def require_content(text: str, source: str) -> None:
    """An empty (or whitespace-only) input is an error."""
    if not text.strip():
        ErrorCollector(source).fail(Where(source), "file", "is empty")
