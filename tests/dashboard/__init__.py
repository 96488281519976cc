"""End-to-end and shipping tests of the web dashboard."""
