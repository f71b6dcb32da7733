# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least privilege, proven on a fleet: site.yml with an exclusive role set removes exactly the extra roles at each VM's
scope (inherited ones stay), its check mode writes nothing and plans exactly what the real run then does, and the
effective-permission check from the VMs fails on the over-privileged one naming the excess and its assignment; the
orphan sweep removes a deleted VM's assignment and keeps a just-created principal's."""

from __future__ import annotations

import uuid

import pytest
import requests
from site_world import REPO, SITE, site_inventory

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

SEED = REPO / "tests" / "integration" / "playbooks" / "least_privilege" / "seed.yaml"
SUB = "5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
RG = "/subscriptions/%s/resourceGroups/rg-web" % SUB
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
FORBID = ["*/write", "Microsoft.Authorization/*/write"]
EXPECT = ["Microsoft.Resources/subscriptions/resourceGroups/read"]
EXCLUSIVE_TASK = "Make the role the only one of the VM's identity on its scope"
SWEEP = [
    {
        "name": "Sweep the resource group for orphaned role assignments",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Remove role assignments of principals that no longer exist",
                "managed_identity.azure.role_assignment_orphans": {
                    "scope": RG,
                    "remove": True,
                    "arm_endpoint": "{{ arm_endpoint }}",
                    "authority_host": "{{ authority_host }}",
                    "graph_endpoint": "{{ graph_endpoint }}",
                    "ca_path": "{{ ca_path }}",
                },
            }
        ],
    }
]


def arm(emu, method, path, **kwargs):
    response = requests.request(
        method,
        emu.arm_endpoint + path.lstrip("/"),
        headers={"Authorization": "Bearer " + emu.arm_token()},
        verify=emu.ca_bundle,
        timeout=30,
        **kwargs,
    )
    assert response.status_code < 300, response.text
    return response


def assignments(emu):
    """lower(assignment id) -> (principal id, role GUID, lower(scope))."""
    return {
        key: (
            a["properties"]["principalId"].lower(),
            a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1].lower(),
            a["properties"]["scope"].lower(),
        )
        for key, a in emu.state()["role_assignments"].items()
    }


def results(record):
    return record.result.get("results") or [record.result]


@pytest.fixture
def world(start_emulator):
    """The seed, then the VM old1 deleted (its assignment stays behind) and a principal created a moment ago with a
    fresh assignment, while the directory has not replicated it yet."""
    emu = start_emulator(seed=SEED, extra_args=("--lro-delay", "0.1"))
    vm = "/subscriptions/%s/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/old1" % SUB
    arm(emu, "DELETE", vm, params={"api-version": "2024-07-01"})
    emu.set_knobs(replication_delay=3600)
    fresh = emu.create_principal(display_name="fresh-app")
    name = str(uuid.uuid4())
    arm(
        emu,
        "PUT",
        RG + "/providers/Microsoft.Authorization/roleAssignments/" + name,
        params={"api-version": "2022-04-01"},
        json={
            "properties": {
                "roleDefinitionId": "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s"
                % (SUB, READER),
                "principalId": fresh["object_id"],
                "principalType": "ServicePrincipal",
            }
        },
    )
    assert "old1" not in {v["name"] for v in emu.control("GET", "/vms")}
    return emu, fresh["object_id"].lower()


def test_exclusive_roles_and_effective_permissions_on_a_fleet(run_playbook, world):
    emu, _fresh = world
    env = {**emu.operator_env(), "ANSIBLE_FORKS": "5"}
    inventory = site_inventory(emu)
    web2 = emu.state()["resources"][
        ("/subscriptions/%s/resourcegroups/rg-web/providers/microsoft.compute/virtualmachines/web2" % SUB)
    ]["identity"]["principalId"].lower()
    before = assignments(emu)

    emu.reset_counters()
    plan = run_playbook(
        SITE, inventory=inventory, env=env, check=True, diff=True, extra_vars={"grant_access_exclusive": True}
    ).assert_ok()
    assert emu.counters("arm")["writes"] == 0
    assert assignments(emu) == before
    planned = {
        r["id"].lower() for t in plan.tasks if EXCLUSIVE_TASK in t.task for x in results(t) for r in x["removed"]
    }
    # Exactly web2's extra roles made at rg-web; its role on its own VM (below) and its Owner at the subscription
    # (inherited) are not the scope's to remove.
    assert {before[i][1:] for i in planned} == {
        ("b24988ac-6180-42a0-ab88-20f7382dd24c", RG.lower()),  # Contributor
        ("f1a07417-d97a-45cb-824c-7a7467783830", RG.lower()),  # Managed Identity Operator
    }
    assert {before[i][0] for i in planned} == {web2}

    real = run_playbook(
        SITE,
        inventory=inventory,
        env=env,
        extra_vars={
            "grant_access_exclusive": True,
            "validate_access_forbid_actions": FORBID,
            "validate_access_expect_actions": EXPECT,
        },
    )

    after = assignments(emu)
    assert set(before) - set(after) == planned
    assert set(after) == set(before) - planned
    done = {r["id"].lower() for t in real.tasks if EXCLUSIVE_TASK in t.task for x in results(t) for r in x["removed"]}
    assert done == planned
    [web2_grant] = [x for t in real.tasks if EXCLUSIVE_TASK in t.task and t.host == "web2" for x in results(t)]
    owner_id = next(i for i, (p, role, scope) in after.items() if p == web2 and scope == "/subscriptions/" + SUB)
    assert [r["id"].lower() for r in web2_grant["inherited"]] == [owner_id]
    assert "also holds, inherited at %s and not removed here: Owner from /subscriptions/%s" % (RG, SUB) in real.output

    # The VMs check themselves: web2 still holds Owner from the subscription, and fails naming it; web1 passes.
    assert real.rc != 0
    assert {host: stats["failures"] for host, stats in real.stats.items()} == {"web1": 0, "web2": 1}
    [failed] = real.failed_tasks
    assert failed.host == "web2" and failed.result["error_code"] == "ExcessPermissions"
    message = failed.result["msg"]
    for pattern in FORBID:
        assert "%s is granted by role 'Owner' (assignment " % pattern in message
    assert owner_id in message.lower() and "Contributor" not in message
    checked = real.task(
        "managed_identity.azure.validate_access : Check the identity's effective permissions on the scope it read",
        "web1",
    )
    assert checked.result["excess_permissions"] == [] and checked.result["missing_actions"] == []


def test_orphans_of_a_deleted_vm_go_a_fresh_principal_stays(run_playbook, world):
    emu, fresh = world
    before = assignments(emu)
    directory = {x["object_id"].lower() for x in emu.state()["principals"]}
    orphan = {i for i, (principal, _, _) in before.items() if principal not in directory}
    young = {i for i, (principal, _, _) in before.items() if principal == fresh}
    assert len(orphan) == 1 and len(young) == 1
    extra_vars = {
        "arm_endpoint": emu.arm_endpoint,
        "authority_host": emu.authority_host,
        "graph_endpoint": emu.info["graph_endpoint"],
        "ca_path": emu.ca_bundle,
    }
    env = emu.operator_env()

    emu.reset_counters()
    plan = run_playbook(SWEEP, env=env, extra_vars=extra_vars, check=True, diff=True).assert_ok()
    assert emu.counters("arm")["writes"] == 0 and assignments(emu) == before
    planned = plan.task("Remove role assignments of principals that no longer exist").result
    assert {o["id"].lower() for o in planned["orphans"]} == orphan
    assert [o["principal_id"].lower() for o in planned["not_replicated"]] == [fresh]
    assert planned["changed"] and planned["diff"]["after"]["orphans"] == []

    done = run_playbook(SWEEP, env=env, extra_vars=extra_vars).assert_ok()
    swept = done.task("Remove role assignments of principals that no longer exist").result
    assert {o["id"].lower() for o in swept["orphans"]} == orphan
    assert set(assignments(emu)) == set(before) - orphan
    assert young <= set(assignments(emu))
    # The fresh principal's assignment stays, and the next sweep finds nothing more to do.
    again = run_playbook(SWEEP, env=env, extra_vars=extra_vars).assert_ok()
    assert not again.task("Remove role assignments of principals that no longer exist").changed

    # An operator who may read the assignments but not the directory is told what it lacks, and nothing goes.
    reader = emu.create_principal(display_name="sweeper-without-graph")
    arm(
        emu,
        "PUT",
        RG + "/providers/Microsoft.Authorization/roleAssignments/" + str(uuid.uuid4()),
        params={"api-version": "2022-04-01"},
        json={
            "properties": {
                "roleDefinitionId": "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s"
                % (SUB, READER),
                "principalId": reader["object_id"],
                "principalType": "ServicePrincipal",
            }
        },
    )
    env_reader = {**env, "AZURE_CLIENT_ID": reader["client_id"], "AZURE_CLIENT_SECRET": reader["client_secret"]}
    denied = run_playbook(SWEEP, env=env_reader, extra_vars=extra_vars)
    assert denied.rc != 0
    message = denied.task("Remove role assignments of principals that no longer exist").result["msg"]
    assert "in Microsoft Graph" in message and "Directory.Read.All" in message and "roleAssignments/read" not in message
