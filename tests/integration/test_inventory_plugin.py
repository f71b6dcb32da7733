# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The azure_vms inventory plugin against the emulator: real ``ansible-inventory`` and ``ansible-playbook`` runs.

- ``ansible-inventory --list`` on a world of two subscriptions gives exactly the expected hosts, host variables and
  groups, with playbooks/inventory/emulator/ as shipped;
- site.yml runs from that inventory alone, and the emulator's end state is exact;
- the emulator's request counters prove four list calls per subscription plus their extra pages, for 10 and for
  500 VMs alike, and no ARM request at all for a second run with the inventory cache on;
- a subscription the operator cannot read fails the inventory naming it, or is skipped with a warning.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from site_world import READER, SITE, assignments, vms
from support.ansible import ansible_env, plain

pytestmark = [pytest.mark.emulator]

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "playbooks" / "inventory" / "emulator" / "demo.azure_vms.yml"
SUB_A = "3f5a6b7c-8d9e-4f01-a2b3-c4d5e6f7a8b9"
SUB_B = "4a6b7c8d-9e0f-4a12-b3c4-d5e6f7a8b9c0"
SEED = {
    "subscriptions": [
        {"subscription_id": SUB_A, "display_name": "Production", "resource_groups": [
            {"name": "rg-web", "location": "westeurope", "user_assigned_identities": [{"name": "id-app"}], "vms": [
                {"name": "web1", "public_ip": True, "tags": {"env": "prod", "role": "web"}},
                {"name": "web2", "tags": {"env": "prod", "role": "web"},
                 "identity": {"user_assigned": ["id-app"]}},
            ]},
            {"name": "rg-win", "location": "northeurope", "vms": [
                {"name": "win1", "os_type": "Windows", "size": "Standard_D2s_v5", "tags": {"env": "prod"}},
            ]},
        ]},
        {"subscription_id": SUB_B, "display_name": "Development", "resource_groups": [
            {"name": "rg-dev", "location": "eastus", "vms": [
                {"name": "dev1", "tags": {"env": "dev"}, "identity": {"system_assigned": True}},
                {"name": "win-dev", "os_type": "Windows", "power_state": "deallocated"},
            ]},
        ]},
    ],
    # The auditor can read the production subscription only.
    "service_principals": [{"name": "operator"}, {"name": "auditor"}],
    "role_assignments": [
        {"principal": "operator", "role": "Owner", "scope": f"/subscriptions/{SUB_A}"},
        {"principal": "operator", "role": "Owner", "scope": f"/subscriptions/{SUB_B}"},
        {"principal": "auditor", "role": "Reader", "scope": f"/subscriptions/{SUB_A}"},
    ],
}


class Inventory:
    """ansible-inventory with the harness's clean environment, the operator's credentials and the ready file."""

    def __init__(self, emu, tmp_path: Path, principal: str = "operator") -> None:
        self.emu = emu
        self.tmp_path = tmp_path
        self.secret = emu.service_principal(principal)["client_secret"]
        ready = tmp_path / "ready.json"
        ready.write_text(json.dumps(emu.info))
        credentials = {**emu.operator_env(), "AZURE_CLIENT_ID": emu.service_principal(principal)["client_id"],
                       "AZURE_CLIENT_SECRET": self.secret, "AZURE_EMULATOR_READY_FILE": str(ready)}
        self.extra_env = credentials
        self.env = ansible_env(tmp_path, tmp_path / "results.jsonl", credentials)

    def config(self, name: str = "test.azure_vms.yml", **options) -> Path:
        path = self.tmp_path / name
        path.write_text(yaml.safe_dump({"plugin": "managed_identity.azure.azure_vms", "arm_endpoint":
                                        self.emu.arm_endpoint, "ca_path": self.emu.ca_bundle, **options}))
        return path

    def run(self, source: Path, *args: str) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(source), *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=300, check=False)

    def list(self, source: Path) -> dict:
        done = self.run(source, "--list")
        assert done.returncode == 0, done.stdout + done.stderr
        return plain(json.loads(done.stdout))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from support.emulator import RunningEmulator

    emu = RunningEmulator.start(seed=SEED)
    yield emu
    emu.stop()


@pytest.fixture
def inventory(world, tmp_path):
    world.reset()
    return Inventory(world, tmp_path)


def arm_lists(emu) -> dict:
    """ARM requests by route, as the emulator counted them."""
    return emu.counters("arm")["by_route"]


def test_list_gives_exactly_the_fleet_with_hostvars_and_groups(inventory, world):
    state = world.state()
    listed = inventory.list(SHIPPED)
    hostvars = listed["_meta"]["hostvars"]
    assert sorted(hostvars) == ["dev1", "web1", "web2", "win-dev", "win1"]
    assert sorted(listed["azure_vms"]["hosts"]) == sorted(hostvars)
    assert sorted(listed["os_windows"]["hosts"]) == ["win-dev", "win1"]
    assert sorted(listed["os_linux"]["hosts"]) == ["dev1", "web1", "web2"]

    ready = {vm["name"]: vm for vm in world.info["vms"]}
    uami_id = next(r["id"] for r in state["resources"].values() if r["name"] == "id-app")
    uami = state["resources"][uami_id.lower()]["properties"]
    web2 = hostvars["web2"]
    assert web2 == {
        # What site.yml's roles read, named as they read it.
        "azure_vm_name": "web2",
        "azure_resource_group": "rg-web",
        "azure_subscription_id": SUB_A,
        "azure_resource_id": ready["web2"]["id"],
        "azure_vm_id": ready["web2"]["vm_id"],
        "azure_location": "westeurope",
        "azure_vm_size": "Standard_DS1_v2",
        "azure_os_type": "Linux",
        "azure_computer_name": "web2",
        "azure_provisioning_state": "Succeeded",
        "azure_power_state": "running",
        "azure_tags": {"env": "prod", "role": "web"},
        "azure_identity": {"type": "UserAssigned", "principal_id": None, "tenant_id": None, "user_assigned": [
            {"id": uami_id, "name": "id-app", "client_id": uami["clientId"], "principal_id": uami["principalId"]}]},
        "azure_private_ips": ["10.0.0.5"],
        "azure_public_ips": [],
        "azure_private_ip": "10.0.0.5",
        "azure_public_ip": None,
        "ansible_host": "10.0.0.5",
        # From the shipped config's compose and its group_vars.
        "validate_access_imds_endpoint": ready["web2"]["imds_endpoint"],
        "validate_access_vm_extension_endpoint": ready["web2"]["vm_extension_endpoint"],
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "validate_access_delay": 1,
        "validate_access_timeout": 60,
        "demo_emulator": "{{ lookup('ansible.builtin.file', lookup('ansible.builtin.env', "
                         "'AZURE_EMULATOR_READY_FILE')) | from_json }}",
        "azure_arm_endpoint": "{{ demo_emulator.arm_endpoint }}",
        "azure_authority_host": "{{ demo_emulator.authority_host }}",
        "azure_ca_path": "{{ demo_emulator.ca_bundle }}",
    }
    assert hostvars["web1"]["azure_public_ips"] == ["192.0.2.1"] and hostvars["web1"]["ansible_host"] == "10.0.0.4"
    assert (hostvars["win1"]["azure_private_ip"], hostvars["win1"]["azure_os_type"]) == ("10.1.0.4", "Windows")
    assert hostvars["win1"]["azure_vm_size"] == "Standard_D2s_v5"
    assert hostvars["win-dev"]["azure_power_state"] == "deallocated"
    assert hostvars["win-dev"]["azure_subscription_id"] == SUB_B and hostvars["dev1"]["azure_location"] == "eastus"
    dev1 = next(r for r in state["resources"].values() if r["name"] == "dev1")
    assert hostvars["dev1"]["azure_identity"] == {"type": "SystemAssigned", "user_assigned": [],
                                                  "principal_id": dev1["identity"]["principalId"],
                                                  "tenant_id": world.tenant_id}


def test_filters_public_addresses_and_groups(inventory):
    config = inventory.config(
        subscription_ids=[SUB_A, SUB_B],
        filters={"tags": {"env": "prod"}, "locations": ["West Europe", "northeurope"]},
        host_address="public_ip",
        groups={"with_public_ip": "azure_public_ip is not none"},
        keyed_groups=[{"key": "azure_tags.role | default('none')", "prefix": "role"}],
    )
    listed = inventory.list(config)
    assert sorted(listed["azure_vms"]["hosts"]) == ["web1", "web2", "win1"]
    assert listed["with_public_ip"]["hosts"] == ["web1"]
    assert sorted(listed["role_web"]["hosts"]) == ["web1", "web2"] and listed["role_none"]["hosts"] == ["win1"]
    assert {h: v["ansible_host"] for h, v in listed["_meta"]["hostvars"].items()} == {
        "web1": "192.0.2.1", "web2": "10.0.0.5", "win1": "10.1.0.4"}


def test_unreadable_subscription_fails_by_name_or_is_skipped_with_a_warning(world, tmp_path):
    world.reset()
    auditor = Inventory(world, tmp_path, principal="auditor")
    failing = auditor.config(subscription_ids=[SUB_A, SUB_B])
    done = auditor.run(failing, "--list")
    output = " ".join((done.stdout + done.stderr).split())
    # ansible-inventory reports the source as unparsable and lists none of its hosts: never a partial fleet.
    assert "Failed to list the virtual machines of subscription %s (HTTP 403, AuthorizationFailed)" % SUB_B in output
    assert json.loads(done.stdout)["_meta"]["hostvars"] == {}
    assert auditor.secret not in output

    skipping = auditor.config("skip.azure_vms.yml", subscription_ids=[SUB_A, SUB_B], on_subscription_error="skip")
    done = auditor.run(skipping, "--list")
    assert done.returncode == 0, done.stderr
    assert "subscription %s skipped, its VMs are not in the inventory" % SUB_B in " ".join(done.stderr.split())
    assert sorted(json.loads(done.stdout)["azure_vms"]["hosts"]) == ["web1", "web2", "win1"]


def test_throttling_and_server_errors_are_retried_and_a_list_that_keeps_failing_fails(inventory, world):
    world.add_fault(service="arm", kind="status", status=429, retry_after=1, count=2, path="networkInterfaces")
    world.add_fault(service="arm", kind="status", status=503, count=1, path="publicIPAddresses")
    config = inventory.config(subscription_ids=[SUB_A, SUB_B])
    world.reset_counters()
    assert len(inventory.list(config)["azure_vms"]["hosts"]) == 5  # the whole fleet, after the retries
    counted = world.counters("arm")
    assert counted["by_status"] == {"200": 8, "429": 2, "503": 1}

    # Still failing after max_wait: no inventory at all rather than one without SUB_B's network.
    world.add_fault(service="arm", kind="status", status=503, path=SUB_B + "/providers/Microsoft.Network/network")
    failing = inventory.config("failing.azure_vms.yml", subscription_ids=[SUB_A, SUB_B], max_wait=2)
    done = inventory.run(failing, "--list")
    assert "Failed to list the network interfaces of subscription %s (HTTP 503" % SUB_B in " ".join(
        done.stderr.split())
    assert json.loads(done.stdout)["_meta"]["hostvars"] == {}


def test_second_run_with_the_cache_makes_no_arm_request(inventory, world):
    config = inventory.config(subscription_ids=[SUB_A, SUB_B], cache=True, cache_plugin="ansible.builtin.jsonfile",
                              cache_connection=str(inventory.tmp_path / "cache"), cache_timeout=600)
    world.reset_counters()
    first = inventory.list(config)
    assert world.counters("arm")["requests"] == 8
    world.reset_counters()
    second = inventory.list(config)
    assert second == first
    counters = world.counters()
    assert counters["by_service"].get("arm", 0) == 0 and counters["by_service"].get("entra", 0) == 0
    # --flush-cache reads Azure again.
    done = inventory.run(config, "--list", "--flush-cache")
    assert done.returncode == 0 and world.counters("arm")["requests"] == 8


def _fleet_seed(count: int) -> dict:
    return {
        "subscriptions": [{"subscription_id": SUB_A, "resource_groups": [
            {"name": "rg-fleet", "vms": [{"name": "vm%04d" % i, "public_ip": i % 5 == 0} for i in range(count)]}]}],
        "service_principals": [{"name": "operator"}],
        "role_assignments": [{"principal": "operator", "role": "Reader", "scope": f"/subscriptions/{SUB_A}"}],
    }


@pytest.mark.slow
@pytest.mark.parametrize("count", [10, 500])
def test_request_count_is_four_lists_plus_pages_whatever_the_fleet_size(count, start_emulator, tmp_path):
    emu = start_emulator(seed=_fleet_seed(count))
    page_size = 100
    emu.set_knobs(page_size=page_size)
    inventory = Inventory(emu, tmp_path)
    emu.reset_counters()
    listed = inventory.list(inventory.config(subscription_ids=[SUB_A]))
    assert len(listed["azure_vms"]["hosts"]) == count
    assert sum(1 for v in listed["_meta"]["hostvars"].values() if v["azure_public_ip"]) == math.ceil(count / 5)

    pages = math.ceil(count / page_size)
    pip_pages = math.ceil(math.ceil(count / 5) / page_size)
    by_route = arm_lists(emu)
    assert by_route == {
        # the VMs, then their power states (statusOnly=true): same route, one request per page each
        "GET /subscriptions/{sub}/providers/Microsoft.Compute/{kind}": 2 * pages,
        "GET /subscriptions/{sub}/providers/Microsoft.Network/{kind}": pages + pip_pages,
    }
    # Four list calls, each followed through its pages: 4 for 10 VMs, 16 for 500, never one per VM.
    assert sum(by_route.values()) == (4 if count <= page_size else 3 * pages + pip_pages)


@pytest.mark.slow
def test_site_runs_from_the_plugin_inventory_alone(inventory, world, run_playbook):
    operator = world.operator["object_id"]
    run_playbook(SITE, inventory=SHIPPED, env=inventory.extra_env).assert_ok()

    state = world.state()
    after = vms(state)
    assert {name: vm["type"] for name, vm in after.items()} == {
        "web1": "SystemAssigned", "web2": "SystemAssigned, UserAssigned", "win1": "SystemAssigned",
        "dev1": "SystemAssigned", "win-dev": "SystemAssigned"}
    rg = {"web1": ("rg-web", SUB_A), "web2": ("rg-web", SUB_A), "win1": ("rg-win", SUB_A), "dev1": ("rg-dev", SUB_B),
          "win-dev": ("rg-dev", SUB_B)}
    expected = [{"principal_id": after[name]["principal_id"].lower(), "role": READER,
                 "scope": ("/subscriptions/%s/resourcegroups/%s" % (sub, group)).lower()}
                for name, (group, sub) in rg.items()]
    # One Reader assignment per VM identity on its own resource group: exactly once each, nothing else.
    auditor = world.service_principal("auditor")["object_id"].lower()
    made = [a for a in assignments(state, but=operator) if a["principal_id"] != auditor]
    assert made == sorted(expected, key=lambda a: (a["scope"], a["principal_id"]))
