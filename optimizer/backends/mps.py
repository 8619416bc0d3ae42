"""Free-format MPS for solvers that read files (CBC, SCIP through OR-Tools).

Columns are named ``C<i>`` and rows ``R<i>``, so any label is safe; solutions are read
back by position. The objective offset is not written (added back by the caller).
"""

from __future__ import annotations

import numpy as np

from formulations.lp import LinearModel


def _num(values: np.ndarray) -> list[str]:
    return [repr(float(v)) for v in values]


def to_mps(model: LinearModel) -> str:
    """The model as a free MPS text (minimise)."""
    n, m = model.num_cols, model.num_rows
    lo, up = model.row_lower, model.row_upper
    kinds = np.where(lo == up, "E", np.where(np.isinf(lo), "L", "G"))
    ranged = np.isfinite(lo) & np.isfinite(up) & (lo != up)
    # FREE tells CBC (CoinMpsIO) the format: else it guesses per line, and a line such as
    # " LO BND C320 0.0" reads as fixed format (bound set "BND C320", column "0.0")
    out = ["NAME soe FREE", "ROWS", " N OBJ"]
    out += [f" {k} R{i}" for i, k in enumerate(kinds)]
    out.append("COLUMNS")
    counts = np.diff(model.a_start)
    cols = np.repeat(np.arange(n), counts)
    entries = [
        f" C{c} R{r} {v}" for c, r, v in zip(cols, model.a_index, _num(model.a_value), strict=True)
    ]
    cost_nz = np.flatnonzero(model.cost)
    cost_line = {
        int(c): f" C{c} OBJ {v}" for c, v in zip(cost_nz, _num(model.cost[cost_nz]), strict=True)
    }
    integer = model.integer
    in_int = False
    pos = 0
    for c in range(n):
        if integer[c] != in_int:
            out.append(" MARKER 'MARKER' 'INTORG'" if integer[c] else " MARKER 'MARKER' 'INTEND'")
            in_int = bool(integer[c])
        line = cost_line.get(c)
        if line is not None:
            out.append(line)
        k = int(counts[c].item())
        if k:
            out.extend(entries[pos : pos + k])
            pos += k
        elif line is None:
            out.append(f" C{c} OBJ 0")  # declare columns that appear nowhere
    if in_int:
        out.append(" MARKER 'MARKER' 'INTEND'")
    out.append("RHS")
    rhs = np.where(kinds == "L", up, lo)
    nz = np.flatnonzero(rhs)
    out += [f" RHS R{i} {v}" for i, v in zip(nz, _num(rhs[nz]), strict=True)]
    if ranged.any():
        out.append("RANGES")
        ri = np.flatnonzero(ranged)
        out += [f" RNG R{i} {v}" for i, v in zip(ri, _num(up[ri] - lo[ri]), strict=True)]
    out.append("BOUNDS")
    lower, upper = model.lower, model.upper
    for c in np.flatnonzero((lower != 0) | integer).tolist():
        out.append(
            f" LO BND C{c} {float(lower[c])!r}" if np.isfinite(lower[c]) else f" MI BND C{c}"
        )
    fin = np.flatnonzero(np.isfinite(upper))
    out += [f" UP BND C{c} {v}" for c, v in zip(fin, _num(upper[fin]), strict=True)]
    inf_int = np.flatnonzero(integer & ~np.isfinite(upper))
    out += [f" PL BND C{c}" for c in inf_int]
    out.append("ENDATA")
    del m
    return "\n".join(out) + "\n"
