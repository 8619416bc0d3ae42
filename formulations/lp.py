"""A solver-neutral linear model built from arrays.

Formulations add *blocks* of variables and constraints, each indexed by a DataFrame of
domain labels (``capacity[line, period]``), and coefficients as coordinate arrays. The
result, :class:`LinearModel`, is what every backend solves: column bounds and costs,
row bounds, and the matrix in compressed sparse column form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

INF = np.inf


@dataclass(frozen=True)
class Block:
    """A contiguous range of variables or constraints with their labels."""

    name: str
    start: int
    size: int
    index: pd.DataFrame
    """One row of labels (``product``, ``line``, ``period`` ...) per member."""

    @property
    def stop(self) -> int:
        return self.start + self.size

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)


@dataclass
class LinearModel:
    """``min c x + offset  s.t.  row_lower <= A x <= row_upper,  lower <= x <= upper``.

    ``A`` is stored column-wise (``a_start``, ``a_index``, ``a_value``), as HiGHS
    takes it. ``integer`` marks integer columns (binaries have bounds [0, 1]).
    """

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    offset: float = 0.0
    variables: dict[str, Block] = field(default_factory=dict)
    constraints: dict[str, Block] = field(default_factory=dict)

    @property
    def num_cols(self) -> int:
        return len(self.cost)

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    @property
    def num_nonzeros(self) -> int:
        return len(self.a_value)

    @property
    def num_integers(self) -> int:
        return int(self.integer.sum())

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.any())

    def with_rows(
        self,
        cols: list[np.ndarray],
        vals: list[np.ndarray],
        lower: np.ndarray,
        upper: np.ndarray,
        name: str,
        index: pd.DataFrame,
    ) -> LinearModel:
        """A copy with more rows (one per ``cols[i]``/``vals[i]`` pair) appended."""
        m = self.num_rows
        rows = np.concatenate([np.full(len(c), m + i, dtype=np.int64) for i, c in enumerate(cols)])
        c_all = np.concatenate(cols).astype(np.int64)
        v_all = np.concatenate(vals).astype(np.float64)
        old_cols = np.repeat(np.arange(self.num_cols), np.diff(self.a_start))
        start, index_arr, value = _csc(
            np.concatenate([self.a_index, rows]),
            np.concatenate([old_cols, c_all]),
            np.concatenate([self.a_value, v_all]),
            self.num_cols,
        )
        constraints = dict(self.constraints)
        constraints[name] = Block(name, m, len(cols), index)
        return LinearModel(
            cost=self.cost,
            lower=self.lower,
            upper=self.upper,
            integer=self.integer,
            row_lower=np.concatenate([self.row_lower, lower]),
            row_upper=np.concatenate([self.row_upper, upper]),
            a_start=start,
            a_index=index_arr,
            a_value=value,
            offset=self.offset,
            variables=self.variables,
            constraints=constraints,
        )

    def row_activity(self, x: np.ndarray) -> np.ndarray:
        """``A x`` for a column vector ``x``."""
        cols = np.repeat(np.arange(self.num_cols), np.diff(self.a_start))
        return np.bincount(self.a_index, weights=self.a_value * x[cols], minlength=self.num_rows)


class ModelBuilder:
    """Collects blocks and coefficients, then makes a :class:`LinearModel`."""

    def __init__(self) -> None:
        self._n = 0
        self._m = 0
        self._cols: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._coef: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.variables: dict[str, Block] = {}
        self.constraints: dict[str, Block] = {}
        self.offset = 0.0

    def add_vars(
        self,
        name: str,
        index: pd.DataFrame,
        lower: float | np.ndarray = 0.0,
        upper: float | np.ndarray = INF,
        cost: float | np.ndarray = 0.0,
        integer: bool = False,
    ) -> np.ndarray:
        """Add one variable per row of ``index``; returns their column numbers."""
        size = len(index)
        block = Block(name, self._n, size, index.reset_index(drop=True))
        self.variables[name] = block
        self._cols.append(
            (
                np.broadcast_to(np.asarray(cost, dtype=np.float64), (size,)),
                np.broadcast_to(np.asarray(lower, dtype=np.float64), (size,)),
                np.broadcast_to(np.asarray(upper, dtype=np.float64), (size,)),
                np.full(size, integer, dtype=bool),
            )
        )
        self._n += size
        return np.arange(block.start, block.stop, dtype=np.int64)

    def add_rows(
        self,
        name: str,
        index: pd.DataFrame,
        lower: float | np.ndarray = -INF,
        upper: float | np.ndarray = INF,
    ) -> np.ndarray:
        """Add one constraint per row of ``index``; returns their row numbers."""
        size = len(index)
        block = Block(name, self._m, size, index.reset_index(drop=True))
        self.constraints[name] = block
        self._rows.append(
            (
                np.broadcast_to(np.asarray(lower, dtype=np.float64), (size,)),
                np.broadcast_to(np.asarray(upper, dtype=np.float64), (size,)),
            )
        )
        self._m += size
        return np.arange(block.start, block.stop, dtype=np.int64)

    def add_coefs(self, rows: np.ndarray, cols: np.ndarray, values: float | np.ndarray) -> None:
        """Add ``A[rows[i], cols[i]] += values[i]`` (duplicates are summed)."""
        rows_a = np.asarray(rows, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(values, dtype=np.float64), rows_a.shape).ravel()
        rows = rows_a.ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        if len(rows):
            self._coef.append((rows, cols, vals))

    def build(self) -> LinearModel:
        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        cost = cat([c[0] for c in self._cols], np.float64)
        lower = cat([c[1] for c in self._cols], np.float64)
        upper = cat([c[2] for c in self._cols], np.float64)
        integer = cat([c[3] for c in self._cols], bool)
        row_lower = cat([r[0] for r in self._rows], np.float64)
        row_upper = cat([r[1] for r in self._rows], np.float64)
        rows = cat([c[0] for c in self._coef], np.int64)
        cols = cat([c[1] for c in self._coef], np.int64)
        vals = cat([c[2] for c in self._coef], np.float64)
        start, index, value = _csc(rows, cols, vals, self._n)
        return LinearModel(
            cost=cost,
            lower=lower,
            upper=upper,
            integer=integer,
            row_lower=row_lower,
            row_upper=row_upper,
            a_start=start,
            a_index=index,
            a_value=value,
            offset=self.offset,
            variables=self.variables,
            constraints=self.constraints,
        )


def _csc(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, num_cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compressed sparse column arrays, duplicates summed, explicit zeros dropped.

    The entries are sorted by one key, ``col * num_rows + row`` (a stable argsort of
    one array: 10 ms for generated l's 445,000 coefficients, where a lexsort of the
    two took 27 ms)."""
    keep = vals != 0.0
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    num_rows = int(rows.max()) + 1 if len(rows) else 1
    key = cols * num_rows + rows
    order = np.argsort(key, kind="stable")
    key, vals = key[order], vals[order]
    if len(key):
        new = np.empty(len(key), dtype=bool)
        new[0] = True
        new[1:] = key[1:] != key[:-1]
        if not new.all():
            group = np.cumsum(new) - 1
            vals = np.bincount(group, weights=vals)
            key = key[new]
            nz = vals != 0.0
            key, vals = key[nz], vals[nz]
    cols, rows = np.divmod(key, num_rows)
    start = np.zeros(num_cols + 1, dtype=np.int64)
    start[1:] = np.cumsum(np.bincount(cols, minlength=num_cols))
    return start, rows.astype(np.int32), vals.astype(np.float64)
