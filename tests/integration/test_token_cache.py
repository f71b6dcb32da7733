# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's token cache against the emulator with Entra ID's loop detection on: playbooks/site.yml on 50 VMs
asks for a handful of operator tokens with the cache and is refused (429 AADSTS50196) without it; a cached token that
ARM refuses as revoked or expired is fetched again, once; nothing secret lands next to the cache or in -vvvv output."""

from __future__ import annotations

import json
import time

import pytest
from site_world import SITE, site_inventory, vms

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

SUB = "5c0ffee0-0000-4000-8000-000000000050"
DEFAULT_SEED_SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"  # azure_emulator/seeds/default.yaml
RG = "rg-fleet50"
TOKEN_ROUTE = "POST /{tenant}/oauth2/v2.0/token"
# Well below the module runs site.yml makes for 50 VMs (several per VM), well above what a cached run needs.
LOOP_THRESHOLD = 10


def fleet_seed(count: int) -> dict:
    return {
        "subscriptions": [
            {
                "subscription_id": SUB,
                "resource_groups": [
                    {"name": RG, "location": "westus", "vms": [{"name": "vm%02d" % i} for i in range(count)]}
                ],
            }
        ],
        "service_principals": [{"name": "operator"}],
        "role_assignments": [{"principal": "operator", "role": "Owner", "scope": "/subscriptions/" + SUB}],
    }


def operator_token_requests(emu) -> dict:
    """Status -> count of the operator's token requests (the only client that asks Entra ID for tokens here)."""
    counts = {"200": 0, "429": 0}
    snapshot = emu.counters("entra")
    assert set(snapshot["by_route"]) <= {TOKEN_ROUTE}, snapshot["by_route"]
    counts.update(snapshot["by_status"])
    return counts


def test_site_on_50_vms_needs_a_handful_of_tokens_and_is_throttled_without_the_cache(
    start_emulator, run_playbook, tmp_path
):
    emu = start_emulator(
        seed=fleet_seed(50),
        extra_args=("--entra-loop-threshold", str(LOOP_THRESHOLD), "--entra-loop-window", "600", "--lro-delay", "0.1"),
    )
    inventory = site_inventory(emu)
    env = {**emu.operator_env(), "ANSIBLE_FORKS": "10", "ANSIBLE_AZURE_TOKEN_CACHE_DIR": str(tmp_path / "cache")}

    cached = run_playbook(SITE, inventory=inventory, env=env, timeout=300).assert_ok()

    fleet = vms(emu.state())
    assert len(fleet) == 50 and {vm["type"] for vm in fleet.values()} == {"SystemAssigned"}
    assert len([t for t in cached.tasks if t.task.endswith("Report what the VM's identity read")]) == 50
    tokens = operator_token_requests(emu)
    assert tokens.get("429", 0) == 0
    assert 1 <= tokens["200"] <= 3

    # The same run on the same world, with the cache off: one token request per module run, and Entra ID's loop
    # detection refuses the requests beyond the threshold.
    emu.reset()
    uncached = run_playbook(SITE, inventory=inventory, env={**env, "ANSIBLE_AZURE_TOKEN_CACHE": "false"}, timeout=300)

    assert uncached.rc != 0
    tokens = operator_token_requests(emu)
    assert tokens["200"] == LOOP_THRESHOLD and tokens["429"] >= 1
    failed = [t for t in uncached.failed_tasks if "AADSTS50196" in json.dumps(t.result)]
    assert failed, uncached.output[-3000:]
    assert "keep the token cache on" in json.dumps(failed[0].result)


def read_group_play(emu, subscription_id: str, group: str, times: int = 1) -> list:
    """A play of ``times`` resource_group_info runs (a loop: one module process per item) as the operator."""
    task = {
        "name": "Read the resource group",
        "managed_identity.azure.resource_group_info": {
            "name": group,
            "subscription_id": subscription_id,
            "arm_endpoint": emu.arm_endpoint,
            "ca_path": emu.ca_bundle,
        },
    }
    if times > 1:
        task["loop"] = list(range(times))
    return [
        {"name": "read a resource group as the operator", "hosts": "localhost", "gather_facts": False, "tasks": [task]}
    ]


def devtest_play(emu) -> list:
    """The default seed's resource group, which the operator (Owner of the subscription) can read."""
    return read_group_play(emu, DEFAULT_SEED_SUB, "DevTest")


def replace_cached_token(cache, token: str) -> dict:
    """Put ``token`` in the one cache entry, as if the cache still believed it valid (it was revoked, or the
    clocks disagree); the file keeps its 0600 mode."""
    [entry] = list(cache.glob("*.json"))
    data = json.loads(entry.read_text())
    data["access_token"] = token
    entry.write_text(json.dumps(data))
    return data


def cached_token(cache) -> str:
    [entry] = list(cache.glob("*.json"))
    return json.loads(entry.read_text())["access_token"]


def test_a_revoked_or_expired_cached_token_is_fetched_again_once(emulator, run_playbook, tmp_path):
    emu = emulator
    cache = tmp_path / "cache"
    env = {**emu.operator_env(), "ANSIBLE_AZURE_TOKEN_CACHE_DIR": str(cache)}
    play = devtest_play(emu)

    run_playbook(play, env=env).assert_ok()
    run_playbook(play, env=env).assert_ok()
    assert operator_token_requests(emu)["200"] == 1  # the second run used the cached token
    first = cached_token(cache)

    # Revoked: ARM no longer accepts the signature (401 InvalidAuthenticationToken).
    header, payload, signature = first.split(".")
    revoked = "%s.%s.%s" % (header, payload, ("A" if signature[0] != "A" else "B") + signature[1:])
    replace_cached_token(cache, revoked)
    emu.reset_counters()
    run_playbook(play, env=env).assert_ok()
    assert emu.counters("arm")["by_status"].get("401") == 1
    assert operator_token_requests(emu)["200"] == 1
    assert cached_token(cache) not in (first, revoked)

    # Expired: a genuine token that ran out (401 ExpiredAuthenticationToken).
    emu.set_knobs(token_lifetime=1)
    expired = emu.arm_token()
    emu.set_knobs(token_lifetime=None)
    time.sleep(2)
    replace_cached_token(cache, expired)
    emu.reset_counters()
    run_playbook(play, env=env).assert_ok()
    assert emu.counters("arm")["by_status"].get("401") == 1
    assert operator_token_requests(emu)["200"] == 1
    renewed = cached_token(cache)
    assert renewed != expired

    # And the renewed token is what the next run uses, with no 401 and no token request.
    emu.reset_counters()
    run_playbook(play, env=env).assert_ok()
    assert emu.counters("arm")["by_status"].get("401") is None
    assert operator_token_requests(emu)["200"] == 0


def test_nothing_secret_next_to_the_cache_or_in_verbose_output(emulator, run_playbook, tmp_path):
    emu = emulator
    cache = tmp_path / "cache"
    env = {**emu.operator_env(), "ANSIBLE_AZURE_TOKEN_CACHE_DIR": str(cache)}
    secret = emu.operator["client_secret"]

    result = run_playbook(devtest_play(emu), env=env, verbosity=4).assert_ok()

    token = cached_token(cache)
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    for path in cache.iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert secret not in path.read_text()
    # The cache's neighbours (the run's directory, Ansible's temp and home) hold neither the secret nor the token.
    for path in tmp_path.rglob("*"):
        if path.is_file() and cache not in path.parents:
            text = path.read_text(errors="replace")
            assert secret not in text and token not in text, path
    assert secret not in result.output and token not in result.output


def test_widened_cache_permissions_fail_the_module_with_the_fix(emulator, run_playbook, tmp_path):
    emu = emulator
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o755)
    env = {**emu.operator_env(), "ANSIBLE_AZURE_TOKEN_CACHE_DIR": str(cache)}

    result = run_playbook(devtest_play(emu), env=env)

    assert result.rc != 0
    msg = result.task("Read the resource group").result["msg"]
    assert "refusing to use the token cache: directory %s has mode 0755" % cache in msg
    assert "chmod 700 %s" % cache in msg
    assert operator_token_requests(emu)["200"] == 0 and list(cache.iterdir()) == []
