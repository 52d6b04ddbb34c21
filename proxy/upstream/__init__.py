"""The upstream client: a pooled httpx client over a lean keep-alive transport."""
