"""Rate limits: ARM token buckets, the IMDS per-VM limiter and Entra ID's client request loop detection."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from .knobs import Knobs

KINDS = ("reads", "writes", "deletes")
GLOBAL_FACTOR = 15   # global subscription limits are 15x the per-principal ones (request-limits-and-throttling)


@dataclass
class Decision:
    allowed: bool
    remaining: int             # per subscription (or tenant) + principal + kind
    global_remaining: int      # per subscription + kind, all principals
    retry_after: int           # seconds until a token is back; 0 when allowed


class _Bucket:
    __slots__ = ("tokens", "stamp")

    def __init__(self, size: float, now: float) -> None:
        self.tokens = size
        self.stamp = now

    def refill(self, size: float, rate: float, now: float) -> None:
        self.tokens = min(size, self.tokens + (now - self.stamp) * rate)
        self.stamp = now


class ArmThrottle:
    """Token buckets per (subscription or tenant) + principal + operation kind, plus a global bucket per scope.

    Sizes and refill rates come from the knobs (``read_bucket``/``read_refill``...); changing them starts afresh.
    """

    def __init__(self, knobs: Knobs, clock=time.monotonic) -> None:
        self.knobs = knobs
        self._clock = clock
        self._buckets: dict[tuple, _Bucket] = {}
        self._params: tuple = ()

    def reset(self) -> None:
        self._buckets.clear()

    def _limits(self, kind: str) -> tuple[float, float]:
        k = self.knobs
        return {"reads": (k.read_bucket, k.read_refill), "writes": (k.write_bucket, k.write_refill),
                "deletes": (k.delete_bucket, k.delete_refill)}[kind]

    def check(self, scope: str, principal: str, kind: str) -> Decision:
        """Take one token for a request; ``scope`` is a subscription id or ``"tenant"``."""
        k = self.knobs
        params = (k.read_bucket, k.read_refill, k.write_bucket, k.write_refill, k.delete_bucket, k.delete_refill)
        if params != self._params:
            self._params = params
            self._buckets.clear()
        size, rate = self._limits(kind)
        now = self._clock()
        own = self._bucket((scope, principal, kind), size, rate, now)
        shared = self._bucket((scope, "*", kind), size * GLOBAL_FACTOR, rate * GLOBAL_FACTOR, now)
        if k.throttling and (own.tokens < 1 or shared.tokens < 1):
            wait = max((1 - own.tokens) / rate if rate else 60.0, (1 - shared.tokens) / (rate * GLOBAL_FACTOR)
                       if rate else 60.0)
            return Decision(False, 0, int(max(shared.tokens, 0)), max(1, math.ceil(wait)))
        own.tokens = max(own.tokens - 1, 0.0)
        shared.tokens = max(shared.tokens - 1, 0.0)
        return Decision(True, int(own.tokens), int(shared.tokens), 0)

    def _bucket(self, key: tuple, size: float, rate: float, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(size, now)
        else:
            bucket.refill(size, rate, now)
        return bucket


class ImdsLimiter:
    """IMDS allows 20 requests per second and 5 concurrent requests per VM (IMDS docs, "Rate limiting").

    Use ``acquire(vm_id)``: False means answer 429; True means call ``release(vm_id)`` when the answer is sent.
    """

    def __init__(self, knobs: Knobs, clock=time.monotonic) -> None:
        self.knobs = knobs
        self._clock = clock
        self._recent: dict[str, deque[float]] = {}
        self._active: dict[str, int] = {}

    def acquire(self, vm_id: str) -> bool:
        key = vm_id.lower()
        active = self._active.get(key, 0)
        if not self.knobs.imds_limits:
            self._active[key] = active + 1
            return True
        now = self._clock()
        recent = self._recent.setdefault(key, deque())
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= self.knobs.imds_rate or active >= self.knobs.imds_concurrency:
            return False
        recent.append(now)
        self._active[key] = active + 1
        return True

    def release(self, vm_id: str) -> None:
        key = vm_id.lower()
        self._active[key] = max(self._active.get(key, 1) - 1, 0)

    def reset(self) -> None:
        self._recent.clear()


class EntraLoopDetector:
    """Entra ID's client request loop detection: more than ``entra_loop_threshold`` identical client-credential
    requests (same client, same resource) within ``entra_loop_window`` seconds are refused with 429 AADSTS50196.

    Microsoft documents the symptom, not the numbers (MSAL.NET "Troubleshooting confidential client applications":
    HTTP 429 with AADSTS50196, caused by a missing token cache), so both are knobs; 0 turns detection off. Refused
    requests count too: a client that keeps asking stays refused.
    """

    def __init__(self, knobs: Knobs, clock=time.monotonic) -> None:
        self.knobs = knobs
        self._clock = clock
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def allow(self, client_id: str, resource: str) -> bool:
        limit = self.knobs.entra_loop_threshold
        if not limit:
            return True
        now = self._clock()
        seen = self._seen.setdefault((client_id.lower(), resource.rstrip("/").lower()), deque())
        while seen and seen[0] <= now - self.knobs.entra_loop_window:
            seen.popleft()
        seen.append(now)
        return len(seen) <= limit

    def reset(self) -> None:
        self._seen.clear()
