# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the managed identity sources: detection, wire parameters, retries, Arc key rules, errors."""

from __future__ import annotations

import base64
import datetime
import json
import os
import socket

import pytest
import requests
from urllib3.exceptions import ProtocolError

from ansible_collections.managed_identity.azure.plugins.module_utils import _identity
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


def jwt(claims):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return "%s.%s.%s" % (part({"alg": "RS256", "typ": "JWT"}), part(claims), "c2lnbmF0dXJl")


MARCH_17_2030 = int(datetime.datetime(2030, 3, 17, 9, 20, tzinfo=datetime.timezone.utc).timestamp())
TOKEN = jwt({"oid": OBJECT, "aud": ARM, "exp": 1900000000})


class FakeResponse:
    def __init__(self, status, body=None, headers=None):
        self.status_code = status
        self._body = body
        self.headers = requests.structures.CaseInsensitiveDict(headers or {})
        self.text = json.dumps(body) if body is not None else ""

    def json(self):
        if self._body is None:
            raise ValueError("no body")
        return self._body


def ok(**extra):
    body = {"access_token": TOKEN, "expires_on": "1900000000", "expires_in": "86399", "resource": ARM,
            "token_type": "Bearer"}
    body.update(extra)
    return FakeResponse(200, body)


class FakeSession:
    """Answers from a script; records every request (method, url, params, headers, data)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, method, url, params=None, headers=None, data=None, **kwargs):
        self.calls.append({"method": method, "url": url, "params": dict(params or {}), "headers": dict(headers or {}),
                           "data": data, "allow_redirects": kwargs.get("allow_redirects")})
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self):
        pass


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


def token(session, **kwargs):
    kwargs.setdefault("environ", {})
    kwargs.setdefault("policy", policy())
    return _identity.get_token(kwargs.pop("resource", ARM), session=session, **kwargs)


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


def test_auto_uses_the_detected_source():
    session = FakeSession(ok())
    result = token(session, environ={"MSI_ENDPOINT": "http://127.0.0.1:9/MSI/token", "MSI_SECRET": SECRET_HEADER})
    assert result.source == "azure_ml"
    assert session.calls[0]["headers"] == {"secret": SECRET_HEADER}


# --- what goes on the wire ------------------------------------------------------------------------


def test_imds_request_and_pod_identity_redirect():
    session = FakeSession(ok(client_id=CLIENT))
    result = token(session, environ={"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:8080/"})
    call = session.calls[0]
    assert call["method"] == "GET"
    assert call["url"] == "http://127.0.0.1:8080/metadata/identity/oauth2/token"
    assert call["params"] == {"api-version": "2018-02-01", "resource": ARM}
    assert call["headers"] == {"Metadata": "true"}
    assert call["allow_redirects"] is False
    assert (result.access_token, result.expires_on, result.source, result.client_id) == (
        TOKEN, 1900000000, "imds", CLIENT)


def test_endpoint_option_beats_the_environment_and_keeps_a_full_path():
    session = FakeSession(ok())
    token(session, endpoint="http://127.0.0.1:9/custom/path", environ={"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://x"})
    assert session.calls[0]["url"] == "http://127.0.0.1:9/custom/path"


@pytest.mark.parametrize(
    "source, environ, selector, expected_params",
    [
        ("imds", {}, {"client_id": CLIENT}, {"client_id": CLIENT}),
        ("imds", {}, {"object_id": OBJECT}, {"object_id": OBJECT}),
        ("imds", {}, {"msi_res_id": UAMI}, {"msi_res_id": UAMI}),
        ("vm_extension", {}, {"client_id": CLIENT}, {"client_id": CLIENT}),
        ("vm_extension", {}, {"object_id": OBJECT}, {"object_id": OBJECT}),
        ("app_service", {"IDENTITY_ENDPOINT": "http://127.0.0.1:9/msi/token", "IDENTITY_HEADER": SECRET_HEADER},
         {"client_id": CLIENT}, {"client_id": CLIENT, "api-version": "2019-08-01"}),
        ("app_service", {"IDENTITY_ENDPOINT": "http://127.0.0.1:9/msi/token", "IDENTITY_HEADER": SECRET_HEADER},
         {"object_id": OBJECT}, {"object_id": OBJECT}),
        ("app_service", {"IDENTITY_ENDPOINT": "http://127.0.0.1:9/msi/token", "IDENTITY_HEADER": SECRET_HEADER},
         {"msi_res_id": UAMI}, {"mi_res_id": UAMI}),
        ("app_service", {"MSI_ENDPOINT": "http://127.0.0.1:9/msi/token", "MSI_SECRET": SECRET_HEADER},
         {"client_id": CLIENT}, {"clientid": CLIENT, "api-version": "2017-09-01"}),
        ("azure_ml", {"MSI_ENDPOINT": "http://127.0.0.1:9/MSI/token", "MSI_SECRET": SECRET_HEADER},
         {"client_id": CLIENT}, {"clientid": CLIENT, "api-version": "2017-09-01"}),
        ("azure_ml", {"MSI_ENDPOINT": "http://127.0.0.1:9/MSI/token", "MSI_SECRET": SECRET_HEADER},
         {"msi_res_id": UAMI}, {"mi_res_id": UAMI}),
    ],
)
def test_selector_is_sent_under_the_sources_own_name(source, environ, selector, expected_params):
    session = FakeSession(ok())
    token(session, source=source, environ=environ, **selector)
    params = session.calls[0]["params"]
    for name, value in expected_params.items():
        assert params[name] == value
    # exactly one selector parameter, under exactly that name
    assert len(set(params) - {"api-version", "resource"}) == 1


@pytest.mark.parametrize(
    "source, environ, selector",
    [
        ("arc", {}, {"client_id": CLIENT}),
        ("arc", {}, {"msi_res_id": UAMI}),
        ("cloud_shell", {}, {"object_id": OBJECT}),
        ("service_fabric", {"IDENTITY_ENDPOINT": "https://127.0.0.1:9/", "IDENTITY_HEADER": SECRET_HEADER,
                            "IDENTITY_SERVER_THUMBPRINT": "a" * 40}, {"client_id": CLIENT}),
        ("vm_extension", {}, {"msi_res_id": UAMI}),
        ("azure_ml", {"MSI_ENDPOINT": "http://127.0.0.1:9/", "MSI_SECRET": SECRET_HEADER}, {"object_id": OBJECT}),
        ("app_service", {"MSI_ENDPOINT": "http://127.0.0.1:9/", "MSI_SECRET": SECRET_HEADER}, {"object_id": OBJECT}),
    ],
)
def test_a_selector_the_source_cannot_honour_is_refused_before_any_request(source, environ, selector):
    session = FakeSession()
    with pytest.raises(ConfigurationError) as caught:
        token(session, source=source, environ=environ, **selector)
    name = next(iter(selector))
    assert "Source %s cannot select a user-assigned identity by %s" % (source, name) in str(caught.value)
    assert session.calls == []
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
def test_bad_input_names_the_option_and_sends_nothing(kwargs, fragment):
    session = FakeSession()
    with pytest.raises(ConfigurationError, match=fragment):
        token(session, **kwargs)
    assert session.calls == []


def test_app_service_2019_sends_the_identity_header_and_parses_the_answer():
    session = FakeSession(FakeResponse(200, {"access_token": TOKEN, "expires_on": "1900000000", "resource": ARM,
                                             "token_type": "Bearer", "client_id": CLIENT}))
    env = {"IDENTITY_ENDPOINT": "http://127.0.0.1:9/msi/token", "IDENTITY_HEADER": SECRET_HEADER}
    result = token(session, source="app_service", environ=env)
    assert session.calls[0]["headers"]["X-IDENTITY-HEADER"] == SECRET_HEADER
    assert result.expires_on == 1900000000
    assert result.client_id == CLIENT


def test_app_service_2017_date_expiry_is_parsed():
    session = FakeSession(FakeResponse(200, {"access_token": TOKEN, "expires_on": "03/17/2030 09:20:00 +00:00",
                                             "resource": ARM, "token_type": "Bearer"}))
    env = {"MSI_ENDPOINT": "http://127.0.0.1:9/msi/token", "MSI_SECRET": SECRET_HEADER}
    result = token(session, source="app_service", environ=env)
    assert session.calls[0]["headers"] == {"secret": SECRET_HEADER}
    assert result.expires_on == MARCH_17_2030


def test_cloud_shell_posts_a_form():
    session = FakeSession(ok())
    token(session, source="cloud_shell", environ={"MSI_ENDPOINT": "http://127.0.0.1:9/oauth2/token"})
    call = session.calls[0]
    assert (call["method"], call["data"], call["params"]) == ("POST", {"resource": ARM}, {})
    assert call["headers"] == {"Metadata": "true"}


def test_vm_extension_warns_that_imds_replaced_it():
    session = FakeSession(ok())
    warnings = []
    result = token(session, source="vm_extension", endpoint="http://127.0.0.1:9", warn=warnings.append)
    assert session.calls[0]["url"] == "http://127.0.0.1:9/oauth2/token"
    assert "api-version" not in session.calls[0]["params"]
    assert result.source == "vm_extension"
    assert len(warnings) == 1 and "deprecated" in warnings[0] and "source: imds" in warnings[0]


def test_a_token_for_another_identity_than_requested_is_refused():
    session = FakeSession(ok(client_id="11111111-2222-3333-4444-555555555555"))
    with pytest.raises(IdentityError, match="refusing to use it") as caught:
        token(session, client_id=CLIENT)
    assert TOKEN not in str(caught.value)


# --- retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410, 429, 500, 502, 503])
def test_transient_statuses_are_retried(status):
    clock = Clock()
    session = FakeSession(FakeResponse(status), FakeResponse(status), ok())
    result = token(session, policy=policy(clock=clock))
    assert result.access_token == TOKEN
    assert len(session.calls) == 3
    assert clock.sleeps == [1.0, 2.0]  # exponential backoff (jitter pinned to its ceiling)


@pytest.mark.parametrize("status", [400, 401, 403, 405])
def test_other_4xx_are_never_retried(status):
    clock = Clock()
    session = FakeSession(FakeResponse(status, {"error": "invalid_request", "error_description": "nope"}), ok())
    with pytest.raises(IdentityError) as caught:
        token(session, policy=policy(clock=clock))
    assert len(session.calls) == 1
    assert clock.sleeps == []
    assert caught.value.status == status


def test_retry_after_is_honoured():
    clock = Clock()
    session = FakeSession(FakeResponse(429, headers={"Retry-After": "7"}), ok())
    token(session, policy=policy(clock=clock))
    assert clock.sleeps == [7.0]


def test_budget_is_respected_and_the_error_says_so():
    clock = Clock()
    session = FakeSession(*[FakeResponse(410)] * 20)
    with pytest.raises(IdentityError) as caught:
        token(session, policy=policy(max_wait=10, clock=clock))
    assert sum(clock.sleeps) <= 10
    assert clock.sleeps == [1.0, 2.0, 4.0]  # the next wait (8 s) would pass the 10 s budget: not started
    assert len(session.calls) == 4
    assert "HTTP 410" in str(caught.value) and "max_wait" in str(caught.value)


def test_max_wait_zero_means_a_single_attempt():
    session = FakeSession(FakeResponse(503), ok())
    with pytest.raises(IdentityError):
        token(session, policy=policy(max_wait=0))
    assert len(session.calls) == 1


def test_connection_reset_is_retried():
    clock = Clock()
    reset = requests.exceptions.ConnectionError(ProtocolError("aborted", ConnectionResetError(104, "reset")))
    session = FakeSession(reset, ok())
    assert token(session, policy=policy(clock=clock)).access_token == TOKEN
    assert len(clock.sleeps) == 1


def test_non_vm_sources_do_not_retry_404():
    """Service Fabric's 404 is ManagedIdentityNotFound, a final answer."""
    env = {"MSI_ENDPOINT": "http://127.0.0.1:9/MSI/token", "MSI_SECRET": SECRET_HEADER}
    session = FakeSession(FakeResponse(404, {"error": "not_found", "error_description": "x"}), ok())
    with pytest.raises(IdentityError):
        _identity.get_token(ARM, source="azure_ml", environ=env, session=session, max_wait=30)
    assert len(session.calls) == 1


def test_an_aadsts_verdict_in_a_5xx_is_final():
    body = {"statusCode": 500, "message": "AADSTS500011: The resource principal named https://x was not found"}
    env = {"IDENTITY_ENDPOINT": "http://127.0.0.1:9/msi/token", "IDENTITY_HEADER": SECRET_HEADER}
    session = FakeSession(FakeResponse(500, body), ok())
    with pytest.raises(IdentityError, match="does not know the resource"):
        token(session, source="app_service", environ=env, resource="https://x")
    assert len(session.calls) == 1


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_endpoint_fails_fast_naming_it():
    clock = Clock()
    url = "http://127.0.0.1:%d" % unused_port()
    with pytest.raises(EndpointUnreachable) as caught:
        _identity.get_token(ARM, endpoint=url, environ={}, policy=policy(clock=clock))
    message = str(caught.value)
    assert url + "/metadata/identity/oauth2/token" in message
    assert "may not be an Azure VM" in message and "no managed identity enabled" in message
    assert clock.sleeps == []


# --- errors that say what to fix ------------------------------------------------------------------


def imds_400(description, error="invalid_request"):
    return FakeResponse(400, {"error": error, "error_description": description})


def test_no_system_identity():
    with pytest.raises(IdentityError) as caught:
        token(FakeSession(imds_400("Identity not found")))
    message = str(caught.value)
    assert "no system-assigned managed identity" in message and "vm_identity" in message


def test_requested_user_assigned_identity_not_attached():
    with pytest.raises(IdentityError) as caught:
        token(FakeSession(imds_400("Identity not found")), client_id=CLIENT)
    assert "client_id=%s is not attached" % CLIENT in str(caught.value)


def test_several_identities_and_no_selector_names_the_options():
    description = ("Multiple user assigned identities exist, please specify the clientId / resourceId of the "
                   "identity in the token request")
    with pytest.raises(IdentityError) as caught:
        token(FakeSession(imds_400(description)))
    assert "set one of the options client_id, object_id or msi_res_id" in str(caught.value)


def test_unknown_resource_mentions_the_trailing_slash():
    description = "AADSTS500011: The resource principal named https://management.azure.com was not found"
    with pytest.raises(IdentityError) as caught:
        token(FakeSession(imds_400(description, "invalid_resource")), resource="https://management.azure.com")
    message = str(caught.value)
    assert "does not know the resource 'https://management.azure.com'" in message
    assert "with the trailing slash" in message


def test_service_fabric_error_shape():
    body = {"error": {"correlationId": "c", "code": "ManagedIdentityNotFound",
                      "message": "Managed identity not found for the specified application host."}}
    env = {"IDENTITY_ENDPOINT": "https://127.0.0.1:9/", "IDENTITY_HEADER": SECRET_HEADER,
           "IDENTITY_SERVER_THUMBPRINT": "a" * 40}
    session = FakeSession(FakeResponse(404, body))
    err = _identity._token_error(session.answers[0], _identity._build_service_fabric(ARM, None, None, env),
                                 "service_fabric", ARM, None, policy())
    assert err.code == "ManagedIdentityNotFound" and "no system-assigned managed identity" in str(err)
    assert SECRET_HEADER not in str(err)


# --- Arc key file rules ---------------------------------------------------------------------------


@pytest.fixture
def key_dir(tmp_path):
    directory = tmp_path / "tokens"
    directory.mkdir()
    return directory


def challenge(path):
    return FakeResponse(401, {"error": "unauthorized_client"}, {"WWW-Authenticate": "Basic realm=%s" % path})


def test_arc_reads_the_key_and_answers_the_challenge(key_dir):
    (key_dir / "abc.key").write_text("s3cr3tkey")
    session = FakeSession(challenge(key_dir / "abc.key"), ok())
    result = token(session, source="arc", arc_key_dir=str(key_dir))
    assert result.access_token == TOKEN
    first, second = session.calls
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
def test_arc_refuses_any_other_file(key_dir, make_realm, why):
    (key_dir.parent / "elsewhere.key").write_text("outside")
    (key_dir / "abc.txt").write_text("not a key")
    (key_dir / "big.key").write_text("x" * 4097)
    (key_dir / "dir.key").mkdir()
    os.mkfifo(key_dir / "fifo.key")
    os.symlink(key_dir.parent / "elsewhere.key", key_dir / "link.key")
    session = FakeSession(challenge(make_realm(key_dir)), ok())
    with pytest.raises(IdentityError) as caught:
        token(session, source="arc", arc_key_dir=str(key_dir))
    assert why in str(caught.value)
    assert len(session.calls) == 1  # the key never went anywhere
    assert "outside" not in str(caught.value)


def test_arc_accepts_a_key_of_exactly_4096_bytes(key_dir):
    (key_dir / "max.key").write_text("k" * 4096)
    session = FakeSession(challenge(key_dir / "max.key"), ok())
    token(session, source="arc", arc_key_dir=str(key_dir))
    assert session.calls[1]["headers"]["Authorization"] == "Basic " + "k" * 4096


def test_arc_without_a_basic_challenge_is_an_error(key_dir):
    session = FakeSession(FakeResponse(401, {"error": "unauthorized_client"}, {"WWW-Authenticate": "Bearer"}))
    with pytest.raises(IdentityError, match="without a Basic realm challenge"):
        token(session, source="arc", arc_key_dir=str(key_dir))


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
