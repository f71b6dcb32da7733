"""Unmodified Microsoft clients (azure-identity, msal) against the emulator's Entra ID.

For an authority host it does not know, MSAL first asks login.microsoftonline.com's instance discovery
(msal/authority.py). Offline, tests either turn that off with the credential's documented
``disable_instance_discovery=True`` or point MSAL's ``instance_discovery`` at the emulator's own endpoint.
"""

from __future__ import annotations

import jwt
import msal
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential, EnvironmentCredential, WorkloadIdentityCredential
from support.emulator import RunningEmulator

ARM_SCOPE = "https://management.azure.com/.default"
SEED = {
    "subscriptions": [{"subscription_id": "98f51385-2edc-4b79-bed9-7718de4cb861"}],
    "service_principals": [
        {"name": "operator"},
        {"name": "workload", "federated_credentials": [{"subject": "system:serviceaccount:default:app"}]},
    ],
}

pytestmark = pytest.mark.sdk


@pytest.fixture(scope="module")
def emu(start_emulator) -> RunningEmulator:
    return start_emulator(seed=SEED)


def secret_credential(emu: RunningEmulator, secret: str) -> ClientSecretCredential:
    return ClientSecretCredential(emu.tenant_id, emu.operator["client_id"], secret, authority=emu.authority_host,
                                  connection_verify=emu.ca_bundle, disable_instance_discovery=True)


def test_client_secret_credential_gets_an_arm_token(emu: RunningEmulator) -> None:
    token = secret_credential(emu, emu.operator["client_secret"]).get_token(ARM_SCOPE)
    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["appid"] == emu.operator["client_id"]
    assert claims["aud"] == "https://management.azure.com"
    assert token.expires_on == claims["exp"]
    assert emu.counters("entra")["by_route"]["POST /{tenant}/oauth2/v2.0/token"] >= 1


def test_client_secret_credential_reports_aadsts7000215(emu: RunningEmulator) -> None:
    with pytest.raises(ClientAuthenticationError) as caught:
        secret_credential(emu, "wrong-secret").get_token(ARM_SCOPE)
    assert "AADSTS7000215" in str(caught.value)
    assert "wrong-secret" not in str(caught.value)


def test_environment_credential_with_operator_env(emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in emu.operator_env().items():
        monkeypatch.setenv(name, value)
    credential = EnvironmentCredential(connection_verify=emu.ca_bundle, disable_instance_discovery=True)
    claims = jwt.decode(credential.get_token(ARM_SCOPE).token, options={"verify_signature": False})
    assert claims["oid"] == emu.operator["object_id"]


def test_msal_confidential_client_with_instance_discovery_at_the_emulator(
        emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets REQUESTS_CA_BUNDLE override a Session's verify, so set it rather than msal's verify=.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emu.ca_bundle)
    app = msal.ConfidentialClientApplication(
        emu.operator["client_id"], client_credential=emu.operator["client_secret"],
        authority=f"{emu.authority_host}{emu.tenant_id}",
        instance_discovery=f"{emu.authority_host}common/discovery/instance")
    result = app.acquire_token_for_client([ARM_SCOPE])
    assert result.get("token_type") == "Bearer", result
    assert isinstance(result["expires_in"], int)
    assert emu.counters("entra")["by_route"].get("GET /common/discovery/instance", 0) >= 1
    bad = msal.ConfidentialClientApplication(
        emu.operator["client_id"], client_credential="wrong", authority=f"{emu.authority_host}{emu.tenant_id}",
        instance_discovery=False)
    failure = bad.acquire_token_for_client([ARM_SCOPE])
    assert failure["error"] == "invalid_client" and failure["error_codes"] == [7000215]


def test_workload_identity_credential_with_the_federated_token_file(emu: RunningEmulator) -> None:
    sp = emu.service_principal("workload")
    credential = WorkloadIdentityCredential(tenant_id=emu.tenant_id, client_id=sp["client_id"],
                                            token_file_path=sp["federated_token_file"],
                                            authority=emu.authority_host, connection_verify=emu.ca_bundle,
                                            disable_instance_discovery=True)
    claims = jwt.decode(credential.get_token(ARM_SCOPE).token, options={"verify_signature": False})
    assert claims["oid"] == sp["object_id"]
    assert claims["appidacr"] == "2"
