"""Bad input, fuzzed: a corrupted dataset gives a located error or a verified plan.

Every case starts from a valid dataset (``data/tiny``, or ``RICH`` below, which has
every table and a settings file), applies one to three random corruptions drawn from
:data:`CORRUPTIONS` to its files (a quarter of the cases then plan it as an ``.xlsx``
workbook, with one more corruption from :data:`BOOK_CORRUPTIONS`), and runs
``soe plan`` on it into a folder that already holds a plan (the sentinel). The only
outcomes allowed:

* exit 2, every problem located (its file named; row and column when the corruption
  was a cell), the sentinel folder untouched;
* exit 0, a plan that :func:`optimizer.verify.verify_folder` accepts.

Never a traceback or an "internal error", never a leftover temporary folder; ``soe
validate`` must agree on whether the dataset is valid. The cases come from a seeded
generator: a failure names its seed, and ``_run_case(seed, root, sentinel)`` replays
it. The default suite runs 300 cases (about 20 s); ``-m slow`` runs 3,000 more.
``Dataset.from_frames`` gets the same treatment with bad DataFrames, and the last
tests are regressions for what the fuzzing found.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import shutil
import tomllib
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from optimizer.dataset import Dataset, load_dataset
from optimizer.exceptions import DatasetError
from optimizer.schema import TABLES
from optimizer.solve import plan
from optimizer.verify import verify_folder, verify_plan
from tests.conftest import DATA, run_cli, write_tables

RICH = {
    "periods": """
        period,start,end
        W1,2026-11-30,2026-12-07
        W2,2026-12-07,2026-12-14
        W3,2026-12-14,2026-12-21
    """,
    "products": """
        product,family,priority,initial_inventory,safety_stock,safety_stock_cost,holding_cost,shortage_cost,lateness_cost,max_inventory
        A,fam1,1,10,5,0.5,0.1,10,1,200
        B,fam1,2,0,0,0,0.1,5,0.5,
        C,fam2,3,5,0,0,0,2,0,
    """,
    "lines": """
        line,plant,hours,overtime_hours,overtime_cost
        L1,P1,10,2,3
        L2,P1,8,0,0
    """,
    "line_calendar": """
        line,period,hours,overtime_hours,reason
        L1,W2,5,,maintenance
        L2,W3,0,0,holiday
    """,
    "routings": """
        product,line,rate,setup_hours,setup_cost,run_cost,min_lot
        A,L1,10,1,4,0,20
        B,L1,10,0,0,1,0
        B,L2,8,0.5,2,0,0
        C,L2,5,0,0,0.5,0
    """,
    "materials": """
        material,initial_inventory,holding_cost
        M1,150,0.01
        M2,40,0
    """,
    "bom": """
        product,material,quantity_per_unit
        A,M1,1
        B,M1,0.5
        C,M2,2
    """,
    "receipts": """
        material,period,quantity,po,supplier
        M1,W2,50,PO1,Supplier One
        M2,2026-12-08,30,PO2,Supplier Two
    """,
    "customers": """
        customer,priority
        C1,1
        C2,2
    """,
    "forecast": """
        product,period,quantity
        A,W1,60
        A,W2,40
        A,W3,60
        B,W1,20
        B,W2,20
        B,W3,20
        C,W1,10
        C,W3,15
    """,
    "orders": """
        order,customer,product,period,quantity,priority
        O1,C1,A,W1,50,
        O2,C2,B,2026-11-25,20,
        O3,,C,W2,10,1
        O4,C2,A,W3,30,
    """,
    "previous_plan": """
        product,line,period,quantity
        A,L1,W1,60
        B,L2,W1,20
    """,
    "settings": """
        [solve]
        time_limit_s = 20
        mip_gap = 0

        [demand]
        max_lateness = 1

        [stability]
        frozen_periods = 1
        frozen_shortfall_cost = 0.5
        change_cost = 0.1
    """,
}
"""Every table and a settings file: 3 periods, 3 products on 2 lines, 2 materials."""

FILES = [t.file for t in TABLES.values()] + ["settings.toml"]


# --------------------------------------------------------------------------- file helpers


def _read_rows(file: Path) -> list[list[str]]:
    """The rows of a CSV file, as far as a (possibly already corrupted) file has any."""
    text = file.read_bytes().decode("utf-8-sig", errors="replace")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return []


def _write_rows(file: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    file.write_text(buffer.getvalue(), encoding="utf-8")


def _csvs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.csv"))


def _pick(rng: random.Random, folder: Path) -> Path:
    return rng.choice(_csvs(folder))


def _pick_cell(rng: random.Random, rows: list[list[str]]) -> tuple[int, int] | None:
    """A random data cell (row >= 1) of a table with at least one data row."""
    if len(rows) < 2 or not rows[0]:
        return None
    r = rng.randrange(1, len(rows))
    if not rows[r]:
        return None
    return r, rng.randrange(len(rows[r]))


# --------------------------------------------------------------------------- corruptions

Corruption = Callable[[random.Random, Path], str]
"""Changes a dataset folder in place; returns the location the error must have if the
dataset is rejected: ``cell`` (row and column), ``row`` or ``file``."""


def _set_cell(values: list[str]) -> Corruption:
    def corrupt(rng: random.Random, folder: Path) -> str:
        file = _pick(rng, folder)
        rows = _read_rows(file)
        cell = _pick_cell(rng, rows)
        if cell is None:
            return "file"
        r, c = cell
        rows[r][c] = rng.choice(values)
        _write_rows(file, rows)
        return "cell"

    corrupt.__name__ = f"cell({values[0]!r}, ...)"
    return corrupt


_wrong_type = _set_cell(
    ["abc", "12kg", "1,5", "true", "2026-02-30", "#N/A", "1e", "0x10", "None", "null", "½", "١٢"]
)
_negative = _set_cell(["-1", "-0.5", "-1e-3", "-0", "-100000"])
_not_finite = _set_cell(["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400"])
_huge = _set_cell(["1e15", "1000000000000000", "9" * 20, "1e13"])
_large = _set_cell(["1e9", "123456789.123", "1e11", "0.000001", "1e-12"])
_blank = _set_cell([""])
_odd_id = _set_cell(["A B", "A,B", "A, B", '"A"', "  ", "forecast:A:W1", "A\nB", "ÄÖ€"])


def _rename_id(rng: random.Random, folder: Path) -> str:
    """Rename one id in every file: ids with spaces, commas, quotes or newlines are fine."""
    tables = {f: _read_rows(f) for f in _csvs(folder)}
    ids = sorted(
        {
            row[i]
            for rows in tables.values()
            for row in rows[1:]
            for i, name in enumerate(rows[0])
            if i < len(row) and name in ("product", "line", "material", "customer", "order")
        }
    )
    if not ids:
        return "file"
    old = rng.choice(ids)
    new = rng.choice(
        [f"{old} X", f"{old},X", f'{old} "big"', f"0{old}", f"{old}\nX", f"{old};é", f"{old}\t"]
    )
    for file, rows in tables.items():
        if rows:
            _write_rows(file, [rows[0], *([new if v == old else v for v in r] for r in rows[1:])])
    return "cell"


def _drop_column(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    rows = _read_rows(file)
    if not rows or not rows[0]:
        return "file"
    c = rng.randrange(len(rows[0]))
    _write_rows(file, [r[:c] + r[c + 1 :] for r in rows])
    return "file"


def _extra_column(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    rows = _read_rows(file)
    if not rows:
        return "file"
    name = rng.choice(["note", "Note, with comma", "description", "x"])
    _write_rows(file, [rows[0] + [name], *(r + [rng.choice(["", "a,b", "1"])] for r in rows[1:])])
    return "file"


def _duplicate_header_column(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    rows = _read_rows(file)
    if not rows or not rows[0]:
        return "file"
    c = rng.randrange(len(rows[0]))
    _write_rows(
        file,
        [rows[0] + [rows[0][c].upper()], *(r + [r[c] if c < len(r) else ""] for r in rows[1:])],
    )
    return "file"


def _duplicate_header_line(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    rows = _read_rows(file)
    if not rows:
        return "file"
    rows.insert(rng.randrange(1, len(rows) + 1), list(rows[0]))
    _write_rows(file, rows)
    return "cell"


def _duplicate_row(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    rows = _read_rows(file)
    if len(rows) < 2:
        return "file"
    rows.insert(rng.randrange(1, len(rows) + 1), list(rng.choice(rows[1:])))
    _write_rows(file, rows)
    return "cell"


def _swap_rows(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    rows = _read_rows(file)
    if len(rows) < 3:
        return "file"
    i, j = rng.sample(range(1, len(rows)), 2)
    rows[i], rows[j] = rows[j], rows[i]
    _write_rows(file, rows)
    return "cell"


def _header_only(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    _write_rows(file, _read_rows(file)[:1])
    return "file"


def _bytes(value: bytes) -> Corruption:
    def corrupt(rng: random.Random, folder: Path) -> str:
        file = _pick(rng, folder)
        file.write_bytes(value)
        return "file"

    corrupt.__name__ = f"bytes({value[:8]!r})"
    return corrupt


def _garbage(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    file.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))))
    return "file"


def _insert_bytes(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    data = file.read_bytes()
    at = rng.randrange(len(data) + 1)
    noise = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))
    file.write_bytes(data[:at] + noise + data[at:])
    return "file"


def _utf8_bom(rng: random.Random, folder: Path) -> str:
    file = rng.choice([*_csvs(folder), *folder.glob("settings.toml")])
    file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())
    return "file"


def _latin1(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    rows = _read_rows(file)
    cell = _pick_cell(rng, rows)
    if cell is None:
        return "file"
    r, c = cell
    rows[r][c] = rng.choice(["Café", "Größe", "Ñandú", "Zürich"])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    file.write_bytes(buffer.getvalue().encode("latin-1", errors="replace"))
    return "row"


def _nul(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    data = file.read_bytes()
    at = rng.randrange(len(data) + 1)
    file.write_bytes(data[:at] + b"\x00" + data[at:])
    return "row"


def _truncate(rng: random.Random, folder: Path) -> str:
    file = _pick(rng, folder)
    data = file.read_bytes()
    file.write_bytes(data[: rng.randrange(len(data) + 1)])
    return "file"


def _short_line(rng: random.Random, folder: Path) -> str:
    """A row with its last values cut off (they read as blank)."""
    file = _pick(rng, folder)
    rows = _read_rows(file)
    if len(rows) < 2:
        return "file"
    r = rng.randrange(1, len(rows))
    rows[r] = rows[r][: rng.randrange(len(rows[r]) + 1)]
    _write_rows(file, rows)
    return "cell"


def _unquoted_comma(rng: random.Random, folder: Path) -> str:
    """``Shampoo, Repair`` written without quotes: the row gets one value too many."""
    file = _pick(rng, folder)
    lines = file.read_bytes().decode("utf-8", errors="replace").split("\n")
    if len(lines) < 2 or not lines[1]:
        return "file"
    r = rng.randrange(1, len(lines))
    if not lines[r]:
        return "file"
    cut = rng.randrange(len(lines[r]) + 1)
    lines[r] = lines[r][:cut] + ", x" + lines[r][cut:]
    file.write_text("\n".join(lines), encoding="utf-8")
    return "row"


def _crlf_and_case(rng: random.Random, folder: Path) -> str:
    """Windows line ends and a header in capitals with spaces: still valid."""
    file = _pick(rng, folder)
    rows = _read_rows(file)
    if rows:
        rows[0] = [f" {h.upper()} " for h in rows[0]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    file.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return "file"


def _blank_lines_first(rng: random.Random, folder: Path) -> str:
    """Blank lines (or a row of empty cells) above the header: still valid."""
    file = _pick(rng, folder)
    blank = rng.choice(["\n", "\n\n", "\r\n", " \n", ",,\n"])
    file.write_bytes(blank.encode() + file.read_bytes())
    return "file"


def _padded_cells(rng: random.Random, folder: Path) -> str:
    """Cells with blanks around their values (spaces, a tab, a no-break space): still
    valid, read as the values."""
    file = _pick(rng, folder)
    rows = _read_rows(file)
    for _ in range(rng.randint(1, 5)):
        cell = _pick_cell(rng, rows)
        if cell is None:
            return "file"
        r, c = cell
        pad = rng.choice([" ", "  ", "\t", "\xa0"])
        rows[r][c] = rng.choice([pad + rows[r][c], rows[r][c] + pad, pad + rows[r][c] + pad])
    _write_rows(file, rows)
    return "cell"


def _delete(rng: random.Random, folder: Path) -> str:
    rng.choice([*_csvs(folder), *folder.glob("settings.toml")]).unlink()
    return "file"


def _unknown_file(rng: random.Random, folder: Path) -> str:
    (folder / rng.choice(["notes.csv", "Products.CSV", "products.csv.bak"])).write_text("x\n1\n")
    return "file"


_SETTINGS_TEXTS = [
    "[solve\n",
    "[solve]\ntime_limit_s = 'fast'\n",
    "[solve]\ntime_limit_s = -1\n",
    "[solve]\ntime_limit_s = 0\n",
    "[solve]\nmip_gap = 2\n",
    "[solve]\nthreads = 1.5\n",
    "[solve]\nsolver = 'gurobi'\n",
    "[solver]\nsolver = 'highs'\n",
    "[demand]\nsignal = 'orders'\n",
    "[demand]\nsignal = 'forecast'\n",
    "[demand]\nmax_lateness = -1\n",
    "[demand]\nmax_lateness = 99\n",
    "[priority]\nmode = 'lexicographic'\ntolerance = 0.1\n",
    "[priority]\ntier_weight_base = 0.5\n",
    "[stability]\nfrozen_periods = 2\n",
    "[stability]\nchange_cost = 1\n",
    "[stability]\nfrozen_periods = 99\n",
    "[exceptions]\nhorizon_periods = -2\n",
    "[exceptions]\nunknown = 1\n",
    "solve = 3\n",
    "[solve]\nmip_gap = nan\n",
    "[solve]\ntime_limit_s = inf\n",
    "[solve]\ntime_limit_s = 1e400\n",
    "[solve]\nthreads = 99999999999999999999\n",
    "[demand]\nmax_lateness = true\n",
]


def _settings(rng: random.Random, folder: Path) -> str:
    (folder / "settings.toml").write_text(rng.choice(_SETTINGS_TEXTS), encoding="utf-8")
    return "file"


CORRUPTIONS: list[Corruption] = [
    _wrong_type,
    _negative,
    _not_finite,
    _huge,
    _large,
    _blank,
    _odd_id,
    _rename_id,
    _drop_column,
    _extra_column,
    _duplicate_header_column,
    _duplicate_header_line,
    _duplicate_row,
    _swap_rows,
    _header_only,
    _bytes(b""),
    _bytes(b"\n \n\n"),
    _bytes(b"\xef\xbb\xbf"),
    _garbage,
    _insert_bytes,
    _utf8_bom,
    _latin1,
    _nul,
    _truncate,
    _short_line,
    _unquoted_comma,
    _crlf_and_case,
    _blank_lines_first,
    _padded_cells,
    _delete,
    _unknown_file,
    _settings,
]


# --------------------------------------------------------------------------- workbooks


def _typed(value: str, kind: str | None, rng: random.Random) -> Any:
    """A cell as Excel would hold it: numbers as numbers, sometimes dates as dates."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if kind in ("number", "priority"):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    if kind == "date" and rng.random() < 0.5:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _workbook(folder: Path, rng: random.Random) -> Any:
    """The dataset folder as an openpyxl workbook: a sheet per table, settings as key/value."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for file in _csvs(folder):
        rows = _read_rows(file)
        sheet = book.create_sheet(file.stem[:31])
        table = TABLES.get(file.stem)
        kinds = {c.name: c.kind for c in table.columns} if table else {}
        names = [h.strip().lower() for h in rows[0]] if rows else []
        for i, row in enumerate(rows):
            sheet.append(
                [
                    _typed(v, kinds.get(names[j]) if i and j < len(names) else None, rng)
                    for j, v in enumerate(row)
                ]
            )
    try:
        settings = tomllib.loads((folder / "settings.toml").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):  # no settings, or settings a workbook cannot hold
        return book
    sheet = book.create_sheet("settings")
    sheet.append(["key", "value"])
    for section, values in settings.items():
        items = values.items() if isinstance(values, dict) else [("", values)]
        for key, value in items:
            sheet.append([f"{section}.{key}".rstrip("."), value])
    return book


def _book_cell(rng: random.Random, book: Any) -> str:
    sheet = rng.choice(book.worksheets)
    if sheet.max_row < 2:
        return "file"
    row, column = rng.randrange(2, sheet.max_row + 1), rng.randrange(1, sheet.max_column + 1)
    sheet.cell(row, column).value = rng.choice(
        [True, dt.datetime(2026, 12, 1, 8, 30), -1.0, 1e15, "abc", None, "=1/0", "#DIV/0!", 0.0]
    )
    return "cell"


def _book_drop_sheet(rng: random.Random, book: Any) -> str:
    book.remove(rng.choice(book.worksheets))
    return "file"


def _book_rename_sheet(rng: random.Random, book: Any) -> str:
    sheet = rng.choice(book.worksheets)
    sheet.title = rng.choice([f" {sheet.title.upper()} ", f"{sheet.title} (2)", "Sheet9"])
    return "file"


def _book_clear_sheet(rng: random.Random, book: Any) -> str:
    sheet = rng.choice(book.worksheets)
    sheet.delete_rows(rng.choice([1, 2]), sheet.max_row)
    return "file"


def _book_shift(rng: random.Random, book: Any) -> str:
    """Blank rows above the header, and a value right of the header: still valid."""
    sheet = rng.choice(book.worksheets)
    sheet.insert_rows(1, rng.randrange(1, 3))
    sheet.cell(sheet.max_row, sheet.max_column + 2).value = "note"
    return "file"


def _book_settings(rng: random.Random, book: Any) -> str:
    sheet = book["settings"] if "settings" in book.sheetnames else book.create_sheet("settings")
    sheet.delete_rows(1, sheet.max_row)
    sheet.append(rng.choice([["key", "value"], ["name", "value"], ["key"]]))
    sheet.append(
        rng.choice(
            [
                ["solve", 3],
                ["solve.time_limit_s", "fast"],
                ["solve.nothing", 1],
                ["demand.max_lateness", 1.5],
                ["priority.mode", "lexicographic"],
                ["demand.signal", "orders"],
                ["solve.mip_gap", True],
            ]
        )
    )
    return "file"


BOOK_CORRUPTIONS: list[Callable[[random.Random, Any], str]] = [
    _book_cell,
    _book_drop_sheet,
    _book_rename_sheet,
    _book_clear_sheet,
    _book_shift,
    _book_settings,
]


def _damage_file(rng: random.Random, book: Path, folder: Path) -> None:
    """The workbook file itself broken: truncated, overwritten, or a CSV in disguise."""
    data = book.read_bytes()
    choice = rng.randrange(4)
    if choice == 0:
        book.write_bytes(data[: rng.randrange(len(data))])
    elif choice == 1:
        book.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(500))))
    elif choice == 2:
        book.write_bytes((folder / "products.csv").read_bytes())
    else:
        book.write_bytes(b"")


# --------------------------------------------------------------------------- running a case


@dataclass
class Outcome:
    seed: int
    base: str
    corruptions: list[str]
    code: int
    text: str
    failure: str = ""

    def describe(self) -> str:
        return (
            f"seed {self.seed} ({self.base}: {', '.join(self.corruptions)}) exit {self.code}: "
            f"{self.failure}\n{self.text[-1500:]}"
        )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _problems_located(text: str, sources: tuple[str, ...], where: str) -> str:
    """What is wrong with the problems printed for an invalid dataset ("" if nothing)."""
    problems = [line[4:] for line in text.splitlines() if line.startswith("  - ")]
    if not problems or "problem" not in text:
        return "exit 2 without a list of located problems"
    unlocated = [p for p in problems if not p.startswith(sources)]
    if unlocated:
        return f"problems without a file: {unlocated}"
    if where == "cell" and not any(", row " in p and ", column " in p for p in problems):
        return "a cell corruption without a row and column"
    if where == "row" and not any(", row " in p for p in problems):
        return "a row corruption without a row"
    return ""


def _judge(
    code: int, text: str, dataset: Path, out: Path, before: dict[str, bytes], where: str
) -> str:
    """What is wrong with the outcome of ``soe plan`` ("" when it is allowed)."""
    if "Traceback" in text or "internal error" in text:
        return "a traceback or an internal error"
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    if leftovers:
        return f"temporary folders left behind: {leftovers}"
    sources = (*FILES, "forecast.csv / orders.csv", dataset.name)
    if code == 2:
        if _snapshot(out) != before:
            return "a failed run changed the existing plan folder"
        return _problems_located(text, sources, where)
    if code == 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            violations = verify_folder(load_dataset(dataset), out)
        return f"the written plan does not verify: {violations[:5]}" if violations else ""
    return f"exit {code}: neither a located error (2) nor a verified plan (0)"


def _base(name: str, folder: Path) -> Path:
    if name == "tiny":
        shutil.copytree(DATA / "tiny", folder, ignore=shutil.ignore_patterns("README.md"))
        return folder
    return write_tables(folder, RICH)


def _run_case(seed: int, root: Path, sentinel: Path, report: bool = False) -> Outcome:
    """Corrupt a fresh copy of a base dataset (all chosen by ``seed``) and plan it.

    A quarter of the cases plan a workbook made from the corrupted folder, with one
    more corruption of the workbook (a sheet dropped, a cell retyped...) or of its file.
    Besides ``soe plan``: ``soe validate`` must agree on whether the dataset is valid,
    and ``soe check`` of the sentinel plan (made for another dataset) must report
    violations, not crash.
    """
    rng = random.Random(seed)
    case = root / f"case{seed}"
    base = rng.choice(["tiny", "rich", "rich"])
    work = _base(base, case / "dataset")
    n = rng.choice([1, 1, 1, 2, 3])
    names = []
    where = "file"
    for _ in range(n):
        corrupt = rng.choice(CORRUPTIONS)
        names.append(corrupt.__name__.lstrip("_"))
        if not _csvs(work):
            break
        where = corrupt(rng, work)
    dataset = work
    if rng.random() < 0.25:
        book = _workbook(work, rng)
        dataset = case / f"{base}.xlsx"
        if rng.random() < 0.9:
            book_corrupt = rng.choice(BOOK_CORRUPTIONS)
            names.append(book_corrupt.__name__.lstrip("_"))
            where = book_corrupt(rng, book) if book.worksheets else "file"
        book.save(dataset)
        if rng.random() < 0.1:
            names.append("damaged workbook file")
            _damage_file(rng, dataset, work)
            where = "file"
    if len(names) > 1:
        where = "file"  # several corruptions: each problem must still name its file
    out = case / "plan"
    shutil.copytree(sentinel, out)
    before = _snapshot(out)
    args = ["plan", str(dataset), "--out", str(out), "--time-limit", "20"]
    code, text = run_cli(args if report else [*args, "--no-report"])
    outcome = Outcome(seed, base, names, code, text)
    outcome.failure = _judge(code, text, dataset, out, before, where)
    if not outcome.failure and code in (0, 2):
        valid, text = run_cli(["validate", str(dataset)])
        if valid != code or "Traceback" in text or "internal error" in text:
            outcome.failure = f"soe validate exits {valid}, soe plan {code}:\n{text[-800:]}"
    if not outcome.failure and code == 0:
        checked, text = run_cli(["check", str(dataset), str(sentinel)])
        if checked not in (0, 1) or "Traceback" in text or "internal error" in text:
            outcome.failure = f"soe check of another plan exits {checked}:\n{text[-800:]}"
    shutil.rmtree(case)
    return outcome


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plan folder written before each case, which a failed run must leave as it is."""
    folder = tmp_path_factory.mktemp("sentinel") / "plan"
    code, text = run_cli(["plan", str(DATA / "tiny"), "--out", str(folder), "--no-report"])
    assert code == 0, text
    (folder / "sentinel.txt").write_text("written before the run\n")
    return folder


def _sweep(seeds: range, root: Path, sentinel: Path) -> Counter[str]:
    outcomes = [_run_case(seed, root, sentinel) for seed in seeds]
    failures = [o for o in outcomes if o.failure]
    assert not failures, f"{len(failures)} bad outcomes of {len(outcomes)}; first:\n" + "\n\n".join(
        o.describe() for o in failures[:3]
    )
    return Counter(f"exit {o.code}" for o in outcomes)


def test_fuzzed_datasets(tmp_path: Path, sentinel: Path) -> None:
    """300 corrupted datasets: located errors or verified plans, and both are seen."""
    counts = _sweep(range(300), tmp_path, sentinel)
    assert counts["exit 2"] > 100 and counts["exit 0"] > 30, counts


@pytest.mark.slow
def test_fuzzed_datasets_sweep(tmp_path: Path, sentinel: Path) -> None:
    """3000 more (about five minutes)."""
    counts = _sweep(range(1000, 4000), tmp_path, sentinel)
    assert counts["exit 2"] > 1000 and counts["exit 0"] > 300, counts


def test_fuzzed_dataset_with_reports(tmp_path: Path, sentinel: Path) -> None:
    """With the reports on (written inside the same atomic step as the plan tables)."""
    outcomes = [_run_case(seed, tmp_path, sentinel, report=True) for seed in (5, 16)]
    assert [o.describe() for o in outcomes if o.failure] == []
    assert {o.code for o in outcomes} == {0, 2}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda b: _drop_sheet(b, "periods"),
            "rich.xlsx, sheet periods: required table is missing",
        ),
        (lambda b: _drop_sheet(b, "materials"), "unknown material 'M1' (not in materials.csv)"),
        (lambda b: _drop_sheet(b, "customers"), ""),
    ],
    ids=["required", "referenced", "optional"],
)
def test_workbook_with_a_missing_sheet(
    tmp_path: Path, sentinel: Path, build: Callable[[Any], None], message: str
) -> None:
    """A sheet left out of a workbook is a missing table, located like a missing file."""
    book = _workbook(write_tables(tmp_path / "rich", RICH), random.Random(0))
    build(book)
    path = tmp_path / "rich.xlsx"
    book.save(path)
    out = Path(shutil.copytree(sentinel, tmp_path / "plan"))
    before = _snapshot(out)
    code, text = run_cli(["plan", str(path), "--out", str(out), "--no-report"])
    assert _judge(code, text, path, out, before, "file") == ""
    assert code == (2 if message else 0)
    assert message in text


def _drop_sheet(book: Any, name: str) -> None:
    book.remove(book[name])


# --------------------------------------------------------------------------- frames


_BAD_VALUES: list[Any] = [
    None,
    np.nan,
    np.inf,
    -np.inf,
    -1,
    -0.5,
    "abc",
    "",
    [1, 2],
    {"a": 1},
    True,
    pd.Timestamp("2026-12-01"),
    pd.NaT,
    1e15,
    b"A",
    complex(1, 2),
    Decimal("2.5"),
    np.int64(3),
    "A,B",
    " A ",
    10**30,
]


def _frames(base: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The CSV text of a base dataset as the DataFrames an integrator would hold."""
    frames = {}
    for name, text in base.items():
        if name != "settings":
            body = "\n".join(line.strip() for line in text.strip().splitlines())
            frames[name] = pd.read_csv(io.StringIO(body), dtype=object, keep_default_na=False)
    return frames


def _frame_case(seed: int) -> tuple[dict[str, pd.DataFrame], str]:
    """RICH's frames with one to three random bad values, dropped or doubled columns."""
    rng = random.Random(seed)
    frames = _frames(RICH)
    for _ in range(rng.choice([1, 1, 2, 3])):
        name = rng.choice(sorted(frames))
        frame = frames[name]
        choice = rng.randrange(10)
        if choice == 0:
            frames[name] = frame.drop(columns=rng.choice(list(frame.columns)))
        elif choice == 1:
            frames[name] = pd.concat([frame, frame.iloc[:, [0]]], axis=1)
        elif choice == 2:
            frames[name] = frame.iloc[:0]
        elif choice == 3:
            del frames[name]
        elif len(frame) and len(frame.columns):
            frame = frame.copy()
            j = rng.randrange(len(frame.columns))
            values = frame.iloc[:, j].tolist()
            values[rng.randrange(len(values))] = rng.choice(_BAD_VALUES)
            column = pd.Series(values, index=frame.index, dtype=object)
            if rng.random() < 0.3:  # a typed column, as pandas would infer it
                column = column.infer_objects()
            frame.isetitem(j, column)
            frames[name] = frame
    return frames, rng.choice(["weighted", "lexicographic"])


@pytest.mark.parametrize("chunk", range(4))
def test_fuzzed_frames(chunk: int) -> None:
    """Dataset.from_frames with bad frames: a located DatasetError or a plan that verifies."""
    codes: Counter[str] = Counter()
    for seed in range(50 * chunk, 50 * chunk + 50):
        frames, mode = _frame_case(seed)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = Dataset.from_frames(
                    frames, settings={"solve": {"mip_gap": 0}, "priority": {"mode": mode}}
                )
        except DatasetError as exc:
            where = [p for p in exc.problems if not p.file.endswith(("(frame)", "orders.csv"))]
            assert exc.problems and not where, (seed, str(exc))
            codes["error"] += 1
            continue
        assert verify_plan(ds, plan(ds)) == [], seed
        codes["plan"] += 1
    assert codes["error"] and codes["plan"], codes


def test_frame_with_a_column_twice() -> None:
    frames = _frames(RICH)
    frames["products"] = pd.concat([frames["products"], frames["products"][["priority"]]], axis=1)
    with pytest.raises(DatasetError) as info:
        Dataset.from_frames(frames)
    assert str(info.value.problems[0]) == (
        "products (frame), row 1, column priority: this column appears twice in the header"
    )


# --------------------------------------------------------------------------- regressions


def test_huge_tier_number(tmp_path: Path) -> None:
    """Found by the fuzzer (a customer's priority 1e9): in weighted mode tier weights of
    10^(K-k) overflowed to an infinite objective and the plan failed verification
    (exit 1). Now a located validation error; lexicographic mode takes any tiers."""
    tables = {**RICH, "customers": "customer,priority\nC1,1\nC2,1e9\n"}
    code, text = run_cli(["validate", str(write_tables(tmp_path / "ds", tables))])
    assert code == 2
    assert (
        "customers.csv, row 3, column priority: tier 1000000000 (customer 'C2') is the largest"
        in text
    )
    lexicographic = {
        **tables,
        "settings": RICH["settings"] + "\n[priority]\nmode = 'lexicographic'",
    }
    folder = write_tables(tmp_path / "lex", lexicographic)
    assert run_cli(["plan", str(folder), "--out", str(tmp_path / "p"), "--no-report"])[0] == 0
    # the command line's --mode goes through the same check
    code, text = run_cli(["plan", str(folder), "--out", str(tmp_path / "p"), "--mode", "weighted"])
    assert code == 2 and "settings, column priority.tier_weight_base: tier 1000000000" in text


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            {"bom": "product,material,quantity_per_unit\nA,M1,1\nB,M1,1e11\nC,M2,2\n"},
            ("bom.csv", 3, "quantity_per_unit"),
        ),
        (
            {"routings": "product,line,rate\nA,L1,1e-12\nB,L1,10\nB,L2,8\nC,L2,5\n"},
            ("routings.csv", 2, "rate"),
        ),
    ],
)
def test_a_row_spanning_more_than_a_solver_resolves(
    tmp_path: Path, change: dict[str, str], where: tuple[str, int, str]
) -> None:
    """Found by the fuzzer (seed 2035: 10^11 units of M1 per unit of B): HiGHS dropped
    A's use of M1 beside it, and the plan failed verification (exit 1). Coefficients of
    one row spanning more than 10^9 are now a located validation error."""
    with pytest.raises(DatasetError) as info:
        load_dataset(write_tables(tmp_path / "ds", {**RICH, **change}))
    located = [(p.file, p.row, p.column) for p in info.value.problems]
    assert located == [where]
    assert "wider than the 1e+09 an LP solver resolves in one row" in str(info.value)


def test_a_tiny_production_with_a_large_coefficient_is_kept(tmp_path: Path) -> None:
    """With 10^9 units of M1 per unit of B and half a unit of M1, the LP makes 5e-10
    units of B (it saves holding the M1). Cleaning solver noise took every value below
    1e-9 away, the production but not its consumption, and the plan failed its check;
    a value is now noise only if its effect on its rows is."""
    tables = {
        **RICH,
        "bom": "product,material,quantity_per_unit\nA,M1,1\nB,M1,1e9\nC,M2,2\n",
        "materials": "material,initial_inventory,holding_cost\nM1,0.5,0.01\nM2,40,0\n",
        "receipts": "material,period,quantity,po,supplier\nM2,2026-12-08,30,PO2,Supplier Two\n",
    }
    folder = write_tables(tmp_path / "ds", tables)
    code, text = run_cli(["plan", str(folder), "--out", str(tmp_path / "plan"), "--no-report"])
    assert code == 0, text
    ds = load_dataset(folder)
    assert verify_folder(ds, tmp_path / "plan") == []
    made = pd.read_csv(tmp_path / "plan" / "production.csv")
    b = made.loc[made["product"] == "B", "quantity"].sum()
    assert 0 < b < 1e-9
    used = pd.read_csv(tmp_path / "plan" / "materials.csv")
    assert used.loc[used["material"] == "M1", "consumed"].sum() == pytest.approx(b * 1e9)


def test_settings_given_to_plan_are_checked_against_the_tables() -> None:
    """``plan(dataset, settings)`` (and ``Dataset.replace(settings=...)``) applies the
    rules that tie settings to the tables, as loading does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tiny = load_dataset(DATA / "tiny")
    for change, expected in [
        ({"demand__signal": "orders"}, "the demand signal 'orders' yields no demand entry"),
        ({"stability__change_cost": 1.0}, "needs previous_plan.csv"),
        ({"priority__tier_weight_base": 1e12}, "too large to plan reliably"),
    ]:
        with pytest.raises(DatasetError, match=expected):
            plan(tiny, tiny.settings.with_overrides(**change))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--time-limit", "-1"], "error: --time-limit: input should be greater than 0"),
        (["--gap", "5"], "error: --gap: input should be less than or equal to 1"),
        (["--threads", "-1"], "error: --threads: input should be greater than or equal to 0"),
        (["--out", "{file}"], "is a file, not a folder"),
        (["--out", "{file}/plan"], "is a file, not a folder"),
        (["--excel", "{file}/plan.xlsx"], "is a file, not a folder"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, options: list[str], message: str) -> None:
    """Options out of range were an internal error (exit 1); an --out naming a file was
    replaced by the plan folder, leaving the file in a hidden ``.NAME.old.*`` behind."""
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    options = [o.format(file=file) for o in options]
    out = [] if "--out" in options else ["--out", str(tmp_path / "plan")]
    code, text = run_cli(["plan", str(DATA / "tiny"), *out, *options, "--no-report"])
    assert code == 2 and message in text and "internal error" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert file.read_text() == "mine\n"


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("ds", "--out {root}/ds: is the dataset; give another folder"),
        (".", "--out .: holds the dataset; give another folder"),
        ("mine", "--out {root}/mine: holds files and is not a plan folder"),
    ],
)
def test_the_plan_never_replaces_the_dataset_or_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str, message: str
) -> None:
    """``--out`` is replaced as a whole: naming the dataset's folder, a folder that holds
    it, or a folder of other files, deleted them with it. Now exit 2, nothing touched."""
    shutil.copytree(DATA / "tiny", tmp_path / "ds")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    monkeypatch.chdir(tmp_path)
    target = out if out == "." else str(tmp_path / out)
    code, text = run_cli(["plan", str(tmp_path / "ds"), "--out", target, "--no-report"])
    assert code == 2 and message.format(root=tmp_path) in text, text
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_the_excel_file_is_never_the_dataset(tmp_path: Path) -> None:
    """``--excel`` naming the dataset's own workbook overwrote it with the plan."""
    book = tmp_path / "tiny.xlsx"
    _workbook(DATA / "tiny", random.Random(0)).save(book)
    data = book.read_bytes()
    code, text = run_cli(["plan", str(book), "--out", str(tmp_path / "q"), "--excel", str(book)])
    assert code == 2 and "is the dataset; give another file" in text, text
    assert book.read_bytes() == data and not (tmp_path / "q").exists()


def test_a_plan_replaces_an_empty_folder_or_an_earlier_plan(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (empty, empty):  # the second time it is a plan folder
        code, text = run_cli(["plan", str(DATA / "tiny"), "--out", str(target), "--no-report"])
        assert code == 0, text
        assert (target / "summary.json").is_file()


def test_plan_write_refuses_a_folder_of_other_files(tmp_path: Path) -> None:
    result = plan(load_dataset(DATA / "tiny"))
    (tmp_path / "notes.txt").write_text("mine\n")
    with pytest.raises(FileExistsError, match="not a plan folder"):
        result.write(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def _with_saved_value(book: Path, formula: bytes, value: bytes) -> None:
    """Store ``value`` as the saved result of ``formula``, as Excel does on saving
    (openpyxl writes formulas without one)."""
    import zipfile

    parts = {}
    with zipfile.ZipFile(book) as z:
        for n in z.namelist():
            parts[n] = z.read(n)
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(
                n,
                data.replace(
                    b"<f>" + formula + b"</f><v />", b"<f>" + formula + b"</f><v>" + value + b"</v>"
                ),
            )


@pytest.mark.parametrize(("column", "name"), [(4, "shortage_cost"), (3, "holding_cost")])
def test_a_formula_without_a_saved_value_is_located(tmp_path: Path, column: int, name: str) -> None:
    """A workbook written by a program holds formulas without their values: the cell read
    as blank, an error without its cause where a value is required, and the default
    (0) where not. Now located, with the fix; a saved value is read as the number."""
    book = _workbook(DATA / "tiny", random.Random(0))
    book["products"].cell(row=2, column=column).value = "=2+3"
    path = tmp_path / "tiny.xlsx"
    book.save(path)
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    hits = [
        p for p in info.value.problems if "holds the formula =2+3 but no saved value" in p.message
    ]
    assert [(p.file, p.row, p.column) for p in hits] == [("tiny.xlsx, sheet products", 2, name)]
    _with_saved_value(path, b"2+3", b"5")
    ds = load_dataset(path)
    assert ds.products.loc[0, name] == 5.0
