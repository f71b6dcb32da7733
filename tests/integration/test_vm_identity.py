# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_identity against the emulator: identities kept, idempotence, check mode, etag races, bad input."""

from __future__ import annotations

import threading
import time

import rbac_world
import requests
from rbac_world import RG, SUB, UAMI, VM, azure_vars, identity_of, play, resource, run_task

# The RBAC seed's emulator, one per module, reset before each test.
rbac_emulator = rbac_world.rbac_emulator
emu = rbac_world.emu

ONE, TWO, SPARE = [(UAMI + n).lower() for n in ("id-one", "id-two", "id-spare")]


def vm_task(run_playbook, emu, check=False, **args):
    return run_task(run_playbook, emu, "vm_identity", {"resource_group": RG, "name": "vm-two", **args}, check=check)


def test_two_user_assigned_identities_are_never_dropped(run_playbook, emu):
    assert identity_of(emu, "vm-two") == {"type": "UserAssigned", "principal_id": None, "user_assigned": [ONE, TWO]}

    # Enabling the system identity keeps both user-assigned ones; a second run changes and writes nothing.
    record, made = vm_task(run_playbook, emu, system_assigned=True)
    assert record.changed and made == 1
    after = identity_of(emu, "vm-two")
    assert after["type"] == "SystemAssigned, UserAssigned" and after["user_assigned"] == [ONE, TWO]
    assert after["principal_id"] is not None
    assert record.result["principal_id"] == after["principal_id"]
    assert record.result["type"] == "SystemAssigned, UserAssigned"
    assert {k.lower() for k in record.result["user_assigned"]} == {ONE, TWO}
    record, made = vm_task(run_playbook, emu, system_assigned=True)
    assert not record.changed and made == 0

    # remove one (by name): the other and the system identity stay. Check mode first: reported, not written.
    record, made = vm_task(run_playbook, emu, check=True, user_assigned=["id-one"], user_assigned_mode="remove")
    assert record.changed and made == 0
    assert identity_of(emu, "vm-two")["user_assigned"] == [ONE, TWO]
    record, made = vm_task(run_playbook, emu, user_assigned=["id-one"], user_assigned_mode="remove")
    assert record.changed and made == 1
    assert identity_of(emu, "vm-two") == {
        "type": "SystemAssigned, UserAssigned",
        "principal_id": after["principal_id"],
        "user_assigned": [TWO],
    }
    record, made = vm_task(run_playbook, emu, user_assigned=["id-one"], user_assigned_mode="remove")
    assert not record.changed and made == 0

    # exact with an empty list and system_assigned false leaves None.
    args = {"system_assigned": False, "user_assigned": [], "user_assigned_mode": "exact"}
    record, made = vm_task(run_playbook, emu, **args)
    assert record.changed and made == 1
    assert identity_of(emu, "vm-two") == {"type": "None", "principal_id": None, "user_assigned": []}
    assert record.result["type"] == "None" and record.result["user_assigned"] == {}
    record, made = vm_task(run_playbook, emu, **args)
    assert not record.changed and made == 0


def test_scale_set_by_name_returns_the_identity_ids(run_playbook, emu):
    args = {
        "resource_group": RG,
        "name": "vmss-web",
        "resource_type": "virtual_machine_scale_set",
        "system_assigned": True,
        "user_assigned": ["id-spare"],
    }
    record, made = run_task(run_playbook, emu, "vm_identity", args, diff=True)
    assert record.changed and made == 1
    stored = identity_of(emu, "vmss-web", "virtualMachineScaleSets")
    assert stored["type"] == "SystemAssigned, UserAssigned" and stored["user_assigned"] == [SPARE]
    spare = resource(emu, SPARE)["properties"]
    (returned,) = record.result["user_assigned"].values()
    assert returned == {"principal_id": spare["principalId"], "client_id": spare["clientId"]}
    assert record.result["diff"]["before"]["type"] == "None"
    assert record.result["diff"]["after"]["user_assigned"][0].lower() == SPARE
    record, made = run_task(run_playbook, emu, "vm_identity", args)
    assert not record.changed and made == 0


def test_concurrent_change_between_get_and_patch_is_kept(run_playbook, emu):
    """Another writer enables the system identity while our PATCH (removing id-one) is in flight."""
    emu.add_fault(service="arm", kind="latency", latency=4, method="PATCH", path="virtualMachines/vm-two$", count=1)
    outcome = {}

    def module_run():
        outcome["record"] = vm_task(run_playbook, emu, user_assigned=["id-one"], user_assigned_mode="remove")[0]

    worker = threading.Thread(target=module_run)
    worker.start()
    deadline = time.monotonic() + 120
    while emu.control("GET", "/faults") and time.monotonic() < deadline:  # our PATCH has taken the delay
        time.sleep(0.1)
    token = emu.arm_token()
    response = requests.patch(
        "%s%s?api-version=2024-11-01" % (emu.arm_endpoint, (VM + "vm-two").lstrip("/")),
        json={"identity": {"type": "SystemAssigned, UserAssigned"}},
        headers={"Authorization": "Bearer " + token},
        verify=emu.ca_bundle,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    worker.join(180)

    assert outcome["record"].changed and not outcome["record"].failed
    final = identity_of(emu, "vm-two")
    # Without If-Match our stale PATCH ("UserAssigned") would have dropped the system identity just enabled.
    assert final["type"] == "SystemAssigned, UserAssigned" and final["principal_id"]
    assert final["user_assigned"] == [TWO]
    assert emu.counters("arm")["by_status"].get("412") == 1


def test_vm_that_does_not_exist_fails_without_writing(run_playbook, emu):
    record, made = run_task(
        run_playbook, emu, "vm_identity", {"resource_group": RG, "name": "vm-nope", "system_assigned": True}
    )
    assert record.failed and made == 0
    message = record.result["msg"]
    assert message.startswith("name: virtual machine 'vm-nope' was not found in resource group 'rbac-rg'")
    assert "ResourceNotFound" in message and "Check name, resource_group" in message


def test_identity_in_another_subscription_that_does_not_exist(run_playbook, emu):
    missing = (
        "/subscriptions/0f0e0d0c-0b0a-4909-8807-060504030201/resourceGroups/elsewhere/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/ghost"
    )
    record, made = vm_task(run_playbook, emu, user_assigned=[missing])
    assert record.failed and made == 0
    message = record.result["msg"]
    assert message.startswith("user_assigned: the user-assigned identity %s does not exist" % missing), message
    assert identity_of(emu, "vm-two")["user_assigned"] == [ONE, TWO]


def test_malformed_identity_reference_fails_without_a_request(run_playbook, emu):
    record, made = vm_task(run_playbook, emu, user_assigned=["rg/id-one"])
    assert record.failed and made == 0
    assert record.result["msg"].startswith("user_assigned: 'rg/id-one' is neither an identity name nor a resource ID")


def test_operator_without_permission_gets_azures_403(run_playbook, emu):
    args = {"resource_group": RG, "name": "vm-two", "system_assigned": True}
    result = run_playbook(
        play([{"name": "task", "managed_identity.azure.vm_identity": args}]), extra_vars=azure_vars(emu, "reader")
    )
    record = result.task("task")
    assert record.failed
    # What the task was doing leads, in the user's terms; the ARM call that failed and the request id close it.
    assert record.result["msg"].startswith(
        "Failed to update the identity of virtual machine 'vm-two' (HTTP 403, AuthorizationFailed): The client "
    )
    vm_path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/vm-two" % (SUB, RG)
    assert record.result["msg"].endswith("[PATCH %s, request id %s]" % (vm_path, record.result["request_id"]))
    assert (
        "does not have authorization to perform action 'Microsoft.Compute/virtualMachines/write'"
        in record.result["msg"]
    )
    assert identity_of(emu, "vm-two")["type"] == "UserAssigned"
    assert SUB in record.result["msg"]
