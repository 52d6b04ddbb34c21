"""cogate's kernel: the types and helpers every other package shares.

It imports nothing else from cogate: settings, the exchange and its Protocols, errors with
codes, modes, owner-only files, SSE parsing and encoding, and the wire-API seam (`surface`).
"""
