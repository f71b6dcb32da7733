"""App Service, Azure Arc, Service Fabric, Azure ML and Cloud Shell identity endpoints, at the HTTP level
(REFERENCE.md section 4)."""

from __future__ import annotations

import calendar
import os
import time
import warnings

import jwt
import pytest
import requests
import urllib3
from test_imds_support import IDENTITY_SEED, endpoint_env, principal_with_mirid, uami

ARM = "https://management.azure.com/"
HOSTS = {h["kind"]: h for h in IDENTITY_SEED["identity_hosts"]}


@pytest.fixture(scope="module")
def emu(start_emulator):
    return start_emulator(seed=IDENTITY_SEED)


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def host_id(kind: str, provider: str) -> str:
    return (f"/subscriptions/{IDENTITY_SEED['subscriptions'][0]['subscription_id']}/resourceGroups/DevTest/"
            f"providers/{provider}/{HOSTS[kind]['name']}")


# -- App Service 2019-08-01 ------------------------------------------------------------------------------------

def app_service(emu, headers=None, **params):
    env = endpoint_env(emu, "app_service")
    params.setdefault("api-version", "2019-08-01")
    headers = {"X-IDENTITY-HEADER": env["IDENTITY_HEADER"]} if headers is None else headers
    return requests.get(env["IDENTITY_ENDPOINT"], params=params, headers=headers, timeout=10)


def test_app_service_system_assigned(emu):
    r = app_service(emu, resource=ARM)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}   # no expires_in
    c = claims(body["access_token"])
    site = host_id("app_service", "Microsoft.Web/sites")
    assert c["oid"] == principal_with_mirid(emu, site.replace("resourceGroups", "resourcegroups"))["object_id"]
    assert c["xms_mirid"] == site.replace("/resourceGroups/", "/resourcegroups/")
    assert body["expires_on"] == str(c["exp"]) and body["client_id"] == c["appid"] and c["aud"] == ARM


@pytest.mark.parametrize("selector", ["client_id", "principal_id", "object_id", "mi_res_id"])
def test_app_service_user_assigned(emu, selector):
    target = uami(emu, "uami2")
    value = {"client_id": target["properties"]["clientId"], "principal_id": target["properties"]["principalId"],
             "object_id": target["properties"]["principalId"], "mi_res_id": target["id"]}[selector]
    r = app_service(emu, resource=ARM, **{selector: value})
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["oid"] == target["properties"]["principalId"]


def test_app_service_errors(emu):
    for headers in ({}, {"X-IDENTITY-HEADER": "wrong"}):
        r = app_service(emu, headers=headers, resource=ARM)
        assert r.status_code == 401 and set(r.json()) == {"statusCode", "message", "correlationId"}
    other = uami(emu, "uami1")   # exists, but is not assigned to the web app
    r = app_service(emu, resource=ARM, client_id=other["properties"]["clientId"])
    assert r.status_code == 400 and r.json()["message"] == "Unable to load the proper Managed Identity."
    assert app_service(emu).status_code == 400


def test_app_service_2017_form(emu):
    env = endpoint_env(emu, "app_service_2017")
    r = requests.get(env["MSI_ENDPOINT"], params={"api-version": "2017-09-01", "resource": ARM},
                     headers={"secret": env["MSI_SECRET"]}, timeout=10)
    assert r.status_code == 200
    body = r.json()
    exp = claims(body["access_token"])["exp"]
    # The parse azure-identity used for this protocol (azure_ml.py _parse_expires_on, Linux format).
    assert body["expires_on"].endswith(" +00:00")
    assert calendar.timegm(time.strptime(body["expires_on"][:-7], "%m/%d/%Y %H:%M:%S")) == exp
    target = uami(emu, "uami2")
    by_clientid = requests.get(env["MSI_ENDPOINT"], headers={"secret": env["MSI_SECRET"]}, timeout=10, params={
        "api-version": "2017-09-01", "resource": ARM, "clientid": target["properties"]["clientId"]})
    assert claims(by_clientid.json()["access_token"])["oid"] == target["properties"]["principalId"]
    wrong = requests.get(env["MSI_ENDPOINT"], params={"api-version": "2017-09-01", "resource": ARM},
                         headers={"secret": "nope"}, timeout=10)
    assert wrong.status_code == 401


# -- Azure ML --------------------------------------------------------------------------------------------------

def azure_ml(emu, headers=None, **params):
    env = endpoint_env(emu, "azure_ml")
    params.setdefault("api-version", "2017-09-01")
    return requests.get(env["MSI_ENDPOINT"], params=params, timeout=10,
                        headers={"secret": env["MSI_SECRET"]} if headers is None else headers)


def test_azure_ml(emu):
    r = azure_ml(emu, resource=ARM)
    assert r.status_code == 200 and isinstance(r.json()["expires_on"], int)
    assert claims(r.json()["access_token"])["exp"] == r.json()["expires_on"]
    target = uami(emu, "uami1")
    r = azure_ml(emu, resource=ARM, clientid=target["properties"]["clientId"])
    assert claims(r.json()["access_token"])["oid"] == target["properties"]["principalId"]
    assert azure_ml(emu, resource=ARM, client_id=target["properties"]["clientId"]).status_code == 400
    assert azure_ml(emu, headers={}, resource=ARM).status_code == 401
    assert azure_ml(emu, resource=ARM, **{"api-version": "2019-08-01"}).status_code == 400


# -- Service Fabric --------------------------------------------------------------------------------------------

def service_fabric(emu, headers=None, **params):
    env = endpoint_env(emu, "service_fabric")
    params.setdefault("api-version", env["IDENTITY_API_VERSION"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        # Clients pin the thumbprint instead of a CA; the SDK test pins, this one only reads bodies.
        return requests.get(env["IDENTITY_ENDPOINT"], params=params, verify=False, timeout=10,  # noqa: S501
                            headers={"Secret": env["IDENTITY_HEADER"]} if headers is None else headers)


def test_service_fabric(emu):
    env = endpoint_env(emu, "service_fabric")
    assert env["IDENTITY_ENDPOINT"].startswith("https://") and len(env["IDENTITY_SERVER_THUMBPRINT"]) == 40
    r = service_fabric(emu, resource=ARM)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"token_type", "access_token", "expires_on", "resource"}
    assert body["expires_on"] == claims(body["access_token"])["exp"]


@pytest.mark.parametrize(("headers", "params", "status", "code"), [
    ({}, {"resource": ARM}, 401, "SecretHeaderNotFound"),
    (None, {"resource": ARM, "api-version": "2018-02-01"}, 400, "InvalidApiVersion"),
    (None, {}, 400, "ArgumentNullOrEmpty"),
])
def test_service_fabric_errors(emu, headers, params, status, code):
    r = service_fabric(emu, headers=headers, **params)
    assert r.status_code == status
    error = r.json()["error"]
    assert set(error) == {"correlationId", "code", "message"} and error["code"] == code
    if code == "SecretHeaderNotFound":
        assert error["message"] == "Secret is not found in the request headers."


# -- Azure Arc -------------------------------------------------------------------------------------------------

def test_arc_challenge_then_token(emu):
    if os.geteuid() != 0:
        # The agent's key directory needs root, as on a real machine: the ready JSON says why Arc is off.
        assert "root" in emu.info["identity_endpoints"]["arc"]["unavailable"]
        return
    env = endpoint_env(emu, "arc")
    params = {"api-version": "2020-06-01", "resource": ARM}
    first = requests.get(env["IDENTITY_ENDPOINT"], params=params, headers={"Metadata": "true"}, timeout=10)
    assert first.status_code == 401
    scheme, _, path = first.headers["WWW-Authenticate"].partition(" realm=")
    assert scheme == "Basic" and path.startswith("/var/opt/azcmagent/tokens/") and path.endswith(".key")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600" and os.path.getsize(path) <= 4096
    with open(path, encoding="ascii") as handle:
        key = handle.read()
    wrong = requests.get(env["IDENTITY_ENDPOINT"], params=params, timeout=10,
                         headers={"Metadata": "true", "Authorization": "Basic not-the-key"})
    assert wrong.status_code == 401
    second = requests.get(env["IDENTITY_ENDPOINT"], params=params, timeout=10,
                          headers={"Metadata": "true", "Authorization": f"Basic {key}"})
    assert second.status_code == 200
    c = claims(second.json()["access_token"])
    assert c["xms_mirid"] == host_id("arc", "Microsoft.HybridCompute/machines").replace("resourceGroups",
                                                                                       "resourcegroups")
    assert all(isinstance(v, str) for v in second.json().values())
    client = requests.get(env["IDENTITY_ENDPOINT"], params={**params, "client_id": c["appid"]},
                          headers={"Metadata": "true"}, timeout=10)
    assert client.status_code == 400


# -- Cloud Shell -----------------------------------------------------------------------------------------------

def test_cloud_shell_user_token(emu):
    env = endpoint_env(emu, "cloud_shell")
    assert env["AZUREPS_HOST_ENVIRONMENT"].startswith("cloud-shell")
    r = requests.post(env["MSI_ENDPOINT"], data={"resource": ARM}, headers={"Metadata": "true"}, timeout=10)
    assert r.status_code == 200
    c = claims(r.json()["access_token"])
    assert c["idtyp"] == "user" and c["upn"] == HOSTS["cloud_shell"]["user_principal_name"]
    assert "xms_mirid" not in c and c["aud"] == ARM
    assert any(p["object_id"] == c["oid"] and p["kind"] == "user" for p in emu.state()["principals"])
    assert requests.post(env["MSI_ENDPOINT"], data={"resource": ARM}, timeout=10).json()["error"]["code"] == \
        "BadRequest"
    get = requests.get(env["MSI_ENDPOINT"], params={"resource": ARM}, headers={"Metadata": "true"}, timeout=10)
    assert get.status_code == 405 and set(get.json()["error"]) == {"code", "message"}


def test_identity_host_requests_are_counted_per_source(emu):
    before = emu.counters("azure_ml")["requests"]
    azure_ml(emu, resource=ARM)
    assert emu.counters("azure_ml")["requests"] == before + 1
