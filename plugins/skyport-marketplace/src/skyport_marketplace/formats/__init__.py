"""The catalog formats this plugin reads; other plugins add theirs through the same hook."""

from __future__ import annotations

from skyport.api import MarketplaceSource


def builtin_formats() -> list[MarketplaceSource]:
    """Portainer, CasaOS, Umbrel and SkyPort catalogs."""
    from skyport_marketplace.formats.casaos import CasaOSFormat
    from skyport_marketplace.formats.portainer import PortainerFormat
    from skyport_marketplace.formats.skyport import SkyportFormat
    from skyport_marketplace.formats.umbrel import UmbrelFormat

    return [PortainerFormat(), CasaOSFormat(), UmbrelFormat(), SkyportFormat()]
