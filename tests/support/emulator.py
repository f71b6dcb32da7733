"""Test harness: start ``python -m azure_emulator`` in a subprocess and talk to its control endpoint.

    with RunningEmulator.start() as emu:            # default seed; or seed=path | dict, state=path
        emu.info["arm_endpoint"], emu.operator["client_id"], emu.vm("myVM")["imds_endpoint"]
        emu.set_knobs(propagation_delay=2)
        emu.add_fault(service="arm", kind="status", status=503, count=1)
        emu.counters("arm")["by_status"]
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


class EmulatorError(RuntimeError):
    pass


class RunningEmulator:
    def __init__(self, process: subprocess.Popen, info: dict, tmpdir: tempfile.TemporaryDirectory) -> None:
        self.process = process
        self.info = info
        self._tmpdir = tmpdir
        self._session = requests.Session()

    # -- lifecycle -------------------------------------------------------------------------------------------
    @classmethod
    def start(cls, seed: str | Path | dict | None = None, extra_args: tuple[str, ...] | list[str] = (),
              state: str | Path | None = None, timeout: float = START_TIMEOUT) -> RunningEmulator:
        tmpdir = tempfile.TemporaryDirectory(prefix="emu-harness-")
        ready = Path(tmpdir.name) / "ready.json"
        args = [sys.executable, "-m", "azure_emulator", "--ready-file", str(ready)]
        if isinstance(seed, dict):
            seed_path = Path(tmpdir.name) / "seed.yaml"
            seed_path.write_text(yaml.safe_dump(seed), encoding="utf-8")
            args += ["--seed", str(seed_path)]
        elif seed is not None:
            args += ["--seed", str(seed)]
        if state is not None:
            args += ["--state", str(state)]
        args += list(extra_args)
        stderr_path = Path(tmpdir.name) / "stderr.txt"
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(args, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
                                       env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if process.poll() is not None:
                err = stderr_path.read_text(errors="replace")
                tmpdir.cleanup()
                raise EmulatorError(f"emulator exited with {process.returncode} before it was ready:\n{err}")
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                tmpdir.cleanup()
                raise EmulatorError(f"emulator not ready within {timeout} s")
            time.sleep(0.02)
        info = json.loads(ready.read_text(encoding="utf-8"))
        return cls(process, info, tmpdir)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        self._session.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._tmpdir.cleanup()
        return self.process.returncode

    @property
    def stderr(self) -> str:
        path = Path(self._tmpdir.name) / "stderr.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- shortcuts -------------------------------------------------------------------------------------------
    @property
    def ca_bundle(self) -> str:
        return self.info["ca_bundle"]

    @property
    def tenant_id(self) -> str:
        return self.info["tenant_id"]

    @property
    def arm_endpoint(self) -> str:
        return self.info["arm_endpoint"]

    @property
    def authority_host(self) -> str:
        return self.info["authority_host"]

    @property
    def operator(self) -> dict:
        """The first service principal of the seed (the default seed's Owner of the subscription)."""
        return self.info["service_principals"][0]

    def service_principal(self, name: str) -> dict:
        for sp in self.info["service_principals"]:
            if sp["name"] == name:
                return sp
        raise KeyError(f"no service principal {name!r} in the ready JSON")

    def vm(self, name: str) -> dict:
        """A VM's entry (id, imds_endpoint, vm_extension_endpoint...), including VMs created through ARM."""
        for vm in self.control("GET", "/vms"):
            if vm["name"].lower() == name.lower():
                return vm
        raise KeyError(f"no VM named {name!r}")

    def operator_env(self) -> dict[str, str]:
        """Environment for azure-identity's EnvironmentCredential and for the collection, as the operator."""
        op = self.operator
        return {"AZURE_TENANT_ID": self.tenant_id, "AZURE_CLIENT_ID": op["client_id"],
                "AZURE_CLIENT_SECRET": op["client_secret"], "AZURE_AUTHORITY_HOST": self.authority_host}

    # -- control endpoint ------------------------------------------------------------------------------------
    def control(self, method: str, path: str, json: Any = None) -> Any:  # noqa: A002 - mirrors requests
        url = self.info["control_endpoint"].rstrip("/") + path
        response = self._session.request(method, url, json=json, timeout=30)
        if response.status_code >= 400:
            raise EmulatorError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def counters(self, service: str | None = None) -> dict:
        return self.control("GET", "/counters" + (f"?service={service}" if service else ""))

    def reset_counters(self) -> None:
        self.control("POST", "/counters/reset")

    def reset(self) -> None:
        self.control("POST", "/reset")

    def state(self) -> dict:
        return self.control("GET", "/state")

    def set_knobs(self, **knobs: Any) -> dict:
        return self.control("PATCH", "/knobs", json=knobs)

    def add_fault(self, **spec: Any) -> dict:
        return self.control("POST", "/faults", json=spec)

    def clear_faults(self) -> None:
        self.control("DELETE", "/faults")

    def create_principal(self, **fields: Any) -> dict:
        return self.control("POST", "/principals", json=fields)

    def arm_token(self, sp: dict | None = None, resource: str = "https://management.azure.com/") -> str:
        """An ARM access token for a service principal (the operator by default) from the emulator's Entra ID."""
        sp = sp or self.operator
        response = requests.post(f"{self.authority_host}{self.tenant_id}/oauth2/v2.0/token",
                                 data={"grant_type": "client_credentials", "client_id": sp["client_id"],
                                       "client_secret": sp["client_secret"], "scope": resource.rstrip("/") +
                                       "/.default"}, verify=self.ca_bundle, timeout=30)
        response.raise_for_status()
        return response.json()["access_token"]
