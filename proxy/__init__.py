"""cogate's gateway: OpenAI-compatible routes, the request pipeline, the upstream client,
the CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cogate")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
