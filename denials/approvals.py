"""Where a denial's write-off above the practice's threshold is decided.

The manager decides in the one "Approvals" queue, which belongs to a higher layer (``ar``:
adjustment requests); denials cannot import it. That layer registers a router here in its
``AppConfig.ready``; ``denials.services.denial_write_off`` hands every write-off that needs
approval to it, in the same transaction (a router that refuses rolls the request back).
The decision comes back through ``denials.write_offs`` (approve or refuse).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from denials.models import WriteOffRequest

# (write-off request, actor) -> anything: puts the request where a manager decides it.
WriteOffRouter = Callable[["WriteOffRequest", Any], object]

_routers: list[WriteOffRouter] = []


def register_write_off_router(router: WriteOffRouter) -> None:
    """Called once from the higher layer's ``AppConfig.ready`` (twice is harmless)."""
    if router not in _routers:
        _routers.append(router)


def route_write_off(request: WriteOffRequest, actor: Any) -> bool:
    """Hand a pending write-off to the registered routers; False when there is none (the
    request then only shows on the denial)."""
    for router in _routers:
        router(request, actor)
    return bool(_routers)
