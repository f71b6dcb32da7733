# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module says when Azure fails it: one ansible-playbook run per module, one task per common failure.

Every failure is a real HTTP exchange with the emulator: an answer it gives on its own (a token ARM refuses, a caller
without the role, a missing resource) or a fault injected through its control endpoint (Azure's error body for a
status, latency past the task's timeout). The message is compared whole: what the task was doing in the user's
terms, the HTTP status and Azure's code, Azure's message, then the call that failed and the request ID (the answer's
``x-ms-request-id``, which the task also returns as ``request_id``).

The matrix (401, 403, 404, 409, 412, throttled past max_wait, timeout) is written out per module; a failure that
cannot happen to a module is named in a comment with the reason. ARM faults are registered before the run, each on a
path only its own task calls; an identity endpoint has one path per VM, so its faults are set between tasks by the
playbook itself (``ansible.builtin.uri`` to the control endpoint).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import pytest
import rbac_world
from rbac_world import RG, RG_SCOPE, SUB, UAMI, azure_vars, play, resource

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

rbac_emulator = rbac_world.rbac_emulator
emu = rbac_world.emu

# Azure's error codes with texts in Azure's style: 401/403/429 as in azure-reference REFERENCE.md ("401 / 403",
# "Throttling"); the ScopeLocked, PreconditionFailed and SubscriptionNotFound texts are not captured there
# (unverified). The modules must carry any text through unchanged, so the exact wording only makes the cases realistic.
LOCKED = (
    "ScopeLocked",
    "The scope '%s' cannot perform write operation because following scope(s) are locked: '%s'. Please remove the "
    "lock and try again." % (RG_SCOPE, RG_SCOPE),
)
STALE = ("PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met.")
THROTTLED = (
    "SubscriptionRequestsThrottled",
    "Number of 'read' requests for subscription '%s' actor 'operator' exceeded. Please try again after '30' "
    "seconds after additional tokens are available." % SUB,
)
# What an ARM module adds to THROTTLED: the server asked for 30 s, more than QUICK's budget, so it did not retry.
GAVE_UP = " Gave up after 1 attempt in <N> s (max_wait 1 s)."
NO_SUBSCRIPTION = ("SubscriptionNotFound", "The subscription '%s' could not be found." % SUB)
EXPIRED = (
    "ExpiredAuthenticationToken",
    "The access token expiry UTC time '8/17/2017 10:54:41 PM' is earlier than current UTC time "
    "'8/17/2017 10:55:43 PM'.",
)
REFUSED = " (HTTP 401, InvalidAuthenticationToken): The access token is invalid. "  # ARM's answer to BAD_TOKEN
# A token ARM cannot even parse: a real 401 from ARM's token validation (given as auth_source=token).
BAD_TOKEN = {"auth_source": "token", "access_token": "not-a-token"}
WRONG_SECRET = "wrong-secret-value"  # Entra ID refuses it with its own 401; it must never be echoed
# A task that meets a timeout or throttling fault gives up quickly: 1 s per request, 1 s of retries at most (the
# throttling fault asks for 30 s, more than the budget, so nothing is retried).
QUICK = {"timeout": 1, "max_wait": 1}
SLOW = 3  # s of latency: longer than QUICK's timeout


@dataclass
class Case:
    """One task: the module's arguments, the faults it meets, and the whole message it must fail with.

    ``expected`` is the message with ``{rid}`` for the request ID the task returned (required), ``{ids}`` for
    ", request id <id>" when the answer carried one (fault answers may not) and ``{tail}`` for " [request id <id>]"
    likewise, ``<ID>`` for a request ID inside a message that wraps another, ``<N>`` for a number (seconds,
    attempts) and ``...`` for any text (a long hint or Azure text the test does not repeat)."""

    name: str
    args: Dict[str, Any]
    expected: str
    status: Optional[int] = None  # the status_code the task returns (None: no HTTP answer)
    faults: List[Dict[str, Any]] = field(default_factory=list)  # ARM faults, registered before the run
    control: List[Dict[str, Any]] = field(default_factory=list)  # faults the playbook sets just before this task


def fault(service: str, path: str, status: int, error: Any, method: str = "GET", **extra: Any) -> Dict[str, Any]:
    code, message = error
    return {
        "service": service,
        "kind": "status",
        "status": status,
        "method": method,
        "path": path,
        "code": code,
        "message": message,
        **extra,
    }


def arm_fault(path: str, status: int, error: Any, method: str = "GET", **extra: Any) -> Dict[str, Any]:
    return fault("arm", path, status, error, method, **extra)


def latency(path: str, service: str = "arm") -> Dict[str, Any]:
    return {"service": service, "kind": "latency", "latency": SLOW, "path": path}


def pattern(expected: str, request_id: Optional[str]) -> str:
    text = re.escape(expected)
    text = text.replace(re.escape("{rid}"), re.escape(request_id or "<no request id>"))
    text = text.replace(re.escape("{ids}"), re.escape(", request id %s" % request_id) if request_id else "")
    text = text.replace(re.escape("{tail}"), re.escape(" [request id %s]" % request_id) if request_id else "")
    text = text.replace(re.escape("<ID>"), "[0-9a-f-]{36}")
    return text.replace(re.escape("<N>"), r"[0-9.]+").replace(re.escape("..."), ".*")


def check(record: Any, case: Case) -> None:
    result = record.result
    if record.status != "ignored":
        raise AssertionError("%s did not fail: %s" % (case.name, result))
    message = result["msg"]
    if not re.fullmatch(pattern(case.expected, result.get("request_id")), message, re.DOTALL):
        raise AssertionError("%s\n  got:      %s\n  expected: %s" % (case.name, message, case.expected))
    if result.get("status_code") != case.status:
        raise AssertionError("%s: status_code %s, expected %s" % (case.name, result.get("status_code"), case.status))
    if "{rid}" in case.expected and not re.fullmatch(r"[0-9a-f-]{36}", result["request_id"]):
        raise AssertionError("%s: request_id %r" % (case.name, result["request_id"]))
    if "not-a-token" in message or "eyJ" in message or WRONG_SECRET in message:
        raise AssertionError("%s: a token or secret in the message" % case.name)


def run_cases(run_playbook: Any, emu: Any, module: str, cases: List[Case], extra_vars: Dict[str, Any]) -> None:
    for case in cases:
        for spec in case.faults:
            emu.add_fault(**spec)
    faults = emu.info["control_endpoint"].rstrip("/") + "/faults"
    tasks: List[Dict[str, Any]] = []
    for case in cases:
        if case.control:
            tasks.append(
                {
                    "name": "clear faults before %s" % case.name,
                    "ansible.builtin.uri": {"url": faults, "method": "DELETE", "status_code": [200, 204]},
                }
            )
            tasks += [
                {
                    "name": "fault for %s" % case.name,
                    "ansible.builtin.uri": {
                        "url": faults,
                        "method": "POST",
                        "body_format": "json",
                        "body": spec,
                        "status_code": 201,
                    },
                }
                for spec in case.control
            ]
        tasks.append({"name": case.name, "managed_identity.azure.%s" % module: case.args, "ignore_errors": True})
    result = run_playbook(play(tasks), extra_vars=extra_vars)
    problems = []
    for case in cases:
        try:
            check(result.task(case.name), case)
        except AssertionError as exc:
            problems.append(str(exc))
    if problems:
        raise AssertionError("\n".join(problems))


def timed_out(emu: Any, why: str = "The read operation timed out", end: str = "") -> str:
    """What a request to ARM that met SLOW latency says: how long each attempt waited, and how long in all."""
    return "%s did not answer within timeout 1.0 s per attempt (%s): <N> attempts in <N> s (max_wait 1 s)%s" % (
        emu.arm_endpoint.rstrip("/"),
        why,
        end,
    )


def no_role(emu: Any) -> Dict[str, str]:
    """Task arguments that sign in as a service principal made just now, with no role anywhere."""
    sp = emu.create_principal(display_name="no-role")
    return {"client_id": sp["client_id"], "client_secret": sp["client_secret"]}


def reader(emu: Any) -> Dict[str, str]:
    """Task arguments that sign in as the seed's Reader on the subscription."""
    sp = emu.service_principal("reader")
    return {"client_id": sp["client_id"], "client_secret": sp["client_secret"]}


def rg_path(name: str, tail: str = "") -> str:
    return "/subscriptions/%s/resourceGroups/%s%s" % (SUB, name, tail)


def denied(action: str) -> str:
    """ARM's AuthorizationFailed text (the scope as ARM spells it, which may differ in case from the request)."""
    return (
        "The client '...' with object id '...' does not have authorization to perform action '%s' over scope '...' "
        "or the scope is invalid. If access was recently granted, please refresh your credentials." % action
    )


def test_resource_group_info(run_playbook, emu):
    lead = "Failed to read resource group %s in subscription " + SUB
    operator = emu.service_principal("operator")["client_id"]
    step = "GET /subscriptions/" + SUB + "/resourceGroups/%s"
    hint = (
        " A role assignment made in the last few minutes may not have taken effect yet (up to 10 minutes); "
        "retry later or check the assignment's scope."
    )
    cases = [
        Case("401", dict(BAD_TOKEN, name=RG), lead % RG + REFUSED + "[%s, request id {rid}]" % (step % RG), 401),
        # Entra ID refusing the operator (a wrong secret) is the other 401 of every controller-side module.
        Case(
            "401 sign-in",
            dict(name=RG, client_secret=WRONG_SECRET),
            lead % RG + " (HTTP 401, invalid_client): AADSTS7000215: Invalid client secret provided. Ensure the "
            "secret being sent in the request is the client secret value, not the client secret ID, for a secret "
            "added to app '%s'. [get a token for service_principal client_id %s in tenant %s from %s, request id "
            "{rid}, correlation id <ID>]" % (operator, operator, emu.tenant_id, emu.authority_host.rstrip("/")),
            401,
        ),
        Case(
            "403",
            dict(no_role(emu), name=RG),
            lead % RG
            + " (HTTP 403, AuthorizationFailed): %s%s [%s, request id {rid}]"
            % (denied("Microsoft.Resources/subscriptions/resourceGroups/read"), hint, step % RG),
            403,
        ),
        # A 404 ResourceGroupNotFound is an answer (exists: false, test_resource_group_info.py); a 404 about the
        # subscription is a failure.
        Case(
            "404",
            {"name": "rg-404"},
            lead % "rg-404" + " (HTTP 404, SubscriptionNotFound): %s [%s{ids}]" % (NO_SUBSCRIPTION[1], step % "rg-404"),
            404,
            faults=[arm_fault("/rg-404$", 404, NO_SUBSCRIPTION)],
        ),
        # 409, 412: a read writes nothing and sends no If-Match, so neither a conflict nor a precondition can fail it.
        Case(
            "throttled",
            dict(QUICK, name="rg-429"),
            lead % "rg-429"
            + " (HTTP 429, SubscriptionRequestsThrottled): %s [%s{ids}]" % (THROTTLED[1] + GAVE_UP, step % "rg-429"),
            429,
            faults=[arm_fault("/rg-429$", 429, THROTTLED, retry_after=30)],
        ),
        Case(
            "timeout",
            dict(QUICK, name="rg-slow"),
            lead % "rg-slow" + ": %s [%s]" % (timed_out(emu), step % "rg-slow"),
            faults=[latency("/rg-slow$")],
        ),
    ]
    run_cases(run_playbook, emu, "resource_group_info", cases, azure_vars(emu))


def test_arm_request(run_playbook, emu):
    def get(path, **extra):
        return dict(extra, path=path, api_version="2021-04-01")

    create = {"method": "PUT", "body": {"location": "westus"}}
    cases = [
        Case(
            "401",
            dict(get(rg_path(RG)), **BAD_TOKEN),
            ("Failed to GET %s" + REFUSED + "[request id {rid}]") % rg_path(RG),
            401,
        ),
        Case(
            "403",
            dict(get(rg_path("ar-new")), **create, **reader(emu)),
            "Failed to PUT %s (HTTP 403, AuthorizationFailed): %s [request id {rid}]"
            % (rg_path("ar-new"), denied("Microsoft.Resources/subscriptions/resourceGroups/write")),
            403,
        ),
        Case(
            "404",
            get(rg_path("ar-missing")),
            "Failed to GET %s (HTTP 404, ResourceGroupNotFound): Resource group 'ar-missing' could not be found. "
            "[request id {rid}]" % rg_path("ar-missing"),
            404,
        ),
        Case(
            "409",
            dict(get(rg_path("ar-409")), **create),
            "Failed to PUT %s (HTTP 409, ScopeLocked): %s{tail}" % (rg_path("ar-409"), LOCKED[1]),
            409,
            faults=[arm_fault("/ar-409$", 409, LOCKED, method="PUT")],
        ),
        # 412: arm_request has no option for request headers, so it never sends If-Match and ARM has no
        # precondition to fail.
        Case(
            "throttled",
            get(rg_path("ar-429"), **QUICK),
            "Failed to GET %s (HTTP 429, SubscriptionRequestsThrottled): %s{tail}"
            % (rg_path("ar-429"), THROTTLED[1] + GAVE_UP),
            429,
            faults=[arm_fault("/ar-429$", 429, THROTTLED, retry_after=30)],
        ),
        Case(
            "timeout",
            get(rg_path("ar-slow"), **QUICK),
            "Failed to GET %s: %s" % (rg_path("ar-slow"), timed_out(emu)),
            faults=[latency("/ar-slow$")],
        ),
    ]
    run_cases(run_playbook, emu, "arm_request", cases, azure_vars(emu))


def test_role_assignment(run_playbook, emu):
    principal = emu.service_principal("reader")["object_id"]

    vm_scope = rg_path(RG, "/providers/Microsoft.Compute/virtualMachines/vm-two")

    def grant(group=None, **extra):
        place = {"resource_group": group} if group else {}
        return dict(extra, principal_id=principal, role="Reader", **place)

    def lead(group, scope=None):
        return "Failed to ensure role 'Reader' for principal %s on %s" % (principal, scope or rg_path(group))

    definitions = "list %s/providers/Microsoft.Authorization/roleDefinitions"
    cases = [
        Case(
            "401",
            grant(RG, **BAD_TOKEN),
            lead(RG) + REFUSED + "[%s, request id {rid}]" % (definitions % rg_path(RG)),
            401,
        ),
        Case(
            "403",
            grant(scope=vm_scope, **reader(emu)),
            lead(None, vm_scope) + " (HTTP 403, AuthorizationFailed): %s Fix: give the operator identity (auth "
            "options) Microsoft.Authorization/roleAssignments/write or /delete on the scope. "
            "[PUT %s, request id {rid}]"
            % (
                denied("Microsoft.Authorization/roleAssignments/write"),
                vm_scope + "/providers/Microsoft.Authorization/roleAssignments/<ID>",
            ),
            403,
        ),
        Case(
            "404",
            grant("ra-missing"),
            lead("ra-missing") + " (HTTP 404, ResourceGroupNotFound): Resource group 'ra-missing' could not be "
            "found. [%s, request id {rid}]" % (definitions % rg_path("ra-missing")),
            404,
        ),
        # 409 RoleAssignmentExists is success (the grant is there); any other conflict fails the task.
        Case(
            "409",
            grant(RG),
            lead(RG)
            + " (HTTP 409, ScopeLocked): %s [PUT %s{ids}]"
            % (LOCKED[1], rg_path(RG, "/providers/Microsoft.Authorization/roleAssignments/<ID>")),
            409,
            faults=[
                arm_fault("/rbac-rg/providers/Microsoft.Authorization/roleAssignments/", 409, LOCKED, method="PUT")
            ],
        ),
        # 412: an assignment is created by a PUT of its deterministic name, never updated with If-Match.
        Case(
            "throttled",
            grant("other-rg", **QUICK),
            lead("other-rg")
            + " (HTTP 429, SubscriptionRequestsThrottled): %s [%s{ids}]"
            % (THROTTLED[1] + GAVE_UP, definitions % rg_path("other-rg")),
            429,
            faults=[
                arm_fault("/other-rg/providers/Microsoft.Authorization/roleDefinitions", 429, THROTTLED, retry_after=30)
            ],
        ),
        Case(
            "timeout",
            grant(scope="/subscriptions/" + SUB, **QUICK),
            "Failed to ensure role 'Reader' for principal %s on /subscriptions/%s: %s [%s]"
            % (principal, SUB, timed_out(emu), definitions % ("/subscriptions/" + SUB)),
            faults=[latency("^/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions" % SUB)],
        ),
    ]
    before = rbac_world.assignments(emu, principal)
    run_cases(run_playbook, emu, "role_assignment", cases, azure_vars(emu))
    assert rbac_world.assignments(emu, principal) == before


@pytest.mark.parametrize(
    "module, collection, what, args",
    [
        ("role_assignment_info", "roleAssignments", "role assignments", {}),
        ("role_definition_info", "roleDefinitions", "role definitions", {"name": "Reader"}),
    ],
)
def test_list_modules(run_playbook, emu, module, collection, what, args):
    def step(scope):
        return "list %s/providers/Microsoft.Authorization/%s" % (scope, collection)

    def lead(scope):
        return "Failed to list %s at %s" % (what, scope)

    subscription = "/subscriptions/" + SUB
    cases = [
        Case(
            "401",
            dict(args, resource_group=RG, **BAD_TOKEN),
            lead(rg_path(RG)) + REFUSED + "[%s, request id {rid}]" % step(rg_path(RG)),
            401,
        ),
        Case(
            "403",
            dict(args, resource_group=RG, **no_role(emu)),
            lead(rg_path(RG))
            + " (HTTP 403, AuthorizationFailed): %s [%s, request id {rid}]"
            % (denied("Microsoft.Authorization/%s/read" % collection), step(rg_path(RG))),
            403,
        ),
        Case(
            "404",
            dict(args, resource_group="list-missing"),
            lead(rg_path("list-missing")) + " (HTTP 404, ResourceGroupNotFound): Resource group 'list-missing' "
            "could not be found. [%s, request id {rid}]" % step(rg_path("list-missing")),
            404,
        ),
        # 409, 412: a read writes nothing and sends no If-Match.
        Case(
            "throttled",
            dict(args, resource_group="other-rg", **QUICK),
            lead(rg_path("other-rg"))
            + " (HTTP 429, SubscriptionRequestsThrottled): %s [%s{ids}]"
            % (THROTTLED[1] + GAVE_UP, step(rg_path("other-rg"))),
            429,
            faults=[
                arm_fault("/other-rg/providers/Microsoft.Authorization/" + collection, 429, THROTTLED, retry_after=30)
            ],
        ),
        Case(
            "timeout",
            dict(args, scope=subscription, **QUICK),
            lead(subscription) + ": %s [%s]" % (timed_out(emu), step(subscription)),
            faults=[latency("^%s/providers/Microsoft.Authorization/%s" % (subscription, collection))],
        ),
    ]
    run_cases(run_playbook, emu, module, cases, azure_vars(emu))


def test_user_assigned_identity(run_playbook, emu):
    def uami(name, group=RG):
        return rg_path(group, "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name)

    def lead(name):
        return "Failed to ensure user-assigned identity %r is present" % name

    cases = [
        Case(
            "401",
            dict(BAD_TOKEN, resource_group=RG, name="id-one"),
            lead("id-one") + REFUSED + "[GET %s, request id {rid}]" % uami("id-one"),
            401,
        ),
        Case(
            "403",
            dict(reader(emu), resource_group=RG, name="uai-new"),
            lead("uai-new")
            + " (HTTP 403, AuthorizationFailed): %s [PUT %s, request id {rid}]"
            % (denied("Microsoft.ManagedIdentity/userAssignedIdentities/write"), uami("uai-new")),
            403,
        ),
        Case(
            "404",
            {"resource_group": "uai-missing", "name": "uai-new"},
            "resource_group: 'uai-missing' was not found in subscription %s (Failed to GET %s (HTTP 404, "
            "ResourceGroupNotFound): Resource group 'uai-missing' could not be found. [request id <ID>]). Create it "
            "first or fix the name." % (SUB, rg_path("uai-missing")),
        ),
        Case(
            "409",
            {"resource_group": RG, "name": "uai-409"},
            lead("uai-409") + " (HTTP 409, ScopeLocked): %s [PUT %s{ids}]" % (LOCKED[1], uami("uai-409")),
            409,
            faults=[arm_fault("/uai-409$", 409, LOCKED, method="PUT")],
        ),
        # 412: the identity is written with a plain PUT (no If-Match), so no precondition can fail.
        Case(
            "throttled",
            dict(QUICK, resource_group=RG, name="uai-429"),
            lead("uai-429")
            + " (HTTP 429, SubscriptionRequestsThrottled): %s [GET %s{ids}]"
            % (THROTTLED[1] + GAVE_UP, uami("uai-429")),
            429,
            faults=[arm_fault("/uai-429$", 429, THROTTLED, retry_after=30)],
        ),
        Case(
            "timeout",
            dict(QUICK, resource_group=RG, name="uai-slow"),
            lead("uai-slow") + ": %s [GET %s]" % (timed_out(emu), uami("uai-slow")),
            faults=[latency("/uai-slow$")],
        ),
    ]
    run_cases(run_playbook, emu, "user_assigned_identity", cases, azure_vars(emu))
    for name in ("uai-new", "uai-409"):
        assert resource(emu, uami(name)) is None


def test_vm_identity(run_playbook, emu):
    def vm(name, kind="virtualMachines"):
        return rg_path(RG, "/providers/Microsoft.Compute/%s/%s" % (kind, name))

    def lead(name, label="virtual machine"):
        return "Failed to update the identity of %s %r" % (label, name)

    enable = {"resource_group": RG, "system_assigned": True}
    cases = [
        Case(
            "401",
            dict(enable, name="vm-two", **BAD_TOKEN),
            lead("vm-two") + REFUSED + "[GET %s, request id {rid}]" % vm("vm-two"),
            401,
        ),
        Case(
            "403",
            dict(enable, name="vm-two", **reader(emu)),
            lead("vm-two")
            + " (HTTP 403, AuthorizationFailed): %s [PATCH %s, request id {rid}]"
            % (denied("Microsoft.Compute/virtualMachines/write"), vm("vm-two")),
            403,
        ),
        Case(
            "404",
            dict(enable, name="vm-missing"),
            "name: virtual machine 'vm-missing' was not found in resource group %r of subscription %s (Failed to GET "
            "%s (HTTP 404, ResourceNotFound): The Resource 'Microsoft.Compute/virtualMachines/vm-missing' under "
            "resource group 'rbac-rg' was not found. For more details please go to "
            "https://aka.ms/ARMResourceNotFoundFix [request id <ID>]). Check name, resource_group, subscription_id "
            "and resource_type." % (RG, SUB, vm("vm-missing")),
        ),
        Case(
            "409",
            dict(enable, name="vm-plain"),
            lead("vm-plain") + " (HTTP 409, ScopeLocked): %s [PATCH %s{ids}]" % (LOCKED[1], vm("vm-plain")),
            409,
            faults=[arm_fault("/vm-plain$", 409, LOCKED, method="PATCH")],
        ),
        # 412: If-Match on the etag; a 412 means another writer got in between: read again and re-plan, a few
        # times, then give up.
        Case(
            "412",
            dict(enable, name="vmss-web", resource_type="virtual_machine_scale_set"),
            lead("vmss-web", "virtual machine scale set") + " (HTTP 412, PreconditionFailed): %s kept changing "
            "while we updated its identity (HTTP 412 on <N> attempts in a row). Another process is writing to it; "
            "run again when it is done." % vm("vmss-web", "virtualMachineScaleSets"),
            412,
            faults=[arm_fault("/vmss-web$", 412, STALE, method="PATCH")],
        ),
        Case(
            "throttled",
            dict(enable, name="vm-429", **QUICK),
            lead("vm-429")
            + " (HTTP 429, SubscriptionRequestsThrottled): %s [GET %s{ids}]" % (THROTTLED[1] + GAVE_UP, vm("vm-429")),
            429,
            faults=[arm_fault("/vm-429$", 429, THROTTLED, retry_after=30)],
        ),
        Case(
            "timeout",
            dict(enable, name="vm-slow", **QUICK),
            lead("vm-slow") + ": %s [GET %s]" % (timed_out(emu), vm("vm-slow")),
            faults=[latency("/vm-slow$")],
        ),
    ]
    run_cases(run_playbook, emu, "vm_identity", cases, azure_vars(emu))
    assert rbac_world.identity_of(emu, "vm-plain")["type"] == "None"
    assert rbac_world.identity_of(emu, "vmss-web", "virtualMachineScaleSets")["type"] == "None"


# --- modules that run on the VM: the identity endpoint (IMDS) and, for access_check, ARM with the VM's token ------


def host_args(emu: Any) -> Dict[str, Any]:
    client_id = resource(emu, UAMI + "id-one")["properties"]["clientId"]
    return {"source": "imds", "endpoint": emu.vm("vm-two")["imds_endpoint"], "client_id": client_id}


def imds(status: int, code: str, message: str, **extra: Any) -> Dict[str, Any]:
    return fault("imds", "/metadata/", status, (code, message), **extra)


def test_token_info(run_playbook, emu):
    args = dict(host_args(emu), **QUICK)
    spare = resource(emu, UAMI + "id-spare")["properties"]["clientId"]
    endpoint = args["endpoint"] + "/metadata/identity/oauth2/token"
    # 401, 403: the identity endpoint takes no bearer token and no caller identity; IMDS's 403 is for requests
    # through a proxy (X-Forwarded-For), which the module never sends. 409, 412: a token request changes nothing.
    cases = [
        # IMDS answers 400 "Identity not found" for an identity the VM does not have: the user's mistake, said so.
        Case(
            "not attached",
            dict(args, client_id=spare),
            "Failed to get a managed identity token (HTTP 400, invalid_request): %s (source imds): the "
            "user-assigned identity with client_id=%s is not attached to this host. Attach it (for example with "
            "managed_identity.azure.vm_identity) or select an identity that is. Azure said: Identity not found"
            % (endpoint, spare),
            400,
        ),
        # IMDS's 404 means "updating, retry" (how-to-use-vm-token#error-handling): retried until max_wait.
        Case(
            "404",
            args,
            "Failed to get a managed identity token (HTTP 404, not_found): %s (source imds) refused the token "
            "request: IMDS is updating. (still, after retrying for <N> s of max_wait 1 s; raise max_wait if the "
            "endpoint is updating)" % endpoint,
            404,
            control=[imds(404, "not_found", "IMDS is updating.")],
        ),
        Case(
            "throttled",
            args,
            "Failed to get a managed identity token (HTTP 429, too_many_requests): %s (source imds) refused the "
            "token request: Too many requests. (still, after retrying for <N> s of max_wait 1 s; raise max_wait if "
            "the endpoint is updating)" % endpoint,
            429,
            control=[imds(429, "too_many_requests", "Too many requests.", retry_after=30)],
        ),
        Case(
            "timeout",
            args,
            "Failed to get a managed identity token: %s did not answer within timeout 1.0 s per attempt (timed out): "
            "<N> attempts in <N> s (max_wait 1 s)." % endpoint,
            control=[latency("/metadata/", "imds")],
        ),
    ]
    run_cases(run_playbook, emu, "token_info", cases, {})


def test_instance_info(run_playbook, emu):
    args = dict(endpoint=emu.vm("vm-two")["imds_endpoint"], **QUICK)
    where = "IMDS instance metadata at %s/metadata/instance" % args["endpoint"]
    # 401, 403: instance metadata takes no token; 409, 412: reading metadata changes nothing.
    cases = [
        Case(
            "404",
            args,
            "Failed to read the instance metadata (HTTP 404, not_found): %s answered IMDS is updating. (still, after "
            "retrying for <N> s of max_wait 1 s; raise max_wait if the endpoint is updating)" % where,
            404,
            control=[imds(404, "not_found", "IMDS is updating.")],
        ),
        Case(
            "throttled",
            args,
            "Failed to read the instance metadata (HTTP 429, too_many_requests): %s answered Too many requests. "
            "(still, after retrying for <N> s of max_wait 1 s; raise max_wait if the endpoint is updating)" % where,
            429,
            control=[imds(429, "too_many_requests", "Too many requests.", retry_after=30)],
        ),
        Case(
            "timeout",
            args,
            "Failed to read the instance metadata: %s/metadata/instance did not answer within timeout 1.0 s per "
            "attempt (timed out): <N> attempts in <N> s (max_wait 1 s)." % args["endpoint"],
            control=[latency("/metadata/", "imds")],
        ),
    ]
    run_cases(run_playbook, emu, "instance_info", cases, {})


def test_access_check(run_playbook, emu):
    args = dict(host_args(emu), subscription_id=SUB, arm_endpoint=emu.arm_endpoint, ca_path=emu.ca_bundle, **QUICK)
    oid = resource(emu, UAMI + "id-one")["properties"]["principalId"]

    def lead(group):
        return "Failed to read resource group %r with the managed identity of this host (principal %s)" % (group, oid)

    cases = [
        # The VM's token is good, so ARM's 401 is injected: the answer ARM gives to a token it no longer accepts.
        Case(
            "401",
            dict(args, resource_group="ac-401"),
            lead("ac-401") + " (HTTP 401, ExpiredAuthenticationToken): %s{tail}" % EXPIRED[1],
            401,
            faults=[arm_fault("/ac-401$", 401, EXPIRED)],
        ),
        # The identity has no role yet: a real 403 with the fix.
        Case(
            "403",
            dict(args, resource_group=RG),
            lead(RG) + " (HTTP 403, AuthorizationFailed): %s Assign a role with "
            "Microsoft.Resources/subscriptions/resourceGroups/read (Reader, for example) to principal %s on the "
            "resource group or above; a new assignment can take up to 10 minutes to reach ARM. [request id {rid}]"
            % (denied("Microsoft.Resources/subscriptions/resourceGroups/read"), oid),
            403,
        ),
        Case(
            "404",
            dict(args, resource_group="ac-404"),
            lead("ac-404") + " (HTTP 404, SubscriptionNotFound): %s{tail}" % NO_SUBSCRIPTION[1],
            404,
            faults=[arm_fault("/ac-404$", 404, NO_SUBSCRIPTION)],
        ),
        # 409, 412: the check only reads.
        Case(
            "throttled",
            dict(args, resource_group="ac-429"),
            lead("ac-429") + " (HTTP 429, SubscriptionRequestsThrottled): %s{tail}" % (THROTTLED[1] + GAVE_UP),
            429,
            faults=[arm_fault("/ac-429$", 429, THROTTLED, retry_after=30)],
        ),
        Case(
            "timeout",
            dict(args, resource_group="ac-slow"),
            lead("ac-slow") + ": " + timed_out(emu, "The read operation timed out", "."),
            faults=[latency("/ac-slow$")],
        ),
    ]
    run_cases(run_playbook, emu, "access_check", cases, {})


def test_role_assignment_set(run_playbook, emu):
    principal = emu.service_principal("reader")["object_id"]
    definitions = "list %s/providers/Microsoft.Authorization/roleDefinitions"
    assignments_put = "PUT %s/providers/Microsoft.Authorization/roleAssignments/<ID>"

    def exclusive(group=None, roles=("Reader",), who=None, **extra):
        place = {"resource_group": group} if group else {}
        return dict(extra, principal_id=who or principal, roles=list(roles), **place)

    def lead(scope, roles="Reader", who=None):
        return "Failed to set the roles of principal %s to %s on %s" % (who or principal, roles, scope)

    fix = (
        " Fix: give the operator identity (auth options) Microsoft.Authorization/roleAssignments/read, /write and "
        "/delete on the scope."
    )
    newcomer = emu.create_principal(display_name="set-newcomer")["object_id"]
    vm_scope = rg_path(RG, "/providers/Microsoft.Compute/virtualMachines/vm-two")
    cases = [
        Case(
            "401",
            exclusive(RG, **BAD_TOKEN),
            lead(rg_path(RG)) + REFUSED + "[%s, request id {rid}]" % (definitions % rg_path(RG)),
            401,
        ),
        Case(
            "403",
            dict(exclusive(who=newcomer, **reader(emu)), scope=vm_scope),
            lead(vm_scope, who=newcomer)
            + " (HTTP 403, AuthorizationFailed): %s%s [%s, request id {rid}]"
            % (denied("Microsoft.Authorization/roleAssignments/write"), fix, assignments_put % vm_scope),
            403,
        ),
        Case(
            "404",
            exclusive("set-missing"),
            lead(rg_path("set-missing")) + " (HTTP 404, ResourceGroupNotFound): Resource group 'set-missing' could "
            "not be found. [%s, request id {rid}]" % (definitions % rg_path("set-missing")),
            404,
        ),
        Case(
            "409",
            exclusive(RG, who=newcomer),
            lead(rg_path(RG), who=newcomer)
            + " (HTTP 409, ScopeLocked): %s [%s{ids}]" % (LOCKED[1], assignments_put % rg_path(RG)),
            409,
            faults=[
                arm_fault("/rbac-rg/providers/Microsoft.Authorization/roleAssignments/", 409, LOCKED, method="PUT")
            ],
        ),
        # 412: assignments are created by a PUT of their deterministic name and deleted by ID, never with If-Match.
        Case(
            "throttled",
            exclusive("other-rg", **QUICK),
            lead(rg_path("other-rg"))
            + " (HTTP 429, SubscriptionRequestsThrottled): %s [%s{ids}]"
            % (THROTTLED[1] + GAVE_UP, definitions % rg_path("other-rg")),
            429,
            faults=[
                arm_fault("/other-rg/providers/Microsoft.Authorization/roleDefinitions", 429, THROTTLED, retry_after=30)
            ],
        ),
        Case(
            "timeout",
            dict(exclusive(**QUICK), scope="/subscriptions/" + SUB),
            lead("/subscriptions/" + SUB) + ": %s [%s]" % (timed_out(emu), definitions % ("/subscriptions/" + SUB)),
            faults=[latency("^/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions" % SUB)],
        ),
    ]
    before = rbac_world.assignments(emu)
    run_cases(run_playbook, emu, "role_assignment_set", cases, azure_vars(emu))
    assert rbac_world.assignments(emu) == before


def test_role_assignment_orphans(run_playbook, emu):
    assignments = "list %s/providers/Microsoft.Authorization/roleAssignments"
    lead = "Failed to find orphaned role assignments at %s"
    cases = [
        Case(
            "401",
            dict(BAD_TOKEN, resource_group=RG),
            lead % rg_path(RG) + REFUSED + "[%s, request id {rid}]" % (assignments % rg_path(RG)),
            401,
        ),
        # 403 from ARM is role_assignment_info's (the same list call); this module's own is Graph refusing the
        # directory look-up to an operator without Directory.Read.All.
        Case(
            "403",
            dict(reader(emu), scope="/subscriptions/" + SUB),  # the seed's assignments are made there
            "Failed to look up the principals of the role assignments at /subscriptions/%s in Microsoft Graph (HTTP "
            "403, Authorization_RequestDenied): ... Fix: grant the operator identity the Microsoft Graph application "
            "permission Directory.Read.All (with admin consent); it is needed to look principals up. "
            "[POST /v1.0/directoryObjects/getByIds{ids}]" % SUB,
            403,
        ),
        Case(
            "404",
            {"resource_group": "orphans-missing"},
            lead % rg_path("orphans-missing") + " (HTTP 404, ResourceGroupNotFound): Resource group "
            "'orphans-missing' could not be found. [%s, request id {rid}]" % (assignments % rg_path("orphans-missing")),
            404,
        ),
        # 409 and 412 need a write: removal deletes by ID (no If-Match); a lock on the scope answers the DELETE 409,
        # which role_assignment's matrix covers for the same delete call.
        Case(
            "throttled",
            dict(QUICK, resource_group="other-rg"),
            lead % rg_path("other-rg")
            + " (HTTP 429, SubscriptionRequestsThrottled): %s [%s{ids}]"
            % (THROTTLED[1] + GAVE_UP, assignments % rg_path("other-rg")),
            429,
            faults=[
                arm_fault("/other-rg/providers/Microsoft.Authorization/roleAssignments", 429, THROTTLED, retry_after=30)
            ],
        ),
        Case(
            "timeout",
            dict(QUICK, scope="/subscriptions/" + SUB),
            lead % ("/subscriptions/" + SUB)
            + ": %s [%s]" % (timed_out(emu), assignments % ("/subscriptions/" + SUB)),
            faults=[latency("^/subscriptions/%s/providers/Microsoft.Authorization/roleAssignments" % SUB)],
        ),
    ]
    for case in cases:
        case.args["graph_endpoint"] = emu.info["graph_endpoint"]
    run_cases(run_playbook, emu, "role_assignment_orphans", cases, azure_vars(emu))
    assert rbac_world.writes(emu) == 0
