"""ARM routes of the emulator: status codes, bodies and headers as Azure answers, checked against the emulator's
state through its control endpoint."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"
RG = f"/subscriptions/{SUB}/resourceGroups/DevTest"
VM = f"{RG}/providers/Microsoft.Compute/virtualMachines/myVM"
UAMI_BASE = f"/subscriptions/{SUB}/resourcegroups/DevTest/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
AUTHZ = "/providers/Microsoft.Authorization"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
VM_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
MI_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
V_RG, V_VM, V_MSI, V_AUTH = "2021-04-01", "2024-11-01", "2023-01-31", "2022-04-01"


class Arm:
    """A tiny ARM client: bearer token, CA bundle, api-version added unless given."""

    def __init__(self, emu: Any, token: str | None) -> None:
        self.emu = emu
        self.base = emu.arm_endpoint.rstrip("/")
        self.session = requests.Session()
        self.session.verify = emu.ca_bundle
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, version: str | None = None, body: Any = None,
             headers: dict | None = None, **query: str) -> requests.Response:
        params = dict(query)
        if version:
            params["api-version"] = version
        url = path if path.startswith("https://") else self.base + path
        return self.session.request(method, url, params=params, json=body, headers=headers, timeout=30,
                                    verify=self.emu.ca_bundle)


@pytest.fixture
def arm(emulator: Any) -> Arm:
    return Arm(emulator, emulator.arm_token())


def new_principal(emulator: Any) -> tuple[dict, Arm]:
    sp = emulator.create_principal(display_name=f"app-{uuid.uuid4().hex[:6]}")
    return sp, Arm(emulator, emulator.arm_token(sp))


def grant(arm: Arm, scope: str, role: str, principal_id: str) -> dict:
    name = str(uuid.uuid4())
    r = arm.call("PUT", f"{scope}{AUTHZ}/roleAssignments/{name}", V_AUTH, {
        "properties": {"roleDefinitionId": f"/subscriptions/{SUB}{AUTHZ}/roleDefinitions/{role}",
                       "principalId": principal_id, "principalType": "ServicePrincipal"}})
    assert r.status_code == 201, r.text
    return r.json()


def create_uami(arm: Arm, name: str) -> dict:
    r = arm.call("PUT", f"{UAMI_BASE}/{name}", V_MSI, {"location": "westus", "tags": {"k": "v"}})
    assert r.status_code == 201, r.text
    return r.json()


def wait_lro(arm: Arm, response: requests.Response) -> dict:
    url = response.headers["Azure-AsyncOperation"]
    for _ in range(100):
        status = arm.call("GET", url).json()
        if status["status"] != "InProgress":
            return status
        time.sleep(0.1)
    raise AssertionError("operation never finished")


def error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


# -- general ARM behaviour ------------------------------------------------------------------------------------------

def test_resource_group_get_is_case_insensitive_and_returns_stored_casing(arm: Arm) -> None:
    r = arm.call("GET", f"/SUBSCRIPTIONS/{SUB}/resourcegroups/devtest", V_RG)
    assert r.status_code == 200
    assert r.json() == {"id": RG, "name": "DevTest", "type": "Microsoft.Resources/resourceGroups",
                        "location": "westus", "tags": {}, "properties": {"provisioningState": "Succeeded"}}


def test_api_version_missing_and_unsupported(arm: Arm) -> None:
    assert error(arm.call("GET", RG)) == (
        400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all "
                                           "requests.")
    status, code, message = error(arm.call("GET", RG, "2099-01-01"))
    assert (status, code) == (400, "InvalidApiVersionParameter")
    assert message.startswith("The api-version '2099-01-01' is invalid. The supported versions are '2025-04-01,")
    status, code, message = error(arm.call("GET", VM, "2010-01-01"))
    assert (status, code) == (400, "NoRegisteredProviderFound")
    assert message.startswith("No registered resource provider found for location 'westus' and API version "
                              "'2010-01-01' for type 'virtualMachines'. The supported api-versions are '")
    assert "2024-11-01" in message


def test_not_found_bodies(arm: Arm) -> None:
    assert error(arm.call("GET", f"/subscriptions/{SUB}/resourceGroups/Nope", V_RG)) == (
        404, "ResourceGroupNotFound", "Resource group 'Nope' could not be found.")
    assert error(arm.call("GET", f"{RG}/providers/Microsoft.Compute/virtualMachines/ghost", V_VM)) == (
        404, "ResourceNotFound", "The Resource 'Microsoft.Compute/virtualMachines/ghost' under resource group "
                                 "'DevTest' was not found. For more details please go to "
                                 "https://aka.ms/ARMResourceNotFoundFix")
    assert error(arm.call("GET", f"/subscriptions/{SUB}/resourceGroups/Nope/providers/Microsoft.Compute/"
                                 "virtualMachines/x", V_VM))[1] == "ResourceGroupNotFound"
    assert error(arm.call("GET", f"/subscriptions/{uuid.uuid4()}/resourceGroups/x", V_RG))[1] == \
        "SubscriptionNotFound"


def test_request_ids_correlation_and_rate_limit_headers(arm: Arm) -> None:
    r = arm.call("GET", RG, V_RG, headers={"x-ms-correlation-request-id": "corr-1",
                                           "x-ms-client-request-id": "client-1"})
    assert r.headers["x-ms-correlation-request-id"] == "corr-1"
    assert r.headers["x-ms-client-request-id"] == "client-1"
    uuid.UUID(r.headers["x-ms-request-id"])
    assert int(r.headers["x-ms-ratelimit-remaining-subscription-reads"]) > 0
    other = arm.call("GET", RG, V_RG)
    assert other.headers["x-ms-request-id"] != r.headers["x-ms-request-id"]


def test_list_pages_with_next_link(emulator: Any, arm: Arm) -> None:
    for i in range(3):
        assert arm.call("PUT", f"/subscriptions/{SUB}/resourceGroups/rg{i}", V_RG,
                        {"location": "eastus"}).status_code == 201
    emulator.set_knobs(page_size=2)
    names, url, pages = [], f"/subscriptions/{SUB}/resourcegroups", 0
    body = arm.call("GET", url, V_RG).json()
    while True:
        pages += 1
        names += [g["name"] for g in body["value"]]
        if "nextLink" not in body:
            break
        assert "%24skiptoken=" in body["nextLink"] or "$skiptoken=" in body["nextLink"]
        body = arm.call("GET", body["nextLink"]).json()
    assert pages == 2
    assert sorted(names) == ["DevTest", "rg0", "rg1", "rg2"]


def test_subscriptions_list_and_get(arm: Arm, emulator: Any) -> None:
    listed = arm.call("GET", "/subscriptions", "2022-12-01").json()
    assert [s["subscriptionId"] for s in listed["value"]] == [SUB]
    one = arm.call("GET", f"/subscriptions/{SUB}", "2022-12-01").json()
    assert one["id"] == f"/subscriptions/{SUB}" and one["tenantId"] == emulator.tenant_id
    assert one["state"] == "Enabled"
    _, stranger = new_principal(emulator)
    assert stranger.call("GET", "/subscriptions", "2022-12-01").json()["value"] == []


# -- resource groups ------------------------------------------------------------------------------------------------

def test_resource_group_lifecycle(arm: Arm, emulator: Any) -> None:
    path = f"/subscriptions/{SUB}/resourceGroups/Work"
    assert arm.call("HEAD", path, V_RG).status_code == 404
    created = arm.call("PUT", path, V_RG, {"location": "eastus", "tags": {"a": "1"}})
    assert created.status_code == 201
    assert created.json()["id"] == path and created.json()["tags"] == {"a": "1"}
    assert arm.call("PUT", path, V_RG, {"location": "eastus"}).status_code == 200
    assert error(arm.call("PUT", path, V_RG, {"location": "westus"}))[:2] == (409, "InvalidResourceGroupLocation")
    patched = arm.call("PATCH", path.lower(), V_RG, {"tags": {"b": "2"}})
    assert patched.status_code == 200 and patched.json()["tags"] == {"b": "2"}
    assert arm.call("HEAD", path, V_RG).status_code == 204
    deleted = arm.call("DELETE", path, V_RG)
    assert deleted.status_code == 202 and "Location" in deleted.headers
    assert arm.call("GET", deleted.headers["Location"]).status_code == 200
    assert f"/subscriptions/{SUB}/resourcegroups/work" not in emulator.state()["resources"]


# -- authentication -------------------------------------------------------------------------------------------------

def test_missing_and_malformed_tokens(emulator: Any) -> None:
    anonymous = Arm(emulator, None)
    r = anonymous.call("GET", RG, V_RG)
    assert error(r) == (401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer authorization_uri="{emulator.authority_host.rstrip("/")}/'
                                f'{emulator.tenant_id}", error="invalid_token", error_description="')
    assert error(Arm(emulator, "not-a-jwt").call("GET", RG, V_RG))[:2] == (401, "InvalidAuthenticationToken")
    assert error(anonymous.call("GET", RG))[:2] == (400, "MissingApiVersionParameter")


def test_wrong_audience(emulator: Any) -> None:
    token = emulator.arm_token(resource="https://vault.azure.net")
    status, code, message = error(Arm(emulator, token).call("GET", RG, V_RG))
    assert (status, code) == (401, "InvalidAuthenticationTokenAudience")
    assert message.startswith("The access token has been obtained for wrong audience or resource "
                              "'https://vault.azure.net'. It should exactly match with one of the allowed audiences "
                              "'https://management.core.windows.net/','https://management.core.windows.net',"
                              "'https://management.azure.com/','https://management.azure.com'")


def test_expired_token(emulator: Any) -> None:
    emulator.set_knobs(token_lifetime=1)
    token = emulator.arm_token()
    time.sleep(2.1)
    status, code, message = error(Arm(emulator, token).call("GET", RG, V_RG))
    assert (status, code) == (401, "ExpiredAuthenticationToken")
    assert message.startswith("The access token expiry UTC time '")
    assert "M' is earlier than current UTC time '" in message


# -- virtual machines -----------------------------------------------------------------------------------------------

def test_enable_system_identity_is_a_long_running_patch(arm: Arm, emulator: Any) -> None:
    emulator.set_knobs(lro_delay=0.5, retry_after=0)
    before = arm.call("GET", VM, V_VM).json()
    assert "identity" not in before
    r = arm.call("PATCH", VM.lower(), V_VM, {"identity": {"type": "SystemAssigned"}})
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == VM and body["properties"]["provisioningState"] == "Updating"
    assert body["etag"] != before["etag"]
    principal_id = body["identity"]["principalId"]
    assert body["identity"] == {"type": "SystemAssigned", "principalId": principal_id,
                                "tenantId": emulator.tenant_id}
    assert r.headers["Retry-After"] == "0"
    op_url = r.headers["Azure-AsyncOperation"]
    assert f"/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westus/operations/" in op_url
    assert f"api-version={V_VM}" in op_url
    first = arm.call("GET", op_url).json()
    assert first["status"] == "InProgress" and "startTime" in first
    assert arm.call("GET", VM, V_VM).json()["properties"]["provisioningState"] == "Updating"
    final = wait_lro(arm, r)
    assert final["status"] == "Succeeded" and "endTime" in final
    assert arm.call("GET", VM, V_VM).json()["properties"]["provisioningState"] == "Succeeded"
    principal = next(p for p in emulator.state()["principals"] if p["object_id"] == principal_id)
    assert principal["kind"] == "managed_identity" and principal["mi_resource_id"].lower() == VM.lower()
    r = arm.call("PATCH", VM, V_VM, {"identity": {"type": "None"}})
    assert "identity" not in r.json()
    assert all(p["object_id"] != principal_id for p in emulator.state()["principals"])


def test_user_assigned_identities_add_remove_and_type_replacement(arm: Arm, emulator: Any) -> None:
    id1, id2 = create_uami(arm, "id1"), create_uami(arm, "id2")
    r = arm.call("PATCH", VM, V_VM, {"identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {
        id1["id"].upper(): {}, id2["id"]: {}}}})
    assert r.status_code == 200, r.text
    identity = r.json()["identity"]
    assert identity["type"] == "SystemAssigned, UserAssigned"
    assert identity["userAssignedIdentities"] == {
        id1["id"]: {"principalId": id1["properties"]["principalId"], "clientId": id1["properties"]["clientId"]},
        id2["id"]: {"principalId": id2["properties"]["principalId"], "clientId": id2["properties"]["clientId"]}}
    r = arm.call("PATCH", VM, V_VM, {"identity": {"type": "SystemAssigned, UserAssigned",
                                                  "userAssignedIdentities": {id2["id"].lower(): None}}})
    assert list(r.json()["identity"]["userAssignedIdentities"]) == [id1["id"]]
    system_principal = r.json()["identity"]["principalId"]
    # PATCH replaces the type: SystemAssigned alone drops the user-assigned identities.
    r = arm.call("PATCH", VM, V_VM, {"identity": {"type": "SystemAssigned"}})
    stored = emulator.state()["resources"][VM.lower()]["identity"]
    assert stored == {"type": "SystemAssigned", "principalId": system_principal, "tenantId": emulator.tenant_id}


def test_identity_validation_errors(arm: Arm) -> None:
    ghost = f"{UAMI_BASE}/ghost"
    status, code, message = error(arm.call("PATCH", VM, V_VM, {"identity": {
        "type": "UserAssigned", "userAssignedIdentities": {ghost: {}}}}))
    assert (status, code) == (400, "FailedIdentityOperation")
    assert f"Resource '{ghost}' was not found." in message and VM in message
    assert error(arm.call("PATCH", VM, V_VM, {"identity": {"type": "UserAssigned"}})) == (
        400, "MissingIdentityIds", "The identity ids must not be null or empty for 'UserAssigned' identity type.")
    assert error(arm.call("PATCH", VM, V_VM, {"identity": {"type": "Everything"}}))[:2] == (400, "InvalidParameter")


def test_assigning_a_uami_needs_assign_action_on_it(arm: Arm, emulator: Any) -> None:
    uami = create_uami(arm, "id1")
    sp, operator = new_principal(emulator)
    grant(arm, RG, VM_CONTRIBUTOR, sp["object_id"])
    body = {"identity": {"type": "UserAssigned", "userAssignedIdentities": {uami["id"]: {}}}}
    status, code, message = error(operator.call("PATCH", VM, V_VM, body))
    assert (status, code) == (403, "LinkedAuthorizationFailed")
    assert message == (
        f"The client '{sp['client_id']}' with object id '{sp['object_id']}' has permission to perform action "
        f"'Microsoft.Compute/virtualMachines/write' on scope '{VM}'; however, it does not have permission to "
        f"perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) "
        f"'{uami['id']}' or the linked scope(s) are invalid.")
    assert "identity" not in emulator.state()["resources"][VM.lower()]
    grant(arm, uami["id"], MI_OPERATOR, sp["object_id"])
    assert operator.call("PATCH", VM, V_VM, body).status_code == 200


def test_if_match_etag(arm: Arm) -> None:
    etag = arm.call("GET", VM, V_VM).json()["etag"]
    status, code, message = error(arm.call("PATCH", VM, V_VM, {"tags": {"a": "b"}}, headers={"If-Match": '"999"'}))
    assert (status, code) == (412, "PreconditionFailed")
    assert message == f'Etag provided in if-match header "999" does not match etag {etag} of resource.'
    assert arm.call("PATCH", VM, V_VM, {"tags": {"a": "b"}}, headers={"If-Match": etag}).status_code == 200
    assert arm.call("PATCH", VM, V_VM, {"tags": {"a": "c"}}, headers={"If-Match": "*"}).status_code == 200


def test_vm_lists_and_scale_set_lifecycle(arm: Arm, emulator: Any) -> None:
    assert [v["id"] for v in arm.call("GET", f"{RG}/providers/Microsoft.Compute/virtualMachines", V_VM)
            .json()["value"]] == [VM]
    assert [v["id"] for v in arm.call("GET", f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines",
                                      V_VM).json()["value"]] == [VM]
    path = f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web"
    r = arm.call("PUT", path, V_VM, {"location": "westus", "sku": {"name": "Standard_B1s", "capacity": 2},
                                     "identity": {"type": "SystemAssigned"}})
    assert r.status_code == 201 and r.json()["properties"]["provisioningState"] == "Creating"
    assert "Azure-AsyncOperation" in r.headers
    assert r.json()["identity"]["type"] == "SystemAssigned"
    listed = arm.call("GET", f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets", V_VM).json()["value"]
    assert [s["name"] for s in listed] == ["web"]
    assert arm.call("DELETE", path, V_VM).status_code == 202
    assert arm.call("DELETE", path, V_VM).status_code == 204
    assert path.lower() not in emulator.state()["resources"]


def test_vm_created_through_arm_gets_an_identity_and_imds_endpoint(arm: Arm, emulator: Any) -> None:
    path = f"{RG}/providers/Microsoft.Compute/virtualMachines/Worker1"
    r = arm.call("PUT", path, V_VM, {"location": "westus", "identity": {"type": "SystemAssigned"},
                                     "properties": {"hardwareProfile": {"vmSize": "Standard_B2s"}}})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"] == path and created["properties"]["provisioningState"] == "Creating"
    assert created["properties"]["hardwareProfile"]["vmSize"] == "Standard_B2s"
    assert emulator.vm("worker1")["imds_endpoint"].startswith("http://127.0.0.1:")
    again = arm.call("PUT", path, V_VM, {"location": "westus", "properties": {"hardwareProfile": {
        "vmSize": "Standard_B4ms"}}})
    assert again.status_code == 200 and again.json()["properties"]["provisioningState"] == "Updating"
    # A PUT without an identity leaves the identity as it was.
    assert again.json()["identity"]["principalId"] == created["identity"]["principalId"]


# -- user-assigned identities ---------------------------------------------------------------------------------------

def test_uami_lifecycle(arm: Arm, emulator: Any) -> None:
    created = create_uami(arm, "Build")
    assert created["id"] == f"{UAMI_BASE}/Build"
    assert created["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities" and created["tags"] == {"k": "v"}
    assert created["properties"]["tenantId"] == emulator.tenant_id
    principal = next(p for p in emulator.state()["principals"]
                     if p["object_id"] == created["properties"]["principalId"])
    assert principal["client_id"] == created["properties"]["clientId"]
    assert principal["mi_resource_id"] == f"{UAMI_BASE}/Build"
    again = arm.call("PUT", f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/build", V_MSI,
                     {"location": "westus"})
    assert again.status_code == 200 and again.json()["properties"] == created["properties"]
    assert arm.call("GET", f"{UAMI_BASE}/build", "2024-11-30").json()["id"] == created["id"]
    listed = arm.call("GET", f"/subscriptions/{SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
                      V_MSI).json()["value"]
    assert [u["name"] for u in listed] == ["Build"]
    arm.call("PATCH", VM, V_VM, {"identity": {"type": "UserAssigned",
                                              "userAssignedIdentities": {created["id"]: {}}}})
    assert arm.call("DELETE", f"{UAMI_BASE}/Build", V_MSI).status_code == 200
    assert arm.call("DELETE", f"{UAMI_BASE}/Build", V_MSI).status_code == 204
    state = emulator.state()
    assert all(p["object_id"] != created["properties"]["principalId"] for p in state["principals"])
    # The VM keeps listing the deleted identity, as Azure does.
    assert created["id"] in state["resources"][VM.lower()]["identity"]["userAssignedIdentities"]


def test_system_identity_default_endpoint(arm: Arm) -> None:
    path = f"{VM}/providers/Microsoft.ManagedIdentity/identities/default"
    assert arm.call("GET", path, V_MSI).status_code == 404
    principal_id = arm.call("PATCH", VM, V_VM, {"identity": {"type": "SystemAssigned"}}).json()["identity"][
        "principalId"]
    body = arm.call("GET", path, V_MSI).json()
    assert body["name"] == "default" and body["properties"]["principalId"] == principal_id


# -- role definitions -----------------------------------------------------------------------------------------------

def test_role_definitions_by_name_type_and_id(arm: Arm) -> None:
    body = arm.call("GET", f"/subscriptions/{SUB}{AUTHZ}/roleDefinitions", V_AUTH,
                    **{"$filter": "roleName eq 'Reader'"}).json()
    assert [d["id"] for d in body["value"]] == [f"/subscriptions/{SUB}{AUTHZ}/roleDefinitions/{READER}"]
    assert body["value"][0]["properties"]["permissions"][0]["actions"] == ["*/read"]
    builtins = arm.call("GET", f"/subscriptions/{SUB}{AUTHZ}/roleDefinitions", V_AUTH,
                        **{"$filter": "type eq 'BuiltInRole'"}).json()["value"]
    assert {d["properties"]["roleName"] for d in builtins} >= {"Owner", "Contributor", "Reader",
                                                                "Managed Identity Operator"}
    tenant_level = arm.call("GET", f"{AUTHZ}/roleDefinitions/{OWNER}", V_AUTH).json()
    assert tenant_level["id"] == f"{AUTHZ}/roleDefinitions/{OWNER}"
    assert tenant_level["properties"]["roleName"] == "Owner"
    missing = str(uuid.uuid4())
    assert error(arm.call("GET", f"{AUTHZ}/roleDefinitions/{missing}", V_AUTH)) == (
        404, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{missing}' does not exist.")


# -- role assignments -----------------------------------------------------------------------------------------------

def test_role_assignment_create_get_list_delete(arm: Arm, emulator: Any) -> None:
    sp, _ = new_principal(emulator)
    name = str(uuid.uuid4())
    path = f"{RG}{AUTHZ}/roleAssignments/{name}"
    r = arm.call("PUT", path, V_AUTH, {"properties": {
        "roleDefinitionId": f"/subscriptions/{SUB}{AUTHZ}/roleDefinitions/{READER}",
        "principalId": sp["object_id"]}})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"] == path and created["name"] == name
    assert created["type"] == "Microsoft.Authorization/roleAssignments"
    props = created["properties"]
    assert props["principalType"] == "ServicePrincipal" and props["scope"] == RG
    assert props["roleDefinitionId"] == f"/subscriptions/{SUB}{AUTHZ}/roleDefinitions/{READER}"
    assert props["createdBy"] == emulator.operator["object_id"]
    assert arm.call("GET", path, V_AUTH).json() == created
    assert arm.call("GET", path.replace("roleAssignments", "ROLEASSIGNMENTS"), V_AUTH).status_code == 200
    assert path.lower() in emulator.state()["role_assignments"]

    def listed(scope: str, **query: str) -> set[str]:
        return {a["id"] for a in arm.call("GET", f"{scope}{AUTHZ}/roleAssignments", V_AUTH, **query).json()["value"]}

    owner_id = next(iter(listed(f"/subscriptions/{SUB}", **{"$filter": "atScope()"})))
    assert listed(RG) == {owner_id, path}
    assert listed(f"/subscriptions/{SUB}") == {owner_id, path}
    assert listed(f"/subscriptions/{SUB}", **{"$filter": "atScope()"}) == {owner_id}
    assert listed(VM, **{"$filter": "atScope()"}) == {owner_id, path}
    assert listed(f"/subscriptions/{SUB}", **{"$filter": f"principalId eq '{sp['object_id']}'"}) == {path}
    assert listed(f"/subscriptions/{SUB}", **{"$filter": f"assignedTo('{sp['object_id']}')"}) == {path}
    assert listed(f"/subscriptions/{SUB}", **{"$filter": f"atScope() and assignedTo('{sp['object_id']}')"}) == set()
    deleted = arm.call("DELETE", path, V_AUTH)
    assert deleted.status_code == 200 and deleted.json()["id"] == path
    assert arm.call("DELETE", path, V_AUTH).status_code == 204
    assert path.lower() not in emulator.state()["role_assignments"]


def test_role_assignment_conflicts(arm: Arm, emulator: Any) -> None:
    sp, _ = new_principal(emulator)
    first = grant(arm, RG, READER, sp["object_id"])
    status, code, message = error(arm.call("PUT", f"{RG}{AUTHZ}/roleAssignments/{uuid.uuid4()}", V_AUTH, {
        "properties": {"roleDefinitionId": f"{AUTHZ}/roleDefinitions/{READER}", "principalId": sp["object_id"]}}))
    assert (status, code) == (409, "RoleAssignmentExists")
    assert message == ("The role assignment already exists. The ID of the existing role assignment is "
                       f"{first['name'].replace('-', '')}.")
    assert error(arm.call("PUT", first["id"], V_AUTH, {"properties": {
        "roleDefinitionId": f"{AUTHZ}/roleDefinitions/{OWNER}", "principalId": sp["object_id"]}})) == (
        400, "RoleAssignmentUpdateNotPermitted",
        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
    assert error(arm.call("PUT", f"{RG}{AUTHZ}/roleAssignments/not-a-guid", V_AUTH, {}))== (
        400, "InvalidRoleAssignmentId",
        "The role assignment ID 'not-a-guid' is not valid. The role assignment ID must be a GUID.")
    missing_role = str(uuid.uuid4())
    assert error(arm.call("PUT", f"{RG}{AUTHZ}/roleAssignments/{uuid.uuid4()}", V_AUTH, {"properties": {
        "roleDefinitionId": f"{AUTHZ}/roleDefinitions/{missing_role}", "principalId": sp["object_id"]}})) == (
        400, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{missing_role}' does not exist.")


def test_role_assignment_description_update_in_place(arm: Arm, emulator: Any) -> None:
    sp, _ = new_principal(emulator)
    first = grant(arm, RG, READER, sp["object_id"])
    props = {"roleDefinitionId": f"{AUTHZ}/roleDefinitions/{READER}", "principalId": sp["object_id"],
             "description": "lets the VM read its group"}
    r = arm.call("PUT", first["id"], V_AUTH, {"properties": props})
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["description"] == "lets the VM read its group"
    stored = emulator.state()["role_assignments"][first["id"].lower()]
    assert stored["properties"]["description"] == "lets the VM read its group"
    assert stored["name"] == first["name"]
    listed = arm.call("GET", f"{RG}{AUTHZ}/roleAssignments", V_AUTH,
                      **{"$filter": f"principalId eq '{sp['object_id']}'"}).json()["value"]
    assert len(listed) == 1


def test_principal_not_found_during_replication_delay(arm: Arm, emulator: Any) -> None:
    emulator.set_knobs(replication_delay=60)
    sp, _ = new_principal(emulator)
    body = {"properties": {"roleDefinitionId": f"{AUTHZ}/roleDefinitions/{READER}", "principalId": sp["object_id"]}}
    assert error(arm.call("PUT", f"{RG}{AUTHZ}/roleAssignments/{uuid.uuid4()}", V_AUTH, body)) == (
        400, "PrincipalNotFound",
        f"Principal {sp['object_id'].replace('-', '')} does not exist in the directory {emulator.tenant_id}. Check "
        "that you have the correct principal ID. If you are creating this principal and then immediately assigning "
        "a role, this error might be related to a replication delay. In this case, set the role assignment "
        "principalType property to a value, such as ServicePrincipal, User, or Group.  See "
        "https://aka.ms/docs-principaltype")
    body["properties"]["principalType"] = "ServicePrincipal"
    assert arm.call("PUT", f"{RG}{AUTHZ}/roleAssignments/{uuid.uuid4()}", V_AUTH, body).status_code == 201


def test_403_turns_into_200_after_grant_and_propagation(arm: Arm, emulator: Any) -> None:
    emulator.set_knobs(propagation_delay=1)
    sp, newcomer = new_principal(emulator)
    status, code, message = error(newcomer.call("GET", RG, V_RG))
    assert (status, code) == (403, "AuthorizationFailed")
    assert message == (f"The client '{sp['client_id']}' with object id '{sp['object_id']}' does not have "
                       "authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/read' over "
                       f"scope '{RG}' or the scope is invalid. If access was recently granted, please refresh your "
                       "credentials.")
    assignment = grant(arm, RG, READER, sp["object_id"])
    for _ in range(60):
        if newcomer.call("GET", RG, V_RG).status_code == 200:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the grant never took effect")
    assert error(newcomer.call("PUT", f"{RG}{AUTHZ}/roleAssignments/{uuid.uuid4()}", V_AUTH, {}))[:2] == (
        403, "AuthorizationFailed")
    arm.call("DELETE", assignment["id"], V_AUTH)
    for _ in range(60):
        if newcomer.call("GET", RG, V_RG).status_code == 403:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the revoke never took effect")


def test_permissions_of_the_caller(arm: Arm, emulator: Any) -> None:
    body = arm.call("GET", f"{RG}{AUTHZ}/permissions", V_AUTH).json()
    assert body["value"] == [{"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}]
    sp, newcomer = new_principal(emulator)
    assert newcomer.call("GET", f"{RG}{AUTHZ}/permissions", V_AUTH).json()["value"] == []


# -- metadata -------------------------------------------------------------------------------------------------------

def test_metadata_endpoints_describe_the_emulator_as_a_cloud(emulator: Any) -> None:
    anonymous = Arm(emulator, None)
    cloud = anonymous.call("GET", "/metadata/endpoints", "2022-09-01").json()
    assert isinstance(cloud, dict) and cloud["name"] == "AzureEmulator"
    clouds = anonymous.call("GET", "/metadata/endpoints", "2019-05-01").json()
    assert isinstance(clouds, list) and clouds == [cloud]
    assert cloud["resourceManager"] == emulator.arm_endpoint
    assert cloud["authentication"]["loginEndpoint"] == emulator.authority_host
    assert "https://management.core.windows.net/" in cloud["authentication"]["audiences"]
    legacy = anonymous.call("GET", "/metadata/endpoints", "2015-01-01").json()
    assert legacy["authentication"]["loginEndpoint"] == emulator.authority_host


def test_repeated_slashes_route_like_single_ones(emulator: Any, arm: Arm) -> None:
    """An endpoint with a trailing slash joined to an absolute path ("https://host//metadata/endpoints"), as
    azure-cli does with a custom cloud and Microsoft's own REST examples do against management.azure.com."""
    anonymous = Arm(emulator, None)
    cloud = anonymous.call("GET", "//metadata/endpoints", "2022-09-01")
    assert cloud.status_code == 200 and cloud.json()["resourceManager"] == emulator.arm_endpoint
    group = arm.call("GET", "//subscriptions/" + SUB + "//resourceGroups/DevTest/", V_RG)
    assert group.status_code == 200 and group.json()["id"] == RG
    emulator.set_knobs(page_size=1)
    page = arm.call("GET", f"//subscriptions/{SUB}//providers/Microsoft.Authorization/roleDefinitions", V_AUTH).json()
    assert len(page["value"]) == 1 and page["nextLink"].startswith(f"{emulator.arm_endpoint}subscriptions/{SUB}/")
