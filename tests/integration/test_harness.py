# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbook harness itself: what integration tests rely on when they read results."""

from __future__ import annotations

import sys

PLAY = {"name": "harness", "hosts": "localhost", "gather_facts": False}


def test_task_results_outputs_and_interpreter(run_playbook):
    tasks = [
        {
            "name": "python",
            "ansible.builtin.setup": {"gather_subset": ["!all", "!min", "python"]},
            "register": "python",
        },
        {
            "name": "write output",
            "ansible.builtin.copy": {
                "content": "{{ {'n': n, 'py': python.ansible_facts.ansible_python.executable} | to_json }}",
                "dest": "{{ out_dir }}/answer.json",
                "mode": "0644",
            },
        },
        {"name": "secret", "ansible.builtin.debug": {"msg": "hunter2-secret"}, "no_log": True},
    ]
    result = run_playbook([{**PLAY, "tasks": tasks}], extra_vars={"n": 42}).assert_ok()

    assert result.out("answer") == {"n": 42, "py": sys.executable}
    assert result.task("write output").status == "changed"
    assert result.task("python").status == "ok"
    assert result.stats["localhost"]["changed"] == 1
    assert "censored" in result.task("secret").result
    assert "hunter2-secret" not in result.output
    assert "hunter2-secret" not in (result.run_dir / "results.jsonl").read_text()


def test_failure_check_mode_and_collection_path(run_playbook):
    tasks = [
        {
            "name": "find the collection",
            "ansible.builtin.stat": {
                "path": "{{ lookup('ansible.builtin.config', "
                "'COLLECTIONS_PATHS')[0] }}/ansible_collections/managed_identity/azure/galaxy.yml"
            },
            "register": "galaxy",
        },
        {"name": "collection is the working tree", "ansible.builtin.assert": {"that": ["galaxy.stat.exists"]}},
        {
            "name": "would write",
            "ansible.builtin.copy": {"content": "x", "dest": "{{ out_dir }}/never.txt", "mode": "0644"},
        },
        {"name": "boom", "ansible.builtin.fail": {"msg": "expected failure"}},
    ]
    result = run_playbook([{**PLAY, "tasks": tasks}], check=True)

    assert result.rc == 2
    assert result.task("collection is the working tree").status == "ok"
    assert result.task("would write").status == "changed"
    assert not (result.out_dir / "never.txt").exists()
    assert [t.task for t in result.failed_tasks] == ["boom"]
    assert "expected failure" in result.output
