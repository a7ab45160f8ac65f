"""Batched persistence of a running job.

State changes land in memory first and a single flusher task writes them to
Redis in one atomic script call per batch: while one batch is in flight the
next one accumulates, so throughput grows with load instead of paying one
round trip per transition. A cell changed twice between flushes is written
once (its latest state); events are never coalesced.

A batch that cannot reach Redis (restarting) is retried with backoff, not
dropped, under the same batch id so a retry after a lost reply is not applied
twice; only once the lease must have lapsed (the writes would be fenced out)
does the journal give up on it. Batches are chained (`<journal>:<n>` lands only on
top of `<journal>:<n-1>`): if Redis comes back short of batches it acknowledged (its
fsync window lost), the next one is refused like a fenced one and the job, stopped
here, resumes from what Redis holds.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio

from engine.backoff import STORE_ERRORS, retrying
from engine.events import Event
from engine.store import Store

log = logging.getLogger("phasegrid.journal")

DEFAULT_RETRY_WINDOW = 15.0


class Journal:
    def __init__(
        self,
        store: Store,
        job_id: str,
        *,
        fence: int | None,
        snapshot: Callable[[], tuple[dict[str, int], dict[str, Any]]],
        on_fenced: Callable[[], None],
        min_interval: float = 0.01,
    ) -> None:
        self.store = store
        self.job_id = job_id
        self.fence = fence
        self._snapshot = snapshot
        self._on_fenced = on_fenced
        self.min_interval = min_interval
        self._reset()
        self._dirty = anyio.Event()
        self._lock = anyio.Lock()
        self._closed = False
        self.last_cursor: str = ""
        self._sent_counts: dict[str, int] = {}
        self.flushes = 0
        self.fenced = False
        self.retry_window = DEFAULT_RETRY_WINDOW
        """Seconds a batch is retried while Redis is unreachable: the lease TTL
        (set by the worker), past which the lease has lapsed anyway."""
        self._id = uuid.uuid4().hex[:12]
        self._batches = 0

    def _reset(self) -> None:
        self.cells: dict[str, dict[str, Any]] = {}
        self.values: dict[str, str] = {}
        self.attempts: dict[str, str] = {}
        self.meta: dict[str, Any] = {}
        self.events: list[str] = []
        self.ledger: list[str] = []

    # -- producers (synchronous, cheap) --------------------------------------

    def cell(self, field: str, record: dict[str, Any]) -> None:
        """`record` is the live dict: whatever it holds at flush time is written."""
        self.cells[field] = record
        self._dirty.set()

    def value(self, field: str, values_json: str) -> None:
        self.values[field] = values_json
        self._dirty.set()

    def attempt_log(self, field: str, attempts_json: str) -> None:
        self.attempts[field] = attempts_json
        self._dirty.set()

    def set_meta(self, **fields: Any) -> None:
        self.meta.update(fields)
        self._dirty.set()

    def event(self, event: Event) -> None:
        self.events.append(event.model_dump_json())
        self._dirty.set()

    def ledger_entry(self, entry_json: str) -> None:
        self.ledger.append(entry_json)
        self._dirty.set()

    # -- the flusher ----------------------------------------------------------

    async def run(self) -> None:
        """Flush whenever something changed, until `close()`."""
        while not self._closed:
            await self._dirty.wait()
            if self.min_interval:
                await anyio.sleep(self.min_interval)
            await self.flush()

    async def flush(self) -> None:
        with anyio.CancelScope(shield=True):
            async with self._lock:  # batches must land in order
                await self._flush_locked()

    async def _flush_locked(self) -> None:
        self._dirty = anyio.Event()
        all_counts, meta = self._snapshot()
        counts = {k: v for k, v in all_counts.items() if self._sent_counts.get(k) != v}
        cells, values, attempts = self.cells, self.values, self.attempts
        events, ledger, extra_meta = self.events, self.ledger, self.meta
        self._reset()
        meta = {**meta, **extra_meta}
        self._batches += 1
        write = partial(
            self.store.flush,
            self.job_id,
            fence=self.fence,
            cells={f: json.dumps(r, separators=(",", ":")) for f, r in cells.items()},
            values=values,
            attempts=attempts,
            counts=counts,
            meta=meta,
            events=events,
            ledger=ledger,
            batch=f"{self._id}:{self._batches}",  # chained: see scripts.FLUSH
        )
        since = anyio.current_time()

        def give_up() -> bool:
            return self.fenced or anyio.current_time() - since > self.retry_window

        try:
            last, ok = await retrying(write, what=f"job {self.job_id}", give_up=give_up)
        except STORE_ERRORS:
            log.warning("job %s: the lease lapsed with a batch unwritten", self.job_id)
            self.fenced = True
            self._on_fenced()
            return
        self.flushes += 1
        self._sent_counts.update(counts)
        if not ok:
            self.fenced = True
            self._on_fenced()
            return
        if last:
            self.last_cursor = last

    def fence_lost(self) -> None:
        """The lease is gone (the worker's heartbeat says so): stop retrying writes
        Redis would refuse anyway."""
        self.fenced = True

    async def close(self) -> None:
        """Final flush; stops `run()`."""
        self._closed = True
        await self.flush()
        self._dirty.set()
