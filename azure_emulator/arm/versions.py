"""api-version values the emulated resource types accept: the one table, by resource type.

Source: the ``stable/`` and ``preview/`` version folders of Azure/azure-rest-api-specs, per provider:
- Microsoft.ManagedIdentity: ``specification/msi/resource-manager/Microsoft.ManagedIdentity/ManagedIdentity/
  {stable,preview}/<version>/ManagedIdentity.json`` (stable up to 2026-05-31; azure-cli 2.91 sends
  2025-05-31-preview for ``az identity``);
- Microsoft.Authorization: ``specification/authorization/resource-manager/Microsoft.Authorization/{stable,preview}/
  <version>/authorization-Role{Assignments,Definitions}Calls.json`` (stable 2015-07-01, 2020-10-01, 2022-03-01,
  2022-04-01);
- Microsoft.Compute: ``specification/compute/resource-manager/Microsoft.Compute/ComputeRP/{stable,preview}``;
- Microsoft.Resources: ``specification/resources/resource-manager/Microsoft.Resources/{stable,preview}``;
- Microsoft.Network: ``specification/network/resource-manager/Microsoft.Network/{stable,preview}``;
plus the versions the pinned Microsoft SDKs send (azure-mgmt-compute 39 sends 2026-04-01, azure-mgmt-msi 7.1 sends
2024-11-30, azure-mgmt-authorization 4.0 sends 2022-04-01, azure-mgmt-resource 26 sends 2025-04-01,
azure-mgmt-network 33.1 sends 2026-03-01), which
tests/emulator/test_arm_versions.py checks against the installed SDKs. The collection keeps its own versions, so a
mistake in one cannot hide the other.
"""

from __future__ import annotations

from . import errors

RESOURCES = (
    "2025-04-01", "2024-11-01", "2024-08-01", "2024-07-01", "2024-03-01", "2023-07-01", "2022-12-01", "2022-09-01",
    "2022-05-01", "2022-01-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-09-01", "2020-08-01", "2020-06-01",
    "2020-01-01", "2019-11-01", "2019-10-01", "2019-09-01", "2019-08-01", "2019-07-01", "2019-06-01", "2019-05-10",
    "2019-05-01", "2019-03-01", "2018-05-01", "2018-02-01", "2017-05-10", "2016-09-01", "2016-06-01", "2016-02-01",
    "2015-11-01", "2015-01-01", "2014-04-01",
)
SUBSCRIPTIONS = (
    "2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2019-06-01", "2018-06-01", "2016-06-01", "2016-01-01",
    "2015-11-01", "2015-01-01", "2014-04-01",
) + tuple(v for v in RESOURCES if v > "2022-12-01")
COMPUTE = (
    "2015-05-01-preview", "2015-06-15", "2016-03-30", "2016-04-30-preview", "2016-08-30", "2017-03-30",
    "2017-12-01", "2018-04-01", "2018-06-01", "2018-10-01", "2019-03-01", "2019-07-01", "2019-12-01", "2020-06-01",
    "2020-12-01", "2021-03-01", "2021-04-01", "2021-07-01", "2021-11-01", "2022-03-01", "2022-08-01", "2022-11-01",
    "2023-03-01", "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01", "2025-11-01",
    "2026-04-01",
)
MANAGED_IDENTITY = (
    "2015-08-31-preview", "2018-11-30", "2021-09-30-preview", "2022-01-31-preview", "2023-01-31",
    "2023-07-31-preview", "2024-11-30", "2025-01-31-preview", "2025-05-31-preview", "2026-04-30", "2026-05-31",
)
AUTHORIZATION = (
    "2014-04-01-preview", "2014-07-01-preview", "2014-10-01-preview", "2015-06-01", "2015-07-01",
    "2016-07-01", "2017-05-01", "2017-10-01-preview", "2018-01-01-preview", "2018-07-01", "2018-07-01-preview",
    "2018-09-01-preview", "2018-12-01-preview", "2019-04-01-preview", "2020-03-01-preview", "2020-04-01-preview",
    "2020-08-01-preview", "2020-10-01", "2020-10-01-preview", "2021-03-01-preview", "2021-04-01-preview",
    "2022-01-01-preview", "2022-03-01", "2022-04-01", "2022-05-01-preview", "2022-08-01-preview",
)
NETWORK = (
    "2015-06-15", "2016-03-30", "2016-06-01", "2016-09-01", "2016-12-01", "2017-03-01", "2017-06-01", "2017-08-01",
    "2017-09-01", "2017-10-01", "2017-11-01", "2018-01-01", "2018-02-01", "2018-04-01", "2018-06-01", "2018-07-01",
    "2018-08-01", "2018-10-01", "2018-11-01", "2018-12-01", "2019-02-01", "2019-04-01", "2019-06-01", "2019-07-01",
    "2019-08-01", "2019-09-01", "2019-11-01", "2019-12-01", "2020-03-01", "2020-04-01", "2020-05-01", "2020-06-01",
    "2020-07-01", "2020-08-01", "2020-11-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01", "2022-01-01",
    "2022-05-01", "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01",
    "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01", "2025-05-01",
    "2025-07-01", "2025-09-01", "2026-01-01", "2026-03-01",
)
METADATA = ("2015-01-01", "2018-01-01", "2019-05-01", "2020-06-01", "2022-09-01")

# Locations the emulated providers answer for (named in NoRegisteredProviderFound).
LOCATIONS = ("eastus", "eastus2", "westus", "westus2", "westus3", "centralus", "northeurope", "westeurope",
             "uksouth", "southeastasia", "japaneast", "australiaeast")

# Kinds: "resources" errors come from ARM itself (InvalidApiVersionParameter); "provider" errors come from the
# resource provider registration (NoRegisteredProviderFound naming the type and location).
TABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "subscriptions": ("resources", SUBSCRIPTIONS),
    "resourceGroups": ("resources", RESOURCES),
    "virtualMachines": ("provider", COMPUTE),
    "virtualMachineScaleSets": ("provider", COMPUTE),
    "locations/operations": ("provider", COMPUTE),
    "userAssignedIdentities": ("provider", MANAGED_IDENTITY),
    "identities": ("provider", MANAGED_IDENTITY),
    "roleDefinitions": ("provider", AUTHORIZATION),
    "roleAssignments": ("provider", AUTHORIZATION),
    "permissions": ("provider", AUTHORIZATION),
    "networkInterfaces": ("provider", NETWORK),
    "publicIPAddresses": ("provider", NETWORK),
    "metadata": ("resources", METADATA),
}


def check(type_name: str, version: str | None, location: str = "global") -> str:
    """Return the version, or raise Azure's 400 for a missing or unsupported one."""
    if not version:
        raise errors.missing_api_version()
    kind, supported = TABLE[type_name]
    if version in supported:
        return version
    if kind == "resources":
        raise errors.invalid_api_version(version, tuple(sorted(supported, reverse=True)))
    raise errors.no_registered_provider(location, version, type_name, supported, LOCATIONS)
