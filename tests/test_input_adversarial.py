"""Hostile input, read as a planner would expect or refused: located, all at once.

Each case is a broken copy of ``data/tiny`` (periods W1-W2, products A and B, line L1)
and the problems ``soe validate`` must list, as ``(file, row, column, words)``:
exactly these, no traceback, exit status 2.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from optimizer import DatasetError, load_dataset
from tests.conftest import DATA, run_cli

TINY = DATA / "tiny"


def _copy(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = Path(shutil.copytree(TINY, tmp_path / "ds"))
    for name, text in files.items():
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", newline="")
    return folder


def _problems(path: Path) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    return [(p.file, p.row, p.column, p.message) for p in info.value.problems]


def _matches(
    found: list[tuple[str, int | None, str | None, str]],
    expected: list[tuple[str, int | None, str | None, str]],
) -> bool:
    return len(found) == len(expected) and all(
        f[:3] == e[:3] and e[3] in f[3] for f, e in zip(found, expected, strict=True)
    )


LINES = "line,hours\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a lost row, or no rows: "unknown line 'L1'" on every routing followed
        (
            {"lines.csv": LINES + "L1,10,5\nL2,5\n"},
            [("lines.csv", 2, None, "3 values but the header has 2 columns")],
        ),
        ({"lines.csv": LINES}, [("lines.csv", None, None, "the table has no rows")]),
        # a date cell formatted as a number: Excel's day number, named as such
        (
            {"periods.csv": "period,start,end\nW1,46356,2026-12-07\nW2,2026-12-07,2026-12-14\n"},
            [("periods.csv", 2, "start", "spreadsheet's day number for 2026-11-30")],
        ),
        (
            {"orders.csv": "order,customer,product,period,quantity\nO1,,A,46000,5\n"},
            [("orders.csv", 2, "period", "spreadsheet's day number for 2025-12-09")],
        ),
        (
            {"products.csv": "name,shortage_cost\nA,5\nB,5\n"},
            [("products.csv", 1, "product", "required column is missing")],
        ),
        (
            {"lines.csv": LINES.encode() + b"L1,10\nL\xe9,5\n"},
            [("lines.csv", 3, None, "not UTF-8 text")],
        ),
        # an unclosed quote read the rest of the file into one id: "row 3, column
        # hours: a value is required" and the routings' "unknown line 'L1'"
        (
            {"lines.csv": LINES + '"L1,10\nL2,5\n'},
            [("lines.csv", 2, None, 'a quote (") that opens a value on this row is never')],
        ),
        # a quoted value over two lines is located on the line it starts on (it was 3)
        (
            {"lines.csv": 'line,plant,hours\nL1,"Plant\nNorth",x\n'},
            [("lines.csv", 2, "hours", "'x' is not a number")],
        ),
        # ids that differ in case only: told which was meant
        (
            {"forecast.csv": "product,period,quantity\na,W1,5\nB,W1,5\n"},
            [("forecast.csv", 2, "product", "unknown product 'a' (did you mean 'A'?")],
        ),
        (
            {"routings.csv": "product,line,rate\nA,l1,10\nB,L1,10\n"},
            [("routings.csv", 2, "line", "unknown line 'l1' (did you mean 'L1'? ids must")],
        ),
        # every problem at once, over tables and settings
        (
            {
                "lines.csv": LINES + "L1,ten\nL1,-1\n",
                "products.csv": "product,priority,shortage_cost\nA,0,\nB,1,1e300\n",
                "settings.toml": "[solve]\nsolver = 'gurobi'\n[solv]\nx = 1\n",
            },
            [
                ("products.csv", 2, "priority", "'0' is not a priority"),
                ("products.csv", 2, "shortage_cost", "a value is required"),
                ("products.csv", 3, "shortage_cost", "1e300 is too large to plan reliably"),
                ("lines.csv", 2, "hours", "'ten' is not a number"),
                ("lines.csv", 3, "hours", "must not be negative, got -1"),
                ("lines.csv", 3, "line", "duplicate line 'L1' (first on row 2)"),
                ("settings.toml", 2, "solve.solver", "input should be 'highs', 'cbc' or"),
                ("settings.toml", 3, "solv", "unknown settings key"),
            ],
        ),
    ],
    ids=[
        "lost row",
        "header only",
        "serial date",
        "serial period",
        "no id column",
        "not utf-8",
        "unclosed quote",
        "multi-line value",
        "product case",
        "line case",
        "all at once",
    ],
)
def test_broken_csv_is_located_once(
    tmp_path: Path,
    files: dict[str, str | bytes],
    expected: list[tuple[str, int | None, str | None, str]],
) -> None:
    folder = _copy(tmp_path, files)
    found = _problems(folder)
    assert _matches(found, expected), found
    code, text = run_cli(["plan", str(folder), "--out", str(tmp_path / "plan")])
    assert code == 2 and "Traceback" not in text and "internal error" not in text
    assert not (tmp_path / "plan").exists()


@pytest.mark.parametrize(
    "files",
    [
        {"lines.csv": "\ufeffline,hours\r\nL1,10\r\n"},  # Excel's CSV UTF-8, CRLF
        {"lines.csv": "line,hours\rL1,10\r"},  # old Mac line ends
        {"lines.csv": 'line,hours\n"L1","10"\n'},  # quoted number
        {"lines.csv": "line,hours\nL1,1e1\n"},
        {"lines.csv": "line,hours\nL1,+10.\n"},
        {"lines.csv": " Line , HOURS ,note,\nL1, 10 ,any,\n\n,\n"},  # spaces, extras, blanks
        # zero-width characters at a cell's edge (a pasted BOM, a zero-width space)
        {"lines.csv": "line,hours\n\ufeffL1\u200b,10\n"},
        {"lines.csv": "sep=,\r\nline,hours\r\nL1,10\r\n"},  # Excel's separator line
        {"lines.csv": 'SEP=,\nline,hours\n"L1",10\n'},
    ],
    ids=[
        "bom crlf",
        "cr",
        "quoted",
        "exponent",
        "plus point",
        "spaces",
        "zero width",
        "sep line",
        "sep line quoted",
    ],
)
def test_csv_a_planner_would_call_fine_is_read_as_is(tmp_path: Path, files: dict[str, str]) -> None:
    ds = load_dataset(_copy(tmp_path, files))
    assert ds.lines["line"].tolist() == ["L1"]
    assert ds.lines["hours"].tolist() == [10.0]


@pytest.mark.parametrize("kind", ["folder", "dangling link", "pipe"])
def test_a_table_that_is_not_a_file_is_a_problem(tmp_path: Path, kind: str) -> None:
    """``forecast.csv`` as a folder, a link to nothing or a pipe was read as no forecast
    (the dataset then had "no demand"); a pipe would have blocked the read."""
    folder = _copy(tmp_path, {})
    forecast = folder / "forecast.csv"
    forecast.unlink()
    if kind == "folder":
        forecast.mkdir()
    elif kind == "dangling link":
        forecast.symlink_to(tmp_path / "nowhere.csv")
    else:
        os.mkfifo(forecast)
    what = {"folder": "a folder", "dangling link": "a link to nothing", "pipe": "not a regular"}
    found = _problems(folder)
    assert _matches(found, [("forecast.csv", None, None, f"is {what[kind]}")]), found
    assert found[0][3].endswith("; it must be a file")


def test_an_unreadable_file_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file without read permission (or on a failing share) was "internal error:
    PermissionError", exit 1; now a located problem with the others, exit 2."""
    folder = _copy(tmp_path, {"settings.toml": "[solve]\nthreads = 1\n"})
    real = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self.name in {"lines.csv", "settings.toml"}:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    assert _problems(folder) == [
        ("lines.csv", None, None, "cannot be read: Permission denied"),
        ("settings.toml", None, None, "cannot be read: Permission denied"),
    ]
    code, text = run_cli(["validate", str(folder)])
    assert code == 2 and "internal error" not in text


def _book(tmp_path: Path) -> openpyxl.Workbook:
    import csv

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for file in sorted(TINY.glob("*.csv")):
        ws = wb.create_sheet(file.stem)
        for row in csv.reader(file.open()):
            ws.append(row)
    return wb


def test_two_sheets_named_alike_are_a_problem(tmp_path: Path) -> None:
    """Sheets ``lines`` and ``Lines `` both matched ``lines``; the last one was read,
    without a word."""
    wb = _book(tmp_path)
    other = wb.create_sheet("Lines ")
    other.append(["line", "hours"])
    other.append(["L1", "5"])
    wb.save(tmp_path / "book.xlsx")
    found = _problems(tmp_path / "book.xlsx")
    assert _matches(found, [("book.xlsx, sheet Lines ", None, None, "a second sheet named")])


@pytest.mark.parametrize("header", [False, True])
def test_an_empty_sheet_is_one_problem(tmp_path: Path, header: bool) -> None:
    """An empty ``lines`` sheet was also "required table is missing"; a header-only one
    brought "unknown line 'L1'" on every routing."""
    wb = _book(tmp_path)
    wb.remove(wb["lines"])
    sheet = wb.create_sheet("lines")
    if header:
        sheet.append(["line", "hours"])
    wb.save(tmp_path / "book.xlsx")
    words = "the table has no rows" if header else "the sheet is empty"
    found = _problems(tmp_path / "book.xlsx")
    assert _matches(found, [("book.xlsx, sheet lines", None, None, words)]), found


def test_a_formula_without_a_saved_value_is_one_problem(tmp_path: Path) -> None:
    """The cell was reported twice: as a formula without a saved value, and as "a value
    is required" (it reads as blank)."""
    wb = _book(tmp_path)
    wb["lines"]["B2"] = "=5*2"
    wb.save(tmp_path / "book.xlsx")
    found = _problems(tmp_path / "book.xlsx")
    assert _matches(found, [("book.xlsx, sheet lines", 2, "hours", "holds the formula =5*2")])
