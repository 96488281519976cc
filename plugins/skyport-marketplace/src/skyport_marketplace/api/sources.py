"""Catalog sources: ``/sources``, ``/sources/{name}``, ``/sources/{name}/refresh``, ``/formats``."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import delete, get, post
from litestar.exceptions import ClientException
from litestar.params import FromPath, JSONBody
from sqlalchemy.exc import IntegrityError

from skyport.api import ProgressCallback
from skyport_marketplace.api.common import ADMIN, READ, AuthRequest, JobStarted, Skyport
from skyport_marketplace.catalog import SourceStatus
from skyport_marketplace.fetch import is_url, local_path
from skyport_marketplace.formats.skyport import json_schema
from skyport_marketplace.kept import start_afresh
from skyport_marketplace.settings import SourceConfig, SourceName
from skyport_marketplace.state import MarketplaceState, marketplace_state
from skyport_marketplace.tables import catalogs as catalogs_table
from skyport_marketplace.tables import sources as sources_table

TAGS = ["marketplace: sources"]


class AddSource(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /sources``: a catalog by name, format and location."""

    name: SourceName
    type: str
    """``portainer``, ``casaos``, ``umbrel``, ``skyport``, or a plugin's (``GET /formats``)."""
    url: str
    """``https://…``, ``file://…`` or an absolute path (a folder or zip for app stores)."""


class SourceAdded(msgspec.Struct, frozen=True):
    source: SourceStatus
    job: str
    """The first read, under way."""


class Format(msgspec.Struct, frozen=True):
    type: str
    description: str


@get("/sources", opt=READ, tags=TAGS)
async def list_sources(skyport: Skyport) -> list[SourceStatus]:
    """Every source: templates read, entries skipped (with reasons), last read, last error."""
    return marketplace_state(skyport).catalog.statuses()


@post("/sources", opt=ADMIN, tags=TAGS, status_code=201)
async def add_source(
    skyport: Skyport, request: AuthRequest, data: JSONBody[AddSource]
) -> SourceAdded:
    """Add a catalog and start reading it."""
    if not is_url(data.url) and local_path(data.url) is None:
        raise ClientException(
            f"url: {data.url!r} is not an http(s):// or file:// URL or an absolute path",
            extra={"field": "url"},
        )
    state = marketplace_state(skyport)
    config = SourceConfig(data.name, data.type, data.url)
    state.catalog.check_new(config)
    now = time.time()
    try:
        async with skyport.database.begin() as conn:
            await conn.execute(
                sources_table.insert().values(
                    name=data.name,
                    type=data.type,
                    url=data.url,
                    created=now,
                    created_by=request.user.username,
                )
            )
            # This node reads it now: the node leading the refreshes leaves it alone.
            await start_afresh(conn, data.name, data.type, data.url, now)
    except IntegrityError:  # added meanwhile, through another node
        raise ClientException(f"a source named {data.name!r} exists", status_code=409) from None
    source = state.catalog.add(config, "api")
    job = await _refresh_job(state, data.name, request.user.username)
    return SourceAdded(source.status(), job.job)


@delete("/sources/{name:str}", opt=ADMIN, tags=TAGS)
async def remove_source(skyport: Skyport, name: FromPath[str]) -> None:
    """Remove a source added through the API (its apps leave the catalog; installs stay)."""
    catalog = marketplace_state(skyport).catalog
    catalog.check_removable(name)
    async with skyport.database.begin() as conn:
        await conn.execute(sources_table.delete().where(sources_table.c.name == name))
        await conn.execute(catalogs_table.delete().where(catalogs_table.c.name == name))
    catalog.remove(name)


@post("/sources/{name:str}/refresh", opt=ADMIN, tags=TAGS, status_code=202)
async def refresh_source(skyport: Skyport, request: AuthRequest, name: FromPath[str]) -> JobStarted:
    """Read the source again now (the server asks whether it changed: ETag, Last-Modified)."""
    state = marketplace_state(skyport)
    state.catalog.get(name)
    return await _refresh_job(state, name, request.user.username)


async def _refresh_job(state: MarketplaceState, name: str, username: str) -> JobStarted:
    async def work(progress: ProgressCallback) -> Any:
        progress(f"reading {state.catalog.get(name).config.url}")
        (status,) = await state.catalog.refresh([name])
        if status.error:
            raise ClientException(status.error)
        progress(f"{status.templates} templates, {status.skipped} skipped", 1.0)
        return msgspec.to_builtins(status)

    return JobStarted((await state.jobs.start("refresh", name, username, work)).id)


@get("/formats", opt=READ, tags=TAGS)
async def list_formats(skyport: Skyport) -> list[Format]:
    """The catalog formats sources can have (this plugin's and other plugins')."""
    return [
        Format(f.type, f.description) for f in marketplace_state(skyport).catalog.formats.values()
    ]


@get("/formats/skyport/schema", opt=READ, tags=TAGS)
async def skyport_schema() -> dict[str, Any]:
    """The JSON Schema of SkyPort's own catalog format."""
    return json_schema()


ROUTES = [list_sources, add_source, remove_source, refresh_source, list_formats, skyport_schema]
