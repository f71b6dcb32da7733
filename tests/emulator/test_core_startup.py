"""Start-up, the ready JSON, --help, loopback-only, and clean shutdown of ``python -m azure_emulator``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import requests
from support.emulator import REPO_ROOT, RunningEmulator

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "azure_emulator", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)


def test_ready_json_has_every_endpoint(emulator: RunningEmulator) -> None:
    info = emulator.info
    for key in ("arm_endpoint", "authority_host", "control_endpoint", "graph_endpoint"):
        assert re.fullmatch(r"https?://127\.0\.0\.1:\d+/", info[key]), key
    assert info["arm_endpoint"].startswith("https://") and info["authority_host"].startswith("https://")
    assert Path(info["ca_bundle"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert info["subscriptions"] == [{"subscription_id": SUB, "display_name": "Visual Studio Enterprise Subscription"}]
    operator = info["service_principals"][0]
    assert operator["name"] == "operator"
    assert {"client_id", "client_secret", "object_id"} <= set(operator)
    (vm,) = info["vms"]
    assert vm["id"] == f"/subscriptions/{SUB}/resourceGroups/DevTest/providers/Microsoft.Compute/virtualMachines/myVM"
    assert (vm["name"], vm["resource_group"], vm["subscription_id"]) == ("myVM", "DevTest", SUB)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", vm["imds_endpoint"])
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", vm["vm_extension_endpoint"])
    assert info["pid"] == emulator.process.pid
    assert {"app_service", "arc", "service_fabric", "azure_ml", "cloud_shell"} <= set(info["identity_endpoints"])


def test_https_listeners_trust_only_the_ca_bundle(emulator: RunningEmulator) -> None:
    url = f"{emulator.authority_host}{emulator.tenant_id}/v2.0/.well-known/openid-configuration"
    assert requests.get(url, verify=emulator.ca_bundle, timeout=10).status_code == 200
    localhost = url.replace("127.0.0.1", "localhost")
    assert requests.get(localhost, verify=emulator.ca_bundle, timeout=10).status_code == 200
    try:
        requests.get(url, verify=True, timeout=10)
    except requests.exceptions.SSLError:
        pass
    else:
        raise AssertionError("the emulator's certificate must not chain to a public CA")


def test_help_documents_every_option() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("--seed", "--state", "--ready-file", "--workdir", "--host", "--arm-port", "--authority-port",
                   "--control-port", "--propagation-delay", "--replication-delay", "--page-size",
                   "--token-lifetime", "--lro-delay", "--retry-after", "--no-throttling", "--no-imds-limits",
                   "--log-level"):
        assert option in result.stdout, option


def test_runs_from_any_directory_as_a_command_and_as_a_module(tmp_path: Path) -> None:
    """make setup installs the azure-emulator command and puts the package on the venv's path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    seed = tmp_path / "world.yaml"
    seed.write_text(f"subscriptions: [{{subscription_id: {SUB}}}]\n", encoding="utf-8")
    for command in ([str(Path(sys.executable).parent / "azure-emulator")], [sys.executable, "-m", "azure_emulator"]):
        done = subprocess.run([*command, "--help"], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        assert "--seed FILE" in done.stdout
    ready = tmp_path / "ready.json"
    process = subprocess.Popen([str(Path(sys.executable).parent / "azure-emulator"), "--seed", "world.yaml",
                                "--ready-file", "ready.json"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            if ready.exists() or process.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), process.stderr.read().decode() if process.poll() is not None else "not ready"
        assert json.loads(ready.read_text())["subscriptions"][0]["subscription_id"] == SUB
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_non_loopback_host_is_refused() -> None:
    result = run_cli("--host", "0.0.0.0")  # noqa: S104 - the refusal is what is tested
    assert result.returncode == 2
    assert "--host '0.0.0.0' is not a loopback" in result.stderr
    assert run_cli("--host", "example.com").returncode == 2


def test_missing_seed_file_is_named(tmp_path: Path) -> None:
    result = run_cli("--seed", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr


def test_sigterm_removes_temporary_files() -> None:
    emu = RunningEmulator.start()
    workdir = Path(emu.ca_bundle).parent
    ready = Path(emu._tmpdir.name) / "ready.json"
    assert workdir.is_dir() and ready.exists()
    process = emu.process
    process.terminate()
    assert process.wait(10) == 0
    assert not workdir.exists()
    assert not ready.exists()
    emu.stop()


def test_ready_line_on_stdout_matches_ready_file(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    process = subprocess.Popen([sys.executable, "-m", "azure_emulator", "--ready-file", str(ready)],
                               cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert json.loads(line) == json.loads(ready.read_text())
        assert ready.stat().st_mode & 0o077 == 0
    finally:
        process.terminate()
        process.wait(10)
