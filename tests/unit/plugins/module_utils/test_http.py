# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_http against real loopback sockets: answers, redirects, the three ways a request fails, and send's retries; and
_http.Session, the transport of ARM and Entra ID: kept-alive connections, the environment's proxy (CONNECT),
NO_PROXY, TLS verified, and errors that tell a connection never made from one that broke."""

from __future__ import annotations

import base64
import json
import socket
import time
from urllib.parse import parse_qs

import pytest
from support.fake_http import queued_server
from support.tls_servers import ConnectProxy, JsonServer, make_pki

from ansible_collections.managed_identity.azure.plugins.module_utils import _http, _tls_trust
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


# --- Session ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_server(pki):
    running = JsonServer(pki)
    yield running
    running.stop()


@pytest.fixture
def session(pki):
    opened = _http.Session(_tls_trust.context(str(pki["ca"]), environ={}), environ={})
    yield opened
    opened.close()


def test_one_connection_per_origin_is_kept_alive(session, tls_server):
    for path in ("/a", "/b?x=1", "/c"):
        response = session.request("GET", tls_server.url + path, timeout=5)
        assert response.status_code == 200
        assert response.json()["path"] == path
    assert tls_server.connections == 1
    assert response.headers.get("X-MS-REQUEST-ID") == "req-3"  # header names are case-insensitive


def test_a_json_body_and_a_form_are_sent_as_such(session, tls_server):
    session.request("PUT", tls_server.url + "/put", json_body={"properties": {"a": 1}}, timeout=5)
    form = {"grant_type": "client_credentials", "scope": "a b"}
    session.request("POST", tls_server.url + "/token", data=form, timeout=5)
    put, post = tls_server.requests
    assert json.loads(put["body"]) == {"properties": {"a": 1}}
    assert put["headers"]["Content-Type"] == "application/json"
    assert post["body"] == b"grant_type=client_credentials&scope=a+b"
    assert post["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_connection_the_server_closed_is_replaced(pki, session):
    closing = JsonServer(pki, close=True)
    try:
        for attempt in range(3):
            assert session.request("GET", closing.url + "/%d" % attempt, timeout=5).status_code == 200
        assert closing.connections == 3
    finally:
        closing.stop()


def test_an_idle_connection_the_server_dropped_is_replaced_before_anything_is_sent(pki, session):
    dropping = JsonServer(pki, drop=True)
    try:
        session.request("GET", dropping.url + "/first", timeout=5)
        time.sleep(0.2)  # the tls_server's close reaches the client while the connection is idle
        assert session.request("POST", dropping.url + "/second", data={"a": "b"}, timeout=5).status_code == 200
    finally:
        dropping.stop()
    assert dropping.connections == 2
    assert [r["path"] for r in dropping.requests] == ["/first", "/second"]  # each sent once


def test_https_goes_through_the_proxy_the_environment_names(pki, tls_server):
    proxy = ConnectProxy()
    try:
        env = {"HTTPS_PROXY": "http://op%%40corp:s%%3Acret@127.0.0.1:%d" % proxy.port}
        with_proxy = _http.Session(_tls_trust.context(str(pki["ca"]), environ={}), environ=env)
        assert with_proxy.request("GET", tls_server.url + "/via-proxy", timeout=5).json()["path"] == "/via-proxy"
        with_proxy.request("GET", tls_server.url + "/again", timeout=5)
        with_proxy.close()
    finally:
        proxy.stop()
    assert proxy.connects == [
        {
            "line": "CONNECT 127.0.0.1:%d HTTP/1.1" % tls_server.port,
            "authorization": "Basic " + base64.b64encode(b"op@corp:s:cret").decode(),
        }
    ]  # one tunnel, kept alive, with the proxy's credentials decoded from the URL


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.1:8443", "*", ".0.0.1"])
def test_no_proxy_sends_the_host_direct(pki, tls_server, no_proxy):
    proxy = ConnectProxy()
    try:
        env = {"https_proxy": proxy.url, "NO_PROXY": no_proxy}
        direct = _http.Session(_tls_trust.context(str(pki["ca"]), environ={}), environ=env)
        assert direct.request("GET", tls_server.url + "/direct", timeout=5).status_code == 200
        direct.close()
    finally:
        proxy.stop()
    assert proxy.connects == []


def test_a_proxy_that_refuses_is_unreachable_and_its_password_is_not_shown(pki, tls_server):
    proxy = ConnectProxy(refuse=407)
    try:
        env = {"HTTPS_PROXY": "http://op:hunter2@127.0.0.1:%d" % proxy.port}
        refused = _http.Session(_tls_trust.context(str(pki["ca"]), environ={}), environ=env)
        with pytest.raises(_http.Unreachable) as caught:
            refused.request("GET", tls_server.url + "/", timeout=5)
    finally:
        proxy.stop()
    assert str(caught.value) == "the proxy 127.0.0.1:%d answered CONNECT with HTTP 407 Refused" % proxy.port
    assert tls_server.requests == []


def test_an_https_proxy_url_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"^HTTPS_PROXY: the proxy https://proxy.corp is not an http:// proxy URL"):
        _http.proxy_for("https://management.azure.com/", {"HTTPS_PROXY": "https://user:pw@proxy.corp:443"})


def test_plain_http_never_goes_through_the_proxy():
    assert _http.proxy_for("http://127.0.0.1:8080/x", {"HTTPS_PROXY": "http://proxy:3128", "ALL_PROXY": "x"}) is None


def test_a_refused_connection_is_unreachable(session):
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    with pytest.raises(_http.Unreachable, match="Connection refused"):
        session.request("GET", "https://127.0.0.1:%d/" % port, timeout=5)


def test_an_untrusted_certificate_is_a_tls_failure(tls_server, tmp_path):
    other = make_pki(tmp_path, "some other CA")
    strict = _http.Session(_tls_trust.context(str(other["ca"]), environ={}), environ={})
    with pytest.raises(_http.TLSFailure, match="certificate verify failed"):
        strict.request("GET", tls_server.url + "/", timeout=5)
    assert tls_server.requests == []


def test_an_answer_that_does_not_come_is_timed_out(pki):
    slow = JsonServer(pki, delay=2.0)
    try:
        waiting = _http.Session(_tls_trust.context(str(pki["ca"]), environ={}), environ={})
        with pytest.raises(_http.TimedOut):
            waiting.request("GET", slow.url + "/", timeout=(5.0, 0.3))
    finally:
        slow.stop()
