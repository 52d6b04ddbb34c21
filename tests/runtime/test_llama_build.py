"""The installed llama.cpp build is portable, and one recipe builds it everywhere."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import llama_cpp
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "build-llama-cpp.sh"
AMX = re.compile(r"\s(tilezero|tileloadd|tileloaddt1|tdpbssd|tdpbf16ps|ldtilecfg|sttilecfg)\b")


def installed_libraries() -> list[Path]:
    return sorted((Path(llama_cpp.__file__).parent / "lib").glob("libggml*.so"))


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) not installed")
def test_no_installed_ggml_library_contains_amx_instructions() -> None:
    libraries = installed_libraries()
    assert any(lib.name == "libggml-cpu.so" for lib in libraries), libraries
    for lib in libraries:
        listing = subprocess.run(
            ["objdump", "-d", "--no-show-raw-insn", str(lib)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert len(listing) > 10_000, f"objdump printed no code for {lib}"
        found = sorted({match.group(1) for match in AMX.finditer(listing)})
        assert not found, f"{lib.name} contains AMX instructions {found}"


def test_the_amx_pattern_matches_objdump_lines() -> None:
    # A pattern that never matches would make the test above pass on any build.
    assert AMX.search("  4011d0:\ttilezero %tmm0")
    assert AMX.search("  4011d4:\tldtilecfg (%rax)")
    assert not AMX.search("  4011d8:\tvpdpbusd %ymm1,%ymm2,%ymm3")


def test_makefile_and_dockerfile_build_llama_cpp_with_the_one_script() -> None:
    makefile = (REPO / "Makefile").read_text()
    dockerfile = (REPO / "Dockerfile").read_text()
    call = "scripts/build-llama-cpp.sh"
    assert re.search(r"LLAMA_BUILD=\$\(LLAMA_BUILD\) " + re.escape(call), makefile)
    assert re.search(r"LLAMA_BUILD=\$LLAMA_BUILD " + re.escape(call), dockerfile)
    assert "ARG LLAMA_BUILD=portable" in dockerfile
    assert "LLAMA_BUILD ?= portable" in makefile
    # Nobody compiles llama.cpp a second way: no CMAKE_ARGS or GGML flags outside the script.
    for text in (makefile, dockerfile):
        assert "CMAKE_ARGS" not in text and "GGML_" not in text
    # The script is copied before it runs, and llama.cpp is installed before cogate is.
    assert dockerfile.index("COPY scripts scripts") < dockerfile.index(call)
    assert dockerfile.index(call) < dockerfile.index("pip install --no-cache-dir -c constraints")
    # Both end with the smoke check.
    assert "cogate.collab.runtime_check" in makefile
    assert "cogate.collab.runtime_check" in dockerfile


def test_the_portable_recipe_never_enables_native_avx512_or_amx() -> None:
    script = SCRIPT.read_text()
    portable = script[script.index("portable)") : script.index(";;")]
    assert "-DGGML_NATIVE=OFF" in portable
    for flag in ("AMX_TILE", "AMX_INT8", "AMX_BF16", "AVX512"):
        assert f"-DGGML_{flag}=OFF" in portable
    assert "-march=native" not in portable


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    """A stand-in interpreter that logs each pip call and builds an empty wheel file."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(
        "#!/bin/sh\n"
        'echo "$*" >> "$CALLS"\n'
        'case "$*" in *"pip wheel"*)\n'
        '  for a; do [ "$prev" = -w ] && touch "$a/llama_cpp_python-0.3.36-cp311-linux.whl"; '
        "prev=$a; done ;;\n"
        "  *importlib.metadata*) exit 1 ;;\n"
        "  *find_spec*) echo none ;;\n"
        "esac\n"
    )
    python.chmod(0o755)
    return python


def run_script(python: Path, wheels: Path, build: str, calls: Path) -> str:
    env = {**os.environ, "LLAMA_BUILD": build, "CALLS": str(calls)}
    subprocess.run(["sh", str(SCRIPT), str(python), str(wheels)], env=env, check=True)
    return calls.read_text()


def test_the_script_builds_without_pips_cache_into_a_flags_folder_and_installs_that(
    fake_python: Path, tmp_path: Path
) -> None:
    wheels = tmp_path / "wheels"
    calls = run_script(fake_python, wheels, "portable", tmp_path / "calls").splitlines()
    build = next(line for line in calls if "pip wheel" in line)
    install = next(line for line in calls if "pip install" in line)
    # pip's cache keys wheels by the sdist, not by flags: it is neither read nor written.
    assert "--no-cache-dir" in build and "--no-binary llama-cpp-python" in build
    assert "--no-cache-dir" in install and "--no-index" in install
    assert "--force-reinstall" in install
    (folder,) = wheels.iterdir()
    assert str(folder) in install  # the wheel just built, nothing found elsewhere
    # A native build lands in another folder: a wheel is never reused across flags.
    run_script(fake_python, wheels, "native", tmp_path / "calls-native")
    assert len(list(wheels.iterdir())) == 2


def test_the_script_reuses_a_wheel_built_with_the_same_flags(
    fake_python: Path, tmp_path: Path
) -> None:
    wheels = tmp_path / "wheels"
    run_script(fake_python, wheels, "portable", tmp_path / "first")
    again = run_script(fake_python, wheels, "portable", tmp_path / "second")
    assert "pip wheel" not in again and "pip install" in again


def test_the_installed_venv_is_stamped_with_the_backend_it_holds() -> None:
    import hashlib

    venv = Path(llama_cpp.__file__).parents[4]
    stamp = (venv / ".llama-build").read_text().split()
    backend = Path(llama_cpp.__file__).parent / "lib" / "libggml-cpu.so"
    assert stamp[1] == hashlib.sha256(backend.read_bytes()).hexdigest()
