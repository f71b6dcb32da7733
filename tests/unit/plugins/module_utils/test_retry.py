# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_retry: Retry-After in its three spellings, the total budget, what is retried, and the summary users read."""

from __future__ import annotations

import email.utils

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils._retry import (
    ARM_RETRY_STATUSES,
    IMDS_RETRY_STATUSES,
    RetryPolicy,
    parse_retry_after,
)


class Clock:
    """A fake monotonic clock that sleeping advances."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def policy(max_wait, statuses=ARM_RETRY_STATUSES, clock=None, **kwargs):
    clock = clock or Clock()
    return RetryPolicy(
        max_wait, statuses, sleep=clock.sleep, clock=clock, jitter=lambda low, high: high, **kwargs
    ), clock


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"x-ms-retry-after-ms": "250", "Retry-After": "9"}, 0.25),  # the millisecond headers are more precise
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_parse_retry_after(headers, expected):
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date():
    when = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"Retry-After": when}, now=1_000_000) == 30.0
    assert parse_retry_after({"Retry-After": when}, now=1_000_060) == 0.0


def test_what_is_retried():
    # IMDS guidance: 404 (updating), 410, 429 and 5xx; never other 4xx. ARM: throttling and server errors that
    # may pass, not 501/505; a broken connection (None) always.
    assert {404, 410, 429, 500, 503} <= IMDS_RETRY_STATUSES and not {400, 401, 403} & IMDS_RETRY_STATUSES
    assert {408, 429, 500, 502, 503, 504} <= ARM_RETRY_STATUSES
    assert not {404, 409, 412, 501, 505} & ARM_RETRY_STATUSES
    assert policy(10)[0].retryable(None)


def test_backoff_doubles_up_to_the_cap_and_retry_after_wins():
    retry, _clock = policy(1000, base=1.0, cap=4.0)
    assert [retry.delay(n) for n in range(5)] == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert retry.delay(3, retry_after=0.5) == 0.5


def test_waits_stop_at_the_budget_and_the_summary_says_so():
    retry, clock = policy(10, base=2.0)
    assert retry.wait_before_retry(503)  # 2 s
    assert retry.wait_before_retry(503)  # 4 s
    clock.now += 1.5  # the third attempt itself took time
    assert not retry.wait_before_retry(503)  # 8 s more would end past 10 s
    assert clock.slept == [2.0, 4.0]
    assert (retry.attempts, retry.waited) == (2, 6.0)
    assert retry.summary() == "3 attempts in 8 s (max_wait 10 s)"


def test_a_server_asking_for_more_than_the_budget_gets_no_retry():
    retry, clock = policy(5)
    assert not retry.wait_before_retry(429, retry_after=30)
    assert clock.slept == [] and retry.summary() == "1 attempt in 0 s (max_wait 5 s)"


def test_a_final_status_is_not_retried_and_max_wait_zero_never_waits():
    retry, clock = policy(60)
    assert not retry.wait_before_retry(403)
    zero, clock = policy(0)
    assert not zero.wait_before_retry(503)
    assert zero.wait_before_retry(503, retry_after=0)  # an immediate retry costs nothing
    assert clock.slept == []


def test_elapsed_counts_from_the_policys_creation():
    clock = Clock()
    retry = policy(60, clock=clock)[0]
    clock.now += 12  # the first attempt timed out before any retry was considered
    assert retry.elapsed() == 12
    assert retry.remaining() == 60  # the budget counts from the first retry decision
    retry.wait_before_retry(None)
    assert retry.remaining() == 59
