"""Probe the local-model runtime (llama.cpp) in a child process: load the model, generate.

A llama.cpp build compiled for instructions the machine does not allow (AMX or AVX-512 that
the CPU advertises but the hypervisor traps) kills its process with SIGILL on the first
generation, without a Python exception. Probing in a child turns that death into a message.
`make install` runs `python -m cogate.collab.runtime_check`; `cogate serve` calls `probe`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# The child imports only llama_cpp: it starts fast and fails only for the runtime's reasons.
CHILD = """
import faulthandler, sys
faulthandler.enable()
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=1, n_threads_batch=1, verbose=False)
out = llm.create_completion("The capital of France is", max_tokens=int(sys.argv[2]),
                            temperature=0.0)
print("generated", out["usage"]["completion_tokens"], "tokens")
"""

FIX = (
    "Fix: reinstall the portable llama.cpp build (`make install`, which builds it with "
    "LLAMA_BUILD=portable; in Docker, build without LLAMA_BUILD=native); a wheel built with "
    "-march=native on another machine, or pip's cache, may have been installed instead."
)


@dataclass(frozen=True)
class ProbeResult:
    """How the child ended: `ok`, or the signal / exit code and the last lines it wrote."""

    returncode: int | None  # None: it did not finish in time
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def signal_name(self) -> str | None:
        if self.returncode is None or self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    def tail(self, lines: int = 8) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])

    def explain(self) -> str:
        """One message naming what happened, its likely cause and the fix."""
        if self.ok:
            return "the local model runtime loaded the model and generated tokens"
        if self.returncode is None:
            return "the local model runtime did not finish loading and generating in time"
        name = self.signal_name
        if name == "SIGILL":
            return (
                "the local model runtime (llama.cpp) died with SIGILL (illegal instruction): it "
                "was compiled for CPU instructions this machine does not allow (often AMX or "
                "AVX-512, which the CPU advertises but the hypervisor traps). " + FIX
            )
        if name is not None:
            return (
                f"the local model runtime (llama.cpp) died with {name} while loading the model "
                "or generating; the last lines it wrote are below. " + FIX
            )
        return (
            f"the local model runtime exited with code {self.returncode} while loading the "
            "model or generating; the last lines it wrote are below"
        )


def run_child(argv: list[str], timeout: float = 120.0) -> ProbeResult:
    """Run one probe command and classify how it ended."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        return ProbeResult(None, out if isinstance(out, str) else out.decode(errors="replace"))
    return ProbeResult(done.returncode, done.stdout + done.stderr)


def probe(model: Path, *, tokens: int = 1, timeout: float = 120.0) -> ProbeResult:
    """Load `model` with llama.cpp in a child process of this Python and generate `tokens`."""
    return run_child([sys.executable, "-c", CHILD, str(model), str(tokens)], timeout)


def main(argv: list[str] | None = None) -> int:
    """`python -m cogate.collab.runtime_check [MODEL]`: the install-time smoke check."""
    from .model_files import embedded_model_path

    args = sys.argv[1:] if argv is None else argv
    model = Path(args[0]) if args else embedded_model_path()
    result = probe(model, tokens=4)
    if result.ok:
        print(f"local model runtime: ok ({result.tail(1)}, {model.name})")
        return 0
    print(f"local model runtime check FAILED: {result.explain()}", file=sys.stderr)
    if result.output.strip():
        print("last lines of the child:\n" + result.tail(), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
