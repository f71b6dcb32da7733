# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the effective-permission check: which patterns built-in roles grant, what the failure names, and
that the host's token only goes to ARM."""

from __future__ import annotations

import email.message
import json

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils import _http, _permissions
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ArmError, ConfigurationError

SUB = "8d10da13-8125-4ba9-a717-bf7490507b3d"
OID = "2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11"
RG = "/subscriptions/%s/resourceGroups/rg-web" % SUB
CLOUD = resolve_cloud(None, arm_endpoint="https://arm.example.test")
READER = {"actions": ["*/read"], "notActions": []}
OWNER = {"actions": ["*"], "notActions": []}
CONTRIBUTOR = {
    "actions": ["*"],
    "notActions": [
        "Microsoft.Authorization/*/Delete",
        "Microsoft.Authorization/*/Write",
        "Microsoft.Authorization/elevateAccess/Action",
    ],
}
VM_CONTRIBUTOR = {
    "actions": ["Microsoft.Authorization/*/read", "Microsoft.Compute/virtualMachines/*"],
    "notActions": [],
}
RBAC_ADMIN = {"actions": ["Microsoft.Authorization/roleAssignments/write", "*/read"], "notActions": []}


@pytest.mark.parametrize(
    "block, pattern, granted",
    [
        (READER, "*/write", False),
        (READER, "*/read", True),
        (OWNER, "*/write", True),
        (OWNER, "Microsoft.Authorization/*/write", True),
        (CONTRIBUTOR, "*/write", True),
        (CONTRIBUTOR, "Microsoft.Authorization/*/write", False),
        (CONTRIBUTOR, "microsoft.authorization/roleassignments/WRITE", False),
        (VM_CONTRIBUTOR, "*/write", True),
        (VM_CONTRIBUTOR, "Microsoft.Authorization/*/write", False),
        (RBAC_ADMIN, "Microsoft.Authorization/*/write", True),
        (RBAC_ADMIN, "*/delete", False),
    ],
)
def test_forbidden_patterns_against_built_in_roles(block, pattern, granted):
    assert bool(_permissions.block_grants_some(block, pattern)) is granted


@pytest.mark.parametrize(
    "blocks, expected, missing",
    [
        ([READER], ["Microsoft.Resources/subscriptions/resourceGroups/read"], []),
        ([READER], ["Microsoft.Compute/virtualMachines/write"], ["Microsoft.Compute/virtualMachines/write"]),
        (
            [CONTRIBUTOR],
            ["Microsoft.Authorization/roleAssignments/write"],
            ["Microsoft.Authorization/roleAssignments/write"],
        ),
        ([READER, VM_CONTRIBUTOR], ["Microsoft.Compute/virtualMachines/start/action", "*/read"], []),
        # a/*/b also stands for a/b in Azure.
        (
            [{"actions": ["Microsoft.ManagedIdentity/userAssignedIdentities/*/read"]}],
            ["Microsoft.ManagedIdentity/userAssignedIdentities/read"],
            [],
        ),
    ],
)
def test_expected_actions_must_be_granted_whole(blocks, expected, missing):
    assert _permissions.missing(blocks, expected) == missing


def test_bad_patterns_name_the_option():
    with pytest.raises(ConfigurationError, match="forbid_actions: 'Microsoft Compute/write' is not an action"):
        _permissions.check_patterns("forbid_actions", ["Microsoft Compute/write"])


def answer(status, body):
    return _http.Response(status, email.message.Message(), json.dumps(body).encode())


class Arm:
    """Stands in for ARM behind _http.Session: answers by path (one answer per call, in order), records the URLs."""

    def __init__(self, routes):
        self.routes, self.calls = routes, []

    def __call__(self, method, url, **kwargs):
        self.calls.append(url)
        path = url.split("arm.example.test", 1)[1].split("?", 1)[0]
        return self.routes[path].pop(0)


def test_check_names_the_assignment_that_grants_the_excess(monkeypatch):
    owner_id = "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/8e3af657" % SUB
    reader_id = "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/acdd72a7" % SUB
    owner_assignment = {
        "id": "/subscriptions/%s/providers/Microsoft.Authorization/roleAssignments/aaa" % SUB,
        "properties": {"scope": "/subscriptions/%s" % SUB, "roleDefinitionId": owner_id, "principalId": OID},
    }
    reader_assignment = {
        "id": RG + "/providers/Microsoft.Authorization/roleAssignments/bbb",
        "properties": {"scope": RG, "roleDefinitionId": reader_id, "principalId": OID},
    }
    below = {
        "id": RG
        + "/providers/Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.Authorization/roleAssignments/c",
        "properties": {"scope": RG + "/providers/Microsoft.Compute/virtualMachines/vm1", "roleDefinitionId": owner_id},
    }
    next_page = "https://arm.example.test%s/providers/Microsoft.Authorization/permissions?$skiptoken=1" % RG
    script = Arm(
        {
            # The second page of permissions holds Owner's block.
            RG + "/providers/Microsoft.Authorization/permissions": [
                answer(200, {"value": [READER], "nextLink": next_page}),
                answer(200, {"value": [OWNER]}),
            ],
            RG + "/providers/Microsoft.Authorization/roleAssignments": [
                answer(200, {"value": [reader_assignment, owner_assignment, below]})
            ],
            owner_id: [answer(200, {"properties": {"roleName": "Owner", "permissions": [OWNER]}})],
            reader_id: [answer(200, {"properties": {"roleName": "Reader", "permissions": [READER]}})],
        }
    )
    monkeypatch.setattr(_http.Session, "request", lambda session, method, url, **kw: script(method, url, **kw))
    arm = _permissions.host_client(CLOUD, "the-token", max_wait=0)
    result = _permissions.check(arm, RG, OID, ["*/read"], ["*/write", "*/delete"])

    assert result["missing_actions"] == []
    assert [e["action"] for e in result["excess_permissions"]] == ["*/write", "*/delete"]
    granted_by = result["excess_permissions"][0]["granted_by"]
    assert [(g["role_name"], g["scope"]) for g in granted_by] == [("Owner", "/subscriptions/%s" % SUB)]
    message = _permissions.describe_excess(result["excess_permissions"], OID, RG)
    assert "*/write is granted by role 'Owner' (assignment %s" % owner_assignment["id"] in message
    assert "Reader" not in message and "the-token" not in message
    assert len(script.calls) == 5 and all(url.startswith("https://arm.example.test/") for url in script.calls)


def test_without_role_assignment_read_the_failure_names_the_blocks(monkeypatch):
    def request(session, method, url, **kwargs):
        if "/permissions" in url:
            return answer(200, {"value": [OWNER]})
        return answer(403, {"error": {"code": "AuthorizationFailed", "message": "no"}})

    monkeypatch.setattr(_http.Session, "request", request)
    result = _permissions.check(_permissions.host_client(CLOUD, "t", max_wait=0), RG, OID, [], ["*/write"])
    message = _permissions.describe_excess(result["excess_permissions"], OID, RG, result["note"])
    assert "*/write is granted by permission blocks actions ['*'] minus notActions []" in message
    assert "may not read its role assignments" in message


def test_a_next_link_off_arm_is_refused(monkeypatch):
    sent = []

    def request(session, method, url, headers=None, **kw):
        sent.append((url, headers["Authorization"]))
        return answer(200, {"value": [], "nextLink": "https://elsewhere.example/steal"})

    monkeypatch.setattr(_http.Session, "request", request)
    with pytest.raises(ArmError, match="refusing to send the ARM token to https://elsewhere.example"):
        _permissions.check(_permissions.host_client(CLOUD, "t", max_wait=0), RG, OID, ["*/read"], [])
    assert [url.split("?")[0] for url, _token in sent] == ["https://arm.example.test%s/providers/Microsoft."
                                                           "Authorization/permissions" % RG]
