"""RBAC as Azure documents it, through unmodified azure-mgmt-authorization / azure-mgmt-resource: management groups
up to the tenant root group, assignableScopes, tenant-wide assignment names, principalType, conditions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

TENANT = "3c1b1b7e-5d0e-4c55-9a6f-1f2b4c3d5e6f"
SUB_A = "11111111-2222-4333-8444-555555555555"
SUB_B = "66666666-7777-4888-9999-aaaaaaaaaaaa"
MG = "/providers/Microsoft.Management/managementGroups/"
APPS = f"/subscriptions/{SUB_A}/resourceGroups/apps"
OTHER = f"/subscriptions/{SUB_A}/resourceGroups/other"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
APPS_READER = "0d7c5b1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
BLOB_READER = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
BLOB_CONDITION = ("((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR "
                  "(@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'))")
SEED = {
    "tenant_id": TENANT,
    "subscriptions": [
        {"subscription_id": SUB_A, "resource_groups": [{"name": "apps"}, {"name": "other"}]},
        {"subscription_id": SUB_B, "resource_groups": [{"name": "lab"}]},
    ],
    "management_groups": [
        {"name": "platform", "display_name": "Platform"},
        {"name": "prod", "parent": "platform", "subscriptions": [SUB_A]},
    ],
    "service_principals": [{"name": n} for n in ("root-owner", "platform-reader", "operator", "nobody")],
    "role_definitions": [
        {"id": APPS_READER, "role_name": "Apps Reader", "actions": ["*/read"], "assignable_scopes": [APPS]},
        {"id": BLOB_READER, "role_name": "Blob Reader Custom", "actions": [],
         "data_actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
         "assignable_scopes": [f"/subscriptions/{SUB_A}"]},
    ],
    "role_assignments": [
        {"principal": "root-owner", "role": "Owner", "scope": MG + TENANT},
        {"principal": "platform-reader", "role": "Reader", "scope": MG + "platform"},
        {"principal": "operator", "role": "Owner", "scope": f"/subscriptions/{SUB_A}"},
    ],
}


@pytest.fixture(scope="module")
def world(start_emulator: Any) -> Iterator[Any]:
    yield start_emulator(seed=SEED)


@pytest.fixture(autouse=True)
def _fresh(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    world.reset()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", world.ca_bundle)


def cloud(world: Any) -> dict:
    return {"base_url": world.arm_endpoint, "credential_scopes": ["https://management.azure.com/.default"],
            "connection_verify": world.ca_bundle}


def credential(world: Any, name: str) -> ClientSecretCredential:
    sp = world.service_principal(name)
    return ClientSecretCredential(world.tenant_id, sp["client_id"], sp["client_secret"],
                                  authority=world.authority_host, disable_instance_discovery=True,
                                  connection_verify=world.ca_bundle)


def authz(world: Any, name: str = "root-owner", sub: str = SUB_A) -> AuthorizationManagementClient:
    return AuthorizationManagementClient(credential(world, name), sub, **cloud(world))


def groups(world: Any, name: str, sub: str) -> ResourceManagementClient:
    return ResourceManagementClient(credential(world, name), sub, **cloud(world))


def stored(world: Any) -> list[dict]:
    return [a["properties"] | {"name": a["name"]} for a in world.state()["role_assignments"].values()]


def error_of(call: Any) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        call()
    return caught.value


def test_owner_of_the_tenant_root_group_reads_every_subscription(world: Any) -> None:
    assert groups(world, "root-owner", SUB_A).resource_groups.get("apps").name == "apps"
    assert groups(world, "root-owner", SUB_B).resource_groups.get("lab").name == "lab"
    # A management group grants down its own branch only.
    assert groups(world, "platform-reader", SUB_A).resource_groups.get("other").name == "other"
    denied = error_of(lambda: groups(world, "platform-reader", SUB_B).resource_groups.get("lab"))
    assert denied.status_code == 403 and denied.error.code == "AuthorizationFailed"
    assert error_of(lambda: groups(world, "nobody", SUB_A).resource_groups.get("apps")).status_code == 403


def test_management_group_assignments_are_listed_as_inherited(world: Any) -> None:
    def scopes(sub: str, scope: str, **kw: Any) -> set[str]:
        return {a.scope for a in authz(world, sub=sub).role_assignments.list_for_scope(scope, **kw)}

    root, platform = MG + TENANT, MG + "platform"
    assert {root, platform, f"/subscriptions/{SUB_A}"} <= scopes(SUB_A, APPS, filter="atScope()")
    at_b = scopes(SUB_B, f"/subscriptions/{SUB_B}")
    assert root in at_b and platform not in at_b
    # Listed at a management group: its own, those above, and (unfiltered) those below it.
    assert scopes(SUB_A, platform) == {root, platform, f"/subscriptions/{SUB_A}"}
    assert scopes(SUB_A, platform, filter="atScope()") == {root, platform}


def test_custom_role_only_at_or_below_its_assignable_scopes(world: Any) -> None:
    client = authz(world)
    sp = world.service_principal("nobody")
    role_id = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{APPS_READER}"
    params = {"role_definition_id": role_id, "principal_id": sp["object_id"], "principal_type": "ServicePrincipal"}
    refused = error_of(lambda: client.role_assignments.create(OTHER, str(uuid.uuid4()), params))
    assert refused.status_code == 400 and refused.error.code == "RoleAssignmentScopeNotAssignableToRoleDefinition"
    assert not [a for a in stored(world) if a["principalId"] == sp["object_id"]]
    client.role_assignments.create(APPS + "/providers/Microsoft.Compute/virtualMachines/vm1", str(uuid.uuid4()),
                                   params)
    assert [a["scope"] for a in stored(world) if a["principalId"] == sp["object_id"]] == \
        [APPS + "/providers/Microsoft.Compute/virtualMachines/vm1"]


def test_role_definitions_assignable_only_below_need_at_scope_and_below(world: Any) -> None:
    client = authz(world)
    at_sub = {d.role_name for d in client.role_definitions.list(f"/subscriptions/{SUB_A}")}
    assert "Blob Reader Custom" in at_sub and "Apps Reader" not in at_sub and "Reader" in at_sub
    below = {d.role_name for d in client.role_definitions.list(f"/subscriptions/{SUB_A}", filter="atScopeAndBelow()")}
    assert "Apps Reader" in below
    assert "Apps Reader" in {d.role_name for d in client.role_definitions.list(APPS)}
    assert "Blob Reader Custom" not in {d.role_name for d in authz(world, sub=SUB_B).role_definitions.list(
        f"/subscriptions/{SUB_B}")}


def test_assignment_names_are_unique_in_the_tenant(world: Any) -> None:
    client = authz(world)
    sp = world.service_principal("nobody")
    name = str(uuid.uuid4())
    params = {"role_definition_id": f"/providers/Microsoft.Authorization/roleDefinitions/{READER}",
              "principal_id": sp["object_id"], "principal_type": "ServicePrincipal"}
    client.role_assignments.create(APPS, name, params)
    moved = error_of(lambda: client.role_assignments.create(OTHER, name, params))
    assert moved.status_code == 400 and moved.error.code == "RoleAssignmentUpdateNotPermitted"
    assert [a["scope"] for a in stored(world) if a["name"] == name] == [APPS]


def test_principal_type_is_checked_against_the_directory_and_can_change(world: Any) -> None:
    client = authz(world)
    sp = world.service_principal("nobody")
    name = str(uuid.uuid4())
    role_id = f"/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    client.role_assignments.create(APPS, name, {"role_definition_id": role_id, "principal_id": sp["object_id"],
                                                "principal_type": "ServicePrincipal"})
    wrong = error_of(lambda: client.role_assignments.create(APPS, name, {
        "role_definition_id": role_id, "principal_id": sp["object_id"], "principal_type": "User"}))
    assert wrong.error.code == "UnmatchedPrincipalType"
    assert wrong.error.message == (f"The PrincipalId '{sp['object_id'].replace('-', '')}' has type 'ServicePrincipal' "
                                   ", which is different from specified PrinciaplType 'User'.")
    # A principal the directory does not know (yet): the stated type is taken, and a changed one is stored.
    ghost, other = str(uuid.uuid4()), str(uuid.uuid4())
    client.role_assignments.create(APPS, other, {"role_definition_id": role_id, "principal_id": ghost,
                                                 "principal_type": "Group"})
    changed = client.role_assignments.create(APPS, other, {"role_definition_id": role_id, "principal_id": ghost,
                                                           "principal_type": "User"})
    assert changed.principal_type == "User"
    assert [a["principalType"] for a in stored(world) if a["name"] == other] == ["User"]


@pytest.mark.parametrize(("role", "version", "accepted"), [
    (BLOB_READER, "2.0", True),
    (BLOB_READER, "1.0", False),
    (READER, "2.0", False),      # no storage data actions, cannot write role assignments
    (RBAC_ADMIN, "2.0", True),   # constrained delegation
])
def test_conditions_only_where_azure_takes_them(world: Any, role: str, version: str, accepted: bool) -> None:
    client = authz(world)
    sp = world.service_principal("nobody")
    name = str(uuid.uuid4())
    params = {"role_definition_id": f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{role}",
              "principal_id": sp["object_id"], "principal_type": "ServicePrincipal",
              "condition": BLOB_CONDITION, "condition_version": version}
    if accepted:
        created = client.role_assignments.create(APPS, name, params)
        assert created.condition == BLOB_CONDITION and created.condition_version == "2.0"
        assert [a["condition"] for a in stored(world) if a["name"] == name] == [BLOB_CONDITION]
    else:
        refused = error_of(lambda: client.role_assignments.create(APPS, name, params))
        assert refused.status_code == 400 and refused.error.message == "The given role assignment condition is invalid."
        assert not [a for a in stored(world) if a["name"] == name]


DELEGATION = (
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
    f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{READER}}} "
    "AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase "
    "{'ServicePrincipal'})) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
    f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{READER}}}))"
)


def test_delegation_condition_limits_what_the_delegate_assigns_and_deletes(world: Any) -> None:
    """Constrained delegation: RBAC Administrator that may only grant and remove Reader, to service principals."""
    delegate = world.service_principal("nobody")
    role = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/"
    authz(world).role_assignments.create(f"/subscriptions/{SUB_A}", str(uuid.uuid4()), {
        "role_definition_id": role + RBAC_ADMIN, "principal_id": delegate["object_id"],
        "principal_type": "ServicePrincipal", "condition": DELEGATION, "condition_version": "2.0"})
    client = authz(world, "nobody")
    target = world.service_principal("platform-reader")["object_id"]
    reader_name = str(uuid.uuid4())
    client.role_assignments.create(APPS, reader_name, {"role_definition_id": role + READER, "principal_id": target,
                                                       "principal_type": "ServicePrincipal"})
    owner_name = str(uuid.uuid4())
    refused = error_of(lambda: client.role_assignments.create(APPS, owner_name, {
        "role_definition_id": role + "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "principal_id": target,
        "principal_type": "ServicePrincipal"}))
    assert refused.status_code == 403
    assert "does not have authorization or an ABAC condition not fulfilled to perform action " \
           "'Microsoft.Authorization/roleAssignments/write'" in refused.error.message
    as_user = error_of(lambda: client.role_assignments.create(APPS, str(uuid.uuid4()), {
        "role_definition_id": role + READER, "principal_id": str(uuid.uuid4()), "principal_type": "User"}))
    assert as_user.status_code == 403
    operator_owner = next(a for a in stored(world) if a["scope"] == f"/subscriptions/{SUB_A}"
                          and a["principalId"] == world.service_principal("operator")["object_id"])
    assert error_of(lambda: client.role_assignments.delete(f"/subscriptions/{SUB_A}",
                                                           operator_owner["name"])).status_code == 403
    client.role_assignments.delete(APPS, reader_name)
    names = {a["name"] for a in stored(world)}
    assert reader_name not in names and owner_name not in names and operator_owner["name"] in names


def test_malformed_condition_is_refused(world: Any) -> None:
    sp = world.service_principal("nobody")
    refused = error_of(lambda: authz(world).role_assignments.create(APPS, str(uuid.uuid4()), {
        "role_definition_id": f"/providers/Microsoft.Authorization/roleDefinitions/{RBAC_ADMIN}",
        "principal_id": sp["object_id"], "principal_type": "ServicePrincipal",
        "condition": DELEGATION[:-1], "condition_version": "2.0"}))
    assert refused.status_code == 400 and refused.error.code == "InvalidRoleAssignmentCondition"
