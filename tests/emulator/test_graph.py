"""Microsoft Graph (v1.0, service principals and directoryObjects/getByIds): tokens from unmodified azure-identity
for ``https://graph.microsoft.com/.default``, calls with plain requests, answers checked against the world."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from azure.identity import ClientSecretCredential

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/Apps"
SEED = {
    "subscriptions": [{"subscription_id": SUB, "resource_groups": [{
        "name": "Apps", "location": "westus",
        "user_assigned_identities": [{"name": "sweeper", "graph_permissions": ["Directory.Read.All"]},
                                     {"name": "plain"}],
        "vms": [{"name": "vm1", "identity": {"system_assigned": True, "user_assigned": ["sweeper"]}}]}]}],
    "service_principals": [
        {"name": "operator", "graph_permissions": ["Directory.Read.All"]},
        {"name": "app-reader", "graph_permissions": ["Application.Read.All"]},
        {"name": "nobody"},
    ],
    "role_assignments": [{"principal": "operator", "role": "Owner", "scope": f"/subscriptions/{SUB}"}],
}
UAMI_ID = f"/subscriptions/{SUB}/resourcegroups/Apps/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
VM_ID = f"/subscriptions/{SUB}/resourcegroups/Apps/providers/Microsoft.Compute/virtualMachines/vm1"


@pytest.fixture(scope="module")
def world(start_emulator: Any) -> Iterator[Any]:
    yield start_emulator(seed=SEED)


@pytest.fixture(autouse=True)
def _ca(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # requests under msal reads the CA from the environment, which would otherwise name the machine's bundle.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", world.ca_bundle)


def graph_token(world: Any, name: str, scope: str = "https://graph.microsoft.com/.default") -> str:
    sp = world.service_principal(name)
    credential = ClientSecretCredential(world.tenant_id, sp["client_id"], sp["client_secret"],
                                        authority=world.authority_host, disable_instance_discovery=True,
                                        connection_verify=world.ca_bundle)
    return credential.get_token(scope).token


def graph(world: Any, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, world.info["graph_endpoint"] + "v1.0/" + path, verify=world.ca_bundle,
                            headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs)


def principals(world: Any) -> dict[str, dict]:
    """object id -> principal as the emulator stores it."""
    return {p["object_id"]: p for p in world.state()["principals"]}


def mi(world: Any, resource_id: str) -> dict:
    return next(p for p in world.state()["principals"] if (p["mi_resource_id"] or "").lower() == resource_id.lower())


def test_graph_token_carries_the_granted_application_permissions(world: Any) -> None:
    claims = jwt.decode(graph_token(world, "operator"), options={"verify_signature": False})
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["roles"] == ["Directory.Read.All"]
    assert "roles" not in jwt.decode(graph_token(world, "nobody"), options={"verify_signature": False})


def test_managed_identities_are_service_principals_as_azure_describes_them(world: Any) -> None:
    token = graph_token(world, "operator")
    uami = mi(world, UAMI_ID + "sweeper")
    system = mi(world, VM_ID)
    got = graph(world, token, "GET", f"servicePrincipals/{uami['object_id']}")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["@odata.context"].endswith("$metadata#servicePrincipals/$entity")
    assert (body["id"], body["appId"], body["displayName"]) == (uami["object_id"], uami["client_id"], "sweeper")
    assert body["servicePrincipalType"] == "ManagedIdentity"
    assert body["alternativeNames"] == ["isExplicit=True", UAMI_ID + "sweeper"]
    assert body["servicePrincipalNames"][0] == uami["client_id"]
    assert body["servicePrincipalNames"][1].startswith("https://identity.azure.net/")
    vm_sp = graph(world, token, "GET", f"servicePrincipals/{system['object_id']}").json()
    assert vm_sp["alternativeNames"] == ["isExplicit=False", VM_ID]
    by_app = graph(world, token, "GET", f"servicePrincipals(appId='{uami['client_id']}')").json()
    assert by_app["id"] == uami["object_id"]
    missing = graph(world, token, "GET", f"servicePrincipals/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_filter_by_app_id_and_by_service_principal_names(world: Any) -> None:
    token = graph_token(world, "operator")
    app = world.service_principal("app-reader")
    for text in (f"appId eq '{app['client_id']}'", f"servicePrincipalNames/any(c:c eq '{app['client_id']}')",
                 f"servicePrincipalNames/any(x:x eq '{app['client_id'].upper()}')"):
        got = graph(world, token, "GET", "servicePrincipals", params={"$filter": text})
        assert got.status_code == 200, got.text
        assert [sp["id"] for sp in got.json()["value"]] == [app["object_id"]], text
    managed = graph(world, token, "GET", "servicePrincipals",
                    params={"$filter": "servicePrincipalType eq 'ManagedIdentity'", "$select": "id,displayName"})
    stored = {p["object_id"] for p in world.state()["principals"] if p["kind"] == "managed_identity"}
    assert {sp["id"] for sp in managed.json()["value"]} == stored
    assert set(managed.json()["value"][0]) == {"id", "displayName"}
    none = graph(world, token, "GET", "servicePrincipals", params={"$filter": f"appId eq '{uuid.uuid4()}'"})
    assert none.json()["value"] == []
    bad = graph(world, token, "GET", "servicePrincipals", params={"$filter": "startswith(displayName,'a')"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_get_by_ids_returns_known_objects_and_drops_unknown_ids(world: Any) -> None:
    token = graph_token(world, "operator")
    stored = principals(world)
    known = [mi(world, VM_ID)["object_id"], world.service_principal("nobody")["object_id"]]
    ids = [str(uuid.uuid4()) for _ in range(998)] + known
    got = graph(world, token, "POST", "directoryObjects/getByIds", json={"ids": ids})
    assert got.status_code == 200, got.text
    value = got.json()["value"]
    assert [o["id"] for o in value] == known
    assert all(o["@odata.type"] == "#microsoft.graph.servicePrincipal" for o in value)
    assert value[1]["displayName"] == stored[known[1]]["display_name"]
    typed = graph(world, token, "POST", "directoryObjects/getByIds",  # the types azure-cli sends
                  json={"ids": known, "types": ["user", "group", "servicePrincipal",
                                                "directoryObjectPartnerReference"]})
    assert [o["id"] for o in typed.json()["value"]] == known
    users = graph(world, token, "POST", "directoryObjects/getByIds", json={"ids": known, "types": ["user", "group"]})
    assert users.status_code == 200 and users.json()["value"] == []
    too_many = graph(world, token, "POST", "directoryObjects/getByIds", json={"ids": ids + [str(uuid.uuid4())] * 2})
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "Request_BadRequest"


def test_directory_permission_is_required_except_for_the_own_object(world: Any) -> None:
    nobody, reader = graph_token(world, "nobody"), graph_token(world, "app-reader")
    own = world.service_principal("nobody")["object_id"]
    other = world.service_principal("operator")["object_id"]
    for token, path in ((nobody, f"servicePrincipals/{other}"), (nobody, "servicePrincipals")):
        denied = graph(world, token, "GET", path)
        assert denied.status_code == 403, path
        assert denied.json()["error"] == {**denied.json()["error"], "code": "Authorization_RequestDenied",
                                          "message": "Insufficient privileges to complete the operation."}
    assert graph(world, nobody, "GET", f"servicePrincipals/{own}").json()["id"] == own
    assert graph(world, reader, "GET", f"servicePrincipals/{other}").status_code == 200
    # Application.Read.All reads service principals but not arbitrary directory objects.
    assert graph(world, reader, "POST", "directoryObjects/getByIds", json={"ids": [own]}).status_code == 403


def test_principal_created_at_run_time_gets_its_graph_permissions(world: Any) -> None:
    sp = world.create_principal(display_name="sweeper-app", graph_permissions=["Directory.Read.All"])
    token = ClientSecretCredential(world.tenant_id, sp["client_id"], sp["client_secret"],
                                   authority=world.authority_host, disable_instance_discovery=True,
                                   connection_verify=world.ca_bundle).get_token("https://graph.microsoft.com/.default")
    got = graph(world, token.token, "POST", "directoryObjects/getByIds", json={"ids": [sp["object_id"]]})
    assert [o["appId"] for o in got.json()["value"]] == [sp["client_id"]]


def test_graph_and_arm_refuse_each_others_tokens(world: Any) -> None:
    arm_token = world.arm_token(world.service_principal("operator"))
    refused = graph(world, arm_token, "GET", "servicePrincipals")
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "Access token validation failure. Invalid audience."
    graph_at_arm = requests.get(f"{world.arm_endpoint}subscriptions", params={"api-version": "2022-12-01"},
                                headers={"Authorization": f"Bearer {graph_token(world, 'operator')}"},
                                verify=world.ca_bundle, timeout=30)
    assert graph_at_arm.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    assert graph(world, "", "GET", "servicePrincipals").json()["error"]["message"] == "Access token is empty."


def test_custom_cloud_graph_resource_is_the_emulator(world: Any) -> None:
    """azure-cli takes Graph's URL and token resource from /metadata/endpoints' microsoftGraphResourceId."""
    cloud = requests.get(f"{world.arm_endpoint}metadata/endpoints", params={"api-version": "2022-09-01"},
                         verify=world.ca_bundle, timeout=30).json()
    resource = cloud["microsoftGraphResourceId"]
    assert resource == world.info["graph_endpoint"]
    token = graph_token(world, "operator", scope=resource + ".default")
    page = graph(world, token, "GET", "servicePrincipals", params={"$top": "2"}).json()
    seen = [sp["id"] for sp in page["value"]]
    while "@odata.nextLink" in page:
        page = requests.get(page["@odata.nextLink"], headers={"Authorization": f"Bearer {token}"},
                            verify=world.ca_bundle, timeout=30).json()
        seen += [sp["id"] for sp in page["value"]]
    assert sorted(seen) == sorted(principals(world))


def test_managed_identity_token_from_imds_reads_the_directory(world: Any) -> None:
    """A VM's identity with Directory.Read.All (the orphaned-assignment sweep's set-up) resolves ids."""
    sweeper = mi(world, UAMI_ID + "sweeper")
    reply = requests.get(world.vm("vm1")["imds_endpoint"] + "/metadata/identity/oauth2/token",
                         params={"api-version": "2018-02-01", "resource": "https://graph.microsoft.com/",
                                 "client_id": sweeper["client_id"]}, headers={"Metadata": "true"}, timeout=30)
    assert reply.status_code == 200, reply.text
    token = reply.json()["access_token"]
    got = graph(world, token, "POST", "directoryObjects/getByIds", json={"ids": [sweeper["object_id"]]})
    assert [o["id"] for o in got.json()["value"]] == [sweeper["object_id"]]
    system = requests.get(world.vm("vm1")["imds_endpoint"] + "/metadata/identity/oauth2/token",
                          params={"api-version": "2018-02-01", "resource": "https://graph.microsoft.com/",
                                  "object_id": mi(world, VM_ID)["object_id"]}, headers={"Metadata": "true"},
                          timeout=30).json()["access_token"]
    assert graph(world, system, "POST", "directoryObjects/getByIds", json={"ids": []}).status_code == 403


def test_get_by_ids_misses_a_principal_not_yet_replicated_and_one_deleted(world: Any) -> None:
    token = graph_token(world, "operator")
    nobody = world.service_principal("nobody")["object_id"]
    world.set_knobs(replication_delay=600)
    try:
        fresh = world.create_principal(display_name="fresh-app")["object_id"]
        got = graph(world, token, "POST", "directoryObjects/getByIds", json={"ids": [fresh, nobody]})
        # The seed's principal existed before the start: replicated long ago.
        assert [o["id"] for o in got.json()["value"]] == [nobody]
    finally:
        world.set_knobs(replication_delay=0)
    replicated = graph(world, token, "POST", "directoryObjects/getByIds", json={"ids": [fresh, nobody]})
    assert [o["id"] for o in replicated.json()["value"]] == [fresh, nobody]

    world.control("DELETE", f"/principals/{fresh}")
    assert fresh not in principals(world)
    gone = graph(world, token, "POST", "directoryObjects/getByIds", json={"ids": [fresh, nobody]})
    assert [o["id"] for o in gone.json()["value"]] == [nobody]
    with pytest.raises(Exception, match="404"):
        world.control("DELETE", f"/principals/{fresh}")
