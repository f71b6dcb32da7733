# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml and teardown.yml end to end against the emulator, asserting the emulator's state after each run:
identities and role assignments exactly as intended, nothing written by a second run, nothing left (and nothing
pre-existing removed) by teardown."""

from __future__ import annotations

import json

import pytest
from site_world import (
    DEMO_INVENTORY,
    READER,
    SEEDS,
    SITE,
    TEARDOWN,
    assignments,
    descriptions,
    principal_ids,
    site_inventory,
    uamis,
    vms,
)

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

SUB = "2d6a4c1e-5b7f-4e0a-9c3d-8f1e2a3b4c5d"
RG_WEB = "/subscriptions/%s/resourcegroups/rg-web" % SUB
RG_DATA = "/subscriptions/%s/resourcegroups/rg-data" % SUB
LEGACY = RG_WEB + "/providers/microsoft.managedidentity/userassignedidentities/id-legacy"
ID_DB1 = RG_DATA + "/providers/microsoft.managedidentity/userassignedidentities/id-db1"
# site.yml's records in Azure (roles/grant_access/vars/main.yml, roles/enable_identity/vars/main.yml), spelled out
# again here so that a change to them shows up as a test failure: teardown would not recognise older records.
MARKER = "Granted by managed_identity.azure site.yml."
MANAGED_TAG = {"managed-by": "managed_identity.azure"}
OWNERSHIP_TAG = {"managed_identity.azure": "system-assigned-identity"}
FLEET_SUB = "7b3e9f2a-1c4d-4e6f-8a9b-0c1d2e3f4a5b"
FLEET_RG = "/subscriptions/%s/resourcegroups/rg-fleet" % FLEET_SUB
SHARED = FLEET_RG + "/providers/microsoft.managedidentity/userassignedidentities/id-azure-vms"
ENABLE = "Enable the VM's managed identity | %s"
GRANT = "Grant the role to the VM's identity on its scope | Reader"
REPORT = "Report what the VM's identity read"
READ = "Read the resource group with the VM's own identity, until its role has reached ARM"


def recap_changed(result) -> int:
    return sum(host["changed"] for host in result.stats.values())


def changed_items(result) -> dict:
    """Changed task (name without role prefix) -> how many hosts and loop items it changed, over all hosts."""
    counts: dict = {}
    for t in result.changed_tasks:
        name = t.task.split(" : ", 1)[-1]
        counts[name] = counts.get(name, 0) + sum(
            1 for item in t.result.get("results", [t.result]) if item.get("changed")
        )
    return counts


def records(result, name: str, host: str) -> list:
    """The records of a task by its name without the role prefix ("managed_identity.azure.<role> : ")."""
    return [t for t in result.tasks if t.host == host and t.task.split(" : ", 1)[-1] == name]


def reports(result) -> dict:
    """Host -> the validate_access report line."""
    return {t.host: t.result["msg"][0] for t in result.tasks if t.task.split(" : ", 1)[-1] == REPORT}


def test_site_system_identities_second_run_and_teardown(run_playbook, start_emulator):
    # A propagation delay longer than the way from the grant to the first GET: validation has to wait it out.
    emu = start_emulator(seed=SEEDS / "four_vms.yaml", extra_args=("--propagation-delay", "20"))
    operator = emu.operator["object_id"]
    before = emu.state()
    legacy = uamis(before)[LEGACY]
    app1 = vms(before)["app1"]["principal_id"].lower()  # on before site.yml, already a Reader of rg-web
    app1_reader = {"principal_id": app1, "role": READER, "scope": RG_WEB}
    assert assignments(before, but=operator) == [app1_reader]
    inventory = site_inventory(emu)
    env = emu.operator_env()

    # Check mode reports the changes and makes none (validation needs them for real, so it is skipped).
    emu.reset_counters()
    check = run_playbook(SITE, inventory=inventory, env=env, check=True).assert_ok()
    assert changed_items(check) == {ENABLE % "system": 3}
    assert emu.counters("arm")["writes"] == 0
    assert emu.state()["resources"] == before["resources"]

    first = run_playbook(SITE, inventory=inventory, env=env).assert_ok()

    state = emu.state()
    after = vms(state)
    assert {name: (vm["type"], vm["user_assigned"]) for name, vm in after.items()} == {
        "web1": ("SystemAssigned", []),
        "web2": ("SystemAssigned, UserAssigned", [LEGACY]),
        "app1": ("SystemAssigned", []),
        "db1": ("SystemAssigned", []),
    }
    system = {name: vm["principal_id"].lower() for name, vm in after.items()}
    assert system["app1"] == app1
    assert assignments(state, but=operator) == sorted(
        [
            {"principal_id": system["db1"], "role": READER, "scope": RG_DATA},
            {"principal_id": system["web1"], "role": READER, "scope": RG_WEB},
            {"principal_id": system["web2"], "role": READER, "scope": RG_WEB},
            app1_reader,
        ],
        key=lambda a: (a["scope"], a["principal_id"]),
    )
    # The records teardown reads: site.yml made these assignments, and turned on these identities (the tag written
    # with the identity); app1's identity and assignment are not its own.
    assert descriptions(state) == {
        **descriptions(before),
        (system["web1"], RG_WEB): MARKER,
        (system["web2"], RG_WEB): MARKER,
        (system["db1"], RG_DATA): MARKER,
    }
    assert descriptions(state)[(app1, RG_WEB)] is None
    assert {name: vm["tags"] for name, vm in after.items()} == {
        "web1": OWNERSHIP_TAG,
        "web2": OWNERSHIP_TAG,
        "app1": {},
        "db1": OWNERSHIP_TAG,
    }
    assert set(uamis(state)) == {LEGACY, ID_DB1}
    # Each VM validated with its own system identity's token (web2 has two identities; IMDS picks the system one),
    # after waiting for the role to propagate, with the retries visible.
    assert {host: system[host] in msg for host, msg in reports(first).items()} == dict.fromkeys(system, True)
    assert "FAILED - RETRYING" in first.stdout
    assert "access appeared after" in first.stdout
    assert changed_items(first) == {ENABLE % "system": 3, GRANT: 3}

    emu.set_knobs(propagation_delay=0)
    emu.reset_counters()
    second = run_playbook(SITE, inventory=inventory, env=env).assert_ok()
    assert recap_changed(second) == 0
    assert emu.counters("arm")["writes"] == 0
    assert emu.state()["role_assignments"] == state["role_assignments"]
    assert set(reports(second)) == {"web1", "web2", "app1", "db1"}

    run_playbook(TEARDOWN, inventory=inventory, env=env).assert_ok()

    state = emu.state()
    assert {name: (vm["type"], vm["user_assigned"]) for name, vm in vms(state).items()} == {
        "web1": ("None", []),
        "web2": ("UserAssigned", [LEGACY]),
        "app1": ("SystemAssigned", []),
        "db1": ("None", []),
    }
    # app1 keeps the identity it had, with the same principal, and its own assignment, once.
    assert vms(state)["app1"]["principal_id"].lower() == app1
    assert assignments(state, but=operator) == [app1_reader]
    assert assignments(state) == assignments(before)
    assert state["role_assignments"] == before["role_assignments"]
    assert uamis(state) == uamis(before)
    assert uamis(state)[LEGACY] == legacy  # the VM's own identity is untouched
    # The system identities site.yml enabled are gone with their principals; app1's is not.
    assert principal_ids(state) & set(system.values()) == {app1}

    # A second teardown finds nothing to do.
    emu.reset_counters()
    again = run_playbook(TEARDOWN, inventory=inventory, env=env).assert_ok()
    assert recap_changed(again) == 0
    assert emu.counters("arm")["writes"] == 0


def test_site_both_identities_and_teardown(run_playbook, start_emulator):
    """enable_identity_mode=both: a system identity plus a user-assigned identity of its own per VM, both granted.
    db1's user-assigned identity, id-db1, exists already (someone else's): site.yml uses it, teardown leaves it."""
    emu = start_emulator(seed=SEEDS / "four_vms.yaml", extra_args=("--lro-delay", "0.1"))
    operator = emu.operator["object_id"]
    before = emu.state()
    inventory = site_inventory(emu, enable_identity_mode="both")
    env = emu.operator_env()

    first = run_playbook(SITE, inventory=inventory, env=env).assert_ok()

    state = emu.state()
    own = {
        vm: RG_WEB.replace("rg-web", rg) + "/providers/microsoft.managedidentity/userassignedidentities/id-" + vm
        for vm, rg in (("web1", "rg-web"), ("web2", "rg-web"), ("app1", "rg-web"), ("db1", "rg-data"))
    }
    assert set(uamis(state)) == {LEGACY, *own.values()}
    # The identities site.yml created carry its tag; the one it found (id-db1) is not retagged.
    assert {uid: uamis(state)[uid].get("tags") or {} for uid in own.values()} == {
        **{own[vm]: MANAGED_TAG for vm in ("web1", "web2", "app1")},
        ID_DB1: uamis(before)[ID_DB1].get("tags") or {},
    }
    after = vms(state)
    assert {name: (vm["type"], vm["user_assigned"]) for name, vm in after.items()} == {
        "web1": ("SystemAssigned, UserAssigned", [own["web1"]]),
        "web2": ("SystemAssigned, UserAssigned", sorted([LEGACY, own["web2"]])),
        "app1": ("SystemAssigned, UserAssigned", [own["app1"]]),
        "db1": ("SystemAssigned, UserAssigned", [own["db1"]]),
    }
    granted = {(a["principal_id"], a["scope"]) for a in assignments(state, but=operator)}
    expected = {(after[vm]["principal_id"].lower(), RG_DATA if vm == "db1" else RG_WEB) for vm in own}
    expected |= {
        (uamis(state)[own[vm]]["properties"]["principalId"].lower(), RG_DATA if vm == "db1" else RG_WEB) for vm in own
    }
    assert granted == expected and len(assignments(state, but=operator)) == 8
    # Seven new assignments, all marked; the system identities site.yml turned on carry the tag (not app1's).
    made = {key: text for key, text in descriptions(state).items() if key not in descriptions(before)}
    assert sorted(made.values()) == [MARKER] * 7
    assert {name: vm["tags"] for name, vm in after.items()} == {**dict.fromkeys(own, OWNERSHIP_TAG), "app1": {}}
    # Validation uses the system identity, which IMDS picks by default.
    assert all(after[host]["principal_id"] in msg for host, msg in reports(first).items())

    run_playbook(TEARDOWN, inventory=inventory, env=env).assert_ok()

    state = emu.state()
    # Back to the seed, except that id-db1, which site.yml did not create, is left as it is: attached to db1.
    assert vms(state) == {
        **vms(before),
        "db1": {**vms(before)["db1"], "type": "UserAssigned", "user_assigned": [ID_DB1]},
    }
    assert uamis(state) == uamis(before)
    assert assignments(state) == assignments(before)


def test_site_shared_identity_on_a_fleet(run_playbook, start_emulator):
    emu = start_emulator(seed=SEEDS / "fleet20.yaml", extra_args=("--lro-delay", "0.1"))
    operator = emu.operator["object_id"]
    inventory = site_inventory(emu, enable_identity_mode="shared_user_assigned", enable_identity_tags={"team": "web"})
    env = {**emu.operator_env(), "ANSIBLE_FORKS": "10"}

    first = run_playbook(SITE, inventory=inventory, env=env).assert_ok()

    state = emu.state()
    identities = uamis(state)
    assert list(identities) == [SHARED]
    shared = identities[SHARED]["properties"]
    fleet = vms(state)
    assert len(fleet) == 20
    assert {(vm["type"], tuple(vm["user_assigned"])) for vm in fleet.values()} == {("UserAssigned", (SHARED,))}
    assert assignments(state, but=operator) == [
        {"principal_id": shared["principalId"].lower(), "role": READER, "scope": FLEET_RG}
    ]
    assert descriptions(state)[(shared["principalId"].lower(), FLEET_RG)] == MARKER
    assert identities[SHARED]["tags"] == {**MANAGED_TAG, "team": "web"}
    # Every VM got its token from the shared identity (selected by client ID) and read the resource group with it.
    assert len(reports(first)) == 20
    assert all(shared["principalId"] in msg for msg in reports(first).values())

    run_playbook(TEARDOWN, inventory=inventory, env=env).assert_ok()

    state = emu.state()
    assert uamis(state) == {}
    assert {vm["type"] for vm in vms(state).values()} == {"None"}
    assert assignments(state, but=operator) == []


def test_demo_inventory_with_the_vm_extension_endpoint(run_playbook, emulator, tmp_path):
    """playbooks/inventory/demo.yml on the tutorial's world, validating through the legacy extension endpoint."""
    ready_file = tmp_path / "ready.json"
    ready_file.write_text(json.dumps(emulator.info), encoding="utf-8")
    env = {**emulator.operator_env(), "AZURE_EMULATOR_READY_FILE": str(ready_file)}

    result = run_playbook(
        SITE,
        inventory=DEMO_INVENTORY,
        env=env,
        extra_vars={"validate_access_source": "vm_extension"},
    ).assert_ok()

    principal = vms(emulator.state())["myVM"]["principal_id"]
    assert principal in reports(result)["myVM"]
    [check] = records(result, READ, "myVM")
    assert check.status == "ok" and check.result["source"] == "vm_extension"
    assert '"name": "DevTest"' in result.stdout and '"location": "westus"' in result.stdout


def test_validate_access_waits_then_fails_with_what_to_check(run_playbook, start_emulator):
    """An identity with no role: 403 AuthorizationFailed is retried visibly until the timeout, then fails clearly."""
    emu = start_emulator(seed=SEEDS / "four_vms.yaml")
    inventory = site_inventory(emu)
    web2 = inventory["all"]["children"]["azure_vms"]["hosts"]["web2"]
    play = [
        {
            "name": "validate web2 with its legacy identity, which has no role",
            "hosts": "web2",
            "gather_facts": False,
            "roles": [
                {
                    "role": "managed_identity.azure.validate_access",
                    "vars": {
                        "validate_access_timeout": 3,
                        "validate_access_delay": 1,
                        "validate_access_arm_endpoint": emu.arm_endpoint,
                        "validate_access_ca_path": emu.ca_bundle,
                    },
                }
            ],
        }
    ]
    emu.reset_counters()

    result = run_playbook(play, inventory=inventory, env=emu.operator_env())

    assert result.rc != 0
    assert web2["azure_resource_group"] == "rg-web"
    [failure] = records(result, READ, "web2")
    assert failure.failed
    principal = uamis(emu.state())[LEGACY]["properties"]["principalId"]
    assert failure.result["msg"].startswith(
        "Failed to read resource group 'rg-web' with the managed identity of this host (principal %s) "
        "(HTTP 403, AuthorizationFailed): " % principal
    )
    assert "Assign a role with Microsoft.Resources/subscriptions/resourceGroups/read" in failure.result["msg"]
    assert result.stdout.count("FAILED - RETRYING") == 3
    assert emu.counters("arm")["by_status"].get("403", 0) == 4
    assert emu.counters("arm")["writes"] == 0
