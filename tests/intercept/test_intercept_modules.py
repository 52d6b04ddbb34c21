"""`cogate intercept` is three modules with one job each, and none imports the CLI root."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PROXY = Path(__file__).resolve().parents[2] / "proxy"


def imported_modules(path: Path) -> set[str]:
    """Relative `from .x import` targets of a module, at any depth (in functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module)
    return found


def test_no_intercept_module_imports_the_cli_root() -> None:
    for name in ("intercept", "intercept_ca", "intercept_mitmdump"):
        assert "cli" not in imported_modules(PROXY / f"{name}.py"), name


def test_the_ca_module_does_not_supervise_and_supervision_knows_no_ca_files() -> None:
    assert "intercept" not in imported_modules(PROXY / "intercept_ca.py")
    assert "intercept_ca" not in imported_modules(PROXY / "intercept_mitmdump.py")
    assert "click" not in (PROXY / "intercept_mitmdump.py").read_text()
    assert "click" not in (PROXY / "intercept_ca.py").read_text()


def test_importing_the_intercept_commands_loads_no_cli_root() -> None:
    code = "import sys, cogate.proxy.intercept; print('cogate.proxy.cli' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
