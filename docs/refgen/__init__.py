"""Reference pages generated from the code while the site builds (see ``docs/hooks.py``)."""
