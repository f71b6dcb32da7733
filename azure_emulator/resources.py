"""ARM JSON for the resources a seed declares, shaped like Azure's GET responses."""

from __future__ import annotations

import time
from typing import Any

COMPUTE = "Microsoft.Compute"
NETWORK = "Microsoft.Network"
MSI = "Microsoft.ManagedIdentity"
AUTH = "Microsoft.Authorization"

_IMAGES = {
    "windows": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-azure-edition",
                "version": "latest", "exactVersion": "20348.2762.241006"},
    "linux": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest",
              "exactVersion": "24.04.202409120"},
}


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e7):07d}+00:00"


def rg_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def resource_group(sub: str, name: str, location: str, tags: dict | None) -> dict:
    return {"id": rg_id(sub, name), "name": name, "type": "Microsoft.Resources/resourceGroups",
            "location": location, "tags": tags or {}, "properties": {"provisioningState": "Succeeded"}}


def uami(sub: str, rg: str, name: str, location: str, tenant_id: str, client_id: str, principal_id: str,
         tags: dict | None = None) -> dict:
    # Azure returns UAMI ids with lower-case 'resourcegroups' (msi spec IdentityCreate.json, real xms_mirid).
    return {"id": f"/subscriptions/{sub}/resourcegroups/{rg}/providers/{MSI}/userAssignedIdentities/{name}",
            "name": name, "type": f"{MSI}/userAssignedIdentities", "location": location, "tags": tags or {},
            "properties": {"tenantId": tenant_id, "principalId": principal_id, "clientId": client_id}}


def identity_block(tenant_id: str, system_principal_id: str | None, user_assigned: dict[str, dict]) -> dict | None:
    """Azure's ``identity`` property: type is one of the four strings Azure uses."""
    if system_principal_id and user_assigned:
        kind = "SystemAssigned, UserAssigned"
    elif system_principal_id:
        kind = "SystemAssigned"
    elif user_assigned:
        kind = "UserAssigned"
    else:
        return None
    block: dict[str, Any] = {"type": kind}
    if system_principal_id:
        block["principalId"] = system_principal_id
        block["tenantId"] = tenant_id
    if user_assigned:
        block["userAssignedIdentities"] = user_assigned
    return block


def _os_profile(name: str, os_type: str) -> dict:
    profile: dict[str, Any] = {"computerName": name[:15], "adminUsername": "azureuser", "secrets": [],
                               "allowExtensionOperations": True, "requireGuestProvisionSignal": True}
    if os_type == "windows":
        profile["windowsConfiguration"] = {
            "provisionVMAgent": True, "enableAutomaticUpdates": True,
            "patchSettings": {"patchMode": "AutomaticByOS", "assessmentMode": "ImageDefault"}}
    else:
        profile["linuxConfiguration"] = {
            "disablePasswordAuthentication": True, "provisionVMAgent": True,
            "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys",
                                    "keyData": "ssh-rsa AAAAB3NzaC1yc2E= emulator"}]},
            "patchSettings": {"patchMode": "ImageDefault", "assessmentMode": "ImageDefault"}}
    return profile


def virtual_machine(sub: str, rg: str, name: str, location: str, os_type: str, size: str, vm_id: str,
                    created: float, identity: dict | None, tags: dict | None = None) -> dict:
    os_key = os_type.lower()
    disk_name = f"{name}_OsDisk_1_{vm_id.replace('-', '')}"
    vm: dict[str, Any] = {
        "id": f"{rg_id(sub, rg)}/providers/{COMPUTE}/virtualMachines/{name}",
        "name": name, "type": f"{COMPUTE}/virtualMachines", "location": location, "tags": tags or {},
        "etag": '"1"',
        "properties": {
            "vmId": vm_id,
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {
                "imageReference": dict(_IMAGES[os_key]),
                "osDisk": {"osType": "Windows" if os_key == "windows" else "Linux", "name": disk_name,
                           "createOption": "FromImage", "caching": "ReadWrite",
                           "managedDisk": {"storageAccountType": "Premium_LRS",
                                           "id": f"{rg_id(sub, rg)}/providers/{COMPUTE}/disks/{disk_name}"},
                           "deleteOption": "Delete", "diskSizeGB": 127 if os_key == "windows" else 30},
                "dataDisks": [], "diskControllerType": "SCSI"},
            "osProfile": _os_profile(name, os_key),
            # As Azure returns a NIC attached at creation with a delete option (az vm create, the portal).
            "networkProfile": {"networkInterfaces": [
                {"id": nic_id(sub, rg, name), "properties": {"deleteOption": "Delete"}}]},
            "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
            "provisioningState": "Succeeded",
            "timeCreated": iso(created),
        },
    }
    if identity:
        vm["identity"] = identity
    return vm


def scale_set(sub: str, rg: str, name: str, location: str, os_type: str, size: str, capacity: int,
              unique_id: str, created: float, identity: dict | None, tags: dict | None = None) -> dict:
    os_key = os_type.lower()
    profile = _os_profile(name, os_key)
    profile["computerNamePrefix"] = profile.pop("computerName")[:9]
    vmss: dict[str, Any] = {
        "id": f"{rg_id(sub, rg)}/providers/{COMPUTE}/virtualMachineScaleSets/{name}",
        "name": name, "type": f"{COMPUTE}/virtualMachineScaleSets", "location": location, "tags": tags or {},
        "etag": '"1"',
        "sku": {"name": size, "tier": "Standard", "capacity": capacity},
        "properties": {
            "singlePlacementGroup": True, "orchestrationMode": "Uniform",
            "upgradePolicy": {"mode": "Manual"},
            "virtualMachineProfile": {
                "osProfile": profile,
                "storageProfile": {
                    "imageReference": dict(_IMAGES[os_key]),
                    "osDisk": {"osType": "Windows" if os_key == "windows" else "Linux", "createOption": "FromImage",
                               "caching": "ReadWrite", "managedDisk": {"storageAccountType": "Premium_LRS"},
                               "diskSizeGB": 127 if os_key == "windows" else 30}},
            },
            "provisioningState": "Succeeded", "overprovision": True, "uniqueId": unique_id,
            "timeCreated": iso(created),
        },
    }
    if identity:
        vmss["identity"] = identity
    return vmss


def nic_id(sub: str, rg: str, vm_name: str) -> str:
    """The NIC ``az vm create`` makes for a VM ("<vm>VMNic")."""
    return f"{rg_id(sub, rg)}/providers/{NETWORK}/networkInterfaces/{vm_name}VMNic"


def network_interface(nic_resource_id: str, location: str, vm_resource_id: str, private_ip: str, subnet_id: str,
                      mac: str, resource_guid: str, public_ip_id: str | None = None, tags: dict | None = None) -> dict:
    """A NIC as GET/list answer it (network spec NetworkInterfaceGet.json shape)."""
    name = nic_resource_id.rsplit("/", 1)[-1]
    etag = f'W/"{resource_guid}"'
    ip_config: dict[str, Any] = {
        "name": "ipconfig1", "id": f"{nic_resource_id}/ipConfigurations/ipconfig1", "etag": etag,
        "type": f"{NETWORK}/networkInterfaces/ipConfigurations",
        "properties": {"provisioningState": "Succeeded", "privateIPAddress": private_ip,
                       "privateIPAllocationMethod": "Dynamic", "subnet": {"id": subnet_id}, "primary": True,
                       "privateIPAddressVersion": "IPv4"}}
    if public_ip_id:
        ip_config["properties"]["publicIPAddress"] = {"id": public_ip_id}
    return {
        "name": name, "id": nic_resource_id, "etag": etag, "type": f"{NETWORK}/networkInterfaces",
        "location": location, "tags": tags or {}, "kind": "Regular",
        "properties": {
            "provisioningState": "Succeeded", "resourceGuid": resource_guid, "ipConfigurations": [ip_config],
            "dnsSettings": {"dnsServers": [], "appliedDnsServers": []}, "macAddress": mac,
            "vnetEncryptionSupported": False, "enableAcceleratedNetworking": False, "enableIPForwarding": False,
            "disableTcpStateTracking": False, "primary": True, "virtualMachine": {"id": vm_resource_id},
            "hostedWorkloads": [], "tapConfigurations": [], "nicType": "Standard", "allowPort25Out": True,
            "auxiliaryMode": "None", "auxiliarySku": "None"},
    }


def public_ip_address(pip_resource_id: str, location: str, address: str, ip_config_id: str, resource_guid: str,
                      tags: dict | None = None) -> dict:
    """A Standard static public IP as GET/list answer it (network spec PublicIpAddressGet.json shape)."""
    return {
        "name": pip_resource_id.rsplit("/", 1)[-1], "id": pip_resource_id, "etag": f'W/"{resource_guid}"',
        "type": f"{NETWORK}/publicIPAddresses", "location": location, "tags": tags or {},
        "sku": {"name": "Standard", "tier": "Regional"},
        "properties": {"provisioningState": "Succeeded", "resourceGuid": resource_guid, "ipAddress": address,
                       "publicIPAddressVersion": "IPv4", "publicIPAllocationMethod": "Static",
                       "idleTimeoutInMinutes": 4, "ipTags": [], "ipConfiguration": {"id": ip_config_id},
                       "ddosSettings": {"protectionMode": "VirtualNetworkInherited"}},
    }


def role_definition_id(scope: str, role_guid: str) -> str:
    """Assignments inside a subscription name their role by a subscription-level id, as Azure returns them."""
    parts = scope.split("/")
    if len(parts) > 2 and parts[1].lower() == "subscriptions":
        return f"/subscriptions/{parts[2]}/providers/{AUTH}/roleDefinitions/{role_guid}"
    return f"/providers/{AUTH}/roleDefinitions/{role_guid}"


def role_assignment(scope: str, assignment_guid: str, role_guid: str, principal_id: str, created: float,
                    principal_type: str = "ServicePrincipal", description: str | None = None) -> dict:
    # Microsoft.Authorization writes UTC with "Z" ("2022-01-15T21:08:45.4904312Z"), as assignments made through ARM.
    stamp = iso(created).removesuffix("+00:00") + "Z"
    return {
        "id": f"{scope.rstrip('/')}/providers/{AUTH}/roleAssignments/{assignment_guid}",
        "type": f"{AUTH}/roleAssignments", "name": assignment_guid,
        "properties": {
            "roleDefinitionId": role_definition_id(scope, role_guid), "principalId": principal_id,
            "principalType": principal_type, "scope": scope.rstrip("/") or "/", "condition": None,
            "conditionVersion": None, "createdOn": stamp, "updatedOn": stamp, "createdBy": None,
            "updatedBy": None, "delegatedManagedIdentityResourceId": None, "description": description},
    }


def custom_role(role_guid: str, role_name: str, description: str, scopes: list[str], permissions: dict,
                created: float) -> dict:
    stamp = iso(created)
    return {
        "id": f"/providers/{AUTH}/roleDefinitions/{role_guid}", "type": f"{AUTH}/roleDefinitions",
        "name": role_guid,
        "properties": {"roleName": role_name, "type": "CustomRole", "description": description,
                       "assignableScopes": scopes, "permissions": [permissions],
                       "createdOn": stamp, "updatedOn": stamp, "createdBy": None, "updatedBy": None},
    }
