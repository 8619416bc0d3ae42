"""Workbooks for planners: a sheet per table, frozen header, widths, number formats.

Written with XlsxWriter when it is installed (about three times faster than
openpyxl on large plans, which matters since ``soe plan`` writes a workbook every
time), else with openpyxl; both give the same sheets and formats.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from optimizer.results import Summary


HEADER_FILL = "#DDE5F0"


def write_workbook(
    path: Path, sheets: Mapping[str, pd.DataFrame], summary: Summary | None = None
) -> Path:
    """Write ``sheets`` (and a ``summary`` sheet first) to one formatted workbook.

    Every sheet has a bold, frozen header row with a filter, columns sized to their
    content (prose columns wide and wrapped) and number formats (``#,##0.00``,
    rates as ``0.0%``). The file is written beside the target and renamed into place,
    so a failure never leaves half a workbook.
    """
    frames: dict[str, pd.DataFrame] = {}
    if summary is not None:
        frames["summary"] = _summary_frame(summary)
    frames.update(sheets)

    def write(tmp: Path) -> None:
        try:
            import xlsxwriter  # noqa: F401
        except ImportError:
            _write_openpyxl(tmp, frames)
        else:
            _write_xlsxwriter(tmp, frames)

    return write_beside(Path(path), write)


def write_beside(path: Path, write: Callable[[Path], object]) -> Path:
    """``path`` written by ``write`` into a temporary file beside it, then renamed into
    place: a failure never leaves half a file, and keeps the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _width(column: str, values: pd.Series) -> int:
    return max([len(str(column))] + [len(_shown(v)) for v in values.head(200)])


def _cells(values: pd.Series) -> list[object]:
    """Python values for a column, missing numbers as ``None`` (a blank cell)."""
    if pd.api.types.is_float_dtype(values):
        return [None if v != v else v for v in values.tolist()]  # NaN is not equal to itself
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_integer_dtype(values):
        return list(values.tolist())
    return ["" if v is None or (isinstance(v, float) and v != v) else v for v in values.tolist()]


def _write_xlsxwriter(path: Path, frames: Mapping[str, pd.DataFrame]) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    try:
        header = book.add_format({"bold": True, "bg_color": HEADER_FILL})
        formats: dict[str, object] = {}
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        for name, frame in frames.items():
            ws = book.add_worksheet(name[:31])
            ws.write_row(0, 0, [str(c) for c in frame.columns], header)
            for j, col in enumerate(frame.columns):
                values = frame[col]
                ws.write_column(1, j, _cells(values))
                width = _width(str(col), values)
                fmt = _format(str(col), values)
                if col in WRAPPED and width > 60:
                    ws.set_column(j, j, 90, wrap)
                elif fmt:
                    if fmt not in formats:
                        formats[fmt] = book.add_format({"num_format": fmt})
                    ws.set_column(j, j, min(max(width + 2, 8), 60), formats[fmt])
                else:
                    ws.set_column(j, j, min(max(width + 2, 8), 60))
            ws.freeze_panes(1, 0)
            if len(frame.columns):
                ws.autofilter(0, 0, len(frame), len(frame.columns) - 1)
    finally:
        book.close()


def _write_openpyxl(path: Path, frames: Mapping[str, pd.DataFrame]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_fill = PatternFill("solid", fgColor=HEADER_FILL.lstrip("#"))
    wrap = Alignment(wrap_text=True, vertical="top")
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            sheet = name[:31]
            frame.to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.fill = header_fill
            for i, col in enumerate(frame.columns, start=1):
                values = frame[col]
                width = _width(str(col), values)
                letter = get_column_letter(i)
                cells = [
                    c
                    for (c,) in ws.iter_rows(
                        min_row=2, min_col=i, max_col=i, max_row=len(frame) + 1
                    )
                ]
                if col in WRAPPED and width > 60:
                    ws.column_dimensions[letter].width = 90
                    for cell in cells:
                        cell.alignment = wrap
                    continue
                ws.column_dimensions[letter].width = min(max(width + 2, 8), 60)
                fmt = _format(str(col), values)
                if fmt:
                    for cell in cells:
                        cell.number_format = fmt
            if len(frame.columns):
                ws.auto_filter.ref = ws.dimensions


WRAPPED = frozenset({"explanation", "description", "text"})
"""Columns of prose: wide and wrapped instead of cut at 60 characters."""


def _shown(v: object) -> str:
    return f"{v:,.2f}" if isinstance(v, float) else str(v)


def _format(column: str, values: pd.Series) -> str | None:
    if not pd.api.types.is_float_dtype(values):
        return None
    if column in {"utilization", "share"} or column.endswith("_rate"):
        return "0.0%"
    return "#,##0.00"


def _summary_frame(summary: Summary) -> pd.DataFrame:
    rows: list[tuple[str, object]] = []
    for key, value in summary.model_dump().items():
        if isinstance(value, dict):
            rows += [(f"{key}.{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            rows.append((key, json.dumps(value, default=str) if value else ""))
        else:
            rows.append((key, value))
    return pd.DataFrame(rows, columns=["key", "value"]).astype({"value": object})
