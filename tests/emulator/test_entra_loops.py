"""Entra ID's client request loop detection (knobs entra_loop_threshold / entra_loop_window): 429 AADSTS50196 once
a client repeats the same client-credential request too often, per client and resource, set at start or at run time."""

from __future__ import annotations

import time

from support.emulator import RunningEmulator
from test_entra import ARM_SCOPE, assert_aad_error, creds, post, v2

LOOP_MESSAGE = "AADSTS50196: The server terminated an operation because it encountered a client request loop."


def test_off_by_default(emulator: RunningEmulator) -> None:
    assert emulator.control("GET", "/knobs")["entra_loop_threshold"] == 0
    assert all(v2(emulator, **creds(emulator.operator)).status_code == 200 for _ in range(8))


def test_more_than_n_identical_requests_get_429_aadsts50196(emulator: RunningEmulator) -> None:
    emulator.set_knobs(entra_loop_threshold=3, entra_loop_window=60)
    operator = emulator.operator
    other = emulator.create_principal(display_name="second-app")
    emulator.reset_counters()

    assert [v2(emulator, **creds(operator)).status_code for _ in range(3)] == [200, 200, 200]
    refused = v2(emulator, **creds(operator))
    body = assert_aad_error(refused, 429, "invalid_request", 50196)
    assert body["error_description"].startswith(LOOP_MESSAGE)
    assert "access_token" not in body
    # Per client and per resource: another client, or the same client for another resource, is not in a loop.
    assert v2(emulator, **creds(other)).status_code == 200
    assert v2(emulator, **creds(operator, scope="https://graph.microsoft.com/.default")).status_code == 200
    # The v1 endpoint with the same client and resource counts as the same request, and stays refused.
    v1 = {"grant_type": "client_credentials", "client_id": operator["client_id"],
          "client_secret": operator["client_secret"], "resource": ARM_SCOPE[: -len("/.default")]}
    assert post(emulator, f"{emulator.tenant_id}/oauth2/token", v1).status_code == 429
    statuses = emulator.counters("entra")["by_status"]
    assert statuses == {"200": 5, "429": 2}


def test_wrong_secret_is_still_invalid_client_not_a_loop(emulator: RunningEmulator) -> None:
    emulator.set_knobs(entra_loop_threshold=1)
    bad = {**creds(emulator.operator), "client_secret": "not-the-secret"}
    for _ in range(3):
        assert v2(emulator, **bad).status_code == 401


def test_window_slides_and_reset_forgets(emulator: RunningEmulator) -> None:
    emulator.set_knobs(entra_loop_threshold=1, entra_loop_window=1)
    form = creds(emulator.operator)
    assert [v2(emulator, **form).status_code for _ in range(2)] == [200, 429]
    time.sleep(1.2)
    assert v2(emulator, **form).status_code == 200

    emulator.set_knobs(entra_loop_window=600)
    assert v2(emulator, **form).status_code == 429
    emulator.reset()  # knobs back to their start values (off) and the detector forgets
    emulator.set_knobs(entra_loop_threshold=1)
    assert v2(emulator, **form).status_code == 200


def test_set_at_start(start_emulator) -> None:
    emu = start_emulator(extra_args=("--entra-loop-threshold", "2", "--entra-loop-window", "30"))
    knobs = emu.control("GET", "/knobs")
    assert (knobs["entra_loop_threshold"], knobs["entra_loop_window"]) == (2, 30.0)
    assert [v2(emu, **creds(emu.operator)).status_code for _ in range(3)] == [200, 200, 429]
