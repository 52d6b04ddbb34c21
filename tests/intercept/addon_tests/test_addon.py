"""Unit tests of proxy/intercept/mitm_addon.py with mitmproxy's own test helpers.

They run inside mitmproxy's environment (.mitm-venv), started by ../test_addon_suite.py.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

import pytest
from mitmproxy import connection, exceptions
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.proxy import server_hooks
from mitmproxy.test import taddons, tflow, tutils

ADDON_PATH = Path(__file__).resolve().parents[3] / "proxy" / "intercept" / "mitm_addon.py"
spec = importlib.util.spec_from_file_location("cogate_mitm_addon", ADDON_PATH)
addon_mod = importlib.util.module_from_spec(spec)
# Loaded like mitmproxy's script loader does: not registered in sys.modules.
spec.loader.exec_module(addon_mod)

GATEWAY = "http://127.0.0.1:8787"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "intercept-secret"
    path.write_text("s3cret-one\n")
    path.chmod(0o600)
    return path


def options(secret_file: Path, **extra):
    base = dict(
        cogate_gateway=GATEWAY,
        cogate_secret_file=str(secret_file),
        connection_strategy="lazy",
        allow_hosts=[addon_mod.allow_pattern("api.openai.com")],
    )
    base.update(extra)
    return base


# Proxyserver declares connection_strategy, which the addon checks.
@pytest.fixture
def ready(secret_file: Path):
    addon = addon_mod.CogateIntercept()
    with taddons.context(Proxyserver(), addon) as tctx:
        tctx.configure(addon, **options(secret_file))
        yield addon, tctx


def openai_flow(**req):
    request = tutils.treq(
        host="api.openai.com",
        port=443,
        scheme=b"https",
        method=b"POST",
        path=b"/v1/chat/completions",
        **req,
    )
    request.headers["host"] = "api.openai.com"
    request.headers["authorization"] = "Bearer sk-app"
    flow = tflow.tflow(req=request)
    flow.server_conn = connection.Server(address=("api.openai.com", 443))
    return flow


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://127.0.0.1:8787", ("http", "127.0.0.1", 8787)),
        ("http://127.0.0.1:8787/v1", ("http", "127.0.0.1", 8787)),
        ("https://gw.internal", ("https", "gw.internal", 443)),
        ("http://[::1]:9000/", ("http", "::1", 9000)),
    ],
)
def test_parse_gateway_accepts_origins(value, expected):
    gateway = addon_mod.parse_gateway(value)
    assert (gateway.scheme, gateway.host, gateway.port) == expected


@pytest.mark.parametrize(
    "value", ["", "127.0.0.1:8787", "ftp://x", "http://127.0.0.1:8787/other", "http://h:99999"]
)
def test_parse_gateway_refuses_non_origins(value):
    with pytest.raises(ValueError):
        addon_mod.parse_gateway(value)


def test_parse_hosts_normalises_and_splits():
    assert addon_mod.parse_hosts(["API.OpenAI.com.", "a.example,b.example"]) == {
        "api.openai.com",
        "a.example",
        "b.example",
    }


@pytest.mark.parametrize(
    "value", [[], [""], ["*.openai.com"], ["https://api.openai.com"], ["h:443"]]
)
def test_parse_hosts_refuses_non_names(value):
    with pytest.raises(ValueError):
        addon_mod.parse_hosts(value)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"cogate_gateway": "ftp://x"}, "http"),
        ({"cogate_hosts": ["not a host"]}, "host name"),
    ],
)
def test_configure_refuses_malformed_values(secret_file, extra, needle):
    addon = addon_mod.CogateIntercept()
    with (
        taddons.context(Proxyserver(), addon) as tctx,
        pytest.raises(exceptions.OptionsError, match=needle),
    ):
        tctx.configure(addon, **options(secret_file, **extra))


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"connection_strategy": "eager"}, "lazy"),
        ({"cogate_gateway": ""}, "cogate_gateway"),
        ({"cogate_secret_file": ""}, "cogate_secret_file"),
        ({"allow_hosts": [r"^example\.com"]}, "undecrypted"),
        ({"ignore_hosts": ["openai"], "allow_hosts": []}, "undecrypted"),
    ],
)
def test_incomplete_setup_refuses_every_intercepted_call(secret_file, extra, needle, caplog):
    addon = addon_mod.CogateIntercept()
    with taddons.context(Proxyserver(), addon) as tctx:
        tctx.configure(addon, **options(secret_file, **extra))
        with caplog.at_level(logging.INFO):
            addon.running()
        addon.requestheaders(flow := openai_flow())
    assert addon_mod.STARTUP_FAILED in caplog.text and needle in caplog.text
    assert addon_mod.READY_LINE not in caplog.text
    assert flow.response.status_code == 503 and needle in flow.response.text
    assert flow.request.host == "api.openai.com"


def test_unconfigured_addon_refuses_intercepted_calls():
    addon = addon_mod.CogateIntercept()
    addon.requestheaders(flow := openai_flow())
    assert flow.response.status_code == 503


def test_allow_pattern_matches_only_that_host():
    import re

    pattern = addon_mod.allow_pattern("api.openai.com")
    assert re.search(pattern, "api.openai.com:443")
    assert re.search(pattern, "api.openai.com")
    assert not re.search(pattern, "api.openai.com.evil.test:443")
    assert not re.search(pattern, "apixopenai.com:443")


def test_intercepted_request_goes_to_the_gateway_with_hint_and_secret(ready):
    addon, _ = ready
    flow = openai_flow()
    flow.request.headers["x-cogate-destination"] = "evil.example"  # forged by the app
    flow.request.headers["x-cogate-intercept-secret"] = "guess"
    addon.requestheaders(flow)
    assert flow.response is None
    request = flow.request
    assert (request.scheme, request.host, request.port) == ("http", "127.0.0.1", 8787)
    assert request.path == "/v1/chat/completions"
    assert request.headers["host"] == "127.0.0.1:8787"
    assert request.headers.get_all("x-cogate-destination") == ["api.openai.com"]
    assert request.headers.get_all("x-cogate-intercept-secret") == ["s3cret-one"]
    assert request.headers["authorization"] == "Bearer sk-app"  # the gateway forwards the app's key
    assert flow.metadata["cogate_destination"] == "api.openai.com"


def test_other_hosts_are_untouched(ready):
    addon, _ = ready
    flow = tflow.tflow()
    before = flow.request.copy()
    addon.requestheaders(flow)
    assert flow.request.host == before.host and flow.request.headers == before.headers
    assert "cogate_destination" not in flow.metadata
    flow.response = tutils.tresp()
    addon.responseheaders(flow)
    assert not flow.response.stream


def test_host_header_alone_is_enough_to_intercept(ready):
    addon, _ = ready
    flow = tflow.tflow(req=tutils.treq(host="203.0.113.7", port=443, scheme=b"https"))
    flow.request.headers["host"] = "api.openai.com"
    addon.requestheaders(flow)
    assert flow.request.host == "127.0.0.1"
    assert flow.request.headers["x-cogate-destination"] == "api.openai.com"


def test_rotated_secret_is_picked_up(ready, secret_file):
    addon, _ = ready
    addon.requestheaders(flow := openai_flow())
    assert flow.request.headers["x-cogate-intercept-secret"] == "s3cret-one"
    replacement = secret_file.with_name("new")
    replacement.write_text("s3cret-two\n")
    replacement.chmod(0o600)
    os.replace(replacement, secret_file)
    addon.requestheaders(flow := openai_flow())
    assert flow.request.headers["x-cogate-intercept-secret"] == "s3cret-two"


@pytest.mark.parametrize("problem", ["missing", "group-readable", "empty"])
def test_without_a_usable_secret_the_request_is_answered_locally(ready, secret_file, problem):
    addon, _ = ready
    if problem == "missing":
        secret_file.unlink()
    elif problem == "group-readable":
        secret_file.chmod(0o640)
    else:
        secret_file.write_text("")
    flow = openai_flow()
    addon.requestheaders(flow)
    assert flow.response is not None and flow.response.status_code == 503
    assert b"intercept_unavailable" in flow.response.content
    assert flow.request.host == "api.openai.com"  # no connection is made for an answered flow
    assert "x-cogate-intercept-secret" not in flow.request.headers


def test_token_comes_from_the_environment(secret_file, monkeypatch):
    monkeypatch.setenv("COGATE_TOKEN", "tok")
    addon = addon_mod.CogateIntercept()
    with taddons.context(Proxyserver(), addon) as tctx:
        tctx.configure(addon, **options(secret_file, cogate_app="ide"))
        addon.requestheaders(flow := openai_flow())
    assert flow.request.headers["x-cogate-token"] == "tok"
    assert flow.request.headers["x-cogate-app"] == "ide"


def test_intercepted_responses_stream(ready):
    addon, _ = ready
    addon.requestheaders(flow := openai_flow())
    flow.response = tutils.tresp(headers=((b"content-type", b"text/event-stream"),))
    addon.responseheaders(flow)
    assert flow.response.stream is True


def server_data(address, sni=None):
    server = connection.Server(address=address)
    server.sni = sni
    return server_hooks.ServerConnectionHookData(server=server, client=tflow.tclient_conn())


def test_server_connect_refuses_intercepted_hosts(ready):
    addon, _ = ready
    for data in (
        server_data(("api.openai.com", 443)),
        server_data(("198.51.100.1", 443), "API.openai.com"),
    ):
        addon.server_connect(data)
        assert data.server.error and "refuses direct connections" in data.server.error


def test_server_connect_allows_the_gateway_and_others(ready):
    addon, _ = ready
    for data in (
        server_data(("127.0.0.1", 8787)),
        server_data(("example.com", 443), "example.com"),
    ):
        addon.server_connect(data)
        assert data.server.error is None


def test_server_connect_guard_holds_before_configuration():
    addon = addon_mod.CogateIntercept()
    data = server_data(("api.openai.com", 443))
    addon.server_connect(data)
    assert data.server.error


def test_running_announces_readiness(ready, caplog):
    addon, _ = ready
    with caplog.at_level(logging.INFO):
        addon.running()
    assert addon_mod.READY_LINE in caplog.text


def test_full_cycle_through_the_hooks(ready):
    addon, tctx = ready
    flow = openai_flow()
    tctx.master.event_loop.run_until_complete(tctx.cycle(addon, flow))
    assert flow.request.host == "127.0.0.1"
    assert flow.request.headers["x-cogate-destination"] == "api.openai.com"
