"""The review page: a loopback-only web app over the ledger, guarded by a per-run token.

The page itself holds no data; every API call must carry the token (header
`x-cogate-audit-token`), which the printed URL passes in its #fragment so it never reaches
logs or Referer headers.
"""

from __future__ import annotations

import hmac
import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cogate.core.settings import is_loopback
from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from . import review
from .backends import open_store, open_writer
from .compliance import decisions, subjects, tabular
from .paths import LedgerPaths
from .store import Filters, LedgerStore

STATIC = Path(__file__).parent / "static"
TOKEN_HEADER = "x-cogate-audit-token"
_STATIC_FILES = {"app.js": "text/javascript", "style.css": "text/css"}
_SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


def create_app(data_dir: Path, token: str, database_url: str | None = None) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    _guard(app, token)

    @app.get("/")
    def index() -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in _STATIC_FILES:
            raise HTTPException(404)
        return FileResponse(STATIC / name, media_type=_STATIC_FILES[name])

    _api(app, data_dir, database_url)
    return app


def _guard(app: FastAPI, token: str) -> None:
    @app.middleware("http")
    async def guard(request: Request, call_next):
        # A loopback Host header defeats DNS rebinding; the token defeats other local users.
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
        if not is_loopback(host):
            return JSONResponse({"error": "the review page answers on loopback only"}, 403)
        if request.url.path.startswith("/api/"):
            given = request.headers.get(TOKEN_HEADER, "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"error": "missing or wrong token; open the printed URL"}, 401)
        response = await call_next(request)
        response.headers.update(_SECURITY_HEADERS)
        return response


KINDS = ("egress", "local", "refusal")


def _filters(request: Request, limit: int = 100) -> Filters:
    q = request.query_params
    kind = q.get("kind") or None
    if kind is not None and kind not in (*KINDS, "decision"):
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return Filters(
        since=review.parse_time(q.get("since") or None),
        until=review.parse_time(q.get("until") or None),
        app=q.get("app") or None,
        host=q.get("destination") or None,
        mode=q.get("mode") or None,
        entity=q.get("entity") or None,
        identity=q.get("identity") or None,
        route=q.get("route") or None,
        kinds=(kind,) if kind else KINDS,
        limit=min(int(q.get("limit") or limit), 1000),
        offset=int(q.get("offset") or 0),
    )


def _checked(request: Request) -> Filters:
    try:
        return _filters(request)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


def _store_runner(data_dir: Path, database_url: str | None) -> Callable[[Any], Any]:
    def with_store(fn) -> Any:
        store = open_store(data_dir, database_url)
        try:
            return fn(store)
        finally:
            store.close()

    return with_store


def _api(app: FastAPI, data_dir: Path, database_url: str | None) -> None:
    """The JSON API the page reads: entries, one entry, chart, facets, verification."""
    with_store = _store_runner(data_dir, database_url)
    _compliance_api(app, data_dir, database_url)

    @app.get("/api/entries")
    def entries(request: Request) -> dict[str, Any]:
        f = _checked(request)
        return with_store(lambda s: {"total": s.total(f), "items": review.list_entries(s, f)})

    @app.get("/api/entries/{seq}")
    def entry(seq: int) -> dict[str, Any]:
        try:
            return with_store(lambda s: review.show_entry(s, seq))
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from None

    @app.get("/api/chart")
    def chart(request: Request) -> dict[str, Any]:
        f = _checked(request)
        period = request.query_params.get("period") or "day"
        try:
            return with_store(lambda s: review.chart_data(s, f, period))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None

    @app.get("/api/facets")
    def facets() -> dict[str, Any]:
        return with_store(review.facets)

    @app.get("/api/verify")
    def verify() -> dict[str, Any]:
        # Read-only here: only `cogate audit verify` moves the trusted state forward.
        return review.verify_data_dir(
            data_dir, update_state=False, database_url=database_url
        ).as_dict()


def _compliance_api(app: FastAPI, data_dir: Path, database_url: str | None) -> None:
    """The privacy officer's actions: CSV of the current filter, "not personal data"."""
    with_store = _store_runner(data_dir, database_url)

    @app.get("/api/export.csv")
    def export_csv(request: Request) -> Response:
        f = _checked(request)
        text = with_store(lambda s: tabular.csv_text(s, f))
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="cogate-audit.csv"'},
        )

    @app.post("/api/entries/{seq}/not-personal")
    async def not_personal(seq: int, request: Request) -> dict[str, Any]:
        ask = await request.json()
        etype, value = ask.get("type"), ask.get("value")
        if not isinstance(etype, str) or not isinstance(value, str) or not value.strip():
            raise HTTPException(400, "send {type, value}: the entity type and the value")
        paths = LedgerPaths(data_dir)

        def decide(store: LedgerStore) -> dict[str, Any]:
            key = subjects.hmac_key(paths.keys_dir)
            writer = lambda: open_writer(data_dir, database_url)  # noqa: E731
            proposals = data_dir / "policy-proposals"
            return decisions.not_personal_data(store, writer, key, proposals, seq, etype, value)

        try:
            return await run_in_threadpool(with_store, decide)
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from None
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None


def run(
    data_dir: Path, *, host: str = "127.0.0.1", port: int = 8788, database_url: str | None = None
) -> None:
    import click
    import uvicorn

    if not is_loopback(host):
        raise ValueError(f"the review page binds loopback only (127.0.0.1 or ::1), not {host}")
    open_store(data_dir, database_url).close()
    token = secrets.token_urlsafe(24)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ValueError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); another program (an "
            "earlier `cogate audit serve`?) holds it: pass another --port, or --port 0 for a "
            "free one"
        ) from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    click.echo(f"cogate audit review page: http://{shown}:{bound}/#token={token}", err=False)
    click.echo("(the token is required; stop with Ctrl-C)")
    import sys

    sys.stdout.flush()
    config = uvicorn.Config(
        create_app(data_dir, token, database_url), log_level="warning", access_log=False
    )
    uvicorn.Server(config).run(sockets=[sock])
