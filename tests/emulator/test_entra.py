"""Entra ID token endpoints, errors, OIDC discovery and JWKS at the HTTP level (REFERENCE.md section 5)."""

from __future__ import annotations

import base64
import re
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from support.emulator import RunningEmulator

ARM_SCOPE = "https://management.azure.com/.default"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FED_SEED = {
    "subscriptions": [{"subscription_id": "98f51385-2edc-4b79-bed9-7718de4cb861"}],
    "service_principals": [
        {"name": "operator", "secret": "fixed-secret-value"},
        {"name": "workload", "federated_credentials": [
            {"issuer": "https://oidc.example.test/", "subject": "system:serviceaccount:apps:web"}]},
    ],
}


def post(emu: RunningEmulator, path: str, data: dict, **kwargs) -> requests.Response:
    return requests.post(f"{emu.authority_host}{path}", data=data, verify=emu.ca_bundle, timeout=10, **kwargs)


def v2(emu: RunningEmulator, tenant: str | None = None, **form) -> requests.Response:
    return post(emu, f"{tenant or emu.tenant_id}/oauth2/v2.0/token", form)


def creds(sp: dict, **extra) -> dict:
    return {"grant_type": "client_credentials", "client_id": sp["client_id"], "client_secret": sp["client_secret"],
            "scope": ARM_SCOPE, **extra}


def assert_aad_error(response: requests.Response, status: int, error: str, code: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert re.search(r"\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: "
                     r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$", body["error_description"])
    assert GUID.match(body["trace_id"]) and GUID.match(body["correlation_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", body["timestamp"])
    assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"
    return body


@pytest.fixture(scope="module")
def fed(start_emulator) -> RunningEmulator:
    return start_emulator(seed=FED_SEED)


def test_v2_client_credentials_returns_a_v1_arm_token(emulator: RunningEmulator) -> None:
    op = emulator.operator
    response = v2(emulator, **creds(op))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store, no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599 and isinstance(body["expires_in"], int)
    assert isinstance(body["ext_expires_in"], int)
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["typ"] == "JWT" and header["kid"] == header["x5t"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    tid = emulator.tenant_id
    assert claims["aud"] == "https://management.azure.com"
    assert claims["iss"] == f"https://sts.windows.net/{tid}/" == claims["idp"]
    assert claims["appid"] == op["client_id"] and claims["appidacr"] == "1"
    assert claims["oid"] == claims["sub"] == op["object_id"]
    assert (claims["tid"], claims["idtyp"], claims["ver"]) == (tid, "app", "1.0")
    assert claims["iat"] == claims["nbf"] and claims["exp"] - claims["iat"] == 3599
    assert "xms_mirid" not in claims


def test_token_signature_verifies_against_the_published_jwks(emulator: RunningEmulator) -> None:
    token = v2(emulator, **creds(emulator.operator)).json()["access_token"]
    config = requests.get(f"{emulator.authority_host}{emulator.tenant_id}/v2.0/.well-known/openid-configuration",
                          verify=emulator.ca_bundle, timeout=10).json()
    jwks = requests.get(config["jwks_uri"], verify=emulator.ca_bundle, timeout=10).json()
    (key,) = jwks["keys"]
    assert (key["kty"], key["use"], key["e"]) == ("RSA", "sig", "AQAB")
    assert key["kid"] == key["x5t"] == jwt.get_unverified_header(token)["kid"]
    assert key["issuer"].endswith("{tenantid}/v2.0") and key["x5c"]
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience="https://management.azure.com")
    assert claims["oid"] == emulator.operator["object_id"]
    v1_keys = requests.get(f"{emulator.authority_host}common/discovery/keys", verify=emulator.ca_bundle,
                           timeout=10).json()
    assert v1_keys["keys"][0]["kid"] == key["kid"]


def test_secret_in_http_basic_auth(emulator: RunningEmulator) -> None:
    op = emulator.operator
    basic = base64.b64encode(f"{op['client_id']}:{op['client_secret']}".encode()).decode()
    response = v2(emulator, grant_type="client_credentials", scope=ARM_SCOPE)
    assert response.status_code == 400
    response = post(emulator, f"{emulator.tenant_id}/oauth2/v2.0/token",
                    {"grant_type": "client_credentials", "scope": ARM_SCOPE},
                    headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.text


def test_v1_endpoint_answers_numbers_as_strings(emulator: RunningEmulator) -> None:
    op = emulator.operator
    response = post(emulator, f"{emulator.tenant_id}/oauth2/token",
                    {"grant_type": "client_credentials", "client_id": op["client_id"],
                     "client_secret": op["client_secret"], "resource": "https://management.core.windows.net/"})
    assert response.status_code == 200, response.text
    body = response.json()
    for field in ("expires_in", "ext_expires_in", "expires_on", "not_before"):
        assert isinstance(body[field], str) and body[field].isdigit(), field
    assert body["resource"] == "https://management.core.windows.net/"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://management.core.windows.net/"
    assert int(body["expires_on"]) == claims["exp"] and int(body["not_before"]) == claims["nbf"]


def test_wrong_secret(emulator: RunningEmulator) -> None:
    response = v2(emulator, **creds(emulator.operator, client_secret="not-the-secret"))
    body = assert_aad_error(response, 401, "invalid_client", 7000215)
    assert emulator.operator["client_id"] in body["error_description"]
    assert "not-the-secret" not in response.text


def test_correlation_id_echoes_client_request_id(emulator: RunningEmulator) -> None:
    cid = "11111111-2222-3333-4444-555555555555"
    response = post(emulator, f"{emulator.tenant_id}/oauth2/v2.0/token",
                    creds(emulator.operator, client_secret="x"), headers={"client-request-id": cid})
    assert response.json()["correlation_id"] == cid


def test_unknown_client(emulator: RunningEmulator) -> None:
    client_id = "00000000-1111-2222-3333-444444444444"
    response = v2(emulator, **creds(emulator.operator, client_id=client_id))
    body = assert_aad_error(response, 400, "unauthorized_client", 700016)
    assert f"Application with identifier '{client_id}' was not found in the directory" in body["error_description"]


@pytest.mark.parametrize(("tenant", "code"), [("6b0c2a8e-0000-4000-8000-000000000000", 90002),
                                              ("contoso.onmicrosoft.com", 90002), ("not a tenant!", 900023),
                                              ("organizations", 50059), ("common", 50059)])
def test_tenant_errors(emulator: RunningEmulator, tenant: str, code: int) -> None:
    assert_aad_error(v2(emulator, tenant=tenant, **creds(emulator.operator)), 400, "invalid_request", code)


@pytest.mark.parametrize(("scope", "status", "error", "code"), [
    ("https://management.azure.com/user_impersonation", 400, "invalid_scope", 1002012),
    ("https://management.azure.com", 400, "invalid_scope", 1002012),
    ("https://management.azure.com/.default https://vault.azure.net/.default", 400, "invalid_scope", 70011),
    ("https://unknown.example.com/.default", 400, "invalid_resource", 500011),
])
def test_scope_errors(emulator: RunningEmulator, scope: str, status: int, error: str, code: int) -> None:
    assert_aad_error(v2(emulator, **creds(emulator.operator, scope=scope)), status, error, code)


def test_v1_unknown_resource(emulator: RunningEmulator) -> None:
    op = emulator.operator
    response = post(emulator, f"{emulator.tenant_id}/oauth2/token",
                    {"grant_type": "client_credentials", "client_id": op["client_id"],
                     "client_secret": op["client_secret"], "resource": "https://nope.example.com/"})
    assert_aad_error(response, 400, "invalid_resource", 500011)


@pytest.mark.parametrize("missing", ["grant_type", "client_id", "scope"])
def test_missing_parameter(emulator: RunningEmulator, missing: str) -> None:
    form = creds(emulator.operator)
    del form[missing]
    body = assert_aad_error(v2(emulator, **form), 400, "invalid_request", 900144)
    assert f"'{missing}'" in body["error_description"]


def test_missing_secret_and_assertion(emulator: RunningEmulator) -> None:
    form = creds(emulator.operator)
    del form["client_secret"]
    assert_aad_error(v2(emulator, **form), 401, "invalid_client", 7000218)


def test_unsupported_grant_type(emulator: RunningEmulator) -> None:
    assert_aad_error(v2(emulator, **creds(emulator.operator, grant_type="password")), 400,
                     "unsupported_grant_type", 70003)


def test_token_lifetime_knob(emulator: RunningEmulator) -> None:
    emulator.set_knobs(token_lifetime=120)
    assert v2(emulator, **creds(emulator.operator)).json()["expires_in"] == 120


def assertion_form(sp: dict, assertion: str) -> dict:
    return {"grant_type": "client_credentials", "client_id": sp["client_id"], "scope": ARM_SCOPE,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}


def test_federated_assertion_from_the_token_file(fed: RunningEmulator) -> None:
    sp = fed.service_principal("workload")
    with open(sp["federated_token_file"]) as handle:
        assertion = handle.read()
    fed_claims = jwt.decode(assertion, options={"verify_signature": False})
    assert fed_claims["iss"] == "https://oidc.example.test/"
    assert fed_claims["sub"] == "system:serviceaccount:apps:web"
    assert fed_claims["aud"] == "api://AzureADTokenExchange"
    assert fed_claims["exp"] > time.time() + 3600
    response = v2(fed, **assertion_form(sp, assertion))
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["appid"] == sp["client_id"] and claims["appidacr"] == "2"


def test_federated_assertion_for_another_client_is_refused(fed: RunningEmulator) -> None:
    with open(fed.service_principal("workload")["federated_token_file"]) as handle:
        assertion = handle.read()
    body = assert_aad_error(v2(fed, **assertion_form(fed.operator, assertion)), 401, "invalid_client", 700211)
    assert "https://oidc.example.test/" in body["error_description"]


def test_federated_assertion_signed_by_another_key_is_refused(fed: RunningEmulator) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode({"iss": "https://oidc.example.test/", "sub": "system:serviceaccount:apps:web",
                         "aud": "api://AzureADTokenExchange", "iat": now, "exp": now + 600}, key, algorithm="RS256")
    sp = fed.service_principal("workload")
    assert_aad_error(v2(fed, **assertion_form(sp, forged)), 401, "invalid_client", 700027)


def test_seed_secret_is_used_as_given(fed: RunningEmulator) -> None:
    assert fed.operator["client_secret"] == "fixed-secret-value"
    assert v2(fed, **creds(fed.operator)).status_code == 200


def test_openid_configuration_v2_and_v1(emulator: RunningEmulator) -> None:
    host, tid = emulator.authority_host, emulator.tenant_id
    v2_doc = requests.get(f"{host}{tid}/v2.0/.well-known/openid-configuration", verify=emulator.ca_bundle,
                          timeout=10).json()
    assert v2_doc["token_endpoint"] == f"{host}{tid}/oauth2/v2.0/token"
    assert v2_doc["jwks_uri"] == f"{host}{tid}/discovery/v2.0/keys"
    assert v2_doc["issuer"] == f"{host}{tid}/v2.0"
    assert v2_doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(v2_doc["token_endpoint_auth_methods_supported"]) == {"client_secret_post", "private_key_jwt",
                                                                    "client_secret_basic"}
    v1_doc = requests.get(f"{host}{tid}/.well-known/openid-configuration", verify=emulator.ca_bundle,
                          timeout=10).json()
    assert v1_doc["token_endpoint"] == f"{host}{tid}/oauth2/token"
    assert v1_doc["issuer"] == f"https://sts.windows.net/{tid}/"
    common = requests.get(f"{host}common/v2.0/.well-known/openid-configuration", verify=emulator.ca_bundle,
                          timeout=10).json()
    assert common["issuer"] == f"{host}{{tenantid}}/v2.0"


def test_openid_configuration_of_an_unknown_tenant(emulator: RunningEmulator) -> None:
    response = requests.get(f"{emulator.authority_host}6b0c2a8e-0000-4000-8000-000000000000/v2.0/"
                            ".well-known/openid-configuration", verify=emulator.ca_bundle, timeout=10)
    assert_aad_error(response, 400, "invalid_tenant", 90002)


def test_instance_discovery(emulator: RunningEmulator) -> None:
    host = emulator.authority_host
    response = requests.get(f"{host}common/discovery/instance", verify=emulator.ca_bundle, timeout=10, params={
        "api-version": "1.0", "authorization_endpoint": f"https://127.0.0.1/{emulator.tenant_id}/oauth2/v2.0/authorize"})
    body = response.json()
    assert body["tenant_discovery_endpoint"] == f"{host}{emulator.tenant_id}/v2.0/.well-known/openid-configuration"
    other = requests.get(f"{host}common/discovery/instance", verify=emulator.ca_bundle, timeout=10, params={
        "api-version": "1.0", "authorization_endpoint": "https://login.example.com/x/oauth2/v2.0/authorize"})
    assert_aad_error(other, 400, "invalid_instance", 50049)


def test_tokens_are_counted_by_route_and_status(emulator: RunningEmulator) -> None:
    v2(emulator, **creds(emulator.operator))
    v2(emulator, **creds(emulator.operator, client_secret="bad"))
    counters = emulator.counters("entra")
    assert counters["by_route"]["POST /{tenant}/oauth2/v2.0/token"] == 2
    assert counters["by_status"] == {"200": 1, "401": 1}
