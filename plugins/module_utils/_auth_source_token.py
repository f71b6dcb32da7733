# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``auth_source=token``: an ARM access token given as is (access_token). ``auto`` uses it too when it is given."""

from __future__ import annotations

from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import (
    AccessToken,
    AuthSource,
    Credential,
    jwt_expiry,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError


class StaticTokenCredential:
    """An access token given as is; it cannot be renewed, so ARM's own 401 is what the user sees."""

    name = "token"
    description = "the access_token given"
    renewable = False

    def __init__(self, access_token: str) -> None:
        self._token = AccessToken(access_token, jwt_expiry(access_token))

    def get_token(self, force_refresh: bool = False) -> AccessToken:
        return self._token


class TokenSource(AuthSource):
    NAME = "token"

    def credential(self) -> Credential:
        access_token = self.context.params.get("access_token")
        if not access_token:
            raise ConfigurationError("auth_source=token needs access_token")
        return StaticTokenCredential(access_token)
