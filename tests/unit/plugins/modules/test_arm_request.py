# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""arm_request: idempotency decisions, check mode, diff, paging, failures naming the action."""

from __future__ import annotations

import json

import pytest
import requests
from ansible.module_utils.testing import patch_module_args

from ansible_collections.managed_identity.azure.plugins.module_utils import _arm, _module
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import AccessToken
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.modules import arm_request

ARM = "https://arm.example.test"
VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
UAMI = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u1"


def response(status, body=None, headers=None):
    resp = requests.Response()
    resp.status_code = status
    resp._content = b"" if body is None else json.dumps(body).encode()
    resp.headers.update(headers or {})
    return resp


class FakeSession:
    def __init__(self, *script):
        self.script = list(script)
        self.sent = []

    def request(self, method, url, json_body=None, headers=None, timeout=None):
        self.sent.append((method, url, json_body))
        return self.script.pop(0)


class Credential:
    def get_token(self, force_refresh=False):
        return AccessToken("tok.en.value", 0)


def run_module(monkeypatch, capsys, args, *script):
    session = FakeSession(*script)
    cloud = resolve_cloud(None, ARM, "https://login.example.test", None)

    def client(params, environ=None, warn=None):
        return _arm.ArmClient(cloud, Credential(), session=session, sleep=lambda s: None, poll_interval=0)

    monkeypatch.setattr(_module, "client_from_params", client)
    with patch_module_args(args), pytest.raises(SystemExit):
        arm_request.main()
    return json.loads(capsys.readouterr().out), session.sent


@pytest.mark.parametrize(
    "desired, current, expected",
    [
        ({"identity": {"type": "SystemAssigned"}}, {"identity": {"type": "SystemAssigned", "principalId": "p"}}, True),
        ({"identity": {"type": "SystemAssigned"}}, {"identity": {"type": "None"}}, False),
        (
            {"identity": {"type": "UserAssigned", "userAssignedIdentities": {UAMI: {}}}},
            {
                "identity": {
                    "type": "UserAssigned",
                    "userAssignedIdentities": {
                        UAMI.lower().replace("resourcegroups", "resourcegroups"): {"principalId": "p", "clientId": "c"}
                    },
                }
            },
            True,
        ),
        ({"identity": {"userAssignedIdentities": {UAMI: None}}}, {"identity": {"userAssignedIdentities": {}}}, True),
        (
            {"identity": {"userAssignedIdentities": {UAMI: None}}},
            {"identity": {"userAssignedIdentities": {UAMI: {"principalId": "p"}}}},
            False,
        ),
        ({"location": "East US"}, {"location": "eastus"}, True),
        ({"properties": {"scope": VM.upper()}}, {"properties": {"scope": VM}}, True),
        ({"tags": {"env": "Prod"}}, {"tags": {"env": "prod"}}, False),
        ({"list": [1, 2]}, {"list": [1, 2, 3]}, False),
    ],
)
def test_matches(desired, current, expected):
    assert arm_request.matches(desired, current) is expected


def test_idempotent_patch_that_already_matches_sends_no_write(monkeypatch, capsys):
    current = {"id": VM, "identity": {"type": "SystemAssigned", "principalId": "p"}}
    result, sent = run_module(
        monkeypatch,
        capsys,
        {
            "method": "PATCH",
            "path": VM,
            "api_version": "2024-11-01",
            "idempotent": True,
            "body": {"identity": {"type": "SystemAssigned"}},
        },
        response(200, current),
    )
    assert result["changed"] is False
    assert [request[0] for request in sent] == ["GET"]


def test_idempotent_patch_in_check_mode_reports_diff_and_sends_no_write(monkeypatch, capsys):
    current = {"id": VM, "identity": {"type": "None"}}
    result, sent = run_module(
        monkeypatch,
        capsys,
        {
            "method": "PATCH",
            "path": VM,
            "api_version": "2024-11-01",
            "idempotent": True,
            "body": {"identity": {"type": "SystemAssigned"}},
            "_ansible_check_mode": True,
            "_ansible_diff": True,
        },
        response(200, current),
    )
    assert result["changed"] is True
    assert [request[0] for request in sent] == ["GET"]
    assert result["diff"]["before"]["identity"]["type"] == "None"
    assert result["diff"]["after"]["identity"]["type"] == "SystemAssigned"


def test_idempotent_patch_that_differs_writes_and_waits(monkeypatch, capsys):
    result, sent = run_module(
        monkeypatch,
        capsys,
        {
            "method": "PATCH",
            "path": VM,
            "api_version": "2024-11-01",
            "idempotent": True,
            "body": {"identity": {"type": "SystemAssigned"}},
        },
        response(200, {"id": VM, "identity": {"type": "None"}}),
        response(
            200,
            {"properties": {"provisioningState": "Updating"}},
            {"Azure-AsyncOperation": ARM + "/op", "Retry-After": "0"},
        ),
        response(200, {"status": "Succeeded"}),
        response(
            200,
            {
                "id": VM,
                "identity": {"type": "SystemAssigned", "principalId": "p"},
                "properties": {"provisioningState": "Succeeded"},
            },
        ),
    )
    assert result["changed"] is True
    assert [request[0] for request in sent] == ["GET", "PATCH", "GET", "GET"]
    assert sent[1][2] == {"identity": {"type": "SystemAssigned"}}
    assert result["response"]["identity"]["principalId"] == "p"
    assert result["diff"]["after"]["identity"]["principalId"] == "p"


def test_idempotent_delete_of_a_missing_resource_is_unchanged(monkeypatch, capsys):
    result, sent = run_module(
        monkeypatch,
        capsys,
        {"method": "DELETE", "path": VM, "api_version": "1", "idempotent": True},
        response(404, {"error": {"code": "ResourceNotFound", "message": "gone"}}),
    )
    assert result["changed"] is False and len(sent) == 1


def test_plain_post_in_check_mode_is_not_sent(monkeypatch, capsys):
    result, sent = run_module(
        monkeypatch,
        capsys,
        {"method": "POST", "path": VM + "/restart", "api_version": "1", "_ansible_check_mode": True},
    )
    assert result["changed"] is True and sent == []


def test_get_is_unchanged_and_returns_headers(monkeypatch, capsys):
    result = run_module(
        monkeypatch,
        capsys,
        {"path": VM, "api_version": "1"},
        response(200, {"id": VM}, {"x-ms-request-id": "r1", "x-ms-ratelimit-remaining-subscription-reads": "249"}),
    )[0]
    assert result["changed"] is False
    assert result["status_code"] == 200
    assert result["headers"] == {"x-ms-request-id": "r1", "x-ms-ratelimit-remaining-subscription-reads": "249"}


def test_paginate_concatenates_pages(monkeypatch, capsys):
    result, sent = run_module(
        monkeypatch,
        capsys,
        {"path": "/subscriptions/s/resourcegroups", "api_version": "1", "paginate": True},
        response(200, {"value": [{"name": "a"}], "nextLink": ARM + "/subscriptions/s/resourcegroups?p=2"}),
        response(200, {"value": [{"name": "b"}]}),
    )
    assert [g["name"] for g in result["response"]["value"]] == ["a", "b"]
    assert len(sent) == 2


def test_failure_names_the_action_status_and_code(monkeypatch, capsys):
    result = run_module(
        monkeypatch,
        capsys,
        {"path": VM, "api_version": "1"},
        response(
            403, {"error": {"code": "AuthorizationFailed", "message": "The client 'x' ..."}}, {"x-ms-request-id": "r1"}
        ),
    )[0]
    assert result["failed"] is True
    assert result["msg"] == "Failed to GET %s (HTTP 403, AuthorizationFailed): The client 'x' ... [request id r1]" % VM
    assert result["request_id"] == "r1" and result["error_code"] == "AuthorizationFailed"
    assert "tok.en.value" not in json.dumps(result)


def test_idempotent_with_get_is_refused(monkeypatch, capsys):
    result, sent = run_module(monkeypatch, capsys, {"path": VM, "api_version": "1", "idempotent": True})
    assert result["failed"] is True and "idempotent=true works with PUT, PATCH and DELETE" in result["msg"]
    assert sent == []
