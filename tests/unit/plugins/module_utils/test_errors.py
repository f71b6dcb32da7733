# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a failure reads: what the task was doing first, in the user's terms; then Azure's status, code and message;
then the call that failed and the IDs support asks for."""

from __future__ import annotations

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ArmError, AzureError

VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-two"


def denied(**kwargs) -> ArmError:
    return ArmError(
        "The client 'x' does not have authorization.",
        status=403,
        code="AuthorizationFailed",
        request_id="req-1",
        **kwargs,
    )


def test_the_users_action_leads_and_the_failed_call_closes_the_message():
    err = denied(step="PATCH " + VM).with_action("update the identity of virtual machine 'vm-two'")
    assert str(err) == (
        "Failed to update the identity of virtual machine 'vm-two' (HTTP 403, AuthorizationFailed): The client 'x' "
        "does not have authorization. [PATCH %s, request id req-1]" % VM
    )


def test_without_an_action_the_failed_call_leads():
    assert str(denied(step="PATCH " + VM)).startswith("Failed to PATCH %s (HTTP 403, AuthorizationFailed): " % VM)


def test_the_action_nearest_the_user_is_kept():
    err = denied(action="grant Reader to VM vm-two's identity on rg-web")
    err.with_action("ensure role 'Reader' for principal p")
    assert str(err).startswith("Failed to grant Reader to VM vm-two's identity on rg-web (HTTP 403")


def test_fail_kwargs_carry_the_facts_but_no_body():
    kwargs = denied(step="GET " + VM, body={"secret": "not shown"}).fail_kwargs()
    assert kwargs == {
        "msg": str(denied(step="GET " + VM)),
        "status_code": 403,
        "error_code": "AuthorizationFailed",
        "request_id": "req-1",
    }
    assert "not shown" not in str(kwargs)


def test_a_plain_error_is_its_message():
    assert str(AzureError("subscription_id is required")) == "subscription_id is required"
