"""Live metrics: the host collector, the sampling hub, history and Prometheus.

The submodules are imported on demand (``from skyport.metrics.hub import
MetricsHub``); importing this package loads nothing heavy.

- :mod:`skyport.metrics.host`: :func:`~skyport.metrics.host.host_collector`,
  CPU, memory, disks, network and top processes through psutil.
- :mod:`skyport.metrics.hub`: :class:`~skyport.metrics.hub.MetricsHub`, samples
  every collector at its own interval while someone listens.
- :mod:`skyport.metrics.history`: :class:`~skyport.metrics.history.MetricsHistory`,
  an hour at full resolution and a day at one point per minute.
- :mod:`skyport.metrics.prometheus`:
  :func:`~skyport.metrics.prometheus.render_prometheus`, the ``/metrics`` text.
"""

IDENTITY_KEYS: tuple[str, ...] = ("name", "id", "device", "mountpoint", "interface", "pid")
"""Fields that identify an item in a list of objects, in order of preference.

Prometheus labels list items by the first of these present; history averages
two samples of a list item by item only when these fields agree.
"""

DETAILS_TOPIC = "metrics.details:"
"""``metrics.details:<collector>``: following this WebSocket topic makes that collector's
samples (still published on ``metrics``) include its costly details (the host's top
processes); ``GET /api/metrics?details=<collector>`` asks for them once."""

__all__ = ["DETAILS_TOPIC", "IDENTITY_KEYS"]
