"""Interactive terminals: the PTY session helper and the built-in host shell.

``WS /ws/terminal`` lives in :mod:`skyport.terminals.bridge`; providers come
from the ``register_terminals`` hook. Plugins that run a local program on a
terminal (``docker exec -it``, ``ssh -t``) can return a :class:`PtySession`.
"""

from skyport.terminals.host import HostShell
from skyport.terminals.pty_session import PtySession, exit_status, set_window_size

__all__ = ["HostShell", "PtySession", "exit_status", "set_window_size"]
