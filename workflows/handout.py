"""The passphrase hand-out: unit, username, passphrase and SSID of the passphrases a
job created, read live from R1 (phasegrid never keeps them) and written to a file
only its owner can read (0600, never overwritten unless asked).

For the operator at the CLI or TUI only: no remote face returns a passphrase.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from engine.models import LedgerEntry

COLUMNS = ("unit", "username", "passphrase", "ssid")
PASSPHRASE_KINDS = ("passphrase", "passphrase_import")


class HandoutRow(BaseModel):
    unit: str
    username: str
    passphrase: SecretStr
    ssid: str | None = None


class Handout(BaseModel):
    rows: list[HandoutRow]
    wanted: int
    """Passphrases the job created (per its ledger)."""
    missing: list[str]
    """Usernames the ledger names that R1 no longer has (deleted since)."""


def created_usernames(ledger: Sequence[LedgerEntry]) -> dict[str, list[tuple[str, str]]]:
    """pool id -> [(unit, username)] of the passphrases the job created."""
    out: dict[str, list[tuple[str, str]]] = {}
    for e in ledger:
        if e.resource not in PASSPHRASE_KINDS or e.action != "created" or e.unit is None:
            continue
        pool = e.parent.get("pool_id")
        if not pool:
            continue
        names = e.data.get("usernames") if e.resource == "passphrase_import" else [e.name]
        out.setdefault(pool, []).extend((e.unit, str(n)) for n in names or [] if n)
    return out


def ssids(ledger: Sequence[LedgerEntry]) -> dict[str, str]:
    """unit -> the SSID of its network (from the ledger; not a secret)."""
    return {
        e.unit: str(e.data["ssid"])
        for e in ledger
        if e.resource == "network" and e.unit is not None and e.data.get("ssid")
    }


async def read_handout(client: Any, ledger: Sequence[LedgerEntry]) -> Handout:
    """Read the job's created passphrases live from R1 (one listing per pool)."""
    wanted = created_usernames(ledger)
    ssid_of = ssids(ledger)
    rows: list[HandoutRow] = []
    missing: list[str] = []
    for pool_id, pairs in wanted.items():
        live = {p.username: p for p in await client.list_passphrases(pool_id) if p.username}
        for unit, username in pairs:
            found = live.get(username)
            if found is None or found.passphrase is None:
                missing.append(username)
                continue
            rows.append(HandoutRow(unit=unit, username=username, passphrase=found.passphrase,
                                   ssid=ssid_of.get(unit)))  # fmt: skip
    total = sum(len(p) for p in wanted.values())
    return Handout(rows=rows, wanted=total, missing=missing)


def handout_csv(rows: Sequence[HandoutRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.unit, r.username, r.passphrase.get_secret_value(), r.ssid or ""])
    return out.getvalue()


def write_private(path: Path, text: str, *, force: bool = False) -> None:
    """Write `text` to a new file readable by its owner only (0600). An existing file
    is refused (FileExistsError) unless `force`: then it is replaced by a new 0600 file,
    never rewritten in place with its old mode."""
    if force:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
