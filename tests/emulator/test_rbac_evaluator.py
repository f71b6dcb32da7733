"""The RBAC evaluator on its own: wildcard matching, scope inheritance, notActions, propagation timing."""

from __future__ import annotations

import pytest

from azure_emulator import resources as arm_json
from azure_emulator.knobs import Knobs
from azure_emulator.rbac import Rbac, action_matches, ancestors, load_builtin_roles, role_grants
from azure_emulator.world import World

SUB = "/subscriptions/98f51385-2edc-4b79-bed9-7718de4cb861"
RG = SUB + "/resourceGroups/DevTest"
VM = RG + "/providers/Microsoft.Compute/virtualMachines/myVM"
UAMI = SUB + "/resourcegroups/DevTest/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
VM_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
MI_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0


@pytest.fixture
def world() -> World:
    clock = Clock()
    world = World("28676654-7b46-4e5c-9a0a-4b3c1cfe5e6b", Knobs())
    world.now = lambda: clock.now  # type: ignore[method-assign]
    world.clock = clock  # type: ignore[attr-defined]
    world.add_builtin_roles(load_builtin_roles())
    return world


def assign(world: World, scope: str, role: str, principal: str = "p1", name: str | None = None) -> dict:
    created = arm_json.role_assignment(scope, name or f"00000000-0000-0000-0000-{len(world.role_assignments):012d}",
                                       role, principal, world.now())
    world.add_role_assignment(created)
    return created


def builtin(name: str) -> dict:
    return next(d for d in load_builtin_roles() if d["properties"]["roleName"] == name)


@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("*", "Microsoft.Compute/virtualMachines/write", True),
    ("*/read", "Microsoft.Compute/virtualMachines/read", True),
    ("*/read", "Microsoft.Compute/virtualMachines/write", False),
    ("Microsoft.Compute/virtualMachines/*", "microsoft.compute/VIRTUALMACHINES/write", True),
    ("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", True),
    ("Microsoft.Authorization/*/read", "Microsoft.Authorization/roleAssignments/write", False),
    # Managed Identity Operator's patterns cover the identity itself, not only sub-resources.
    ("Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
     "Microsoft.ManagedIdentity/userAssignedIdentities/read", True),
    ("Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
     "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", True),
    ("Microsoft.Compute/disks/read", "Microsoft.Compute/disks/readx", False),
    ("Microsoft.Sto*/read", "Microsoft.Storage/storageAccounts/read", True),
])
def test_action_wildcards(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def test_builtin_roles_carry_their_real_ids_and_permissions() -> None:
    roles = {d["properties"]["roleName"]: d for d in load_builtin_roles()}
    assert {d["name"] for d in roles.values()} >= {OWNER, CONTRIBUTOR, READER, VM_CONTRIBUTOR, MI_OPERATOR,
                                                    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
                                                    "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
                                                    "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59"}
    for definition in roles.values():
        assert definition["id"] == f"/providers/Microsoft.Authorization/roleDefinitions/{definition['name']}"
        assert definition["type"] == "Microsoft.Authorization/roleDefinitions"
        assert definition["properties"]["type"] == "BuiltInRole"
        assert definition["properties"]["assignableScopes"] == ["/"]
    assert "Microsoft.Authorization/*/Write" in roles["Contributor"]["properties"]["permissions"][0]["notActions"]


@pytest.mark.parametrize(("role", "action", "expected"), [
    ("Owner", "Microsoft.Authorization/roleAssignments/write", True),
    ("Contributor", "Microsoft.Compute/virtualMachines/write", True),
    ("Contributor", "Microsoft.Authorization/roleAssignments/write", False),
    ("Contributor", "Microsoft.Authorization/roleAssignments/delete", False),
    ("Contributor", "Microsoft.Authorization/roleAssignments/read", True),
    ("Reader", "Microsoft.Compute/virtualMachines/read", True),
    ("Reader", "Microsoft.Compute/virtualMachines/write", False),
    ("User Access Administrator", "Microsoft.Authorization/roleAssignments/write", True),
    ("User Access Administrator", "Microsoft.Compute/virtualMachines/write", False),
    ("Role Based Access Control Administrator", "Microsoft.Authorization/roleAssignments/write", True),
    ("Role Based Access Control Administrator", "Microsoft.Authorization/roleDefinitions/write", False),
    ("Virtual Machine Contributor", "Microsoft.Compute/virtualMachines/write", True),
    ("Virtual Machine Contributor", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", False),
    ("Managed Identity Operator", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", True),
    ("Managed Identity Operator", "Microsoft.ManagedIdentity/userAssignedIdentities/write", False),
    ("Managed Identity Contributor", "Microsoft.ManagedIdentity/userAssignedIdentities/write", True),
    ("Managed Identity Contributor", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", False),
])
def test_builtin_role_grants(role: str, action: str, expected: bool) -> None:
    assert role_grants(builtin(role), action) is expected


def test_scope_inheritance_goes_down_not_up_or_sideways(world: World) -> None:
    rbac = Rbac(world)
    assert rbac.covers("/", VM)
    assert rbac.covers(SUB, VM)
    assert rbac.covers(RG.upper(), VM)
    assert not rbac.covers(VM, RG)
    assert not rbac.covers(RG, SUB + "/resourceGroups/DevTest2")


def test_management_groups_sit_between_the_root_and_the_subscription(world: World) -> None:
    world.add_management_group("platform", "Platform", world.tenant_id)
    world.add_management_group("prod", "Production", "platform")
    world.subscription_parents[SUB.rsplit("/", 1)[1]] = "prod"
    mg = "/providers/Microsoft.Management/managementGroups/"
    assert ancestors(world, RG) == [RG.lower(), SUB.lower(), f"{mg}prod".lower(), f"{mg}platform".lower(),
                                    f"{mg}{world.tenant_id}".lower(), "/"]
    rbac = Rbac(world)
    assert rbac.covers(mg + world.tenant_id, VM) and rbac.covers(mg + "Platform", mg + "prod")
    assert not rbac.covers(mg + "prod", mg + "platform")
    assign(world, mg + "platform", READER)
    assert rbac.allowed("p1", "Microsoft.Compute/virtualMachines/read", VM)
    assert not rbac.allowed("p1", "Microsoft.Compute/virtualMachines/read", "/subscriptions/" + "0" * 8 + "-0000-0000"
                            "-0000-000000000000")


def test_assignment_at_resource_group_authorizes_below_only(world: World) -> None:
    assign(world, RG, VM_CONTRIBUTOR)
    rbac = Rbac(world)
    assert rbac.allowed("p1", "Microsoft.Compute/virtualMachines/write", VM)
    assert not rbac.allowed("p1", "Microsoft.Compute/virtualMachines/write", SUB)
    assert not rbac.allowed("p1", "Microsoft.Compute/virtualMachines/write", SUB + "/resourceGroups/other")
    assert not rbac.allowed("p2", "Microsoft.Compute/virtualMachines/write", VM)


def test_not_actions_subtract_within_a_role_but_other_roles_still_grant(world: World) -> None:
    assign(world, SUB, CONTRIBUTOR)
    rbac = Rbac(world)
    assert not rbac.allowed("p1", "Microsoft.Authorization/roleAssignments/write", RG)
    assign(world, RG, "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9")
    assert rbac.allowed("p1", "Microsoft.Authorization/roleAssignments/write", RG)


def test_grant_takes_effect_after_the_propagation_delay(world: World) -> None:
    world.knobs.propagation_delay = 30
    assign(world, SUB, READER)
    rbac = Rbac(world)
    assert not rbac.allowed("p1", "Microsoft.Compute/virtualMachines/read", VM)
    world.clock.now += 31  # type: ignore[attr-defined]
    assert rbac.allowed("p1", "Microsoft.Compute/virtualMachines/read", VM)


def test_removed_assignment_keeps_granting_until_the_delay_passed(world: World) -> None:
    created = assign(world, SUB, READER)
    world.knobs.propagation_delay = 30
    rbac = Rbac(world)
    world.clock.now += 1  # type: ignore[attr-defined]
    assert rbac.allowed("p1", "Microsoft.Compute/virtualMachines/read", VM)
    world.remove_role_assignment(created["id"])
    assert rbac.allowed("p1", "Microsoft.Compute/virtualMachines/read", VM)
    world.clock.now += 31  # type: ignore[attr-defined]
    assert not rbac.allowed("p1", "Microsoft.Compute/virtualMachines/read", VM)


def test_cache_follows_assignment_changes(world: World) -> None:
    rbac = Rbac(world)
    assert not rbac.allowed("p1", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", UAMI)
    created = assign(world, UAMI, MI_OPERATOR)
    assert rbac.allowed("p1", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", UAMI)
    world.remove_role_assignment(created["id"])
    assign(world, RG, READER, name="00000000-0000-0000-0000-00000000ffff")
    assert not rbac.allowed("p1", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", UAMI)


def test_permissions_lists_each_applicable_role(world: World) -> None:
    assign(world, SUB, READER)
    assign(world, UAMI, MI_OPERATOR)
    rbac = Rbac(world)
    at_rg = rbac.permissions("p1", RG)
    assert at_rg == [{"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}]
    at_uami = rbac.permissions("p1", UAMI)
    assert len(at_uami) == 2
    assert "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action" in at_uami[1]["actions"]
