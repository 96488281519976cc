"""The core's tests use the shared fixtures from :mod:`skyport.testing`."""

from skyport.testing import ADMIN_PASSWORD, LiveServer, bearer, free_port, login

__all__ = ["ADMIN_PASSWORD", "LiveServer", "bearer", "free_port", "login"]
