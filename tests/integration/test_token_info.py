# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""token_info through real ansible-playbook runs against the emulator: every source, every selector, every error.

The identities are checked against what ARM reports (principal IDs, client IDs), not against the module's own output.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
import requests
from support.emulator import RunningEmulator

PLAYBOOKS = Path(__file__).parent / "playbooks" / "identity"
SUB = "5c1d6a8e-3f0b-4c55-9a3e-8f2d4b7c9e10"
RG = "/subscriptions/%s/resourceGroups/IdentityRG" % SUB
COMPUTE_API = "2024-07-01"
MSI_API = "2023-01-31"
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


class Arm:
    """Direct ARM calls as the operator, to set up and read the truth independently of the collection."""

    def __init__(self, emulator: RunningEmulator):
        self.emulator = emulator
        self.headers = {"Authorization": "Bearer %s" % emulator.arm_token()}

    def call(self, method, path, api_version, body=None):
        url = "%s%s" % (self.emulator.arm_endpoint.rstrip("/"), path)
        response = requests.request(
            method,
            url,
            params={"api-version": api_version},
            json=body,
            headers=self.headers,
            verify=self.emulator.ca_bundle,
            timeout=30,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def vm(self, name):
        return self.call("GET", "%s/providers/Microsoft.Compute/virtualMachines/%s" % (RG, name), COMPUTE_API)

    def enable_system_identity(self, name):
        path = "%s/providers/Microsoft.Compute/virtualMachines/%s" % (RG, name)
        self.call("PATCH", path, COMPUTE_API, {"identity": {"type": "SystemAssigned"}})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            vm = self.vm(name)
            if vm["properties"].get("provisioningState") == "Succeeded" and vm["identity"].get("principalId"):
                return vm
            time.sleep(0.2)
        raise AssertionError("VM %s did not finish enabling its identity" % name)

    def uami(self, name):
        path = "%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%s" % (RG, name)
        return self.call("GET", path, MSI_API)


@pytest.fixture(scope="module")
def world():
    emulator = RunningEmulator.start(seed=PLAYBOOKS / "seed.yaml")
    try:
        arm = Arm(emulator)
        system_vm = arm.enable_system_identity("vmSystem")
        yield {
            "emulator": emulator,
            "system_principal_id": system_vm["identity"]["principalId"],
            "uami_a": arm.uami("uami-a"),
            "uami_b": arm.uami("uami-b"),
            "imds": {
                name: emulator.vm(name)["imds_endpoint"]
                for name in ("vmNoIdentity", "vmSystem", "vmOneUser", "vmTwoUsers")
            },
            "extension": emulator.vm("vmSystem")["vm_extension_endpoint"],
            "sources": emulator.info["identity_endpoints"],
        }
    finally:
        emulator.stop()


def run_cases(run_playbook, cases, **kwargs):
    result = run_playbook(
        PLAYBOOKS / "token_cases.yml", extra_vars={"cases": cases, **kwargs.pop("extra", {})}, **kwargs
    )
    results = {item["item"]["name"]: item for item in result.out("results")}
    return result, results


def ok(results, name):
    item = results[name]
    assert not item.get("failed"), "%s failed: %s" % (name, item.get("msg"))
    return item


def test_system_assigned_token_is_for_the_principal_arm_reports(world, run_playbook):
    cases = [
        {"name": "endpoint option", "endpoint": world["imds"]["vmSystem"]},
        # the Azure SDKs' own redirection variable, no option at all
        {"name": "pod identity variable", "env": {"AZURE_POD_IDENTITY_AUTHORITY_HOST": world["imds"]["vmSystem"]}},
        {"name": "check mode", "endpoint": world["imds"]["vmSystem"], "check_mode": True},
    ]
    started = time.time()
    result, results = run_cases(run_playbook, cases)
    result.assert_ok()
    for name in ("endpoint option", "pod identity variable", "check mode"):
        item = ok(results, name)
        assert item["claims"]["oid"] == world["system_principal_id"]
        assert item["claims"]["xms_mirid"].lower().endswith("/virtualmachines/vmsystem")
        assert item["source"] == "imds"
        assert item["changed"] is False
        assert item["token_type"] == "Bearer"
        assert item["claims"]["exp"] == item["expires_on"]
        assert item["expires_on_iso"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(item["expires_on"]))
        assert 0 < item["expires_in"] <= item["expires_on"] - int(started)  # counted from when the module ran
        assert item["resource"] == "https://management.azure.com/"


def test_user_assigned_identity_by_each_selector(world, run_playbook):
    uami = world["uami_b"]
    imds = world["imds"]["vmTwoUsers"]
    cases = [
        {"name": "client_id", "endpoint": imds, "client_id": uami["properties"]["clientId"]},
        {"name": "object_id", "endpoint": imds, "object_id": uami["properties"]["principalId"]},
        {"name": "msi_res_id", "endpoint": imds, "msi_res_id": uami["id"]},
        {"name": "only one attached, no selector", "endpoint": world["imds"]["vmOneUser"]},
    ]
    result, results = run_cases(run_playbook, cases)
    result.assert_ok()
    for name in ("client_id", "object_id", "msi_res_id"):
        item = ok(results, name)
        assert item["claims"]["oid"] == uami["properties"]["principalId"], name
        assert item["client_id"] == uami["properties"]["clientId"], name
    only = ok(results, "only one attached, no selector")
    assert only["claims"]["oid"] == world["uami_a"]["properties"]["principalId"]


def test_legacy_vm_extension_endpoint_works_and_warns(world, run_playbook):
    cases = [{"name": "legacy", "source": "vm_extension", "endpoint": world["extension"]}]
    result, results = run_cases(run_playbook, cases, extra={"hide": False})
    result.assert_ok()
    item = ok(results, "legacy")
    assert item["claims"]["oid"] == world["system_principal_id"]
    assert item["source"] == "vm_extension"
    assert "deprecated by Microsoft and replaced by IMDS" in result.output
    assert "use source: imds" in result.output


def test_every_other_source_through_its_emulated_endpoint(world, run_playbook):
    sources = world["sources"]
    assert "disabled" not in sources.get("arc", {}), "the Arc endpoint needs the emulator to run as root"
    cases = [
        {"name": "app_service", "env": sources["app_service"]["env"]},
        {"name": "app_service 2017", "source": "app_service", "env": sources["app_service_2017"]["env"]},
        {"name": "arc", "env": sources["arc"]["env"]},
        {"name": "service_fabric", "env": sources["service_fabric"]["env"]},
        {"name": "azure_ml", "env": sources["azure_ml"]["env"]},
        {"name": "cloud_shell", "env": sources["cloud_shell"]["env"]},
    ]
    result, results = run_cases(run_playbook, cases)
    result.assert_ok()
    providers = {
        "app_service": "/providers/microsoft.web/sites/",
        "app_service 2017": "/providers/microsoft.web/sites/",
        "arc": "/providers/microsoft.hybridcompute/machines/",
        "service_fabric": "/providers/microsoft.servicefabric/managedclusters/",
        "azure_ml": "/providers/microsoft.machinelearningservices/workspaces/",
    }
    for name, provider in providers.items():
        item = ok(results, name)
        # auto-detection picked the source (the 2017 form is asked for explicitly: auto says azure_ml, as the SDKs do)
        assert item["source"] == name.split()[0], name
        assert provider in item["claims"]["xms_mirid"].lower(), name
        assert item["expires_on"] > time.time(), name
    shell = ok(results, "cloud_shell")
    assert shell["source"] == "cloud_shell"
    assert shell["claims"]["idtyp"] == "user"
    # the Arc agent's one-time key was consumed and removed: nothing left behind in its directory
    assert not list(Path("/var/opt/azcmagent/tokens").glob("*.key"))


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % sock.getsockname()[1]


@pytest.mark.parametrize("hide", [True, False], ids=["no_log", "logged"])
def test_errors_fail_the_task_with_the_fix_and_no_token(world, run_playbook, hide):
    uami_b = world["uami_b"]["properties"]["clientId"]
    unreachable = closed_port_url()
    cases = [
        {"name": "no identity", "endpoint": world["imds"]["vmNoIdentity"]},
        {"name": "not attached", "endpoint": world["imds"]["vmOneUser"], "client_id": uami_b},
        {"name": "several, no selector", "endpoint": world["imds"]["vmTwoUsers"]},
        {"name": "unknown resource", "endpoint": world["imds"]["vmSystem"], "resource": "https://management.azure.co/"},
        {"name": "unreachable", "endpoint": unreachable},
        {"name": "arc with a selector", "source": "arc", "client_id": uami_b, "env": world["sources"]["arc"]["env"]},
    ]
    result, results = run_cases(run_playbook, cases, extra={"hide": hide}, verbosity=4)
    assert result.rc == 0  # ignore_errors: the play goes on; each case is a failed item
    expected = {
        "no identity": "this host has no system-assigned managed identity",
        "not attached": "the user-assigned identity with client_id=%s is not attached to this host" % uami_b,
        "several, no selector": "set one of the options client_id, object_id or msi_res_id",
        "unknown resource": "a trailing slash matters",
        "unreachable": "This host may not be an Azure VM",
        "arc with a selector": "Source arc cannot select a user-assigned identity by client_id",
    }
    for name, message in expected.items():
        item = results[name]
        assert item["failed"] is True, name
        assert message in item["msg"], (name, item["msg"])
        assert "access_token" not in item, name
    assert unreachable in results["unreachable"]["msg"]
    assert "AADSTS500011" in results["unknown resource"]["msg"]
    if not hide:
        for message in expected.values():
            assert message in result.output
    assert not JWT.search(result.output), "a token appeared in the output of failing tasks"


def test_without_no_log_and_at_vvvv_no_token_is_printed_unless_asked_for(world, run_playbook):
    """token_info returns the claims by default, not the token: a task without no_log cannot leak it, even at -vvvv."""
    cases = [{"name": "imds", "source": "imds", "endpoint": world["imds"]["vmSystem"]}]
    result, results = run_cases(run_playbook, cases, extra={"hide": False}, verbosity=4)
    result.assert_ok()
    assert ok(results, "imds")["claims"]["oid"] == world["system_principal_id"]
    assert world["system_principal_id"] in result.output  # the result really was printed
    assert "access_token" not in ok(results, "imds")
    assert not JWT.search(result.output)
    # Asked for, the token is there (and shown, since this task has no no_log: the reason it is off by default).
    cases[0]["return_token"] = True
    result, results = run_cases(run_playbook, cases, extra={"hide": False})
    assert JWT.search(ok(results, "imds")["access_token"])


def test_no_token_in_verbose_output_with_no_log(world, run_playbook):
    # The identity header comes from the process environment, as the platform sets it (a task's `environment:`
    # would be echoed by Ansible itself at -vvv).
    platform_env = world["sources"]["service_fabric"]["env"]
    cases = [
        {"name": "imds", "source": "imds", "endpoint": world["imds"]["vmSystem"], "return_token": True},
        {"name": "service_fabric", "return_token": True},
    ]
    result, results = run_cases(run_playbook, cases, verbosity=4, env=platform_env)
    result.assert_ok()
    assert ok(results, "service_fabric")["source"] == "service_fabric"
    secrets = [ok(results, name)["access_token"] for name in ("imds", "service_fabric")]
    secrets.append(platform_env["IDENTITY_HEADER"])
    assert all(len(secret) > 20 for secret in secrets)
    for secret in secrets:
        assert secret not in result.output
    assert not JWT.search(result.output)
    assert "the output has been hidden" in result.output  # the tasks really ran, censored
