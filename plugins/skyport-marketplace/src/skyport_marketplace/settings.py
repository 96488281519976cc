"""The ``marketplace`` section of SkyPort's settings (``SKYPORT_MARKETPLACE__<KEY>``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

SourceName = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class SourceConfig(msgspec.Struct, forbid_unknown_fields=True):
    """A catalog: its name, its format (``portainer``, ``casaos``, ``umbrel``, ``skyport`` or
    a plugin's) and where it is (``https://…``, ``file://…`` or a path; a folder or a zip for
    app stores)."""

    name: SourceName
    type: str
    url: str


class MarketplaceSettings(msgspec.Struct, forbid_unknown_fields=True):
    sources: list[SourceConfig] = msgspec.field(default_factory=list)
    """Catalogs from the settings (more can be added through the API)."""
    cache_ttl: Annotated[float, msgspec.Meta(ge=0)] = 6 * 3600.0
    """Seconds a catalog read is used before it is read again (0: read at every start)."""
    refresh_timeout: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    """Seconds one catalog may take to download and read."""
    max_catalog_bytes: Annotated[int, msgspec.Meta(gt=0)] = 64 << 20
    """The most a catalog (a download, a folder's files, a zip's contents) may hold."""
