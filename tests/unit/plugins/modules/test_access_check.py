# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""access_check as a module: the token it fetches never comes back in its result, the principal is checked before
ARM is called, and where the VM lives comes from instance metadata when not given."""

from __future__ import annotations

import base64
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.managed_identity.azure.plugins.module_utils import _access, _permissions
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import IdentityError
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_endpoints import IdentityToken
from ansible_collections.managed_identity.azure.plugins.modules import access_check

SUB = "8d10da13-8125-4ba9-a717-bf7490507b3d"
OID = "2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11"


def jwt(claims):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return "%s.%s.c2ln" % (part({"alg": "RS256"}), part(claims))


TOKEN = jwt({"oid": OID, "aud": "https://management.azure.com/", "exp": 1900000000})


@pytest.fixture
def host(monkeypatch):
    """The host's identity and ARM, scripted: records what ARM was asked."""
    seen = {"reads": [], "metadata": 0}
    token = IdentityToken(TOKEN, "Bearer", 1900000000, "https://management.azure.com/", "imds", "http://imds", None)
    monkeypatch.setattr(access_check, "fetch_token", lambda options, warn=None: token)

    def metadata(**kwargs):
        seen["metadata"] += 1
        return {"subscriptionId": SUB, "resourceGroupName": "rg-vm", "name": "vm1"}

    monkeypatch.setattr(access_check, "get_instance_metadata", metadata)

    def read_scope(cloud, scope, access_token, **kwargs):
        seen["reads"].append((cloud.arm_endpoint, scope.path, access_token == TOKEN))
        return {"id": scope.path, "name": scope.resource_group, "properties": {"provisioningState": "Succeeded"}}

    monkeypatch.setattr(_access, "read_scope", read_scope)
    return seen


def run(args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit):
        access_check.main()
    return json.loads(capsys.readouterr().out)


def test_reads_the_vms_resource_group_and_returns_no_token(host, capsys):
    result = run({"principal_id": OID.upper(), "arm_endpoint": "https://arm.example.test"}, capsys)
    assert not result.get("failed"), result
    assert host["reads"] == [("https://arm.example.test", "/subscriptions/%s/resourceGroups/rg-vm" % SUB, True)]
    assert host["metadata"] == 1
    assert (result["principal_id"], result["scope"], result["resource"]["name"]) == (
        OID,
        "/subscriptions/%s/resourceGroups/rg-vm" % SUB,
        "rg-vm",
    )
    assert result["claims"]["oid"] == OID
    assert TOKEN not in json.dumps(result) and "access_token" not in result


def test_given_a_place_it_skips_instance_metadata(host, capsys):
    result = run({"subscription_id": SUB, "resource_group": "rg-web"}, capsys)
    assert not result.get("failed"), result
    assert host["metadata"] == 0
    assert host["reads"][0][1] == "/subscriptions/%s/resourceGroups/rg-web" % SUB


def test_a_token_for_another_principal_fails_before_arm_is_called(host, capsys):
    result = run({"subscription_id": SUB, "resource_group": "rg-web", "principal_id": SUB}, capsys)
    assert result["failed"]
    assert result["msg"].startswith("principal_id: the token from imds is for principal %s" % OID)
    assert host["reads"] == []
    assert TOKEN not in json.dumps(result)


def test_without_action_lists_no_permission_call_is_made(host, capsys, monkeypatch):
    monkeypatch.setattr(_permissions, "check", lambda *a, **k: pytest.fail("permissions were asked for"))
    result = run({"subscription_id": SUB, "resource_group": "rg-web"}, capsys)
    assert not result.get("failed") and "permissions" not in result


def test_an_excess_permission_fails_naming_it_and_never_returns_the_token(host, capsys, monkeypatch):
    asked = []

    def check(arm, scope, principal, expected, forbidden):
        asked.append((scope, principal, expected, forbidden))
        blocks = [{"actions": ["*"], "notActions": []}]
        return {
            "permissions": blocks,
            "missing_actions": _permissions.missing(blocks, expected),
            "excess_permissions": _permissions.excess(blocks, forbidden),
            "note": "",
        }

    monkeypatch.setattr(_permissions, "check", check)
    args = {
        "subscription_id": SUB,
        "resource_group": "rg-web",
        "forbid_actions": ["*/write"],
        "expect_actions": ["Microsoft.Resources/subscriptions/resourceGroups/read"],
    }
    result = run(args, capsys)
    assert result["failed"] and result["error_code"] == "ExcessPermissions"
    assert "*/write is granted by permission blocks actions ['*']" in result["msg"]
    assert result["missing_actions"] == [] and [e["action"] for e in result["excess_permissions"]] == ["*/write"]
    assert asked == [("/subscriptions/%s/resourceGroups/rg-web" % SUB, OID, args["expect_actions"], ["*/write"])]
    assert TOKEN not in json.dumps(result)


def test_a_bad_pattern_is_refused_naming_the_option(host, capsys):
    result = run({"subscription_id": SUB, "resource_group": "rg-web", "forbid_actions": ["has space/write"]}, capsys)
    assert result["failed"] and result["msg"].startswith("forbid_actions: 'has space/write' is not an action pattern")


@pytest.mark.parametrize(
    "failing, expected",
    [
        ("get_instance_metadata", "Failed to read the instance metadata: "),
        ("fetch_token", "Failed to get a managed identity token: "),
    ],
)
def test_a_failure_before_arm_leads_with_the_step_that_failed(host, monkeypatch, capsys, failing, expected):
    def timed_out(*args, **kwargs):
        raise IdentityError("http://imds did not answer within timeout 10.0 s per attempt (timed out): 1 attempt.")

    monkeypatch.setattr(access_check, failing, timed_out)
    result = run({}, capsys)
    assert (
        result["msg"]
        == expected + "http://imds did not answer within timeout 10.0 s per attempt (timed out): 1 attempt."
    )
    assert host["reads"] == []
