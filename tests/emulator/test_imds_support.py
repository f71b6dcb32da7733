"""Shared by the identity-endpoint tests: the seed they run on and lookups in a running emulator.

Holds no tests itself. Each test module starts its own emulator through conftest's ``start_emulator`` with
``IDENTITY_SEED``.
"""

from __future__ import annotations

from support.emulator import RunningEmulator

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"

# VMs covering every identity combination, and one identity host of each kind (mi_sources.py).
IDENTITY_SEED = {
    "subscriptions": [{
        "subscription_id": SUB,
        "display_name": "Identity tests",
        "resource_groups": [{
            "name": "DevTest",
            "location": "westus",
            "user_assigned_identities": [{"name": "uami1"}, {"name": "uami2"}],
            "vms": [
                {"name": "myVM", "os_type": "Windows"},
                {"name": "sysVM", "os_type": "Linux", "identity": {"system_assigned": True},
                 "tags": {"env": "test", "team": "identity"}},
                {"name": "twoVM", "identity": {"user_assigned": ["uami1", "uami2"]}},
                {"name": "oneVM", "identity": {"user_assigned": ["uami1"]}},
                {"name": "bothVM", "identity": {"system_assigned": True, "user_assigned": ["uami1"]}},
            ],
        }],
    }],
    "service_principals": [{"name": "operator"}],
    "role_assignments": [{"principal": "operator", "role": "Owner", "scope": f"/subscriptions/{SUB}"}],
    "identity_hosts": [
        {"kind": "app_service", "name": "myWebApp", "system_assigned": True, "user_assigned": ["uami2"]},
        {"kind": "arc", "name": "myArcServer", "system_assigned": True},
        {"kind": "service_fabric", "name": "myCluster", "system_assigned": True},
        {"kind": "azure_ml", "name": "myWorkspace", "system_assigned": True, "user_assigned": ["uami1"]},
        {"kind": "cloud_shell", "name": "alice", "user_principal_name": "alice@contoso.onmicrosoft.com"},
    ],
}


def find_vm(emu: RunningEmulator, name: str) -> dict:
    return emu.vm(name)


def uami(emu: RunningEmulator, name: str) -> dict:
    return next(r for r in emu.state()["resources"].values()
                if r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities" and r["name"] == name)


def principal_with_mirid(emu: RunningEmulator, resource_id: str) -> dict:
    wanted = resource_id.lower()
    return next(p for p in emu.state()["principals"] if (p.get("mi_resource_id") or "").lower() == wanted)


def endpoint_env(emu: RunningEmulator, name: str) -> dict:
    return emu.info["identity_endpoints"][name]["env"]
