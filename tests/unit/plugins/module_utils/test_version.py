# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The User-Agent's version is the collection's."""

from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.managed_identity.azure.plugins.module_utils._version import COLLECTION_VERSION


def test_version_matches_galaxy_yml():
    galaxy = yaml.safe_load((Path(__file__).resolve().parents[4] / "galaxy.yml").read_text())
    assert galaxy["version"] == COLLECTION_VERSION
