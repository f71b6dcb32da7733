"""Seeds: the default (tutorial) world, and a seed declaring more VMs, identities, roles and principals."""

from __future__ import annotations

import subprocess
import sys

import jwt
import pytest
import requests
import yaml
from support.emulator import REPO_ROOT, RunningEmulator

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"
SUB2 = "0b1f6471-1bf0-4dda-aec3-111122223333"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
RICH_SEED = {
    "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "subscriptions": [
        {"subscription_id": SUB, "display_name": "Main", "resource_groups": [
            {"name": "DevTest", "location": "westus",
             "user_assigned_identities": [{"name": "appIdentity"}],
             "vms": [{"name": "linuxVM", "os_type": "Linux",
                      "identity": {"system_assigned": True, "user_assigned": ["appIdentity"]}},
                     {"name": "uamiOnly", "os_type": "Windows", "identity": {"user_assigned": ["appIdentity"]}}],
             "vm_scale_sets": [{"name": "web", "capacity": 3, "identity": {"system_assigned": True}}]}]},
        {"subscription_id": SUB2, "resource_groups": [{"name": "other", "location": "eastus"}]},
    ],
    "service_principals": [{"name": "deployer", "client_id": "11111111-2222-3333-4444-555555555555"}],
    "role_definitions": [{"role_name": "VM Identity Reader", "actions": ["Microsoft.Compute/virtualMachines/read"],
                          "assignable_scopes": [f"/subscriptions/{SUB}"]}],
    "role_assignments": [
        {"principal": "deployer", "role": "Reader", "scope": f"/subscriptions/{SUB2}"},
        {"principal": "linuxVM", "role": "VM Identity Reader", "scope": f"/subscriptions/{SUB}/resourceGroups/DevTest"},
        {"principal": "appIdentity", "role": READER},
    ],
}


def test_default_seed_is_the_tutorial_world(emulator: RunningEmulator) -> None:
    state = emulator.state()
    assert list(state["subscriptions"]) == [SUB]
    rg = state["resources"][f"/subscriptions/{SUB}/resourcegroups/devtest"]
    assert (rg["name"], rg["location"], rg["type"]) == ("DevTest", "westus", "Microsoft.Resources/resourceGroups")
    vm = state["resources"][f"/subscriptions/{SUB}/resourcegroups/devtest/providers/microsoft.compute/"
                            "virtualmachines/myvm"]
    assert "identity" not in vm
    props = vm["properties"]
    assert props["storageProfile"]["osDisk"]["osType"] == "Windows"
    assert props["provisioningState"] == "Succeeded"
    assert props["hardwareProfile"]["vmSize"] and props["osProfile"]["computerName"] == "myVM"
    assert "windowsConfiguration" in props["osProfile"] and props["vmId"]
    operator = emulator.operator
    (assignment,) = state["role_assignments"].values()
    assert assignment["properties"]["principalId"] == operator["object_id"]
    assert assignment["properties"]["scope"] == f"/subscriptions/{SUB}"
    assert assignment["properties"]["roleDefinitionId"].endswith(f"/roleDefinitions/{OWNER}")
    assert assignment["properties"]["principalType"] == "ServicePrincipal"


def test_rich_seed_declares_identities_roles_and_principals(start_emulator) -> None:
    emu = start_emulator(seed=RICH_SEED)
    assert emu.tenant_id == RICH_SEED["tenant_id"]
    state = emu.state()
    uami = state["resources"][f"/subscriptions/{SUB}/resourcegroups/devtest/providers/microsoft.managedidentity/"
                              "userassignedidentities/appidentity"]
    assert uami["id"] == (f"/subscriptions/{SUB}/resourcegroups/DevTest/providers/Microsoft.ManagedIdentity/"
                          "userAssignedIdentities/appIdentity")
    vms = {vm["name"]: vm for vm in emu.control("GET", "/vms")}
    assert set(vms) == {"linuxVM", "uamiOnly"}
    linux = state["resources"][vms["linuxVM"]["id"].lower()]
    assert linux["identity"]["type"] == "SystemAssigned, UserAssigned"
    assert linux["identity"]["userAssignedIdentities"] == {
        uami["id"]: {"principalId": uami["properties"]["principalId"], "clientId": uami["properties"]["clientId"]}}
    assert linux["properties"]["storageProfile"]["osDisk"]["osType"] == "Linux"
    assert state["resources"][vms["uamiOnly"]["id"].lower()]["identity"]["type"] == "UserAssigned"
    vmss = next(r for r in state["resources"].values() if r["type"] == "Microsoft.Compute/virtualMachineScaleSets")
    assert vmss["sku"]["capacity"] == 3 and vmss["identity"]["type"] == "SystemAssigned"
    principals = {p["object_id"]: p for p in state["principals"]}
    system = principals[linux["identity"]["principalId"]]
    assert system["kind"] == "managed_identity" and system["mi_resource_id"] == linux["id"]
    assert principals[uami["properties"]["principalId"]]["mi_resource_id"] == uami["id"]
    custom = next(d for d in state["role_definitions"].values() if d["properties"]["type"] == "CustomRole")
    assert custom["properties"]["roleName"] == "VM Identity Reader"
    by_principal = {a["properties"]["principalId"]: a for a in state["role_assignments"].values()}
    assert by_principal[system["object_id"]]["properties"]["roleDefinitionId"].endswith(custom["name"])
    assert by_principal[uami["properties"]["principalId"]]["properties"]["scope"] == f"/subscriptions/{SUB}"
    deployer = emu.service_principal("deployer")
    assert deployer["client_id"] == "11111111-2222-3333-4444-555555555555"
    assert by_principal[deployer["object_id"]]["properties"]["roleDefinitionId"] == (
        f"/subscriptions/{SUB2}/providers/Microsoft.Authorization/roleDefinitions/{READER}")
    assert {s["subscription_id"] for s in emu.info["subscriptions"]} == {SUB, SUB2}


def test_seeded_vm_identity_gets_tokens_from_its_imds(start_emulator) -> None:
    emu = start_emulator(seed=RICH_SEED)
    vm = emu.vm("linuxVM")
    response = requests.get(vm["imds_endpoint"] + "/metadata/identity/oauth2/token", headers={"Metadata": "true"},
                            params={"api-version": "2018-02-01", "resource": "https://management.azure.com/",
                                    "client_id": emu.state()["resources"][vm["id"].lower()]["identity"]
                                    ["userAssignedIdentities"].popitem()[1]["clientId"]}, timeout=10)
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert "/resourcegroups/DevTest/providers/Microsoft.ManagedIdentity/" in claims["xms_mirid"]


def _two_vms(**first: object) -> dict:
    """A seed whose second VM has the public address 192.0.2.9."""
    return {"subscriptions": [{"subscription_id": SUB, "resource_groups": [
        {"name": "rg", "vms": [{"name": "a", **first}, {"name": "b", "public_ip": "192.0.2.9"}]}]}]}


@pytest.mark.parametrize(("seed", "message"), [
    ({"subscriptions": []}, "declare at least one entry under 'subscriptions'"),
    ({"subscriptions": [{"subscription_id": "nope"}]}, "subscriptions[0].subscription_id: 'nope' is not a GUID"),
    ({"subscriptions": [{"subscription_id": SUB, "resource_groups": [{"name": "rg", "vms": [
        {"name": "vm", "identity": {"user_assigned": ["ghost"]}}]}]}]}, "no user-assigned identity 'ghost'"),
    ({"subscriptions": [{"subscription_id": SUB}], "role_assignments": [{"principal": "nobody", "role": "Owner"}]},
     "'nobody' names no declared service principal"),
    ({"subscriptions": [{"subscription_id": SUB}], "service_principals": [{"name": "a"}],
      "role_assignments": [{"principal": "a", "role": "Emperor"}]}, "no role definition named or with id 'Emperor'"),
    (_two_vms(power_state="asleep"), "vms[0].power_state: 'asleep' is not one of running, stopped, deallocated"),
    (_two_vms(private_ip="10.0.0"), "vms[0].private_ip: '10.0.0' is not an IPv4 address such as 10.0.0.4"),
    (_two_vms(public_ip=5), "vms[0].public_ip: give true (an address is picked) or an IPv4 address"),
    (_two_vms(public_ip="192.0.2.9"), "vms[1].public_ip: public address 192.0.2.9 is used twice"),
    ({"subscriptions": [{"subscription_id": SUB}], "management_groups": [{"name": "mg", "parent": "nowhere"}]},
     "management_groups[0].parent: 'nowhere' is not the tenant id or a management group declared above"),
    ({"subscriptions": [{"subscription_id": SUB}], "service_principals": [{"name": "a", "graph_permissions": "x"}]},
     "service_principals[0].graph_permissions must be a list of Graph application permission names"),
    ({"subscriptions": [{"subscription_id": SUB}], "service_principals": [{"name": "a"}],
      "role_assignments": [{"principal": "a", "role": "Owner", "age": -5}]},
     "role_assignments[0].age: -5 is not a number of seconds"),
])
def test_bad_seed_is_refused_with_a_clear_message(tmp_path, seed: dict, message: str) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(seed))
    result = subprocess.run([sys.executable, "-m", "azure_emulator", "--seed", str(path)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr
