"""Fault injection per route: an error status in the service's own body shape, a dropped connection, latency, or a
write that is applied and whose reply is then lost (the connection drops after the handler ran)."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

SERVICES = ("arm", "entra", "graph", "imds", "vm_extension", "app_service", "app_service_2017", "arc", "service_fabric",
            "azure_ml", "cloud_shell")
KINDS = ("status", "drop", "latency", "reply_lost")
# Kinds that decide the request's fate (at most one fires per request); latency faults add up on top.
OUTCOME_KINDS = ("status", "drop", "reply_lost")


class FaultError(ValueError):
    """A fault spec that cannot be applied."""


@dataclass
class Fault:
    service: str | None
    kind: str
    method: str | None = None
    path: str | None = None            # regex, searched in the request path
    status: int = 500
    code: str | None = None            # ARM error code, OAuth/IMDS "error", or AADSTS number for entra
    message: str | None = None
    latency: float = 0.0
    count: int | None = None           # fire for the next N matching requests, then retire
    probability: float | None = None   # fire with this probability (with count: until N have fired)
    retry_after: int | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    hits: int = 0
    _regex: re.Pattern | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def matches(self, service: str, method: str, path: str) -> bool:
        return ((self.service is None or self.service == service)
                and (self.method is None or self.method == method)
                and (self._regex is None or self._regex.search(path) is not None))


def parse_fault(spec: Any) -> Fault:
    if not isinstance(spec, dict):
        raise FaultError("a fault is a JSON object such as {\"service\": \"arm\", \"kind\": \"status\", "
                         "\"status\": 503, \"count\": 1}")
    known = {"service", "kind", "method", "path", "status", "code", "message", "latency", "count", "probability",
             "retry_after"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise FaultError(f"unknown fault field(s) {unknown}; known: {sorted(known)}")
    service = spec.get("service")
    if service is not None and service not in SERVICES:
        raise FaultError(f"fault service {service!r} is not one of {list(SERVICES)}")
    kind = spec.get("kind", "status")
    if kind not in KINDS:
        raise FaultError(f"fault kind {kind!r} is not one of {list(KINDS)}")
    fault = Fault(service=service, kind=kind, method=(spec.get("method") or "").upper() or None,
                  path=spec.get("path"), code=None if spec.get("code") is None else str(spec["code"]),
                  message=spec.get("message"), retry_after=spec.get("retry_after"))
    if fault.path is not None:
        try:
            fault._regex = re.compile(fault.path, re.IGNORECASE)
        except re.error as exc:
            raise FaultError(f"fault path {fault.path!r} is not a valid regular expression: {exc}") from None
    status = spec.get("status", 500)
    if kind == "status" and (not isinstance(status, int) or not 400 <= status <= 599):
        raise FaultError(f"fault status {status!r} must be an integer from 400 to 599")
    fault.status = status
    latency = spec.get("latency", 0.0)
    if kind == "latency" and (not isinstance(latency, (int, float)) or latency <= 0):
        raise FaultError(f"a latency fault needs 'latency' in seconds > 0, got {latency!r}")
    fault.latency = float(latency)
    count = spec.get("count")
    if count is not None and (not isinstance(count, int) or count < 1):
        raise FaultError(f"fault count {count!r} must be an integer >= 1")
    fault.count = count
    probability = spec.get("probability")
    if probability is not None and (not isinstance(probability, (int, float)) or not 0 <= probability <= 1):
        raise FaultError(f"fault probability {probability!r} must be a number from 0 to 1")
    fault.probability = probability
    return fault


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, spec: Any) -> Fault:
        fault = parse_fault(spec)
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[dict]:
        return [f.to_dict() for f in self._faults]

    def fire(self, service: str, method: str, path: str) -> list[Fault]:
        """The latency faults that fire, then at most one outcome fault (status, drop or reply_lost).

        Probabilities mean what they say when several faults match: latency faults draw on their own; outcome
        faults share one draw, each owning its own slice of [0, 1), so faults of 0.2 and 0.3 fire on 20 % and 30 %
        of the matching requests (together 50 %), not 0.2 and 0.8 * 0.3. A fault with a count and no probability
        fires first, as before. Slices beyond 1 (probabilities adding up to more) never fire.
        Faults whose count ran out retire.
        """
        matching = [f for f in self._faults if f.matches(service, method, path)]
        fired = [f for f in matching if f.kind == "latency" and _draw(f.probability)]
        outcome = next((f for f in matching if f.kind in OUTCOME_KINDS and f.probability is None), None)
        if outcome is None:
            draw, floor = random.random(), 0.0  # noqa: S311 (not crypto)
            for fault in matching:
                if fault.kind in OUTCOME_KINDS and fault.probability is not None:
                    if floor <= draw < floor + fault.probability:
                        outcome = fault
                        break
                    floor += fault.probability
        if outcome is not None:
            fired.append(outcome)
        for fault in fired:
            fault.hits += 1
            if fault.count is not None:
                fault.count -= 1
                if fault.count == 0:
                    self._faults.remove(fault)
        return fired


def _draw(probability: float | None) -> bool:
    return probability is None or random.random() < probability  # noqa: S311 (not crypto)
