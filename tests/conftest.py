"""Shared fixtures: small datasets written from CSV text, and the installed backends."""

from __future__ import annotations

import contextlib
import io
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from optimizer import Dataset, load_dataset
from optimizer.backends import available
from optimizer.cli import main

BACKENDS = available()
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


def run_cli(args: list[str]) -> tuple[int, str]:
    """``soe ARGS`` in process: exit status and everything printed (warnings muted)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = main(args)
    return code, out.getvalue() + err.getvalue()


def write_tables(folder: Path, tables: dict[str, str]) -> Path:
    """Write ``{"products": "product,shortage_cost\\nA,5", "settings": "..."}`` as a dataset."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        body = textwrap.dedent(text).strip() + "\n"
        file = folder / ("settings.toml" if name == "settings" else f"{name}.csv")
        file.write_text(body)
    return folder


BASE = {
    "periods": """
        period,start
        W1,2026-11-30
        W2,2026-12-07
    """,
    "products": """
        product,priority,shortage_cost
        A,1,5
        B,2,5
    """,
    "lines": """
        line,hours
        L1,10
    """,
    "routings": """
        product,line,rate
        A,L1,10
        B,L1,10
    """,
    "forecast": """
        product,period,quantity
        A,W1,60
        A,W2,60
        B,W1,60
        B,W2,60
    """,
}


@pytest.fixture
def make(tmp_path: Path) -> Callable[..., Dataset]:
    """Load a dataset made of ``BASE`` (only its periods with ``base=False``), tables replaced."""
    counter = iter(range(1000))

    def _make(base: bool = True, **tables: str) -> Dataset:
        all_tables = {**(BASE if base else {"periods": BASE["periods"]}), **tables}
        folder = write_tables(tmp_path / f"ds{next(counter)}", all_tables)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_dataset(folder)

    return _make


@pytest.fixture(scope="session")
def bodywash() -> Dataset:
    """The demo dataset (``data/bodywash``): a MILP with setups, solved in a second."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset(DATA / "bodywash")


@pytest.fixture(params=BACKENDS)
def solver(request: pytest.FixtureRequest) -> str:
    """Every installed backend, one after the other (the conformance suite)."""
    return str(request.param)
