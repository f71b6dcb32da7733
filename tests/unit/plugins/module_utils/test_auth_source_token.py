# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_source=token: the access_token given is used as is and never renewed."""

from __future__ import annotations

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils._authenticator import build_credential
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError

CLOUD = resolve_cloud(None, None, None, None)


def test_given_token_is_used_and_not_renewable():
    credential = build_credential(
        {"auth_source": "token", "access_token": "x.y.z"}, CLOUD, environ={}, session=None
    )
    assert credential.get_token().token == "x.y.z"
    assert credential.renewable is False
    with pytest.raises(ConfigurationError, match="access_token"):
        build_credential({"auth_source": "token"}, CLOUD, environ={}, session=None)
