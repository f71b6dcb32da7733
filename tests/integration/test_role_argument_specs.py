# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' meta/argument_specs.yml: every variable declared, prefixed and defaulted consistently, and bad values
refused before anything runs, with a message naming the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"
ROLES = ("enable_identity", "grant_access", "validate_access")
# Facts the roles publish for the next role: outputs, not inputs.
PUBLISHED = {
    "enable_identity": {"enable_identity_principal_id", "enable_identity_client_id", "enable_identity_principal_ids"},
    "grant_access": {"grant_access_role_definition", "grant_access_exclusive_result"},
    "validate_access": {"validate_access_result", "validate_access_permissions"},
}
# Host variables that say where a VM is in Azure: the inventory's, shared by the roles, so not prefixed.
HOST_VARIABLES = {"azure_resource_group", "azure_vm_name", "azure_subscription_id"}


def spec(role: str) -> dict:
    data = yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return data["argument_specs"]["main"]["options"]


def defaults(role: str) -> dict:
    return yaml.safe_load((ROLES_DIR / role / "defaults" / "main.yml").read_text(encoding="utf-8")) or {}


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_is_declared_prefixed_and_documented(role):
    options = spec(role)
    assert options
    for name, option in options.items():
        assert name in HOST_VARIABLES or (name.startswith(role + "_") and not name.startswith(role + "__")), name
        assert option.get("description"), name
        assert option.get("type"), name
    # Defaults: the same in defaults/main.yml and in the spec, and nothing undeclared.
    assert defaults(role) == {name: option["default"] for name, option in options.items() if "default" in option}
    # Every public variable the role's tasks and vars read is declared.
    text = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROLES_DIR / role).glob("*/*.yml") if p.parent.name != "meta"
    )
    used = set(re.findall(r"\b(%s_[a-z0-9_]+)" % role, text)) - set(re.findall(r"\b(%s__\w+)" % role, text))
    assert used - PUBLISHED[role] <= set(options), sorted(used - PUBLISHED[role] - set(options))


def play(role: str, variables: dict) -> list:
    return [
        {
            "name": "call " + role,
            "hosts": "localhost",
            "gather_facts": False,
            "roles": [{"role": "managed_identity.azure." + role, "vars": variables}],
        }
    ]


@pytest.mark.parametrize(
    "role, variables, expected",
    [
        ("validate_access", {"validate_access_timeout": "ten minutes"}, "validate_access_timeout"),
        ("validate_access", {"validate_access_source": "app_service"}, "validate_access_source"),
        ("enable_identity", {"enable_identity_mode": "cluster", "azure_resource_group": "rg"}, "enable_identity_mode"),
        (
            "enable_identity",
            {"enable_identity_tags": ["env", "prod"], "azure_resource_group": "rg"},
            "enable_identity_tags",
        ),
        ("enable_identity", {}, "missing required arguments: azure_resource_group"),
        (
            "grant_access",
            {"grant_access_principal_ids": ["p-1"], "grant_access_shared": "sometimes"},
            "grant_access_shared",
        ),
        ("grant_access", {"grant_access_principal_ids": ["p-1"], "grant_access_state": "gone"}, "grant_access_state"),
        ("grant_access", {}, "grant_access_principal_ids"),
    ],
)
def test_a_wrong_value_is_refused_before_anything_runs(run_playbook, role, variables, expected):
    result = run_playbook(play(role, variables))

    assert result.rc != 0
    [failure] = result.failed_tasks
    assert failure.task.endswith(
        "Validating arguments against arg spec 'main' - %s"
        % yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"][
            "short_description"
        ]
    )
    assert "Validation of arguments failed" in failure.result["msg"]
    assert expected in failure.result["msg"]
    assert len(result.tasks) == 1  # nothing after the validation ran


def test_the_type_error_says_which_variable_and_what_type(run_playbook):
    result = run_playbook(play("validate_access", {"validate_access_timeout": "ten minutes"}))

    [failure] = result.failed_tasks
    assert "validate_access_timeout" in failure.result["msg"]
    assert "int" in failure.result["msg"]


def test_a_vm_without_a_resource_group_fails_alone_before_any_azure_call(run_playbook):
    inventory = {
        "all": {
            "hosts": {"localhost": {"ansible_connection": "local"}},
            "children": {"azure_vms": {"hosts": {"vm-a": {"azure_resource_group": "rg"}, "vm-b": {}}}},
        }
    }
    play = [
        {
            "name": "grant on VMs",
            "hosts": "azure_vms",
            "gather_facts": False,
            "roles": [{"role": "managed_identity.azure.enable_identity"}],
        }
    ]

    result = run_playbook(play, inventory=inventory)

    assert result.rc != 0
    [failure] = [t for t in result.tasks if t.host == "vm-b"]
    assert failure.failed and "Validating arguments" in failure.task
    assert "missing required arguments: azure_resource_group" in failure.result["msg"]
    # vm-a went on (to its Azure call, which fails here for want of credentials).
    assert [t.action for t in result.tasks if t.host == "vm-a"][-1] == "managed_identity.azure.vm_identity"
