# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Behind a corporate proxy: HTTPS_PROXY carries the module's ARM and Entra ID traffic through CONNECT tunnels,
NO_PROXY exempts hosts, and a proxy that refuses fails the task with a message that names the proxy, never its
password."""

from __future__ import annotations

from urllib.parse import urlsplit

import arm_world as world
import pytest
from arm_world import GRANTED, PLAYBOOKS, read_vars, sp_auth
from support.tls_servers import ConnectProxy

READ = PLAYBOOKS / "read_resource_group.yml"


@pytest.fixture(scope="module")
def emu():
    yield from world.running()


def port(url: str) -> int:
    return urlsplit(url).port


def test_arm_and_entra_id_go_through_the_proxy(emu, run_playbook):
    proxy = ConnectProxy()
    try:
        variables = read_vars(emu, sp_auth(emu))
        variables.pop("other_group")
        env = {"HTTPS_PROXY": "http://corp-user:corp-pass@127.0.0.1:%d" % proxy.port}
        result = run_playbook(READ, extra_vars=variables, env=env).assert_ok()
    finally:
        proxy.stop()
    assert result.out("results")["granted"]["name"] == GRANTED
    tunnelled = sorted(c["line"] for c in proxy.connects)
    assert tunnelled == sorted(
        [
            "CONNECT 127.0.0.1:%d HTTP/1.1" % port(emu.authority_host),  # the operator's token
            "CONNECT 127.0.0.1:%d HTTP/1.1" % port(emu.arm_endpoint),  # the read, one kept-alive tunnel
        ]
    )
    assert {c["authorization"] for c in proxy.connects} == {"Basic Y29ycC11c2VyOmNvcnAtcGFzcw=="}


def test_no_proxy_sends_the_emulator_direct(emu, run_playbook):
    proxy = ConnectProxy()
    try:
        variables = read_vars(emu, sp_auth(emu))
        variables.pop("other_group")
        env = {"HTTPS_PROXY": proxy.url, "NO_PROXY": "localhost,127.0.0.1"}
        run_playbook(READ, extra_vars=variables, env=env).assert_ok()
    finally:
        proxy.stop()
    assert proxy.connects == []


def test_a_proxy_that_refuses_fails_the_task_naming_the_proxy_not_its_password(emu, run_playbook):
    emu.reset_counters()
    proxy = ConnectProxy(refuse=403)
    try:
        variables = read_vars(emu, dict(sp_auth(emu), max_wait=2), expect_failure=True)
        variables.pop("other_group")
        env = {"HTTPS_PROXY": "http://corp-user:corp-pass@127.0.0.1:%d" % proxy.port}
        result = run_playbook(READ, extra_vars=variables, env=env, verbosity=3)
    finally:
        proxy.stop()
    out = result.out("results")["granted"]
    assert out["failed"] is True
    assert "the proxy 127.0.0.1:%d answered CONNECT with HTTP 403" % proxy.port in out["msg"]
    assert "corp-pass" not in result.stdout + result.stderr
    assert emu.counters("arm")["requests"] == 0
