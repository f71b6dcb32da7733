"""api-versions: every resource type the emulator serves accepts the versions Azure's published REST specs list as
current, and the versions the pinned Microsoft SDKs send.

``CURRENT`` is written from the specs' version folders (azure-rest-api-specs ``specification/<service>/
resource-manager/<namespace>/{stable,preview}/<version>``), independently of ``azure_emulator/arm/versions.py``:
a type served without an entry here, or an entry the emulator's table lacks, fails.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources._configuration import ResourceManagementClientConfiguration

from azure_emulator.arm import ROUTES, versions

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"
MSI_CURRENT = {"2024-11-30", "2025-01-31-preview", "2025-05-31-preview", "2026-04-30", "2026-05-31"}
AUTHORIZATION_CURRENT = {"2015-07-01", "2020-10-01", "2022-03-01", "2022-04-01", "2022-05-01-preview",
                         "2022-08-01-preview"}
COMPUTE_CURRENT = {"2024-11-01", "2025-04-01", "2025-11-01", "2026-04-01"}
RESOURCES_CURRENT = {"2021-04-01", "2024-11-01", "2025-04-01"}
# The newest stable Microsoft.Network folders the emulator serves NICs and public IPs for, and what
# azure-mgmt-network 33.1 sends (2026-03-01).
NETWORK_CURRENT = {"2024-05-01", "2024-07-01", "2024-10-01", "2025-05-01", "2026-03-01"}
CURRENT = {
    "subscriptions": {"2022-12-01", "2024-11-01", "2025-04-01"},
    "resourceGroups": RESOURCES_CURRENT,
    "virtualMachines": COMPUTE_CURRENT,
    "virtualMachineScaleSets": COMPUTE_CURRENT,
    "locations/operations": COMPUTE_CURRENT,
    "userAssignedIdentities": MSI_CURRENT,
    "identities": MSI_CURRENT,
    "roleDefinitions": AUTHORIZATION_CURRENT,
    "roleAssignments": AUTHORIZATION_CURRENT,
    "permissions": AUTHORIZATION_CURRENT,
    "networkInterfaces": NETWORK_CURRENT,
    "publicIPAddresses": NETWORK_CURRENT,
    "metadata": {"2022-09-01"},
}


def test_every_served_type_has_its_current_versions() -> None:
    routed = {route.version_type for route in ROUTES if route.version_type is not None}
    assert routed <= set(versions.TABLE), "a route names a type missing from versions.TABLE"
    assert set(versions.TABLE) == set(CURRENT), "a served type has no list of current versions in this test"
    for type_name, wanted in CURRENT.items():
        missing = wanted - set(versions.TABLE[type_name][1])
        assert not missing, f"{type_name} lacks the current api-versions {sorted(missing)}"


def test_pinned_sdks_default_versions_are_accepted() -> None:
    sent = {
        "userAssignedIdentities": ManagedServiceIdentityClient.DEFAULT_API_VERSION,
        "roleAssignments": AuthorizationManagementClient.DEFAULT_API_VERSION,
        "resourceGroups": ResourceManagementClientConfiguration(object(), SUB).api_version,
    }
    for type_name, version in sent.items():
        assert version in versions.TABLE[type_name][1], f"{type_name} refuses the SDK's {version}"


@pytest.mark.parametrize("version", ["2025-05-31-preview", "2026-05-31"])
def test_identity_create_with_the_versions_azure_cli_and_the_newest_spec_send(emulator: Any, version: str) -> None:
    name = f"id-{uuid.uuid4().hex[:8]}"
    path = f"/subscriptions/{SUB}/resourceGroups/DevTest/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" \
        + name
    url = emulator.arm_endpoint.rstrip("/") + path
    headers = {"Authorization": f"Bearer {emulator.arm_token()}"}
    created = requests.put(url, params={"api-version": version}, json={"location": "westus"}, headers=headers,
                           verify=emulator.ca_bundle, timeout=30)
    assert created.status_code == 201, created.text
    stored = emulator.state()["resources"][path.lower()]
    assert stored["properties"]["principalId"] == created.json()["properties"]["principalId"]
