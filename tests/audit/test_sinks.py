"""Out to other systems: the audit sink streams every entry's metadata at least once (a sink
restart loses nothing) and never a value; request spans reach an OTLP receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cogate.audit.compliance.sinks import AuditSink, FileTransport, metadata, parse_sink
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from .helpers import db, through_gateway

NAME = "Eleanor Vance"
CARD = "4111 1111 1111 1111"


def chat(text: str) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


class Receiver:
    """A loopback HTTP receiver that keeps what is POSTed to it; stop() closes the port."""

    def __init__(self, port: int = 0) -> None:
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook
                length = int(self.headers.get("content-length", 0))
                outer.bodies.append(self.rfile.read(length))
                outer.paths.append(self.path)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.allow_reuse_address = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def lines(self) -> list[dict]:
        return [json.loads(line) for body in self.bodies for line in body.splitlines()]


def test_the_sink_line_is_metadata_only():
    entry = {
        "kind": "egress",
        "seq": 3,
        "tags": [{"type": "PERSON", "tag": "hmac-sha256:ab", "action": "pseudonymized"}],
        "tag_form": "nfkc-casefold-space",
        "note": {"sketch_outline": "about Eleanor", "collab": "sketch"},
        "entities": {"PERSON": 1},
    }
    line = metadata(entry, "sha256:" + "0" * 64)
    assert "tags" not in line and "tag_form" not in line
    assert line["note"] == {"collab": "sketch"} and line["hash"].startswith("sha256:")


def test_a_full_buffer_drops_the_oldest_and_counts_it(tmp_path):
    class Down:
        where = "down"

        def send(self, lines):
            raise ConnectionError("down")

        def close(self):
            return None

    sink = AuditSink(Down(), capacity=3)
    for seq in range(1, 6):
        sink.offer({"seq": seq}, "h")
    assert sink.dropped == 2 and sink.pending == 3
    sink.close(timeout=0.1)


def test_sink_specs():
    assert parse_sink("syslog://127.0.0.1:6514").where == "syslog://127.0.0.1:6514"
    for bad in ("http://siem.example/ingest", "ftp://x", "syslog://nohost"):
        with pytest.raises(ValueError, match="audit-sink"):
            parse_sink(bad)


def test_file_and_syslog_transports_deliver_lines(tmp_path):
    sink = AuditSink(FileTransport(tmp_path / "audit.jsonl"))
    sink.offer({"seq": 1, "kind": "egress"}, "h1")
    sink.offer({"seq": 2, "kind": "completion"}, "h2")
    sink.close()
    lines = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [x["seq"] for x in lines] == [1, 2]

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    received: list[bytes] = []

    def accept() -> None:
        conn, _ = listener.accept()
        with conn:
            while chunk := conn.recv(65536):
                received.append(chunk)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    sink = AuditSink(parse_sink(f"syslog://127.0.0.1:{port}"))
    sink.offer({"seq": 7}, "h")
    sink.close()
    thread.join(timeout=5)
    listener.close()
    text = b"".join(received).decode()
    assert text.startswith("<110>1 ") and ' cogate - audit - {"seq":7,"hash":"h"}' in text


def test_every_entry_reaches_the_sink_across_a_restart_and_never_a_value(privacy, cogate_home):
    first = Receiver()
    port = first.port
    holder: dict[str, Receiver] = {}

    def restart() -> None:
        holder["second"] = Receiver(port)

    replies = through_gateway(
        cogate_home,
        privacy,
        [
            (chat(f"Write to {NAME} about the invoice."), {"x-cogate-app": "mail"}),
            (chat(f"{NAME} pays with {CARD}"), {"x-cogate-app": "shop"}),
            first.stop,  # the SIEM goes down
            (chat(f"Thank {NAME} for the flowers."), {"x-cogate-app": "mail"}),
            (chat("What is 2 + 2?"), {}),
            lambda: time.sleep(0.3),  # the sink retries meanwhile
            restart,
            (chat(f"Say goodbye to {NAME}."), {"x-cogate-app": "mail"}),
        ],
        audit_sink=f"http://127.0.0.1:{port}/ingest",
    )
    assert [r.status_code for r in replies] == [200, 403, 200, 200, 200]
    holder["second"].stop()
    seqs = {s for (s,) in db(cogate_home).execute("SELECT seq FROM entries")}
    got = first.lines() + holder["second"].lines()
    assert {x["seq"] for x in got} == seqs  # at least once: every entry, duplicates allowed
    assert holder["second"].lines(), "entries written while the sink was down came later"
    kinds = {x["kind"] for x in got}
    assert {"egress", "completion", "refusal"} <= kinds
    raw = b"".join(first.bodies + holder["second"].bodies)
    for needle in (NAME.encode(), b"Eleanor", CARD.encode(), b"hmac-sha256", b"flowers"):
        assert needle not in raw


def test_spans_follow_the_genai_conventions_without_values(privacy, cogate_home):
    exporter = InMemorySpanExporter()
    collector = Receiver()
    try:
        through_gateway(
            cogate_home,
            privacy,
            [
                (chat(f"Write to {NAME} about the invoice."), {"x-cogate-app": "mail"}),
                (chat(f"{NAME} pays with {CARD}"), {"x-cogate-app": "shop"}),
            ],
            span_exporter=exporter,
        )
        # The real exporter: OTLP/HTTP to a receiver, as OTEL_EXPORTER_OTLP_ENDPOINT sets it.
        through_gateway(
            cogate_home,
            privacy,
            [(chat(f"Write to {NAME} again."), {"x-cogate-app": "mail"})],
            otel_endpoint=f"http://127.0.0.1:{collector.port}",
        )
    finally:
        collector.stop()
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["chat m", "chat m"]
    ok, refused = (dict(s.attributes) for s in spans)
    assert ok["gen_ai.operation.name"] == "chat" and ok["gen_ai.provider.name"] == "openai"
    assert ok["gen_ai.request.model"] == "m" and ok["cogate.mode"] == "redact"
    assert ok["cogate.entities.PERSON"] == 1 and ok["cogate.audit_id"] == "1"
    assert ok["cogate.route"] == "-" and ok["http.response.status_code"] == 200
    assert refused["cogate.entities.CREDIT_CARD"] == 1 and refused["error.type"] == "403"
    for span in spans:
        text = json.dumps(dict(span.attributes)) + span.name
        assert "Eleanor" not in text and "4111" not in text

    assert collector.paths == ["/v1/traces"]
    request = ExportTraceServiceRequest.FromString(collector.bodies[0])
    sent = [s for r in request.resource_spans for sc in r.scope_spans for s in sc.spans]
    assert len(sent) == 1 and sent[0].name == "chat m"
    keys = {a.key: a.value for a in sent[0].attributes}
    assert keys["cogate.entities.PERSON"].int_value == 1
    assert b"Eleanor" not in collector.bodies[0]
