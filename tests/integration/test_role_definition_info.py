# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""role_definition_info against the emulator's built-in roles."""

from __future__ import annotations

import pytest
from rbac_world import MODULE_DEFAULTS, READER_GUID, SEED, SUB, azure_vars


@pytest.fixture(scope="module")
def emu():
    from support.emulator import RunningEmulator

    emu = RunningEmulator.start(seed=SEED)
    yield emu
    emu.stop()


def test_by_name_guid_id_and_unknown(run_playbook, emu):
    play = [
        {"name": "by name", "managed_identity.azure.role_definition_info": {"name": "reader"}, "register": "n"},
        {"name": "by guid", "managed_identity.azure.role_definition_info": {"id": READER_GUID}},
        {
            "name": "by id",
            "managed_identity.azure.role_definition_info": {
                "id": "/providers/Microsoft.Authorization/roleDefinitions/%s" % READER_GUID
            },
        },
        {"name": "unknown", "managed_identity.azure.role_definition_info": {"name": "Reeder"}},
        {"name": "all", "managed_identity.azure.role_definition_info": {"resource_group": "rbac-rg"}},
        {"name": "bad id", "managed_identity.azure.role_definition_info": {"id": "Reader"}, "ignore_errors": True},
    ]

    result = run_playbook(
        [
            {
                "name": "defs",
                "hosts": "localhost",
                "gather_facts": False,
                "module_defaults": MODULE_DEFAULTS,
                "tasks": play,
            }
        ],
        extra_vars=azure_vars(emu),
    )
    assert result.rc == 0, result.output
    for name in ("by name", "by guid", "by id"):
        (reader,) = result.task(name).result["role_definitions"]
        assert reader["name"] == READER_GUID and reader["role_name"] == "Reader"
        assert reader["role_type"] == "BuiltInRole"
        assert reader["permissions"][0]["actions"] == ["*/read"]
        assert reader["permissions"][0]["not_actions"] == []
    assert result.task("by name").result["role_definitions"][0][
        "id"
    ] == "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (SUB, READER_GUID)
    assert result.task("unknown").result["role_definitions"] == []
    names = {d["role_name"] for d in result.task("all").result["role_definitions"]}
    assert {"Owner", "Contributor", "Reader", "User Access Administrator", "Managed Identity Operator"} <= names
    assert result.task("bad id").result["msg"].startswith("id: 'Reader' is neither a role definition GUID")
    assert emu.counters("arm")["writes"] == 0
