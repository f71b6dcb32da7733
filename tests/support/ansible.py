# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run real ``ansible-playbook`` processes against the working tree's collection.

``run_playbook(playbook, ...)`` runs the ``ansible-playbook`` next to ``sys.executable`` (the project's .venv) in a
private run directory, with:

- ``ANSIBLE_COLLECTIONS_PATH`` = the symlink tree ``.venv/collections`` (``make setup`` creates it; the harness makes
  a private one in the run directory when it is missing), so ``managed_identity.azure`` is the code being edited;
- the Python interpreter for every host = ``sys.executable``; a default inventory of ``localhost`` with the local
  connection; no retry files, no host key checking, no colour, private ``ANSIBLE_HOME``/local/remote temp dirs and an
  empty ``ansible.cfg``; inherited ``ANSIBLE_*``, Azure (``AZURE_*``, ``MSI_*``, ``IDENTITY_*``, ...) and proxy
  variables are dropped, so nothing from the user's machine leaks in and nothing reaches real Azure. ``env`` adds
  variables on top.

Structured results, two ways:

1. Every task result is recorded by the harness's callback (``tests/support/callback_plugins/mi_results.py``) as one
   JSON line: ``result.tasks`` is the list of :class:`TaskRecord`, ``result.task("name")`` the last record of a task,
   ``result.stats`` the play recap per host. ``no_log`` results are recorded censored, as Ansible prints them.
2. Playbooks may write values they want to hand back into the ``out_dir`` extra var the harness always passes
   (``ansible.builtin.copy: {content: "{{ thing | to_json }}", dest: "{{ out_dir }}/thing.json"}``);
   ``result.out("thing")`` reads ``thing.json`` back, ``result.outputs()`` all of them.

``playbook`` is a path, or a list of plays (Python data, written out as JSON, which is YAML). ``inventory`` is a path,
an inventory dict (YAML-inventory shape, written out as JSON), or None for the default localhost inventory.
``result.output`` is stdout followed by stderr. A run that exceeds ``timeout`` is killed (with its workers) and
raises :class:`PlaybookTimeout` carrying what it printed so far.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

REPO_ROOT = Path(__file__).resolve().parents[2]
CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"

PlaybookSource = Union[str, os.PathLike, Sequence[Mapping[str, Any]]]
InventorySource = Union[str, os.PathLike, Mapping[str, Any], None]


class PlaybookTimeout(AssertionError):
    """ansible-playbook ran longer than the timeout; carries the partial output."""

    def __init__(self, timeout: float, stdout: str, stderr: str) -> None:
        super().__init__(f"ansible-playbook did not finish within {timeout:g} s\n{_tail(stdout + stderr)}")
        self.stdout = stdout
        self.stderr = stderr


@dataclass
class TaskRecord:
    play: str
    task: str
    action: str
    host: str
    status: str  # ok | changed | failed | ignored | skipped | unreachable
    result: Dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.status == "changed"

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "unreachable")


@dataclass
class PlaybookResult:
    rc: int
    stdout: str
    stderr: str
    command: List[str]
    run_dir: Path
    out_dir: Path
    tasks: List[TaskRecord] = field(default_factory=list)
    stats: Dict[str, Dict[str, int]] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def task(self, name: str, host: Optional[str] = None) -> TaskRecord:
        """The last record of the task called ``name`` (on ``host`` when given)."""
        matches = [t for t in self.tasks if t.task == name and (host is None or t.host == host)]
        if not matches:
            names = sorted({t.task for t in self.tasks})
            raise KeyError(f"no result for task {name!r} (host {host!r}); tasks that ran: {names}")
        return matches[-1]

    @property
    def failed_tasks(self) -> List[TaskRecord]:
        return [t for t in self.tasks if t.failed]

    @property
    def changed_tasks(self) -> List[TaskRecord]:
        return [t for t in self.tasks if t.changed]

    def out(self, name: str) -> Any:
        """The JSON value the playbook wrote to ``{{ out_dir }}/<name>.json``."""
        return json.loads((self.out_dir / f"{name}.json").read_text(encoding="utf-8"))

    def outputs(self) -> Dict[str, Any]:
        return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.out_dir.glob("*.json"))}

    def assert_ok(self) -> PlaybookResult:
        """Fail the test with the command and the end of the output unless ansible-playbook exited 0."""
        if self.rc != 0:
            raise AssertionError(f"ansible-playbook exited {self.rc}: {' '.join(self.command)}\n{_tail(self.output)}")
        return self

    def __str__(self) -> str:
        return f"PlaybookResult(rc={self.rc}, tasks={len(self.tasks)}, run_dir={self.run_dir})"


def _tail(text: str, lines: int = 80) -> str:
    return "\n".join(text.splitlines()[-lines:])


def ansible_playbook_executable() -> str:
    candidates = (Path(sys.executable).parent / "ansible-playbook", REPO_ROOT / ".venv" / "bin" / "ansible-playbook")
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which("ansible-playbook")
    if not found:
        raise RuntimeError("ansible-playbook not found next to %s; run `make setup`" % sys.executable)
    return found


def collections_path(run_dir: Path) -> Path:
    """The symlink tree that makes the working tree importable as ansible_collections.managed_identity.azure."""
    tree = REPO_ROOT / ".venv" / "collections"
    link = tree / "ansible_collections" / "managed_identity" / "azure"
    if link.exists() and link.resolve() == REPO_ROOT:
        return tree
    tree = run_dir / "collections"
    link = tree / "ansible_collections" / "managed_identity" / "azure"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return tree


# A developer's shell may hold real Azure settings or a proxy: nothing the harness runs may reach real Azure, and
# loopback traffic to the emulator must not go through a proxy.
_UNWANTED_PREFIXES = ("ANSIBLE_", "AZURE_", "ARM_", "MSI_", "IDENTITY_", "IMDS_")
_UNWANTED_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def _inherited_but_unwanted(name: str) -> bool:
    return name.startswith(_UNWANTED_PREFIXES) or name.upper() in _UNWANTED_NAMES


def ansible_env(run_dir: Path, results_file: Path, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment ansible-playbook runs with (see the module docstring)."""
    cfg = run_dir / "ansible.cfg"
    cfg.touch()
    env = {k: v for k, v in os.environ.items() if not _inherited_but_unwanted(k)}
    env.update(
        ANSIBLE_CONFIG=str(cfg),
        ANSIBLE_HOME=str(run_dir / "ansible_home"),
        ANSIBLE_LOCAL_TEMP=str(run_dir / "tmp" / "local"),
        ANSIBLE_REMOTE_TEMP=str(run_dir / "tmp" / "remote"),
        ANSIBLE_COLLECTIONS_PATH=str(collections_path(run_dir)),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="False",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_NOCOLOR="True",
        ANSIBLE_FORCE_COLOR="False",
        ANSIBLE_STDOUT_CALLBACK="default",
        ANSIBLE_CALLBACK_PLUGINS=str(CALLBACK_DIR),
        ANSIBLE_CALLBACKS_ENABLED="mi_results",
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        MI_RESULTS_FILE=str(results_file),
        # A token cache of the run's own (tests that share one across runs pass it in env): runs stay independent,
        # and the developer's ~/.ansible is never touched.
        ANSIBLE_AZURE_TOKEN_CACHE_DIR=str(run_dir / "token_cache"),
        PYTHONUNBUFFERED="1",
    )
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


def _write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def _read_records(results_file: Path) -> tuple:
    tasks: List[TaskRecord] = []
    stats: Dict[str, Dict[str, int]] = {}
    if results_file.exists():
        for line in results_file.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.pop("type") == "stats":
                stats = record["hosts"]
            else:
                tasks.append(TaskRecord(**record))
    return tasks, stats


def run_playbook(
    playbook: PlaybookSource,
    *,
    inventory: InventorySource = None,
    extra_vars: Optional[Mapping[str, Any]] = None,
    env: Optional[Mapping[str, str]] = None,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    limit: Optional[str] = None,
    timeout: float = 600,
    run_dir: Optional[Union[str, os.PathLike]] = None,
    kill_when: Optional[Callable[[], bool]] = None,
) -> PlaybookResult:
    """Run ansible-playbook once; see the module docstring. ``run_dir`` defaults to a new temporary directory.

    ``kill_when``, polled every 0.1 s while the run goes on, kills ansible-playbook and its workers with SIGKILL
    (``kill -9``) as soon as it returns true; the result then has ``rc == -9``."""
    run = Path(run_dir) if run_dir is not None else Path(tempfile.mkdtemp(prefix="run_playbook-"))
    run.mkdir(parents=True, exist_ok=True)
    out_dir = run / "out"
    out_dir.mkdir(exist_ok=True)
    results_file = run / "results.jsonl"
    results_file.unlink(missing_ok=True)

    if isinstance(playbook, (str, os.PathLike)):
        playbook_path = Path(playbook).resolve()
    else:
        playbook_path = _write_json(run / "playbook.yml", list(playbook))

    if inventory is None:
        inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}
    if isinstance(inventory, Mapping):
        inventory_path = _write_json(run / "inventory.yml", dict(inventory))
    else:
        inventory_path = Path(inventory).resolve()

    variables = {"out_dir": str(out_dir), **(extra_vars or {})}
    vars_file = _write_json(run / "extra_vars.json", variables)

    command = [ansible_playbook_executable(), "-i", str(inventory_path), "-e", f"@{vars_file}"]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    if limit:
        command += ["--limit", limit]
    command.append(str(playbook_path))

    process = subprocess.Popen(
        command,
        cwd=run,
        env=ansible_env(run, results_file, env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so a timeout can stop ansible-playbook's forked workers too
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            stdout, stderr = process.communicate(timeout=0.1 if kill_when else timeout)
            break
        except subprocess.TimeoutExpired:
            if kill_when is not None and kill_when():
                os.killpg(process.pid, signal.SIGKILL)
                stdout, stderr = process.communicate()
                break
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                stdout, stderr = process.communicate()
                raise PlaybookTimeout(timeout, stdout, stderr) from None

    tasks, stats = _read_records(results_file)
    return PlaybookResult(
        rc=process.returncode,
        stdout=stdout,
        stderr=stderr,
        command=command,
        run_dir=run,
        out_dir=out_dir,
        tasks=tasks,
        stats=stats,
    )


def plain(value: Any) -> Any:
    """``ansible-inventory --list`` output without the ``{"__ansible_unsafe": ...}`` wrappers it puts around values
    that must never be templated (data from an inventory source), for comparing plain values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
