"""``skyport tui``: a full-screen terminal UI on the same client and live topics as the CLI.

Needs the ``tui`` extra (Textual). :mod:`skyport.tui.app` is the application,
:mod:`skyport.tui.live` its one WebSocket feed, :mod:`skyport.tui.screens`
one module per area, :mod:`skyport.tui.widgets` what they share.
"""
