# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token lookup in templates, on a controller whose IMDS is an emulated VM's (AZURE_POD_IDENTITY_AUTHORITY_HOST)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import requests
from support.emulator import RunningEmulator

PLAYBOOKS = Path(__file__).parent / "playbooks" / "identity"
UAMI = ("/subscriptions/5c1d6a8e-3f0b-4c55-9a3e-8f2d4b7c9e10/resourceGroups/IdentityRG"
        "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-b")

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_lookup_in_a_template(run_playbook):
    with RunningEmulator.start(seed=PLAYBOOKS / "seed.yaml") as emulator:
        uami = requests.get("%s%s" % (emulator.arm_endpoint.rstrip("/"), UAMI), params={"api-version": "2023-01-31"},
                            headers={"Authorization": "Bearer %s" % emulator.arm_token()},
                            verify=emulator.ca_bundle, timeout=30).json()
        imds = emulator.vm("vmTwoUsers")["imds_endpoint"]
        result = run_playbook(PLAYBOOKS / "lookup.yml", extra_vars={"uami_client_id": uami["properties"]["clientId"]},
                              env={"AZURE_POD_IDENTITY_AUTHORITY_HOST": imds}, verbosity=3)
    assert result.rc == 0, result.output
    header = (result.out_dir / "header.txt").read_text()
    token = re.fullmatch(r"Authorization: Bearer (\S+)\n", header).group(1)
    assert claims(token)["oid"] == uami["properties"]["principalId"]
    tokens = result.out("tokens")
    assert tokens["module"] == token  # same identity, same cached token through the module
    arm, vault = tokens["two"]
    assert claims(arm)["aud"] == "https://management.azure.com/"
    assert claims(vault)["aud"] == "https://vault.azure.net"
    assert claims(vault)["oid"] == uami["properties"]["principalId"]
    failure = result.task("A lookup failure")
    assert failure.status == "ignored"
    assert "does not know the resource 'https://management.azure.co/'" in failure.result["msg"]
    assert "does not know the resource 'https://management.azure.co/'" in result.output
    assert token not in result.output and vault not in result.output
