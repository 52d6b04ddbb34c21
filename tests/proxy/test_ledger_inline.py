"""Write-ahead entries committed on the event loop when the ledger is on tmpfs."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from cogate.audit.ledger import SQLiteLedger
from cogate.core.errors import LedgerUnavailable
from cogate.core.exchange import Exchange
from cogate.core.settings import Settings
from cogate.proxy.assembly import inline_ledger
from cogate.proxy.egress import EgressGate
from cogate.proxy.memory_fs import filesystem_of, on_memory_fs

MOUNTS = """\
22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:26 / /dev/shm rw,nosuid,nodev shared:2 - tmpfs tmpfs rw
31 22 0:27 / /srv/my\\040data rw shared:3 - tmpfs tmpfs rw
32 31 252:2 / /srv/my\\040data/disk rw shared:4 opt:1 - xfs /dev/vdb rw
"""


def test_the_deepest_mount_above_a_path_names_its_filesystem(tmp_path: Path) -> None:
    table = tmp_path / "mountinfo"
    table.write_text(MOUNTS)
    assert filesystem_of(Path("/work/data"), table) == "ext4"
    assert filesystem_of(Path("/dev/shm/cogate"), table) == "tmpfs"
    assert filesystem_of(Path("/srv/my data/x"), table) == "tmpfs"
    assert filesystem_of(Path("/srv/my data/disk/x"), table) == "xfs"
    assert on_memory_fs(Path("/dev/shm"), table)
    assert not on_memory_fs(Path("/srv/my data/disk"), table)
    assert filesystem_of(Path("/x"), tmp_path / "missing") is None
    assert not on_memory_fs(Path("/x"), tmp_path / "missing")


@pytest.fixture
def shm_dir() -> Iterator[Path]:
    if not on_memory_fs(Path("/dev/shm")):
        pytest.skip("no tmpfs at /dev/shm")
    with tempfile.TemporaryDirectory(dir="/dev/shm") as tmp:
        yield Path(tmp)


def test_only_the_gateways_own_sqlite_ledger_on_tmpfs_is_inline(
    shm_dir: Path, tmp_path: Path
) -> None:
    assert inline_ledger(Settings(data_dir=shm_dir))
    assert not inline_ledger(Settings(data_dir=shm_dir, ledger_inline=False))
    assert not inline_ledger(Settings(data_dir=shm_dir, database_url="postgresql://x/y"))
    assert inline_ledger(Settings(data_dir=tmp_path)) == on_memory_fs(tmp_path)


def send(gate: EgressGate, content: str = "hello") -> None:
    async def main() -> None:
        ex = Exchange(route="chat/completions", body={"model": "m"})
        body = {"model": "m", "messages": [{"role": "user", "content": content}]}
        await gate.send(ex, "chat/completions", body)

    anyio.run(main)


def test_the_inline_entry_is_committed_before_the_request_leaves(shm_dir: Path) -> None:
    seen: list[int] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        # Another connection sees the committed entry while the request is on its way.
        with sqlite3.connect(ledger.store.path) as other:
            seen.append(other.execute("SELECT count(*) FROM entries").fetchone()[0])
        return httpx.Response(200, json={"ok": True})

    settings = Settings(data_dir=shm_dir, upstream="http://upstream.test/v1")
    ledger = SQLiteLedger(shm_dir, background=False, group_commit=True)
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    gate = EgressGate(settings, client, ledger, inline_ledger=True)
    send(gate)
    send(gate)
    ledger.close()
    assert seen[0] >= 1 and seen[1] > seen[0]


def test_an_inline_append_that_fails_sends_nothing(shm_dir: Path) -> None:
    sent: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    settings = Settings(data_dir=shm_dir, upstream="http://upstream.test/v1")
    ledger = SQLiteLedger(shm_dir, background=False, group_commit=True)
    ledger.store.db.execute("PRAGMA query_only = ON")
    gate = EgressGate(
        settings,
        httpx.AsyncClient(transport=httpx.MockTransport(upstream)),
        ledger,
        inline_ledger=True,
    )
    with pytest.raises(LedgerUnavailable):
        send(gate)
    assert sent == []
