"""Planning datasets: reading, validating and holding the input tables.

A dataset is a folder of CSV files or one ``.xlsx`` workbook (DATASET.md "Input").
:func:`load_dataset` reads it, checks every rule in one pass and returns a frozen
:class:`Dataset`, or raises :class:`~optimizer.exceptions.DatasetError` listing every
problem with its file, row and column.

The tables are held as pandas DataFrames with normalised columns (ids as ``str``,
quantities as ``float64``, periods resolved to period ids) because a large dataset
has hundreds of thousands of rows; their schema is declared once in
:mod:`optimizer.schema`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import re
import tomllib
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from optimizer.exceptions import DatasetError, DatasetWarning, Problem
from optimizer.schema import MAX_MAGNITUDE, REQUIRED, TABLES, Column, Table
from optimizer.settings import Settings

logger = logging.getLogger(__name__)

_MAX_ROWS_PER_PROBLEM = 10
"""Rows listed for one kind of problem in one column before the rest are counted."""
_MISSING_COLUMN = "required column is missing from the header"
_REQUIRED_VALUE = "a value is required"
_FORMULA = "holds the formula"


class Dataset(BaseModel):
    """A validated planning dataset.

    Every table of DATASET.md is a DataFrame attribute with the spec's columns in
    order (optional tables absent from the input are empty frames with those
    columns). Treat the frames as read-only; :meth:`replace` makes a changed,
    re-validated copy that shares the unchanged tables.

    ``orders`` has ``period`` resolved to the id of the period the order is due in
    (past-due orders: the first) and an extra bool column ``past_due``; ``receipts``
    has ``period`` resolved the same way, and ``past_due`` too. Rows outside the
    horizon are left out and reported in :attr:`warnings`.

    Datasets compare by identity (``==`` on DataFrames has no single answer; compare
    the tables with ``DataFrame.equals``) and are hashable, as
    :class:`~optimizer.results.Plan` s are: a copy from :meth:`replace` or ``pickle``
    is another dataset, however alike.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    periods: pd.DataFrame
    products: pd.DataFrame
    lines: pd.DataFrame
    line_calendar: pd.DataFrame
    routings: pd.DataFrame
    materials: pd.DataFrame
    bom: pd.DataFrame
    receipts: pd.DataFrame
    customers: pd.DataFrame
    forecast: pd.DataFrame
    orders: pd.DataFrame
    previous_plan: pd.DataFrame
    settings: Settings = Settings()
    name: str = "dataset"
    warnings: tuple[str, ...] = ()
    has_customers: bool = False
    """Whether customers.csv was given (an order's customer must then be in it)."""
    has_previous_plan: bool = False
    _from_frames: bool = PrivateAttr(default=False)
    """Whether the tables were given as DataFrames (:meth:`from_frames`): messages
    then name a table ``the customers table``, not ``customers.csv``."""
    _read_notes: tuple[tuple[str, str], ...] = PrivateAttr(default=())
    """The warnings about what was read, each with the table it is about (``""`` for the
    whole dataset: an unknown file): rows left out, files ignored. :attr:`warnings`
    holds them first, then the warnings that follow from the valid tables and settings
    (a product without routing), which :meth:`replace` makes again."""

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    @property
    def period_ids(self) -> list[str]:
        """Period ids in time order."""
        return list(self.periods["period"])

    @classmethod
    def from_frames(
        cls,
        tables: Mapping[str, pd.DataFrame] | None = None,
        settings: Settings | Mapping[str, Any] | None = None,
        name: str = "frames",
        **frames: pd.DataFrame,
    ) -> Dataset:
        """Validate DataFrames an integrator already holds into a :class:`Dataset`.

        Tables are passed by DATASET.md name (``periods=...``, ``products=...``);
        columns and rules are those of the CSV files, and problems are located as
        ``<table> (frame)``, row = position + 2 as if written to CSV with a header.

        Examples
        --------
        >>> import pandas as pd
        >>> ds = Dataset.from_frames(
        ...     periods=pd.DataFrame({"period": ["W1"], "start": ["2026-11-30"]}),
        ...     products=pd.DataFrame({"product": ["A"], "shortage_cost": [5]}),
        ...     lines=pd.DataFrame({"line": ["L1"], "hours": [10]}),
        ...     routings=pd.DataFrame({"product": ["A"], "line": ["L1"], "rate": [10]}),
        ...     forecast=pd.DataFrame({"product": ["A"], "period": ["W1"], "quantity": [60]}),
        ... )
        >>> ds.products["priority"].dtype  # a float: a blank priority is NaN
        dtype('float64')
        >>> float(ds.products.loc[0, "priority"])
        1.0

        A table given as ``None`` is left out, as if not given (a required one is then
        missing); anything else that is not a DataFrame is a :class:`DatasetError`.
        """
        _check_name(name)
        problems: list[Problem] = []
        raws = _frames_to_raws({**(tables or {}), **frames}, problems)
        return _build(raws, settings, "settings", name, problems, [], _FRAME, from_frames=True)

    def _dated(
        self, periods: pd.DataFrame, shared: dict[str, pd.DataFrame]
    ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
        """The shared ``orders`` and ``receipts`` whose period is not in the new
        ``periods``, with that period's start date in its place: they resolve against
        the new periods as dated rows do at load (before the first: past due, or
        received in it; after the last: left out), so a horizon rolled forward a week
        keeps the week's open orders as past due. Also the period id each start date
        stands for, so that what is left out is named as the planner wrote it."""
        if "period" not in periods.columns:
            return {}, {}
        keep = set(periods["period"].astype(str))
        start = dict(
            zip(
                self.periods["period"],
                pd.to_datetime(self.periods["start"]).dt.strftime("%Y-%m-%d"),
                strict=True,
            )
        )
        out = {}
        for t in ("orders", "receipts"):
            frame = shared.get(t)
            if frame is None or frame.empty:
                continue
            gone = ~frame["period"].astype(str).isin(keep)
            if gone.any():
                out[t] = frame.assign(
                    period=frame["period"].where(~gone, frame["period"].map(start))
                )
        return out, {date: period for period, date in start.items()}

    def replace(self, **changes: Any) -> Dataset:
        """A re-validated copy with some tables (or ``settings``, or ``name``) replaced.

        Use it for what-if scenarios. The tables given are validated as by
        :meth:`from_frames` (located as ``lines (frame)``), then checked against the
        others; the unchanged tables are shared, not copied or checked again (the
        same objects), except those a changed table bears on: new ``periods`` re-map
        ``orders``, ``receipts``, ``forecast`` and ``previous_plan`` to them (an order
        or receipt of a period dropped is placed by that period's start date, as a dated
        row is at load: a horizon rolled a week on keeps last week's open orders, past
        due, and its receipts, due now; forecast and previous-plan rows of the period
        are left out, with one warning per period), new
        ``routings`` filter ``previous_plan`` again. The copy holds periods as
        resolved at load: an order's ``period`` is a period id, and ``past_due`` keeps
        the flag of a row that is still due in the first period (a replaced
        ``orders`` or ``receipts`` frame carries it in its ``past_due`` column).

        A table given as ``None`` is dropped (an optional one: as if absent; a
        required one is then missing, an error); anything else that is not a
        DataFrame is a :class:`DatasetError`. A name that is no table (``line=`` for
        ``lines=``) is a :class:`DatasetError`, not ignored; ``settings`` may be a
        :class:`Settings` or a mapping, validated as by :meth:`from_frames`, and
        ``name`` must be a ``str`` (else ``TypeError``).

        The copy keeps the warnings about what was read of the tables it does not
        replace (a file ignored, rows left out); a replaced table's, and those that
        follow from the tables and settings, come from the re-validation.
        """
        name = changes.get("name", self.name)
        _check_name(name)
        if set(changes) <= {"settings", "name"}:
            if "settings" not in changes or changes["settings"] == self.settings:
                # the same settings: nothing to check again (``soe plan`` without
                # overrides: 15 ms on generated l, warnings included)
                return self.model_copy(update={"name": name})
            problems: list[Problem] = []
            settings = _validate_settings(changes["settings"], "settings", problems)
            if settings is None:
                raise DatasetError(problems)
            copy = self.model_copy(update={"settings": settings, "name": name})
            derived = _plan_notes(copy, copy._check_settings())
            for note in derived:
                if note not in self.warnings:  # new with these settings
                    warnings.warn(note, DatasetWarning, stacklevel=2)
            return copy._noted(self._read_notes, derived)
        tables = {t: f for t, f in changes.items() if t not in ("settings", "name")}
        problems = []
        present = {
            t
            for t in TABLES
            if (t != "customers" or self.has_customers)
            and (t != "previous_plan" or self.has_previous_plan)
        }
        shared = {t: getattr(self, t) for t in present - set(tables)}
        dropped: dict[str, str] = {}
        if isinstance(tables.get("periods"), pd.DataFrame):
            dated, dropped = self._dated(tables["periods"], shared)
            shared.update(dated)
        raws = _frames_to_raws(tables, problems)
        copy = _build(
            raws,
            changes.get("settings", self.settings),
            "settings",
            name,
            problems,
            [],
            _FRAME,
            from_frames=self._from_frames,
            shared=shared,
            past_due=True,
            warn=False,
            dropped=dropped,
        )
        kept = tuple((t, note) for t, note in self._read_notes if t not in tables)
        for note in copy.warnings:  # the new ones, and those that follow, said again
            warnings.warn(note, DatasetWarning, stacklevel=2)
        return copy._noted((*kept, *copy._read_notes), copy.warnings[len(copy._read_notes) :])

    def _noted(self, read: tuple[tuple[str, str], ...], derived: Sequence[str]) -> Dataset:
        """A copy whose warnings are ``read`` (table, warning) and then ``derived``."""
        copy = self.model_copy(update={"warnings": (*(note for _, note in read), *derived)})
        copy._read_notes = read
        return copy

    def _check_settings(self) -> pd.DataFrame:
        """The rules that tie new settings to the tables (as :func:`load_dataset` checks
        them); raises :class:`DatasetError`, else returns the demand entries."""
        from optimizer.demand import entries

        stab = self.settings.stability
        problems = []
        if (stab.frozen_periods > 0 or stab.change_cost > 0) and not self.has_previous_plan:
            problems.append(
                Problem(
                    "settings",
                    None,
                    "stability",
                    "frozen_periods > 0 or change_cost > 0 needs"
                    f" {_label('previous_plan', self._from_frames)}",
                )
            )
        ent = entries(self)
        problems += _entry_problems(self, ent, "settings", None)
        if problems:
            raise DatasetError(problems)
        return ent


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise TypeError(f"a dataset's name must be a str, got {name!r}")


_FRAME = "{table} (frame)"
"""How a problem names a table given as a DataFrame."""


def _label(table: str, from_frames: bool) -> str:
    """A table as a message names it: its file, or for DataFrames ``the customers
    table``."""
    return f"the {table} table" if from_frames else TABLES[table].file


def _frames_to_raws(frames: Mapping[str, object], problems: list[Problem]) -> dict[str, _RawTable]:
    """The tables given as DataFrames, as read (a ``None`` table is left out; an
    unknown name, or any other object that is not a DataFrame, is a problem)."""
    problems.extend(
        Problem(
            _FRAME.format(table=t), None, None, f"unknown table; expected one of {sorted(TABLES)}"
        )
        for t in sorted(set(frames) - set(TABLES))
    )
    raws = {}
    for t, f in frames.items():
        if t not in TABLES or f is None:
            continue
        source = _FRAME.format(table=t)
        if not isinstance(f, pd.DataFrame):
            problems.append(
                Problem(source, None, None, f"expected a pandas DataFrame, got {type(f).__name__}")
            )
            continue
        raw = _frame_to_raw(f, source, problems)
        if raw is not None:
            raws[t] = _RawTable(t, source, raw)
    return raws


# --------------------------------------------------------------------------- reading


class _RawTable:
    """A table as read: all cells as stripped strings, with spreadsheet row numbers.

    A ``validated`` one holds the typed table of a dataset instead (shared by
    :meth:`Dataset.replace`), checked only against the tables that changed.
    """

    def __init__(
        self,
        table: str,
        source: str,
        frame: pd.DataFrame,
        rows: Any = None,
        header: int = 1,
        *,
        validated: bool = False,
    ) -> None:
        self.table = table
        self.source = source
        self.frame = frame
        self.header = header  # the header's row
        self.validated = validated
        self.rows: np.ndarray = (
            np.asarray(rows, dtype=np.int64)
            if rows is not None
            else np.arange(2, len(frame) + 2, dtype=np.int64)
        )


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate a planning dataset.

    Parameters
    ----------
    path
        A folder of CSV files (with optional ``settings.toml``) or an ``.xlsx``
        workbook with one sheet per table (and an optional ``settings`` sheet).

    Returns
    -------
    Dataset
        The validated dataset; warnings are in ``dataset.warnings`` and are also
        issued as :class:`~optimizer.exceptions.DatasetWarning`.

    Raises
    ------
    DatasetError
        Listing every problem found, each with file, row and column.
    """
    path = Path(path)
    problems: list[Problem] = []
    notes: list[str] = []
    missing = "{file}"
    if path.is_dir():
        raws, settings_raw, settings_source = _read_folder(path, problems, notes)
    elif path.is_file() and path.suffix.lower() in {".xlsx", ".xlsm"}:
        raws, settings_raw, settings_source = _read_workbook(path, problems, notes)
        missing = f"{path.name}, sheet {{table}}"
    elif path.exists():
        raise DatasetError(
            [
                Problem(
                    str(path), None, None, "not a dataset: give a folder of CSV files or an .xlsx"
                )
            ]
        )
    else:
        raise DatasetError([Problem(str(path), None, None, "no such file or folder")])
    return _build(
        raws, settings_raw, settings_source, path.resolve().name, problems, notes, missing
    )


def _read_folder(
    folder: Path, problems: list[Problem], notes: list[str]
) -> tuple[dict[str, _RawTable], dict[str, Any] | None, str]:
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise DatasetError([Problem(str(folder), None, None, _cannot_read(exc))]) from None
    raws: dict[str, _RawTable] = {}
    for name, table in TABLES.items():
        file = folder / table.file
        if _readable_file(file, problems):
            raw = _read_csv(file, table, problems)
            if raw is not None:
                raws[name] = raw
    known = {t.file for t in TABLES.values()} | {"settings.toml"}
    for f in entries:
        if f.name not in known and not f.name.startswith(".") and f.name.lower() != "readme.md":
            notes.append(f"{f.name}: unknown file, ignored")
    settings_raw: dict[str, Any] | None = None
    toml = folder / "settings.toml"
    if _readable_file(toml, problems):
        settings_raw = _read_toml(toml, problems)
    return raws, settings_raw, "settings.toml"


def _readable_file(file: Path, problems: list[Problem]) -> bool:
    """Whether ``file`` is there to be read as a table (or the settings). A name that is
    there but no regular file (a folder, a link to nothing, a pipe) is a problem: it
    read as a table left out, and a pipe would block the read."""
    if file.is_file():
        return True
    if file.is_symlink() or file.exists():
        what = (
            "a folder"
            if file.is_dir()
            else "a link to nothing"
            if not file.exists()
            else "not a regular file"
        )
        problems.append(Problem(file.name, None, None, f"is {what}; it must be a file"))
    return False


def _cannot_read(exc: OSError) -> str:
    return f"cannot be read: {exc.strerror or exc}"


_SEP_LINE = re.compile(r"sep=.?,?", re.IGNORECASE)
"""The first line Excel writes and reads to name a CSV file's separator (``sep=,``;
read as cells joined by ``,``)."""


def _read_csv(file: Path, table: Table, problems: list[Problem]) -> _RawTable | None:
    try:
        data = file.read_bytes()
    except OSError as exc:  # no permission, a disk or network error
        problems.append(Problem(file.name, None, None, _cannot_read(exc)))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                file.name,
                line,
                None,
                f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as 'CSV UTF-8'",
            )
        )
        return None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        problems.append(Problem(file.name, line, None, "the file holds a NUL byte: not a CSV file"))
        return None
    if not text.strip():
        problems.append(
            Problem(
                file.name,
                None,
                None,
                "the file is empty; it needs a header row: "
                + ", ".join(c.name for c in table.columns),
            )
        )
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _first_record(reader)
        if header is not None and _SEP_LINE.fullmatch(",".join(header).strip()):
            header = _first_record(reader)  # Excel's "sep=," line: the header follows
        if header is None:
            problems.append(Problem(file.name, None, None, "the file has no header row"))
            return None
        top = reader.line_num  # the header's line
        width = len(header)
        separator = _foreign_separator(header)
        if separator is not None:
            problems.append(Problem(file.name, top, None, _separator_message(separator)))
            return None
        if '"' not in text:  # one record a line, so a record's line is its position
            clean = not _edge_blanks(text)
            columns = _parsed_in_c(text, top, width) if len(text) >= C_PARSER_MIN_CHARS else None
            if columns is None:
                records = list(reader)
                if all(map(width.__eq__, map(len, records))):
                    columns = list(zip(*records, strict=True)) if records else None
            if columns is not None and (
                all(columns[0]) if clean else all(c.strip() for c in columns[0])
            ):
                frame = _raw_frame(file.name, header, columns, problems, top, strip=not clean)
                if frame is None:
                    return None
                n = len(columns[0])
                lines = None if top == 1 else range(top + 1, top + 1 + n)
                return _RawTable(table.name, file.name, frame, lines, top)
            reader = csv.reader(io.StringIO(text, newline=""))  # again, line by line
            while reader.line_num < top:
                next(reader)
        rows: list[list[str]] = []
        numbers: list[int] = []  # the line each record starts on (a quoted value may span)
        last = reader.line_num
        for record in reader:
            line, last = last + 1, reader.line_num
            if len(record) == width and record[0].strip():  # the common case
                rows.append(record)
                numbers.append(line)
                continue
            if not any(cell.strip() for cell in record):
                continue  # blank line (Excel leaves them at the end)
            if len(record) > width and any(c.strip() for c in record[width:]):
                problems.append(
                    Problem(
                        file.name,
                        line,
                        None,
                        f"{len(record)} values but the header has {width} columns"
                        " (a comma inside a value must be quoted)",
                    )
                )
                continue
            rows.append(record[:width] + [""] * (width - len(record)))
            numbers.append(line)
        if text.count('"') % 2 and (opened := _unclosed_quote(text)) is not None:
            # the rest of the file was read into one value, without a word
            problems.append(
                Problem(
                    file.name,
                    opened,
                    None,
                    'a quote (") that opens a value on this row is never closed, so the'
                    " rest of the file reads as one value; close it or remove it",
                )
            )
            return None
    except csv.Error as exc:
        problems.append(Problem(file.name, reader.line_num, None, f"not a valid CSV file: {exc}"))
        return None
    frame = _raw_frame(file.name, header, _columns(rows, width), problems, top)
    if frame is None:
        return None
    return _RawTable(table.name, file.name, frame, numbers, top)


def _columns(rows: list[list[str]], width: int) -> list[Sequence[str]]:
    """``rows`` (records of ``width`` cells) as ``width`` columns."""
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]


C_PARSER_MIN_CHARS = 32_768
"""Files from this size on are read by pandas' C parser (:func:`_parsed_in_c`); smaller
ones by the csv module, which has no per-call cost to speak of: 200 rows 0.14 ms against
0.98 ms, 1,000 rows 0.86 ms against 1.26 ms, 3,000 rows 3.1 ms against 1.7 ms."""


def _parsed_in_c(text: str, top: int, width: int) -> list[Sequence[str]] | None:
    """The records of ``text`` after its line ``top``, as ``width`` columns of cells,
    read by pandas' C parser (5x faster than the csv module with the split into
    columns: 7 ms against 37 ms for generated l's forecast.csv); ``None`` where
    the text is not plainly one record of ``width`` cells a line, so the csv module
    reads it (and the line-by-line reading finds and locates what is odd).

    ``text`` has no quotes (the caller's test). Only ``\n`` and ``\r\n`` may end its
    lines: the C parser counts a lone ``\r`` otherwise than the csv module. A row
    shorter than the header is padded with blanks, as the line-by-line reading pads it;
    a longer one stops the parser; a blank line is a row of blanks here, which the
    caller's test of the first cells turns down (the line-by-line reading skips it)."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            skiprows=top,
            dtype=object,
            na_filter=False,
            skip_blank_lines=False,
            sep=",",
            engine="c",
        )
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if frame.shape[1] != width:
        return None
    return [frame[i].to_numpy(dtype=object) for i in range(width)]


def _first_record(reader: Iterator[list[str]]) -> list[str] | None:
    """The next record of ``reader`` that is not blank, or ``None``."""
    return next((r for r in reader if any(cell.strip() for cell in r)), None)


def _unclosed_quote(text: str) -> int | None:
    """The line of the record whose quoted value runs to the end of ``text`` unclosed
    (the csv module, unless strict, reads it as a value), or ``None``."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last = 0
    try:
        for _ in reader:
            last = reader.line_num
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return last + 1
    return None


# What ``str.strip`` removes from ASCII text, but the line ends, with what it can stand
# next to at the edge of a cell of a CSV text without quotes: a comma or a line end.
_BLANKS = " \t\v\f\x1c\x1d\x1e\x1f"
_BLANK_EDGES = [(b, tuple(e for s in ",\r\n" for e in (s + b, b + s))) for b in _BLANKS]


def _edge_blanks(text: str) -> bool:
    """Whether a cell of ``text`` (a CSV text without quotes) may start or end with a
    blank, so that its cells must be stripped (a few substring searches, where one
    regular expression over the text took 40 ms on generated l's orders)."""
    if not text.isascii():
        return True  # no-break and other Unicode spaces: strip every cell
    return any(
        b in text and (text.startswith(b) or text.endswith(b) or any(e in text for e in edges))
        for b, edges in _BLANK_EDGES
    )


_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _foreign_separator(header: list[str]) -> str | None:
    """The separator of a header that is one cell split by something else than commas
    (a spreadsheet saved as CSV where the decimal mark is a comma uses semicolons)."""
    if len(header) != 1:
        return None
    found = [s for s in _SEPARATORS if s in header[0]]
    return max(found, key=header[0].count) if found else None


def _separator_message(separator: str) -> str:
    return (
        f"the columns are separated by {_SEPARATORS[separator]}, not commas: soe reads "
        "comma-separated files with a point as the decimal mark (in Excel, save as "
        "'CSV UTF-8 (Comma delimited)' with '.' as the decimal separator)"
    )


def _raw_frame(
    source: str,
    header: list[str],
    columns: Sequence[Sequence[str]],
    problems: list[Problem],
    top: int = 1,
    *,
    strip: bool = True,
) -> pd.DataFrame | None:
    """The cells of ``columns`` (one per header cell) as a frame of strings named by
    ``header`` (at line or row ``top``); ``strip=False`` where no cell has blanks
    around it."""
    names = [_trim(h).lower() for h in header]
    seen: set[str] = set()
    ok = True
    for h in names:
        if h and h in seen:
            problems.append(Problem(source, top, h, "this column appears twice in the header"))
            ok = False
        seen.add(h)
    if not ok:
        return None
    keep = [i for i, h in enumerate(names) if h]
    frame = {names[i]: _stripped(columns[i]) if strip else columns[i] for i in keep}
    return pd.DataFrame(frame, dtype=object, index=pd.RangeIndex(len(columns[0])))


def _stripped(cells: Sequence[str]) -> list[str]:
    """The cells without surrounding blanks (a plain loop: 3-7x faster than one regex
    search over the joined column that would find whether any cell has them)."""
    return [_trim(c) for c in cells]


_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
"""Zero-width characters ``str.strip`` keeps (a space, joiners, a byte-order mark in the
middle of a file that was pasted together): at a cell's edge they made an id that
prints as ``L1`` unknown."""


def _trim(text: str) -> str:
    """``text`` without blanks, and zero-width characters, around it."""
    text = text.strip()
    while text and (text[0] in _INVISIBLE or text[-1] in _INVISIBLE):
        text = text.strip(_INVISIBLE).strip()
    return text


def _read_toml(file: Path, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        problems.append(Problem(file.name, None, None, _cannot_read(exc)))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(file.name, None, None, "not UTF-8 text"))
        return None
    try:
        data = tomllib.loads(text)
        data["__lines__"] = _toml_key_lines(text)
        return data
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        problems.append(Problem(file.name, line, None, f"not valid TOML: {exc}"))
    return None


def _toml_key_lines(text: str) -> dict[str, int]:
    """Line number of every ``section.key`` in a TOML text, to locate settings errors."""
    lines: dict[str, int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[") and "]" in stripped:
            section = stripped[1 : stripped.index("]")].strip()
            lines.setdefault(section, number)
        elif "=" in stripped and not stripped.startswith("#"):
            key = stripped.split("=", 1)[0].strip().strip('"')
            lines.setdefault(f"{section}.{key}" if section else key, number)
    return lines


def _read_workbook(
    book: Path, problems: list[Problem], notes: list[str]
) -> tuple[dict[str, _RawTable], dict[str, Any] | None, str]:
    import openpyxl  # a runtime dependency, imported only when a workbook is read

    try:
        wb = openpyxl.load_workbook(book, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise DatasetError(
            [Problem(book.name, None, None, f"cannot open the workbook: {exc}")]
        ) from None
    raws: dict[str, _RawTable] = {}
    settings_raw: dict[str, Any] | None = None
    sheets: dict[str, str] = {}
    for s in wb.sheetnames:
        first = sheets.setdefault(s.strip().lower(), s)
        if first != s and s.strip().lower() in (*TABLES, "settings"):
            # both would be the table: the last one won, without a word
            problems.append(
                Problem(
                    f"{book.name}, sheet {s}",
                    None,
                    None,
                    f"a second sheet named like '{first}' (sheet names are matched without"
                    " regard to case or surrounding spaces); keep one",
                )
            )
    if _has_formulas(book):
        tables = [sheets[s] for s in (*TABLES, "settings") if s in sheets]
        _unsaved_formulas(book, wb, openpyxl, tables, problems)
    try:
        for name in TABLES:
            if name not in sheets:
                continue
            source = f"{book.name}, sheet {sheets[name]}"
            header, top, rows, numbers = _sheet_rows(wb[sheets[name]])
            if header is None:
                problems.append(
                    Problem(source, None, None, "the sheet is empty; it needs a header row")
                )
                continue
            frame = _raw_frame(source, header, _columns(rows, len(header)), problems, top)
            if frame is not None:
                raws[name] = _RawTable(name, source, frame, numbers, top)
        if "settings" in sheets:
            settings_raw = _settings_sheet(
                wb[sheets["settings"]], f"{book.name}, sheet settings", problems
            )
        for s in wb.sheetnames:
            if s.strip().lower() not in TABLES and s.strip().lower() != "settings":
                notes.append(f"{book.name}, sheet {s}: unknown sheet, ignored")
    finally:
        wb.close()
    return raws, settings_raw, f"{book.name}, sheet settings"


def _has_formulas(book: Path) -> bool:
    """Whether any sheet of the workbook holds a formula (a look at its XML, cheap)."""
    import zipfile

    try:
        with zipfile.ZipFile(book) as z:
            return any(
                b"<f" in z.read(n)
                for n in z.namelist()
                if n.startswith("xl/worksheets/") and n.endswith(".xml")
            )
    except (OSError, zipfile.BadZipFile, KeyError):
        return False  # openpyxl has opened it: its own reading decides


def _unsaved_formulas(
    book: Path, values: Any, openpyxl: Any, sheets: list[str], problems: list[Problem]
) -> None:
    """A problem for every formula cell with no saved value in ``values`` (the workbook
    as read, its saved values). A workbook written by a program (not saved by Excel or
    LibreOffice) has none, and the cell reads as blank: an optional cell would silently
    take its default. Only the formulas are read again."""
    formulas = openpyxl.load_workbook(book, read_only=True, data_only=False)
    try:
        for sheet in sheets:
            source = f"{book.name}, sheet {sheet}"
            header: list[str] | None = None
            for i, (fs, vs) in enumerate(
                zip(
                    formulas[sheet].iter_rows(values_only=True),
                    values[sheet].iter_rows(values_only=True),
                    strict=False,
                ),
                start=1,
            ):
                if header is None:
                    if any(_cell_text(v) for v in vs):
                        header = [_cell_text(v).lower() for v in vs]
                    continue
                for c, (f, v) in enumerate(zip(fs, vs, strict=False)):
                    if isinstance(f, str) and f.startswith("=") and v is None:
                        name = header[c] if c < len(header) and header[c] else None
                        problems.append(
                            Problem(
                                source,
                                i,
                                name,
                                f"{_FORMULA} {f} but no saved value (the workbook was"
                                " not saved by Excel or LibreOffice, which store the values):"
                                " open and save it there, or type the number",
                            )
                        )
    finally:
        formulas.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()  # the day: an ERP export's time of day is dropped
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return _trim(str(value))


def _sheet_rows(ws: Any) -> tuple[list[str] | None, int, list[list[str]], list[int]]:
    """A sheet's header (its first row that is not blank), the header's row number, the
    rows under it that are not blank (padded or cut to the header) and their numbers."""
    header: list[str] | None = None
    top = 0
    rows: list[list[str]] = []
    numbers: list[int] = []
    for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = [_cell_text(v) for v in values]
        if not any(cells):
            continue
        if header is None:
            header, top = cells, i
            width = len(header)
            continue
        rows.append(cells[:width] + [""] * (width - len(cells)))
        numbers.append(i)
    if header is not None:
        # a header row written by Excel may carry trailing empty cells
        while header and not header[-1]:
            header.pop()
        rows = [r[: len(header)] for r in rows]
    return header, top, rows, numbers


def _settings_sheet(ws: Any, source: str, problems: list[Problem]) -> dict[str, Any]:
    header, top, rows, numbers = _sheet_rows(ws)
    result: dict[str, Any] = {}
    if header is None:
        return result
    names = [h.lower() for h in header]
    if "key" not in names or "value" not in names:
        problems.append(
            Problem(source, top, None, "the settings sheet needs columns key and value")
        )
        return result
    k, v = names.index("key"), names.index("value")
    lines: dict[str, int] = {}  # each key's row, to locate its problems
    for row, number in zip(rows, numbers, strict=True):
        key, text = row[k].strip().lower(), row[v].strip()
        section, _, field = key.partition(".")
        if not field:
            problems.append(
                Problem(
                    source, number, "key", f"'{key}' is not a dotted key like solve.time_limit_s"
                )
            )
            continue
        if key in lines:
            problems.append(
                Problem(source, number, key, f"this key is set twice (row {lines[key]} too)")
            )
            continue
        lines[key] = number
        lines.setdefault(section, number)
        if not text:
            continue  # a blank value takes the default (a formula without one is reported)
        result.setdefault(section, {})[field] = _settings_value(text)
    if result:
        result["__lines__"] = lines
    return result


def _settings_value(text: str) -> Any:
    low = text.lower()
    if low in {"true", "false"}:
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _frame_to_raw(frame: pd.DataFrame, source: str, problems: list[Problem]) -> pd.DataFrame | None:
    """An integrator's DataFrame as the all-text table a CSV file would give (``None``,
    with a problem, when two columns have the same name)."""
    names = [_trim(str(col)).lower() for col in frame.columns]
    twice = sorted({n for n in names if n and names.count(n) > 1})
    for name in twice:
        problems.append(Problem(source, 1, name, "this column appears twice in the header"))
    if twice:
        return None
    out: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        s = frame.iloc[:, i]
        if not name:
            continue  # a blank column name is ignored, as a blank header cell is
        if pd.api.types.is_datetime64_any_dtype(s):
            out[name] = ["" if pd.isna(v) else v.date().isoformat() for v in s]
        elif pd.api.types.is_bool_dtype(s):  # a nullable "boolean" holds a blank as <NA>
            out[name] = ["" if _isnan(v) else "true" if v else "false" for v in s.tolist()]
        elif pd.api.types.is_integer_dtype(s):  # so does a nullable "Int64"
            out[name] = ["" if _isnan(v) else str(v) for v in s.tolist()]
        else:
            out[name] = [_cell_text(None if _isnan(v) else v) for v in s.tolist()]
    return pd.DataFrame(out, dtype=object, index=pd.RangeIndex(len(frame)))


def _isnan(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


# ------------------------------------------------------------------------ validation


class _Checker:
    """Collects problems; caps how many rows one kind of problem lists."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def rows(self, raw: _RawTable, mask: np.ndarray, column: str | None, message: Any) -> None:
        """Report ``message(i)`` (or a fixed text) for every row position in ``mask``."""
        where = np.flatnonzero(mask)
        for i in where[:_MAX_ROWS_PER_PROBLEM]:
            text = message(i) if callable(message) else message
            self.problems.append(Problem(raw.source, int(raw.rows[i]), column, text))
        extra = len(where) - _MAX_ROWS_PER_PROBLEM
        if extra > 0:
            text = message(where[-1]) if callable(message) else message
            self.problems.append(
                Problem(
                    raw.source, None, column, f"{extra} more rows with the same problem ({text})"
                )
            )


def _parse_table(raw: _RawTable, table: Table, check: _Checker) -> pd.DataFrame:
    """Typed columns of one table; blank cells take the column's default."""
    frame = raw.frame
    n = len(frame)
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.name not in frame.columns:
            if col.required:
                check.problems.append(Problem(raw.source, raw.header, col.name, _MISSING_COLUMN))
            out[col.name] = _default_column(col, n)
            continue
        out[col.name] = _parse_column(raw, col, frame[col.name].to_numpy(dtype=object), check)
    for extra in frame.columns:
        if extra not in out:
            out[extra] = frame[extra].to_numpy(dtype=object)  # unknown columns are kept
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def _default_column(col: Column, n: int) -> np.ndarray:
    if col.kind in {"number"}:
        return np.full(n, np.nan if col.default in (None, REQUIRED) else float(col.default))  # type: ignore[arg-type]
    if col.kind == "priority":
        return np.full(n, np.nan if col.default in (None, REQUIRED) else float(col.default))  # type: ignore[arg-type]
    return np.full(n, "" if col.default in (None, REQUIRED) else str(col.default), dtype=object)


def _not_a_number(cell: str) -> str:
    if "," in cell and _DECIMAL.fullmatch(cell.replace(",", "")):
        return (
            f"'{cell}' is not a number: write numbers with a point as the decimal mark "
            "and without thousands separators (1234.5)"
        )
    return f"'{cell}' is not a number"


_DECIMAL = re.compile(r"[+-]?\d+(\.\d*)?")


def _parse_column(raw: _RawTable, col: Column, cells: np.ndarray, check: _Checker) -> np.ndarray:
    blank = cells == ""
    if col.required:
        check.rows(raw, blank, col.name, _REQUIRED_VALUE)
    if col.kind in {"id", "text", "period", "period_or_date"}:
        if col.default not in (None, REQUIRED) and blank.any():
            cells = np.where(blank, str(col.default), cells)
        return cells
    if col.kind == "date":
        parsed = pd.to_datetime(pd.Series(cells), format="%Y-%m-%d", errors="coerce")
        bad = ~blank & parsed.isna().to_numpy()
        check.rows(raw, bad, col.name, lambda i: _not_a_date(cells[i]))
        return np.asarray(parsed.to_numpy())
    values = _numbers(cells, blank)
    invalid = ~blank & np.isnan(values)
    check.rows(raw, invalid, col.name, lambda i: _not_a_number(str(cells[i])))
    infinite = np.isinf(values)
    check.rows(raw, infinite, col.name, lambda i: f"'{cells[i]}' is not a finite number")
    values = np.where(infinite, np.nan, values)
    with np.errstate(invalid="ignore"):
        if col.kind == "priority":
            bad = ~np.isnan(values) & ((values < 1) | (values != np.floor(values)))
            check.rows(
                raw,
                bad,
                col.name,
                lambda i: f"'{cells[i]}' is not a priority (a whole number >= 1)",
            )
        elif col.positive:
            check.rows(
                raw, values <= 0, col.name, lambda i: f"must be greater than 0, got {cells[i]}"
            )
        else:
            check.rows(raw, values < 0, col.name, lambda i: f"must not be negative, got {cells[i]}")
        check.rows(
            raw,
            np.abs(values) > MAX_MAGNITUDE,
            col.name,
            lambda i: f"{cells[i]} is too large to plan reliably (at most {MAX_MAGNITUDE:.0e})",
        )
    if col.default not in (None, REQUIRED):
        values = np.where(blank, float(col.default), values)  # type: ignore[arg-type]
    return values


def _numbers(cells: np.ndarray, blank: np.ndarray) -> np.ndarray:
    """``cells`` as numbers, NaN where a cell is blank or not a number, as pandas'
    ``to_numeric`` reads them.

    Python's ``float`` reads every cell ``to_numeric`` reads to the same double
    (correctly rounded; ``-0`` is -0.0, which ``to_numeric`` reads as 0 in a column of
    whole numbers), in half the time (generated l's forecast quantities: 4.7 ms
    against 9.4 ms), but also reads digit group underscores (``1_000``) and non-ASCII
    digits, which are not numbers here; a column holding either, or a cell that is not
    a number, goes to ``to_numeric``."""
    filled = cells[~blank] if blank.any() else cells
    try:
        text = "".join(filled)
        numbers = filled.astype(np.float64) if text.isascii() and "_" not in text else None
    except (ValueError, TypeError):  # a cell that is not a number
        numbers = None
    if numbers is not None:
        if len(filled) == len(cells):
            return numbers
        values = np.full(len(cells), np.nan)
        values[~blank] = numbers
        return values
    return np.asarray(pd.to_numeric(cells, errors="coerce"), dtype=np.float64)  # "": NaN


def _check_duplicates(raw: _RawTable, frame: pd.DataFrame, table: Table, check: _Checker) -> None:
    if not table.key or any(k not in raw.frame.columns for k in table.key):
        return
    dup = frame.duplicated(list(table.key), keep="first").to_numpy()
    if not dup.any():
        return
    keys = frame[list(table.key)].astype(str).agg(" + ".join, axis=1).to_numpy()
    first_row = dict(zip(keys[::-1], raw.rows[::-1], strict=True))
    label = " + ".join(table.key)
    check.rows(
        raw,
        dup,
        table.key[-1] if len(table.key) == 1 else label,
        lambda i: f"duplicate {label} '{keys[i]}' (first on row {first_row[keys[i]]})",
    )


def _unknown(
    raw: _RawTable,
    frame: pd.DataFrame,
    column: str,
    known: Any,
    what: str,
    check: _Checker,
) -> np.ndarray:
    """Report values of ``column`` not in ``known`` (blank cells are not checked)."""
    values = frame[column].to_numpy(dtype=object)
    bad: np.ndarray = ~pd.Series(values).isin(known).to_numpy() & (values != "")
    name, _, hint = what.partition(" (")
    hint = hint.removesuffix(")")
    near = {_folded(k): k for k in known} if bad.any() else {}

    def message(i: int) -> str:
        notes = [hint] if hint else []
        if (like := near.get(_folded(str(values[i])))) is not None:
            notes.append(f"did you mean '{like}'? ids must match exactly, case included")
        return f"unknown {name} '{values[i]}'" + (f" ({'; '.join(notes)})" if notes else "")

    check.rows(raw, bad, column, message)
    return bad


def _folded(text: str) -> str:
    """``text`` as two ids that a planner would take for one compare: case, Unicode
    forms (an accent typed as one character or two) and inner spaces aside."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _resolve_periods(periods: pd.DataFrame, raw: _RawTable, check: _Checker) -> pd.DataFrame:
    """Check the periods' order and contiguity and fill in every ``end``."""
    start = periods["start"].to_numpy(dtype="datetime64[ns]")
    end = periods["end"].to_numpy(dtype="datetime64[ns]")
    n = len(periods)
    if n == 0:
        return periods
    valid = ~np.isnat(start)
    ok_order = np.ones(n, dtype=bool)
    ok_order[1:] = ~(valid[1:] & valid[:-1]) | (start[1:] > start[:-1])
    check.rows(raw, ~ok_order, "start", "periods must be listed by strictly increasing start date")
    filled = end.copy()
    filled[:-1] = np.where(np.isnat(end[:-1]), start[1:], end[:-1])
    mismatch = np.zeros(n, dtype=bool)
    mismatch[:-1] = ~np.isnat(end[:-1]) & valid[1:] & (end[:-1] != start[1:])
    check.rows(
        raw, mismatch, "end", "periods must be contiguous: end must equal the next period's start"
    )
    if np.isnat(end[-1]):
        length = (start[-1] - start[-2]) if n > 1 else np.timedelta64(7, "D")
        filled[-1] = start[-1] + length
    if ok_order.all():
        check.rows(
            raw, ~np.isnat(filled) & valid & (filled <= start), "end", "end must be after start"
        )
    periods = periods.copy()
    periods["end"] = filled
    return periods


def _not_periods(raw: _RawTable, values: np.ndarray, bad: np.ndarray, check: _Checker) -> None:
    """Report the order or receipt periods at ``bad``, neither a period id nor an ISO
    date: dates written another way (``02/12/2026``) first, so that the rows naming a
    period missing from periods.csv do not push them past the rows listed."""
    at = np.flatnonzero(bad)
    dates = pd.to_datetime(pd.Series(values[at], dtype=object), errors="coerce", format="mixed")
    datelike = np.zeros(len(values), dtype=bool)
    datelike[at] = dates.notna().to_numpy()
    for mask in (datelike, bad & ~datelike):
        check.rows(
            raw,
            mask,
            "period",
            lambda i: (
                f"'{values[i]}' is neither a period id nor an ISO date (YYYY-MM-DD)"
                + _serial_hint(values[i])
            ),
        )


def _not_a_date(cell: object) -> str:
    """Why ``cell`` is not a date, with a hint where it reads as a spreadsheet's day
    number."""
    return f"'{cell}' is not an ISO date (YYYY-MM-DD)" + _serial_hint(cell)


def _serial_hint(cell: object) -> str:
    """``; it looks like a spreadsheet's day number ...`` for a whole number that Excel
    shows as a date of 1950-2100 once the cell is formatted as one; ``""`` otherwise."""
    try:
        day = float(str(cell))
    except ValueError:
        return ""
    if not (18264 <= day <= 73415 and day == int(day)):  # 1950-01-01 .. 2100-12-31
        return ""
    date = (pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(day))).date()
    return (
        f"; it looks like a spreadsheet's day number for {date.isoformat()}: format the cell"
        " as a date (or write the date as text)"
    )


def _neither_id_nor_date(values: np.ndarray, ids: set[str]) -> np.ndarray:
    """Whether each value is neither one of the period ``ids`` nor an ISO date."""
    known = pd.Series(values).isin(ids).to_numpy()
    dates = pd.to_datetime(pd.Series(values[~known]), format="%Y-%m-%d", errors="coerce")
    out = np.zeros(len(values), dtype=bool)
    out[~known] = dates.isna().to_numpy()
    return out


def _locate_in_periods(
    values: np.ndarray, periods: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Map period ids or ISO dates to period positions.

    Returns position (-1 for before the horizon, T for after it), whether the value
    was before the first period, after the last, and unparseable.
    """
    ids = periods["period"].to_numpy(dtype=object)
    pos_of = {p: i for i, p in enumerate(ids)}
    T = len(ids)
    pos = np.array([pos_of.get(v, -2) for v in values], dtype=np.int64)
    need = pos == -2
    dates = pd.to_datetime(pd.Series(values[need]), format="%Y-%m-%d", errors="coerce").to_numpy(
        dtype="datetime64[ns]"
    )
    starts = periods["start"].to_numpy(dtype="datetime64[ns]")
    last_end = periods["end"].to_numpy(dtype="datetime64[ns]")[-1]
    unparsed = np.zeros(len(values), dtype=bool)
    unparsed[need] = np.isnat(dates)
    where = np.searchsorted(starts, dates, side="right") - 1
    where = np.where(dates >= last_end, T, where)
    sub = pos[need]
    sub[:] = np.where(np.isnat(dates), -2, where)
    pos[need] = sub
    before = pos == -1
    after = pos == T
    return pos, before, after, unparsed


def _build(
    raws: dict[str, _RawTable],
    settings_raw: Settings | Mapping[str, Any] | None,
    settings_source: str,
    name: str,
    problems: list[Problem],
    notes: list[str],
    missing: str = "{file}",
    *,
    from_frames: bool = False,
    shared: Mapping[str, pd.DataFrame] | None = None,
    past_due: bool = False,
    warn: bool = True,
    dropped: Mapping[str, str] | None = None,
) -> Dataset:
    """Validate the tables read (``raws``) into a :class:`Dataset`, or raise.

    ``shared`` holds tables of a valid dataset that did not change (for
    :meth:`Dataset.replace`): they are taken as they are, and only the checks that
    involve a table that changed (one in ``raws``, or one left out) are made again;
    their rows still due in the first period keep their ``past_due`` flag, and so do a
    changed ``orders`` or ``receipts`` frame's with ``past_due=True`` (frames from a
    dataset, which hold periods as resolved). ``warn=False`` leaves issuing the
    warnings to the caller. ``dropped`` maps the start date put in place of a period
    that new periods left out (in a shared table) to that period's id, for the
    warnings.
    """
    check = _Checker(problems)
    read = [("", note) for note in notes]  # what was read and left out, by table
    # a table given as a DataFrame (to replace() a loaded dataset's) is not its file
    label = {
        t: _label(t, from_frames or (t in raws and raws[t].source == _FRAME.format(table=t)))
        for t in TABLES
    }
    for t, frame in (shared or {}).items():
        raws[t] = _RawTable(t, _FRAME.format(table=t), frame, validated=True)
    # tables given anew, or left out: checks between unchanged tables are not made again
    changed = {t for t in TABLES if t not in raws or not raws[t].validated}
    frames: dict[str, pd.DataFrame] = {}

    def about(t: str) -> list[Problem]:
        """The problems found so far with table ``t`` (its file, sheet or frame)."""
        source = raws[t].source if t in raws else missing.format(file=TABLES[t].file, table=t)
        return [p for p in problems if _same_source(p.file, source)]

    for tname, table in TABLES.items():
        raw = raws.get(tname)
        if raw is None:
            if table.required and not about(tname):  # an empty sheet said so already
                problems.append(
                    Problem(
                        missing.format(file=table.file, table=tname),
                        None,
                        None,
                        "required table is missing",
                    )
                )
            frames[tname] = _empty(table)
            continue
        if raw.validated:
            frames[tname] = raw.frame
            continue
        if table.required and len(raw.frame) == 0:
            problems.append(
                Problem(raw.source, None, None, "the table has no rows; at least one is required")
            )
        frames[tname] = _parse_table(raw, table, check)
        _check_duplicates(raw, frames[tname], table, check)

    settings = _validate_settings(settings_raw, settings_source, problems)

    # periods first: every other table refers to them
    periods = frames["periods"]
    if "periods" in raws and "periods" in changed and len(periods):
        periods = _resolve_periods(periods, raws["periods"], check)
        frames["periods"] = periods
    periods_ok = (
        "periods" in raws
        and len(periods) > 0
        and not any(p.file == raws["periods"].source for p in problems)
    )
    # Problems in the periods' dates (order, contiguity, a bad date) leave their ids
    # whole: references by id are checked against them in the same run. A row lost (too
    # many values: a problem without a column) or no period column leaves ids out.
    ids_ok = periods_ok or (
        "periods" in raws
        and len(periods) > 0
        and "period" in raws["periods"].frame.columns
        and not any(p.file == raws["periods"].source and p.column is None for p in problems)
    )
    period_ids = set(periods["period"])
    product_ids = set(frames["products"]["product"])
    line_ids = set(frames["lines"]["line"])
    material_ids = set(frames["materials"]["material"])
    customer_ids = set(frames["customers"]["customer"])

    # a table that could not be read is reported once, not again by every reference to
    # it: one missing, not read, without its rows (none, or one lost: a problem without
    # a column) or without its id column would make every id it holds "unknown"
    unreadable = set()
    for t, tab in TABLES.items():
        if t in raws and raws[t].validated:
            continue
        found = about(t)
        if t not in raws:
            if tab.required or found:
                unreadable.add(t)
        elif any(
            p.column is None or (p.column == tab.columns[0].name and p.message == _MISSING_COLUMN)
            for p in found
        ):
            unreadable.add(t)
    referenced = {
        "product": "products",
        "line": "lines",
        "material": "materials",
        "customer": "customers",
        "period": "periods",
    }

    def refs(t: str, column: str, known: set[str], what: str) -> np.ndarray:
        raw = raws.get(t)
        if (
            raw is None
            or column not in raw.frame.columns
            or referenced[column] in unreadable
            or (t not in changed and referenced[column] not in changed)
        ):
            return np.zeros(len(frames[t]), dtype=bool)
        return _unknown(raw, frames[t], column, known, what, check)

    refs("routings", "product", product_ids, "product")
    refs("routings", "line", line_ids, "line")
    refs("bom", "product", product_ids, "product")
    refs("bom", "material", material_ids, f"material (not in {label['materials']})")
    refs("receipts", "material", material_ids, f"material (not in {label['materials']})")
    refs("line_calendar", "line", line_ids, "line")
    if ids_ok:
        refs("line_calendar", "period", period_ids, "period")
    refs("forecast", "product", product_ids, "product")
    refs("orders", "product", product_ids, "product")
    refs("previous_plan", "product", product_ids, "product")
    refs("previous_plan", "line", line_ids, "line")
    if "customers" in raws:
        refs("orders", "customer", customer_ids, f"customer (not in {label['customers']})")

    _coefficient_spans(frames, {t: r for t, r in raws.items() if t in changed}, check)

    # products: initial inventory within the cap
    prod = frames["products"]
    if "products" in raws and "products" in changed:
        over = (prod["initial_inventory"] > prod["max_inventory"]).to_numpy()
        check.rows(
            raws["products"], over, "initial_inventory", "initial_inventory exceeds max_inventory"
        )

    orders = frames["orders"]
    if "orders" in raws and "orders" in changed:
        ids = orders["order"].astype(str).to_numpy(dtype=object)
        if "\nforecast:" in "\n" + "\n".join(ids):  # one search, where a string method
            # over the column took 8 ms on generated l's 13,000 orders
            bad = np.array([i.startswith("forecast:") for i in ids], dtype=bool)
            check.rows(raws["orders"], bad, "order", "an order id must not start with 'forecast:'")

    # which tables of dated rows to map to the periods (again)
    dated = {t for t in ("orders", "receipts") if t in raws and {t, "periods"} & changed}
    for t in ("orders", "receipts"):
        if t not in raws:
            frames[t]["past_due"] = np.zeros(0, dtype=bool)
        elif t in dated and ids_ok and not periods_ok:
            # where a date falls waits for the periods' dates; whether it is one does not
            values = frames[t]["period"].to_numpy(dtype=object)
            unparsed = _neither_id_nor_date(values, period_ids)
            _not_periods(raws[t], values, unparsed & (values != ""), check)

    if periods_ok:
        for t in ("orders", "receipts"):
            if t not in dated:
                continue
            frame = frames[t]
            pos, before, after, unparsed = _locate_in_periods(
                frame["period"].to_numpy(dtype=object), periods
            )
            values = frame["period"].to_numpy(dtype=object)
            _not_periods(raws[t], values, unparsed & (values != ""), check)
            what = "order" if t == "orders" else "receipt"
            renamed = dropped if raws[t].validated and dropped else {}
            for i in np.flatnonzero(after)[:_MAX_ROWS_PER_PROBLEM]:
                when = (
                    f"of period '{renamed[values[i]]}' (starting {values[i]})"
                    if values[i] in renamed
                    else f"dated {values[i]}"
                )
                read.append(
                    (
                        t,
                        f"{raws[t].source}, row {raws[t].rows[i]}: {what} {when}"
                        " is after the last period, left out",
                    )
                )
            if after.sum() > _MAX_ROWS_PER_PROBLEM:
                read.append(
                    (
                        t,
                        f"{raws[t].source}: {after.sum()} {what}s in all are after the last"
                        " period, left out",
                    )
                )
            keep = ~after & ~unparsed
            frame = frame.copy()
            if raws[t].validated or past_due:
                before = before | (_past_due_given(frame, raws[t]) & (pos == 0))
            frame["past_due"] = before
            resolved = np.where(pos < 0, 0, np.minimum(pos, len(periods) - 1))
            frame["period"] = periods["period"].to_numpy(dtype=object)[resolved]
            frames[t] = frame[keep].reset_index(drop=True)
            raws[t] = _RawTable(
                t,
                raws[t].source,
                raws[t].frame[keep].reset_index(drop=True),
                raws[t].rows[keep],
                raws[t].header,
                validated=raws[t].validated,
            )

        for t in ("forecast", "previous_plan"):
            if t not in raws or not {t, "periods"} & changed:
                continue
            frame = frames[t]
            unknown = ~frame["period"].isin(period_ids).to_numpy()
            if not unknown.any():
                continue
            truncated = unknown.sum() > _MAX_ROWS_PER_PROBLEM
            if raws[t].validated:
                # a dataset's own rows, of periods that new periods leave out (a horizon
                # rolled on): one note per period, not per row
                gone = frame["period"][unknown].value_counts(sort=False)
                truncated = len(gone) > _MAX_ROWS_PER_PROBLEM
                for period, n in gone.iloc[:_MAX_ROWS_PER_PROBLEM].items():
                    read.append(
                        (
                            t,
                            f"{raws[t].source}: {n} row{'s' if n != 1 else ''} of period"
                            f" '{period}', not in {label['periods']}, left out",
                        )
                    )
            else:
                for i in np.flatnonzero(unknown)[:_MAX_ROWS_PER_PROBLEM]:
                    read.append(
                        (
                            t,
                            f"{raws[t].source}, row {raws[t].rows[i]}: period"
                            f" '{frame['period'].iloc[i]}' is not in {label['periods']},"
                            " row left out",
                        )
                    )
            if truncated:
                read.append(
                    (
                        t,
                        f"{raws[t].source}: {unknown.sum()} rows in all with unknown periods"
                        " left out",
                    )
                )
            frames[t] = frame[~unknown].reset_index(drop=True)
            raws[t] = _RawTable(
                t,
                raws[t].source,
                raws[t].frame[~unknown].reset_index(drop=True),
                raws[t].rows[~unknown],
                raws[t].header,
                validated=raws[t].validated,
            )

    # previous plan rows with no routing are left out
    pp = frames["previous_plan"]
    if len(pp) and "previous_plan" in raws and {"previous_plan", "routings"} & changed:
        routing_keys = set(
            zip(frames["routings"]["product"], frames["routings"]["line"], strict=True)
        )
        has = np.array(
            [key in routing_keys for key in zip(pp["product"], pp["line"], strict=True)],
            dtype=bool,
        )
        known_pl = pp["product"].isin(product_ids).to_numpy() & pp["line"].isin(line_ids).to_numpy()
        for i in np.flatnonzero(~has & known_pl)[:_MAX_ROWS_PER_PROBLEM]:
            read.append(
                (
                    "previous_plan",
                    f"{raws['previous_plan'].source}, row {raws['previous_plan'].rows[i]}:"
                    f" product '{pp['product'].iloc[i]}' has no routing on line"
                    f" '{pp['line'].iloc[i]}', row left out",
                )
            )
        if not has.all():
            frames["previous_plan"] = pp[has].reset_index(drop=True)

    stab = settings.stability if settings else None
    if stab and (stab.frozen_periods > 0 or stab.change_cost > 0) and "previous_plan" not in raws:
        problems.append(
            Problem(
                settings_source,
                None,
                "stability",
                f"frozen_periods > 0 or change_cost > 0 needs {label['previous_plan']}",
            )
        )

    # demand is a quantity above 0, in the forecast as in the orders
    has_demand = bool((frames["forecast"]["quantity"] > 0).any()) or bool(
        (frames["orders"]["quantity"] > 0).any()
    )
    if not problems and not has_demand:
        problems.append(
            Problem(
                " / ".join(
                    missing.format(file=TABLES[t].file, table=t) for t in ("forecast", "orders")
                ),
                None,
                None,
                f"no demand: at least one of {label['forecast']} and {label['orders']} must"
                " hold demand (a quantity above 0)",
            )
        )
    if problems:
        raise DatasetError(_without_echoes(problems))

    dataset = Dataset(
        **frames,
        settings=settings or Settings(),
        name=name,
        warnings=(),
        has_customers="customers" in raws,
        has_previous_plan="previous_plan" in raws,
    )
    dataset._from_frames = from_frames
    from optimizer.demand import entries  # demand reads a valid dataset; imported late

    ent = entries(dataset)
    problems = _entry_problems(
        dataset, ent, settings_source, lambda t, i: (raws[t].source, int(raws[t].rows[i]))
    )
    if problems:
        raise DatasetError(problems)
    done = dataset._noted(tuple(read), _plan_notes(dataset, ent))
    if warn:
        for note in done.warnings:
            warnings.warn(note, DatasetWarning, stacklevel=3)
    return done


def _without_echoes(problems: list[Problem]) -> list[Problem]:
    """``problems`` without a cell's "a value is required" where the cell is already
    reported as a formula without a saved value (which reads as blank)."""
    formulas = {(p.file, p.row, p.column) for p in problems if p.message.startswith(_FORMULA)}
    if not formulas:
        return problems
    return [
        p
        for p in problems
        if not (p.message == _REQUIRED_VALUE and (p.file, p.row, p.column) in formulas)
    ]


def _same_source(file: str, source: str) -> bool:
    """Whether a problem's ``file`` is ``source`` (a sheet's name is matched as the
    workbook's sheets are, without regard to case or spaces)."""
    return " ".join(file.lower().split()) == " ".join(source.lower().split())


def _past_due_given(frame: pd.DataFrame, raw: _RawTable) -> np.ndarray:
    """The ``past_due`` flags a table brings with it: a dataset's own (shared, bool), or
    a ``past_due`` column of a frame given to :meth:`Dataset.replace` (read as text)."""
    if "past_due" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    flags = frame["past_due"]
    if not raw.validated:
        flags = flags.astype(str).str.strip().str.lower() == "true"
    out: np.ndarray = flags.to_numpy(dtype=bool)
    return out


def _plan_notes(dataset: Dataset, ent: pd.DataFrame) -> list[str]:
    """The warnings that follow from a valid dataset's tables and settings and its
    demand entries ``ent`` (made again for a changed copy)."""
    notes = []
    if not dataset.has_customers and (dataset.orders["customer"] != "").any():
        notes.append(
            f"{_label('customers', dataset._from_frames)} is missing: orders take their own"
            " or their product's priority"
        )
    frozen, n = dataset.settings.stability.frozen_periods, len(dataset.periods)
    if frozen > n:
        notes.append(f"frozen_periods = {frozen} exceeds the {n} periods")
    for table, column in (
        ("products", "product"),
        ("lines", "line"),
        ("materials", "material"),
        ("customers", "customer"),
    ):
        alike: dict[str, list[str]] = {}
        for value in getattr(dataset, table)[column]:
            alike.setdefault(_folded(str(value)), []).append(str(value))
        for same in [v for v in alike.values() if len(v) > 1][:_MAX_ROWS_PER_PROBLEM]:
            names = " and ".join(f"'{v}'" for v in same)
            notes.append(
                f"{column}s {names} differ only in case, spacing or Unicode form: soe"
                f" plans them as {len(same)} different {column}s"
            )
    routed = set(dataset.routings["product"].unique())
    unrouted = sorted(set(ent.loc[ent["quantity"] > 0, "product"].unique()) - routed)
    for p in unrouted[:_MAX_ROWS_PER_PROBLEM]:
        notes.append(f"product '{p}' has demand but no routing: it can only be served from stock")
    if len(unrouted) > _MAX_ROWS_PER_PROBLEM:
        notes.append(f"{len(unrouted)} products in all have demand but no routing")
    return notes


MAX_SPAN = 1e9
"""Widest ratio between two coefficients of one row of the model that soe accepts: LP
solvers count a coefficient below ``1e-9`` of its row's largest as zero (HiGHS's
``small_matrix_value``), so beyond it a product's use of a material or a line vanishes."""


def _coefficient_spans(
    frames: dict[str, pd.DataFrame], raws: dict[str, _RawTable], check: _Checker
) -> None:
    """A material's quantities per unit, or a line's hours per unit (``1 / rate``) and
    setup hours, beside the 1 of a unit of stock or an hour of overtime in the same row,
    spanning more than :data:`MAX_SPAN` (a corrupted BOM of 10^11 caps per bottle made
    the solver drop the other products' use of the caps, and the plan failed its check)."""
    bom = frames["bom"]
    if "bom" in raws and len(bom):
        _spans(
            raws["bom"],
            bom["material"].to_numpy(dtype=object),
            {"quantity_per_unit": bom["quantity_per_unit"].to_numpy(dtype=np.float64)},
            "material {}: quantities per unit",
            "a unit of its stock",
            check,
        )
    rt = frames["routings"]
    if "routings" in raws and len(rt):
        with np.errstate(divide="ignore", invalid="ignore"):
            per_unit = 1.0 / rt["rate"].to_numpy(dtype=np.float64)
        _spans(
            raws["routings"],
            rt["line"].to_numpy(dtype=object),
            {"rate": per_unit, "setup_hours": rt["setup_hours"].to_numpy(dtype=np.float64)},
            "line {}: hours per unit (1 / rate) and setup hours",
            "an hour of overtime",
            check,
        )


def _spans(
    raw: _RawTable,
    groups: np.ndarray,
    columns: dict[str, np.ndarray],
    label: str,
    unit: str,
    check: _Checker,
) -> None:
    """One problem per group whose positive values, with 1, span more than MAX_SPAN, at
    the row and column of the value farthest from 1."""
    codes, names = pd.factorize(groups)
    lo = np.ones(len(names))
    hi = np.ones(len(names))
    kept = {}
    for name, values in columns.items():
        v = np.where(np.isfinite(values) & (values > 0), values, 1.0)
        np.minimum.at(lo, codes, v)
        np.maximum.at(hi, codes, v)
        kept[name] = v
    for g in np.flatnonzero(hi / lo > MAX_SPAN):  # rare: a row of one group at a time
        rows = codes == g
        far = {name: np.where(rows, np.abs(np.log10(v)), -1.0) for name, v in kept.items()}
        name = max(far, key=lambda n: float(far[n].max()))
        i = int(far[name].argmax())
        text = (
            f"{label.format(names[g])} range from {lo[g]:.3g} to {hi[g]:.3g} (beside 1 for"
            f" {unit}), wider than the {MAX_SPAN:.0e} an LP solver resolves in one row:"
            " check the unit"
        )
        check.rows(raw, np.arange(len(groups)) == i, name, text)


def _entry_problems(
    dataset: Dataset,
    ent: pd.DataFrame,
    settings_source: str,
    locate: Callable[[str, int], tuple[str, int]] | None,
) -> list[Problem]:
    """Rules between the settings and the demand entries ``ent``.

    The demand signal must yield an entry of a quantity above 0, and in weighted mode
    the shortage price of an entry, ``shortage_cost * tier_weight_base^(K - tier)``,
    must stay within ``MAX_MAGNITUDE`` like every other number: a tier numbered 40
    would otherwise price a tier-1 unit at 10^39 and leave the solver no digits for
    anything else. The problem is located at the priority cell that sets ``K`` (``locate(table,
    position)`` gives its source and row), or at the settings when ``locate`` is
    ``None`` (new settings for tables read earlier).
    """
    s = dataset.settings
    if not (ent["quantity"] > 0).any():  # an order of 0 units is an entry, but no demand
        return [
            Problem(
                settings_source,
                None,
                "demand.signal",
                f"the demand signal '{s.demand.signal}' yields no demand entry"
                " (a quantity above 0)",
            )
        ]
    if s.priority.mode != "weighted":
        return []
    tier = ent["priority"].to_numpy(dtype=np.float64)
    top = float(tier.max())
    shortage_cost = dataset.products.set_index("product")["shortage_cost"]
    cost = shortage_cost.reindex(ent["product"]).to_numpy(dtype=np.float64)
    base = s.priority.tier_weight_base
    with np.errstate(divide="ignore"):
        digits = np.log10(cost) + (top - tier) * math.log10(base)
    worst = float(digits.max())
    if worst <= math.log10(MAX_MAGNITUDE):
        return []
    table, position, owner = _tier_origin(dataset, ent.iloc[int(np.argmax(tier))])
    if locate is None:
        where: tuple[str, int | None, str] = (settings_source, None, "priority.tier_weight_base")
    else:
        where = (*locate(table, position), "priority")
    price = f"{10**worst:.3g}" if worst < 300 else f"about 10^{worst:.0f}"
    return [
        Problem(
            *where,
            f"tier {int(top)} ({owner}) is the largest tier: in weighted mode "
            f"(tier_weight_base {base:g}) it prices a unit short at up to {price}, too large "
            f"to plan reliably (at most {MAX_MAGNITUDE:.0e}); number the tiers 1, 2, 3, ..., "
            "lower priority.tier_weight_base or use priority.mode = 'lexicographic'",
        )
    ]


def _tier_origin(dataset: Dataset, entry: pd.Series) -> tuple[str, int, str]:
    """The table and position of the priority cell an entry's tier comes from, and
    whose priority it is in words."""
    if entry["kind"] == "order":
        orders = dataset.orders
        i = int(np.flatnonzero(orders["order"].to_numpy(dtype=object) == entry["order"])[0])
        if not math.isnan(float(orders["priority"].iloc[i])):
            return "orders", i, f"order '{entry['order']}'"
        customer = orders["customer"].iloc[i]
        found = np.flatnonzero(dataset.customers["customer"].to_numpy(dtype=object) == customer)
        if customer != "" and len(found):
            return "customers", int(found[0]), f"customer '{customer}'"
    products = dataset.products["product"].to_numpy(dtype=object)
    i = int(np.flatnonzero(products == entry["product"])[0])
    return "products", i, f"product '{entry['product']}'"


def _empty(table: Table) -> pd.DataFrame:
    return pd.DataFrame({c.name: _default_column(c, 0) for c in table.columns})


def _validate_settings(
    raw: Settings | Mapping[str, Any] | None, source: str, problems: list[Problem]
) -> Settings | None:
    if raw is None:
        return Settings()
    if isinstance(raw, Settings):
        return raw
    if not isinstance(raw, Mapping):  # an integrator's settings=5 was a bare TypeError
        problems.append(
            Problem(source, None, None, f"expected Settings or a mapping, got {type(raw).__name__}")
        )
        return None
    data = dict(raw)
    key_lines: dict[str, int] = data.pop("__lines__", {})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            key = ".".join(str(x) for x in err["loc"])
            if err["type"] == "extra_forbidden":
                msg = "unknown settings key"
            else:
                value = err.get("input")
                text = err["msg"].removeprefix("Value error, ")  # a validator's own text
                text = text[:1].lower() + text[1:]  # keep a class name's case
                msg = f"{text}, got {value!r}" if value is not None else text
            problems.append(Problem(source, key_lines.get(key), key, msg))
        return None
