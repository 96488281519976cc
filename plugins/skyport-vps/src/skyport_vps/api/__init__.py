"""HTTP routes under ``/api/vps``: one module per resource."""
