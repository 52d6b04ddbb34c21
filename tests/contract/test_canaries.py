"""A canary at every classified path, sent through `cogate serve` to a recording upstream:
each is removed, or the request is refused (400/403) naming the field.

Canaries: a name + e-mail string (a setting gets the name in an identifier's shape), a card
number as a JSON number, the e-mail as an object key. Samples that should pass are sent 25
to a request; a batch that is refused is sent again one sample at a time.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cogate.proxy.surfaces import anthropic_request, responses_request

from ..servers import cogate_server
from ..standins.serving import serving
from .canaries import TELLS, Recorder, Sample, merge, samples

pytestmark = pytest.mark.e2e

SURFACES = {
    "openai.responses": (
        "/v1/responses",
        responses_request.CONTRACT,
        {"model": "gpt-5", "input": "hi"},
    ),
    "anthropic.messages": (
        "/v1/messages",
        anthropic_request.CONTRACT,
        {"model": "claude-sonnet-4-5", "max_tokens": 16,
         "messages": [{"role": "user", "content": "hi"}]},
    ),
}  # fmt: skip
BATCH = 25


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Recorder]]:
    work: Path = tmp_path_factory.mktemp("canaries")
    with serving(Recorder()) as upstream:
        args = ["--anthropic-upstream", upstream.url]
        with cogate_server(work, upstream.url + "/v1", args=args) as url:
            base = url.removesuffix("/v1")
            headers = {"authorization": "Bearer sk-test", "x-api-key": "sk-ant-test",
                       "anthropic-version": "2023-06-01"}  # fmt: skip
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                yield client, upstream


def batches(items: list[Sample]) -> Iterator[list[Sample]]:
    pending = [s for s in items if not s.alone]
    while pending:
        batch, body, rest = [], {}, []
        for sample in pending:
            merged = merge(body, sample.body) if len(batch) < BATCH else None
            if merged is None:
                rest.append(sample)
            else:
                batch.append(sample)
                body = merged
        yield batch
        pending = rest


def send(client: httpx.Client, upstream: Recorder, route: str, body: Any) -> tuple[int, Any]:
    before = len(upstream.bodies)
    answer = client.post(route, json=body)
    sent = upstream.bodies[before:]
    assert answer.status_code != 200 or len(sent) == 1, "a 200 without one upstream request"
    for raw in sent:
        leaked = [t for t in TELLS if t.encode() in raw]
        assert not leaked, f"{leaked} reached the upstream from {json.dumps(body)[:300]}"
    return answer.status_code, answer.json() if answer.content else None


def named(error: Any, path: str) -> bool:
    """Whether a refusal names the field (its param, or its message, names the path or the
    object that holds it)."""
    inner = (error or {}).get("error") or {}
    said = f"{inner.get('param') or ''} {inner.get('message') or ''}"
    head = path
    while head:
        if head in said:
            return True
        head = head.rsplit(".", 1)[0] if "." in head else head.rsplit("[", 1)[0]
        if "[" not in head and "." not in head:
            return head in said
    return False


def check_alone(client: httpx.Client, upstream: Recorder, route: str, sample: Sample) -> str:
    status, answer = send(client, upstream, route, sample.body)
    if status == 200:
        return "removed"
    assert status in (400, 403), f"{sample.path}: status {status} {answer}"
    assert named(answer, sample.path), f"{sample.path}: refusal names no field: {answer}"
    return f"refused {status}"


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_every_canary_is_removed_or_refused_naming_the_field(
    surface: str, gateway: tuple[httpx.Client, Recorder], capsys: pytest.CaptureFixture[str]
) -> None:
    client, upstream = gateway
    route, contract, base = SURFACES[surface]
    items = samples(contract(), base)
    outcomes: Counter[str] = Counter()
    for batch in batches(items):
        body: dict[str, Any] = {}
        for sample in batch:
            body = merge(body, sample.body)
        status, _ = send(client, upstream, route, body)
        if status == 200:
            outcomes["removed"] += len(batch)
            continue
        for sample in batch:
            outcomes[check_alone(client, upstream, route, sample)] += 1
    for sample in (s for s in items if s.alone):
        outcomes[check_alone(client, upstream, route, sample)] += 1
    with capsys.disabled():
        shown = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        print(f"\n{surface}: {len(items)} canaried paths: {shown}; 0 reached the upstream")
    assert sum(outcomes.values()) == len(items) and len(items) > 100
