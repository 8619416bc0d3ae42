"""A small, fast writer of .xlsx workbooks: DataFrames as sheets, nothing else.

A plan on 1,000 products x 26 weeks is about a million cells. XlsxWriter and openpyxl
write a cell at a time through several Python calls each (6.6 s for such a plan, more
than the solve); this module writes each sheet's XML a column at a time, with shared
strings escaped once per distinct text, in about a sixth of that (BENCHMARKS.md).

It writes what :mod:`optimizer.reports.excel` asks for and no more: a sheet per frame
with a styled, frozen header row and a filter over it, column widths, and one of a few
cell styles per column (a number format, or wrapped text). The package follows ECMA-376
(Office Open XML) part 1, SpreadsheetML, with the parts and element order that Excel,
LibreOffice and openpyxl read: ``[Content_Types].xml``, the package and workbook
relationships, ``docProps``, ``xl/workbook.xml``, ``xl/styles.xml``,
``xl/sharedStrings.xml`` and ``xl/worksheets/sheetN.xml``.

Cells: finite numbers are numbers (``repr``, which reads back exactly), booleans are
booleans, text is shared text, and missing values (``None``, NaN, ``pd.NA``, an
infinity, which Excel cannot hold) are blank. Text Excel cannot hold is mended as Excel
does: control characters as ``_xHHHH_`` escapes, and text over 32,767 characters cut.
"""

from __future__ import annotations

import logging
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

MAX_TEXT = 32_767
"""The longest text a cell holds (Excel's limit)."""

MAX_ROWS = 1_048_576
"""Rows in a sheet, header included (Excel's limit)."""


class Style:
    """Indices into ``cellXfs`` of :data:`_STYLES`: one per kind of cell written."""

    PLAIN = 0
    HEADER = 1
    NUMBER = 2  # #,##0.00
    PERCENT = 3  # 0.0%
    WRAPPED = 4  # wrapped text, top aligned


@dataclass(frozen=True)
class Column:
    """How a sheet shows one column: its width in characters and its cell style."""

    width: float
    style: int = Style.PLAIN


def write_xlsx(
    path: Path,
    sheets: Mapping[str, pd.DataFrame],
    columns: Mapping[str, Sequence[Column]],
    *,
    header_fill: str = "DDE5F0",
) -> None:
    """Write ``sheets`` to the workbook ``path``, in order, each with ``columns[name]``.

    Parameters
    ----------
    path
        The file to write (overwritten).
    sheets
        Sheet name (at most 31 characters, unique) to its table; the header row is the
        column names. A table longer than a sheet holds is cut there, with a warning.
    columns
        For each sheet, a :class:`Column` per column of its table.
    header_fill
        The header row's background, as RGB hex.
    """
    strings = _SharedStrings()
    names = list(sheets)
    for name in names:
        if not 0 < len(name) <= 31 or any(c in name for c in "[]:*?/\\"):
            raise ValueError(f"not a sheet name Excel accepts: {name!r}")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for i, name in enumerate(names, start=1):
            frame = sheets[name]
            if len(frame) + 1 > MAX_ROWS:
                logger.warning(
                    "%s, sheet %s: its first %s of %s rows (Excel's limit)",
                    path.name,
                    name,
                    f"{MAX_ROWS - 1:,}",
                    f"{len(frame):,}",
                )
                frame = frame.iloc[: MAX_ROWS - 1]
            xml = _sheet_xml(frame, columns[name], strings, selected=i == 1)
            book.writestr(f"xl/worksheets/sheet{i}.xml", xml)
        book.writestr("[Content_Types].xml", _content_types(len(names)))
        book.writestr("_rels/.rels", _PACKAGE_RELS)
        book.writestr("docProps/app.xml", _APP)
        book.writestr("docProps/core.xml", _CORE)
        book.writestr("xl/workbook.xml", _workbook(names, sheets))
        book.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(names)))
        book.writestr("xl/styles.xml", _STYLES.replace("FILL", header_fill.lstrip("#").upper()))
        book.writestr("xl/sharedStrings.xml", strings.xml())


def column_letter(j: int) -> str:
    """``A`` for the first column (``j = 0``), ``Z``, ``AA``, ..."""
    letters = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        letters = chr(65 + r) + letters
    return letters


class _SharedStrings:
    """The workbook's table of distinct texts, escaped once each."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0

    def add(self, text: str) -> int:
        self.count += 1
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found

    def xml(self) -> str:
        items = "".join(f"<si>{_text(s)}</si>" for s in self.index)
        return (
            f'{_XML}<sst xmlns="{_MAIN}" count="{self.count}" uniqueCount="{len(self.index)}">'
            f"{items}</sst>"
        )


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
"""What a ``<t>`` cannot hold as is: characters XML forbids, a carriage return (an XML
reader turns it into a line feed) and a literal escape."""


def _text(s: str) -> str:
    """A ``<t>`` element: escaped, control characters as ``_xHHHH_``, a literal
    ``_xHHHH_`` kept literal (``_x005F_`` escapes its underscore), edge spaces kept."""
    if len(s) > MAX_TEXT:
        s = s[:MAX_TEXT]
    s = _CONTROL.sub(lambda m: _mend(m.group()), s)
    space = ' xml:space="preserve"' if s[:1].isspace() or s[-1:].isspace() else ""
    return f"<t{space}>{escape(s)}</t>"


def _mend(found: str) -> str:
    if len(found) > 1:  # a literal _xHHHH_
        return "_x005F" + found
    return f"_x{ord(found):04X}_"


def _sheet_xml(
    frame: pd.DataFrame, columns: Sequence[Column], strings: _SharedStrings, *, selected: bool
) -> str:
    n, k = frame.shape
    if len(columns) != k:
        raise ValueError(f"{k} columns in the table, {len(columns)} given")
    letters = [column_letter(j) for j in range(k)]
    rows = [str(i) for i in range(2, n + 2)]
    cells = [
        _cells(frame.iloc[:, j], letters[j], rows, columns[j].style, strings) for j in range(k)
    ]
    header = "".join(
        f'<c r="{letters[j]}1" s="{Style.HEADER}" t="s"><v>{strings.add(str(c))}</v></c>'
        for j, c in enumerate(frame.columns)
    )
    body = []
    if k:  # a table without columns is an empty sheet, whatever its index
        body.append(f'<row r="1">{header}</row>')
        by_row = zip(*cells, strict=True)
        body += [f'<row r="{r}">{"".join(c)}</row>' for r, c in zip(rows, by_row, strict=True)]
    last = f"{letters[-1]}{n + 1}" if k else "A1"
    tab = ' tabSelected="1"' if selected else ""
    cols = "".join(
        f'<col min="{j}" max="{j}" width="{_stored_width(c.width):g}" customWidth="1"'
        + (f' style="{c.style}"' if c.style else "")
        + "/>"
        for j, c in enumerate(columns, start=1)
    )
    return (
        f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f'<dimension ref="A1:{last}"/>'
        f'<sheetViews><sheetView{tab} workbookViewId="0"><pane ySplit="1" topLeftCell="A2"'
        ' activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + f"<sheetData>{''.join(body)}</sheetData>"
        + (f'<autoFilter ref="A1:{last}"/>' if k else "")
        + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
        ' footer="0.3"/></worksheet>'
    )


def _stored_width(characters: float) -> float:
    """The width Excel stores for a column that shows ``characters`` digits of Calibri
    11: their pixels (7 each) and 5 pixels of padding, in 1/256 of a character."""
    return math.floor((characters * 7 + 5) / 7 * 256) / 256


def _cells(
    values: pd.Series, letter: str, rows: list[str], style: int, strings: _SharedStrings
) -> list[str]:
    """A ``<c>`` element per row (an empty string for a blank cell)."""
    s = f' s="{style}"' if style else ""
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else "O"
    if kind == "b":
        return [
            f'<c r="{letter}{r}"{s} t="b"><v>{int(v)}</v></c>'
            for r, v in zip(rows, values.tolist(), strict=True)
        ]
    if kind in "iu":
        return [
            f'<c r="{letter}{r}"{s}><v>{v}</v></c>'
            for r, v in zip(rows, values.tolist(), strict=True)
        ]
    if kind == "f":
        floats = values.to_numpy()
        finite = np.isfinite(floats)
        return [
            f'<c r="{letter}{r}"{s}><v>{v!r}</v></c>' if ok else ""
            for r, v, ok in zip(rows, floats.tolist(), finite.tolist(), strict=True)
        ]
    # text, or a mix (nullable dtypes: their missing values are pd.NA)
    return [_cell(letter, r, v, s, strings) for r, v in zip(rows, values.tolist(), strict=True)]


def _cell(letter: str, row: str, v: object, s: str, strings: _SharedStrings) -> str:
    """One cell of a column of mixed values (text, mostly)."""
    if isinstance(v, str):
        if not v:
            return ""  # blank, as Excel keeps an emptied cell
        return f'<c r="{letter}{row}"{s} t="s"><v>{strings.add(v)}</v></c>'
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, bool | np.bool_):
        return f'<c r="{letter}{row}"{s} t="b"><v>{int(v)}</v></c>'
    if isinstance(v, int | np.integer):
        return f'<c r="{letter}{row}"{s}><v>{int(v)}</v></c>'
    if isinstance(v, float | np.floating):
        f = float(v)
        return f'<c r="{letter}{row}"{s}><v>{f!r}</v></c>' if math.isfinite(f) else ""
    if isinstance(v, pd.Timestamp):
        v = v.isoformat()
    return f'<c r="{letter}{row}"{s} t="s"><v>{strings.add(str(v))}</v></c>'


def _workbook(names: list[str], sheets: Mapping[str, pd.DataFrame]) -> str:
    def last_row(frame: pd.DataFrame) -> int:
        return min(len(frame) + 1, MAX_ROWS)

    listed = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        + escape(
            f"'{name.replace(chr(39), chr(39) * 2)}'!$A$1:"
            f"${column_letter(sheets[name].shape[1] - 1)}${last_row(sheets[name])}"
        )
        + "</definedName>"
        for i, name in enumerate(names)
        if sheets[name].shape[1]
    )
    return (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095"'
        ' windowHeight="9660"/></bookViews>'
        f"<sheets>{listed}</sheets>"
        + (f"<definedNames>{filters}</definedNames>" if filters else "")
        + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    )


def _workbook_rels(n: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    return (
        f'{_XML}<Relationships xmlns="{_PKG_REL}">{sheets}'
        f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId{n + 2}" Type="{_REL}/sharedStrings"'
        ' Target="sharedStrings.xml"/></Relationships>'
    )


def _content_types(n: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEETML}.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    return (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels"'
        ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_SHEETML}.sheet.main+xml"/>'
        f"{sheets}"
        f'<Override PartName="/xl/styles.xml" ContentType="{_SHEETML}.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml"'
        f' ContentType="{_SHEETML}.sharedStrings+xml"/>'
        '<Override PartName="/docProps/core.xml"'
        ' ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        "</Types>"
    )


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml"

_PACKAGE_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)

_APP = (
    f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Application>soe</Application></Properties>'
)

_CORE = (
    f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<dc:creator>soe</dc:creator></cp:coreProperties>"
)

_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="#,##0.00"/>'
    '<numFmt numFmtId="165" formatCode="0.0%"/></numFmts>'
    # fonts by name and colour, not by theme: the package has no theme part
    '<fonts count="2">'
    '<font><sz val="11"/><color rgb="FF000000"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><color rgb="FF000000"/><name val="Calibri"/><family val="2"/>'
    "</font></fonts>"
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFFILL"/>'
    '<bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1"'
    ' applyFill="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9"'
    ' defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)
