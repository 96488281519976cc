"""HTTP routes under ``/api/docker``: one module per resource."""
