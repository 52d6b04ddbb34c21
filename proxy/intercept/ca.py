"""The interception CA: mitmproxy's CA under the data dir (key owner-only) and a bundle of
the system roots plus the CA, for apps whose TLS variables replace the default roots.
"""

from __future__ import annotations

import os
import shlex
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cogate.proxy.intercept.mitmdump import (
    MITM_INSTALL_HINT,
    InterceptError,
    confdir,
    find_mitmdump,
    mitm_python,
)

CA_CERT = "mitmproxy-ca-cert.pem"
BUNDLE = "cogate-ca-bundle.pem"


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def ensure_ca(data_dir: Path, mitmdump: str | None) -> Path:
    """mitmproxy's CA under the data dir, created by mitmproxy's own code; key owner-only."""
    conf = ensure_dir(confdir(data_dir))
    cert = conf / CA_CERT
    if not cert.exists():
        python = mitm_python(find_mitmdump(mitmdump))
        code = (
            "import sys; from mitmproxy.certs import CertStore; "
            "CertStore.from_store(sys.argv[1], 'mitmproxy', 2048)"
        )
        done = subprocess.run(
            [str(python), "-c", code, str(conf)], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0 or not cert.exists():
            raise InterceptError(
                f"could not create the CA in {conf}: {done.stderr.strip()[-500:]}. "
                + MITM_INSTALL_HINT
            )
    for key in conf.glob("mitmproxy-ca*"):
        if key.name != CA_CERT and key.suffix in (".pem", ".p12"):
            os.chmod(key, 0o600)  # these hold the private key
    return cert


def system_roots() -> Path:
    """The machine's trusted roots, which SSL_CERT_FILE would otherwise replace."""
    paths = ssl.get_default_verify_paths()
    candidates = [
        paths.cafile,
        paths.openssl_cafile,
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ]
    try:
        import certifi

        candidates.append(certifi.where())
    except ImportError:
        pass
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and Path(candidate).name != BUNDLE:
            return Path(candidate)
    raise InterceptError("no system CA bundle found; install your distribution's ca-certificates")


def write_bundle(data_dir: Path, ca_cert: Path) -> Path:
    """System roots plus the CA, for variables that replace the default roots (SSL_CERT_FILE)."""
    roots = system_roots().read_text(encoding="utf-8", errors="replace").rstrip("\n")
    text = f"{roots}\n\n# cogate intercept CA (mitmproxy)\n{ca_cert.read_text(encoding='ascii')}"
    conf = confdir(data_dir)
    target = conf / BUNDLE
    fd, tmp = tempfile.mkstemp(prefix=".bundle-", dir=conf)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, 0o644)  # public certificates only
    os.replace(tmp, target)
    return target


@dataclass(frozen=True)
class CaFiles:
    cert: Path
    bundle: Path

    def env(self, listen: str) -> dict[str, str]:
        return {
            "SSL_CERT_FILE": str(self.bundle),
            "REQUESTS_CA_BUNDLE": str(self.bundle),
            "NODE_EXTRA_CA_CERTS": str(self.cert),
            "CURL_CA_BUNDLE": str(self.bundle),
            "HTTPS_PROXY": f"http://{listen}",
        }

    def describe(self, listen: str, *, proxy_line: bool = True) -> str:
        env = self.env(listen)
        q = shlex.quote
        lines = [
            f"# CA certificate: {self.cert}",
            f"# CA bundle (system roots + the CA): {self.bundle}",
            "# Python (openai, httpx, requests): both replace the default roots: the bundle",
            f"export SSL_CERT_FILE={q(env['SSL_CERT_FILE'])}",
            f"export REQUESTS_CA_BUNDLE={q(env['REQUESTS_CA_BUNDLE'])}",
            "# Node: adds the CA to its built-in roots",
            f"export NODE_EXTRA_CA_CERTS={q(env['NODE_EXTRA_CA_CERTS'])}",
            f"# curl (or: curl --cacert {q(str(self.bundle))})",
            f"export CURL_CA_BUNDLE={q(env['CURL_CA_BUNDLE'])}",
        ]
        if proxy_line:
            lines += [
                "# the proxy itself (cogate intercept --listen)",
                f"export HTTPS_PROXY={q(env['HTTPS_PROXY'])}",
            ]
        return "\n".join(lines)


def prepare_ca(data_dir: Path, mitmdump: str | None) -> CaFiles:
    """The CA and a fresh bundle (rewritten each time, so updated system roots are picked up)."""
    cert = ensure_ca(data_dir, mitmdump)
    return CaFiles(cert=cert, bundle=write_bundle(data_dir, cert))
