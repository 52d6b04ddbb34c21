"""The detector's analysis cache: bounded, least recently used out first, counts hits."""

from __future__ import annotations

from cogate.policies.detect.engine import AnalysisCache


def test_the_least_recently_used_analysis_is_dropped_first() -> None:
    cache = AnalysisCache(max_entries=2)
    cache.put("a", ())
    cache.put("b", ())
    assert cache.get("a") == ()  # "a" is now the most recently used
    cache.put("c", ())
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") == () and cache.get("c") == ()
    assert (cache.hits, cache.misses) == (3, 1)
