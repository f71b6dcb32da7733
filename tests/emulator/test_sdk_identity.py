"""Unmodified Microsoft clients against the identity endpoints: azure-identity's ManagedIdentityCredential and
msal's ManagedIdentityClient, each configured only through the environment the platform would set."""

from __future__ import annotations

import os

import jwt
import msal
import pytest
import requests
from azure.identity import ClientSecretCredential, CredentialUnavailableError, ManagedIdentityCredential
from test_imds_support import IDENTITY_SEED, SUB, find_vm, uami

pytestmark = pytest.mark.sdk

SCOPE = "https://management.azure.com/.default"
PLATFORM_VARS = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE",
                 "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IDENTITY_API_VERSION",
                 "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                 "AZUREPS_HOST_ENVIRONMENT", "ACC_CLOUD", "AZURE_CLIENT_ID", "AZURE_TENANT_ID",
                 "AZURE_FEDERATED_TOKEN_FILE")


@pytest.fixture(scope="module")
def emu(start_emulator):
    return start_emulator(seed=IDENTITY_SEED)


@pytest.fixture
def platform(monkeypatch):
    """Set exactly the variables one platform sets, and none of the others."""
    def apply(env: dict) -> None:
        for name in PLATFORM_VARS:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
    return apply


def oid(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["oid"]


def vm_principal(emu, name: str) -> str:
    return emu.state()["resources"][find_vm(emu, name)["id"].lower()]["identity"]["principalId"]


def test_imds_system_assigned(emu, platform):
    platform({"AZURE_POD_IDENTITY_AUTHORITY_HOST": find_vm(emu, "sysVM")["imds_endpoint"]})
    assert oid(ManagedIdentityCredential().get_token(SCOPE).token) == vm_principal(emu, "sysVM")


def test_imds_user_assigned_by_client_id_and_resource_id(emu, platform):
    platform({"AZURE_POD_IDENTITY_AUTHORITY_HOST": find_vm(emu, "twoVM")["imds_endpoint"]})
    target = uami(emu, "uami2")
    by_client = ManagedIdentityCredential(client_id=target["properties"]["clientId"]).get_token(SCOPE)
    by_resource = ManagedIdentityCredential(identity_config={"resource_id": target["id"]}).get_token(SCOPE)
    assert oid(by_client.token) == oid(by_resource.token) == target["properties"]["principalId"]


def test_imds_vm_without_identity_is_unavailable(emu, platform):
    platform({"AZURE_POD_IDENTITY_AUTHORITY_HOST": find_vm(emu, "myVM")["imds_endpoint"]})
    with pytest.raises(CredentialUnavailableError, match="Identity not found"):
        ManagedIdentityCredential().get_token(SCOPE)


def test_app_service(emu, platform):
    platform(emu.info["identity_endpoints"]["app_service"]["env"])
    token = ManagedIdentityCredential().get_token(SCOPE)
    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["xms_mirid"].endswith("/providers/Microsoft.Web/sites/myWebApp")
    assert token.expires_on == claims["exp"]
    target = uami(emu, "uami2")
    assert oid(ManagedIdentityCredential(client_id=target["properties"]["clientId"]).get_token(SCOPE).token) == \
        target["properties"]["principalId"]


def test_azure_ml(emu, platform):
    platform(emu.info["identity_endpoints"]["azure_ml"]["env"])
    target = uami(emu, "uami1")
    token = ManagedIdentityCredential(client_id=target["properties"]["clientId"]).get_token(SCOPE)
    assert oid(token.token) == target["properties"]["principalId"]


def test_service_fabric_pins_the_thumbprint(emu, platform):
    env = dict(emu.info["identity_endpoints"]["service_fabric"]["env"])
    platform(env)
    claims = jwt.decode(ManagedIdentityCredential().get_token(SCOPE).token, options={"verify_signature": False})
    assert claims["xms_mirid"].endswith("/providers/Microsoft.ServiceFabric/managedClusters/myCluster")
    platform({**env, "IDENTITY_SERVER_THUMBPRINT": "0" * 40})
    # azure-identity lets the pinning failure surface as the transport's SSLError.
    with pytest.raises(requests.exceptions.SSLError, match="thumbprint does not match"):
        ManagedIdentityCredential().get_token(SCOPE)


def test_arc(emu, platform):
    if os.geteuid() != 0:
        assert "root" in emu.info["identity_endpoints"]["arc"]["unavailable"]
        return
    platform(emu.info["identity_endpoints"]["arc"]["env"])
    claims = jwt.decode(ManagedIdentityCredential().get_token(SCOPE).token, options={"verify_signature": False})
    assert claims["xms_mirid"].endswith("/providers/Microsoft.HybridCompute/machines/myArcServer")


def test_msal_imds_and_app_service(emu, platform):
    for env in ({"AZURE_POD_IDENTITY_AUTHORITY_HOST": find_vm(emu, "bothVM")["imds_endpoint"]},
                emu.info["identity_endpoints"]["app_service"]["env"]):
        platform(env)
        client = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=requests.Session())
        result = client.acquire_token_for_client(resource="https://management.azure.com/")
        assert "access_token" in result, result.get("error_description")
        assert result["expires_in"] > 86000
        if "AZURE_POD_IDENTITY_AUTHORITY_HOST" in env:
            assert oid(result["access_token"]) == vm_principal(emu, "bothVM")


def test_identity_enabled_through_arm_is_served_by_imds(emu, platform):
    """The token's oid is the principal ARM reports after enabling the identity with azure-mgmt-compute."""
    from azure.mgmt.compute import ComputeManagementClient

    platform({"REQUESTS_CA_BUNDLE": emu.ca_bundle, "SSL_CERT_FILE": emu.ca_bundle})
    operator = emu.operator
    credential = ClientSecretCredential(emu.tenant_id, operator["client_id"], operator["client_secret"],
                                        authority=emu.authority_host, disable_instance_discovery=True,
                                        connection_verify=emu.ca_bundle)
    compute = ComputeManagementClient(credential, SUB, base_url=emu.arm_endpoint,
                                      credential_scopes=[SCOPE], connection_verify=emu.ca_bundle)
    imds = find_vm(emu, "myVM")["imds_endpoint"]
    platform({"AZURE_POD_IDENTITY_AUTHORITY_HOST": imds, "REQUESTS_CA_BUNDLE": emu.ca_bundle})
    with pytest.raises(CredentialUnavailableError):
        ManagedIdentityCredential().get_token(SCOPE)
    vm = compute.virtual_machines.begin_update("DevTest", "myVM", {"identity": {"type": "SystemAssigned"}}).result()
    assert vm.identity.principal_id
    assert oid(ManagedIdentityCredential().get_token(SCOPE).token) == vm.identity.principal_id
    compute.virtual_machines.begin_update("DevTest", "myVM", {"identity": {"type": "None"}}).result()
    with pytest.raises(CredentialUnavailableError):
        ManagedIdentityCredential().get_token(SCOPE)
