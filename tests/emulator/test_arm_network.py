"""Network interfaces, public IP addresses and VM power state in the emulator: made with every VM, listed with
paging, joined to the VM through its ``networkProfile``, as Azure answers them."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from support.emulator import RunningEmulator

SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
OTHER_SUB = "1c2e7582-2c01-4eeb-bfd4-dc0383f1a6a1"
V_NET, V_VM = "2024-05-01", "2024-11-01"
NET = "/providers/Microsoft.Network"

SEED = {
    "subscriptions": [
        {"subscription_id": SUB, "resource_groups": [
            {"name": "rg-web", "location": "westeurope", "vms": [
                {"name": "web1", "public_ip": True},
                {"name": "web2", "power_state": "deallocated"},
                {"name": "web3", "public_ip": "198.51.100.77", "private_ip": "10.9.9.9"},
            ]},
            {"name": "rg-db", "vms": [{"name": "db1", "os_type": "Windows", "power_state": "stopped"}]},
        ]},
        {"subscription_id": OTHER_SUB, "resource_groups": [{"name": "rg-x", "vms": [{"name": "x1"}]}]},
    ],
    "service_principals": [{"name": "operator"}],
    "role_assignments": [{"principal": "operator", "role": "Owner", "scope": f"/subscriptions/{SUB}"}],
}


@pytest.fixture(scope="module")
def emu(start_emulator) -> RunningEmulator:
    return start_emulator(seed=SEED)


@pytest.fixture
def get(emu: RunningEmulator):
    emu.reset()
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + emu.arm_token()

    def call(path: str, version: str | None = V_NET, **query: str) -> requests.Response:
        url = path if path.startswith("https://") else emu.arm_endpoint.rstrip("/") + path
        params = dict(query, **({"api-version": version} if version else {}))
        return session.get(url, params=params, timeout=30, verify=emu.ca_bundle)

    return call


def _all(get: Any, path: str, version: str = V_NET, **query: str) -> tuple[list[dict], int]:
    body, pages, items = get(path, version, **query).json(), 1, []
    while True:
        items += body["value"]
        if not body.get("nextLink"):
            return items, pages
        body, pages = get(body["nextLink"], None).json(), pages + 1


def test_every_vm_has_its_nic_with_deterministic_private_addresses(get: Any) -> None:
    nics, _ = _all(get, f"/subscriptions/{SUB}{NET}/networkInterfaces")
    by_name = {n["name"]: n for n in nics}
    assert sorted(by_name) == ["db1VMNic", "web1VMNic", "web2VMNic", "web3VMNic"]
    address = {name: n["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
               for name, n in by_name.items()}
    # One 10.N.0.0/16 per resource group in seed order, hosts from .4; an explicit address is kept.
    assert address == {"web1VMNic": "10.0.0.4", "web2VMNic": "10.0.0.5", "web3VMNic": "10.9.9.9",
                       "db1VMNic": "10.1.0.4"}
    web1 = by_name["web1VMNic"]
    assert web1["type"] == "Microsoft.Network/networkInterfaces" and web1["location"] == "westeurope"
    assert web1["properties"]["virtualMachine"]["id"].endswith("/virtualMachines/web1")
    assert web1["properties"]["ipConfigurations"][0]["properties"]["primary"] is True


def test_vm_network_profile_names_its_nic_and_public_ips_join(get: Any) -> None:
    vm = get(f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web1",
             V_VM).json()
    ref = vm["properties"]["networkProfile"]["networkInterfaces"][0]
    nic = get(ref["id"]).json()
    assert nic["id"] == ref["id"]
    pip_id = nic["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"]["id"]
    pip = get(pip_id).json()
    assert pip["name"] == "web1PublicIP" and pip["properties"]["ipAddress"] == "192.0.2.1"
    assert pip["properties"]["ipConfiguration"]["id"] == nic["properties"]["ipConfigurations"][0]["id"]
    pips, _ = _all(get, f"/subscriptions/{SUB}{NET}/publicIPAddresses")
    assert sorted(p["properties"]["ipAddress"] for p in pips) == ["192.0.2.1", "198.51.100.77"]
    in_group, _ = _all(get, f"/subscriptions/{SUB}/resourceGroups/rg-db{NET}/networkInterfaces")
    assert [n["name"] for n in in_group] == ["db1VMNic"]


def test_network_lists_page_with_next_link(emu: RunningEmulator, get: Any) -> None:
    emu.set_knobs(page_size=3)
    nics, pages = _all(get, f"/subscriptions/{SUB}{NET}/networkInterfaces")
    assert pages == 2 and len({n["id"] for n in nics}) == 4


def test_power_state_in_instance_view_and_status_only_list(get: Any) -> None:
    base = f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines"
    plain = get(f"{base}/web2", V_VM).json()
    assert "instanceView" not in plain["properties"]
    expanded = get(f"{base}/web2", V_VM, **{"$expand": "instanceView"}).json()
    assert [s["code"] for s in expanded["properties"]["instanceView"]["statuses"]] == [
        "ProvisioningState/succeeded", "PowerState/deallocated"]
    assert get(f"{base}/web1/instanceView", V_VM).json()["statuses"][1]["code"] == "PowerState/running"
    statuses, _ = _all(get, f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines", V_VM,
                       statusOnly="true")
    power = {v["name"]: v["properties"]["instanceView"]["statuses"][1]["code"] for v in statuses}
    assert power == {"web1": "PowerState/running", "web2": "PowerState/deallocated", "web3": "PowerState/running",
                     "db1": "PowerState/stopped"}
    # Status only: no tags, no profiles (callers join with the plain list by id).
    assert all("tags" not in v and "networkProfile" not in v["properties"] for v in statuses)


def test_reading_network_needs_rbac_and_a_known_api_version(emu: RunningEmulator, get: Any) -> None:
    # The operator has a role on SUB only.
    denied = get(f"/subscriptions/{OTHER_SUB}{NET}/networkInterfaces")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "AuthorizationFailed"
    assert "Microsoft.Network/networkInterfaces/read" in denied.json()["error"]["message"]
    bad = get(f"/subscriptions/{SUB}{NET}/publicIPAddresses", "2001-01-01")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "NoRegisteredProviderFound"
    missing = get(f"/subscriptions/{SUB}/resourceGroups/rg-web{NET}/networkInterfaces/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFound"


def test_vm_created_and_deleted_through_arm_brings_and_takes_its_nic(emu: RunningEmulator, get: Any) -> None:
    path = f"/subscriptions/{SUB}/resourceGroups/rg-db/providers/Microsoft.Compute/virtualMachines/db2"
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + emu.arm_token()
    url = emu.arm_endpoint.rstrip("/") + path
    created = session.put(url, params={"api-version": V_VM}, json={"location": "westus"}, verify=emu.ca_bundle,
                          timeout=30)
    assert created.status_code == 201, created.text
    nic = get(created.json()["properties"]["networkProfile"]["networkInterfaces"][0]["id"]).json()
    assert nic["name"] == "db2VMNic"
    assert nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] == "10.1.0.5"
    assert session.delete(url, params={"api-version": V_VM}, verify=emu.ca_bundle, timeout=30).status_code == 202
    assert nic["id"].lower() not in emu.state()["resources"]


def test_imds_network_block_matches_the_nic_and_public_ip(emu: RunningEmulator, get: Any) -> None:
    nic = get(f"/subscriptions/{SUB}/resourceGroups/rg-web{NET}/networkInterfaces/web1VMNic").json()
    response = requests.get(emu.vm("web1")["imds_endpoint"] + "/metadata/instance/network",
                            params={"api-version": "2021-02-01"}, headers={"Metadata": "true"}, timeout=10)
    assert response.status_code == 200, response.text
    (interface,) = response.json()["interface"]
    assert interface["ipv4"]["ipAddress"] == [{"privateIpAddress": "10.0.0.4", "publicIpAddress": "192.0.2.1"}]
    assert interface["ipv4"]["subnet"] == [{"address": "10.0.0.0", "prefix": "16"}]
    assert interface["macAddress"] == nic["properties"]["macAddress"].replace("-", "")


# -- unmodified Microsoft clients -----------------------------------------------------------------------------------

@pytest.fixture
def sdk(emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> dict:
    from azure.identity import ClientSecretCredential

    emu.reset()
    # requests (under azure-core and msal) reads the CA from here; the machine's default bundle would win otherwise.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emu.ca_bundle)
    monkeypatch.setenv("SSL_CERT_FILE", emu.ca_bundle)
    op = emu.operator
    credential = ClientSecretCredential(emu.tenant_id, op["client_id"], op["client_secret"],
                                        authority=emu.authority_host, disable_instance_discovery=True,
                                        connection_verify=emu.ca_bundle)
    return {"credential": credential, "subscription_id": SUB, "base_url": emu.arm_endpoint,
            "credential_scopes": ["https://management.core.windows.net//.default"],
            "connection_verify": emu.ca_bundle}


@pytest.mark.sdk
def test_power_state_through_azure_mgmt_compute(sdk: dict) -> None:
    from azure.mgmt.compute import ComputeManagementClient

    client = ComputeManagementClient(**sdk)
    states = {vm.name: [s.code for s in vm.instance_view.statuses]
              for vm in client.virtual_machines.list_all(status_only="true")}
    assert states["web2"] == ["ProvisioningState/succeeded", "PowerState/deallocated"]
    assert client.virtual_machines.instance_view("rg-db", "db1").statuses[1].display_status == "VM stopped"
    expanded = client.virtual_machines.get("rg-web", "web1", expand="instanceView")
    assert expanded.instance_view.statuses[1].code == "PowerState/running"
    assert expanded.network_profile.network_interfaces[0].id.endswith("/networkInterfaces/web1VMNic")


@pytest.mark.sdk
def test_nics_and_public_ips_through_azure_mgmt_network(sdk: dict) -> None:
    from azure.mgmt.network import NetworkManagementClient

    client = NetworkManagementClient(**sdk)
    nics = {nic.name: nic for nic in client.network_interfaces.list_all()}
    assert sorted(nics) == ["db1VMNic", "web1VMNic", "web2VMNic", "web3VMNic"]
    config = nics["web3VMNic"].ip_configurations[0]
    assert (config.private_ip_address, config.primary) == ("10.9.9.9", True)
    assert nics["web3VMNic"].virtual_machine.id.endswith("/virtualMachines/web3")
    public = client.public_ip_addresses.get("rg-web", "web3PublicIP")
    assert public.ip_address == "198.51.100.77" and public.ip_configuration.id == config.id
    assert [n.name for n in client.network_interfaces.list("rg-db")] == ["db1VMNic"]
