"""Request counters: one dict increment per request, aggregated when read (``GET /counters`` of the control app).

The middleware records every request under the route a user would recognise: handlers whose aiohttp route is a
catch-all set ``request["route_template"]`` (e.g. ``"/subscriptions/{subscriptionId}/resourceGroups"``).
"""

from __future__ import annotations

from collections import Counter


class Counters:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str, str, bool]] = Counter()

    def reset(self) -> None:
        self._counts.clear()

    def record(self, service: str, method: str, route: str, status: int | str, write: bool) -> None:
        self._counts[(service, method, route, str(status), write)] += 1

    def snapshot(self, service: str | None = None) -> dict:
        by_service: Counter[str] = Counter()
        by_method: Counter[str] = Counter()
        by_status: Counter[str] = Counter()
        by_route: Counter[str] = Counter()
        writes = 0
        for (svc, method, route, status, write), n in self._counts.items():
            if service is not None and svc != service:
                continue
            by_service[svc] += n
            by_method[method] += n
            by_status[status] += n
            by_route[f"{method} {route}" if service else f"{svc} {method} {route}"] += n
            writes += n if write else 0
        return {"requests": sum(by_service.values()), "writes": writes, "by_service": dict(by_service),
                "by_method": dict(by_method), "by_status": dict(by_status), "by_route": dict(by_route)}
