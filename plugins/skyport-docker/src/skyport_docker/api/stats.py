"""Container stats: one container, or every running one (``docker stats --no-stream``).

Live stats are on the WebSocket topic ``docker.stats:<container>``
(:func:`skyport_docker.stats.follow_stats`); the ``containers`` metrics
collector has every engine's containers in ``/api/metrics`` and ``/metrics``.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get
from litestar.params import FromPath, FromQuery, QueryParameter

from skyport_docker.api.common import Skyport, engine_for, list_across
from skyport_docker.stats import ContainerStats, stats_service

Window = Annotated[
    float,
    QueryParameter(
        ge=0,
        le=10,
        description="Seconds to measure CPU % over when no recent reading of the container "
        "exists (0: answer at once, CPU % 0 then)",
    ),
]


@get("/stats", opt={"scope": "docker:read"}, sync_to_thread=True)
def all_stats(
    skyport: Skyport,
    engine: FromQuery[str | None] = None,
    window: Window = 1.0,
) -> Response[list[ContainerStats]]:
    """Stats of every running container (``engine=all``: of every engine)."""
    service = stats_service(skyport)
    return list_across(skyport, engine, lambda e: service.sampler(e).sample(window))


@get(
    "/containers/{id_or_name:str}/stats",
    opt={"scope": "docker:read"},
    sync_to_thread=True,
)
def container_stats(
    skyport: Skyport,
    id_or_name: FromPath[str],
    engine: FromQuery[str | None] = None,
    window: Window = 1.0,
) -> ContainerStats:
    """One running container's stats; 404 if unknown, 409 if it is not running."""
    sampler = stats_service(skyport).sampler(engine_for(skyport, engine))
    return sampler.sample_one(id_or_name, window)[0]


ROUTES = [all_stats, container_stats]
