"""Small helpers shared by the analysis modules: plan tables as arrays, wording."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from formulations.allocation import AllocationData

TOL = 1e-6


def grid(
    frame: pd.DataFrame, row: str, rows: np.ndarray, periods: np.ndarray, column: str
) -> np.ndarray:
    """``frame[column]`` as a ``(len(rows), len(periods))`` array (missing cells 0)."""
    out = np.zeros((len(rows), len(periods)))
    if len(frame) == 0 or len(rows) == 0:
        return out
    ri = pd.Index(rows).get_indexer(frame[row])
    ti = pd.Index(periods).get_indexer(frame["period"])
    ok = (ri >= 0) & (ti >= 0)
    np.add.at(out, (ri[ok], ti[ok]), frame[column].to_numpy(dtype=np.float64)[ok])
    return out


def num(x: float) -> str:
    """A quantity for a planner: ``12,100``, ``0.35``, ``0.004`` (two significant digits
    below 0.01, so that no quantity above :data:`TOL` reads as ``0``; solver noise of at
    most :data:`TOL` around a whole number reads as that number, never ``-0``)."""
    if not np.isfinite(x):
        return "n/a"
    if abs(x) >= 100 or abs(x - round(x)) <= TOL:
        return f"{int(round(x)) if abs(x) < 100 else x:,.0f}"
    return _small(x) or f"{x:,.2f}"


def money(x: float) -> str:
    """A value of the objective: ``12,345``, ``3.50`` or ``0.004`` (as :func:`num`)."""
    if not np.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 100 else _small(x) or f"{x:,.2f}"


def _small(x: float) -> str | None:
    """``x`` to two significant digits when it is under 0.01 but not noise (above
    :data:`TOL`); ``None`` otherwise."""
    if TOL < abs(x) < 0.005:
        return np.format_float_positional(x, precision=2, unique=False, fractional=False, trim="-")
    return None


def period_ranges(periods: Iterable[object], order: Sequence[str]) -> str:
    """``W49–W51, W53`` for a set of period ids, runs joined by their time order."""
    order = [str(p) for p in order]
    pos = {p: i for i, p in enumerate(order)}
    idx = sorted({pos[str(p)] for p in periods if str(p) in pos})
    if not idx:
        return ""
    runs: list[tuple[int, int]] = []
    start = prev = idx[0]
    for i in idx[1:]:
        if i != prev + 1:
            runs.append((start, prev))
            start = i
        prev = i
    runs.append((start, prev))
    return ", ".join(order[a] if a == b else f"{order[a]}–{order[b]}" for a, b in runs)


def routings_of(data: AllocationData) -> dict[int, np.ndarray]:
    """Routing positions of each product position."""
    out: dict[int, np.ndarray] = {}
    if len(data.rp):
        order = np.argsort(data.rp, kind="stable")
        products, starts = np.unique(data.rp[order], return_index=True)
        for p, chunk in zip(products, np.split(order, starts[1:]), strict=True):
            out[int(p)] = chunk
    return out


def bom_of(data: AllocationData) -> dict[int, list[tuple[int, float]]]:
    """``(material position, quantity per unit)`` pairs of each routing position."""
    out: dict[int, list[tuple[int, float]]] = {}
    for k, r, a in zip(data.bom_k, data.bom_r, data.bom_a, strict=True):
        out.setdefault(int(r), []).append((int(k), float(a)))
    return out


def extra_column(frame: pd.DataFrame, names: Sequence[str]) -> str | None:
    """The first of ``names`` that ``frame`` holds with some non-blank value."""
    for name in names:
        if name in frame.columns:
            values = frame[name].astype(str).str.strip()
            if (values != "").any() and (values.str.lower() != "nan").any():
                return name
    return None
