# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The azure_vms inventory plugin, loaded by Ansible's plugin loader: hosts, groups, compose, host names, the
inventory cache, and errors that name the option or the subscription. ARM is a fake client here; the emulator
tests of the same plugin are in tests/integration/test_inventory_plugin.py."""

from __future__ import annotations

import sys

import pytest
import yaml
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

NAME = "managed_identity.azure.azure_vms"
SUB = "11111111-1111-1111-1111-111111111111"
RG = "/subscriptions/%s/resourceGroups/rg-web" % SUB


def vm(name, os_type="Linux", **extra):
    return {
        "id": "%s/providers/Microsoft.Compute/virtualMachines/%s" % (RG, name),
        "name": name,
        "location": "westeurope",
        "tags": {"env": "prod", "note": "{{ lookup('pipe', 'id') }}"},
        "properties": {
            "storageProfile": {"osDisk": {"osType": os_type}},
            "networkProfile": {"networkInterfaces": [{"id": "%s/providers/Microsoft.Network/networkInterfaces/%sVMNic"
                                                            % (RG, name)}]},
        },
        **extra,
    }


def nic(name, address):
    return {"id": "%s/providers/Microsoft.Network/networkInterfaces/%sVMNic" % (RG, name),
            "properties": {"ipConfigurations": [{"properties": {"privateIPAddress": address, "primary": True}}]}}


class FakeClient:
    def __init__(self, vms, nics):
        self.vms, self.nics, self.calls = vms, nics, []

    def list(self, path, version, query=None, action=None):
        self.calls.append(path)
        if path.endswith("virtualMachines"):
            return [] if query else self.vms
        return self.nics if path.endswith("networkInterfaces") else []


@pytest.fixture(scope="module")
def plugin_module(collection_loader):
    plugin = inventory_loader.get(NAME)
    assert plugin is not None
    return sys.modules[type(plugin).__module__]


@pytest.fixture
def fake(plugin_module, monkeypatch):
    client = FakeClient([vm("web1"), vm("win1", "Windows")], [nic("web1", "10.0.0.4"), nic("win1", "10.0.0.5")])
    built = []

    def client_from_params(params, warn=None):
        built.append(params)
        return client

    monkeypatch.setattr(plugin_module, "client_from_params", client_from_params)
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    client.built = built
    return client


def parse(tmp_path, config, name="fleet.azure_vms.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    inventory = InventoryData()
    plugin = inventory_loader.get(NAME)
    assert plugin.verify_file(str(path))
    plugin.parse(inventory, DataLoader(), str(path), cache=True)
    if plugin.get_option("cache"):
        plugin.update_cache_if_changed()  # as ansible's InventoryManager does after parse
    return inventory


def test_hosts_in_azure_vms_with_keyed_groups_groups_and_compose(tmp_path, fake):
    inventory = parse(tmp_path, {
        "plugin": NAME, "subscription_ids": [SUB],
        "keyed_groups": [{"key": "azure_os_type | lower", "prefix": "os"}],
        "groups": {"tagged_prod": "azure_tags.env == 'prod'"},
        "compose": {"validate_access_delay": "1", "ansible_user": "'azureuser'"},
    })
    assert sorted(h.name for h in inventory.groups["azure_vms"].get_hosts()) == ["web1", "win1"]
    assert [h.name for h in inventory.groups["os_windows"].get_hosts()] == ["win1"]
    assert [h.name for h in inventory.groups["os_linux"].get_hosts()] == ["web1"]
    assert len(inventory.groups["tagged_prod"].get_hosts()) == 2
    web1 = inventory.hosts["web1"].get_vars()
    assert web1["azure_resource_group"] == "rg-web" and web1["azure_subscription_id"] == SUB
    assert web1["ansible_host"] == "10.0.0.4" and web1["ansible_user"] == "azureuser"
    assert web1["validate_access_delay"] == 1
    # A tag is data: it reaches the host as written, never templated.
    assert web1["azure_tags"]["note"] == "{{ lookup('pipe', 'id') }}"


def test_the_file_name_selects_the_plugin(tmp_path, plugin_module):
    path = tmp_path / "hosts.yml"
    path.write_text("plugin: %s\n" % NAME)
    assert not inventory_loader.get(NAME).verify_file(str(path))


def test_subscription_from_the_environment_and_none_is_an_error(tmp_path, fake, monkeypatch):
    with pytest.raises(AnsibleParserError, match="no subscription to list: set subscription_ids"):
        parse(tmp_path, {"plugin": NAME})
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    assert sorted(parse(tmp_path, {"plugin": NAME}).hosts) == ["web1", "win1"]
    assert fake.calls[0] == "/subscriptions/%s/providers/Microsoft.Compute/virtualMachines" % SUB


def test_templated_options_reach_the_auth_code(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("FLEET_ARM", "https://arm.example.test")
    parse(tmp_path, {"plugin": NAME, "subscription_ids": [SUB],
                     "arm_endpoint": "{{ lookup('ansible.builtin.env', 'FLEET_ARM') }}", "ca_path": "~/ca.pem"})
    assert fake.built[0]["arm_endpoint"] == "https://arm.example.test"
    assert fake.built[0]["ca_path"].endswith("/ca.pem") and not fake.built[0]["ca_path"].startswith("~")


def test_duplicate_host_names_fail_naming_both_vms(tmp_path, fake):
    fake.vms.append(vm("web1").copy() | {"id": "/subscriptions/%s/resourceGroups/rg-db/providers/"
                                               "Microsoft.Compute/virtualMachines/web1" % SUB})
    with pytest.raises(AnsibleParserError, match="two VMs have the host name 'web1'") as err:
        parse(tmp_path, {"plugin": NAME, "subscription_ids": [SUB]})
    assert "rg-db" in str(err.value) and "rg-web" in str(err.value) and "hostnames" in str(err.value)
    inventory = parse(tmp_path, {"plugin": NAME, "subscription_ids": [SUB],
                                 "hostnames": ["azure_resource_group ~ '_' ~ azure_vm_name"]})
    assert sorted(inventory.hosts) == ["rg-db_web1", "rg-web_web1", "rg-web_win1"]


def test_second_parse_with_the_cache_sends_nothing(tmp_path, fake):
    config = {"plugin": NAME, "subscription_ids": [SUB], "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
              "cache_connection": str(tmp_path / "cache")}
    first = parse(tmp_path, config)
    calls = len(fake.calls)
    assert calls == 4 and len(fake.built) == 1
    second = parse(tmp_path, config)
    assert len(fake.calls) == calls and len(fake.built) == 1  # no client, no token, no request
    assert second.hosts["win1"].get_vars()["azure_os_type"] == first.hosts["win1"].get_vars()["azure_os_type"]


def test_filters_and_host_address_apply_to_the_cached_fleet_too(tmp_path, fake):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    assert sorted(parse(tmp_path, {"plugin": NAME, "subscription_ids": [SUB], **cache}).hosts) == ["web1", "win1"]
    calls = len(fake.calls)
    narrowed = parse(tmp_path, {"plugin": NAME, "subscription_ids": [SUB], **cache,
                                "filters": {"tags": {"env": "prod"}, "resource_groups": ["RG-WEB"]}})
    assert sorted(narrowed.hosts) == ["web1", "win1"]
    none = parse(tmp_path, {"plugin": NAME, "subscription_ids": [SUB], **cache, "filters": {"locations": ["eastus"]}})
    assert list(none.hosts) == [] and len(fake.calls) == calls


def test_bad_filters_fail_before_any_request(tmp_path, fake):
    with pytest.raises(AnsibleParserError, match="filters has unknown key"):
        parse(tmp_path, {"plugin": NAME, "subscription_ids": [SUB], "filters": {"tag": {"env": "prod"}}})
    assert fake.calls == [] and fake.built == []


def test_a_template_may_give_one_subscription_as_a_string(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("FLEET_SUB", SUB)
    parse(tmp_path, {"plugin": NAME, "subscription_ids": "{{ lookup('ansible.builtin.env', 'FLEET_SUB') }}"})
    assert fake.calls[0] == "/subscriptions/%s/providers/Microsoft.Compute/virtualMachines" % SUB


def test_other_subscriptions_are_not_answered_from_the_cache(tmp_path, fake):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    parse(tmp_path, {"plugin": NAME, "subscription_ids": [SUB], **cache})
    other = "22222222-2222-2222-2222-222222222222"
    answer = fake.list
    fake.list = lambda path, *args, **kwargs: [r for r in answer(path, *args, **kwargs) if other not in path]
    parse(tmp_path, {"plugin": NAME, "subscription_ids": [SUB, other], **cache})
    assert len(fake.calls) == 12 and fake.calls[-4].startswith("/subscriptions/%s/" % other)
