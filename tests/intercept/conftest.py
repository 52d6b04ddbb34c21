"""The addon's own tests import mitmproxy: they run in .mitm-venv (see test_addon_suite.py)."""

collect_ignore = ["addon_tests"]
