"""The interception scenario, run as its own process (inside a loopback-only network namespace).

An app on the official openai SDK, configured with nothing but HTTPS_PROXY and SSL_CERT_FILE,
talks to https://api.openai.com/v1; `cogate intercept` (mitmdump) hands the calls to
`cogate serve`, whose upstream is a recorder in front of a real llama.cpp server. Prints one
JSON object with everything test_intercept_e2e.py asserts on.

    python -m tests.intercept.e2e_scenario WORKDIR [--trap]
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.servers import cogate_server, free_port, llama_server
from tests.tls import self_signed

BIN = Path(sys.executable).parent

EMAIL = "jane.doe@example.com"
PROMPT = f"My email is {EMAIL}. Write one short friendly sentence that mentions my email."
OTHER_HOST = "files.internal.test"  # resolved by the namespace's own hosts file
TRAP = ("127.0.0.2", 443)  # where api.openai.com resolves inside the namespace

CLIENT = r"""
import json, ssl, sys, time
import httpx, openai

prompt, other_url, other_ca = sys.argv[1:4]
client = openai.OpenAI(api_key="sk-test-not-a-real-key", max_retries=0, timeout=120)
out = {"base_url": str(client.base_url)}
raw = client.chat.completions.with_raw_response.create(
    model="smollm2", max_tokens=32, temperature=0,
    messages=[{"role": "user", "content": prompt}],
)
out["mode"] = raw.headers.get("x-cogate-mode")
out["audit_id"] = raw.headers.get("x-cogate-audit-id")
out["answer"] = raw.parse().choices[0].message.content

stream = client.chat.completions.create(
    model="smollm2", max_tokens=32, temperature=0, stream=True,
    messages=[{"role": "user", "content": "Count from one to ten in words."}],
)
arrivals, text = [], []
for chunk in stream:
    arrivals.append(time.monotonic())
    if chunk.choices and chunk.choices[0].delta.content:
        text.append(chunk.choices[0].delta.content)
out["stream_arrivals"] = arrivals
out["stream_text"] = "".join(text)

# Another HTTPS server through the same proxy, trusting ONLY its own self-signed certificate:
# this succeeds only if mitmproxy tunnelled it untouched instead of presenting its own CA.
ctx = ssl.create_default_context(cafile=other_ca)
with httpx.Client(verify=ctx) as other:  # trust_env: uses HTTPS_PROXY like the SDK
    reply = other.get(other_url)
out["other"] = {"status": reply.status_code, "body": reply.text}
print(json.dumps(out))
"""


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass


def other_https_server(workdir: Path, name: str) -> tuple[ThreadingHTTPServer, str, Path]:
    """A non-LLM HTTPS site on loopback with its own certificate."""
    cert, key = self_signed(workdir, name, stem="other")

    class Handler(_Quiet):
        def do_GET(self) -> None:
            body = b"not an LLM"
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"https://{name}:{server.server_address[1]}/", cert


def recorder(upstream: str) -> tuple[ThreadingHTTPServer, str, list[dict]]:
    """Stands between the gateway and llama.cpp and keeps what the 'cloud' received and said."""
    seen: list[dict] = []
    client = httpx.Client(trust_env=False, timeout=120)

    class Handler(_Quiet):
        def do_GET(self) -> None:
            self._relay(None)

        def do_POST(self) -> None:
            self._relay(self.rfile.read(int(self.headers.get("content-length", 0))))

        def _relay(self, body: bytes | None) -> None:
            entry = {
                "path": self.path,
                "body": (body or b"").decode("utf-8", "replace"),
                "authorization": self.headers.get("authorization"),
                "response": "",
            }
            seen.append(entry)
            target = upstream + self.path.removeprefix("/v1")
            with client.stream(
                self.command, target, content=body, headers={"content-type": "application/json"}
            ) as reply:
                self.send_response(reply.status_code)
                self.send_header(
                    "content-type", reply.headers.get("content-type", "application/json")
                )
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for chunk in reply.iter_raw():
                    entry["response"] += chunk.decode("utf-8", "replace")
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1", seen


def trap_listener() -> list[str]:
    """Anything that tries to reach the real api.openai.com lands here (and is recorded)."""
    hits: list[str] = []
    sock = socket.create_server(TRAP)

    def accept() -> None:
        while True:
            conn, peer = sock.accept()
            hits.append(f"{peer[0]}:{peer[1]}")
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    return hits


def start_intercept(workdir: Path, gateway: str, data_dir: Path, listen: str) -> subprocess.Popen:
    log = (workdir / "intercept.log").open("w")
    proc = subprocess.Popen(
        [
            str(BIN / "cogate"),
            "intercept",
            "--gateway",
            gateway,
            "--listen",
            listen,
            "--data-dir",
            str(data_dir),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = (workdir / "intercept.log").read_text()
        if "addon ready" in text:
            return proc
        if proc.poll() is not None:
            raise RuntimeError(f"cogate intercept exited with {proc.returncode}:\n{text[-3000:]}")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(
        "cogate intercept did not become ready:\n" + (workdir / "intercept.log").read_text()
    )


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def main(workdir: Path, trap: bool) -> dict:
    result: dict = {"trap": trap}
    hits = trap_listener() if trap else None
    other_name = OTHER_HOST if trap else "127.0.0.1"
    other, other_url, other_cert = other_https_server(workdir, other_name)
    with llama_server(workdir) as llama:
        rec, rec_url, seen = recorder(llama)
        with cogate_server(workdir, rec_url) as gateway_v1:
            gateway = gateway_v1.removesuffix("/v1")
            data_dir = workdir / "data"
            proxy_port = free_port()
            listen = f"127.0.0.1:{proxy_port}"
            intercept = start_intercept(workdir, gateway, data_dir, listen)
            try:
                ca = json.loads(
                    subprocess.run(
                        [
                            str(BIN / "cogate"),
                            "intercept",
                            "ca",
                            "--data-dir",
                            str(data_dir),
                            "--listen",
                            listen,
                            "--json",
                        ],
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                )
                result["ca"] = ca
                # The app's whole configuration: a proxy and a CA bundle, nothing else.
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HTTPS_PROXY": f"http://{listen}",
                    "SSL_CERT_FILE": ca["bundle"],
                }
                client = subprocess.run(
                    [sys.executable, "-c", CLIENT, PROMPT, other_url, str(other_cert)],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                result["client_rc"] = client.returncode
                result["client_stderr"] = client.stderr[-3000:]
                if client.returncode == 0:
                    result["client"] = json.loads(client.stdout.strip().splitlines()[-1])
            finally:
                intercept.terminate()  # SIGTERM, as a service manager stops it
                try:
                    result["intercept_rc"] = intercept.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    intercept.kill()
                    result["intercept_rc"] = "timeout"
                result["proxy_port_open_after_stop"] = port_open(proxy_port)
                result["intercept_log"] = (workdir / "intercept.log").read_text()[-4000:]
        rec.shutdown()
    other.shutdown()
    result["upstream_seen"] = seen
    result["trap_hits"] = hits
    result["prompt"], result["email"] = PROMPT, EMAIL
    return result


if __name__ == "__main__":
    out = main(Path(sys.argv[1]), "--trap" in sys.argv[2:])
    print(json.dumps(out))
