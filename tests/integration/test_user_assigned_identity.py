# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""user_assigned_identity against the emulator: create, tags, delete, check mode, idempotence, bad input."""

from __future__ import annotations

import rbac_world
from rbac_world import UAMI, resource, run_task

# The RBAC seed's emulator, one per module, reset before each test.
rbac_emulator = rbac_world.rbac_emulator
emu = rbac_world.emu


def test_lifecycle(run_playbook, emu):
    args = {"resource_group": "rbac-rg", "name": "id-new"}
    record, made = run_task(run_playbook, emu, "user_assigned_identity", args, check=True)
    assert record.changed and made == 0 and resource(emu, UAMI + "id-new") is None
    assert record.result["client_id"] is None and record.result["location"] == "westus"

    record, made = run_task(run_playbook, emu, "user_assigned_identity", args)
    assert record.changed and made == 1
    stored = resource(emu, UAMI + "id-new")
    assert stored["location"] == "westus"  # the resource group's
    props = stored["properties"]
    assert (record.result["client_id"], record.result["principal_id"], record.result["tenant_id"]) == (
        props["clientId"],
        props["principalId"],
        props["tenantId"],
    )
    assert record.result["id"].lower() == stored["id"].lower()

    record, made = run_task(run_playbook, emu, "user_assigned_identity", args)
    assert not record.changed and made == 0

    tagged = {**args, "tags": {"owner": "platform"}}
    record, made = run_task(run_playbook, emu, "user_assigned_identity", tagged)
    assert record.changed and made == 1 and resource(emu, UAMI + "id-new")["tags"] == {"owner": "platform"}
    assert resource(emu, UAMI + "id-new")["properties"]["principalId"] == props["principalId"]
    record, made = run_task(run_playbook, emu, "user_assigned_identity", {**tagged, "location": "West US"})
    assert not record.changed and made == 0

    gone = {**args, "state": "absent"}
    record, made = run_task(run_playbook, emu, "user_assigned_identity", gone, check=True)
    assert record.changed and made == 0 and resource(emu, UAMI + "id-new") is not None
    record, made = run_task(run_playbook, emu, "user_assigned_identity", gone)
    assert record.changed and made == 1 and resource(emu, UAMI + "id-new") is None
    assert resource(emu, UAMI + "id-one") is not None
    record, made = run_task(run_playbook, emu, "user_assigned_identity", gone)
    assert not record.changed and made == 0


def test_explicit_location_and_moving_is_refused(run_playbook, emu):
    record, made = run_task(
        run_playbook,
        emu,
        "user_assigned_identity",
        {"resource_group": "rbac-rg", "name": "id-east", "location": "eastus"},
    )
    assert record.changed and resource(emu, UAMI + "id-east")["location"] == "eastus"
    record, made = run_task(
        run_playbook,
        emu,
        "user_assigned_identity",
        {"resource_group": "rbac-rg", "name": "id-one", "location": "eastus"},
    )
    assert record.failed and made == 0
    assert record.result["msg"].startswith("location: identity ")
    assert "cannot move" in record.result["msg"]


def test_missing_resource_group_names_the_option(run_playbook, emu):
    record, made = run_task(run_playbook, emu, "user_assigned_identity", {"resource_group": "no-such-rg", "name": "x"})
    assert record.failed and made == 0
    assert record.result["msg"].startswith("resource_group: 'no-such-rg' was not found"), record.result["msg"]
