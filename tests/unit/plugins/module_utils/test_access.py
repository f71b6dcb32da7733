# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for reading an ARM scope from the host with its own token: what is sent, what is retried, what fails
and how the failure reads."""

from __future__ import annotations

import email.message
import json

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils import _access, _http
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    ConfigurationError,
    NotFoundError,
    PermissionDenied,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._retry import ARM_RETRY_STATUSES, RetryPolicy

SUB = "8d10da13-8125-4ba9-a717-bf7490507b3d"
OID = "2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11"
TOKEN = "header.payload.signature"
CLOUD = resolve_cloud(None, arm_endpoint="https://arm.example.test")
URL = "https://arm.example.test/subscriptions/%s/resourceGroups/rg-web?api-version=2021-04-01"
GROUP = {"id": "/subscriptions/%s/resourceGroups/rg-web" % SUB, "name": "rg-web", "location": "westus"}


def answer(status, body=None, **headers):
    message = email.message.Message()
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return _http.Response(status, message, json.dumps(body).encode() if body is not None else b"")


class Script:
    """Stands in for _http.request: records each call, answers from a list (an exception is raised)."""

    def __init__(self, *answers):
        self.answers, self.calls = list(answers), []

    def __call__(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        item = self.answers.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def read(monkeypatch, script, scope=None, **kwargs):
    monkeypatch.setattr(_http, "request", script)
    policy = RetryPolicy(kwargs.pop("max_wait", 30), ARM_RETRY_STATUSES, sleep=lambda s: None)
    return _access.read_scope(
        CLOUD, scope or _access.Scope(SUB, "rg-web"), TOKEN, principal=OID, policy=policy, ca_path="/ca.pem", **kwargs
    )


def test_reads_the_resource_group_with_the_token_and_the_ca(monkeypatch):
    script = Script(answer(200, GROUP))
    assert read(monkeypatch, script) == GROUP
    [(method, url, kwargs)] = script.calls
    assert (method, url) == (
        "GET",
        URL % SUB,
    )
    assert kwargs["headers"]["Authorization"] == "Bearer " + TOKEN
    assert kwargs["ca_path"] == "/ca.pem"


def test_a_subscription_scope_reads_the_subscription():
    scope = _access.Scope(SUB)
    assert (scope.path, scope.api_version, str(scope)) == ("/subscriptions/" + SUB, "2022-12-01", "subscription " + SUB)


def test_throttling_server_errors_and_resets_are_retried(monkeypatch):
    script = Script(
        answer(429, {"error": {"code": "TooManyRequests"}}, Retry_After="1"),
        _http.Interrupted("Connection reset by peer"),
        answer(503),
        answer(200, GROUP),
    )
    assert read(monkeypatch, script) == GROUP
    assert len(script.calls) == 4


def test_403_fails_at_once_naming_the_action_the_permission_and_the_principal(monkeypatch):
    body = {"error": {"code": "AuthorizationFailed", "message": "The client '%s' does not have authorization." % OID}}
    script = Script(answer(403, body, x_ms_request_id="req-1"))
    with pytest.raises(PermissionDenied) as info:
        read(monkeypatch, script)
    assert len(script.calls) == 1  # waiting for RBAC is the caller's visible loop
    text = str(info.value)
    assert text.startswith(
        "Failed to read resource group 'rg-web' with the managed identity of this host (principal %s) "
        "(HTTP 403, AuthorizationFailed): The client '%s' does not have authorization. Assign a role with "
        "Microsoft.Resources/subscriptions/resourceGroups/read (Reader, for example) to principal %s on the resource "
        "group or above" % (OID, OID, OID)
    )
    assert text.endswith("[request id req-1]")
    assert info.value.fail_kwargs()["error_code"] == "AuthorizationFailed"
    assert TOKEN not in text


def test_404_is_not_found(monkeypatch):
    body = {"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'rg-web' could not be found."}}
    with pytest.raises(NotFoundError, match=r"\(HTTP 404, ResourceGroupNotFound\): Resource group 'rg-web'"):
        read(monkeypatch, Script(answer(404, body)))


def test_unreachable_arm_and_endless_resets_say_so(monkeypatch):
    with pytest.raises(ArmError, match="could not connect to https://arm.example.test: Connection refused"):
        read(monkeypatch, Script(_http.Unreachable("Connection refused")))
    resets = Script(*[_http.Interrupted("Connection reset by peer")] * 50)
    with pytest.raises(
        ArmError,
        match=r"no answer from https://arm.example.test \(Connection reset by peer\): \d+ attempts in \d+ s "
        r"\(max_wait 5 s\)",
    ):
        read(monkeypatch, resets, max_wait=5)


def test_a_bad_ca_path_is_a_configuration_error(monkeypatch):
    with pytest.raises(ConfigurationError, match="ca_path='/ca.pem' cannot be used"):
        read(monkeypatch, Script(ValueError("ca_path='/ca.pem' cannot be used as a CA bundle (No such file)")))


def test_the_token_must_be_for_the_granted_principal():
    claims = {
        "oid": OID,
        "xms_mirid": "/subscriptions/x/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/v",
    }
    _access.check_principal(claims, OID.upper(), "imds")
    _access.check_principal(claims, None, "imds")
    other = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(ConfigurationError) as info:
        _access.check_principal(claims, other, "imds")
    assert str(info.value).startswith(
        "principal_id: the token from imds is for principal %s (%s), not %s" % (OID, claims["xms_mirid"], other)
    )


def test_an_empty_subscription_is_refused():
    with pytest.raises(ConfigurationError, match="subscription_id is empty"):
        _access.Scope("", "rg")


def test_a_timeout_says_the_per_attempt_timeout(monkeypatch):
    with pytest.raises(ArmError) as info:
        read(monkeypatch, Script(_http.TimedOut("timed out")), max_wait=0, timeout=4)
    assert str(info.value).endswith(
        "(principal %s): https://arm.example.test did not answer within timeout 4 s per attempt (timed out): "
        "1 attempt in 0 s (max_wait 0 s)." % OID
    )


def test_throttling_past_max_wait_says_it_gave_up(monkeypatch):
    body = {"error": {"code": "SubscriptionRequestsThrottled", "message": "Number of 'read' requests exceeded."}}
    with pytest.raises(ArmError) as info:
        read(monkeypatch, Script(answer(429, body, Retry_After="60")), max_wait=30)
    assert info.value.status == 429
    assert info.value.message == "Number of 'read' requests exceeded. Gave up after 1 attempt in 0 s (max_wait 30 s)."
