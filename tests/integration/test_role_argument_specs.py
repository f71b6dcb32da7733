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
    "enable_identity": {"enable_identity_vms", "enable_identity_principals"},
    "grant_access": {"grant_access_assignment_ids", "grant_access_enabled_system_principals"},
    "validate_access": {"validate_access_result"},
}


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
        assert name.startswith(role + "_") and not name.startswith(role + "__"), name
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
        ("enable_identity", {"enable_identity_mode": "cluster"}, "enable_identity_mode"),
        ("enable_identity", {"enable_identity_hosts": {"myVM": 1}}, "enable_identity_hosts"),
        ("enable_identity", {"enable_identity_tags": ["env", "prod"]}, "enable_identity_tags"),
        (
            "grant_access",
            {"grant_access_principals": ["6b554238-084b-4071-b2cf-cf2358a793d1"]},
            "grant_access_principals",
        ),
        ("grant_access", {"grant_access_principals": [{"scope": "/subscriptions/x"}]}, "principal_id"),
        ("grant_access", {}, "grant_access_principals"),
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


def test_a_principal_without_scope_is_refused_rather_than_granted_on_the_subscription(run_playbook):
    result = run_playbook(play("grant_access", {"grant_access_principals": [{"principal_id": "p-1"}]}))

    assert result.rc != 0
    [failure] = result.failed_tasks
    assert failure.task.endswith("Check that every principal has a scope")
    assert "neither a scope nor a resource_group" in failure.result["msg"] and "p-1" in failure.result["msg"]
    assert not [t for t in result.tasks if "role_assignment" in t.action]


def test_hosts_without_a_resource_group_are_named(run_playbook):
    inventory = {
        "all": {
            "hosts": {"localhost": {"ansible_connection": "local"}},
            "children": {"azure_vms": {"hosts": {"vm-a": {"azure_resource_group": "rg"}, "vm-b": {}}}},
        }
    }

    result = run_playbook(play("enable_identity", {}), inventory=inventory)

    assert result.rc != 0
    [failure] = result.failed_tasks
    assert "no azure_resource_group host variable" in failure.result["msg"]
    assert "vm-b" in failure.result["msg"] and "vm-a" not in failure.result["msg"]
