# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml as a fleet tool: one host per VM, so a bad VM fails alone; bad input stops before the first ARM write;
an interruption at any point (kill -9, a reply lost after ARM applied the write) never costs teardown its record; and
no token ends up in the controller's variables."""

from __future__ import annotations

import json
import re

import pytest
from site_world import READER, SEEDS, SITE, TEARDOWN, assignments, site_inventory, vms, world

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

SUB = "2d6a4c1e-5b7f-4e0a-9c3d-8f1e2a3b4c5d"
RG_WEB = "/subscriptions/%s/resourcegroups/rg-web" % SUB
JWT = re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")
OWNERSHIP_TAG = {"managed_identity.azure": "system-assigned-identity"}
# Two VMs for the interruption tests: web1 with no identity, app1 whose system-assigned identity is on and can read
# rg-web already (site.yml must reuse both; teardown must leave both).
PAIR = {
    "subscriptions": [
        {
            "subscription_id": SUB,
            "resource_groups": [
                {
                    "name": "rg-web",
                    "location": "westus",
                    "vms": [{"name": "web1"}, {"name": "app1", "identity": {"system_assigned": True}}],
                }
            ],
        }
    ],
    "service_principals": [{"name": "operator"}],
    "role_assignments": [
        {"principal": "operator", "role": "Owner", "scope": "/subscriptions/" + SUB},
        {"principal": "app1", "role": "Reader", "scope": "/subscriptions/%s/resourceGroups/rg-web" % SUB},
    ],
}


def with_host(inventory: dict, name: str, **host_vars) -> dict:
    hosts = inventory["all"]["children"]["azure_vms"]["hosts"]
    hosts[name] = {**next(iter(hosts.values())), **host_vars}
    return inventory


def failure(result, host: str):
    [record] = [t for t in result.tasks if t.host == host and t.failed]
    return record


def test_a_missing_vm_fails_alone_and_a_fixed_inventory_converges(run_playbook, start_emulator):
    emu = start_emulator(seed=SEEDS / "four_vms.yaml", extra_args=("--lro-delay", "0.1"))
    operator = emu.operator["object_id"]
    env = {**emu.operator_env(), "ANSIBLE_FORKS": "5"}
    ghostly = with_host(site_inventory(emu), "vmGhost", azure_resource_group="rg-web")

    result = run_playbook(SITE, inventory=ghostly, env=env)

    assert result.rc != 0
    assert {host: stats["failures"] for host, stats in result.stats.items()} == {
        "vmGhost": 1,
        "web1": 0,
        "web2": 0,
        "app1": 0,
        "db1": 0,
    }
    assert failure(result, "vmGhost").result["msg"].startswith(
        "name: virtual machine 'vmGhost' was not found in resource group 'rg-web'"
    )
    # Every real VM is enabled, granted and validated as if the ghost were not there.
    state = emu.state()
    after = vms(state)
    assert {name: vm["type"] for name, vm in after.items()} == {
        "web1": "SystemAssigned",
        "web2": "SystemAssigned, UserAssigned",
        "app1": "SystemAssigned",
        "db1": "SystemAssigned",
    }
    granted = {(a["principal_id"], a["role"]) for a in assignments(state, but=operator)}
    assert granted == {(vm["principal_id"].lower(), READER) for vm in after.values()}
    validated = {t.host for t in result.tasks if t.task.endswith("Report what the VM's identity read")}
    assert validated == {"web1", "web2", "app1", "db1"}

    # --limit re-runs just the failed host: it fails again, and nothing is written anywhere.
    emu.reset_counters()
    again = run_playbook(SITE, inventory=ghostly, env=env, limit="vmGhost")
    assert again.rc != 0 and set(again.stats) == {"vmGhost"}
    assert emu.counters("arm")["writes"] == 0

    # With the inventory fixed, a re-run changes nothing on the others.
    emu.reset_counters()
    fixed = run_playbook(SITE, inventory=site_inventory(emu), env=env).assert_ok()
    assert sum(stats["changed"] for stats in fixed.stats.values()) == 0
    assert emu.counters("arm")["writes"] == 0
    assert world(emu.state()) == world(state)


INTERRUPTIONS = {
    # kill -9 of ansible-playbook once every VM's identity is on and the grants are being attempted (ARM answers
    # them 503, so the run is stuck there): enabled, not granted.
    "killed between enable and grant": {"service": "arm", "method": "PUT", "path": "/roleAssignments/", "status": 503},
    # ARM applies the identity PATCH (identity and its record) but the reply never arrives; the client retries.
    "identity PATCH reply lost": {
        "service": "arm",
        "kind": "reply_lost",
        "method": "PATCH",
        "path": "/virtualMachines/",
        "count": 3,
    },
    # ARM creates the role assignment (with its description) but the reply never arrives; the client retries.
    "assignment PUT reply lost": {
        "service": "arm",
        "kind": "reply_lost",
        "method": "PUT",
        "path": "/roleAssignments/",
        "count": 3,
    },
}


@pytest.mark.parametrize("mode", ["system", "user_assigned"])
@pytest.mark.parametrize("interruption", list(INTERRUPTIONS))
def test_an_interrupted_site_yml_never_costs_teardown_its_record(run_playbook, start_emulator, interruption, mode):
    emu = start_emulator(seed=PAIR, extra_args=("--lro-delay", "0.1"))
    snapshot = world(emu.state())
    inventory = site_inventory(emu, enable_identity_mode=mode)
    env = {**emu.operator_env(), "ANSIBLE_FORKS": "5"}
    emu.add_fault(**INTERRUPTIONS[interruption])

    if interruption.startswith("killed"):
        killed = run_playbook(
            SITE, inventory=inventory, env=env, kill_when=lambda: emu.counters("arm")["by_status"].get("503", 0) > 0
        )
        assert killed.rc == -9
        emu.clear_faults()
        # The identities are on (and recorded), the grants never happened.
        interrupted = world(emu.state())
        assert interrupted["assignments"] == snapshot["assignments"]
        if mode == "system":
            assert {name: vm["tags"] for name, vm in interrupted["vms"].items()} == {"web1": OWNERSHIP_TAG, "app1": {}}
        else:
            assert len(interrupted["uamis"]) == 2
    else:
        run_playbook(SITE, inventory=inventory, env=env).assert_ok()
        fired = [k for k in emu.counters("arm")["by_status"] if k.startswith("reply_lost:")]
        assert fired, "the reply_lost fault never fired"
        emu.clear_faults()

    run_playbook(SITE, inventory=inventory, env=env).assert_ok()
    completed = world(emu.state())
    assert len(completed["assignments"]) > len(snapshot["assignments"])
    run_playbook(TEARDOWN, inventory=inventory, env=env).assert_ok()

    assert world(emu.state()) == snapshot


BAD_INPUTS = {
    "misspelt role": (
        {"grant_access_role": "Readr"},
        "role: no role definition named 'Readr' is available at scope /subscriptions/%s. Similar names: Reader" % SUB,
    ),
    "unknown mode": (
        {"enable_identity_mode": "sytem"},
        "enable_identity_mode",
    ),
    "missing CA file": (
        {"azure_ca_path": "/nonexistent/emulator-ca.pem"},
        "ca_path='/nonexistent/emulator-ca.pem' cannot be read",
    ),
    "exclusive role set for a shared identity": (
        {"enable_identity_mode": "shared_user_assigned", "grant_access_exclusive": True},
        "grant_access_exclusive: true is for per-VM identities",
    ),
}


@pytest.mark.parametrize("bad", list(BAD_INPUTS))
def test_bad_input_fails_every_host_before_any_write(run_playbook, start_emulator, bad):
    emu = start_emulator(seed=SEEDS / "four_vms.yaml")
    before = world(emu.state())
    extra_vars, message = BAD_INPUTS[bad]
    emu.reset_counters()

    result = run_playbook(SITE, inventory=site_inventory(emu), env=emu.operator_env(), extra_vars=extra_vars)

    assert result.rc != 0
    # A fleet-wide mistake stops every host before its first Azure call that could write (the role is resolved once,
    # run_once, so its failure is every host's; an unknown mode fails each host's argument check).
    assert not [t for t in result.tasks if "enable_identity : Enable" in t.task or "grant_access : Grant" in t.task]
    messages = {t.result.get("msg", "") for t in result.tasks if t.failed}
    assert any(message in text for text in messages), messages
    if bad == "unknown mode":
        assert any("sytem" in text and "system" in text for text in messages), messages
    assert emu.counters("arm")["writes"] == 0
    assert world(emu.state()) == before


def test_a_vm_without_its_resource_group_fails_alone_before_any_write(run_playbook, start_emulator):
    emu = start_emulator(seed=SEEDS / "four_vms.yaml")
    inventory = site_inventory(emu)
    del inventory["all"]["children"]["azure_vms"]["hosts"]["web1"]["azure_resource_group"]
    before = vms(emu.state())["web1"]

    result = run_playbook(SITE, inventory=inventory, env=emu.operator_env())

    assert result.rc != 0
    assert [host for host, stats in result.stats.items() if stats["failures"]] == ["web1"]
    assert "missing required arguments: azure_resource_group" in failure(result, "web1").result["msg"]
    assert vms(emu.state())["web1"] == before
    assert vms(emu.state())["db1"]["type"] == "SystemAssigned"


def test_no_token_reaches_the_controller(run_playbook, start_emulator):
    """After a full site.yml (at -vvv) no variable on the controller - registered results included - and no line
    of output holds a JWT: the validation's token stays on the VM."""
    emu = start_emulator(seed=SEEDS / "four_vms.yaml", extra_args=("--lro-delay", "0.1"))
    dump = {
        "name": "Dump every host's variables as the controller holds them",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Write hostvars",
                "ansible.builtin.copy": {
                    "content": "{{ hostvars | to_json }}",
                    "dest": "{{ out_dir }}/hostvars.json",
                    "mode": "0600",
                },
            }
        ],
    }

    result = run_playbook(
        [{"import_playbook": str(SITE)}, dump], inventory=site_inventory(emu), env=emu.operator_env(), verbosity=3
    ).assert_ok()

    held = result.out("hostvars")
    assert set(held) >= {"web1", "web2", "app1", "db1"}
    assert held["web1"]["validate_access_result"]["principal_id"] == vms(emu.state())["web1"]["principal_id"]
    assert not JWT.search(json.dumps(held))
    assert not JWT.search(result.output)
    # The detector does find the tokens the emulator issues.
    assert JWT.search(emu.arm_token())
