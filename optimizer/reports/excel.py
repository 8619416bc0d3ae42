"""Workbooks for planners: a sheet per table, frozen header, widths, number formats."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from optimizer.results import Summary


def write_workbook(
    path: Path, sheets: Mapping[str, pd.DataFrame], summary: Summary | None = None
) -> Path:
    """Write ``sheets`` (and a ``summary`` sheet first) to one formatted workbook.

    The file is written beside the target and renamed into place, so a failure
    never leaves half a workbook.
    """
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            frames: dict[str, pd.DataFrame] = {}
            if summary is not None:
                frames["summary"] = _summary_frame(summary)
            frames.update(sheets)
            for name, frame in frames.items():
                sheet = name[:31]
                frame.to_excel(writer, sheet_name=sheet, index=False)
                ws = writer.sheets[sheet]
                ws.freeze_panes = "A2"
                header_fill = PatternFill("solid", fgColor="DDE5F0")
                for cell in ws[1]:
                    cell.font = Font(bold=True)
                    cell.fill = header_fill
                for i, col in enumerate(frame.columns, start=1):
                    values = frame[col]
                    width = max([len(str(col))] + [len(_shown(v)) for v in values.head(200)])
                    letter = get_column_letter(i)
                    if col in WRAPPED and width > 60:
                        ws.column_dimensions[letter].width = 90
                        wrap = Alignment(wrap_text=True, vertical="top")
                        for (cell,) in ws.iter_rows(
                            min_row=2, min_col=i, max_col=i, max_row=len(frame) + 1
                        ):
                            cell.alignment = wrap
                    else:
                        ws.column_dimensions[letter].width = min(max(width + 2, 8), 60)
                    fmt = _format(col, values)
                    if fmt:
                        for (cell,) in ws.iter_rows(
                            min_row=2, min_col=i, max_col=i, max_row=len(frame) + 1
                        ):
                            cell.number_format = fmt
                if len(frame.columns):
                    ws.auto_filter.ref = ws.dimensions
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


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
