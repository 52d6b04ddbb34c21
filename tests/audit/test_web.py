"""The review page: token and loopback guard, the API, and the page in a real chromium."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from cogate.audit.ledger import SQLiteLedger
from cogate.audit.web import TOKEN_HEADER, create_app
from fastapi.testclient import TestClient

from .helpers import completion, egress

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def populated(cogate_home):
    ledger = SQLiteLedger(cogate_home, checkpoint_every=4, background=False)
    for i in range(6):
        app = "mail" if i % 2 else "notes"
        host = "api.openai.com" if i % 3 else "api.anthropic.com"
        ents = {"PERSON": 1, "EMAIL_ADDRESS": i} if i else {}
        audit_id = ledger.append_egress(egress(i, app=app, host=host, entities=ents))
        if i < 5:  # the last one never completes: "outcome unknown"
            ledger.append_completion(completion(audit_id, i))
    ledger.append_egress(egress(9, kind="local", app="diary"))
    ledger.close()
    return cogate_home


def client(data_dir, token="t0ken"):
    return TestClient(create_app(data_dir, token), base_url="http://127.0.0.1")


def test_api_needs_the_token_and_loopback(populated):
    c = client(populated)
    assert c.get("/api/entries").status_code == 401
    assert c.get("/api/entries", headers={TOKEN_HEADER: "wrong"}).status_code == 401
    rebinding = c.get("/api/entries", headers={TOKEN_HEADER: "t0ken", "host": "evil.example"})
    assert rebinding.status_code == 403
    page = c.get("/")
    assert page.status_code == 200 and "content-security-policy" in page.headers


def test_api_lists_filters_and_shows(populated):
    c = client(populated)
    h = {TOKEN_HEADER: "t0ken"}
    listed = c.get("/api/entries", headers=h).json()
    assert listed["total"] == 7
    local = listed["items"][0]
    assert local["destination"] == "local (nothing left the device)"
    assert local["outcome"] == "answered locally"
    assert listed["items"][1]["outcome"] == "outcome unknown"
    mail = c.get("/api/entries?app=mail&entity=EMAIL_ADDRESS", headers=h).json()
    assert {it["app"] for it in mail["items"]} == {"mail"} and mail["total"] == 3
    detail = c.get(f"/api/entries/{mail['items'][1]['id']}", headers=h).json()
    assert detail["body"].startswith('{"model"') and detail["completion"]["status"] == 200
    assert c.get("/api/verify", headers=h).json()["status"] == "ok"
    chart = c.get("/api/chart", headers=h).json()
    day = chart["days"][0]
    assert chart["by_destination"][day] == {"api.openai.com": 4, "api.anthropic.com": 2, "local": 1}
    handled = {"pseudonymized": 5, "no personal data found": 1, "kept local": 1}
    assert chart["by_handling"][day] == handled
    facets = c.get("/api/facets", headers=h).json()
    assert facets["app"] == ["diary", "mail", "notes"] and "PERSON" in facets["entity"]
    assert c.get("/api/entries/999", headers=h).status_code == 404


def _png_colors(png: bytes) -> tuple[int, int, int]:
    """(width, height, distinct colours) of an 8-bit RGB/RGBA PNG, without an image library."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", data[:10])
            assert depth == 8 and ctype in (2, 6)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw, stride, prev, colors = zlib.decompress(idat), width * bpp, bytearray(width * bpp), set()
    for y in range(height):
        f, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colors.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp))
        prev = line
    return width, height, len(colors)


@pytest.mark.browser
def test_review_page_in_chromium(populated, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make browser)")
    from playwright.sync_api import expect, sync_playwright

    cogate = shutil.which("cogate", path=str(Path(sys.executable).parent))
    proc = subprocess.Popen(
        [cogate, "audit", "serve", "--data-dir", str(populated), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "#token=" in line, line
        url = line.split("page: ", 1)[1].strip()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            rows = page.locator("#entries tbody tr")
            assert rows.count() == 7
            assert "nothing left the device" in rows.nth(0).inner_text()
            page.wait_for_selector("#verify[data-status='ok']", timeout=30_000)
            assert "verified: 12 entries" in page.inner_text("#verify")
            assert page.locator("#chart-handling rect").count() >= 1  # was #chart-dest (issue 29)

            rows.nth(2).click()
            page.wait_for_selector("#detail:not([hidden])")
            assert page.inner_text("#detail-body").startswith('{"model"')
            assert "api.openai.com" in page.inner_text("#detail-fields")

            width, height, colors = _png_colors(page.locator("#entries").screenshot())
            (tmp_path / "table.png").write_bytes(page.locator("#entries").screenshot())
            assert width > 600 and height > 7 * 20 and colors > 20

            page.select_option("select[name=app]", "mail")
            page.click("#filters button")
            # A locator wait, not wait_for_function: the page's CSP forbids eval, as it should.
            expect(rows).to_have_count(3)

            # Without the token the page shows no data.
            bare = browser.new_page()
            bare.goto(url.split("#", 1)[0])
            bare.wait_for_selector("#auth-error:not([hidden])", timeout=30_000)
            assert bare.locator("#entries tbody tr").count() == 0
            browser.close()
            assert errors == []
    finally:
        proc.terminate()
        proc.wait(timeout=20)
