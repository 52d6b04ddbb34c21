"""`cogate intercept` is three modules with one job each, and none imports the CLI root."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

INTERCEPT = Path(__file__).resolve().parents[2] / "proxy" / "intercept"


def imported_modules(path: Path) -> set[str]:
    """The cogate.proxy modules a module imports, at any depth (in functions too), named
    relative to cogate.proxy (`cli`, `intercept.ca`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            if node.level == 1:
                module = f"intercept.{module}"
            if module.startswith("cogate.proxy."):
                module = module.removeprefix("cogate.proxy.")
            found.add(module)
    return found


def test_no_intercept_module_imports_the_cli_root() -> None:
    for name in ("cli", "ca", "mitmdump"):
        assert "cli" not in imported_modules(INTERCEPT / f"{name}.py"), name


def test_the_ca_module_does_not_supervise_and_supervision_knows_no_ca_files() -> None:
    assert "intercept.cli" not in imported_modules(INTERCEPT / "ca.py")
    assert "intercept.ca" not in imported_modules(INTERCEPT / "mitmdump.py")
    assert "click" not in (INTERCEPT / "mitmdump.py").read_text()
    assert "click" not in (INTERCEPT / "ca.py").read_text()


def test_importing_the_intercept_commands_loads_no_cli_root() -> None:
    code = "import sys, cogate.proxy.intercept.cli; print('cogate.proxy.cli' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
