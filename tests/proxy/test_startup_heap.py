"""What start-up loads is frozen out of the garbage collector: a full collection would
otherwise walk spaCy's and Presidio's ~500,000 objects, with the GIL held, mid-request."""

from __future__ import annotations

import functools
import gc

import httpx
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline
from fastapi.testclient import TestClient


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, json={"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}
    )


def test_start_up_freezes_what_it_loaded(tmp_path) -> None:
    gc.unfreeze()  # whatever an earlier test's gateway froze in this process
    assert gc.get_freeze_count() == 0
    app = create_app(
        Settings(upstream="http://upstream.test/v1", data_dir=tmp_path),
        functools.partial(assemble_pipeline, transport=httpx.MockTransport(answer)),
    )
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert gc.get_freeze_count() > 100_000  # the privacy engine's pipelines among them
        chat = {"model": "m", "messages": [{"role": "user", "content": "Say ok."}]}
        assert client.post("/v1/chat/completions", json=chat).status_code == 200
