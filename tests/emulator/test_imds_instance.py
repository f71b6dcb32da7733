"""IMDS instance metadata and the legacy VM extension endpoint, at the HTTP level (REFERENCE.md sections 2-3)."""

from __future__ import annotations

import jwt
import pytest
import requests
from test_imds_support import IDENTITY_SEED, find_vm

H = {"Metadata": "true"}
ARM = "https://management.azure.com/"


@pytest.fixture(scope="module")
def emu(start_emulator):
    return start_emulator(seed=IDENTITY_SEED)


def get(base: str, path: str, headers=H, **params):
    return requests.get(base + path, params=params, headers=headers, timeout=10)


def strings_only(node) -> bool:
    if isinstance(node, dict):
        return all(strings_only(v) for v in node.values())
    if isinstance(node, list):
        return all(strings_only(v) for v in node)
    return isinstance(node, str)


def test_instance_document_follows_the_vm_resource(emu):
    vm = find_vm(emu, "sysVM")
    arm = emu.state()["resources"][vm["id"].lower()]
    r = get(vm["imds_endpoint"], "/metadata/instance", **{"api-version": "2021-02-01"})
    assert r.status_code == 200
    doc = r.json()
    assert strings_only(doc)
    compute = doc["compute"]
    assert compute["azEnvironment"] == "AzurePublicCloud"
    assert compute["name"] == "sysVM" and compute["location"] == "westus"
    assert compute["vmId"] == arm["properties"]["vmId"]
    assert compute["subscriptionId"] == vm["subscription_id"] and compute["resourceGroupName"] == "DevTest"
    assert compute["resourceId"] == vm["id"]
    assert compute["osType"] == "Linux" and compute["vmSize"] == arm["properties"]["hardwareProfile"]["vmSize"]
    assert compute["tags"] == "env:test;team:identity"
    assert compute["tagsList"] == [{"name": "env", "value": "test"}, {"name": "team", "value": "identity"}]
    assert doc["network"]["interface"][0]["ipv4"]["ipAddress"][0]["privateIpAddress"].startswith("10.0.0.")


def test_each_vm_answers_for_itself(emu):
    ids = {get(find_vm(emu, name)["imds_endpoint"], "/metadata/instance/compute/resourceId",
               **{"api-version": "2021-02-01", "format": "text"}).text for name in ("myVM", "sysVM")}
    assert ids == {find_vm(emu, "myVM")["id"], find_vm(emu, "sysVM")["id"]}


def test_route_filtering_and_leaf_rules(emu):
    base = find_vm(emu, "myVM")["imds_endpoint"]
    leaf = get(base, "/metadata/instance/compute/vmId", **{"api-version": "2017-08-01", "format": "text"})
    assert leaf.status_code == 200 and leaf.headers["Content-Type"].startswith("text/plain")
    assert leaf.text == find_vm(emu, "myVM")["vm_id"]
    assert get(base, "/metadata/instance/compute/vmId", **{"api-version": "2017-08-01"}).status_code == 400
    ip = get(base, "/metadata/instance/network/interface/0/ipv4/ipAddress/0/privateIpAddress",
             **{"api-version": "2021-02-01", "format": "text"})
    assert ip.status_code == 200 and ip.text.startswith("10.0.0.")
    compute = get(base, "/metadata/instance/compute", **{"api-version": "2021-02-01"})
    assert compute.status_code == 200 and compute.json()["osType"] == "Windows"
    missing = get(base, "/metadata/instance/compute/noSuchField", **{"api-version": "2021-02-01"})
    assert missing.status_code == 404 and "error" in missing.json()


def test_fields_appear_with_the_api_version_that_introduced_them(emu):
    base = find_vm(emu, "myVM")["imds_endpoint"]
    old = get(base, "/metadata/instance/compute", **{"api-version": "2017-08-01"}).json()
    assert "subscriptionId" in old and "resourceId" not in old and "azEnvironment" not in old
    assert "resourceId" in get(base, "/metadata/instance/compute", **{"api-version": "2019-03-11"}).json()


def test_api_version_rules(emu):
    base = find_vm(emu, "myVM")["imds_endpoint"]
    missing = get(base, "/metadata/instance")
    assert missing.status_code == 400
    assert missing.json()["error"] == ("Bad request. api-version was not specified in the request. For more "
                                       "information refer to aka.ms/azureimds")
    assert "2021-02-01" not in missing.json()["newest-versions"] and len(missing.json()["newest-versions"]) == 3
    assert get(base, "/metadata/instance", **{"api-version": "2099-01-01"}).status_code == 400
    versions = get(base, "/metadata/versions")
    assert versions.status_code == 200 and "2021-02-01" in versions.json()["apiVersions"]


def test_instance_needs_metadata_header_and_get(emu):
    base = find_vm(emu, "myVM")["imds_endpoint"]
    r = get(base, "/metadata/instance", headers={}, **{"api-version": "2021-02-01"})
    assert (r.status_code, r.json()) == (400, {"error": "Bad request. Required metadata header not specified"})
    post = requests.post(base + "/metadata/instance", params={"api-version": "2021-02-01"}, headers=H, timeout=10)
    assert post.status_code == 405
    assert get(base, "/metadata/nothing", **{"api-version": "2021-02-01"}).status_code == 404


# -- legacy VM extension (localhost:50342) -----------------------------------------------------------------------

def test_extension_token_all_strings_no_api_version(emu):
    vm = find_vm(emu, "sysVM")
    r = get(vm["vm_extension_endpoint"], "/oauth2/token", resource=ARM)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in", "expires_on", "not_before", "resource",
                         "token_type"}
    assert all(isinstance(v, str) for v in body.values())
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["xms_mirid"].lower() == vm["id"].lower() and claims["aud"] == ARM
    assert body["expires_on"] == str(claims["exp"])


def test_extension_selects_user_assigned_by_client_id(emu):
    uami = next(r for r in emu.state()["resources"].values() if r["name"] == "uami2")
    r = get(find_vm(emu, "twoVM")["vm_extension_endpoint"], "/oauth2/token", resource=ARM,
            client_id=uami["properties"]["clientId"])
    assert r.status_code == 200
    assert jwt.decode(r.json()["access_token"], options={"verify_signature": False})["oid"] == \
        uami["properties"]["principalId"]


def test_extension_errors(emu):
    base = find_vm(emu, "sysVM")["vm_extension_endpoint"]
    wrong = get(base, "/oauth2/authorize", resource=ARM)
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "unknown_source"
    assert wrong.json()["error_description"].startswith("Unknown Source /oauth2/authorize")
    assert get(base, "/oauth2/token", headers={}, resource=ARM).status_code == 400
    no_identity = get(find_vm(emu, "myVM")["vm_extension_endpoint"], "/oauth2/token", resource=ARM)
    assert no_identity.status_code == 400 and no_identity.json()["error"] == "unauthorized_client"
    assert get(base, "/oauth2/token", resource="https://nope.example/").json()["error"] == "invalid_resource"
