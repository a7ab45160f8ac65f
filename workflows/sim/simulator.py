"""`Simulator`: one simulated R1 tenant (resources, activities, clock, RNGs,
limits, faults, stats) and the ASGI app that serves it.

Randomness comes from independent streams derived from the seed (ids,
latency, faults, data), so e.g. turning faults on does not change the ids or
activity durations a run produces. An activity's duration is drawn from a
stream keyed by the seed and the operation's logical subject (route template,
names of the resources its path ids denote, the body's names: see
`subject_of`), not by request order: two clients doing the same operations in
different orders (a benchmark's contenders) see the same durations.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflows.sim.activities import Activity, ActivityBook, Apply
from workflows.sim.auth import TokenIssuer
from workflows.sim.clock import Clock, MonotonicClock
from workflows.sim.config import FaultConfig, SimConfig
from workflows.sim.faults import FaultInjector
from workflows.sim.ratelimit import rate_limiter_for
from workflows.sim.seed import load_snapshot, read_json, seed_venue, write_json
from workflows.sim.stats import SimStats
from workflows.sim.store import Store

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from workflows.r1.contract.validate import Violation
    from workflows.sim.pipeline import Ctx


NAME_FIELDS = ("name", "username")
"""Body fields that name an operation's subject (never a secret: no passphrase)."""


class Simulator:
    def __init__(self, config: SimConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config or SimConfig()
        self.clock: Clock = clock or MonotonicClock()
        self._app: Starlette | None = None
        self._build()

    def _build(self) -> None:
        cfg = self.config
        seed = cfg.seed
        self.rng_ids = random.Random(f"{seed}:ids")
        self.rng_latency = random.Random(f"{seed}:latency")
        self.rng_data = random.Random(f"{seed}:data")
        self._faults = FaultInjector(cfg.faults, random.Random(f"{seed}:faults"))
        self.auth = TokenIssuer(
            cfg.tenant_id,
            cfg.client_id,
            cfg.client_secret,
            cfg.token_ttl,
            random.Random(f"{seed}:tokens"),
        )
        self.limiter = rate_limiter_for(cfg)
        self.stats_counters = SimStats()
        self.contract_violations: list[Violation] = []
        self.store = Store(cfg.max_ssids_per_ap_group, cfg.max_networks_per_pool)
        self.activities = ActivityBook(cfg.tenant_id, time.time(), self.clock.now())
        self.names: dict[str, str] = {}
        """Resource id -> name, from creates (`reserve`) and the seed: path ids are
        named before their create completes."""
        self._draws: Counter[str] = Counter()
        self.venue_id: str | None = None
        if cfg.state_file and Path(cfg.state_file).exists():
            load_snapshot(self.store, read_json(cfg.state_file), self.new_id)
        elif cfg.snapshot_file:
            load_snapshot(self.store, read_json(cfg.snapshot_file), self.new_id)
        else:
            venue = seed_venue(
                self.store,
                name=cfg.venue_name,
                aps=cfg.aps,
                extra_serials=cfg.extra_ap_serials,
                rng=self.rng_data,
                new_id=self.new_id,
            )
            self.venue_id = venue.id
            self.names[venue.id] = venue.name
        if self.venue_id is None and self.store.venues:
            self.venue_id = next(iter(self.store.venues))

    # -- runtime knobs ----------------------------------------------------

    @property
    def faults(self) -> FaultConfig:
        """The live fault config; assign a new `FaultConfig` to change it mid-run."""
        return self._faults.config

    @faults.setter
    def faults(self, value: FaultConfig) -> None:
        self._faults.config = value
        self.config = self.config.model_copy(update={"faults": value})

    @property
    def injector(self) -> FaultInjector:
        return self._faults

    @property
    def app(self) -> Starlette:
        if self._app is None:
            from workflows.sim.app import build_app

            self._app = build_app(self)
        return self._app

    # -- ids and time -----------------------------------------------------

    def new_id(self) -> str:
        return uuid.UUID(int=self.rng_ids.getrandbits(128), version=4).hex

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng_ids.getrandbits(128), version=4))

    def now(self) -> float:
        return self.clock.now()

    def settle(self) -> None:
        self.activities.settle(self.clock.now())

    def scaled(self, seconds: float) -> float:
        return seconds * self.config.time_scale

    # -- activities -------------------------------------------------------

    def submit(
        self,
        ctx: Ctx,
        use_case: str,
        apply: Apply,
        *,
        obj: str,
        items: int = 1,
        on_done: Callable[[], None] | None = None,
    ) -> str:
        """Accept a write: register its activity and return the requestId."""
        cfg = self.config
        prof = cfg.latency
        now = self.clock.now()
        subject = self.subject_of(ctx)
        r1_duration = self.draw_duration(subject, items)
        duration = self.scaled(r1_duration)
        window = (
            cfg.activity_404_seconds
            if cfg.activity_404_seconds is not None
            else self.scaled(prof.activity_404_seconds)
        )
        failure = self._faults.activity_fault(ctx.route, ctx.text, obj)
        if failure is not None:
            self.stats_counters.faults[
                "activity_fail_transient" if failure.transient else "activity_fail_permanent"
            ] += 1

        def run() -> dict[str, Any] | None:
            try:
                return apply()
            finally:
                if on_done is not None:
                    on_done()

        request_id = self.new_uuid()
        activity = Activity(
            request_id,
            use_case,
            now,
            now + duration * prof.pending_fraction,
            now + duration,
            now + window,
            run,
            failure,
            cfg.activity_404_polls,
            route=ctx.route,
            subject=subject,
            duration=r1_duration,
        )
        if failure is not None and on_done is not None:
            activity.apply = None
            on_done()
        self.activities.add(activity)
        return request_id

    def name_of(self, value: str) -> str:
        """The name of the resource an id denotes (the value itself for serials,
        port ids and ids the simulator does not know)."""
        name = self.names.get(value)
        if name is not None:
            return name
        store = self.store
        for table in (store.venues, store.ap_groups, store.networks, store.pools,
                      store.identity_groups):  # fmt: skip
            found = table.get(value)
            if found is not None:
                return str(found.name)
        return value

    def subject_of(self, ctx: Ctx) -> dict[str, str]:
        """The operation's logical subject: ids differ between runs, names do not."""
        subject = {"route": ctx.route}
        for key, value in ctx.params.items():
            subject[key] = self.name_of(str(value))
        body = ctx.parsed
        if isinstance(body, dict):
            for key in NAME_FIELDS:
                value = body.get(key)
                if isinstance(value, str | int):
                    subject[f"body.{key}"] = str(value)
        return subject

    def draw_duration(self, subject: dict[str, str], items: int = 1) -> float:
        """An activity's duration (R1 seconds): the next draw of the subject's own
        stream (a retry of the same operation draws the stream's next value)."""
        prof = self.config.latency
        lo, hi = prof.activity_duration
        key = json.dumps(subject, sort_keys=True, separators=(",", ":"))
        n = self._draws[key]
        self._draws[key] = n + 1
        digest = hashlib.blake2b(f"{self.config.seed}:{n}:{key}".encode(), digest_size=8)
        unit = int.from_bytes(digest.digest(), "big") / 2.0**64
        return lo + (hi - lo) * unit + prof.per_item_seconds * items

    def activity_log(self) -> list[dict[str, Any]]:
        """Every activity (use case, route, subject, created, duration, done) in R1
        seconds: what a benchmark's lower bound is computed from."""
        return self.activities.log(self.config.time_scale, self.clock.now())

    def reserve(
        self, kind: str, scope: str, name: str, exists: bool, new_id: str | None = None
    ) -> Callable[[], None]:
        """Note an in-flight create (counting duplicates); returns its release."""
        key = (kind, scope, name)
        if new_id:
            self.names[new_id] = name
        pending = self.store.pending_names
        if exists or pending[key]:
            self.stats_counters.duplicate(kind)
        pending[key] += 1
        if new_id:
            self.store.pending_ids.add(new_id)

        def release() -> None:
            pending[key] -= 1
            if pending[key] <= 0:
                del pending[key]
            if new_id:
                self.store.pending_ids.discard(new_id)

        return release

    # -- introspection and persistence ------------------------------------

    def stats(self) -> dict[str, Any]:
        self.settle()
        now = self.clock.now()
        activities = dict(self.activities.finished)
        for status, n in self.activities.unsettled_counts(now).items():
            activities[status] = activities.get(status, 0) + n
        return {
            **self.stats_counters.snapshot(),
            "resources": self.store.counts(),
            "activities": {
                s: activities.get(s, 0) for s in ("PENDING", "INPROGRESS", "SUCCESS", "FAIL")
            },
            "tokens_issued": self.auth.issued,
        }

    def save(self, path: str | None = None) -> str:
        """Write the committed resources (not activities) to `path` or the state file."""
        target = path or self.config.state_file
        if not target:
            raise ValueError("no state file configured")
        self.settle()
        write_json(target, self.store.dump())
        return target

    def reset(self) -> None:
        """Back to the freshly seeded tenant (same seed: same ids and serials)."""
        app = self._app
        self._build()
        self._app = app
