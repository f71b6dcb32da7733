# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for integration tests: real ansible-playbook runs against a running emulator.

- ``run_playbook``: ``support.ansible.run_playbook`` with each run in its own directory under the test's ``tmp_path``
  (kept by pytest for the last runs, so a failure can be inspected).
- ``emulator``: one emulator per test session (per xdist worker), reset to its seed before each test that uses it, so
  tests see a known world without paying for a start each time.
- ``start_emulator``: a factory for tests that need their own emulator (another seed, other start flags); everything
  it started is stopped after the test.

``support.emulator`` is imported lazily, so tests that need no emulator do not depend on it.
"""

from __future__ import annotations

import itertools

import pytest
from support.ansible import run_playbook as _run_playbook


@pytest.fixture
def run_playbook(tmp_path):
    counter = itertools.count(1)

    def run(playbook, **kwargs):
        kwargs.setdefault("run_dir", tmp_path / f"run{next(counter)}")
        return _run_playbook(playbook, **kwargs)

    return run


@pytest.fixture(scope="session")
def _session_emulator():
    from support.emulator import RunningEmulator

    emulator = RunningEmulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(_session_emulator):
    _session_emulator.reset()
    return _session_emulator


@pytest.fixture
def start_emulator():
    from support.emulator import RunningEmulator

    started = []

    def start(seed=None, extra_args=(), **kwargs):
        emulator = RunningEmulator.start(seed=seed, extra_args=extra_args, **kwargs)
        started.append(emulator)
        return emulator

    yield start
    for emulator in reversed(started):
        emulator.stop()
