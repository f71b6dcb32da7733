# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_identity: only the identity block is PATCHed, with If-Match; other identities stay; check mode; failures."""

from __future__ import annotations

from support.fake_arm import arm_error

from ansible_collections.managed_identity.azure.plugins.modules import vm_identity

SUB = "7d5c3b1e-35a4-4f0b-9a7e-2f4f2e6d1a10"
GROUP = "/subscriptions/%s/resourceGroups/rg" % SUB
VM = GROUP + "/providers/Microsoft.Compute/virtualMachines/vm1"
UAMI = GROUP + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
ARGS = {"subscription_id": SUB, "resource_group": "rg", "name": "vm1"}


def vm_with(identity):
    return {
        "id": VM,
        "name": "vm1",
        "location": "westus",
        "identity": identity,
        "properties": {"provisioningState": "Succeeded", "hardwareProfile": {"vmSize": "Standard_B2s"}},
    }


def patches(fake_arm):
    return [(b, h.get("If-Match")) for m, p, _q, b, h in fake_arm.sent if m == "PATCH"]


def test_enabling_the_system_identity_keeps_the_user_assigned_one(fake_arm, run_arm_module):
    one = UAMI + "one"
    fake_arm.resources[VM.lower()] = vm_with(
        {"type": "UserAssigned", "userAssignedIdentities": {one: {"principalId": "p-one", "clientId": "c-one"}}}
    )

    def patch(query, body):
        merged = vm_with(
            {
                "type": body["identity"]["type"],
                "principalId": "p-sys",
                "tenantId": "t",
                "userAssignedIdentities": {one: {"principalId": "p-one", "clientId": "c-one"}},
            }
        )
        fake_arm.resources[VM.lower()] = merged
        return 200, merged, {}

    fake_arm.routes[("PATCH", VM.lower())] = patch
    result = run_arm_module(vm_identity, dict(ARGS, system_assigned=True))
    assert result["changed"] is True
    assert (result["type"], result["principal_id"]) == ("SystemAssigned, UserAssigned", "p-sys")
    assert result["user_assigned"] == {one: {"principal_id": "p-one", "client_id": "c-one"}}
    # Only the identity block, with the type naming both kinds, on the etag that was read.
    ((body, if_match),) = patches(fake_arm)
    assert set(body) == {"identity"} and body["identity"]["type"] == "SystemAssigned, UserAssigned"
    assert if_match is not None and if_match.startswith('"')
    # A second run finds nothing to do.
    fake_arm.sent.clear()
    again = run_arm_module(vm_identity, dict(ARGS, system_assigned=True))
    assert again["changed"] is False and patches(fake_arm) == []


def test_check_mode_predicts_and_sends_no_patch(fake_arm, run_arm_module):
    fake_arm.resources[VM.lower()] = vm_with({"type": "None"})
    fake_arm.resources[(UAMI + "two").lower()] = {
        "id": UAMI + "two",
        "properties": {"principalId": "p2", "clientId": "c2"},
    }
    result = run_arm_module(
        vm_identity, dict(ARGS, user_assigned=["two"], _ansible_check_mode=True, _ansible_diff=True)
    )
    assert result["changed"] is True and result["type"] == "UserAssigned"
    assert result["user_assigned"] == {UAMI + "two": {"principal_id": "p2", "client_id": "c2"}}
    assert result["diff"]["before"]["type"] == "None" and result["diff"]["after"]["user_assigned"] == [UAMI + "two"]
    assert fake_arm.writes() == []


def test_an_identity_to_attach_that_does_not_exist_fails_before_any_write(fake_arm, run_arm_module):
    fake_arm.resources[VM.lower()] = vm_with({"type": "None"})
    result = run_arm_module(vm_identity, dict(ARGS, user_assigned=["ghost"]))
    assert result["failed"] is True
    assert result["msg"].startswith("user_assigned: the user-assigned identity %sghost does not exist (" % UAMI)
    assert fake_arm.writes() == []


def test_a_missing_vm_names_the_option(fake_arm, run_arm_module):
    result = run_arm_module(vm_identity, dict(ARGS, system_assigned=True))
    assert result["msg"].startswith(
        "name: virtual machine 'vm1' was not found in resource group 'rg' of subscription %s (" % SUB
    )


def test_a_refused_patch_leads_with_the_task(fake_arm, run_arm_module):
    fake_arm.resources[VM.lower()] = vm_with({"type": "None"})
    fake_arm.routes[("PATCH", VM.lower())] = arm_error(409, "OperationNotAllowed", "The VM is being deallocated.")
    result = run_arm_module(vm_identity, dict(ARGS, system_assigned=True))
    assert result["msg"] == (
        "Failed to update the identity of virtual machine 'vm1' (HTTP 409, OperationNotAllowed): The VM is being "
        "deallocated. [PATCH %s, request id req-409]" % VM
    )
    assert result["status_code"] == 409
