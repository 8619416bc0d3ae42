"""Plans: the tables and summary a solve produces, and writing them out.

A :class:`Plan` holds the output tables of DATASET.md as DataFrames and a typed
:class:`Summary`. It is picklable and holds no solver objects. :meth:`Plan.write`
writes the plan folder atomically: into a temporary folder beside the target, then
renamed into place, so a failed run never leaves a half-written plan and never
destroys an existing one.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator

from optimizer.exceptions import NoSolutionError

if TYPE_CHECKING:
    from optimizer.backends.base import Basis

TABLE_NAMES = ("production", "inventory", "service", "shipments", "lines", "materials")


class Summary(BaseModel):
    """``summary.json``: status, objective, bound, gap and the figures of a plan."""

    model_config = ConfigDict(frozen=True)

    status: str
    """optimal / feasible / infeasible / no_solution / error"""
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    objective_terms: dict[str, float] = {}
    fill_rate: dict[str, float] = {}
    on_time_rate: dict[str, float] = {}
    solver: str = ""
    mode: str = "weighted"
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    variables: int = 0
    constraints: int = 0
    integer_variables: int = 0
    nonzeros: int = 0
    limit: str | None = None
    """What stopped the solve short of optimality (``time``), if anything."""
    stages: list[dict[str, Any]] = []
    """Lexicographic mode: status, objective and seconds of each stage."""
    warnings: list[str] = []
    message: str = ""

    @field_validator("objective", "bound", "gap", "stages", mode="before")
    @classmethod
    def _none_for_unknown(cls, value: Any) -> Any:
        """No bound or gap is ``None``, not the solver's ``-inf``, ``inf`` or ``nan``,
        in Python as in ``summary.json``."""
        return _finite(value)

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")

    def to_json(self) -> str:
        data = self.model_dump()
        return json.dumps(_finite(data), indent=2) + "\n"


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers become ``null``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class Plan:
    """A plan: the output tables and the summary.

    Reading a table of a plan without a solution raises
    :class:`~optimizer.exceptions.NoSolutionError`. Plans compare by identity (``==``
    on DataFrames has no single answer; compare ``summary.objective`` or the tables
    with ``DataFrame.equals``) and are hashable.
    """

    summary: Summary
    _tables: Mapping[str, pd.DataFrame] | None = field(default=None, repr=False)
    dataset_name: str = ""
    basis: Basis | None = field(default=None, repr=False)
    """The optimal basis of the plan's LP (LP models solved by HiGHS; ``None``
    otherwise, and for a plan read back from its folder): it warm-starts the report's
    dual LP, which differs only in bounds."""

    def _table(self, name: str) -> pd.DataFrame:
        if self._tables is None:
            raise NoSolutionError(
                f"the solve ended '{self.summary.status}' without a plan: there is no {name} table"
            )
        return self._tables[name]

    @property
    def has_solution(self) -> bool:
        return self._tables is not None

    @property
    def production(self) -> pd.DataFrame:
        """``product, line, period, quantity, hours, setup`` (zero rows left out)."""
        return self._table("production")

    @property
    def inventory(self) -> pd.DataFrame:
        """``product, period, opening, produced, shipped, closing, safety_stock,
        below_safety_stock`` for every product and period."""
        return self._table("inventory")

    @property
    def service(self) -> pd.DataFrame:
        """One row per demand entry: ``on_time``, ``late`` and ``unmet`` quantities."""
        return self._table("service")

    @property
    def shipments(self) -> pd.DataFrame:
        """``entry, period, quantity``: what each entry received in each period."""
        return self._table("shipments")

    @property
    def lines(self) -> pd.DataFrame:
        """``line, period, available_hours, overtime_hours, used_hours, utilization``."""
        return self._table("lines")

    @property
    def materials(self) -> pd.DataFrame:
        """``material, period, opening, received, consumed, closing``."""
        return self._table("materials")

    def tables(self) -> dict[str, pd.DataFrame]:
        """All output tables by file name (without ``.csv``)."""
        return {name: self._table(name) for name in TABLE_NAMES}

    def write(
        self,
        folder: str | Path,
        extra: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write the plan folder of DATASET.md "Output", atomically.

        Parameters
        ----------
        folder
            Target folder; replaced as a whole if it exists (only once the new plan
            is complete). An existing folder must be empty or a plan folder (it holds
            ``summary.json``), so that no other files are removed with it.
        extra
            Called with the temporary folder to add more files (reports) before the
            rename; if it raises, nothing is written.

        Raises
        ------
        NotADirectoryError
            ``folder`` is a file.
        FileExistsError
            ``folder`` holds files but is not a plan folder.
        """
        tables = self.tables()
        target = Path(folder).resolve()
        if problem := replace_problem(target):
            if not target.is_dir():
                raise NotADirectoryError(f"{target} {problem}")
            raise FileExistsError(f"{target} {problem}")

        def fill(tmp: Path) -> None:
            for name, frame in tables.items():
                write_csv(frame, tmp / f"{name}.csv")
            (tmp / "summary.json").write_text(self.summary.to_json())
            if extra is not None:
                extra(tmp)

        return write_folder(target, fill)

    def to_excel(self, path: str | Path) -> Path:
        """One workbook: a sheet per table plus ``summary``, formatted for a planner."""
        from optimizer.reports.excel import write_workbook

        sheets = dict(self.tables())
        return write_workbook(Path(path), sheets, self.summary)


def write_folder(folder: str | Path, fill: Callable[[Path], None]) -> Path:
    """``folder`` written atomically: ``fill`` writes the files into a hidden temporary
    folder beside it, which then replaces ``folder`` as a whole. If ``fill`` raises (or
    the process is interrupted), the temporary folder is removed and ``folder`` is left
    as it was. The caller decides whether ``folder`` may be replaced."""
    target = Path(folder).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it private; a plan is for colleagues to read
        _replace_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A table as CSV: floats as plain decimals in full precision (the shortest text that
    reads back to the same number, never an exponent), booleans as true/false, blank
    for a missing value; text quoted only where it holds a comma, quote or line break."""
    columns = [_csv_cells(frame[col]) for col in frame.columns]
    lines = [",".join(_quoted([str(c) for c in frame.columns]))]
    lines.extend(map(",".join, zip(*columns, strict=True)))
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8", newline="")


def _csv_cells(series: pd.Series) -> list[str]:
    """One column's CSV cells."""
    if pd.api.types.is_bool_dtype(series):
        return np.where(series.to_numpy(dtype=bool), "true", "false").tolist()  # type: ignore[no-any-return]
    if pd.api.types.is_float_dtype(series):
        return plain_decimals(series.to_numpy(dtype=np.float64))
    if pd.api.types.is_integer_dtype(series) and not series.hasnans:
        return _int_texts(series.to_numpy(dtype=np.int64)).tolist()  # type: ignore[no-any-return]
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # none missing
        return _quoted(values.tolist())
    missing = pd.isna(values)
    if missing.any():
        values = np.where(missing, "", values)
    return _quoted([str(c) for c in values.tolist()])


def _quoted(cells: list[str]) -> list[str]:
    """CSV quoting (as the csv module's minimal quoting): only cells that need it."""
    joined = "\x00".join(cells)
    if not ("," in joined or '"' in joined or "\n" in joined or "\r" in joined):
        return cells
    special = re.compile(r'[,"\n\r]')
    return ['"' + c.replace('"', '""') + '"' if special.search(c) else c for c in cells]


def plain_decimals(values: np.ndarray) -> list[str]:
    """``0.00005`` rather than ``5e-05``; ``""`` for NaN; integers without ``.0``."""
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(values)
        # whole numbers (most of a plan: zeros, full lots) as ints, the rest by repr,
        # which ends in ".0" only for whole numbers
        whole = (values == np.floor(values)) & (magnitude < 1e16)
        # repr writes an exponent below 1e-4 and from 1e16 on; NaN has its own
        odd = np.flatnonzero(~whole & (~(magnitude >= 1e-4) | (magnitude >= 1e16)))
    if whole.all():
        return _int_texts(values.astype(np.int64)).tolist()  # type: ignore[no-any-return]
    cells = np.full(len(values), "0", dtype=object)  # a third of a plan's numbers
    counted = np.flatnonzero(whole & (values != 0))
    cells[counted] = _int_texts(values[counted].astype(np.int64))
    rest = np.flatnonzero(~whole)
    cells[rest] = list(map(repr, values[rest].tolist()))
    out: list[str] = cells.tolist()
    for i in odd.tolist():
        v = float(values[i])
        if v != v:
            out[i] = ""
        elif "e" in out[i]:
            out[i] = np.format_float_positional(v, unique=True, trim="-")
    return out


def _int_texts(ints: np.ndarray) -> np.ndarray:
    """``str`` of each integer (an object array), each distinct value converted once: a
    plan repeats few (generated l, seed 97: 251,738 whole non-zero quantities, 4,679
    distinct; 11 ms instead of 47, best of 9)."""
    codes, distinct = pd.factorize(ints)
    texts: np.ndarray = np.array(list(map(str, distinct.tolist())), dtype=object)[codes]
    return texts


DESKTOP_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
"""Files a file browser leaves in any folder it shows (macOS Finder, Windows Explorer):
a folder holding only these is empty to a planner, and a plan or report may replace it."""


def own_files(folder: Path) -> list[Path]:
    """The entries of ``folder`` but :data:`DESKTOP_FILES`."""
    return [p for p in folder.iterdir() if p.name not in DESKTOP_FILES]


def replace_problem(target: Path) -> str | None:
    """Why a plan folder must not replace ``target``, or ``None`` (it does not exist, is
    empty but for :data:`DESKTOP_FILES`, or is a plan folder: it holds ``summary.json``)."""
    if not target.exists():
        return None
    if not target.is_dir():
        return "is a file, not a folder"
    if (target / "summary.json").is_file() or not own_files(target):
        return None
    return (
        "holds files and is not a plan folder (it has no summary.json); a plan replaces"
        " its folder as a whole, so give a new or empty folder, or an earlier plan's"
    )


def _replace_folder(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an existing ``target`` is swapped out, then removed."""
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.rmdir(old)
        os.replace(target, old)
        try:
            os.replace(new, target)
        except BaseException:
            os.replace(old, target)  # put the previous plan back
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)
