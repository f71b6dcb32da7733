# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""instance_info on an emulated VM: the facts match what ARM says about that VM."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

PLAYBOOK = Path(__file__).parent / "playbooks" / "identity" / "instance_info.yml"

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def test_instance_info_matches_arm(emulator, run_playbook):
    vm = emulator.vm("myVM")
    response = requests.get("%s%s" % (emulator.arm_endpoint.rstrip("/"), vm["id"]),
                            params={"api-version": "2024-07-01"}, verify=emulator.ca_bundle, timeout=30,
                            headers={"Authorization": "Bearer %s" % emulator.arm_token()})
    response.raise_for_status()
    arm_vm = response.json()

    result = run_playbook(PLAYBOOK, extra_vars={"endpoint": vm["imds_endpoint"]}).assert_ok()
    facts = result.out("vm")
    assert facts["changed"] is False
    assert facts["subscription_id"] == vm["subscription_id"]
    assert facts["resource_group"] == vm["resource_group"]
    assert facts["name"] == arm_vm["name"] == "myVM"
    assert facts["resource_id"].lower() == arm_vm["id"].lower()
    assert facts["vm_id"] == arm_vm["properties"]["vmId"]
    assert facts["location"] == arm_vm["location"]
    assert facts["os_type"].lower() == "windows"
    assert facts["az_environment"]


def test_instance_info_retries_imds_while_it_updates(emulator, run_playbook):
    emulator.add_fault(service="imds", kind="status", status=410, count=2)
    vm = emulator.vm("myVM")
    result = run_playbook(PLAYBOOK, extra_vars={"endpoint": vm["imds_endpoint"]}).assert_ok()
    assert result.out("vm")["name"] == "myVM"
    assert emulator.counters("imds")["by_status"].get("410") == 2
