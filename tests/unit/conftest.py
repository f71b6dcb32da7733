# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every unit test gets a home of its own: the token cache (on by default, under ~/.ansible) never touches the
developer's, and no test sees a token another test cached."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in ("ANSIBLE_AZURE_TOKEN_CACHE", "ANSIBLE_AZURE_TOKEN_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return home
