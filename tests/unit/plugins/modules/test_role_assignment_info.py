# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""role_assignment_info: the filters (principal, role, exact scope), role names filled in, failures naming the scope."""

from __future__ import annotations

from support.fake_arm import arm_error

from ansible_collections.managed_identity.azure.plugins.modules import role_assignment_info

SUB = "7d5c3b1e-35a4-4f0b-9a7e-2f4f2e6d1a10"
SUB_SCOPE = "/subscriptions/%s" % SUB
RG_SCOPE = SUB_SCOPE + "/resourceGroups/rg"
ME = "0b4b7a6c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
OTHER = "9f8e7d6c-5b4a-4321-8765-0fedcba98765"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
DEFINITIONS = SUB_SCOPE + "/providers/Microsoft.Authorization/roleDefinitions/"
LIST = RG_SCOPE.lower() + "/providers/microsoft.authorization/roleassignments"
ROLES = RG_SCOPE.lower() + "/providers/microsoft.authorization/roledefinitions"


def assignment(name, scope, role, principal):
    return {
        "id": "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (scope, name),
        "name": name,
        "properties": {
            "scope": scope,
            "roleDefinitionId": DEFINITIONS + role,
            "principalId": principal,
            "principalType": "ServicePrincipal",
        },
    }


def definition(guid, name):
    return {"id": DEFINITIONS + guid, "name": guid, "properties": {"roleName": name}}


def world(fake_arm):
    fake_arm.lists[LIST] = [
        assignment("a1", RG_SCOPE, READER, ME),
        assignment("a2", SUB_SCOPE, OWNER, ME),  # inherited from the subscription
        assignment("a3", RG_SCOPE, READER, OTHER),
    ]
    fake_arm.lists[ROLES] = [definition(READER, "Reader"), definition(OWNER, "Owner")]


def test_filters_by_principal_and_role_and_names_the_roles(fake_arm, run_arm_module):
    world(fake_arm)
    fake_arm.routes[("GET", ROLES)] = lambda query, body: (
        200,
        {"value": [definition(READER, "Reader")] if "$filter" in query else fake_arm.lists[ROLES]},
        {},
    )
    result = run_arm_module(
        role_assignment_info, {"subscription_id": SUB, "resource_group": "rg", "principal_id": ME, "role": "Reader"}
    )
    assert result["changed"] is False
    assert [(a["name"], a["role_name"], a["principal_id"]) for a in result["role_assignments"]] == [
        ("a1", "Reader", ME)
    ]
    # The principal filter went to ARM (one page for this principal), and nothing was written.
    listed = [q for m, p, q, _b, _h in fake_arm.sent if p.lower() == LIST]
    assert listed == [{"api-version": ["2022-04-01"], "$filter": ["principalId eq '%s'" % ME]}]
    assert fake_arm.writes() == []


def test_exact_scope_leaves_out_inherited_assignments(fake_arm, run_arm_module):
    world(fake_arm)
    args = {"scope": RG_SCOPE, "principal_id": ME}
    everything = run_arm_module(role_assignment_info, args)["role_assignments"]
    assert sorted((a["name"], a["role_name"]) for a in everything) == [("a1", "Reader"), ("a2", "Owner")]
    exact = run_arm_module(role_assignment_info, dict(args, exact_scope=True))["role_assignments"]
    assert [a["name"] for a in exact] == ["a1"]


def test_bad_principal_id_names_the_option_before_any_call(fake_arm, run_arm_module):
    result = run_arm_module(role_assignment_info, {"scope": RG_SCOPE, "principal_id": "vm-one"})
    assert result["failed"] is True
    assert result["msg"].startswith("principal_id: ")
    assert "vm-one" in result["msg"]
    assert fake_arm.sent == []


def test_failure_leads_with_the_scope_then_azure_and_the_call(fake_arm, run_arm_module):
    fake_arm.routes[("GET", LIST)] = arm_error(403, "AuthorizationFailed", "The client 'x' cannot read.")
    result = run_arm_module(role_assignment_info, {"scope": RG_SCOPE})
    assert result["msg"] == (
        "Failed to list role assignments at %s (HTTP 403, AuthorizationFailed): The client 'x' cannot read. "
        "[list %s/providers/Microsoft.Authorization/roleAssignments, request id req-403]" % (RG_SCOPE, RG_SCOPE)
    )
    assert result["status_code"] == 403 and result["request_id"] == "req-403"
