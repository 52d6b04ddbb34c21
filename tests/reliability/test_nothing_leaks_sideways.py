"""Canary values pushed through the gateway at debug log level appear in no log and no file."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from tests.servers import cogate_server

pytestmark = pytest.mark.e2e

NAME = "Alice Johnson"
EMAIL = "alice.canary7731@example.com"
PHONE = "+44 20 7946 0958"
SECRET = "sk-proj-CANARY7731abcdefghijklmnopqrstuvwx"
AUTH = "sk-auth-canary-7731-do-not-store"
CANARIES = [NAME, EMAIL, PHONE, SECRET, AUTH, "canary7731", "7946 0958"]


def every_file(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_canaries_reach_no_log_and_no_data_file(llama_upstream: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with cogate_server(
        tmp_path, llama_upstream, args=["--log-level", "debug"], data_dir=data_dir
    ) as url:
        client = openai.OpenAI(base_url=url, api_key=AUTH, max_retries=0)
        text = (
            f"My name is {NAME}, mail me at {EMAIL} or call {PHONE}. Also here is my key {SECRET}."
        )
        for stream in (False, True):
            try:
                result = client.chat.completions.create(
                    model="smollm2",
                    messages=[{"role": "user", "content": text.replace(SECRET, "")}],
                    max_tokens=8,
                    stream=stream,
                )
                if stream:
                    list(result)
            except openai.APIStatusError as exc:  # a policy may block; that is fine here
                assert exc.status_code in (400, 403)
        # The secret is blocked by the default policy: the refusal must not quote it either.
        with pytest.raises(openai.APIStatusError) as refused:
            client.chat.completions.create(
                model="smollm2", messages=[{"role": "user", "content": text}], max_tokens=8
            )
        assert SECRET not in str(refused.value.body)
    logs = [p for p in every_file(tmp_path) if p.suffix == ".log" and p.name.startswith("cogate")]
    assert logs, "the gateway's log was not captured"
    assert any(b"request " in p.read_bytes() for p in logs)  # the log really has request lines
    files = every_file(data_dir) + logs
    assert any(p.suffix in (".db", ".sqlite", ".sqlite3") or "ledger" in p.name for p in files)
    for path in [data_dir, *data_dir.rglob("*")]:
        # ledger, keys, checkpoints, secrets: owner-only, whatever the umask
        assert path.stat().st_mode & 0o077 == 0, (
            f"{path.relative_to(tmp_path)} is group/world-accessible"
        )
    for path in files:
        content = path.read_bytes()
        for canary in CANARIES:
            assert canary.encode() not in content, f"{canary!r} found in {path.name}"
