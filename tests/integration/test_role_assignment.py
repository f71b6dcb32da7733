# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""role_assignment and role_assignment_info against the emulator: idempotence, check mode, absent, replication
delay, bad input."""

from __future__ import annotations

import pytest
import rbac_world
from rbac_world import (
    PLAYBOOKS,
    READER_GUID,
    RG_SCOPE,
    SUB,
    UAMI,
    assignments,
    azure_vars,
    resource,
    run_task,
    writes,
)

# The RBAC seed's emulator, one per module, reset before each test.
rbac_emulator = rbac_world.rbac_emulator
emu = rbac_world.emu

OWNER_GUID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


@pytest.fixture
def principal(emu):
    """The principal ID of the seed's spare user-assigned identity (it has no role assignment)."""
    return resource(emu, UAMI + "id-spare")["properties"]["principalId"]


def role_guid(assignment):
    return assignment["properties"]["roleDefinitionId"].rsplit("/", 1)[-1].lower()


def test_grant_is_idempotent_across_spellings_of_scope_and_role(run_playbook, emu, principal):
    args = {"resource_group": "rbac-rg", "principal_id": principal, "role": "Reader"}
    record, made = run_task(run_playbook, emu, "role_assignment", args, check=True)
    assert record.changed and made == 0 and assignments(emu, principal) == []

    record, made = run_task(run_playbook, emu, "role_assignment", args, diff=True)
    assert record.changed and made == 1
    (stored,) = assignments(emu, principal)
    assert stored["properties"]["scope"].lower() == RG_SCOPE.lower() and role_guid(stored) == READER_GUID
    assert stored["properties"]["principalType"] == "ServicePrincipal"
    result = record.result
    assert (result["id"], result["role_name"], result["principal_type"]) == (stored["id"], "Reader", "ServicePrincipal")
    assert result["diff"]["before"] == {} and result["diff"]["after"]["name"] == stored["name"]

    same = [
        args,
        {
            "scope": RG_SCOPE.upper().replace("SUBSCRIPTIONS", "subscriptions") + "/",
            "principal_id": principal.upper(),
            "role": "reader",
        },
        {"scope": RG_SCOPE.lower(), "principal_id": principal, "role": READER_GUID.upper()},
        {
            "scope": RG_SCOPE,
            "principal_id": principal,
            "role": "/providers/Microsoft.Authorization/roleDefinitions/%s" % READER_GUID,
        },
    ]
    for variant in same:
        record, made = run_task(run_playbook, emu, "role_assignment", variant)
        assert not record.changed and made == 0, variant
        assert record.result["id"] == stored["id"]
    assert len(assignments(emu, principal)) == 1


def test_absent_removes_exactly_that_assignment(run_playbook, emu, principal):
    at_rg = {"resource_group": "rbac-rg", "principal_id": principal, "role": "Reader"}
    at_sub = {"principal_id": principal, "role": "Reader"}
    owner_at_rg = {"resource_group": "rbac-rg", "principal_id": principal, "role": "Owner"}
    for args in (at_rg, at_sub, owner_at_rg):
        assert run_task(run_playbook, emu, "role_assignment", args)[0].changed
    others = len(assignments(emu)) - 3

    record, made = run_task(run_playbook, emu, "role_assignment", {**at_rg, "state": "absent"}, check=True)
    assert record.changed and made == 0 and len(assignments(emu, principal)) == 3

    record, made = run_task(run_playbook, emu, "role_assignment", {**at_rg, "state": "absent"})
    assert record.changed and made == 1
    left = {(a["properties"]["scope"].lower(), role_guid(a)) for a in assignments(emu, principal)}
    assert left == {("/subscriptions/%s" % SUB, READER_GUID), (RG_SCOPE.lower(), OWNER_GUID)}
    assert len(assignments(emu)) - 2 == others

    record, made = run_task(run_playbook, emu, "role_assignment", {**at_rg, "state": "absent"})
    assert not record.changed and made == 0


@pytest.mark.parametrize("principal_type, expect_principal_not_found", [("ServicePrincipal", False), ("auto", True)])
def test_fresh_identity_and_replication_delay(run_playbook, emu, principal_type, expect_principal_not_found):
    # Long enough that the grant surely reaches ARM while the new principal is still replicating, even on a busy
    # machine (the playbook creates the identity, then grants at once); short enough to wait out in the test.
    emu.set_knobs(replication_delay=20)
    result = run_playbook(
        PLAYBOOKS / "fresh_identity_grant.yml",
        extra_vars={**azure_vars(emu), "identity_name": "fresh", "grant_principal_type": principal_type},
    )
    result.assert_ok()
    out = result.out("grant")
    assert out["grant"]["changed"]
    (stored,) = assignments(emu, out["principal_id"])
    assert role_guid(stored) == READER_GUID and stored["properties"]["principalType"] == "ServicePrincipal"
    principal_not_found = emu.counters("arm")["by_status"].get("400", 0)
    assert (principal_not_found > 0) == expect_principal_not_found


def test_principal_wait_timeout_explains_replication(run_playbook, emu):
    emu.set_knobs(replication_delay=600)
    created = emu.create_principal(display_name="brand-new")
    args = {
        "resource_group": "rbac-rg",
        "principal_id": created["object_id"],
        "role": "Reader",
        "principal_type": "auto",
        "principal_wait": 3,
    }
    record, made = run_task(run_playbook, emu, "role_assignment", args)
    assert record.failed
    message = record.result["msg"]
    assert "principal_id: %s was still not found in the directory after waiting" % created["object_id"] in message
    assert "replicate in Microsoft Entra ID" in message and "PrincipalNotFound" in message
    assert assignments(emu, created["object_id"]) == []


def test_unknown_role_name_lists_similar_names(run_playbook, emu, principal):
    record, made = run_task(
        run_playbook, emu, "role_assignment", {"resource_group": "rbac-rg", "principal_id": principal, "role": "Reeder"}
    )
    assert record.failed and made == 0
    assert record.result["msg"].startswith("role: no role definition named 'Reeder' is available at scope")
    assert "Similar names: Reader" in record.result["msg"]


@pytest.mark.parametrize(
    "args, prefix",
    [
        ({"principal_id": "not-a-guid"}, "principal_id: 'not-a-guid' is not a GUID"),
        ({"scope": "subscriptions/%s" % SUB}, "scope: 'subscriptions/%s' is not an ARM scope" % SUB),
        (
            {"scope": "/subscriptions/%s/resourceGroups" % SUB},
            "scope: '/subscriptions/%s/resourceGroups' names no" % SUB,
        ),
        ({"role": "/providers/Microsoft.Authorization/roleDefinitions/Reader"}, "role: '/providers/Microsoft."),
    ],
)
def test_malformed_input_fails_before_any_request(run_playbook, emu, principal, args, prefix):
    before = emu.counters("arm")["requests"]
    record, made = run_task(
        run_playbook,
        emu,
        "role_assignment",
        {
            **({} if "scope" in args else {"resource_group": "rbac-rg"}),
            "principal_id": principal,
            "role": "Reader",
            **args,
        },
    )
    assert record.failed and made == 0
    assert record.result["msg"].startswith(prefix), record.result["msg"]
    # Token requests go to Entra ID, not ARM: ARM saw nothing at all.
    assert emu.counters("arm")["requests"] == before


def test_operator_without_permission_gets_azures_403(run_playbook, emu, principal):
    record, _made = run_task(
        run_playbook,
        emu,
        "role_assignment",
        {"resource_group": "rbac-rg", "principal_id": principal, "role": "Reader"},
        principal="reader",
    )
    assert record.failed
    message = record.result["msg"]
    assert "(HTTP 403, AuthorizationFailed)" in message
    assert "does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write'" in message
    assert "Fix: give the operator identity" in message
    assert assignments(emu, principal) == []
    assert emu.counters("arm")["by_status"].get("201") is None


def test_role_assignment_info_filters_by_principal_role_and_scope(run_playbook, emu, principal):
    for args in (
        {"resource_group": "rbac-rg", "principal_id": principal, "role": "Reader"},
        {"principal_id": principal, "role": "Owner"},
    ):
        run_task(run_playbook, emu, "role_assignment", args)
    before = writes(emu)

    record, _made = run_task(
        run_playbook, emu, "role_assignment_info", {"resource_group": "rbac-rg", "principal_id": principal}
    )
    found = sorted((a["role_name"], a["scope"].lower()) for a in record.result["role_assignments"])
    assert found == [("Owner", "/subscriptions/%s" % SUB), ("Reader", RG_SCOPE.lower())]

    record, _made = run_task(
        run_playbook,
        emu,
        "role_assignment_info",
        {"resource_group": "rbac-rg", "principal_id": principal, "exact_scope": True},
    )
    assert [a["role_name"] for a in record.result["role_assignments"]] == ["Reader"]

    record, _made = run_task(run_playbook, emu, "role_assignment_info", {"resource_group": "rbac-rg", "role": "Owner"})
    owners = {a["principal_id"] for a in record.result["role_assignments"]}
    assert principal in owners and emu.service_principal("operator")["object_id"] in owners
    assert all(a["role_name"] == "Owner" for a in record.result["role_assignments"])
    assert writes(emu) == before


def test_description_is_updated_in_place(run_playbook, emu, principal):
    args = {"resource_group": "rbac-rg", "principal_id": principal, "role": "Reader"}
    run_task(run_playbook, emu, "role_assignment", args)
    (before,) = assignments(emu, principal)

    described = dict(args, description="lets the VM read its resource group")
    record, made = run_task(run_playbook, emu, "role_assignment", described, check=True)
    assert record.changed and made == 0
    assert assignments(emu, principal)[0]["properties"]["description"] is None

    record, made = run_task(run_playbook, emu, "role_assignment", described)
    assert record.changed and made == 1
    (after,) = assignments(emu, principal)
    assert after["name"] == before["name"]
    assert after["properties"]["description"] == "lets the VM read its resource group"

    record, made = run_task(run_playbook, emu, "role_assignment", described)
    assert not record.changed and made == 0
