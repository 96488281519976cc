"""The marketplace's routes under ``/api/marketplace``."""
