"""Every test in the repository gets SkyPort's shared fixtures."""

pytest_plugins = ["skyport.testing"]
