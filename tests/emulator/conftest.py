"""Fixtures for the emulator's own tests.

- ``emulator``: one emulator with the default seed per test module, reset to its seed before each test.
- ``fresh_emulator``: a private emulator for one test (for tests that stop or reconfigure it).
- ``start_emulator(seed=..., extra_args=..., state=...)``: a module-scoped factory (module-scoped fixtures may use
  it); everything it started is stopped at the end of the module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from support.emulator import RunningEmulator


@pytest.fixture(scope="module")
def _module_emulator() -> Iterator[RunningEmulator]:
    emu = RunningEmulator.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emulator(_module_emulator: RunningEmulator) -> RunningEmulator:
    _module_emulator.reset()
    return _module_emulator


@pytest.fixture
def fresh_emulator() -> Iterator[RunningEmulator]:
    emu = RunningEmulator.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="module")
def start_emulator() -> Iterator[Callable[..., RunningEmulator]]:
    started: list[RunningEmulator] = []

    def start(**kwargs) -> RunningEmulator:
        emu = RunningEmulator.start(**kwargs)
        started.append(emu)
        return emu

    yield start
    for emu in reversed(started):
        emu.stop()
