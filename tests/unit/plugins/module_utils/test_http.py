# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_http against real loopback sockets: answers, redirects, the three ways a request fails, and send's retries."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs

import pytest
from support.fake_http import queued_server

from ansible_collections.managed_identity.azure.plugins.module_utils import _http
from ansible_collections.managed_identity.azure.plugins.module_utils._retry import IMDS_RETRY_STATUSES, RetryPolicy


@pytest.fixture
def server():
    """Answers queued per request as (status, body, headers), or "close" (``support.fake_http``)."""
    with queued_server() as state:
        yield state


def no_wait(max_wait=30):
    return RetryPolicy(max_wait, IMDS_RETRY_STATUSES, sleep=lambda s: None, jitter=lambda low, high: 0.0)


def test_query_form_and_headers_are_sent_and_the_answer_read(server):
    server["answers"].append((200, {"ok": True}, {"X-Thing": "1"}))
    response = _http.request(
        "POST",
        server["url"] + "/token?api-version=2019-08-01",
        params={"resource": "a b"},
        headers={"Metadata": "true"},
        data={"grant": "x&y"},
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert response.headers.get("x-thing") == "1"  # case-insensitive, like requests
    (sent,) = server["requests"]
    assert sent["query"] == {"api-version": ["2019-08-01"], "resource": ["a b"]}
    assert sent["headers"]["Metadata"] == "true"
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent["body"]) == {"grant": ["x&y"]}


def test_a_redirect_is_returned_not_followed(server):
    server["answers"].append((302, {}, {"Location": "http://127.0.0.2:9/elsewhere"}))
    response = _http.request("GET", server["url"] + "/metadata")
    assert response.status_code == 302 and len(server["requests"]) == 1


def test_nothing_listening_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(_http.Unreachable) as caught:
            _http.request("GET", "http://127.0.0.1:%d/" % port, timeout=(1.0, 1.0))
    assert caught.value.reason == "Connection refused"


def test_a_listener_that_never_answers_times_out():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        with pytest.raises(_http.TimedOut):
            _http.request("GET", "http://127.0.0.1:%d/" % sock.getsockname()[1], timeout=(1.0, 0.2))


def test_a_connection_closed_without_an_answer_is_interrupted(server):
    server["answers"].append("close")
    with pytest.raises(_http.Interrupted) as caught:
        _http.request("GET", server["url"] + "/")
    assert not isinstance(caught.value, _http.TimedOut)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "http:///path", "127.0.0.1:80"])
def test_urls_that_cannot_be_sent(url):
    with pytest.raises(ValueError):
        _http.request("GET", url)


def test_a_header_with_a_line_break_is_refused_before_sending(server):
    with pytest.raises(ValueError, match="Metadata header"):
        _http.request("GET", server["url"], headers={"Metadata": "true\r\nX-Injected: 1"})
    assert server["requests"] == []


def test_send_retries_drops_and_retryable_statuses_then_returns_the_answer(server):
    server["answers"] += ["close", (503, {}, {}), (410, {}, {}), (200, {"done": 1}, {})]
    policy = no_wait()
    response = _http.send("GET", server["url"] + "/", policy)
    assert response.json() == {"done": 1}
    assert policy.attempts == 3 and len(server["requests"]) == 4


def test_send_returns_a_final_status_at_once_and_honours_final(server):
    server["answers"] += [(400, {"error": "bad"}, {}), (500, {"error": "AADSTS500011"}, {})]
    assert _http.send("GET", server["url"] + "/", no_wait()).status_code == 400
    verdict = _http.send("GET", server["url"] + "/", no_wait(), final=lambda r: "AADSTS" in r.text)
    assert verdict.status_code == 500 and len(server["requests"]) == 2


def test_send_gives_up_when_the_budget_is_spent_and_never_retries_unreachable(server):
    server["answers"] += [(429, {}, {"Retry-After": "60"})]
    assert _http.send("GET", server["url"] + "/", no_wait(max_wait=5)).status_code == 429
    policy = no_wait()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        with pytest.raises(_http.Unreachable):
            _http.send("GET", "http://127.0.0.1:%d/" % sock.getsockname()[1], policy, timeout=(1.0, 1.0))
    assert policy.attempts == 0
