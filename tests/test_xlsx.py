"""The .xlsx writer (optimizer.reports.xlsx), read back by openpyxl: what each cell
holds, the styles, the frozen header and filter, and every part well-formed XML."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from optimizer.reports.xlsx import MAX_TEXT, Column, Style, column_letter, write_xlsx


def _write(path: Path, frames: dict[str, pd.DataFrame], style: int = Style.PLAIN) -> Path:
    columns = {name: [Column(10, style)] * f.shape[1] for name, f in frames.items()}
    write_xlsx(path, frames, columns)
    return path


def _values(path: Path, sheet: str) -> list[list[object]]:
    wb = openpyxl.load_workbook(path)
    try:
        return [[c.value for c in row] for row in wb[sheet].iter_rows()]
    finally:
        wb.close()


def test_cells_hold_what_the_frame_holds(tmp_path: Path) -> None:
    """Numbers exact (repr: 0.1 + 0.2 is not 0.3), ids text, booleans booleans; NaN,
    infinity, None, pd.NA and empty text blank."""
    frame = pd.DataFrame(
        {
            "id": ["0045", "A&B <x>", "", None],
            "qty": [0.1 + 0.2, math.nan, math.inf, -1e-300],
            "n": np.array([1, -2, 3, 2**40], dtype=np.int64),
            "ok": [True, False, True, False],
            "mixed": pd.Series([1.5, "x", pd.NA, 7], dtype=object),
        }
    )
    path = _write(tmp_path / "a.xlsx", {"t": frame})
    rows = _values(path, "t")
    assert rows[0] == ["id", "qty", "n", "ok", "mixed"]
    assert rows[1] == ["0045", 0.30000000000000004, 1, True, 1.5]
    assert rows[2] == ["A&B <x>", None, -2, False, "x"]
    assert rows[3] == [None, None, 3, True, None]
    assert rows[4] == [None, -1e-300, 2**40, False, 7]


def test_text_excel_cannot_hold_is_mended(tmp_path: Path) -> None:
    """Control characters (a carriage return too, which XML would turn into a line
    feed) and a literal ``_xHHHH_`` come back as written; edge spaces are kept; text
    over Excel's limit is cut."""
    texts = ["a\x01b\x1fc\r\n", "_x0041_ stays", "  padded  ", "tab\tand\nline", "x" * 40_000]
    path = _write(tmp_path / "t.xlsx", {"t": pd.DataFrame({"text": texts})})
    got = [row[0] for row in _values(path, "t")[1:]]
    # openpyxl gives control characters as stored; Excel shows them undone (unescape)
    assert got[0] == "a_x0001_b_x001F_c_x000D_\n"
    assert unescape(got[0]) == texts[0]
    assert got[1:4] == texts[1:4]
    assert got[4] == "x" * MAX_TEXT


@settings(max_examples=40, deadline=None)
@given(
    texts=st.lists(
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30),
        min_size=1,
        max_size=8,
    ),
    numbers=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=8),
)
def test_any_text_and_number_round_trips(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str], numbers: list[float]
) -> None:
    n = min(len(texts), len(numbers))
    frame = pd.DataFrame({"text": texts[:n], "number": numbers[:n]})
    path = _write(tmp_path_factory.mktemp("p") / "p.xlsx", {"s": frame})
    rows = _values(path, "s")[1:]
    want = texts[:n]
    assert [r[0] for r in rows] == want
    assert [r[1] for r in rows] == [float(x) for x in numbers[:n]]


def test_layout_header_freeze_filter_formats(tmp_path: Path) -> None:
    frame = pd.DataFrame({"line": ["L1", "L2"], "hours": [1.5, 2.0], "rate": [0.5, 1.0]})
    notes = pd.DataFrame({"text": ["a long explanation " * 5]})
    path = tmp_path / "f.xlsx"
    write_xlsx(
        path,
        {"lines": frame, "notes": notes},
        {
            "lines": [Column(8), Column(12, Style.NUMBER), Column(9, Style.PERCENT)],
            "notes": [Column(90, Style.WRAPPED)],
        },
    )
    wb = openpyxl.load_workbook(path)
    try:
        assert wb.sheetnames == ["lines", "notes"]
        ws = wb["lines"]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == "A1:C3"
        assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb == "FFDDE5F0"
        assert not ws["A2"].font.b
        assert ws["B2"].number_format == "#,##0.00"
        assert ws["C3"].number_format == "0.0%"
        assert ws["A2"].number_format == "General"
        assert ws.column_dimensions["B"].width == pytest.approx(12.71, abs=0.01)
        note = wb["notes"]["A2"]
        assert note.alignment.wrap_text and note.alignment.vertical == "top"
        assert wb["notes"].column_dimensions["A"].width > 90
    finally:
        wb.close()


def test_every_part_is_well_formed_and_declared(tmp_path: Path) -> None:
    frames = {"a": pd.DataFrame({"x": [1.0]}), "b b": pd.DataFrame({"y": ["'q'"]})}
    path = _write(tmp_path / "w.xlsx", frames)
    with zipfile.ZipFile(path) as book:
        names = book.namelist()
        for name in names:
            ElementTree.fromstring(book.read(name))  # raises on malformed XML
        types = book.read("[Content_Types].xml").decode()
        workbook = book.read("xl/workbook.xml").decode()
    for part in names:
        if not part.endswith(".rels") and part != "[Content_Types].xml":
            assert f'PartName="/{part}"' in types, part
    assert "&apos;b b&apos;!$A$1:$A$2" in workbook or "'b b'!$A$1:$A$2" in workbook


def test_an_empty_table_is_a_sheet_with_its_header(tmp_path: Path) -> None:
    frames = {
        "none": pd.DataFrame({"a": pd.Series([], dtype=float)}),
        "no": pd.DataFrame(index=range(3)),
    }
    path = _write(tmp_path / "e.xlsx", frames)
    assert _values(path, "none") == [["a"]]
    assert _values(path, "no") == []


@pytest.mark.parametrize("name", ["", "x" * 32, "a/b", "q?"])
def test_a_sheet_name_excel_refuses_is_an_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="sheet name"):
        _write(tmp_path / "n.xlsx", {name: pd.DataFrame({"a": [1]})})


@pytest.mark.parametrize(
    ("j", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letters(j: int, letter: str) -> None:
    assert column_letter(j) == letter


def test_a_table_longer_than_a_sheet_is_cut_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Excel holds 1,048,576 rows a sheet: the rest is left out, and the log says so
    (the plan's CSVs hold every row)."""
    import optimizer.reports.xlsx as xlsx

    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)  # the header and 3 rows
    path = _write(tmp_path / "c.xlsx", {"long": pd.DataFrame({"n": [1, 2, 3, 4, 5]})})
    assert _values(path, "long") == [["n"], [1], [2], [3]]
    assert "sheet long: its first 3 of 5 rows" in caplog.text
    wb = openpyxl.load_workbook(path)
    try:
        assert wb["long"].auto_filter.ref == "A1:A4"
    finally:
        wb.close()
