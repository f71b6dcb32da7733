# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared auth argspec and its doc fragment describe the same options; secrets are no_log, IDs are not; the
modules with these options are exactly the action group, and say so."""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

from ansible_collections.managed_identity.azure.plugins.doc_fragments.auth import ModuleDocFragment
from ansible_collections.managed_identity.azure.plugins.module_utils import _auth_options

DOC = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
REPO = pathlib.Path(__file__).resolve().parents[4]


def test_fragment_documents_exactly_the_argspec():
    assert set(DOC) == set(_auth_options.AUTH_ARGUMENT_SPEC)
    for name, spec in _auth_options.AUTH_ARGUMENT_SPEC.items():
        assert DOC[name]["type"] == spec["type"], name
        assert DOC[name].get("default") == spec.get("default"), name
        assert sorted(DOC[name].get("choices", [])) == sorted(spec.get("choices", [])), name


def test_secrets_are_no_log_and_ids_are_not():
    spec = _auth_options.AUTH_ARGUMENT_SPEC
    assert spec["client_secret"]["no_log"] is True
    assert spec["access_token"]["no_log"] is True
    for name in ("tenant_id", "client_id", "object_id", "msi_res_id", "subscription_id", "federated_token_file"):
        assert not spec[name].get("no_log"), name


def test_module_options_may_not_shadow_auth_options():
    with pytest.raises(ValueError, match="client_id"):
        _auth_options.merge_argument_spec({"client_id": {"type": "str"}})
    merged = _auth_options.merge_argument_spec({"name": {"type": "str"}})
    assert "name" in merged and "auth_source" in merged
    merged["auth_source"]["default"] = "cli"
    assert _auth_options.AUTH_ARGUMENT_SPEC["auth_source"]["default"] == "auto"


def test_the_modules_with_the_auth_options_are_the_action_group_and_document_it():
    with_auth, documented = set(), set()
    for path in sorted((REPO / "plugins" / "modules").glob("*.py")):
        module = importlib.import_module("ansible_collections.managed_identity.azure.plugins.modules." + path.stem)
        fragments = yaml.safe_load(module.DOCUMENTATION)["extends_documentation_fragment"]
        if "managed_identity.azure.auth" in fragments:
            with_auth.add(path.stem)
        if "managed_identity.azure.attributes.action_group" in fragments:
            documented.add(path.stem)
    group = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]["azure"]
    assert with_auth and with_auth == set(group) == documented
