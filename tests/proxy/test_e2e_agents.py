"""Codex CLI and Claude Code through `cogate serve`, against a recording stand-in upstream.

Each agent runs one real turn: it finishes, nothing private reaches the upstream, and the
answer (the stand-in echoes the placeholders it received) comes back restored. The agents
are the npm packages `make install` puts in `.agents/`; the tests install them there if
needed, and are skipped only when node or npm is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..servers import cogate_server

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
AGENTS = REPO / ".agents"
PACKAGES = ["@openai/codex@0.171.0", "@anthropic-ai/claude-code@2.1.197"]
STANDIN = Path(__file__).resolve().parents[1] / "standins" / "agents_upstream.py"
NAME, EMAIL = "Maria Schneider", "maria.schneider@example.com"
PROMPT = f"Write a one-line note to {NAME} at {EMAIL} about the Q3 report"


def agent(name: str) -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed to run Codex CLI and Claude Code")
    binary = AGENTS / "node_modules" / ".bin" / name
    if not binary.exists():
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(AGENTS),
             *PACKAGES],
            check=True, timeout=600,
        )  # fmt: skip
    return binary


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("agents") / "upstream.jsonl"
    text = "Sent: a note to {echo}."
    proc = subprocess.Popen(
        [sys.executable, str(STANDIN), "--port", "0", "--log", str(log), "--text", text],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    port = proc.stdout.readline().split()[-1]
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def gateway(stand_in: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    upstream, _ = stand_in
    work = tmp_path_factory.mktemp("gateway")
    args = ["--anthropic-upstream", upstream]
    with cogate_server(work, upstream + "/v1", args=args) as url:
        yield str(url)


def upstream_bodies(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.dumps(json.loads(line).get("body")) for line in lines]


def check_upstream(log: Path, before: int) -> list[str]:
    bodies = upstream_bodies(log)[before:]
    assert bodies, "the agent's request never reached the upstream"
    for body in bodies:
        assert EMAIL not in body and "Schneider" not in body
    return bodies


def test_codex_cli_runs_through_the_gateway(
    gateway: str, stand_in: tuple[str, Path], tmp_path: Path
) -> None:
    codex = agent("codex")
    home, codex_home, work = tmp_path / "home", tmp_path / "codex", tmp_path / "work"
    for folder in (home, codex_home, work):
        folder.mkdir()
    (codex_home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "cogate"\n\n[model_providers.cogate]\n'
        f'name = "cogate"\nbase_url = "{gateway}"\nwire_api = "responses"\n'
        'env_key = "COGATE_TEST_KEY"\nrequest_max_retries = 0\nstream_max_retries = 0\n'
    )
    before = len(upstream_bodies(stand_in[1]))
    env = {**os.environ, "HOME": str(home), "CODEX_HOME": str(codex_home),
           "COGATE_TEST_KEY": "sk-test"}  # fmt: skip
    done = subprocess.run(
        [str(codex), "exec", "--skip-git-repo-check", "--disable", "plugins",
         "-c", "analytics.enabled=false", PROMPT],
        cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    bodies = check_upstream(stand_in[1], before)
    assert any("[EMAIL_" in b or "[PERSON_" in b for b in bodies)
    assert EMAIL in done.stdout or NAME in done.stdout, done.stdout  # restored


def test_claude_code_runs_through_the_gateway(
    gateway: str, stand_in: tuple[str, Path], tmp_path: Path
) -> None:
    claude = agent("claude")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    before = len(upstream_bodies(stand_in[1]))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TERM": "dumb",
        "ANTHROPIC_BASE_URL": gateway.removesuffix("/v1"), "ANTHROPIC_API_KEY": "sk-ant-test",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1", "CLAUDE_CODE_MAX_RETRIES": "0",
    }  # fmt: skip
    done = subprocess.run(
        [str(claude), "-p", PROMPT],
        cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    bodies = check_upstream(stand_in[1], before)
    assert any("[EMAIL_" in b or "[PERSON_" in b for b in bodies)
    assert EMAIL in done.stdout or NAME in done.stdout, done.stdout  # restored
