"""Workbooks for planners: a sheet per table, frozen header, widths, number formats.

What each column looks like is decided here; :mod:`optimizer.reports.xlsx` writes the
file (``soe plan`` writes a workbook every time, so its speed matters on large plans).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from optimizer.reports.xlsx import Column, Style, write_xlsx

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

    named = {name[:31]: frame for name, frame in frames.items()}  # Excel's longest name
    columns = {name: _layout(frame) for name, frame in named.items()}
    return write_beside(
        Path(path),
        lambda tmp: write_xlsx(tmp, named, columns, header_fill=HEADER_FILL),
    )


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


def _layout(frame: pd.DataFrame) -> list[Column]:
    """Each column's width and style: prose wide and wrapped, numbers formatted, the
    rest as wide as its first 200 values (at least 8 characters, at most 60)."""
    layout = []
    for col in frame.columns:
        values = frame[col]
        width = _width(str(col), values)
        if col in WRAPPED and width > 60:
            layout.append(Column(90, Style.WRAPPED))
            continue
        fmt = _format(str(col), values)
        style = {None: Style.PLAIN, "0.0%": Style.PERCENT}.get(fmt, Style.NUMBER)
        layout.append(Column(min(max(width + 2, 8), 60), style))
    return layout


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
