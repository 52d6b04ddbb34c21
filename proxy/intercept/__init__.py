"""Transparent interception through mitmproxy: the `cogate intercept` CLI, the CA files, the
mitmdump supervisor, the addon (run by path in mitmproxy's own interpreter) and its secret."""
