# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_source=cli: the Azure CLI's token, and what the user sees when az is missing or logged out."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils._authenticator import build_credential
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AuthenticationError

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLOUD = resolve_cloud(None, None, None, None)


def fake_az(tmp_path, script):
    path = tmp_path / "az"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return {"PATH": str(tmp_path) + os.pathsep + os.defpath}


def test_cli_runs_az_get_access_token(tmp_path):
    env = fake_az(
        tmp_path,
        'echo "$@" > "%s/args"\necho \'{"accessToken": "cli.tok.en", "expires_on": 1900000000, '
        '"expiresOn": "2030-03-17 17:46:40.000000"}\'\n' % tmp_path,
    )
    credential = build_credential(
        {"auth_source": "cli", "tenant_id": TENANT}, CLOUD, environ=env, session=None
    )
    token = credential.get_token()
    assert token.token == "cli.tok.en" and token.expires_on == 1900000000
    assert (tmp_path / "args").read_text().split() == [
        "account",
        "get-access-token",
        "--resource",
        "https://management.core.windows.net/",
        "--output",
        "json",
        "--tenant",
        TENANT,
    ]


def test_cli_not_logged_in_says_so(tmp_path):
    env = fake_az(tmp_path, "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n")
    with pytest.raises(AuthenticationError, match="Please run 'az login'"):
        build_credential({"auth_source": "cli"}, CLOUD, environ=env, session=None).get_token()


def test_cli_missing_in_explicit_mode():
    with pytest.raises(AuthenticationError, match="not on PATH"):
        build_credential(
            {"auth_source": "cli"}, CLOUD, environ={"PATH": "/nonexistent"}, session=None
        ).get_token()
