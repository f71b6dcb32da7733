# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""role_assignment_set: the declared roles become the principal's whole set at the scope; extras removed, inherited
ones reported and kept, other principals untouched; check mode writes nothing and plans what the real run does."""

from __future__ import annotations

from support.fake_arm import arm_error

from ansible_collections.managed_identity.azure.plugins.module_utils import _roles
from ansible_collections.managed_identity.azure.plugins.modules import role_assignment_set

SUB = "7d5c3b1e-35a4-4f0b-9a7e-2f4f2e6d1a10"
SUB_SCOPE = "/subscriptions/%s" % SUB
RG_SCOPE = SUB_SCOPE + "/resourceGroups/rg"
VM_SCOPE = RG_SCOPE + "/providers/Microsoft.Compute/virtualMachines/vm1"
ME = "0b4b7a6c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
OTHER = "9f8e7d6c-5b4a-4321-8765-0fedcba98765"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
DEFINITIONS = SUB_SCOPE + "/providers/Microsoft.Authorization/roleDefinitions/"
ASSIGNMENTS = RG_SCOPE.lower() + "/providers/microsoft.authorization/roleassignments"
ROLES = RG_SCOPE.lower() + "/providers/microsoft.authorization/roledefinitions"


def assignment(name, scope, role, principal=ME):
    return {
        "id": "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (scope, name),
        "name": name,
        "properties": {"scope": scope, "roleDefinitionId": DEFINITIONS + role, "principalId": principal},
    }


def definition(guid, name):
    return {"id": DEFINITIONS + guid, "name": guid, "properties": {"roleName": name}}


def world(fake_arm, *assignments):
    """The principal's assignments as ARM lists them at the resource group (parents and children included)."""
    fake_arm.lists[ASSIGNMENTS] = list(assignments)
    definitions = [definition(READER, "Reader"), definition(OWNER, "Owner"), definition(CONTRIBUTOR, "Contributor")]
    fake_arm.lists[ROLES] = definitions
    for d in definitions:
        fake_arm.resources[(RG_SCOPE + "/providers/Microsoft.Authorization/roleDefinitions/" + d["name"]).lower()] = d
    for a in assignments:
        fake_arm.resources[a["id"].lower()] = a


def args(**extra):
    return dict({"subscription_id": SUB, "resource_group": "rg", "principal_id": ME, "roles": [READER]}, **extra)


EXTRA = assignment("a-contrib", RG_SCOPE, CONTRIBUTOR)
KEPT = assignment("a-reader", RG_SCOPE, READER)
INHERITED = assignment("a-owner", SUB_SCOPE, OWNER)
BELOW = assignment("a-vm", VM_SCOPE, CONTRIBUTOR)


def test_check_mode_plans_the_removal_and_writes_nothing(fake_arm, run_arm_module):
    world(fake_arm, KEPT, EXTRA, INHERITED, BELOW)
    result = run_arm_module(role_assignment_set, dict(args(), _ansible_check_mode=True, _ansible_diff=True))
    assert result["changed"] is True
    assert [a["name"] for a in result["removed"]] == ["a-contrib"]
    assert [(a["name"], a["role_name"]) for a in result["inherited"]] == [("a-owner", "Owner")]
    assert [a["name"] for a in result["below"]] == ["a-vm"]  # below the scope: only with include_below
    assert result["diff"]["before"]["role_assignments"] == sorted(
        ["Contributor on %s (a-contrib)" % RG_SCOPE, "Reader on %s (a-reader)" % RG_SCOPE]
    )
    assert result["diff"]["after"]["role_assignments"] == ["Reader on %s (a-reader)" % RG_SCOPE]
    assert fake_arm.writes() == []


def test_the_real_run_removes_exactly_what_check_mode_planned(fake_arm, run_arm_module):
    world(fake_arm, KEPT, EXTRA, INHERITED, BELOW)
    result = run_arm_module(role_assignment_set, args())
    assert result["changed"] is True
    assert fake_arm.writes() == [("DELETE", EXTRA["id"])]
    assert EXTRA["id"].lower() not in fake_arm.resources and INHERITED["id"].lower() in fake_arm.resources


def test_include_below_also_removes_the_extras_under_the_scope(fake_arm, run_arm_module):
    world(fake_arm, KEPT, EXTRA, BELOW)
    run_arm_module(role_assignment_set, args(include_below=True))
    assert sorted(fake_arm.writes()) == sorted([("DELETE", EXTRA["id"]), ("DELETE", BELOW["id"])])


def test_a_missing_role_is_added_with_its_deterministic_name_and_the_set_is_then_stable(fake_arm, run_arm_module):
    world(fake_arm, KEPT)
    name = _roles.assignment_name(RG_SCOPE, CONTRIBUTOR, ME)
    path = RG_SCOPE + "/providers/Microsoft.Authorization/roleAssignments/" + name
    fake_arm.routes[("PUT", path.lower())] = lambda query, body: (
        201, dict(body, id=path, name=name, properties=dict(body["properties"], scope=RG_SCOPE)), {}
    )
    result = run_arm_module(role_assignment_set, args(roles=["Reader", CONTRIBUTOR], description="made here"))
    assert fake_arm.writes() == [("PUT", path)]
    sent = fake_arm.sent[-1][3]["properties"]
    assert sent["roleDefinitionId"].lower().endswith(CONTRIBUTOR) and sent["principalId"] == ME
    assert sent["principalType"] == "ServicePrincipal" and sent["description"] == "made here"
    assert [a["name"] for a in result["added"]] == [name] and result["removed"] == []


def test_nothing_to_change_is_unchanged(fake_arm, run_arm_module):
    world(fake_arm, KEPT, INHERITED)
    result = run_arm_module(role_assignment_set, args())
    assert result["changed"] is False and fake_arm.writes() == []


def test_without_permission_to_delete_the_message_names_what_is_needed(fake_arm, run_arm_module):
    world(fake_arm, KEPT, EXTRA)
    fake_arm.routes[("DELETE", EXTRA["id"].lower())] = arm_error(
        403, "AuthorizationFailed", "The client 'op' does not have authorization to perform action "
        "'Microsoft.Authorization/roleAssignments/delete'."
    )
    result = run_arm_module(role_assignment_set, args())
    assert result["failed"] is True
    assert result["msg"].startswith(
        "Failed to set the roles of principal %s to %s on %s (HTTP 403, AuthorizationFailed)" % (ME, READER, RG_SCOPE)
    )
    assert "Microsoft.Authorization/roleAssignments/read, /write and /delete" in result["msg"]


def test_a_bad_principal_id_names_the_option_and_sends_nothing(fake_arm, run_arm_module):
    result = run_arm_module(role_assignment_set, args(principal_id="vm1"))
    assert result["failed"] is True and "principal_id" in result["msg"] and "vm1" in result["msg"]
    assert fake_arm.sent == []
