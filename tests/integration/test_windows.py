# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""validate_access's Windows branch end to end against the emulator, with the stand-in for ansible.windows.win_uri
(tests/support/collections) where PowerShell would run, over a local connection: Windows VMs of the emulator
(os_type Windows) validate through win_uri, Linux VMs through access_check, in one site.yml run; teardown.yml then
leaves the emulator as it found it."""

from __future__ import annotations

import pytest
from site_world import REPO, SEEDS, SITE, TEARDOWN, VM_TYPE, assignments, site_inventory, uamis, vms, world
from support.ansible import collections_path

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

SUB = "5c2f8a1b-3d4e-4f6a-9b0c-1d2e3f4a5b6c"
RG = "/subscriptions/%s/resourcegroups/rg-mixed" % SUB
ID_WIN2 = RG + "/providers/microsoft.managedidentity/userassignedidentities/id-win2"
SHARED = RG + "/providers/microsoft.managedidentity/userassignedidentities/id-azure-vms"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
STAND_IN = REPO / "tests" / "support" / "collections"
REPORT = "Report what the VM's identity read"
LINUX_READ = "Read the resource group with the VM's own identity, until its role has reached ARM"
WINDOWS_READ = LINUX_READ + " (Windows guest)"
WINDOWS_TOKEN = "Get a token from the VM's own identity (Windows guest)"


def windows_vms(state) -> set:
    return {
        r["name"]
        for r in state["resources"].values()
        if r["type"].lower() == VM_TYPE and r["properties"]["storageProfile"]["osDisk"]["osType"] == "Windows"
    }


def mixed_inventory(emu, **all_vars) -> dict:
    """site_world's inventory, with the emulator's Windows VMs on the Windows branch (forced: the stand-in runs over
    the local connection, which the automatic choice would take for Linux)."""
    inventory = site_inventory(emu, **all_vars)
    hosts = inventory["all"]["children"]["azure_vms"]["hosts"]
    for name in windows_vms(emu.state()):
        hosts[name]["validate_access_guest_os"] = "windows"
    return inventory


def windows_env(emu, tmp_path) -> dict:
    # The stand-in trusts what a Windows guest's certificate store would: here the emulator's CA.
    return {
        **emu.operator_env(),
        "ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (collections_path(tmp_path), STAND_IN),
        "SSL_CERT_FILE": emu.ca_bundle,
    }


def branch(result, host: str) -> str:
    """Which branch read the resource group on the host: the task that ran (not skipped)."""
    ran = {t.task.split(" : ", 1)[-1] for t in result.tasks if t.host == host and t.status != "skipped"}
    return {LINUX_READ in ran: "linux", WINDOWS_READ in ran: "windows"}.get(True, "none")


def reports(result) -> dict:
    return {t.host: t.result["msg"][0] for t in result.tasks if t.task.split(" : ", 1)[-1] == REPORT}


def test_mixed_fleet_site_and_teardown(run_playbook, start_emulator, tmp_path):
    # Propagation longer than the way from the grant to the first read.
    emu = start_emulator(seed=SEEDS / "mixed_os.yaml", extra_args=("--propagation-delay", "8"))
    operator = emu.operator["object_id"]
    before = emu.state()
    assert windows_vms(before) == {"win1", "win2"}
    env = windows_env(emu, tmp_path)
    inventory = mixed_inventory(emu)
    emu.reset_counters()

    first = run_playbook(SITE, inventory=inventory, env=env).assert_ok()

    state = emu.state()
    system = {name: vm["principal_id"].lower() for name, vm in vms(state).items()}
    assert {name: (vm["type"], vm["user_assigned"]) for name, vm in vms(state).items()} == {
        "win1": ("SystemAssigned", []),
        "win2": ("SystemAssigned, UserAssigned", [ID_WIN2]),
        "lin1": ("SystemAssigned", []),
    }
    assert assignments(state, but=operator) == sorted(
        ({"principal_id": p, "role": READER, "scope": RG} for p in system.values()), key=lambda a: a["principal_id"]
    )
    # Each VM read its resource group on its own branch with its own system identity's token (win2's IMDS picks the
    # system identity over id-win2), waiting for the role to reach ARM.
    assert {host: branch(first, host) for host in system} == {"win1": "windows", "win2": "windows", "lin1": "linux"}
    assert {host: system[host] in msg for host, msg in reports(first).items()} == dict.fromkeys(system, True)
    assert all("read /subscriptions/%s/resourceGroups/rg-mixed" % SUB in msg for msg in reports(first).values())
    for host in ("win1", "win2"):
        [read] = [t for t in first.tasks if t.host == host and t.task.endswith(WINDOWS_READ)]
        # no_log: the call that carries the token shows nothing of its result.
        assert read.status == "ok" and "json" not in read.result and "censored" in read.result
    # The play waits out propagation once, on the first branch's read (Linux's, which comes first in the role); the
    # Windows branch's own waiting is test_windows_guests_with_a_shared_identity_through_the_vm_extension_endpoint's.
    assert "access appeared after" in reports(first)["lin1"]
    # The emulator saw the token requests (IMDS answers 400 without the Metadata header or resource) and the reads.
    imds = emu.counters("imds")["by_route"]
    assert imds.get("GET /metadata/identity/oauth2/token", 0) >= 3
    arm = emu.counters("arm")["by_status"]
    assert arm.get("403", 0) >= 2 and emu.counters("imds")["by_status"].get("400", 0) == 0
    assert "Bearer" not in first.output and "access_token" not in first.output

    # A second run changes nothing, and validates again on both branches.
    emu.reset_counters()
    second = run_playbook(SITE, inventory=inventory, env=env).assert_ok()
    assert sum(host["changed"] for host in second.stats.values()) == 0
    assert emu.counters("arm")["writes"] == 0
    assert set(reports(second)) == {"win1", "win2", "lin1"}

    run_playbook(TEARDOWN, inventory=inventory, env=env).assert_ok()

    after = emu.state()
    assert world(after) == world(before)


def test_windows_guests_with_a_shared_identity_through_the_vm_extension_endpoint(
    run_playbook, start_emulator, tmp_path
):
    """The tutorial's older endpoint (port 50342 on the guest), with the shared identity selected by client ID, on the
    Windows VMs only: their read waits out the role's propagation."""
    emu = start_emulator(seed=SEEDS / "mixed_os.yaml", extra_args=("--propagation-delay", "8"))
    inventory = mixed_inventory(emu, enable_identity_mode="shared_user_assigned", validate_access_source="vm_extension")
    del inventory["all"]["children"]["azure_vms"]["hosts"]["lin1"]
    env = windows_env(emu, tmp_path)
    emu.reset_counters()

    result = run_playbook(SITE, inventory=inventory, env=env, verbosity=3).assert_ok()

    shared = uamis(emu.state())[SHARED]["properties"]["principalId"]
    assert {host: branch(result, host) for host in ("win1", "win2")} == {"win1": "windows", "win2": "windows"}
    # win2 has two user-assigned identities: only client_id in the query gets the shared one's token.
    assert set(reports(result)) == {"win1", "win2"}
    assert all(shared in msg and "(vm_extension)" in msg for msg in reports(result).values())
    # Retried while the role propagated; the call that carries the token shows nothing of its result (no_log).
    for host in ("win1", "win2"):
        assert "FAILED - RETRYING: [%s]: %s (" % (host, WINDOWS_READ) in result.stdout
        assert "access appeared after" in reports(result)[host]
        [read] = [t for t in result.tasks if t.host == host and t.task.endswith(WINDOWS_READ)]
        assert read.status == "ok" and "json" not in read.result and "censored" in read.result
    assert emu.counters("arm")["by_status"].get("403", 0) >= 2
    # Not even -vvv shows a token (a JWT starts with the base64url of '{"'), only its claims.
    assert "eyJ" not in result.output and "Bearer" not in result.output
    assert '"oid": "%s"' % shared in result.output
    # One token request per VM, on the extension's own path (its listener serves nothing else), none to IMDS.
    assert emu.counters("vm_extension")["by_route"] == {"GET /oauth2/token": 2}
    assert emu.counters("vm_extension")["by_status"] == {"200": 2}
    assert emu.counters("imds")["by_route"].get("GET /metadata/identity/oauth2/token", 0) == 0


def _role_play(host: str, **role_vars) -> list:
    return [
        {
            "name": "validate %s" % host,
            "hosts": host,
            "gather_facts": False,
            "roles": [{"role": "managed_identity.azure.validate_access", "vars": role_vars}],
        }
    ]


@pytest.mark.parametrize(
    "source, url, answer, route",
    [
        (
            "imds",
            "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F)",
            "HTTP 400, invalid_request: Identity not found.",
            ("imds", "GET /metadata/identity/oauth2/token"),
        ),
        (
            "vm_extension",
            "/oauth2/token?resource=https%3A%2F%2Fmanagement.azure.com%2F)",
            "HTTP 400, unauthorized_client: The client is not authorized to request an access token using this method.",
            ("vm_extension", "GET /oauth2/token"),
        ),
    ],
)
def test_windows_guest_without_an_identity_fails_clearly(run_playbook, emulator, tmp_path, source, url, answer, route):
    """The tutorial's own world: myVM (Windows) has no identity yet. Subscription and resource group come from the
    guest's instance metadata."""
    inventory = mixed_inventory(emulator)
    emulator.reset_counters()

    result = run_playbook(
        _role_play("myVM", validate_access_arm_endpoint=emulator.arm_endpoint, validate_access_source=source),
        inventory=inventory,
        env=windows_env(emulator, tmp_path),
    )

    assert result.rc != 0
    [failure] = [t for t in result.failed_tasks if t.host == "myVM"]
    assert failure.task.endswith("Stop when the identity endpoint gave no token (Windows guest)")
    assert failure.result["msg"].startswith("myVM: no token from %s (http://127.0.0.1:" % source)
    assert url in failure.result["msg"]
    assert answer in failure.result["msg"]
    assert "managed_identity.azure.enable_identity" in failure.result["msg"]
    # The guest asked its instance metadata where it lives, then once for a token; nothing reached ARM.
    assert emulator.counters("imds")["by_route"].get("GET /metadata/instance/{path}") == 1
    assert emulator.counters(route[0])["by_route"][route[1]] == 1
    assert emulator.counters("arm")["requests"] == 0


def test_windows_guest_waits_for_access_then_fails_with_what_to_check(run_playbook, start_emulator, tmp_path):
    """win2's own identity id-win2 has no role: 403 AuthorizationFailed is retried visibly, then a clear failure."""
    emu = start_emulator(seed=SEEDS / "mixed_os.yaml")
    inventory = mixed_inventory(emu)
    principal = uamis(emu.state())[ID_WIN2]["properties"]
    emu.reset_counters()

    result = run_playbook(
        _role_play(
            "win2",
            validate_access_client_id=principal["clientId"],
            validate_access_principal_id=principal["principalId"],
            validate_access_timeout=3,
            validate_access_delay=1,
            validate_access_arm_endpoint=emu.arm_endpoint,
        ),
        inventory=inventory,
        env=windows_env(emu, tmp_path),
    )

    assert result.rc != 0
    [failure] = result.failed_tasks
    assert failure.task.endswith("Stop when the resource group could not be read (Windows guest)")
    assert failure.result["msg"].startswith(
        "Failed to read resource group 'rg-mixed' with the managed identity of this host (principal %s) "
        "(HTTP 403, AuthorizationFailed): " % principal["principalId"]
    )
    assert "Assign a role with Microsoft.Resources/subscriptions/resourceGroups/read" in failure.result["msg"]
    assert result.stdout.count("FAILED - RETRYING: [win2]: " + WINDOWS_READ) == 3
    assert emu.counters("arm")["by_status"].get("403", 0) == 4
    assert emu.counters("arm")["writes"] == 0


def test_windows_guest_with_a_token_for_another_principal_fails(run_playbook, start_emulator, tmp_path):
    emu = start_emulator(seed=SEEDS / "mixed_os.yaml")
    inventory = mixed_inventory(emu)
    identity = uamis(emu.state())[ID_WIN2]["properties"]
    other = "00000000-0000-0000-0000-000000000001"
    emu.reset_counters()

    result = run_playbook(
        _role_play("win2", validate_access_client_id=identity["clientId"], validate_access_principal_id=other),
        inventory=inventory,
        env=windows_env(emu, tmp_path),
    )

    assert result.rc != 0
    [failure] = result.failed_tasks
    assert failure.result["msg"].startswith(
        "validate_access_principal_id: the token from imds is for principal %s (" % identity["principalId"]
    )
    assert "not %s" % other in failure.result["msg"]
    assert emu.counters("arm")["requests"] == 0


@pytest.mark.parametrize(
    "connection",
    [{"ansible_connection": "winrm"}, {"ansible_connection": "psrp"}, {"ansible_shell_type": "powershell"}],
    ids=["winrm", "psrp", "ssh-powershell"],
)
def test_the_branch_follows_the_connection(run_playbook, connection, tmp_path):
    """Without validate_access_guest_os, a WinRM or PSRP host, or an SSH host with a PowerShell shell, takes the
    Windows branch: its first task is a win_uri call in the guest (here to a closed loopback port: unreachable)."""
    host = {"ansible_host": "127.0.0.1", "ansible_port": 9, "validate_access_subscription_id": SUB,
            "validate_access_resource_group": "rg-mixed", **connection}
    inventory = {"all": {"hosts": {"winvm": host}}}

    env = {"ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (collections_path(tmp_path), STAND_IN)}

    result = run_playbook(_role_play("winvm"), inventory=inventory, env=env, timeout=120)

    assert result.rc != 0
    [stopped] = result.failed_tasks
    assert stopped.task.endswith(WINDOWS_TOKEN)


def test_site_on_a_windows_host_over_ssh_with_powershell(run_playbook, start_emulator, tmp_path):
    """site.yml unchanged on a Windows host described as users do (SSH, PowerShell shell, no override): the Azure
    steps run on the controller as for Linux VMs, and validation takes the Windows branch in the guest (here a closed
    loopback port, so it stops there, unreachable)."""
    emu = start_emulator(seed=SEEDS / "mixed_os.yaml")
    operator = emu.operator["object_id"]
    inventory = site_inventory(emu)
    inventory["all"]["children"]["azure_vms"]["hosts"]["win1"].update(
        ansible_connection="ssh", ansible_host="127.0.0.1", ansible_port=9, ansible_shell_type="powershell"
    )

    result = run_playbook(SITE, inventory=inventory, env=windows_env(emu, tmp_path), limit="win1")

    assert result.rc != 0
    [stopped] = result.failed_tasks
    assert stopped.host == "win1" and stopped.task.endswith(WINDOWS_TOKEN)
    state = emu.state()
    principal = vms(state)["win1"]["principal_id"].lower()
    assert vms(state)["win1"]["type"] == "SystemAssigned"
    assert assignments(state, but=operator) == [{"principal_id": principal, "role": READER, "scope": RG}]
