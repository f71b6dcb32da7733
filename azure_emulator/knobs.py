"""Realism knobs: set by CLI flags at start, changed at run time through ``PATCH /knobs``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


class KnobError(ValueError):
    """A knob name or value that cannot be applied."""


@dataclass
class Knobs:
    propagation_delay: float = 0.0      # s before a role assignment grant/revoke affects authorization
    replication_delay: float = 0.0      # s during which a new principal is unknown to role-assignment PUTs
    page_size: int = 100                # ARM list page size
    token_lifetime: float | None = None  # s; None = Azure's defaults (3599 SP, 86700 MI)
    lro_delay: float = 0.5              # s a VM/VMSS update stays "Updating"
    retry_after: int = 1                # Retry-After on LRO responses
    throttling: bool = True             # ARM token buckets
    imds_limits: bool = True            # IMDS 20 req/s and 5 concurrent per VM
    # ARM token buckets (size, refill per second) per subscription + principal + operation kind.
    # Current model, learn.microsoft.com "request-limits-and-throttling" (token bucket since 2024).
    read_bucket: int = 250
    read_refill: float = 25.0
    write_bucket: int = 200
    write_refill: float = 10.0
    delete_bucket: int = 200
    delete_refill: float = 10.0
    imds_rate: int = 20                 # IMDS requests per second per VM
    imds_concurrency: int = 5           # IMDS concurrent requests per VM
    # Entra ID loop detection (throttle.EntraLoopDetector): more than N identical client-credential requests in the
    # window get 429 AADSTS50196; 0 = off.
    entra_loop_threshold: int = 0
    entra_loop_window: float = 60.0

    def to_dict(self) -> dict:
        return asdict(self)

    def update(self, changes: dict) -> list[str]:
        """Validate every change first, then apply all of them; return the names changed."""
        known = {f.name: f for f in fields(self)}
        converted: dict[str, object] = {}
        for name, value in changes.items():
            if name not in known:
                raise KnobError(f"unknown knob {name!r}; known knobs: {', '.join(sorted(known))}")
            converted[name] = _convert(name, value, getattr(type(self), name, None))
        for name, value in converted.items():
            setattr(self, name, value)
        return sorted(converted)


def _convert(name: str, value: object, default: object) -> object:
    if name == "token_lifetime" and value is None:
        return None
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise KnobError(f"knob {name!r} needs true or false, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KnobError(f"knob {name!r} needs a number, got {value!r}")
    if value < 0:
        raise KnobError(f"knob {name!r} cannot be negative, got {value!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        if int(value) != value:
            raise KnobError(f"knob {name!r} needs an integer, got {value!r}")
        if name == "page_size" and value < 1:
            raise KnobError("knob 'page_size' needs at least 1")
        return int(value)
    return float(value)
