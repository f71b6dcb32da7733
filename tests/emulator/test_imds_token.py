"""IMDS managed-identity token endpoint, per VM, at the HTTP level (REFERENCE.md section 1)."""

from __future__ import annotations

import concurrent.futures

import jwt
import pytest
import requests
from test_imds_support import IDENTITY_SEED, find_vm, uami

ARM = "https://management.azure.com/"
TOKEN = "/metadata/identity/oauth2/token"
H = {"Metadata": "true"}


@pytest.fixture(scope="module")
def emu(start_emulator):
    return start_emulator(seed=IDENTITY_SEED)


def token(base: str, headers=H, **params):
    params.setdefault("api-version", "2018-02-01")
    return requests.get(base + TOKEN, params=params, headers=headers, timeout=10)


def claims(access_token: str) -> dict:
    return jwt.decode(access_token, options={"verify_signature": False})


def test_system_assigned_token_body_and_claims(emu):
    vm = find_vm(emu, "sysVM")
    r = token(vm["imds_endpoint"], resource=ARM)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert all(isinstance(v, str) for v in body.values()), body
    assert body["resource"] == ARM and body["token_type"] == "Bearer"
    c = claims(body["access_token"])
    state = emu.state()
    principal_id = state["resources"][vm["id"].lower()]["identity"]["principalId"]
    assert c["oid"] == c["sub"] == principal_id
    assert c["aud"] == ARM
    assert c["iss"] == f"https://sts.windows.net/{emu.info['tenant_id']}/"
    assert c["tid"] == emu.info["tenant_id"] and c["idtyp"] == "app" and c["ver"] == "1.0"
    assert c["xms_mirid"] == vm["id"].replace("/resourceGroups/", "/resourcegroups/")
    assert body["client_id"] == c["appid"]
    assert body["expires_on"] == str(c["exp"]) and body["not_before"] == str(c["nbf"])
    assert c["exp"] - c["iat"] == 86700
    assert 0 < int(body["expires_in"]) <= 86700


def test_audience_is_the_resource_exactly_as_given(emu):
    vm = find_vm(emu, "sysVM")
    for resource in ("https://management.azure.com", "https://management.core.windows.net/", "https://vault.azure.net",
                     emu.info["arm_endpoint"]):
        r = token(vm["imds_endpoint"], resource=resource)
        assert r.status_code == 200, r.text
        assert claims(r.json()["access_token"])["aud"] == resource


def test_same_token_until_bypass_cache(emu):
    base = find_vm(emu, "bothVM")["imds_endpoint"]
    first = token(base, resource=ARM).json()["access_token"]
    assert token(base, resource=ARM).json()["access_token"] == first
    fresh = token(base, resource=ARM, bypass_cache="true").json()["access_token"]
    assert fresh != first
    assert token(base, resource=ARM).json()["access_token"] == fresh


@pytest.mark.parametrize("selector", ["client_id", "object_id", "msi_res_id", "mi_res_id"])
def test_user_assigned_selected_by_each_parameter(emu, selector):
    target = uami(emu, "uami2")
    value = {"client_id": target["properties"]["clientId"], "object_id": target["properties"]["principalId"],
             "msi_res_id": target["id"], "mi_res_id": target["id"]}[selector]
    r = token(find_vm(emu, "twoVM")["imds_endpoint"], resource=ARM, **{selector: value})
    assert r.status_code == 200, r.text
    c = claims(r.json()["access_token"])
    assert c["oid"] == target["properties"]["principalId"]
    assert c["appid"] == r.json()["client_id"] == target["properties"]["clientId"]
    assert c["xms_mirid"] == target["id"].replace("/resourceGroups/", "/resourcegroups/")


def test_no_selector_picks_system_identity_when_both_exist(emu):
    vm = find_vm(emu, "bothVM")
    r = token(vm["imds_endpoint"], resource=ARM)
    assert claims(r.json()["access_token"])["oid"] == emu.state()["resources"][vm["id"].lower()]["identity"][
        "principalId"]


@pytest.mark.parametrize(("vm_name", "params", "status", "body"), [
    ("myVM", {}, 400, {"error": "invalid_request", "error_description": "Identity not found"}),
    ("twoVM", {}, 400, {"error": "invalid_request", "error_description":
                        "Multiple user assigned identities exist, please specify the clientId / resourceId of the "
                        "identity in the token request"}),
    ("twoVM", {"client_id": "00000000-0000-0000-0000-000000000000"}, 400,
     {"error": "invalid_request", "error_description": "Identity not found"}),
])
def test_identity_errors(emu, vm_name, params, status, body):
    r = token(find_vm(emu, vm_name)["imds_endpoint"], resource=ARM, **params)
    assert (r.status_code, r.json()) == (status, body)


@pytest.mark.parametrize("headers", [{}, {"Metadata": "True"}, {"Metadata": "false"}])
def test_metadata_header_must_be_lower_case_true(emu, headers):
    r = token(find_vm(emu, "sysVM")["imds_endpoint"], headers=headers, resource=ARM)
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "Required metadata header not specified"}


def test_x_forwarded_for_is_rejected(emu):
    r = token(find_vm(emu, "sysVM")["imds_endpoint"], headers={**H, "X-Forwarded-For": "10.0.0.1"}, resource=ARM)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_repeated_query_parameter_is_rejected(emu):
    base = find_vm(emu, "sysVM")["imds_endpoint"]
    r = requests.get(f"{base}{TOKEN}?api-version=2018-02-01&resource={ARM}&resource={ARM}", headers=H, timeout=10)
    assert r.status_code == 400 and "resource" in r.json()["error_description"]


def test_only_one_selector(emu):
    target = uami(emu, "uami1")
    r = token(find_vm(emu, "twoVM")["imds_endpoint"], resource=ARM, client_id=target["properties"]["clientId"],
              msi_res_id=target["id"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_api_version_required_and_checked(emu):
    base = find_vm(emu, "sysVM")["imds_endpoint"]
    missing = requests.get(base + TOKEN, params={"resource": ARM}, headers=H, timeout=10)
    assert missing.status_code == 400
    assert missing.json()["error"].startswith("Bad request. api-version was not specified")
    assert missing.json()["newest-versions"]
    for bad in ("2017-08-01", "2018-02-02", "latest"):
        r = token(base, resource=ARM, **{"api-version": bad})
        assert r.status_code == 400 and "api-version" in r.json()["error"]
    for good in ("2018-02-01", "2019-08-01", "2021-02-01"):
        assert token(base, resource=ARM, **{"api-version": good}).status_code == 200


def test_resource_required(emu):
    r = token(find_vm(emu, "sysVM")["imds_endpoint"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_unknown_resource_is_aadsts500011(emu):
    r = token(find_vm(emu, "sysVM")["imds_endpoint"], resource="https://unknown.example.com/")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_resource"
    assert r.json()["error_description"].startswith(
        "AADSTS500011: The resource principal named https://unknown.example.com/ was not found in the tenant named "
        f"{emu.info['tenant_id']}.")


def test_get_only(emu):
    base = find_vm(emu, "sysVM")["imds_endpoint"]
    r = requests.post(base + TOKEN, params={"api-version": "2018-02-01", "resource": ARM}, headers=H, timeout=10)
    assert r.status_code == 405


def test_identity_info(emu):
    base = find_vm(emu, "sysVM")["imds_endpoint"]
    r = requests.get(base + "/metadata/identity/info", params={"api-version": "2018-02-01"}, headers=H, timeout=10)
    assert r.status_code == 200 and r.json() == {"tenantId": emu.info["tenant_id"]}


def test_rate_limit_then_knob_off(emu):
    base = find_vm(emu, "myVM")["imds_endpoint"]   # a VM the other tests barely use

    def burst() -> list[int]:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda _: token(base, resource=ARM).status_code, range(40)))

    statuses = burst()
    assert 429 in statuses, statuses           # more than 20 requests/s for one VM
    emu.set_knobs(imds_limits=False)
    try:
        assert 429 not in burst()
    finally:
        emu.set_knobs(imds_limits=True)


def test_fault_injection_gives_imds_shaped_body(emu):
    base = find_vm(emu, "sysVM")["imds_endpoint"]
    emu.add_fault(service="imds", path=TOKEN, status=410, count=1)
    r = token(base, resource=ARM)
    assert r.status_code == 410 and set(r.json()) == {"error", "error_description"}
    assert token(base, resource=ARM).status_code == 200


def test_requests_are_counted(emu):
    before = emu.counters("imds")["requests"]
    token(find_vm(emu, "sysVM")["imds_endpoint"], resource=ARM)
    assert emu.counters("imds")["requests"] == before + 1
