"""The HTTP edge's defences: browser pages (DNS rebinding, cross-site requests), compressed
request bodies, slow clients."""
