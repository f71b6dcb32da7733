# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one retry policy: exponential backoff with jitter inside a total time budget.

Used by the managed identity sources (IMDS guidance: retry 404, 410, 429 and 5xx, never other
4xx; IMDS may answer 410 for up to 70 s while it updates) and by the ARM client (429 and 5xx,
honouring ``Retry-After``). The policy only decides and waits; callers say what is retryable.
"""

from __future__ import annotations

import email.utils
import random
import time
from typing import Callable, Iterable, Mapping, Optional, TypeVar

T = TypeVar("T")

# https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#error-handling
IMDS_RETRY_STATUSES = frozenset([404, 410, 429] + list(range(500, 600)))
# ARM: throttling and server-side failures; 501/505 will not get better by asking again.
ARM_RETRY_STATUSES = frozenset([408, 429] + [s for s in range(500, 600) if s not in (501, 505)])


def parse_retry_after(headers: Optional[Mapping[str, str]], now: Optional[float] = None) -> Optional[float]:
    """Seconds the server asked us to wait, from ``retry-after-ms``, ``x-ms-retry-after-ms`` or ``Retry-After``."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = lowered.get(name)
        if value:
            try:
                return max(0.0, float(value) / 1000.0)
            except ValueError:
                pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryPolicy:
    """Decide whether to try again and how long to wait first.

    ``max_wait`` is the budget in seconds for all waiting together; a wait that would go past
    it is not started, and the caller gets the last answer. Backoff is ``base * 2**attempt``
    capped at ``cap``, with full jitter, unless the server named a delay (``Retry-After``),
    which is honoured as given.
    """

    def __init__(
        self,
        max_wait: float,
        retry_statuses: Iterable[int],
        *,
        base: float = 1.0,
        cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.max_wait = max(0.0, float(max_wait))
        self.retry_statuses = frozenset(retry_statuses)
        self.base = base
        self.cap = cap
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._started: Optional[float] = None
        self._created = clock()
        self.attempts = 0
        self.waited = 0.0

    def retryable(self, status: Optional[int]) -> bool:
        """``status`` None means the connection failed mid-way (reset, timeout): retryable."""
        return status is None or status in self.retry_statuses

    def delay(self, attempt: int, retry_after: Optional[float] = None) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self.cap, self.base * (2**attempt))
        return self._jitter(ceiling / 2.0, ceiling)

    def elapsed(self) -> float:
        """Seconds since the policy was made (the first attempt's start): what a user waited in all."""
        return self._clock() - self._created

    def summary(self) -> str:
        """ "3 attempts in 88 s (max_wait 80 s)": how much trying a failure message reports."""
        tries = self.attempts + 1
        return "%d attempt%s in %.0f s (max_wait %.0f s)" % (
            tries,
            "" if tries == 1 else "s",
            self.elapsed(),
            self.max_wait,
        )

    def remaining(self) -> float:
        if self._started is None:
            return self.max_wait
        return max(0.0, self.max_wait - (self._clock() - self._started))

    def wait_before_retry(self, status: Optional[int], retry_after: Optional[float] = None) -> bool:
        """Sleep before the next attempt and return True, or return False when we should stop."""
        if self._started is None:
            self._started = self._clock()
        if not self.retryable(status):
            return False
        pause = self.delay(self.attempts, retry_after)
        if pause > self.remaining():
            return False
        self.attempts += 1
        if pause > 0:
            self._sleep(pause)
            self.waited += pause
        return True
