"""skyport-hello: the example plugin of the SkyPort plugin author guide (docs/plugins.md)."""
