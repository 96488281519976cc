"""``skyport --install-completion``, loaded only when asked for (cyclopts' own command)."""

from __future__ import annotations

from cyclopts.completion.install import create_install_completion_command

from skyport.cli import app

install = create_install_completion_command(app.install_completion, True)
