# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the plugin tests: Ansible's plugin loader finds this working tree as managed_identity.azure."""

from __future__ import annotations

import pathlib
import sys

import pytest
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

REPO = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def collection_loader(tmp_path_factory):
    if AnsibleCollectionConfig.collection_finder is None:
        # Put the repository on Ansible's collection search path, as ansible-playbook would find it.
        root = tmp_path_factory.mktemp("collections")
        (root / "ansible_collections" / "managed_identity").mkdir(parents=True)
        (root / "ansible_collections" / "managed_identity" / "azure").symlink_to(REPO)
        # Modules imported before through plain sys.path would shadow the collection loader's packages.
        for name in [n for n in sys.modules if n.split(".")[0] == "ansible_collections"]:
            del sys.modules[name]
        init_plugin_loader([str(root)])
