"""``GET {scope}/providers/Microsoft.Authorization/permissions``: the caller's own permissions at a scope, one entry
per permission block of each role assignment that applies there (at the scope or inherited from above), as ARM shapes
them; read with the unmodified azure-mgmt-authorization client and with plain requests (paging)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"
RG = f"/subscriptions/{SUB}/resourceGroups/DevTest"
ROLES = {"Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7", "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
         "Virtual Machine Contributor": "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"}


def assign(emulator: Any, principal_id: str, role: str, scope: str) -> None:
    url = f"{emulator.arm_endpoint}{scope.lstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    body = {"properties": {"roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                                               f"roleDefinitions/{ROLES[role]}",
                           "principalId": principal_id, "principalType": "ServicePrincipal"}}
    response = requests.put(url, params={"api-version": "2022-04-01"}, json=body, timeout=30, verify=emulator.ca_bundle,
                            headers={"Authorization": f"Bearer {emulator.arm_token()}"})
    assert response.status_code == 201, response.text


@pytest.fixture
def client_for(emulator: Any, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_bundle)

    def make(sp: dict) -> AuthorizationManagementClient:
        credential = ClientSecretCredential(emulator.tenant_id, sp["client_id"], sp["client_secret"],
                                            authority=emulator.authority_host, disable_instance_discovery=True,
                                            connection_verify=emulator.ca_bundle)
        return AuthorizationManagementClient(credential, SUB, base_url=emulator.arm_endpoint,
                                             credential_scopes=["https://management.core.windows.net//.default"],
                                             connection_verify=emulator.ca_bundle)

    return make


def test_permissions_list_one_entry_per_assignment_at_and_above_the_scope(emulator: Any, client_for) -> None:
    sp = emulator.create_principal(display_name="perm-reader")
    assign(emulator, sp["object_id"], "Reader", RG)
    assign(emulator, sp["object_id"], "Contributor", f"/subscriptions/{SUB}")
    client = client_for(sp)

    at_group = sorted((p.actions, p.not_actions, p.data_actions, p.not_data_actions)
                      for p in client.permissions.list_for_resource_group("DevTest"))
    contributor = emulator.state()["role_definitions"][ROLES["Contributor"]]["properties"]["permissions"][0]
    assert at_group == sorted([(["*/read"], [], [], []),
                               (["*"], contributor["notActions"], [], [])])
    # A resource in the group inherits both; the operator (Owner at the subscription) sees its own, not these.
    at_vm = list(client.permissions.list_for_resource("DevTest", "Microsoft.Compute", "", "virtualMachines", "myVM"))
    assert len(at_vm) == 2
    owner = list(client_for(emulator.operator).permissions.list_for_resource_group("DevTest"))
    assert [(p.actions, p.not_actions) for p in owner] == [(["*"], [])]


def test_permissions_page_with_next_link_and_need_no_role(emulator: Any) -> None:
    sp = emulator.create_principal(display_name="perm-pages")
    for role in ROLES:
        assign(emulator, sp["object_id"], role, RG)
    emulator.set_knobs(page_size=2)
    token = emulator.arm_token(sp)
    url = f"{emulator.arm_endpoint}{RG.lstrip('/')}/providers/Microsoft.Authorization/permissions"
    params: Any = {"api-version": "2022-04-01"}
    pages = []
    while url:
        body = requests.get(url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30,
                            verify=emulator.ca_bundle).json()
        pages.append(body["value"])
        url, params = body.get("nextLink"), None
    assert [len(p) for p in pages] == [2, 1]
    assert all(set(entry) == {"actions", "notActions", "dataActions", "notDataActions"} for p in pages for entry in p)
    # A principal with no role at all may still ask: the answer is an empty list, not 403.
    nobody = emulator.create_principal(display_name="perm-none")
    empty = requests.get(f"{emulator.arm_endpoint}{RG.lstrip('/')}/providers/Microsoft.Authorization/permissions",
                         params={"api-version": "2022-04-01"}, timeout=30, verify=emulator.ca_bundle,
                         headers={"Authorization": f"Bearer {emulator.arm_token(nobody)}"})
    assert empty.status_code == 200 and empty.json()["value"] == []
