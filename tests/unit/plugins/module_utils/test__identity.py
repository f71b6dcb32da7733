# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the managed identity sources: detection, wire parameters, retries, Arc key rules, errors.

Every request goes over real HTTP to a scripted endpoint on loopback, so the standard-library transport is
exercised as it is on a host: query and form encoding, headers, resets, timeouts, redirects.
"""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import os
import socket
import struct
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils import _http, _identity
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ConfigurationError,
    EndpointUnreachable,
    IdentityError,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._retry import IMDS_RETRY_STATUSES, RetryPolicy

ARM = "https://management.azure.com/"
CLIENT = "6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07"
OBJECT = "2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11"
UAMI = ("/subscriptions/8d10da13-8125-4ba9-a717-bf7490507b3d/resourceGroups/rg"
        "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app")
SECRET_HEADER = "f1d2d2f9-24e2-4c3b-9c1e-5c3d2a1b0e99"
# Added by the HTTP layer itself; the tests compare what the identity code chose to send.
TRANSPORT_HEADERS = {"host", "accept-encoding", "content-length", "content-type"}


def jwt(claims):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return "%s.%s.%s" % (part({"alg": "RS256", "typ": "JWT"}), part(claims), "c2lnbmF0dXJl")


MARCH_17_2030 = int(datetime.datetime(2030, 3, 17, 9, 20, tzinfo=datetime.timezone.utc).timestamp())
TOKEN = jwt({"oid": OBJECT, "aud": ARM, "exp": 1900000000})


class Answer:
    """One scripted answer: a status with a body (JSON, or bytes as they are) and headers, sent after ``delay``
    seconds; or ``action="reset"``: drop the connection with a TCP reset instead of answering."""

    def __init__(self, status=200, body=None, headers=None, action=None, delay=0.0):
        self.status, self.body, self.headers, self.action, self.delay = status, body, headers or {}, action, delay


def ok(**extra):
    body = {"access_token": TOKEN, "expires_on": "1900000000", "expires_in": "86399", "resource": ARM,
            "token_type": "Bearer"}
    body.update(extra)
    return Answer(200, body)


class Endpoint:
    """A scripted identity endpoint on loopback: answers in order and records every request."""

    def __init__(self):
        self.answers = []
        self.calls = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                endpoint.answer(self)

            def do_POST(self):
                endpoint.answer(self)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the client hanging up on a stalled answer is part of the script

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def script(self, *answers):
        self.answers.extend(answers)
        return self

    def answer(self, handler):
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        form = handler.rfile.read(length).decode() if length else None
        self.calls.append({
            "method": handler.command,
            "path": parts.path,
            "params": dict(parse_qsl(parts.query)),
            "headers": {k: v for k, v in handler.headers.items() if k.lower() not in TRANSPORT_HEADERS},
            "form": dict(parse_qsl(form)) if form is not None else None,
            "content_type": handler.headers.get("Content-Type"),
        })
        answer = self.answers.pop(0)
        if answer.action == "reset":
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
            handler.close_connection = True
            return
        time.sleep(answer.delay)
        data = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        if answer.body is None:
            data = b""
        handler.send_response(answer.status)
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    endpoint = Endpoint()
    yield endpoint
    endpoint.close()


class Clock:
    """Injected sleep and monotonic clock: sleeping advances time, nothing really waits."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


def policy(max_wait=80, clock=None, statuses=IMDS_RETRY_STATUSES):
    clock = clock or Clock()
    return RetryPolicy(max_wait, statuses, sleep=clock.sleep, clock=clock, jitter=lambda low, high: high)


def token(server, **kwargs):
    """A token from ``server``: IMDS at its URL unless the test points the source elsewhere."""
    kwargs.setdefault("environ", {"AZURE_POD_IDENTITY_AUTHORITY_HOST": server.url})
    kwargs.setdefault("policy", policy())
    return _identity.get_token(kwargs.pop("resource", ARM), **kwargs)


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "environ, himds, expected",
    [
        ({}, False, "imds"),
        ({"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:1"}, False, "imds"),
        ({"IDENTITY_ENDPOINT": "https://x", "IDENTITY_HEADER": "h", "IDENTITY_SERVER_THUMBPRINT": "t"}, False,
         "service_fabric"),
        ({"IDENTITY_ENDPOINT": "http://x", "IDENTITY_HEADER": "h"}, False, "app_service"),
        # App Service also sets the 2017 variables; the 2019 protocol wins, as in the SDKs.
        ({"IDENTITY_ENDPOINT": "http://x", "IDENTITY_HEADER": "h", "MSI_ENDPOINT": "http://y", "MSI_SECRET": "s"},
         False, "app_service"),
        ({"MSI_ENDPOINT": "http://y", "MSI_SECRET": "s"}, False, "azure_ml"),
        ({"IDENTITY_ENDPOINT": "http://x", "IMDS_ENDPOINT": "http://x"}, False, "arc"),
        ({}, True, "arc"),
        ({"AZUREPS_HOST_ENVIRONMENT": "cloud-shell/1.0"}, False, "cloud_shell"),
        ({"MSI_ENDPOINT": "http://localhost:50342/oauth2/token"}, False, "cloud_shell"),
    ],
)
def test_detect_source_follows_the_sdk_order(environ, himds, expected):
    assert _identity.detect_source(environ, exists=lambda path: himds and path == _identity.ARC_HIMDS) == expected


def test_auto_uses_the_detected_source(server):
    server.script(ok())
    result = token(server, environ={"MSI_ENDPOINT": server.url + "/MSI/token", "MSI_SECRET": SECRET_HEADER})
    assert result.source == "azure_ml"
    assert server.calls[0]["path"] == "/MSI/token"
    assert server.calls[0]["headers"] == {"secret": SECRET_HEADER}


# --- what goes on the wire ------------------------------------------------------------------------


def test_imds_request_and_pod_identity_redirect(server):
    server.script(ok(client_id=CLIENT))
    result = token(server, environ={"AZURE_POD_IDENTITY_AUTHORITY_HOST": server.url + "/"})
    call = server.calls[0]
    assert call["method"] == "GET"
    assert call["path"] == "/metadata/identity/oauth2/token"
    assert call["params"] == {"api-version": "2018-02-01", "resource": ARM}
    assert call["headers"] == {"Metadata": "true"}
    assert (result.access_token, result.expires_on, result.source, result.client_id) == (
        TOKEN, 1900000000, "imds", CLIENT)
    assert result.endpoint == server.url + "/metadata/identity/oauth2/token"


def test_endpoint_option_beats_the_environment_and_keeps_a_full_path(server):
    server.script(ok())
    elsewhere = "http://127.0.0.1:%d" % unused_port()
    token(server, endpoint=server.url + "/custom/path?tenant=a",
          environ={"AZURE_POD_IDENTITY_AUTHORITY_HOST": elsewhere})
    assert server.calls[0]["path"] == "/custom/path"
    # a query in the endpoint is kept and the request's parameters are added to it
    assert server.calls[0]["params"] == {"tenant": "a", "api-version": "2018-02-01", "resource": ARM}


@pytest.mark.parametrize(
    "source, environ, selector, expected_params",
    [
        ("imds", {}, {"client_id": CLIENT}, {"client_id": CLIENT}),
        ("imds", {}, {"object_id": OBJECT}, {"object_id": OBJECT}),
        ("imds", {}, {"msi_res_id": UAMI}, {"msi_res_id": UAMI}),
        ("vm_extension", {}, {"client_id": CLIENT}, {"client_id": CLIENT}),
        ("vm_extension", {}, {"object_id": OBJECT}, {"object_id": OBJECT}),
        ("app_service", {"IDENTITY_ENDPOINT": "{url}/msi/token", "IDENTITY_HEADER": SECRET_HEADER},
         {"client_id": CLIENT}, {"client_id": CLIENT, "api-version": "2019-08-01"}),
        ("app_service", {"IDENTITY_ENDPOINT": "{url}/msi/token", "IDENTITY_HEADER": SECRET_HEADER},
         {"object_id": OBJECT}, {"object_id": OBJECT}),
        ("app_service", {"IDENTITY_ENDPOINT": "{url}/msi/token", "IDENTITY_HEADER": SECRET_HEADER},
         {"msi_res_id": UAMI}, {"mi_res_id": UAMI}),
        ("app_service", {"MSI_ENDPOINT": "{url}/msi/token", "MSI_SECRET": SECRET_HEADER},
         {"client_id": CLIENT}, {"clientid": CLIENT, "api-version": "2017-09-01"}),
        ("azure_ml", {"MSI_ENDPOINT": "{url}/MSI/token", "MSI_SECRET": SECRET_HEADER},
         {"client_id": CLIENT}, {"clientid": CLIENT, "api-version": "2017-09-01"}),
        ("azure_ml", {"MSI_ENDPOINT": "{url}/MSI/token", "MSI_SECRET": SECRET_HEADER},
         {"msi_res_id": UAMI}, {"mi_res_id": UAMI}),
    ],
)
def test_selector_is_sent_under_the_sources_own_name(server, source, environ, selector, expected_params):
    server.script(ok())
    environ = {name: value.format(url=server.url) for name, value in environ.items()}
    endpoint = server.url if source in ("imds", "vm_extension") else None
    token(server, source=source, environ=environ, endpoint=endpoint, **selector)
    params = server.calls[0]["params"]
    for name, value in expected_params.items():
        assert params[name] == value
    # exactly one selector parameter, under exactly that name
    assert len(set(params) - {"api-version", "resource"}) == 1


@pytest.mark.parametrize(
    "source, environ, selector",
    [
        ("arc", {"IDENTITY_ENDPOINT": "{url}/metadata/identity/oauth2/token"}, {"client_id": CLIENT}),
        ("arc", {"IDENTITY_ENDPOINT": "{url}/metadata/identity/oauth2/token"}, {"msi_res_id": UAMI}),
        ("cloud_shell", {"MSI_ENDPOINT": "{url}/oauth2/token"}, {"object_id": OBJECT}),
        ("service_fabric", {"IDENTITY_ENDPOINT": "https://127.0.0.1:9/", "IDENTITY_HEADER": SECRET_HEADER,
                            "IDENTITY_SERVER_THUMBPRINT": "a" * 40}, {"client_id": CLIENT}),
        ("vm_extension", {}, {"msi_res_id": UAMI}),
        ("azure_ml", {"MSI_ENDPOINT": "{url}/", "MSI_SECRET": SECRET_HEADER}, {"object_id": OBJECT}),
        ("app_service", {"MSI_ENDPOINT": "{url}/", "MSI_SECRET": SECRET_HEADER}, {"object_id": OBJECT}),
    ],
)
def test_a_selector_the_source_cannot_honour_is_refused_before_any_request(server, source, environ, selector):
    environ = {name: value.format(url=server.url) for name, value in environ.items()}
    endpoint = server.url if source == "vm_extension" else None
    with pytest.raises(ConfigurationError) as caught:
        token(server, source=source, environ=environ, endpoint=endpoint, **selector)
    name = next(iter(selector))
    assert "Source %s cannot select a user-assigned identity by %s" % (source, name) in str(caught.value)
    assert server.calls == []
    assert SECRET_HEADER not in str(caught.value)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"client_id": CLIENT, "object_id": OBJECT}, "client_id and object_id are mutually exclusive"),
        ({"client_id": "my-app"}, "client_id='my-app' is not a GUID"),
        ({"object_id": "nope"}, "object_id='nope' is not a GUID"),
        ({"msi_res_id": "/subscriptions/x/resourceGroups/rg"}, "is not a user-assigned identity resource ID"),
        ({"source": "metadata"}, "source has the unknown value 'metadata'"),
        ({"resource": " "}, "resource is empty"),
    ],
)
def test_bad_input_names_the_option_and_sends_nothing(server, kwargs, fragment):
    with pytest.raises(ConfigurationError, match=fragment):
        token(server, **kwargs)
    assert server.calls == []


@pytest.mark.parametrize("endpoint", ["localhost:50342", "ftp://127.0.0.1/token", "http:///token"])
def test_an_endpoint_that_is_not_an_http_url_is_a_configuration_error(endpoint):
    with pytest.raises(ConfigurationError) as caught:
        _identity.get_token(ARM, endpoint=endpoint, environ={}, policy=policy())
    assert "must be http:// or https://" in str(caught.value) and endpoint in str(caught.value)


def test_a_secret_that_cannot_be_a_header_is_refused_without_showing_it(server):
    broken = SECRET_HEADER + "\r\nX-Injected: 1"
    env = {"IDENTITY_ENDPOINT": server.url + "/msi/token", "IDENTITY_HEADER": broken}
    with pytest.raises(ConfigurationError, match="X-IDENTITY-HEADER header contains a line break") as caught:
        token(server, source="app_service", environ=env)
    assert SECRET_HEADER not in str(caught.value)
    assert server.calls == []


def test_app_service_2019_sends_the_identity_header_and_parses_the_answer(server):
    server.script(Answer(200, {"access_token": TOKEN, "expires_on": "1900000000", "resource": ARM,
                               "token_type": "Bearer", "client_id": CLIENT}))
    env = {"IDENTITY_ENDPOINT": server.url + "/msi/token", "IDENTITY_HEADER": SECRET_HEADER}
    result = token(server, source="app_service", environ=env)
    assert server.calls[0]["headers"] == {"X-IDENTITY-HEADER": SECRET_HEADER, "Metadata": "true"}
    assert result.expires_on == 1900000000
    assert result.client_id == CLIENT


def test_app_service_2017_date_expiry_is_parsed(server):
    server.script(Answer(200, {"access_token": TOKEN, "expires_on": "03/17/2030 09:20:00 +00:00",
                               "resource": ARM, "token_type": "Bearer"}))
    env = {"MSI_ENDPOINT": server.url + "/msi/token", "MSI_SECRET": SECRET_HEADER}
    result = token(server, source="app_service", environ=env)
    assert server.calls[0]["headers"] == {"secret": SECRET_HEADER}
    assert result.expires_on == MARCH_17_2030


def test_cloud_shell_posts_a_form(server):
    server.script(ok())
    token(server, source="cloud_shell", environ={"MSI_ENDPOINT": server.url + "/oauth2/token"})
    call = server.calls[0]
    assert (call["method"], call["form"], call["params"]) == ("POST", {"resource": ARM}, {})
    assert call["content_type"] == "application/x-www-form-urlencoded"
    assert call["headers"] == {"Metadata": "true"}


def test_vm_extension_warns_that_imds_replaced_it(server):
    server.script(ok())
    warnings = []
    result = token(server, source="vm_extension", endpoint=server.url, warn=warnings.append)
    assert server.calls[0]["path"] == "/oauth2/token"
    assert "api-version" not in server.calls[0]["params"]
    assert result.source == "vm_extension"
    assert len(warnings) == 1 and "deprecated" in warnings[0] and "source: imds" in warnings[0]


def test_a_token_for_another_identity_than_requested_is_refused(server):
    server.script(ok(client_id="11111111-2222-3333-4444-555555555555"))
    with pytest.raises(IdentityError, match="refusing to use it") as caught:
        token(server, client_id=CLIENT)
    assert TOKEN not in str(caught.value)


def test_redirects_are_not_followed(server):
    elsewhere = Endpoint().script(ok())
    try:
        env = {"IDENTITY_ENDPOINT": server.url + "/msi/token", "IDENTITY_HEADER": SECRET_HEADER}
        server.script(Answer(307, headers={"Location": elsewhere.url + "/msi/token"}))
        with pytest.raises(IdentityError) as caught:
            token(server, source="app_service", environ=env)
        assert caught.value.status == 307
        assert elsewhere.calls == []  # the identity header never travelled on
    finally:
        elsewhere.close()


def test_proxy_variables_are_ignored(server, monkeypatch):
    """IMDS is "not supported behind a proxy" (instance-metadata-service.md): go straight to the endpoint."""
    proxy = "http://127.0.0.1:%d" % unused_port()
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    server.script(ok())
    assert token(server).access_token == TOKEN
    assert len(server.calls) == 1


# --- retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410, 429, 500, 502, 503])
def test_transient_statuses_are_retried(server, status):
    clock = Clock()
    server.script(Answer(status), Answer(status), ok())
    result = token(server, policy=policy(clock=clock))
    assert result.access_token == TOKEN
    assert len(server.calls) == 3
    assert clock.sleeps == [1.0, 2.0]  # exponential backoff (jitter pinned to its ceiling)


@pytest.mark.parametrize("status", [400, 401, 403, 405])
def test_other_4xx_are_never_retried(server, status):
    clock = Clock()
    server.script(Answer(status, {"error": "invalid_request", "error_description": "nope"}), ok())
    with pytest.raises(IdentityError) as caught:
        token(server, policy=policy(clock=clock))
    assert len(server.calls) == 1
    assert clock.sleeps == []
    assert caught.value.status == status


def test_retry_after_is_honoured(server):
    clock = Clock()
    server.script(Answer(429, headers={"Retry-After": "7"}), ok())
    token(server, policy=policy(clock=clock))
    assert clock.sleeps == [7.0]


def test_budget_is_respected_and_the_error_says_so(server):
    clock = Clock()
    server.script(*[Answer(410)] * 20)
    with pytest.raises(IdentityError) as caught:
        token(server, policy=policy(max_wait=10, clock=clock))
    assert sum(clock.sleeps) <= 10
    assert clock.sleeps == [1.0, 2.0, 4.0]  # the next wait (8 s) would pass the 10 s budget: not started
    assert len(server.calls) == 4
    assert "HTTP 410" in str(caught.value) and "max_wait" in str(caught.value)


def test_max_wait_zero_means_a_single_attempt(server):
    server.script(Answer(503), ok())
    with pytest.raises(IdentityError):
        token(server, policy=policy(max_wait=0))
    assert len(server.calls) == 1


def test_connection_reset_is_retried(server):
    clock = Clock()
    server.script(Answer(action="reset"), ok())
    assert token(server, policy=policy(clock=clock)).access_token == TOKEN
    assert len(server.calls) == 2
    assert len(clock.sleeps) == 1


def test_connection_resets_until_the_budget_is_spent_say_so(server):
    server.script(*[Answer(action="reset")] * 5)
    with pytest.raises(IdentityError) as caught:
        token(server, policy=policy(max_wait=4))
    assert "kept failing" in str(caught.value) and "max_wait 4 s" in str(caught.value)
    assert not isinstance(caught.value, EndpointUnreachable)


def test_a_read_timeout_is_retried(server):
    clock = Clock()
    server.script(Answer(200, {"late": True}, delay=1.0), ok())
    assert token(server, timeout=0.2, policy=policy(clock=clock)).access_token == TOKEN
    assert len(server.calls) == 2 and len(clock.sleeps) == 1


def test_a_read_timeout_without_budget_names_the_timeout(server):
    server.script(Answer(200, {"late": True}, delay=1.0))
    with pytest.raises(IdentityError, match="did not answer within timeout 0.2 s per attempt"):
        token(server, timeout=0.2, policy=policy(max_wait=0))


def test_a_timeout_says_how_long_was_waited_in_all(server):
    """Not just the retry budget: the attempts and the whole time, request timeouts included."""
    clock = Clock()
    server.script(*[Answer(200, {"late": True}, delay=1.0)] * 3)
    with pytest.raises(IdentityError) as caught:
        token(server, timeout=0.2, policy=policy(max_wait=5, clock=clock))
    # The injected clock counts only the back-off sleeps (1 + 2 s); a real one adds each 0.2 s timeout too.
    assert str(caught.value).endswith(": 3 attempts in 3 s (max_wait 5 s).")


def test_non_vm_sources_do_not_retry_404(server):
    """Service Fabric's 404 is ManagedIdentityNotFound, a final answer."""
    env = {"MSI_ENDPOINT": server.url + "/MSI/token", "MSI_SECRET": SECRET_HEADER}
    server.script(Answer(404, {"error": "not_found", "error_description": "x"}), ok())
    with pytest.raises(IdentityError):
        _identity.get_token(ARM, source="azure_ml", environ=env, max_wait=30)
    assert len(server.calls) == 1


def test_an_aadsts_verdict_in_a_5xx_is_final(server):
    body = {"statusCode": 500, "message": "AADSTS500011: The resource principal named https://x was not found"}
    env = {"IDENTITY_ENDPOINT": server.url + "/msi/token", "IDENTITY_HEADER": SECRET_HEADER}
    server.script(Answer(500, body), ok())
    with pytest.raises(IdentityError, match="does not know the resource"):
        token(server, source="app_service", environ=env, resource="https://x")
    assert len(server.calls) == 1


def test_an_unreachable_endpoint_fails_fast_naming_it():
    clock = Clock()
    url = "http://127.0.0.1:%d" % unused_port()
    with pytest.raises(EndpointUnreachable) as caught:
        _identity.get_token(ARM, endpoint=url, environ={}, policy=policy(clock=clock))
    message = str(caught.value)
    assert url + "/metadata/identity/oauth2/token" in message
    assert "Connection refused" in message
    assert "may not be an Azure VM" in message and "no managed identity enabled" in message
    assert clock.sleeps == []


def test_a_connect_timeout_is_unreachable_too(monkeypatch):
    """IMDS is link-local: a SYN nobody answers means no IMDS, not a busy one (no loopback address drops SYNs)."""

    def silent(address, timeout):
        raise socket.timeout("timed out")

    monkeypatch.setattr(_http.socket, "create_connection", silent)
    clock = Clock()
    with pytest.raises(EndpointUnreachable, match="timed out"):
        _identity.get_token(ARM, endpoint="http://127.0.0.1:%d" % unused_port(), environ={}, policy=policy(clock=clock))
    assert clock.sleeps == []


# --- errors that say what to fix ------------------------------------------------------------------


def imds_400(description, error="invalid_request"):
    return Answer(400, {"error": error, "error_description": description})


def test_no_system_identity(server):
    with pytest.raises(IdentityError) as caught:
        token(server.script(imds_400("Identity not found")))
    message = str(caught.value)
    assert "no system-assigned managed identity" in message and "vm_identity" in message


def test_requested_user_assigned_identity_not_attached(server):
    with pytest.raises(IdentityError) as caught:
        token(server.script(imds_400("Identity not found")), client_id=CLIENT)
    assert "client_id=%s is not attached" % CLIENT in str(caught.value)


def test_several_identities_and_no_selector_names_the_options(server):
    description = ("Multiple user assigned identities exist, please specify the clientId / resourceId of the "
                   "identity in the token request")
    with pytest.raises(IdentityError) as caught:
        token(server.script(imds_400(description)))
    assert "set one of the options client_id, object_id or msi_res_id" in str(caught.value)


def test_unknown_resource_mentions_the_trailing_slash(server):
    description = "AADSTS500011: The resource principal named https://management.azure.com was not found"
    with pytest.raises(IdentityError) as caught:
        token(server.script(imds_400(description, "invalid_resource")), resource="https://management.azure.com")
    message = str(caught.value)
    assert "does not know the resource 'https://management.azure.com'" in message
    assert "with the trailing slash" in message


def test_a_body_that_is_not_json_is_shown_shortened(server):
    server.script(Answer(400, b"x" * 1000))
    with pytest.raises(IdentityError) as caught:
        token(server)
    assert "x" * 290 in str(caught.value) and "x" * 400 not in str(caught.value)


# --- Arc key file rules ---------------------------------------------------------------------------


@pytest.fixture
def key_dir(tmp_path):
    directory = tmp_path / "tokens"
    directory.mkdir()
    return directory


def challenge(path):
    return Answer(401, {"error": "unauthorized_client"}, {"WWW-Authenticate": "Basic realm=%s" % path})


def arc(server, key_dir):
    return token(server, source="arc", environ={"IDENTITY_ENDPOINT": server.url + "/metadata/identity/oauth2/token"},
                 arc_key_dir=str(key_dir))


def test_arc_reads_the_key_and_answers_the_challenge(server, key_dir):
    (key_dir / "abc.key").write_text("s3cr3tkey")
    server.script(challenge(key_dir / "abc.key"), ok())
    result = arc(server, key_dir)
    assert result.access_token == TOKEN
    first, second = server.calls
    assert "Authorization" not in first["headers"]
    assert second["headers"]["Authorization"] == "Basic s3cr3tkey"
    assert second["params"] == {"api-version": "2020-06-01", "resource": ARM}


@pytest.mark.parametrize(
    "make_realm, why",
    [
        (lambda d: d.parent / "elsewhere.key", "is not directly in"),
        (lambda d: "/etc/shadow", "is not directly in"),
        (lambda d: "%s/../tokens/abc.key" % d, "is not directly in"),
        (lambda d: "%s/sub/abc.key" % d, "is not directly in"),
        (lambda d: "abc.key", "is not directly in"),
        (lambda d: d / "abc.txt", "is not a .key file"),
        (lambda d: d / "link.key", "cannot be opened"),
        (lambda d: d / "big.key", "is larger than 4096 bytes"),
        (lambda d: d / "dir.key", "is not a regular file"),
        (lambda d: d / "fifo.key", "is not a regular file"),
        (lambda d: d / "missing.key", "cannot be opened"),
    ],
)
def test_arc_refuses_any_other_file(server, key_dir, make_realm, why):
    (key_dir.parent / "elsewhere.key").write_text("outside")
    (key_dir / "abc.txt").write_text("not a key")
    (key_dir / "big.key").write_text("x" * 4097)
    (key_dir / "dir.key").mkdir()
    os.mkfifo(key_dir / "fifo.key")
    os.symlink(key_dir.parent / "elsewhere.key", key_dir / "link.key")
    server.script(challenge(make_realm(key_dir)), ok())
    with pytest.raises(IdentityError) as caught:
        arc(server, key_dir)
    assert why in str(caught.value)
    assert len(server.calls) == 1  # the key never went anywhere
    assert "outside" not in str(caught.value)


def test_arc_accepts_a_key_of_exactly_4096_bytes(server, key_dir):
    (key_dir / "max.key").write_text("k" * 4096)
    server.script(challenge(key_dir / "max.key"), ok())
    arc(server, key_dir)
    assert server.calls[1]["headers"]["Authorization"] == "Basic " + "k" * 4096


def test_arc_without_a_basic_challenge_is_an_error(server, key_dir):
    server.script(Answer(401, {"error": "unauthorized_client"}, {"WWW-Authenticate": "Bearer"}))
    with pytest.raises(IdentityError, match="without a Basic realm challenge"):
        arc(server, key_dir)


# --- parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires_on, expires_in, expected",
    [
        (1900000000, None, 1900000000),
        ("1900000000", "3599", 1900000000),
        ("03/17/2030 09:20:00 +00:00", None, MARCH_17_2030),
    ],
)
def test_expiry_formats(expires_on, expires_in, expected):
    assert _identity._expires_on(expires_on, expires_in) == expected


def test_expiry_from_expires_in_only():
    value = _identity._expires_on(None, "3600")
    assert value is not None and value > 1700000000


def test_decode_claims_without_verification():
    assert _identity.decode_claims(TOKEN)["oid"] == OBJECT
    assert _identity.decode_claims("opaque-token") == {}
    assert _identity.decode_claims("a.!!!.c") == {}


def test_describe_instance():
    compute = {"subscriptionId": "s", "resourceGroupName": "rg", "name": "vm1", "vmId": "id", "location": "westus",
               "azEnvironment": "AzurePublicCloud", "osType": "Linux", "resourceId": "", "vmSize": "Standard_B2s",
               "tagsList": [{"name": "env", "value": "prod"}]}
    facts = _identity.describe_instance(compute)
    assert facts["resource_id"] == "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
    assert facts["tags"] == {"env": "prod"}
    assert facts["os_type"] == "Linux"
