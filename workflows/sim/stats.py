"""Counters behind `GET /_sim/stats`: what the tests and benchmarks assert on."""

from __future__ import annotations

from collections import Counter
from typing import Any


class SimStats:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.rate_limited = 0
        self.unauthorized = 0
        self.duplicates: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.contract_violations = 0

    def request(self, route: str) -> None:
        self.requests[route] += 1

    def response(self, status: int) -> None:
        self.statuses[status] += 1

    def duplicate(self, kind: str) -> None:
        self.duplicates[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests_total": sum(self.requests.values()),
            "requests": dict(sorted(self.requests.items())),
            "responses_by_status": {str(k): v for k, v in sorted(self.statuses.items())},
            "rate_limited": self.rate_limited,
            "unauthorized": self.unauthorized,
            "duplicate_create_attempts": sum(self.duplicates.values()),
            "duplicate_create_attempts_by_type": dict(sorted(self.duplicates.items())),
            "faults_injected": dict(sorted(self.faults.items())),
            "contract_violations": self.contract_violations,
        }
