"""Coalesce many cells' passphrases into chunked CSV imports.

Each per-unit passphrase cell enqueues its row and waits through the engine's
activity tracker on a *virtual* activity id, so it holds no in-flight slot
while it waits. The batcher is itself the `ActivityBackend` those waits poll:
on each poll it submits full chunks (or a partial one that lingered), asks R1
about its chunks' real activities in one bulk query, and, when a chunk
finishes, reads the chunk's passphrases back in one query to learn their ids.

A chunk that FAILs permanently is split in halves and re-imported, so one bad
row fails only its own unit; a duplicate FAIL (a lost 202 retried) re-reads
and adopts what exists. R1 calls made here are counted and handed to the
cells (`take_calls`) so the job's metrics include them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from engine.activities import ActivityResult
from workflows.r1 import PassphraseRow, R1Client
from workflows.r1ctx import is_duplicate, metering

MAX_REQUEUES = 3


@dataclass
class Chunk:
    rows: list[tuple[str, PassphraseRow]]
    request_id: str | None = None


@dataclass
class BatchStats:
    imports: int = 0
    rows_imported: int = 0
    rows_done: int = 0
    polls: int = 0
    reads: int = 0
    splits: int = 0
    calls: int = 0
    rate_limited: int = 0


@dataclass
class PassphraseBatcher:
    client: R1Client
    pool_id: str
    chunk_size: int = 1000
    linger: float = 0.25
    """A partial chunk goes once no passphrase arrived for this long..."""
    max_linger: float = 5.0
    """...or once its oldest passphrase waited this long (a slow trickle)."""
    poll_interval: float = 0.2
    clock: Callable[[], float] = time.monotonic
    max_batch: int = 10_000
    pending: list[tuple[str, PassphraseRow]] = field(default_factory=list)
    forced: list[list[tuple[str, PassphraseRow]]] = field(default_factory=list)
    chunks: dict[str, Chunk] = field(default_factory=dict)
    results: dict[str, ActivityResult] = field(default_factory=dict)
    requeues: dict[str, int] = field(default_factory=dict)
    stats: BatchStats = field(default_factory=BatchStats)
    existing: dict[str, str] | None = None
    imported: set[str] = field(default_factory=set)
    """Usernames whose import R1 accepted and completed: what "created" rests on."""
    _since: float | None = None
    _last_arrival: float = 0.0
    _last_poll: float = 0.0
    _unreported: int = 0
    _lock: anyio.Lock = field(default_factory=anyio.Lock)
    _load_lock: anyio.Lock = field(default_factory=anyio.Lock)

    # -- cells ------------------------------------------------------------------

    async def existing_usernames(self) -> dict[str, str]:
        """Username -> id of the pool's passphrases (one paged read per job)."""
        if self.existing is None:
            async with self._load_lock:
                if self.existing is None:
                    found = await self.client.list_passphrases(self.pool_id, page_size=5000)
                    self.existing = {p.username or "": p.id for p in found}
        return self.existing

    def enqueue(self, row: PassphraseRow) -> str:
        vid = f"pp:{self.pool_id}:{row.username}"
        self.results.pop(vid, None)
        if not any(v == vid for v, _ in self.pending):
            self.pending.append((vid, row))
        now = self.clock()
        if self._since is None:
            self._since = now
        self._last_arrival = now
        return vid

    def take_calls(self) -> tuple[int, int]:
        """R1 calls (and 429s) made by the batcher since the last call, for the job."""
        calls, self._unreported = self._unreported, 0
        limited, self.stats.rate_limited = self.stats.rate_limited, 0
        return calls, limited

    # -- ActivityBackend ----------------------------------------------------------

    async def query(self, ids: Sequence[str]) -> dict[str, ActivityResult]:
        async with self._lock:
            with metering() as meter:
                await self._flush()
                if self.chunks and self.clock() - self._last_poll >= self.poll_interval:
                    await self._poll()
            self.stats.calls += meter.calls
            self._unreported += meter.calls
            self.stats.rate_limited += meter.rate_limited
        return {i: self.results[i] for i in ids if i in self.results}

    async def _flush(self) -> None:
        while self.forced:
            await self._submit(self.forced.pop(0))
        while len(self.pending) >= self.chunk_size:
            rows, self.pending = self.pending[: self.chunk_size], self.pending[self.chunk_size :]
            await self._submit(rows)
        now = self.clock()
        lingering = self._since is not None and (
            now - self._last_arrival >= self.linger or now - self._since >= self.max_linger
        )
        if self.pending and lingering:
            rows, self.pending = self.pending, []
            await self._submit(rows)
        if not self.pending:
            self._since = None

    async def _submit(self, rows: list[tuple[str, PassphraseRow]]) -> None:
        try:
            accepted = await self.client.import_passphrases_csv(self.pool_id, [r for _, r in rows])
        except Exception as exc:  # the client already retried: let the cells retry
            self._finish(rows, "FAIL", f"CSV import failed: {exc}", kind="transient")
            return
        self.stats.imports += 1
        self.stats.rows_imported += len(rows)
        if not accepted.request_id:
            self.imported.update(r.username for _, r in rows)
            await self._read_back(Chunk(rows))
            return
        self.chunks[accepted.request_id] = Chunk(rows, accepted.request_id)

    async def _poll(self) -> None:
        self._last_poll = self.clock()
        self.stats.polls += 1
        try:
            found = await self.client.activities.query(list(self.chunks))
        except Exception:
            return  # next poll
        for rid, result in found.items():
            if not result.done:
                continue
            chunk = self.chunks.pop(rid)
            if result.status == "SUCCESS":
                self.imported.update(r.username for _, r in chunk.rows)
                await self._read_back(chunk)
            else:
                await self._failed(chunk, result)

    async def _read_back(
        self, chunk: Chunk, *, requeue: bool = True, adopted: bool = False
    ) -> list[Any]:
        """The chunk's passphrases by username (their ids), in one query; returns
        the rows not found (requeued unless `requeue` is False). `adopted`: the
        import FAILed (all or nothing), so a row found is ours only if an earlier
        import of it succeeded; the others are marked `adopted` (not proven ours)."""
        names = [r.username for _, r in chunk.rows]
        self.stats.reads += 1
        try:
            found = await self.client.list_passphrases(
                self.pool_id, filters={"username": names}, page_size=max(1, len(names))
            )
        except Exception as exc:
            self._finish(chunk.rows, "FAIL", f"reading passphrases back failed: {exc}",
                         kind="transient")  # fmt: skip
            return []
        ids = {p.username: p.id for p in found}
        if self.existing is not None:
            self.existing.update({k: v for k, v in ids.items() if k})
        done = [(v, r) for v, r in chunk.rows if r.username in ids]
        for vid, row in done:
            data: dict[str, Any] = {"id": ids[row.username]}
            if adopted and row.username not in self.imported:
                data["adopted"] = True
            self.results[vid] = ActivityResult(id=vid, status="SUCCESS", data=data)
        if done:  # the chunk's first cell reports the chunk (progress in the event log)
            self.stats.rows_done += len(done)
            self.results[done[0][0]].data["chunk"] = {
                "rows": len(done), "done": self.stats.rows_done, "imports": self.stats.imports
            }  # fmt: skip
        missing = [(v, r) for v, r in chunk.rows if r.username not in ids]
        if requeue:
            self._requeue(missing, "passphrase not found after its import")
        return missing

    async def _failed(self, chunk: Chunk, result: ActivityResult) -> None:
        text = result.error or "activity failed"
        rows = chunk.rows
        if is_duplicate_text(text):  # adopt what exists (a retried import landed twice)
            rows = await self._read_back(chunk, requeue=False, adopted=True)
            if not rows:
                return
        if len(rows) > 1 and not looks_transient_text(text):
            half = len(rows) // 2  # isolate the bad row(s): the rest import fine
            self.stats.splits += 1
            self.forced += [rows[:half], rows[half:]]
            return
        self._finish(rows, "FAIL", text, kind="r1")

    def _requeue(self, rows: list[tuple[str, PassphraseRow]], why: str) -> None:
        for vid, row in rows:
            n = self.requeues.get(vid, 0) + 1
            self.requeues[vid] = n
            if n > MAX_REQUEUES:
                self._finish([(vid, row)], "FAIL", why, kind="transient")
            else:
                self.pending.append((vid, row))
                self._since = self._since or self.clock()

    def _finish(self, rows: list[tuple[str, PassphraseRow]], status: str, error: str,
                *, kind: str) -> None:  # fmt: skip
        for vid, _ in rows:
            self.results[vid] = ActivityResult(
                id=vid, status=status, error=error if kind == "r1" else json.dumps(error),
                data={"kind": kind, "message": error},
            )  # fmt: skip


def is_duplicate_text(text: str) -> bool:
    return is_duplicate(Exception(text))


def looks_transient_text(text: str) -> bool:
    from workflows.r1.errors import looks_transient

    return looks_transient(text)


def batcher_for(extra: dict[str, Any], client: R1Client, pool_id: str, **kw: Any
                ) -> PassphraseBatcher:  # fmt: skip
    key = f"batcher:{pool_id}"
    if key not in extra:
        extra[key] = PassphraseBatcher(client, pool_id, **kw)
    return extra[key]
