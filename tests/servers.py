"""Real servers for end-to-end tests (the same helpers `make demo` uses)."""

from cogate.proxy.servers import cogate_server, free_port, llama_server, stop, wait_ready

__all__ = ["cogate_server", "free_port", "llama_server", "stop", "wait_ready"]
