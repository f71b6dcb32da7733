# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-harness callback: one JSON line per task result, for tests/support/ansible.py.

Enabled only by the harness (ANSIBLE_CALLBACKS_ENABLED=mi_results, MI_RESULTS_FILE=<path>); never shipped as a plugin
of the collection. Results of ``no_log`` tasks are written censored, as Ansible prints them.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: mi_results
type: aggregate
short_description: write task results as JSON lines for the test harness
description:
  - Appends one JSON object per task result to the file named by the E(MI_RESULTS_FILE) environment variable.
requirements:
  - enabled with E(ANSIBLE_CALLBACKS_ENABLED=mi_results)
"""


def _public(result, name):
    """ansible-core 2.19 exposes result/task/host; older cores only the underscored names."""
    value = getattr(result, name, None)
    return value if value is not None else getattr(result, "_" + name)


CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "mi_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("MI_RESULTS_FILE")
        self._play = None

    def _write(self, record):
        if not self._path:
            return
        with open(self._path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record, default=str, sort_keys=True) + "\n")

    def _record(self, result, status):
        data = dict(_public(result, "result"))
        if data.get("_ansible_no_log"):
            data = {"censored": CENSORED, "changed": data.get("changed", False)}
        if status == "ok" and data.get("changed"):
            status = "changed"
        task = _public(result, "task")
        self._write(
            {
                "type": "task",
                "play": self._play,
                "task": task.get_name(),
                "action": task.action,
                "host": _public(result, "host").get_name(),
                "status": status,
                "result": data,
            }
        )

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        self._write({"type": "stats", "hosts": {host: stats.summarize(host) for host in hosts}})
