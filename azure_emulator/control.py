"""The control app (HTTP, ``control_endpoint``): health, the ready JSON, state, counters, knobs, faults, reset and
new service principals, for tests, benchmarks and the demo (azure_emulator/README.md, "Control endpoint").

It drives the Emulator through ``Controlled``, the few operations it needs, so it does not import ``emulator.py``.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from aiohttp import web

from .counters import Counters
from .faults import FaultError, Faults
from .knobs import KnobError, Knobs


class Controlled(Protocol):
    counters: Counters
    faults: Faults
    knobs: Knobs

    def info(self) -> dict: ...

    def public_state(self) -> dict: ...

    def vm_entries(self) -> list[dict]: ...

    async def sync_vm_listeners(self) -> None: ...

    async def reset(self) -> None: ...

    def create_application(self, body: dict) -> dict: ...


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except json.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"body is not JSON: {exc}"}),
                                 content_type="application/json") from None


def make_control_app(emulator: Controlled) -> web.Application:
    routes = web.RouteTableDef()

    @routes.get("/healthz")
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    @routes.get("/state")
    async def state(request: web.Request) -> web.Response:
        return web.json_response(emulator.public_state())

    @routes.get("/info")
    async def info(request: web.Request) -> web.Response:
        await emulator.sync_vm_listeners()
        return web.json_response(emulator.info())

    @routes.get("/vms")
    async def vms(request: web.Request) -> web.Response:
        await emulator.sync_vm_listeners()
        return web.json_response(emulator.vm_entries())

    @routes.get("/counters")
    async def counters(request: web.Request) -> web.Response:
        return web.json_response(emulator.counters.snapshot(request.query.get("service")))

    @routes.post("/counters/reset")
    async def counters_reset(request: web.Request) -> web.Response:
        emulator.counters.reset()
        return web.json_response(emulator.counters.snapshot())

    @routes.post("/reset")
    async def reset(request: web.Request) -> web.Response:
        await emulator.reset()
        return web.json_response({"status": "reset"})

    @routes.get("/knobs")
    async def knobs(request: web.Request) -> web.Response:
        return web.json_response(emulator.knobs.to_dict())

    @routes.patch("/knobs")
    async def knobs_patch(request: web.Request) -> web.Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _bad_request("PATCH /knobs needs a JSON object of knob names and values")
        try:
            emulator.knobs.update(body)
        except KnobError as exc:
            return _bad_request(str(exc))
        return web.json_response(emulator.knobs.to_dict())

    @routes.get("/faults")
    async def faults(request: web.Request) -> web.Response:
        return web.json_response(emulator.faults.list())

    @routes.post("/faults")
    async def faults_add(request: web.Request) -> web.Response:
        try:
            fault = emulator.faults.add(await _json_body(request))
        except FaultError as exc:
            return _bad_request(str(exc))
        return web.json_response(fault.to_dict(), status=201)

    @routes.delete("/faults")
    async def faults_clear(request: web.Request) -> web.Response:
        emulator.faults.clear()
        return web.json_response([])

    @routes.post("/principals")
    async def principals_add(request: web.Request) -> web.Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _bad_request("POST /principals needs a JSON object, e.g. {\"display_name\": \"new-app\"}")
        try:
            created = emulator.create_application(body)
        except ValueError as exc:
            return _bad_request(str(exc))
        return web.json_response(created, status=201)

    @routes.delete("/principals/{object_id}")
    async def principals_delete(request: web.Request) -> web.Response:
        # A deleted application or identity: its role assignments stay behind, as in Azure ("Identity not found").
        object_id = request.match_info["object_id"]
        if emulator.world.principal(object_id) is None:
            return web.json_response({"error": f"no principal with object id {object_id}"}, status=404)
        emulator.world.remove_principal(object_id)
        emulator.world.commit()
        return web.Response(status=204)

    app = web.Application()
    app.add_routes(routes)
    return app
