"""Fidelity: unmodified Microsoft management SDKs and azure-identity against the emulator as a custom cloud.

The clients are pointed at the emulator the way Microsoft documents for sovereign/private clouds: ``base_url`` =
the ARM endpoint, ``credential_scopes`` = ARM audience + "/.default", the credential's ``authority`` = the
emulator's authority host, and the emulator's CA for TLS.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"
SCOPES = ["https://management.core.windows.net//.default"]
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


@pytest.fixture
def cloud(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> dict:
    # requests (under azure-core and msal) reads the CA from here; the machine's default bundle would win otherwise.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_bundle)
    monkeypatch.setenv("SSL_CERT_FILE", emulator.ca_bundle)
    return {"base_url": emulator.arm_endpoint, "credential_scopes": SCOPES, "connection_verify": emulator.ca_bundle}


def credential(emulator: Any, sp: dict) -> ClientSecretCredential:
    return ClientSecretCredential(emulator.tenant_id, sp["client_id"], sp["client_secret"],
                                  authority=emulator.authority_host, disable_instance_discovery=True,
                                  connection_verify=emulator.ca_bundle)


def test_resource_group_through_azure_mgmt_resource(emulator: Any, cloud: dict) -> None:
    client = ResourceManagementClient(credential(emulator, emulator.operator), SUB, **cloud)
    group = client.resource_groups.get("devtest")
    assert group.id == f"/subscriptions/{SUB}/resourceGroups/DevTest"
    assert group.location == "westus" and group.properties.provisioning_state == "Succeeded"
    with pytest.raises(ResourceNotFoundError) as caught:
        client.resource_groups.get("missing")
    assert caught.value.error.code == "ResourceGroupNotFound"


def test_role_definitions_and_assignments_through_azure_mgmt_authorization(emulator: Any, cloud: dict) -> None:
    client = AuthorizationManagementClient(credential(emulator, emulator.operator), SUB, **cloud)
    scope = f"/subscriptions/{SUB}/resourceGroups/DevTest"
    readers = list(client.role_definitions.list(scope, filter="roleName eq 'Reader'"))
    assert [r.name for r in readers] == [READER]
    assert readers[0].permissions[0].actions == ["*/read"]
    sp = emulator.create_principal(display_name="sdk-assignee")
    name = str(uuid.uuid4())
    created = client.role_assignments.create(scope, name, {
        "role_definition_id": readers[0].id, "principal_id": sp["object_id"], "principal_type": "ServicePrincipal"})
    assert created.name == name and created.scope == scope and created.principal_id == sp["object_id"]
    listed = list(client.role_assignments.list_for_scope(scope, filter=f"assignedTo('{sp['object_id']}')"))
    assert [a.name for a in listed] == [name]
    assert f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}".lower() in \
        emulator.state()["role_assignments"]
    client.role_assignments.delete(scope, name)
    assert list(client.role_assignments.list_for_scope(scope, filter=f"assignedTo('{sp['object_id']}')")) == []


def test_enable_vm_identity_through_azure_mgmt_compute_poller(emulator: Any, cloud: dict) -> None:
    emulator.set_knobs(lro_delay=0.5, retry_after=1)
    client = ComputeManagementClient(credential(emulator, emulator.operator), SUB, **cloud)
    poller = client.virtual_machines.begin_update("DevTest", "myVM", {"identity": {"type": "SystemAssigned"}})
    vm = poller.result()
    assert poller.status() == "Succeeded"
    assert vm.properties.provisioning_state == "Succeeded"
    principal_id = vm.identity.principal_id
    assert vm.identity.type == "SystemAssigned" and principal_id
    stored = emulator.state()["resources"][f"/subscriptions/{SUB}/resourcegroups/devtest/providers/"
                                           "microsoft.compute/virtualmachines/myvm"]
    assert stored["identity"]["principalId"] == principal_id
    assert any(p["object_id"] == principal_id and p["kind"] == "managed_identity"
               for p in emulator.state()["principals"])


def test_create_user_assigned_identity_through_azure_mgmt_msi(emulator: Any, cloud: dict) -> None:
    client = ManagedServiceIdentityClient(credential(emulator, emulator.operator), SUB, **cloud)
    identity = client.user_assigned_identities.create_or_update("DevTest", "sdk-identity", {"location": "westus"})
    assert identity.name == "sdk-identity" and identity.principal_id and identity.client_id
    assert identity.tenant_id == emulator.tenant_id
    principal = next(p for p in emulator.state()["principals"] if p["object_id"] == identity.principal_id)
    assert principal["client_id"] == identity.client_id
    assert client.user_assigned_identities.get("DevTest", "SDK-IDENTITY").id == identity.id


def test_forbidden_until_a_granted_role_propagates(emulator: Any, cloud: dict) -> None:
    emulator.set_knobs(propagation_delay=1.5)
    sp = emulator.create_principal(display_name="late-reader")
    newcomer = ResourceManagementClient(credential(emulator, sp), SUB, **cloud)
    with pytest.raises(HttpResponseError) as caught:
        newcomer.resource_groups.get("DevTest")
    assert caught.value.status_code == 403 and caught.value.error.code == "AuthorizationFailed"
    admin = AuthorizationManagementClient(credential(emulator, emulator.operator), SUB, **cloud)
    admin.role_assignments.create(f"/subscriptions/{SUB}", str(uuid.uuid4()), {
        "role_definition_id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        "principal_id": sp["object_id"], "principal_type": "ServicePrincipal"})
    for _ in range(50):
        try:
            group = newcomer.resource_groups.get("DevTest")
            break
        except HttpResponseError as err:
            assert err.status_code == 403
            time.sleep(0.1)
    else:
        raise AssertionError("the role never took effect")
    assert group.name == "DevTest"
