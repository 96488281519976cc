"""``skyport vps …`` (placeholder while the commands are written)."""

from cyclopts import App

app = App(name="vps", help="Servers over SSH.")
