"""Many SkyPort nodes on one PostgreSQL: who is there, what crosses, who leads.

- :mod:`~skyport.cluster.nodes`: the nodes table, heartbeats, up or down;
- :mod:`~skyport.cluster.bus`: LISTEN/NOTIFY between nodes (live events, revocations);
- :mod:`~skyport.cluster.leader`: run-once work under advisory-lock leadership;
- :mod:`~skyport.cluster.routing` and :mod:`~skyport.cluster.signing`: ``?node=``;
- :mod:`~skyport.cluster.member`: this server as a node, tying them together;
- :mod:`~skyport.cluster.routes`: ``GET /api/nodes`` and the readiness probe.
"""
