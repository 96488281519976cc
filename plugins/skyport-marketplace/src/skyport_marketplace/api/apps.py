"""The catalog: ``/apps`` (search), ``/apps/{id}``, ``/apps/{id}/install``, ``/categories``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from skyport.api import AppTemplate, Requirement
from skyport_marketplace.api.common import INSTALL, READ, AuthRequest, JobStarted, Skyport
from skyport_marketplace.search import SearchIndex
from skyport_marketplace.state import marketplace_state

TAGS = ["marketplace: apps"]
SUMMARY_LENGTH = 200


class AppSummary(msgspec.Struct, frozen=True):
    """One search result."""

    id: str
    title: str
    kind: str
    source: str
    categories: tuple[str, ...]
    logo: str
    summary: str
    """The description's first words, as plain text."""


class AppPage(msgspec.Struct, frozen=True):
    items: list[AppSummary]
    total: int
    page: int
    per_page: int


class AppDetail(AppTemplate, frozen=True, kw_only=True):
    """An app template, plus who may install it and with what."""

    deployer: str | None = None
    """The deployer that installs it (None: no plugin installs this kind)."""
    requirements: list[Requirement] = msgspec.field(default_factory=list)
    """Scopes installing it needs beyond ``marketplace:install``, each with why."""
    you_may_install: bool = False
    """Whether the caller holds ``marketplace:install`` and every required scope."""


class InstallRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /apps/{id}/install``: the install's name and its settings' values."""

    name: str
    values: dict[str, str] = msgspec.field(default_factory=dict)


Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
PerPage = Annotated[int, QueryParameter(ge=1, le=200)]


@get("/apps", opt=READ, tags=TAGS)
async def search_apps(
    skyport: Skyport,
    q: FromQuery[str] = "",
    category: FromQuery[str | None] = None,
    kind: FromQuery[Literal["container", "stack", "node"] | None] = None,
    source: FromQuery[str | None] = None,
    page: Page = 1,
    per_page: PerPage = 50,
) -> AppPage:
    """Search title, description and categories (best first); filter by category, kind, source."""
    index = marketplace_state(skyport).catalog.index
    found = index.search(q, category=category, kind=kind, source=source)
    start = (page - 1) * per_page
    items = [_summary(index, n) for n in found[start : start + per_page]]
    return AppPage(items, len(found), page, per_page)


def _summary(index: SearchIndex, number: int) -> AppSummary:
    template, text = index.templates[number], index.plain[number]
    if len(text) > SUMMARY_LENGTH:
        text = text[: SUMMARY_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return AppSummary(
        template.id,
        template.title,
        template.kind,
        template.source,
        template.categories,
        template.logo,
        text,
    )


@get("/categories", opt=READ, tags=TAGS)
async def categories(skyport: Skyport) -> dict[str, int]:
    """Every category and how many apps it has, largest first."""
    return marketplace_state(skyport).catalog.index.categories()


@get("/apps/{app_id:str}", opt=READ, tags=TAGS)
async def show_app(skyport: Skyport, request: AuthRequest, app_id: FromPath[str]) -> AppDetail:
    """The app's template, what installing it needs and why, and whether you may."""
    state = marketplace_state(skyport)
    template = state.catalog.app(app_id)
    deployer = state.installer.deployer_for(template.kind)
    needs = deployer.requirements(template) if deployer is not None else []
    allowed = (
        deployer is not None
        and request.user.has_scope(INSTALL["scope"])
        and not request.user.missing([r.scope for r in needs])
    )
    return AppDetail(
        **msgspec.structs.asdict(template),
        deployer=deployer.name if deployer is not None else None,
        requirements=needs,
        you_may_install=allowed,
    )


@post("/apps/{app_id:str}/install", opt=INSTALL, tags=TAGS, status_code=202)
async def install_app(
    skyport: Skyport, request: AuthRequest, app_id: FromPath[str], data: JSONBody[InstallRequest]
) -> JobStarted:
    """Check the values, then install in the background: follow ``marketplace.jobs:<job>``."""
    installer = marketplace_state(skyport).installer
    job = await installer.install(app_id, data.name, data.values, request.user)
    return JobStarted(job.id)


ROUTES = [search_apps, categories, show_app, install_app]
