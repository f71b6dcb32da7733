# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by tests/integration/test_site.py and bench/site_scale.py: the inventory that points playbooks/site.yml at an
emulator, and readers of the emulator's state (identities, role assignments) in the terms the tests assert on."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "playbooks" / "site.yml"
TEARDOWN = REPO / "playbooks" / "teardown.yml"
DEMO_INVENTORY = REPO / "playbooks" / "inventory" / "demo.yml"
SEEDS = Path(__file__).resolve().parent / "playbooks" / "site"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
VM_TYPE = "microsoft.compute/virtualmachines"
UAMI_TYPE = "microsoft.managedidentity/userassignedidentities"


def site_inventory(emu: Any, **all_vars: Any) -> Dict[str, Any]:
    """Every VM of the emulator as a host of azure_vms that validates locally against its own IMDS endpoint."""
    hosts = {
        vm["name"]: {
            "azure_resource_group": vm["resource_group"],
            "azure_subscription_id": vm["subscription_id"],
            "validate_access_imds_endpoint": vm["imds_endpoint"],
            "validate_access_vm_extension_endpoint": vm["vm_extension_endpoint"],
        }
        for vm in emu.control("GET", "/vms")
    }
    return {
        "all": {
            "vars": {
                "azure_arm_endpoint": emu.arm_endpoint,
                "azure_authority_host": emu.authority_host,
                "azure_ca_path": emu.ca_bundle,
                **all_vars,
            },
            "children": {
                "azure_vms": {
                    "hosts": hosts,
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                        "validate_access_delay": 1,
                        "validate_access_timeout": 120,
                    },
                }
            },
        }
    }


def vms(state: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """VM name -> {"type", "principal_id", "user_assigned": sorted lower-case UAMI IDs, "tags"}."""
    found = {}
    for resource in state["resources"].values():
        if resource["type"].lower() != VM_TYPE:
            continue
        identity = resource.get("identity") or {}
        found[resource["name"]] = {
            "type": identity.get("type", "None"),
            "principal_id": identity.get("principalId"),
            "user_assigned": sorted(k.lower() for k in identity.get("userAssignedIdentities") or {}),
            "tags": resource.get("tags") or {},
        }
    return found


def uamis(state: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Lower-case UAMI ID -> the identity resource."""
    return {r["id"].lower(): r for r in state["resources"].values() if r["type"].lower() == UAMI_TYPE}


def assignments(state: Dict[str, Any], but: Optional[str] = None) -> List[Dict[str, str]]:
    """Role assignments as {"principal_id", "role", "scope"} (role = definition GUID, scope lower case), sorted; the
    principal ``but`` (the operator) left out."""
    found = []
    for assignment in state["role_assignments"].values():
        props = assignment["properties"]
        if but and props["principalId"].lower() == but.lower():
            continue
        found.append(
            {
                "principal_id": props["principalId"].lower(),
                "role": props["roleDefinitionId"].rsplit("/", 1)[-1].lower(),
                "scope": props["scope"].lower(),
            }
        )
    return sorted(found, key=lambda a: (a["scope"], a["principal_id"]))


def descriptions(state: Dict[str, Any]) -> Dict[tuple, Optional[str]]:
    """(principal_id, scope), both lower case -> the role assignment's description."""
    return {
        (a["properties"]["principalId"].lower(), a["properties"]["scope"].lower()): a["properties"].get("description")
        for a in state["role_assignments"].values()
    }


def principal_ids(state: Dict[str, Any]) -> set:
    return {principal["object_id"].lower() for principal in state["principals"]}


def world(state: Dict[str, Any]) -> Dict[str, Any]:
    """What site.yml and teardown.yml may change, in comparable form: the VMs' identities and tags, the user-assigned
    identities, the role assignments with their descriptions, and the directory's principals."""
    return {
        "vms": vms(state),
        "uamis": uamis(state),
        "assignments": assignments(state),
        "descriptions": descriptions(state),
        "principals": principal_ids(state),
    }
