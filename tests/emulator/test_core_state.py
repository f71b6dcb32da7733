"""``--state FILE``: every write persisted atomically and reloaded, so a restart loses nothing."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import requests
from support.emulator import RunningEmulator

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"


def arm(emu: RunningEmulator, method: str, path: str, token: str, **kwargs) -> requests.Response:
    return requests.request(method, emu.arm_endpoint + path, headers={"Authorization": f"Bearer {token}"},
                            verify=emu.ca_bundle, timeout=10, **kwargs)


def test_restart_keeps_writes_secrets_keys_and_tokens(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = RunningEmulator.start(state=state)
    try:
        token = first.arm_token()
        created = arm(first, "PUT", f"subscriptions/{SUB}/resourcegroups/kept?api-version=2021-04-01", token,
                      json={"location": "eastus", "tags": {"k": "v"}})
        assert created.status_code in (200, 201)
        late = first.create_principal(display_name="late")
        before = {"tenant": first.tenant_id, "operator": first.operator, "ca": Path(first.ca_bundle).read_text(),
                  "vm": first.vm("myVM")["vm_id"]}
        assert stat.S_IMODE(state.stat().st_mode) == 0o600
        assert json.loads(state.read_text())["resources"][f"/subscriptions/{SUB}/resourcegroups/kept"]
    finally:
        assert first.stop() == 0
    second = RunningEmulator.start(state=state)
    try:
        assert second.tenant_id == before["tenant"]
        assert second.operator["client_secret"] == before["operator"]["client_secret"]
        assert Path(second.ca_bundle).read_text() == before["ca"]
        assert second.vm("myVM")["vm_id"] == before["vm"]
        # A token issued before the restart is still accepted: the signing key survived.
        response = arm(second, "GET", f"subscriptions/{SUB}/resourcegroups/kept?api-version=2021-04-01", token)
        assert response.status_code == 200, response.text
        assert response.json()["tags"] == {"k": "v"}
        assert second.service_principal("late")["client_secret"] == late["client_secret"]
        second.arm_token(second.service_principal("late"))
    finally:
        second.stop()


def test_state_file_is_created_on_first_start_and_reset_keeps_it_consistent(tmp_path: Path) -> None:
    state = tmp_path / "fresh.json"
    emu = RunningEmulator.start(state=state)
    try:
        assert state.exists()
        token = emu.arm_token()
        arm(emu, "PUT", f"subscriptions/{SUB}/resourcegroups/gone?api-version=2021-04-01", token,
            json={"location": "westus"})
        emu.reset()
        saved = json.loads(state.read_text())
        assert f"/subscriptions/{SUB}/resourcegroups/gone" not in saved["resources"]
        assert saved["tenant_id"] == emu.tenant_id
        assert arm(emu, "GET", f"subscriptions/{SUB}/resourcegroups?api-version=2021-04-01",
                   token).status_code == 200
    finally:
        emu.stop()
