"""The README's Python example runs and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from tests.conftest import ROOT


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_example_runs(monkeypatch: object) -> None:
    (block,) = _python_blocks((ROOT / "README.md").read_text())
    expected = [c.split(":")[0].strip() for c in re.findall(r"print\(.*?\)\s+# (.*)", block)]
    cwd = Path.cwd()
    out = io.StringIO()
    try:
        os.chdir(ROOT)
        with contextlib.redirect_stdout(out):
            exec(compile(block, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    lines = out.getvalue().splitlines()
    assert lines[0] == expected[0]  # "optimal 400.0"
    assert lines[-1] == expected[-1]  # "240.0"


def test_packages_import_in_any_order() -> None:
    """``formulations`` imports the dataset layer of ``optimizer``; ``optimizer.plan``
    must still resolve when ``formulations`` is imported first (no import cycle)."""
    import subprocess
    import sys

    code = "import formulations.allocation, optimizer; print(optimizer.plan.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "plan"
