# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures that run modules' ``main()`` as Ansible would, against local fakes (the emulator is for integration tests).

- ``run_arm_module``: a controller-side module against ``support.fake_arm`` with a real ``ArmClient`` (retries, paging,
  long-running operations, error mapping); returns the module's JSON result.
- ``imds``: a fake IMDS on loopback; answers are queued, requests recorded.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict

import pytest
from ansible.module_utils.testing import patch_module_args
from support.fake_arm import ARM, FakeArm
from support.fake_http import queued_server

from ansible_collections.managed_identity.azure.plugins.module_utils import _arm, _module
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import AccessToken
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud


@pytest.fixture
def fake_arm() -> FakeArm:
    return FakeArm()


@pytest.fixture
def run_arm_module(monkeypatch, capsys, fake_arm) -> Callable[..., Dict[str, Any]]:
    """Run ``module.main()`` with ``args`` against ``fake_arm``; returns the module's JSON result."""

    class Credential:
        def get_token(self, force_refresh=False):
            return AccessToken("tok.en.value", 0)

    def client(params, environ=None, warn=None):
        cloud = resolve_cloud(None, ARM, "https://login.example.test", None)
        return _arm.ArmClient(cloud, Credential(), session=fake_arm, sleep=lambda s: None, poll_interval=0, max_wait=0)

    monkeypatch.setattr(_module, "client_from_params", client)
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)

    def run(module: Any, args: Dict[str, Any]) -> Dict[str, Any]:
        with patch_module_args(args), pytest.raises(SystemExit):
            module.main()
        return json.loads(capsys.readouterr().out)

    return run


@pytest.fixture
def imds():
    """A fake IMDS: answers are queued; requests are recorded (``support.fake_http``)."""
    with queued_server() as state:
        yield state
