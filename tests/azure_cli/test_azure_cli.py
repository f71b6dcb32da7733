"""Unmodified azure-cli against the emulator registered as a custom cloud (make azure-cli-test; not part of make test:
azure-cli is a 700 MB install). Every request stays on loopback: a proxy on a closed loopback port catches anything
else azure-cli would try to reach.

What it proves: cloud registration from /metadata/endpoints (azure-cli joins the ARM endpoint's trailing slash to
"/metadata/endpoints"), service principal login, ``az identity create`` with the api-version azure-cli sends,
``--assignee`` resolved through Microsoft Graph to a managed identity, and ``role assignment list`` naming principals
through ``directoryObjects/getByIds``.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.emulator import RunningEmulator

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"
SEED = {
    "subscriptions": [{"subscription_id": SUB, "resource_groups": [{"name": "DevTest", "location": "westus"}]}],
    "service_principals": [{"name": "operator", "graph_permissions": ["Directory.Read.All"]}],
    "role_assignments": [{"principal": "operator", "role": "Owner", "scope": f"/subscriptions/{SUB}"}],
}


@pytest.fixture(scope="module")
def az(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    program = os.environ.get("AZURE_CLI")
    if not program or not Path(program).is_file():
        pytest.fail("AZURE_CLI must name the az program: run these tests with make azure-cli-test")
    emu = RunningEmulator.start(seed=SEED)
    config = tmp_path_factory.mktemp("azure-config")
    env = {**os.environ, "AZURE_CONFIG_DIR": str(config), "REQUESTS_CA_BUNDLE": emu.ca_bundle,
           "AZURE_CORE_COLLECT_TELEMETRY": "false", "AZURE_CORE_INSTANCE_DISCOVERY": "false",
           "AZURE_CORE_ONLY_SHOW_ERRORS": "true", "AZURE_CORE_SURVEY_MESSAGE": "false",
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"}

    def run(*args: str, check: bool = True) -> Any:
        done = subprocess.run([program, *args, "--output", "json"], env=env, capture_output=True, text=True,
                              timeout=300)
        if check and done.returncode != 0:
            raise AssertionError(f"az {' '.join(args[:3])} failed ({done.returncode}): {done.stderr[-2000:]}")
        return json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else done

    run("cloud", "register", "--name", "AzureEmulator", "--endpoint-resource-manager", emu.arm_endpoint)
    run("cloud", "set", "--name", "AzureEmulator")
    operator = emu.service_principal("operator")
    run("login", "--service-principal", "--username", operator["client_id"], "--password",
        operator["client_secret"], "--tenant", emu.tenant_id)
    run.emu = emu  # type: ignore[attr-defined]
    try:
        yield run
    finally:
        emu.stop()


def test_login_lists_the_subscription(az: Any) -> None:
    assert [s["id"] for s in az("account", "list")] == [SUB]


def test_identity_create_and_role_assignment_by_client_id(az: Any) -> None:
    name = f"id-{uuid.uuid4().hex[:6]}"
    identity = az("identity", "create", "--resource-group", "DevTest", "--name", name)
    emu = az.emu
    stored = emu.state()["resources"][identity["id"].lower()]
    assert stored["properties"]["principalId"] == identity["principalId"]
    scope = f"/subscriptions/{SUB}/resourceGroups/DevTest"
    created = az("role", "assignment", "create", "--assignee", identity["clientId"], "--role", "Reader",
                 "--scope", scope)
    assert created["principalId"] == identity["principalId"] and created["principalType"] == "ServicePrincipal"
    listed = az("role", "assignment", "list", "--scope", scope)
    mine = [a for a in listed if a["principalId"] == identity["principalId"]]
    assert [a["roleDefinitionName"] for a in mine] == ["Reader"]
    assert mine[0]["principalName"] == identity["clientId"]
    # An object id resolves through directoryObjects/getByIds (no servicePrincipalNames match).
    az("role", "assignment", "create", "--assignee", identity["principalId"], "--role", "Contributor",
       "--scope", scope)
    az("role", "assignment", "delete", "--assignee", identity["clientId"], "--role", "Reader", "--scope", scope)
    left = [a["properties"]["roleDefinitionId"].rsplit("/", 1)[1] for a in emu.state()["role_assignments"].values()
            if a["properties"]["principalId"] == identity["principalId"]]
    assert left == ["b24988ac-6180-42a0-ab88-20f7382dd24c"]


def test_service_principal_show_through_graph(az: Any) -> None:
    operator = az.emu.service_principal("operator")
    shown = az("ad", "sp", "show", "--id", operator["client_id"])
    assert shown["id"] == operator["object_id"] and shown["servicePrincipalType"] == "Application"
