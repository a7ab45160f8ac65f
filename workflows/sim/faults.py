"""Fault injection: seeded random faults plus targeted rules toggled at runtime.

Every request makes exactly one draw from the fault RNG for HTTP faults and
every accepted write one more for activity faults, whatever the rates are, so
the same seed and the same request sequence give the same fault sequence.
Targeted rules (`FaultRule`) are checked first and make no draw.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from workflows.sim.config import FaultConfig, FaultRule
from workflows.sim.errors import ActivityFailure, transient_failure, validation_failure

HTTP_ACTIONS = {"http_500", "http_502", "http_503", "http_429", "hang", "drop", "lost"}
ACTIVITY_ACTIONS = {"fail_permanent", "fail_transient"}


@dataclass(slots=True)
class HttpFault:
    action: str  # one of HTTP_ACTIONS, or "lost" (answer 502 after applying the write)
    message: str


class _CompiledRule:
    __slots__ = ("match", "route", "rule")

    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.route = re.compile(rule.route) if rule.route else None
        self.match = re.compile(rule.match) if rule.match else None

    def hits(self, route: str, text: str) -> bool:
        if self.rule.times is not None and self.rule.times <= 0:
            return False
        if self.route is not None and not self.route.search(route):
            return False
        return not (self.match is not None and not self.match.search(text))


class FaultInjector:
    def __init__(self, config: FaultConfig, rng: random.Random) -> None:
        self._rng = rng
        self.config = config

    @property
    def config(self) -> FaultConfig:
        return self._config

    @config.setter
    def config(self, value: FaultConfig) -> None:
        self._config = value
        self._rules = [_CompiledRule(r) for r in value.rules]

    @property
    def has_rules(self) -> bool:
        return bool(self._rules)

    def _take_rule(self, actions: set[str], route: str, text: str) -> FaultRule | None:
        for compiled in self._rules:
            if compiled.rule.action in actions and compiled.hits(route, text):
                if compiled.rule.times is not None:
                    compiled.rule.times -= 1
                return compiled.rule
        return None

    def http_fault(self, route: str, text: str, *, is_auth: bool) -> HttpFault | None:
        """Decide this request's HTTP-level fault (None: behave)."""
        rule = self._take_rule(HTTP_ACTIONS, route, text)
        if rule is not None:
            return HttpFault(rule.action, rule.message or "Injected fault")
        draw = self._rng.random()
        cfg = self._config
        if is_auth and not cfg.include_auth:
            return None
        edge = cfg.drop_rate
        if draw < edge:
            return HttpFault("drop", "Injected dropped connection")
        edge += cfg.hang_rate
        if draw < edge:
            return HttpFault("hang", "Injected hang")
        edge += cfg.http_5xx_rate
        if draw < edge:
            return HttpFault(
                ("http_500", "http_502", "http_503")[int(draw * 1e6) % 3], "Injected server error"
            )
        edge += cfg.lost_response_rate
        if draw < edge:
            return HttpFault("lost", "Injected lost response")
        return None

    def activity_fault(self, route: str, text: str, obj: str) -> ActivityFailure | None:
        """Decide whether an accepted write's activity is forced to FAIL."""
        rule = self._take_rule(ACTIVITY_ACTIONS, route, text)
        if rule is not None:
            if rule.action == "fail_transient":
                failure = transient_failure(obj)
                if rule.message:
                    failure.sub_errors[0].message = rule.message
                return failure
            return validation_failure(obj, None, rule.message or "Injected validation error")
        draw = self._rng.random()
        cfg = self._config
        if draw < cfg.activity_fail_permanent_rate:
            return validation_failure(obj, None, "Injected validation error")
        if draw < cfg.activity_fail_permanent_rate + cfg.activity_fail_transient_rate:
            return transient_failure(obj)
        return None
