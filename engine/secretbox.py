"""The secret box: passphrases and PSKs are sealed before they reach Redis.

Redis, and the AOF it writes to disk, only ever hold AES-GCM ciphertext of a
secret field. The key never goes into Redis: it comes from the environment
(`PHASEGRID_SECRET_KEY`) or from a 0600 key file in the data directory,
created on first use. A worker on another machine must be given the same key
explicitly. Each sealed value is bound to its job id, so a value copied into
another job does not open, and a wrong key is a clear error, never garbage.

    box = SecretBox.load(data_dir)
    stored = box.dumps(unit, job_id)                     # JSON, secrets sealed
    data = box.open_tree(json.loads(stored), job_id)     # only where units run
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, SecretBytes, SecretStr

from engine.errors import PhasegridError

KEY_ENV = "PHASEGRID_SECRET_KEY"
KEY_FILE = "secret.key"
PREFIX = "pgs1:"
_NONCE = 12


class SecretKeyError(PhasegridError):
    """No usable key, or a sealed value this key cannot open."""

    kind = "secret_key"


def encode_key(key: bytes) -> str:
    """The text form of a key (what the key file and `PHASEGRID_SECRET_KEY` hold)."""
    return base64.urlsafe_b64encode(key).decode()


_SEALED = re.compile(PREFIX + r"[0-9a-f]{8}:[A-Za-z0-9_=-]+")


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def without_ciphertext(text: str) -> str:
    """`text` with every sealed value (even inside nested JSON) reduced to a marker."""
    return _SEALED.sub(PREFIX, text)


class SecretBox:
    """Seals and opens secret values with one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise SecretKeyError("a phasegrid secret key is 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"phasegrid-key-id\0" + key).hexdigest()[:8]
        """Names the key in sealed values and errors without revealing it."""

    def __repr__(self) -> str:
        return f"SecretBox(key_id={self.key_id!r})"

    @classmethod
    def generate(cls) -> SecretBox:
        """A fresh key known to this process only (tests, or a single-process engine)."""
        return cls(AESGCM.generate_key(bit_length=256))

    @classmethod
    def from_text(cls, text: str, source: str) -> SecretBox:
        try:
            key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            key = b""
        if len(key) != 32:
            raise SecretKeyError(
                f"{source} does not hold a phasegrid secret key (32 bytes, URL-safe base64)"
            )
        return cls(key)

    @classmethod
    def load(cls, data_dir: Path | str, environ: Mapping[str, str] | None = None) -> SecretBox:
        """The key from `PHASEGRID_SECRET_KEY`, else `<data_dir>/secret.key` (created 0600)."""
        env = os.environ if environ is None else environ
        text = env.get(KEY_ENV)
        if text:
            return cls.from_text(text, KEY_ENV)
        path = Path(data_dir) / KEY_FILE
        return cls.from_text(read_or_create_key_file(path), str(path))

    # -- one value ------------------------------------------------------------------

    def seal(self, text: str, context: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), _aad(context))
        return f"{PREFIX}{self.key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, token: str, context: str) -> str:
        key_id, _, body = token.removeprefix(PREFIX).partition(":")
        if key_id != self.key_id:
            raise SecretKeyError(
                f"the secrets of job {context} were sealed with key {key_id}, but this process "
                f"has key {self.key_id}: give every phasegrid process sharing this Redis the "
                f"same {KEY_ENV}"
            )
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], _aad(context)).decode("utf-8")
        except (InvalidTag, binascii.Error, UnicodeError, ValueError):
            raise SecretKeyError(
                f"a sealed value of job {context} does not open (altered, or not from this job)"
            ) from None

    # -- whole documents --------------------------------------------------------------

    def dumps(self, obj: Any, context: str, fields: Iterable[str] = ()) -> str:
        """JSON of a model (for Redis): every `SecretStr` sealed, and the named
        top-level fields too (secrets a workflow declares without the type)."""
        data = self._seal_tree(obj, context)
        if isinstance(data, dict):
            for name in fields:
                value = data.get(name)
                if isinstance(value, str) and value and not is_sealed(value):
                    data[name] = self.seal(value, context)
        return json.dumps(data, default=str, separators=(",", ":"))

    def open_tree(self, data: Any, context: str) -> Any:
        """Decoded JSON with every sealed value opened (raises `SecretKeyError`)."""
        if is_sealed(data):
            return self.open(data, context)
        if isinstance(data, dict):
            return {k: self.open_tree(v, context) for k, v in data.items()}
        if isinstance(data, list):
            return [self.open_tree(v, context) for v in data]
        return data

    def _seal_tree(self, value: Any, context: str) -> Any:
        if isinstance(value, SecretStr):
            return self.seal(value.get_secret_value(), context)
        if isinstance(value, SecretBytes):
            return self.seal(value.get_secret_value().decode("utf-8"), context)
        if isinstance(value, BaseModel):
            return {
                k: self._seal_tree(getattr(value, k), context) for k in type(value).model_fields
            }
        if isinstance(value, dict):
            return {k: self._seal_tree(v, context) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._seal_tree(v, context) for v in value]
        return value


def _aad(context: str) -> bytes:
    return b"phasegrid-job\0" + context.encode("utf-8")


def read_or_create_key_file(path: Path) -> str:
    """The key file's text; a new random key (mode 0600) when there is none.

    Two processes starting at once agree: the key is written to a private
    temporary file and hard-linked into place, which fails if one exists.
    """
    with contextlib.suppress(FileNotFoundError):
        return _read_private(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(encode_key(AESGCM.generate_key(bit_length=256)) + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read_private(path)


def _read_private(path: Path) -> str:
    mode = os.stat(path).st_mode
    if mode & 0o077:
        raise SecretKeyError(
            f"{path} can be read by other users (mode {mode & 0o777:o}): run chmod 600 on it"
        )
    return path.read_text()
