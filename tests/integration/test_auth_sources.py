# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every auth_source that can run here, through real ansible-playbook runs against the emulator.

Who actually called ARM is proven by Azure's own 403 text for the group the identity was NOT granted: it names the
caller's object id. No secret or token may appear in a -vvvv run.
"""

from __future__ import annotations

import os
import re
import stat

import arm_world as world
import pytest
from arm_world import GRANTED, PLAYBOOKS, SUB, endpoints, read_vars, sp_auth

READ = PLAYBOOKS / "read_resource_group.yml"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")


@pytest.fixture(scope="module")
def _world():
    yield from world.running()


@pytest.fixture
def arm_world(_world):
    _world.reset()
    return _world


def assert_read_as(result, object_id):
    """The granted group was read; the other one was refused to exactly this principal."""
    out = result.out("results")
    assert out["granted"]["exists"] is True, out
    assert out["granted"]["id"].lower() == ("/subscriptions/%s/resourcegroups/%s" % (SUB, GRANTED)).lower()
    assert out["granted"]["tags"] == {"purpose": "granted"}
    other = out["other"]
    assert other["failed"] is True and other["status_code"] == 403, other
    assert "with object id '%s'" % object_id in other["msg"]


def token_requests(emu, route="entra POST /{tenant}/oauth2/v2.0/token"):
    return emu.counters()["by_route"].get(route, 0)


def test_service_principal_options(arm_world, run_playbook):
    result = run_playbook(READ, extra_vars=read_vars(arm_world, sp_auth(arm_world, "workload")), verbosity=4)
    result.assert_ok()
    assert_read_as(result, arm_world.service_principal("workload")["object_id"])
    # -vvvv shows module arguments and results: neither the secret nor any JWT (the ARM token) may be among them.
    assert arm_world.service_principal("workload")["client_secret"] not in result.output
    assert not JWT.search(result.output)
    # One token for the play: the second module run takes it from the controller's token cache.
    assert token_requests(arm_world) == 1


def test_service_principal_from_sdk_environment_with_auto(arm_world, run_playbook):
    sp = arm_world.service_principal("workload")
    env = {
        "AZURE_TENANT_ID": arm_world.tenant_id,
        "AZURE_CLIENT_ID": sp["client_id"],
        "AZURE_CLIENT_SECRET": sp["client_secret"],
        "AZURE_AUTHORITY_HOST": arm_world.authority_host,
        "AZURE_SUBSCRIPTION_ID": SUB,
    }
    auth = {"arm_endpoint": arm_world.arm_endpoint, "ca_path": arm_world.ca_bundle}
    variables = read_vars(arm_world, auth)
    plays = [
        {
            "name": "auto from the environment",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/managed_identity.azure.azure": auth},
            "tasks": [
                {"name": "read", "managed_identity.azure.resource_group_info": {"name": GRANTED}, "register": "rg"},
                {"name": "check", "ansible.builtin.assert": {"that": ["rg.exists"]}},
            ],
        }
    ]
    run_playbook(plays, env=env, extra_vars=variables).assert_ok()
    assert token_requests(arm_world) == 1


def test_workload_identity_with_the_seeded_federated_token(arm_world, run_playbook):
    sp = arm_world.service_principal("workload")
    assert sp.get("federated_token_file"), "the seed declares a federated credential for 'workload'"
    auth = {
        "auth_source": "workload_identity",
        "tenant_id": arm_world.tenant_id,
        "client_id": sp["client_id"],
        "federated_token_file": sp["federated_token_file"],
        **endpoints(arm_world),
    }
    result = run_playbook(READ, extra_vars=read_vars(arm_world, auth), verbosity=4).assert_ok()
    assert_read_as(result, sp["object_id"])
    federated = open(sp["federated_token_file"]).read().strip()
    assert federated not in result.output


def test_managed_identity_of_an_emulated_vm(arm_world, run_playbook):
    vm = arm_world.vm("vm-mi")
    env = {"AZURE_POD_IDENTITY_AUTHORITY_HOST": vm["imds_endpoint"]}
    auth = {"auth_source": "managed_identity", **endpoints(arm_world)}
    result = run_playbook(READ, extra_vars=read_vars(arm_world, auth), env=env).assert_ok()
    assert token_requests(arm_world) == 0  # no Entra ID call: the token came from the VM's IMDS
    assert_read_as(result, world.vm_principal_id(arm_world))


def test_given_token_is_used_and_never_printed(arm_world, run_playbook):
    token = arm_world.arm_token(arm_world.service_principal("workload"))
    auth = {"auth_source": "token", "access_token": token, **endpoints(arm_world)}
    result = run_playbook(READ, extra_vars=read_vars(arm_world, auth), verbosity=4).assert_ok()
    assert_read_as(result, arm_world.service_principal("workload")["object_id"])
    assert JWT.fullmatch(token)  # the pattern the other tests search for does match an emulator token
    assert token not in result.output
    assert token.split(".")[2] not in result.output  # not even the signature part


def test_cli_login_through_az(arm_world, run_playbook, tmp_path):
    token = arm_world.arm_token(arm_world.service_principal("workload"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(
        "#!/bin/sh\n"
        'echo "$@" >> "%s/az-calls"\n'
        'echo \'{"accessToken": "%s", "expires_on": 4102444800, "tokenType": "Bearer"}\'\n' % (tmp_path, token)
    )
    az.chmod(az.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": "%s%s%s" % (bin_dir, os.pathsep, os.environ["PATH"])}
    auth = {"auth_source": "cli", **endpoints(arm_world)}
    result = run_playbook(READ, extra_vars=read_vars(arm_world, auth), env=env).assert_ok()
    assert_read_as(result, arm_world.service_principal("workload")["object_id"])
    calls = (tmp_path / "az-calls").read_text().splitlines()
    assert calls[0].split() == [
        "account",
        "get-access-token",
        "--resource",
        "https://management.core.windows.net/",
        "--output",
        "json",
    ]


def test_wrong_secret_fails_with_aadsts_and_no_secret_anywhere(arm_world, run_playbook):
    wrong = "Wr0ng~Secret-Value.that-must-not-leak"
    variables = read_vars(arm_world, sp_auth(arm_world, "operator", secret=wrong), expect_failure=True)
    variables.pop("other_group")
    result = run_playbook(READ, extra_vars=variables, verbosity=4)
    granted = result.out("results")["granted"]
    assert granted["failed"] is True
    assert "AADSTS7000215" in granted["msg"], granted["msg"]
    assert arm_world.service_principal("operator")["client_id"] in granted["msg"]
    assert wrong not in result.output
    assert wrong not in (result.run_dir / "results.jsonl").read_text()
    assert arm_world.counters("arm")["requests"] == 0  # nothing reached ARM


def test_auto_with_nothing_configured_says_what_it_tried(arm_world, run_playbook, tmp_path):
    closed = "http://127.0.0.1:9"  # discard port: nothing listens, the IMDS probe fails fast on loopback
    env = {"AZURE_POD_IDENTITY_AUTHORITY_HOST": closed, "PATH": "/usr/bin:/bin"}
    variables = read_vars(arm_world, endpoints(arm_world), expect_failure=True)
    variables.pop("other_group")
    result = run_playbook(READ, extra_vars=variables, env=env)
    msg = result.out("results")["granted"]["msg"]
    assert "no credential source worked with auth_source=auto" in msg
    for source in ("service_principal:", "workload_identity:", "managed_identity:", "cli:"):
        assert source in msg, msg
    assert arm_world.counters("arm")["requests"] == 0
