# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity option group: the argspec matches the doc fragment; one adapter for modules and plugins."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.managed_identity.azure.plugins.doc_fragments.identity import ModuleDocFragment
from ansible_collections.managed_identity.azure.plugins.module_utils import _identity_options
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError
from ansible_collections.managed_identity.azure.plugins.module_utils._identity import IdentityToken


def documented(section):
    return yaml.safe_load(section)["options"]


def test_argspec_and_doc_fragment_agree():
    docs = dict(documented(ModuleDocFragment.DOCUMENTATION), **documented(ModuleDocFragment.CONNECTION))
    assert set(docs) == set(_identity_options.IDENTITY_ARGSPEC)
    for name, spec in _identity_options.IDENTITY_ARGSPEC.items():
        assert docs[name]["type"] == spec["type"], name
        assert docs[name].get("default") == spec.get("default"), name
        assert docs[name].get("choices") == spec.get("choices"), name


def test_adapter_reads_modules_and_plugins_alike():
    module = SimpleNamespace(params={"client_id": "a"})
    plugin = SimpleNamespace(get_option={"client_id": "a"}.__getitem__)
    assert _identity_options.OptionAdapter.from_module(module).get("client_id") == "a"
    assert _identity_options.OptionAdapter.from_plugin(plugin).get("client_id") == "a"


@pytest.mark.parametrize(
    "options, fragment",
    [({"timeout": 0}, "timeout=0.0 must be more than 0"), ({"max_wait": -1}, "max_wait=-1.0 must be 0"),
     ({"timeout": "soon"}, "timeout='soon' is not a number")],
)
def test_connection_options_are_checked(options, fragment):
    with pytest.raises(ConfigurationError, match=fragment):
        _identity_options.connection_kwargs(_identity_options.OptionAdapter.from_dict(options))


def test_fetch_token_passes_every_option(monkeypatch):
    seen = {}
    monkeypatch.setattr(_identity_options, "get_token", lambda resource, **kw: seen.update(kw, resource=resource))
    options = {"source": "imds", "object_id": "o", "endpoint": "http://127.0.0.1:9", "timeout": 3, "max_wait": 4,
               "resource": "https://vault.azure.net"}
    _identity_options.fetch_token(_identity_options.OptionAdapter.from_dict(options))
    assert seen == {"resource": "https://vault.azure.net", "source": "imds", "client_id": None, "object_id": "o",
                    "msi_res_id": None, "endpoint": "http://127.0.0.1:9", "timeout": 3.0, "max_wait": 4.0,
                    "warn": None, "environ": None}


def test_describe_token():
    token = IdentityToken("opaque", "Bearer", 1900000000, "https://management.azure.com/", "imds",
                          "http://169.254.169.254/metadata/identity/oauth2/token", None)
    facts = _identity_options.describe_token(token, now=1899999000)
    assert facts["expires_in"] == 1000
    assert facts["expires_on_iso"] == "2030-03-17T17:46:40Z"
    assert facts["claims"] == {}
    assert "opaque" not in repr(token)  # the dataclass repr hides the secret
