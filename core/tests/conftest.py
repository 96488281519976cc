"""The core's tests use the shared fixtures from :mod:`skyport.testing`."""

import textwrap
from pathlib import Path

from skyport.testing import ADMIN_PASSWORD, LiveServer, bearer, free_port, login

__all__ = ["ADMIN_PASSWORD", "LiveServer", "bearer", "free_port", "login", "write_revision"]


def write_revision(
    folder: Path, revision: str, down: str | None, body: str, label: str = "notes"
) -> Path:
    """One Alembic revision script of the throwaway ``notes`` component."""
    folder.mkdir(exist_ok=True)
    labels = (label,) if down is None else None
    (folder / f"{revision}.py").write_text(
        f'"""{revision} of the notes plugin."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\nbranch_labels = {labels!r}\n\n"
        f"def upgrade():\n{textwrap.indent(textwrap.dedent(body), '    ')}\n"
    )
    return folder
