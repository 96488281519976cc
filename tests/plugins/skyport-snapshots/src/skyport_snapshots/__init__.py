"""skyport-snapshots: a plugin that ships no frontend code, only dashboard panels.

Written from the plugin author guide (docs/plugins.md) alone, as a third party would, to
test that the dashboard gives such a plugin a navigation entry and working pages.
"""
