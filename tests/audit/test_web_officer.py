"""The review page as a privacy officer uses it: refusals, identity/app/route filters, charts
per period, CSV of the current filter, paging, what stayed on the device, and the "not
personal data" decision. API tests, then chromium (screenshots saved), then 100,000 entries.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cogate.audit import ledger as ledger_module
from cogate.audit.ledger import SQLiteLedger
from cogate.audit.web import TOKEN_HEADER, create_app
from fastapi.testclient import TestClient

from .helpers import cli, completion, egress
from .test_web import CHROMIUM, CHROMIUM_ARGS

H = {TOKEN_HEADER: "t0ken"}
FALSE_POSITIVE = "Acme Widgets"


def officer_records(i: int):
    """Entry i of a mixed ledger: sent, refused, local, sketch (with what stayed local)."""
    base = egress(
        i,
        app=("mail", "crm", "notes")[i % 3],
        removed=[("PERSON", FALSE_POSITIVE if i % 2 else f"Person {i}")],
        entities={"PERSON": 1, "EMAIL_ADDRESS": i % 2},
    )
    base = replace(
        base,
        identity=("alice", "bob")[i % 2],
        route="support" if i % 3 == 1 else None,
        surface="openai.chat",
        bound_apps=("mail", "crm"),
        actions={"PERSON": "pseudonymize"},
    )
    if i % 5 == 3:
        return replace(
            base,
            kind="refusal",
            body=b"",
            store_body=False,
            entity_counts={"CREDIT_CARD": 1, "PERSON": 1},
            refusal={"status": 403, "code": "blocked_by_policy"},
        )
    if i % 5 == 4:
        kept = {"sections": 2, "chars": 812, "terms": 5, "clauses": 3}
        return replace(base, mode="sketch", note={"purpose": "sketch outline", "kept_local": kept})
    return base


def fill(data_dir: Path, n: int, days: int = 1, fast: bool = False) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    # Timed checkpoints off: the entries carry past times, which would make each one due.
    ledger = SQLiteLedger(data_dir, checkpoint_every=1000, checkpoint_seconds=0, background=False)
    if fast:  # building the fixture is not what is measured
        ledger.store.db.execute("PRAGMA synchronous = OFF")
    real_now = ledger_module.now
    try:
        for i in range(n):
            when = start + timedelta(seconds=i * days * 86400 / n)
            ledger_module.now = lambda when=when: when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            audit_id = ledger.append_egress(officer_records(i))
            if i % 5 != 3 and not fast:
                ledger.append_completion(completion(audit_id, i))
    finally:
        ledger_module.now = real_now
        ledger.close()


def client(data_dir):
    return TestClient(create_app(data_dir, "t0ken"), base_url="http://127.0.0.1")


def test_refusals_filters_periods_and_csv(cogate_home):
    fill(cogate_home, 20, days=20)
    c = client(cogate_home)
    listed = c.get("/api/entries?kind=refusal", headers=H).json()
    assert listed["total"] == 4
    item = listed["items"][0]
    assert item["outcome"] == "refused (blocked_by_policy)" and item["bytes"] == 0
    assert c.get("/api/entries?identity=alice", headers=H).json()["total"] == 10
    assert c.get("/api/entries?route=support", headers=H).json()["total"] == 7
    assert c.get("/api/entries?route=-", headers=H).json()["total"] == 13
    assert c.get("/api/entries?kind=nope", headers=H).status_code == 400
    paged = c.get("/api/entries?limit=5&offset=15", headers=H).json()
    ids = [int(it["id"]) for it in paged["items"]]  # the oldest five (completions between)
    assert len(ids) == 5 and ids == sorted(ids, reverse=True) and ids[-1] == 1

    weeks = c.get("/api/chart?period=week", headers=H).json()
    assert weeks["period"] == "week" and all(
        datetime.strptime(d, "%Y-%m-%d").weekday() == 0 for d in weeks["days"]
    )
    handled = {}
    for day in weeks["days"]:
        for name, n in weeks["by_handling"][day].items():
            handled[name] = handled.get(name, 0) + n
    assert handled == {"blocked": 4, "private context kept local": 4, "pseudonymized": 12}
    months = c.get("/api/chart?period=month&app=mail", headers=H).json()
    assert months["days"] == ["2026-10"] and months["by_app"]["2026-10"] == {"mail": 7}
    assert c.get("/api/chart?period=year", headers=H).status_code == 400

    sheet = c.get("/api/export.csv?kind=refusal", headers=H)
    assert sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert len(rows) == 4 and {r["kind"] for r in rows} == {"refusal"}
    assert FALSE_POSITIVE not in sheet.text and "hmac" not in sheet.text


def test_not_personal_data_writes_a_proposal_and_a_decision_entry(cogate_home):
    fill(cogate_home, 4)
    c = client(cogate_home)
    url = "/api/entries/3/not-personal"  # entry 3 (record 1) removed FALSE_POSITIVE as PERSON
    wrong = c.post(url, headers=H, json={"type": "PERSON", "value": "Somebody Else"})
    assert wrong.status_code == 400 and "not found as PERSON" in wrong.json()["detail"]
    assert c.post(url, json={"type": "PERSON", "value": FALSE_POSITIVE}).status_code == 401
    done = c.post(url, headers=H, json={"type": "PERSON", "value": "acme  widgets"}).json()
    proposal = Path(done["proposal"])
    assert proposal.parent == cogate_home / "policy-proposals"
    assert oct(proposal.stat().st_mode & 0o777) == "0o600"
    checked = subprocess.run(
        [
            shutil.which("cogate", path=str(Path(sys.executable).parent)),
            "policy",
            "check",
            proposal,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "acme  widgets" in proposal.read_text()  # as the reviewer typed it, for review

    shown = json.loads(
        cli("show", done["decision_entry"], "--json", "--data-dir", cogate_home).output
    )
    decision = shown["entry"]
    assert decision["kind"] == "decision" and decision["entry"] == 3
    assert decision["tag"].startswith("hmac-sha256:") and "acme" not in json.dumps(decision).lower()
    assert cli("verify", "--data-dir", cogate_home).exit_code == 0
    listed = cli("list", "--kind", "decision", "--json", "--data-dir", cogate_home)
    assert json.loads(listed.output)["destination"] == "not_personal_data on entry 3 (PERSON)"


def _serve(data_dir: Path):
    cogate = shutil.which("cogate", path=str(Path(sys.executable).parent))
    proc = subprocess.Popen(
        [cogate, "audit", "serve", "--data-dir", str(data_dir), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    line = proc.stdout.readline()
    assert "#token=" in line, line
    return proc, line.split("page: ", 1)[1].strip()


def _screens(tmp_path: Path) -> Path:
    where = Path(os.environ.get("COGATE_SCREENSHOT_DIR") or tmp_path / "screens")
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.mark.browser
def test_the_officer_works_in_chromium(cogate_home, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make browser)")
    from playwright.sync_api import expect, sync_playwright

    fill(cogate_home, 30, days=10)
    screens = _screens(tmp_path)
    proc, url = _serve(cogate_home)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1200}, accept_downloads=True)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            rows = page.locator("#entries tbody tr")
            expect(rows).to_have_count(30)
            assert page.locator("#entries tbody tr.refusal").count() == 6
            assert page.locator("#chart-handling text.tick").count() >= 4  # axis labels
            assert "blocked (6)" in page.inner_text("#legend-handling")
            page.screenshot(path=str(screens / "officer-overview.png"), full_page=True)

            page.select_option("select[name=kind]", "refusal")
            page.select_option("select[name=identity]", "bob")
            page.click("#apply")
            expect(rows).to_have_count(3)
            rows.nth(0).click()
            page.wait_for_selector("#detail:not([hidden])")
            assert "blocked_by_policy (HTTP 403)" in page.inner_text("#detail-fields")
            assert "nothing left the device" in page.inner_text("#detail-fields")

            with page.expect_download() as download:
                page.click("#export")
            sheet = Path(download.value.path()).read_text()
            assert len(sheet.strip().splitlines()) == 4  # header + the 3 rows on screen

            page.select_option("select[name=kind]", "")
            page.select_option("select[name=identity]", "")
            page.click("#apply")
            expect(rows).to_have_count(30)
            page.locator("#entries tbody tr[data-id='8']").click()  # record 4: sketch
            expect(page.locator("#detail-fields")).to_contain_text("2 private sections")
            page.locator("#entries tbody tr[data-id='3']").click()
            expect(page.locator("#detail-title")).to_have_text("Entry 3 (egress)")
            page.click("#findings li[data-type='PERSON'] button.np")
            page.fill("#findings li[data-type='PERSON'] input", FALSE_POSITIVE)
            page.click("#findings li[data-type='PERSON'] .np-form button")
            expect(page.locator("#decision")).to_contain_text("decision recorded as ledger entry")
            page.check("input[name=period][value=week]")
            page.wait_for_selector("#charts[data-period='week']")
            page.screenshot(path=str(screens / "officer-decision.png"), full_page=True)
            browser.close()
        assert errors == []
        assert list((cogate_home / "policy-proposals").glob("allow-list-entry-3-*.yaml"))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.browser
def test_100k_entries_open_filter_and_export(cogate_home, tmp_path):
    """Timings are printed (run with -s), not asserted: a benchmark figure, not a test."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make browser)")
    from playwright.sync_api import expect, sync_playwright

    n = int(os.environ.get("COGATE_WEB_ENTRIES", "100000"))
    t0 = time.perf_counter()
    fill(cogate_home, n, days=90, fast=True)
    print(f"\nbuilt {n} entries in {time.perf_counter() - t0:.1f} s")
    screens = _screens(tmp_path)
    proc, url = _serve(cogate_home)
    timings: dict[str, float] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1200}, accept_downloads=True)
            rows = page.locator("#entries tbody tr")
            t = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            timings["open"] = time.perf_counter() - t
            assert f"of {n:,}" in page.inner_text("#count")
            expect(rows).to_have_count(100)

            t = time.perf_counter()
            page.click("#next")
            expect(page.locator("#count")).to_contain_text("entries 101–200")
            timings["next page"] = time.perf_counter() - t

            page.select_option("select[name=kind]", "refusal")
            page.select_option("select[name=app]", "crm")
            t = time.perf_counter()
            page.click("#apply")
            expect(page.locator("#count")).to_contain_text("entries 1–100 of")
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            timings["filter"] = time.perf_counter() - t
            filtered = int(page.inner_text("#count").rsplit("of ", 1)[1].replace(",", ""))

            t = time.perf_counter()
            with page.expect_download(timeout=120_000) as download:
                page.click("#export")
            sheet = Path(download.value.path()).read_text()
            timings["export"] = time.perf_counter() - t
            assert len(sheet.strip().splitlines()) == filtered + 1

            page.check("input[name=period][value=month]")
            page.wait_for_selector("#charts[data-period='month']")
            page.screenshot(path=str(screens / "officer-100k.png"), full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    for name, seconds in timings.items():
        print(f"{n} entries: {name} {seconds * 1000:.0f} ms (target < 2000 ms)")
    print(f"filtered to {filtered} entries; screenshots in {screens}")
