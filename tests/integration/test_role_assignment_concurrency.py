# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ten ansible-playbook processes grant the same role at once: one assignment, ten successes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from rbac_world import READER_GUID, RG_SCOPE, SEED, UAMI, assignments, azure_vars, play, resource

RUNS = 10


@pytest.fixture
def emu():
    from support.emulator import RunningEmulator

    emu = RunningEmulator.start(seed=SEED)
    yield emu
    emu.stop()


@pytest.mark.slow
def test_ten_concurrent_grants_make_one_assignment(run_playbook, emu):
    principal = resource(emu, UAMI + "id-spare")["properties"]["principalId"]
    # Hold every PUT for a moment so the processes that listed "nothing yet" really race on the create.
    emu.add_fault(service="arm", kind="latency", latency=2, method="PUT", path="/roleAssignments/")
    grant = play(
        [
            {
                "name": "task",
                "managed_identity.azure.role_assignment": {
                    "resource_group": "rbac-rg",
                    "principal_id": principal,
                    "role": "Reader",
                },
            }
        ]
    )

    with ThreadPoolExecutor(max_workers=RUNS) as pool:
        results = list(pool.map(lambda _: run_playbook(grant, extra_vars=azure_vars(emu), timeout=300), range(RUNS)))

    for result in results:
        result.assert_ok()
    (stored,) = assignments(emu, principal)
    assert stored["properties"]["scope"].lower() == RG_SCOPE.lower()
    assert stored["properties"]["roleDefinitionId"].lower().endswith(READER_GUID)
    records = [r.task("task") for r in results]
    assert {r.result["id"] for r in records} == {stored["id"]}
    assert sum(r.changed for r in records) == 1
    assert emu.counters("arm")["by_method"].get("PUT", 0) >= 2, "the runs did not race; the test proves nothing"
