"""Plan verification: every constraint of MODEL.md, checked from the plan's tables.

:func:`verify_tables` reads nothing but the dataset and the output tables of
DATASET.md "Output" (and ``summary.json``): it never looks at a formulation, its
variables or its constraint matrix, so it is an independent second implementation
of the model that catches a formulation, extraction or solver defect.

The plan's decisions are the production quantities and setups (``production``),
the shipments of each demand entry (``shipments``) and the overtime used
(``lines``); every other number follows from them and the dataset. Verification
recomputes the stocks from the decisions (product and material balances 3-4 of
MODEL.md), checks every constraint on them, checks each derived column of the tables
against the recomputed value, and recomputes every objective term. Each fault is
reported once, where it is: a wrong closing stock in ``inventory.csv`` is one
violation, not a chain of them.

A violation must exceed the tolerance relative to ``max(1, magnitude of the terms
involved)``. Messages name products, lines, materials, entries and periods by id,
in a planner's words; at most ``max_per_kind`` are listed per kind, then a count.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.dataset import Dataset
from optimizer.demand import entries as demand_entries
from optimizer.exceptions import NOT_CHECKED
from optimizer.results import TABLE_NAMES, Plan, Summary
from optimizer.schema import OBJECTIVE_TERMS, PRODUCTION_TERMS

__all__ = ["verify_folder", "verify_plan", "verify_tables"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Objects = npt.NDArray[np.object_]

"""MODEL.md's objective terms, as ``summary.json`` names them."""

"""Optional keys that split ``production``; checked when present."""

MAX_PER_KIND = 20
"""Violations listed per kind before the rest are counted."""

_ID, _NUM, _BOOL = "id", "number", "bool"

COLUMNS: dict[str, dict[str, str]] = {
    "production": {
        "product": _ID,
        "line": _ID,
        "period": _ID,
        "quantity": _NUM,
        "hours": _NUM,
        "setup": _BOOL,
    },
    "inventory": {
        "product": _ID,
        "period": _ID,
        "opening": _NUM,
        "produced": _NUM,
        "shipped": _NUM,
        "closing": _NUM,
        "safety_stock": _NUM,
        "below_safety_stock": _NUM,
    },
    "service": {
        "entry": _ID,
        "kind": _ID,
        "order": _ID,
        "customer": _ID,
        "product": _ID,
        "priority": _NUM,
        "due": _ID,
        "quantity": _NUM,
        "on_time": _NUM,
        "late": _NUM,
        "unmet": _NUM,
    },
    "shipments": {"entry": _ID, "period": _ID, "quantity": _NUM},
    "lines": {
        "line": _ID,
        "period": _ID,
        "available_hours": _NUM,
        "overtime_hours": _NUM,
        "used_hours": _NUM,
        "utilization": _NUM,
    },
    "materials": {
        "material": _ID,
        "period": _ID,
        "opening": _NUM,
        "received": _NUM,
        "consumed": _NUM,
        "closing": _NUM,
    },
}
"""The columns of every output table (DATASET.md "Output") and how to read them."""

_BLANK_ALLOWED = {("lines", "utilization")}
"""Number columns that may be blank (utilization, when no regular hours)."""

_DECISIONS = {("production", "quantity"), ("shipments", "quantity"), ("lines", "overtime_hours")}
"""The plan's decisions: a negative one is reported as such. Every other column is
checked against the value recomputed from the decisions, which covers its sign."""

_TRUE: dict[Any, float] = {
    **{w: 1.0 for w in ("true", "True", "TRUE", "1", True)},
    **{w: 0.0 for w in ("false", "False", "FALSE", "0", False)},
}


# --------------------------------------------------------------------------- public API


def verify_plan(dataset: Dataset, plan: Plan, tol: float = 1e-6) -> list[str]:
    """Check a plan against every constraint of MODEL.md.

    Parameters
    ----------
    dataset
        The dataset the plan was made for.
    plan
        The plan (its tables and summary).
    tol
        Relative tolerance: a violation must exceed ``tol * max(1, magnitude)``.

    Returns
    -------
    list of str
        The violations in a planner's words; empty for a valid plan.
    """
    if not plan.has_solution:
        return [f"the plan has no tables: the solve ended '{plan.summary.status}'"]
    return verify_tables(dataset, plan.tables(), plan.summary, tol)


def verify_tables(
    dataset: Dataset,
    tables: Mapping[str, pd.DataFrame],
    summary: Mapping[str, Any] | Summary | None,
    tol: float = 1e-6,
    *,
    max_per_kind: int = MAX_PER_KIND,
) -> list[str]:
    """Check plan tables (and a summary) against the dataset and MODEL.md.

    Parameters
    ----------
    dataset
        The dataset the plan was made for.
    tables
        The output tables by name (``production``, ``inventory``, ``service``,
        ``shipments``, ``lines``, ``materials``) with DATASET.md's columns; numbers
        may be numeric columns or text (as read from CSV), ``setup`` bool or
        ``true``/``false``.
    summary
        ``summary.json`` as a :class:`~optimizer.results.Summary` or a dict; ``None``
        skips the objective and rate checks.
    tol
        Relative tolerance: a violation must exceed ``tol * max(1, magnitude)``.
    max_per_kind
        Violations listed per kind; the rest are counted in one line.

    Returns
    -------
    list of str
        The violations in a planner's words; empty for a valid plan.
    """
    report = _Report(max_per_kind)
    for name in TABLE_NAMES:
        if name not in tables:
            report.add("tables", f"missing table {name}.csv")
    _verify(dataset, tables, summary, tol, report)
    return report.violations()


def verify_folder(
    dataset: Dataset, folder: str | Path, tol: float = 1e-6, *, max_per_kind: int = MAX_PER_KIND
) -> list[str]:
    """Check a plan folder (DATASET.md "Output") against its dataset.

    Parameters
    ----------
    dataset
        The dataset the plan was made for.
    folder
        The plan folder: ``production.csv`` ... ``materials.csv`` and
        ``summary.json``.
    tol
        Relative tolerance: a violation must exceed ``tol * max(1, magnitude)``.
    max_per_kind
        Violations listed per kind; the rest are counted in one line.

    Returns
    -------
    list of str
        The violations, including missing or unreadable files and numbers; never
        raises on a damaged folder.
    """
    folder = Path(folder)
    report = _Report(max_per_kind)
    if not folder.is_dir():
        return [f"{folder}: no such plan folder"]
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLE_NAMES:
        file = folder / f"{name}.csv"
        if not file.is_file():
            report.add("files", f"missing file {file.name}")
            continue
        try:
            tables[name] = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            # pandas' EmptyDataError and ParserError are ValueErrors
            report.add("files", f"{file.name} cannot be read: {exc}")
    summary: dict[str, Any] | None = None
    file = folder / "summary.json"
    if not file.is_file():
        report.add("files", "missing file summary.json")
    else:
        try:
            loaded = json.loads(file.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            report.add("files", f"summary.json cannot be read: {exc}")
        else:
            if isinstance(loaded, dict):
                summary = loaded
            else:
                report.add("files", "summary.json does not hold an object")
    _verify(dataset, tables, summary, tol, report)
    return report.violations()


# --------------------------------------------------------------------------- reporting


class _Report:
    """Violations grouped by kind, at most ``cap`` listed per kind."""

    def __init__(self, cap: int) -> None:
        self.cap = max(cap, 0)
        self._messages: dict[str, list[str]] = {}
        self._counts: dict[str, int] = {}

    def add(self, kind: str, message: str) -> None:
        self.rows(kind, np.ones(1, dtype=bool), lambda _: message)

    def rows(self, kind: str, mask: Bools, message: Callable[[int], str]) -> None:
        """One violation per true element of ``mask``; ``message(i)`` words the i-th."""
        where = np.flatnonzero(mask)
        if not len(where):
            return
        listed = self._messages.setdefault(kind, [])
        seen = self._counts.get(kind, 0)
        for i in where[: max(0, self.cap - seen)]:
            listed.append(message(int(i)))
        self._counts[kind] = seen + len(where)

    def extend(self, other: _Report) -> None:
        """Add ``other``'s violations, as if reported here."""
        for kind, listed in other._messages.items():
            self._messages.setdefault(kind, [])
            room = max(0, self.cap - self._counts.get(kind, 0))
            self._messages[kind] += listed[:room]
            self._counts[kind] = self._counts.get(kind, 0) + other._counts[kind]

    def found(self) -> bool:
        """Whether any violation was found (listed or only counted)."""
        return any(self._counts.values())

    def violations(self) -> list[str]:
        out: list[str] = []
        for kind, listed in self._messages.items():
            out += listed
            rest = self._counts[kind] - len(listed)
            if rest > 0:
                out.append(
                    f"... and {rest} more {kind} violation{'s' if rest != 1 else ''}"
                    f" ({self._counts[kind]} in all)"
                )
        return out


def _n(value: float) -> str:
    """A number for a message: up to 10 significant digits, no ``-0``."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    return f"{value:.10g}"


def _differs(a: Floats, b: Floats, tol: float, *scales: Floats) -> Bools:
    """``|a - b|`` beyond ``tol`` relative to ``max(1, |a|, |b|, scales)``; NaN never differs."""
    scale = np.maximum(np.abs(a), np.abs(b))
    for s in scales:
        scale = np.maximum(scale, np.abs(s))
    with np.errstate(invalid="ignore"):
        return np.asarray(np.abs(a - b) > tol * np.maximum(1.0, scale), dtype=bool)


def _exceeds(lhs: Floats, rhs: Floats, tol: float, *scales: Floats) -> Bools:
    """``lhs > rhs`` beyond ``tol`` relative to ``max(1, |rhs|, scales)``; NaN never exceeds."""
    scale = np.abs(rhs)
    for s in scales:
        scale = np.maximum(scale, np.abs(s))
    with np.errstate(invalid="ignore"):
        return np.asarray(lhs - rhs > tol * np.maximum(1.0, scale), dtype=bool)


# --------------------------------------------------------------------------- the dataset


@dataclass(frozen=True)
class _Data:
    """The dataset in MODEL.md's notation, as arrays indexed by position."""

    period_ids: Objects
    product_ids: Objects
    line_ids: Objects
    material_ids: Objects
    tpos: pd.Index
    ppos: pd.Index
    lpos: pd.Index
    kpos: pd.Index
    # lines (L, T)
    H: Floats
    OT: Floats
    c_ot: Floats
    # routings
    routing_of: Ints  # (P, L) routing position or -1
    rp: Ints
    rl: Ints
    rate: Floats
    s: Floats
    c_s: Floats
    c_r: Floats
    m: Floats
    needs_setup: Bools
    prev: Floats  # (R, T)
    # materials
    Z0: Floats
    h_k: Floats
    Q: Floats  # (K, T)
    bom_p: Ints
    bom_k: Ints
    bom_a: Floats
    # products
    I0: Floats
    ss: Floats
    c_ss: Floats
    h: Floats
    c_short: Floats
    c_late: Floats
    Imax: Floats  # NaN = no limit
    # demand entries
    entries: pd.DataFrame
    epos: pd.Index
    ep: Ints
    et: Ints
    ed: Floats
    tier: Ints
    # settings
    L: int
    F: int
    frozen_cost: float
    change_cost: float
    base: float

    @property
    def T(self) -> int:
        return len(self.period_ids)

    @classmethod
    def of(cls, dataset: Dataset) -> _Data:
        s = dataset.settings
        period_ids = dataset.periods["period"].to_numpy(dtype=object)
        T = len(period_ids)
        tpos = pd.Index(period_ids)
        pr = dataset.products
        product_ids = pr["product"].to_numpy(dtype=object)
        ppos = pd.Index(product_ids)
        ln = dataset.lines
        line_ids = ln["line"].to_numpy(dtype=object)
        lpos = pd.Index(line_ids)
        mt = dataset.materials
        material_ids = mt["material"].to_numpy(dtype=object)
        kpos = pd.Index(material_ids)

        H = np.repeat(_floats(ln["hours"])[:, None], T, axis=1)
        OT = np.repeat(_floats(ln["overtime_hours"])[:, None], T, axis=1)
        cal = dataset.line_calendar
        if len(cal):
            li = lpos.get_indexer(cal["line"])
            ti = tpos.get_indexer(cal["period"])
            ok = (li >= 0) & (ti >= 0)
            H[li[ok], ti[ok]] = _floats(cal["hours"])[ok]
            cal_ot = _floats(cal["overtime_hours"])
            has = ok & ~np.isnan(cal_ot)  # blank calendar overtime: the line's
            OT[li[has], ti[has]] = cal_ot[has]

        rt = dataset.routings
        rp = ppos.get_indexer(rt["product"]).astype(np.int64)
        rl = lpos.get_indexer(rt["line"]).astype(np.int64)
        routing_of = np.full((len(product_ids), len(line_ids)), -1, dtype=np.int64)
        routing_of[rp, rl] = np.arange(len(rt))
        s_hours = _floats(rt["setup_hours"])
        c_s = _floats(rt["setup_cost"])
        m = _floats(rt["min_lot"])

        prev = np.zeros((len(rt), T))
        pp = dataset.previous_plan
        if len(pp):
            pi = ppos.get_indexer(pp["product"])
            li = lpos.get_indexer(pp["line"])
            ti = tpos.get_indexer(pp["period"])
            ok = (pi >= 0) & (li >= 0) & (ti >= 0)
            ri = np.where(ok, routing_of[np.maximum(pi, 0), np.maximum(li, 0)], -1)
            ok &= ri >= 0
            np.add.at(prev, (ri[ok], ti[ok]), _floats(pp["quantity"])[ok])

        Q = np.zeros((len(material_ids), T))
        rc = dataset.receipts
        if len(rc):
            ki = kpos.get_indexer(rc["material"])
            ti = tpos.get_indexer(rc["period"])
            ok = (ki >= 0) & (ti >= 0)
            np.add.at(Q, (ki[ok], ti[ok]), _floats(rc["quantity"])[ok])

        bom = dataset.bom
        bom_p = ppos.get_indexer(bom["product"]).astype(np.int64)
        bom_k = kpos.get_indexer(bom["material"]).astype(np.int64)
        bom_ok = (bom_p >= 0) & (bom_k >= 0)

        ent = demand_entries(dataset).reset_index(drop=True)
        imax = _floats(pr["max_inventory"])
        return cls(
            period_ids=period_ids,
            product_ids=product_ids,
            line_ids=line_ids,
            material_ids=material_ids,
            tpos=tpos,
            ppos=ppos,
            lpos=lpos,
            kpos=kpos,
            H=H,
            OT=OT,
            c_ot=_floats(ln["overtime_cost"]),
            routing_of=routing_of,
            rp=rp,
            rl=rl,
            rate=_floats(rt["rate"]),
            s=s_hours,
            c_s=c_s,
            c_r=_floats(rt["run_cost"]),
            m=m,
            needs_setup=(s_hours > 0) | (c_s > 0) | (m > 0),
            prev=prev,
            Z0=_floats(mt["initial_inventory"]),
            h_k=_floats(mt["holding_cost"]),
            Q=Q,
            bom_p=bom_p[bom_ok],
            bom_k=bom_k[bom_ok],
            bom_a=_floats(bom["quantity_per_unit"])[bom_ok],
            I0=_floats(pr["initial_inventory"]),
            ss=_floats(pr["safety_stock"]),
            c_ss=_floats(pr["safety_stock_cost"]),
            h=_floats(pr["holding_cost"]),
            c_short=_floats(pr["shortage_cost"]),
            c_late=_floats(pr["lateness_cost"]),
            Imax=imax,
            entries=ent,
            epos=pd.Index(ent["entry"].to_numpy(dtype=object)),
            ep=ppos.get_indexer(ent["product"]).astype(np.int64),
            et=tpos.get_indexer(ent["due"]).astype(np.int64),
            ed=_floats(ent["quantity"]),
            tier=ent["priority"].to_numpy(dtype=np.int64),
            L=int(s.demand.max_lateness),
            F=min(int(s.stability.frozen_periods), T),
            frozen_cost=float(s.stability.frozen_shortfall_cost),
            change_cost=float(s.stability.change_cost),
            base=float(s.priority.tier_weight_base),
        )


def _floats(column: pd.Series) -> Floats:
    return np.asarray(pd.to_numeric(column, errors="coerce"), dtype=np.float64)


# --------------------------------------------------------------------------- reading tables


Table = dict[str, npt.NDArray[Any]]
"""A plan table as typed columns (ids object, numbers float) plus ``_row``."""


def _normalise(name: str, frame: pd.DataFrame, tol: float, report: _Report) -> Table | None:
    """The table's columns typed: ids str, numbers float, ``setup`` 0/1 float.

    Unreadable, blank or infinite numbers are reported and become NaN, which no later
    check reports again. A table that lacks columns is reported and left out.
    """
    spec = COLUMNS[name]
    file = f"{name}.csv"
    columns = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in spec if c not in columns]
    if missing:
        report.add(
            "tables", f"{file} lacks column{'s' if len(missing) > 1 else ''} " + ", ".join(missing)
        )
        return None
    rows = np.arange(len(frame), dtype=np.int64) + 2  # as in a spreadsheet, header = row 1
    out: Table = {"_row": rows}
    for col, kind in spec.items():
        raw = frame[columns[col]]
        if kind == _ID:
            out[col] = _ids(raw)
        elif kind == _BOOL:
            out[col] = _flags(raw, file, col, rows, report)
        else:
            out[col] = _numbers(
                raw, file, col, rows, report, blank_ok=(name, col) in _BLANK_ALLOWED
            )
            if (name, col) in _DECISIONS:
                values = out[col]

                def negative(i: int, c: str = col, v: Floats = values) -> str:
                    return f"{file}, row {rows[i]}, column {c}: {_n(v[i])} is negative"

                with np.errstate(invalid="ignore"):
                    report.rows("numbers", values < -tol, negative)
    return out


def _ids(raw: pd.Series) -> Objects:
    """Ids as str; blank (missing) ids become ``""``."""
    values: Objects = np.asarray(raw.to_numpy(dtype=object), dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values  # the usual case, checked in C
    return np.array(["" if _missing(v) else str(v) for v in values], dtype=object)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _flags(raw: pd.Series, file: str, col: str, rows: Ints, report: _Report) -> Floats:
    """``true``/``false`` (any case, or 1/0, or bools) as 1.0/0.0; anything else NaN."""
    if pd.api.types.is_bool_dtype(raw):
        return np.asarray(raw.to_numpy(dtype=np.float64), dtype=np.float64)
    cells = raw.to_numpy(dtype=object)
    flags: Floats = np.asarray(
        pd.Series(cells, dtype=object).map(_TRUE).to_numpy(dtype=np.float64), dtype=np.float64
    )

    def not_bool(i: int) -> str:
        return f"{file}, row {rows[i]}, column {col}: {cells[i]!r} is not true or false"

    report.rows("numbers", np.isnan(flags), not_bool)
    return flags


def _numbers(
    raw: pd.Series, file: str, col: str, rows: Ints, report: _Report, blank_ok: bool
) -> Floats:
    """Numbers as float; unreadable, blank (unless ``blank_ok``) or infinite ones reported."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        blank = np.isnan(values)
        cells = None
    else:
        cells = raw.to_numpy(dtype=object)
        values = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        blank = np.asarray(pd.isna(cells) | (cells == ""), dtype=bool)
    bad = ~np.isfinite(values) & ~(blank & blank_ok)

    def word(i: int) -> str:
        if blank[i]:
            what = "is blank"
        elif cells is None:
            what = f"{values[i]} is not a finite number"
        else:
            what = f"{cells[i]!r} is not a finite number"
        return f"{file}, row {rows[i]}, column {col}: {what}"

    report.rows("numbers", bad, word)
    return np.asarray(np.where(bad, np.nan, values), dtype=np.float64)


def _locate(
    name: str,
    table: Table,
    ids: Mapping[str, tuple[pd.Index, str]],
    report: _Report,
) -> tuple[Table, dict[str, Ints]]:
    """Rows whose ids are known, first of each key; positions of their ids.

    Unknown ids and repeated keys are reported; such rows are left out.
    """
    file = f"{name}.csv"
    rows = table["_row"]
    known = np.ones(len(rows), dtype=bool)
    positions: dict[str, Ints] = {}
    code = np.zeros(len(rows), dtype=np.int64)
    for col, (index, what) in ids.items():
        values = table[col]
        pos = index.get_indexer(values).astype(np.int64)

        def unknown(i: int, w: str = what, v: Objects = values) -> str:
            return f"{file}, row {rows[i]}: unknown {w} {v[i]!r}"

        report.rows("unknown ids", (pos < 0) & known, unknown)
        known &= pos >= 0
        positions[col] = pos
        code = code * max(len(index), 1) + pos
    dup = known.copy()
    first = np.unique(code[known], return_index=True)[1]
    dup[np.flatnonzero(known)[first]] = False

    def word(i: int) -> str:
        parts = ", ".join(f"{c} {table[c][i]}" for c in ids)
        return f"{file}, row {rows[i]}: a second row for {parts}"

    report.rows("duplicate rows", dup, word)
    keep = known & ~dup
    return {c: v[keep] for c, v in table.items()}, {c: p[keep] for c, p in positions.items()}


Located = tuple[Table, dict[str, Ints]]
"""A table's rows with known ids (first of each key), and the positions of their ids."""


def _dense(shape: tuple[int, ...], index: tuple[Ints, ...], values: Floats, fill: float) -> Floats:
    out = np.full(shape, fill, dtype=np.float64)
    out[index] = values
    return out


def _missing_rows(
    report: _Report, file: str, present: Bools, first: Objects, second: Objects, what: str
) -> None:
    """Report every ``(i, t)`` of a keyed table without a row."""
    i, t = np.nonzero(~present)
    report.rows(
        "missing rows",
        np.ones(len(i), dtype=bool),
        lambda j: f"{file} has no row for {what} {first[i[j]]}, period {second[t[j]]}",
    )


# --------------------------------------------------------------------------- verification


@dataclass
class _Decisions:
    """The plan's decisions, dense; NaN where a table could not be read."""

    x: Floats  # (R, T) production
    y: Floats  # (R, T) setup flag 0/1
    o: Floats  # (L, T) overtime used
    ship_e: Ints  # shipments: entry position, period position, quantity
    ship_u: Ints
    ship_q: Floats


def _verify(
    dataset: Dataset,
    tables: Mapping[str, pd.DataFrame],
    summary: Mapping[str, Any] | Summary | None,
    tol: float,
    report: _Report,
) -> None:
    d = _Data.of(dataset)
    norm: dict[str, Table | None] = {
        name: _normalise(name, tables[name], tol, report) if name in tables else None
        for name in TABLE_NAMES
    }
    located = _located(d, norm, report)
    if located is None:
        return
    x, y = _production(d, located.get("production"), report, tol)
    o = _lines(d, x, y, located.get("lines"), report, tol)
    ship_e, ship_u, ship_q = _shipments(d, located.get("shipments"), report, tol)
    dec = _Decisions(x, y, o, ship_e, ship_u, ship_q)
    _setups(d, dec, report, tol)
    _frozen_fence(d, dec, report, tol)
    Z = _materials(d, dec, located.get("materials"), report, tol)
    inv, below = _inventory(d, dec, located.get("inventory"), report, tol)
    unmet, on_time = _service(d, dec, located.get("service"), report, tol)
    if summary is not None:
        data = summary.model_dump() if isinstance(summary, Summary) else dict(summary)
        _summary(d, dec, Z, inv, below, unmet, on_time, data, dataset, report, tol)


def _keys(d: _Data, name: str) -> dict[str, tuple[pd.Index, str]]:
    """The id columns of output table ``name``: the dataset's ids of each, and its word."""
    period = {"period": (d.tpos, "period")}
    return {
        "production": {"product": (d.ppos, "product"), "line": (d.lpos, "line"), **period},
        "lines": {"line": (d.lpos, "line"), **period},
        "shipments": {"entry": (d.epos, "demand entry"), **period},
        "materials": {"material": (d.kpos, "material"), **period},
        "inventory": {"product": (d.ppos, "product"), **period},
        "service": {"entry": (d.epos, "demand entry")},
    }[name]


def _located(
    d: _Data, norm: Mapping[str, Table | None], report: _Report
) -> dict[str, Located] | None:
    """Each table's rows placed in the dataset (:func:`_locate`); ``None`` if some row
    names an id the dataset lacks or repeats a key.

    Those rows are then reported and the constraints are not checked: every check would
    read such a plan wrongly (one product misspelt in production.csv read as 51 broken
    constraints, hours and material and stock chains, after the one to act on).
    """
    probe = _Report(report.cap)
    located = {
        name: _locate(name, table, _keys(d, name), probe)
        for name, table in norm.items()
        if table is not None
    }
    if not probe.found():
        return located
    report.extend(probe)
    report.add("not checked", NOT_CHECKED)
    return None


def _production(
    d: _Data, found: Located | None, report: _Report, tol: float
) -> tuple[Floats, Floats]:
    """Production and setups (R, T); rows on no routing reported and left out."""
    R, T = len(d.rp), d.T
    if found is None:
        return np.full((R, T), np.nan), np.full((R, T), np.nan)
    frame, pos = found
    r = d.routing_of[pos["product"], pos["line"]]
    t = pos["period"]
    q = frame["quantity"]
    flag = frame["setup"]
    rows = frame["_row"]
    prods = frame["product"]
    lines = frame["line"]
    pers = frame["period"]
    with np.errstate(invalid="ignore"):
        active = (np.abs(q) > tol) | (flag > 0.5)
    report.rows(
        "routing",
        (r < 0) & active,
        lambda i: (
            f"production.csv, row {rows[i]}: product {prods[i]} is made on line {lines[i]} in "
            f"{pers[i]} ({_n(q[i])} units) but has no routing on that line"
        ),
    )
    ok = r >= 0
    r, t, q, flag = r[ok], t[ok], q[ok], flag[ok]
    hours = frame["hours"][ok]
    rows, prods, lines, pers = rows[ok], prods[ok], lines[ok], pers[ok]
    expected = q / d.rate[r] + d.s[r] * flag
    report.rows(
        "production hours",
        _differs(hours, expected, tol),
        lambda i: (
            f"product {prods[i]} on line {lines[i]}, period {pers[i]}: production.csv says "
            f"{_n(hours[i])} h, but {_n(q[i])} units at {_n(d.rate[r[i]])}/h"
            + (f" + {_n(d.s[r[i]])} h setup" if d.s[r[i]] > 0 and flag[i] > 0.5 else "")
            + f" take {_n(expected[i])} h"
        ),
    )
    x = _dense((R, T), (r, t), q, 0.0)
    y = _dense((R, T), (r, t), flag, 0.0)
    return x, y


def _lines(
    d: _Data, x: Floats, y: Floats, found: Located | None, report: _Report, tol: float
) -> Floats:
    """Capacity (constraint 1), overtime bound and the lines table; returns overtime used."""
    L, T = len(d.line_ids), d.T
    used = np.zeros((L, T))
    np.add.at(used, d.rl, x / d.rate[:, None] + d.s[:, None] * y)
    lid, per = d.line_ids, d.period_ids
    o = np.full((L, T), np.nan)
    frame: Table | None = None
    if found is not None:
        frame, pos = found
        li, ti = pos["line"], pos["period"]
        present = _dense((L, T), (li, ti), np.ones(len(li)), 0.0) > 0
        _missing_rows(report, "lines.csv", present, lid, per, "line")
        o[li, ti] = frame["overtime_hours"]

    i, t = np.nonzero(_exceeds(o, d.OT, tol))
    report.rows(
        "overtime",
        np.ones(len(i), dtype=bool),
        lambda j: (
            f"line {lid[i[j]]}, period {per[t[j]]}: {_n(o[i[j], t[j]])} h overtime used of "
            f"{_n(d.OT[i[j], t[j]])} h available"
        ),
    )
    ot = np.where(np.isnan(o), d.OT, o)  # a missing row: the most overtime there is
    i, t = np.nonzero(_exceeds(used, d.H + ot, tol, used))
    report.rows(
        "capacity",
        np.ones(len(i), dtype=bool),
        lambda j: (
            f"line {lid[i[j]]}, period {per[t[j]]}: {_n(used[i[j], t[j]])} h used of "
            f"{_n(d.H[i[j], t[j]])} h + {_n(ot[i[j], t[j]])} h overtime"
        ),
    )
    if frame is None:
        return o

    avail = frame["available_hours"]
    used_tab = frame["used_hours"]
    util = frame["utilization"]
    H, U = d.H[li, ti], used[li, ti]

    def where(j: int) -> str:
        return f"line {lid[li[j]]}, period {per[ti[j]]}: lines.csv"

    report.rows(
        "lines.csv",
        _differs(avail, H, tol),
        lambda j: f"{where(j)} says {_n(avail[j])} h available, the dataset gives {_n(H[j])} h",
    )
    report.rows(
        "lines.csv",
        _differs(used_tab, U, tol),
        lambda j: f"{where(j)} says {_n(used_tab[j])} h used, production takes {_n(U[j])} h",
    )
    # whether hours are available is the dataset's to say (the table's figure is
    # checked above, within the tolerance: 1e-9 h written for none is not a line open)
    has_hours = H > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(has_hours, used_tab / avail, np.nan)
    report.rows(
        "lines.csv",
        _differs(util, ratio, tol),
        lambda j: (
            f"{where(j)} says utilization {_n(util[j])}, but {_n(used_tab[j])} h used of "
            f"{_n(avail[j])} h is {_n(ratio[j])}"
        ),
    )
    report.rows(
        "lines.csv",
        has_hours & np.isnan(util) & ~np.isnan(used_tab),
        lambda j: f"{where(j)} leaves utilization blank though {_n(avail[j])} h are available",
    )
    report.rows(
        "lines.csv",
        ~has_hours & ~np.isnan(util),
        lambda j: (
            f"{where(j)} gives utilization {_n(util[j])}, but no hours are available "
            "(it should be blank)"
        ),
    )
    return o


def _shipments(
    d: _Data, found: Located | None, report: _Report, tol: float
) -> tuple[Ints, Ints, Floats]:
    """Shipments of known entries in known periods; the lateness window is checked."""
    if found is None:
        # unknown shipments: every entry's service is unknown
        E = len(d.epos)
        return (
            np.arange(E, dtype=np.int64),
            np.maximum(d.et, 0),
            np.full(E, np.nan),
        )
    frame, pos = found
    e, u = pos["entry"], pos["period"]
    q = frame["quantity"]
    due = d.et[e]
    last = np.minimum(due + d.L, d.T - 1)
    eid, per = d.epos.to_numpy(dtype=object), d.period_ids
    with np.errstate(invalid="ignore"):
        shipped = q > tol
    report.rows(
        "shipments",
        shipped & (u < due),
        lambda j: (
            f"entry {eid[e[j]]} (product {d.product_ids[d.ep[e[j]]]}, due {per[due[j]]}): "
            f"{_n(q[j])} shipped in {per[u[j]]}, before its due period"
        ),
    )
    report.rows(
        "shipments",
        shipped & (u > last),
        lambda j: (
            f"entry {eid[e[j]]} (product {d.product_ids[d.ep[e[j]]]}, due {per[due[j]]}): "
            f"{_n(q[j])} shipped in {per[u[j]]}, "
            + (
                "after its due period (max_lateness 0: unmet demand is lost)"
                if d.L == 0
                else f"later than {per[last[j]]} (max_lateness {d.L})"
            )
        ),
    )
    return e, u, q


def _setups(d: _Data, dec: _Decisions, report: _Report, tol: float) -> None:
    """Setup link and minimum lot (constraint 2), and the setup flag of other routings."""
    x, y = dec.x, dec.y
    need = d.needs_setup[:, None]
    cap = d.rate[:, None] * np.maximum(0.0, d.H[d.rl] + d.OT[d.rl] - d.s[:, None])
    with np.errstate(invalid="ignore"):
        on, off = y > 0.5, y < 0.5

    def where(r: int, t: int) -> str:
        return (
            f"product {d.product_ids[d.rp[r]]} on line {d.line_ids[d.rl[r]]}, "
            f"period {d.period_ids[t]}"
        )

    def rows(kind: str, mask: Bools, word: Callable[[int, int], str]) -> None:
        r, t = np.nonzero(mask)
        report.rows(kind, np.ones(len(r), dtype=bool), lambda j: word(int(r[j]), int(t[j])))

    rows(
        "setup",
        need & off & _exceeds(x, np.zeros_like(x), tol, cap),
        lambda r, t: f"{where(r, t)}: {_n(x[r, t])} produced without a setup",
    )
    rows(
        "setup",
        need & on & _exceeds(np.broadcast_to(d.m[:, None], x.shape), x, tol),
        lambda r, t: (
            f"{where(r, t)}: {_n(x[r, t])} produced, below the minimum lot of {_n(d.m[r])}"
        ),
    )
    rows(
        "setup",
        need & on & _exceeds(x, cap, tol),
        lambda r, t: (
            f"{where(r, t)}: {_n(x[r, t])} produced, more than the {_n(cap[r, t])} the line can "
            f"make in a period after its {_n(d.s[r])} h setup"
        ),
    )
    rows(
        "setup",
        ~need & off & _exceeds(x, np.zeros_like(x), tol),
        lambda r, t: f"{where(r, t)}: setup false though {_n(x[r, t])} produced",
    )
    rows(
        "setup",
        ~need & on & (x == 0),
        lambda r, t: f"{where(r, t)}: setup true though nothing is produced",
    )


def _frozen_fence(d: _Data, dec: _Decisions, report: _Report, tol: float) -> None:
    """Constraint 7: no more than the previous plan inside the fence."""
    F = d.F
    if F == 0:
        return
    x, prev = dec.x[:, :F], d.prev[:, :F]
    r, t = np.nonzero(_exceeds(x, prev, tol))
    report.rows(
        "frozen fence",
        np.ones(len(r), dtype=bool),
        lambda j: (
            f"product {d.product_ids[d.rp[r[j]]]} on line {d.line_ids[d.rl[r[j]]]}, period "
            f"{d.period_ids[t[j]]}: {_n(x[r[j], t[j]])} produced, more than the previous plan's "
            f"{_n(prev[r[j], t[j]])} inside the frozen fence ("
            + ("the first period)" if F == 1 else f"the first {F} periods)")
        ),
    )


def _stock_chain(start: Floats, inflow: Floats, outflow: Floats) -> tuple[Floats, Floats]:
    """Opening and closing stock from the initial stock and the flows of each period."""
    closing = start[:, None] + np.cumsum(inflow - outflow, axis=1)
    opening = np.concatenate([start[:, None], closing[:, :-1]], axis=1)
    return opening, closing


def _flow_scale(opening: Floats, inflow: Floats, outflow: Floats) -> Floats:
    """(items, T): the size of the terms a stock in each period is the sum of: the
    initial stock and every flow in and out up to that period. Its rounding is relative
    to them (MODEL.md's 1e-6 relative), not to the period's own flows alone: a plan
    saved back from a spreadsheet (8 digits a cell) carries each period's round-off
    into every later stock (bodywash: 0.044 units after 20 weeks of 1e5-unit flows,
    flagged where a period's own flows were 0)."""
    flows = np.cumsum(np.abs(inflow) + np.abs(outflow), axis=1)
    return np.asarray(np.abs(opening[:, :1]) + flows, dtype=np.float64)


def _shortfall(
    opening: Floats, inflow: Floats, outflow: Floats, closing: Floats, tol: float
) -> Bools:
    """Periods where a stock goes below zero, or further below: one violation per cause.

    A stock left negative by an earlier period and not drawn down further is that
    period's violation, not a new one.
    """
    chain = _flow_scale(opening, inflow, outflow)  # at least each of the period's terms
    return _goes_negative(opening, inflow, outflow, closing, tol, chain)


def _goes_negative(
    opening: Floats, inflow: Floats, outflow: Floats, closing: Floats, tol: float, scale: Floats
) -> Bools:
    """A stock below zero beyond ``tol`` relative to ``scale``, not left so by an earlier
    period without being drawn down further."""
    zero = np.zeros_like(closing)
    negative = _exceeds(zero, closing, tol, scale)
    was_negative = _exceeds(zero, opening, tol, scale)
    worse = _exceeds(outflow, inflow, tol, opening)
    return negative & (~was_negative | worse)


def _table_shortfall(
    frame: Table, inflow: str, outflow: str, consistent: Bools, done: Bools, tol: float
) -> Bools:
    """Rows of a stock table whose own closing is below zero, relative to the row's terms.

    A stock recomputed from the decisions carries the round-off of every earlier period,
    so it is judged relative to all of them (:func:`_shortfall`): half a unit short
    after 600,000 units of flows is within that. The table's own row, where it agrees
    with the recomputed stock (``consistent``), is judged relative to its own period's
    terms only, which catches it. Rows already reported (``done``) are left out.
    """
    opening, flow_in, flow_out = frame["opening"], frame[inflow], frame[outflow]
    own = np.maximum(np.abs(opening), np.maximum(np.abs(flow_in), np.abs(flow_out)))
    short = _goes_negative(opening, flow_in, flow_out, frame["closing"], tol, own)
    return np.asarray(short & consistent & ~done, dtype=bool)


def _compare_columns(
    report: _Report,
    kind: str,
    frame: Table,
    index: tuple[Ints, Ints],
    expected: Mapping[str, tuple[Floats, str]],
    where: Callable[[int], str],
    tol: float,
    scale: Floats | None = None,
    chained: Collection[str] = (),
) -> Bools:
    """Each table column against its recomputed value (one violation per wrong cell);
    returns the rows with a wrong cell.

    ``scale`` (same shape as the expected values) is the size of the flows behind each
    cell of the ``chained`` columns: a stock recomputed from many weeks of production
    and shipments may differ from the table by the solver's tolerance relative to those
    flows, not to the stock. Every other column is judged relative to its own values.
    """
    extra = () if scale is None else (scale[index],)
    wrong_rows = np.zeros(len(index[0]), dtype=bool)
    for col, (values, how) in expected.items():
        got = frame[col]
        want = values[index]

        def wrong(j: int, c: str = col, g: Floats = got, w: Floats = want, h: str = how) -> str:
            return (
                f"{where(j)}: {kind} says {c.replace('_', ' ')} {_n(g[j])}, expected {_n(w[j])}"
                + (f" ({h})" if h else "")
            )

        bad = _differs(got, want, tol, *(extra if col in chained else ()))
        wrong_rows |= bad
        report.rows(kind, bad, wrong)
    return wrong_rows


def _materials(
    d: _Data, dec: _Decisions, found: Located | None, report: _Report, tol: float
) -> Floats:
    """Material balance (constraint 3) from production; returns closing stock (K, T)."""
    K, T = len(d.material_ids), d.T
    produced = np.zeros((len(d.product_ids), T))
    np.add.at(produced, d.rp, dec.x)
    consumed = np.zeros((K, T))
    np.add.at(consumed, d.bom_k, d.bom_a[:, None] * produced[d.bom_p])
    opening, closing = _stock_chain(d.Z0, d.Q, consumed)
    kid, per = d.material_ids, d.period_ids

    def short(
        k: Ints, t: Ints, z0: Floats, q: Floats, c: Floats, z: Floats
    ) -> Callable[[int], str]:
        return lambda j: (
            f"material {kid[k[j]]}, period {per[t[j]]}: production consumes {_n(c[j])} but only "
            f"{_n(z0[j] + q[j])} is available (opening {_n(z0[j])} + received {_n(q[j])}): "
            f"closing stock {_n(z[j])}"
        )

    flagged = _shortfall(opening, d.Q, consumed, closing, tol)
    k, t = np.nonzero(flagged)
    report.rows(
        "material shortage",
        np.ones(len(k), dtype=bool),
        short(k, t, opening[k, t], d.Q[k, t], consumed[k, t], closing[k, t]),
    )
    if found is None:
        return closing
    frame, pos = found
    ki, ti = pos["material"], pos["period"]
    present = _dense((K, T), (ki, ti), np.ones(len(ki)), 0.0) > 0
    _missing_rows(report, "materials.csv", present, kid, per, "material")
    wrong = _compare_columns(
        report,
        "materials.csv",
        frame,
        (ki, ti),
        {
            "opening": (opening, "the initial stock, or the previous period's closing"),
            "received": (d.Q, "the receipts of the period"),
            "consumed": (consumed, "bill of materials x production"),
            "closing": (closing, "opening + received - consumed"),
        },
        lambda j: f"material {kid[ki[j]]}, period {per[ti[j]]}",
        tol,
        _flow_scale(opening, d.Q, consumed),
        chained=("opening", "closing"),
    )
    rows = _table_shortfall(frame, "received", "consumed", ~wrong, flagged[ki, ti], tol)
    report.rows(
        "material shortage",
        rows,
        short(ki, ti, frame["opening"], frame["received"], frame["consumed"], frame["closing"]),
    )
    return closing


def _inventory(
    d: _Data, dec: _Decisions, found: Located | None, report: _Report, tol: float
) -> tuple[Floats, Floats]:
    """Product balance (constraint 4), storage limit and safety stock; returns ``I``, ``S``."""
    P, T = len(d.product_ids), d.T
    produced = np.zeros((P, T))
    np.add.at(produced, d.rp, dec.x)
    shipped = np.zeros((P, T))
    np.add.at(shipped, (d.ep[dec.ship_e], dec.ship_u), dec.ship_q)
    opening, closing = _stock_chain(d.I0, produced, shipped)
    below = np.maximum(0.0, d.ss[:, None] - closing)
    pid, per = d.product_ids, d.period_ids
    chain = _flow_scale(opening, produced, shipped)

    def short(
        p: Ints, t: Ints, i0: Floats, x: Floats, f: Floats, i: Floats
    ) -> Callable[[int], str]:
        return lambda j: (
            f"product {pid[p[j]]}, period {per[t[j]]}: {_n(f[j])} shipped but only "
            f"{_n(i0[j] + x[j])} on hand (opening {_n(i0[j])} + produced {_n(x[j])}): closing "
            f"inventory {_n(i[j])}"
        )

    def above(p: Ints, t: Ints, i: Floats) -> Callable[[int], str]:
        return lambda j: (
            f"product {pid[p[j]]}, period {per[t[j]]}: closing inventory {_n(i[j])} above the "
            f"maximum of {_n(d.Imax[p[j]])}"
        )

    flagged = _shortfall(opening, produced, shipped, closing, tol)
    p, t = np.nonzero(flagged)
    report.rows(
        "inventory",
        np.ones(len(p), dtype=bool),
        short(p, t, opening[p, t], produced[p, t], shipped[p, t], closing[p, t]),
    )
    imax = np.broadcast_to(np.where(np.isnan(d.Imax), np.inf, d.Imax)[:, None], closing.shape)
    full = _exceeds(closing, imax, tol, chain)
    p, t = np.nonzero(full)
    report.rows("inventory", np.ones(len(p), dtype=bool), above(p, t, closing[p, t]))
    if found is None:
        return closing, below
    frame, pos = found
    pi, ti = pos["product"], pos["period"]
    present = _dense((P, T), (pi, ti), np.ones(len(pi)), 0.0) > 0
    _missing_rows(report, "inventory.csv", present, pid, per, "product")
    wrong = _compare_columns(
        report,
        "inventory.csv",
        frame,
        (pi, ti),
        {
            "opening": (opening, "the initial inventory, or the previous period's closing"),
            "produced": (produced, "production over all lines"),
            "shipped": (shipped, "shipments of the product's entries"),
            "closing": (closing, "opening + produced - shipped"),
            "safety_stock": (np.repeat(d.ss[:, None], T, axis=1), "the product's safety stock"),
            "below_safety_stock": (below, "safety stock - closing, when positive"),
        },
        lambda j: f"product {pid[pi[j]]}, period {per[ti[j]]}",
        tol,
        chain,
        chained=("opening", "closing", "below_safety_stock"),
    )
    rows = _table_shortfall(frame, "produced", "shipped", ~wrong, flagged[pi, ti], tol)
    report.rows(
        "inventory",
        rows,
        short(pi, ti, frame["opening"], frame["produced"], frame["shipped"], frame["closing"]),
    )
    # the table's own closing above the cap, relative to its own period's terms
    own = np.maximum(np.abs(frame["opening"]), np.abs(frame["produced"]))
    rows = _exceeds(frame["closing"], imax[pi, ti], tol, own) & ~wrong & ~full[pi, ti]
    report.rows("inventory", rows, above(pi, ti, frame["closing"]))
    return closing, below


def _service(
    d: _Data, dec: _Decisions, found: Located | None, report: _Report, tol: float
) -> tuple[Floats, Floats]:
    """Service (constraint 5) and the service table; returns unmet and on-time per entry."""
    E = len(d.epos)
    shipped = np.zeros(E)
    on_time = np.zeros(E)
    late = np.zeros(E)
    e, u, q = dec.ship_e, dec.ship_u, dec.ship_q
    np.add.at(shipped, e, q)
    np.add.at(on_time, e[u == d.et[e]], q[u == d.et[e]])
    np.add.at(late, e[u > d.et[e]], q[u > d.et[e]])
    unmet = d.ed - shipped
    ent = d.entries
    eid = ent["entry"].to_numpy(dtype=object)
    eprod = ent["product"].to_numpy(dtype=object)
    report.rows(
        "service",
        _exceeds(shipped, d.ed, tol),
        lambda j: (
            f"entry {eid[j]} (product {eprod[j]}): {_n(shipped[j])} shipped of "
            f"{_n(d.ed[j])} demanded"
        ),
    )
    if found is None:
        return unmet, on_time
    frame, pos = found
    ei = pos["entry"]
    present = np.zeros(E, dtype=bool)
    present[ei] = True
    due = ent["due"].to_numpy(dtype=object)
    report.rows(
        "missing rows",
        ~present,
        lambda j: (
            f"service.csv has no row for entry {eid[j]} (product {eprod[j]}, due {due[j]}, "
            f"{_n(d.ed[j])})"
        ),
    )

    def where(j: int) -> str:
        return f"entry {eid[ei[j]]}"

    for col in ("kind", "order", "customer", "product", "due"):
        got = frame[col]
        want = ent[col].to_numpy(dtype=object)[ei]

        def wrong(j: int, c: str = col, g: Objects = got, w: Objects = want) -> str:
            return f"{where(j)}: service.csv says {c} {g[j]!r}, the dataset's entry has {w[j]!r}"

        report.rows("service.csv", got != want, wrong)
    tier = d.tier.astype(np.float64)
    _compare_columns(
        report,
        "service.csv",
        frame,
        (ei, np.zeros(len(ei), dtype=np.int64)),
        {
            "priority": (tier[:, None], "the dataset's entry"),
            "quantity": (d.ed[:, None], "the dataset's entry"),
            "on_time": (on_time[:, None], "shipments in the due period"),
            "late": (late[:, None], "shipments after the due period"),
            "unmet": (unmet[:, None], "quantity - shipments"),
        },
        where,
        tol,
        np.abs(d.ed[:, None]),  # every figure of an entry is a part of its quantity
        chained=("on_time", "late", "unmet"),
    )
    return unmet, on_time


def _tier_limits(
    d: _Data,
    short: Floats,
    late: Floats,
    late_entry: Ints,
    summary: Mapping[str, Any],
    dataset: Dataset,
    report: _Report,
    tol: float,
) -> None:
    """Lexicographic mode: each tier's loss ``U_k`` (shortage at ``c_short`` plus
    lateness) within the limit its stage set, ``U_k* (1 + tolerance) + 1e-6 max(1, U_k*)``.

    ``U_k*`` is the stage's own result in ``summary.json`` (``stages``); a summary
    without stages (DATASET.md does not list them) leaves this unchecked."""
    stages = summary.get("stages")
    if stages is None:
        return
    if not isinstance(stages, list):
        report.add("summary", "summary stages is not a list")
        return
    relax = dataset.settings.priority.tolerance
    for stage in stages:
        name = stage.get("stage") if isinstance(stage, Mapping) else None
        if not isinstance(name, str) or not name.startswith("tier "):
            continue
        best = stage.get("objective")
        if not isinstance(best, int | float) or isinstance(best, bool) or not math.isfinite(best):
            continue  # a stage without a plan set no limit
        try:
            tier = int(name.removeprefix("tier "))
        except ValueError:
            report.add("summary", f"summary stage {name!r} names no tier")
            continue
        loss = float(short[d.tier == tier].sum() + late[d.tier[late_entry] == tier].sum())
        scale = max(1.0, abs(float(best)))
        limit = float(best) * (1 + relax) + 1e-6 * scale
        if loss > limit + tol * scale:
            report.add(
                "objective",
                f"tier {tier} loses {_n(loss)} to shortage and lateness, but its "
                f"lexicographic stage found {_n(float(best))}"
                + (f" (tolerance {relax:g})" if relax else "")
                + ": a later tier was served at its cost",
            )


def _finite(value: Any) -> float | None:
    """``value`` as a float if it is a finite number (not a bool), else ``None``."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _bound_and_gap(
    summary: Mapping[str, Any], objective: float, scale: float, report: _Report, tol: float
) -> None:
    """``bound`` is a lower bound on the plan's objective (null: none known) and ``gap``
    is ``|objective - bound| / max(1, |objective|)``, null without a bound.

    The solver reports both from its own objective, which agrees with the tables'
    within ``tol`` relative; the gap is held to that (and ``1e-9``).
    """
    raw_bound, raw_gap = summary.get("bound"), summary.get("gap")
    bound, gap = _finite(raw_bound), _finite(raw_gap)
    for label, raw, value in (("bound", raw_bound, bound), ("gap", raw_gap, gap)):
        if raw is not None and value is None:
            report.add("summary", f"summary {label} is {raw!r}, not a number or null")
    if bound is None or not math.isfinite(objective):
        if gap is not None and raw_bound is None:
            report.add("summary", f"summary gap is {_n(gap)} without a bound (it should be null)")
        return
    if bound - objective > tol * scale:
        report.add(
            "summary",
            f"summary bound {_n(bound)} is above the plan's objective {_n(objective)}: no plan "
            "costs less than a lower bound",
        )
    want = abs(objective - bound) / scale
    if raw_gap is None:
        report.add("summary", f"summary gap is null though the bound is {_n(bound)}")
    elif gap is not None and abs(gap - want) > 2 * tol + 1e-9:
        report.add(
            "summary",
            f"summary gap is {_n(gap)}, but objective {_n(objective)} and bound {_n(bound)} give "
            f"{_n(want)} (|objective - bound| / max(1, |objective|))",
        )


def _summary(
    d: _Data,
    dec: _Decisions,
    Z: Floats,
    inv: Floats,
    below: Floats,
    unmet: Floats,
    on_time: Floats,
    summary: Mapping[str, Any],
    dataset: Dataset,
    report: _Report,
    tol: float,
) -> None:
    """The objective and each term recomputed from the plan; fill and on-time rates."""
    status = summary.get("status")
    if status not in ("optimal", "feasible"):
        report.add("summary", f"summary status is {status!r}, not that of a plan")
    mode = summary.get("mode") or dataset.settings.priority.mode
    if mode not in ("weighted", "lexicographic"):
        report.add("summary", f"summary mode {mode!r} is neither weighted nor lexicographic")
        mode = dataset.settings.priority.mode

    top = int(d.tier.max()) if len(d.tier) else 1
    weight = d.base ** (top - d.tier).astype(np.float64) if mode == "weighted" else 1.0
    pi = d.c_short[d.ep] * weight
    e, u, q = dec.ship_e, dec.ship_u, dec.ship_q
    x, y = dec.x, dec.y
    F = d.F
    stability = d.frozen_cost * float(np.maximum(0.0, d.prev[:, :F] - x[:, :F]).sum())
    if d.change_cost > 0:
        stability += d.change_cost * float(np.abs(x[:, F:] - d.prev[:, F:]).sum())
    run = float((d.c_r[:, None] * x).sum())
    setup = float((np.where(d.needs_setup, d.c_s, 0.0)[:, None] * y).sum())
    overtime = float((d.c_ot[:, None] * dec.o).sum())
    terms = {
        "shortage": float(pi @ unmet),
        "lateness": float((d.c_late[d.ep[e]] * np.maximum(0, u - d.et[e]) * q).sum()),
        "holding": float((d.h[:, None] * inv).sum()),
        "safety_stock": float((d.c_ss[:, None] * below).sum()),
        "material_holding": float((d.h_k[:, None] * Z).sum()),
        "production": run + setup + overtime,
        "stability": stability,
        "run": run,
        "setup": setup,
        "overtime": overtime,
    }
    objective = sum(terms[t] for t in OBJECTIVE_TERMS)
    scale = max(1.0, abs(objective)) if math.isfinite(objective) else 1.0

    def check(label: str, reported: Any, value: float) -> None:
        if not isinstance(reported, int | float) or isinstance(reported, bool):
            report.add("objective", f"summary {label} is {reported!r}, not a number")
        elif not math.isfinite(float(reported)):
            report.add("objective", f"summary {label} is {reported!r}, not a finite number")
        elif math.isfinite(value) and abs(float(reported) - value) > tol * scale:
            report.add(
                "objective",
                f"summary {label} is {_n(float(reported))}, but the plan's tables give {_n(value)}",
            )

    check("objective", summary.get("objective"), objective)
    _bound_and_gap(summary, objective, scale, report, tol)
    if mode == "lexicographic":
        late = d.c_late[d.ep[e]] * np.maximum(0, u - d.et[e]) * q
        _tier_limits(d, d.c_short[d.ep] * unmet, late, e, summary, dataset, report, tol)
    reported_terms = summary.get("objective_terms") or {}
    if not isinstance(reported_terms, Mapping):
        report.add("objective", "summary objective_terms is not an object")
        reported_terms = {}
    for name in OBJECTIVE_TERMS:
        if name not in reported_terms:
            report.add("objective", f"summary objective_terms lacks {name}")
        else:
            check(f"objective term {name}", reported_terms[name], terms[name])
    for name in PRODUCTION_TERMS:
        if name in reported_terms:
            check(f"objective term {name}", reported_terms[name], terms[name])

    demand = d.ed
    served = demand - unmet
    tiers = sorted(set(d.tier.tolist()))
    for key, num in (("fill_rate", served), ("on_time_rate", on_time)):
        want: dict[str, float] = {}
        if demand.sum() > 0:
            want["overall"] = float(num.sum() / demand.sum())
        for k in tiers:
            m = d.tier == k
            if demand[m].sum() > 0:
                want[str(k)] = float(num[m].sum() / demand[m].sum())
        got = summary.get(key)
        if got is None:
            continue  # a Summary always has them; a hand-written summary may leave them out
        if not isinstance(got, Mapping):
            report.add("summary", f"summary {key} is not an object")
            continue
        for k in sorted(set(want) - set(got)):
            report.add("summary", f"summary {key} lacks tier {k}")
        for k in sorted(set(got) - set(want)):
            report.add("summary", f"summary {key} has {k!r}, a tier without demand")
        for k in sorted(set(got) & set(want)):
            value = got[k]
            if not isinstance(value, int | float) or isinstance(value, bool):
                report.add("summary", f"summary {key}[{k!r}] is {value!r}, not a number")
            elif math.isfinite(want[k]) and abs(float(value) - want[k]) > tol:
                report.add(
                    "summary",
                    f"summary {key}[{k!r}] is {_n(float(value))}, but the service table gives "
                    f"{_n(want[k])}",
                )
