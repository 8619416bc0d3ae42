"""A first plan for the MILP: round the LP relaxation's setups, repair with LPs.

Branch and cut on a lot-sizing MILP can spend a whole time limit before its own
heuristics find a plan that serves demand. This gives it a good start instead:

1. solve the LP relaxation (the formulation's valid inequalities make it tight);
2. open setups where the relaxation produces, per line and week as many as fit, with
   the relaxation's output batched into lots of at least the minimum (each made in the
   first week it serves);
3. solve the LP with those setups fixed and the minimum lots elastic (a penalised
   shortfall), close the setups whose lot cannot reach its minimum, and repeat; and, as
   other candidates, the same loop with the minimum lots relaxed, closing lots that
   come out below them, then solved once more with the minimum lots enforced;
4. keep the cheapest candidate; setups that make nothing are closed.

Closing a setup never makes the next LP infeasible (its production can always be
replaced by shortage). When not even the relaxation solves in time, the start is the
idle plan (make and ship nothing), which is always feasible.

A MILP too large for its relaxation to solve in time starts instead from the setup-free
LP (:func:`setup_free_start`): the pure LP's size and speed, its production batched and
fitted into setups the same way, and its optimum a lower bound on the MILP's.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from formulations.allocation import AllocationModel
from formulations.lp import LinearModel
from optimizer.backends import Backend, SolveOptions
from optimizer.backends.base import Basis, label_keys

if TYPE_CHECKING:
    from optimizer.improve import WarmLp

logger = logging.getLogger(__name__)

MAX_ROUNDS = 6
SETUP_FREE_ROWS = 60_000
"""MILPs with more rows than this start from the setup-free LP (:func:`setup_free_start`)
instead of their relaxation: on generated l with setups (155,738 rows) the relaxation
did not solve in 120 s, and the plan was the idle one."""


def starting_basis(model: AllocationModel) -> Basis:
    """The formulation's just-in-time basis of ``model.lp``
    (:meth:`~formulations.allocation.AllocationModel.crash_basis`), under the model's
    own bounds: where its LP, its relaxation and its setup-free LP start the simplex."""
    col, row = model.crash_basis()
    return Basis(col, row, model.lp.lower, model.lp.upper)


def mip_start(
    model: AllocationModel,
    backend: Backend,
    deadline: float,
    threads: int = 0,
    *,
    quick: bool = False,
) -> np.ndarray | None:
    """A feasible solution of ``model.lp`` (a MILP) found by LP rounding; the idle plan
    (:func:`idle_plan`) when the relaxation cannot be solved in time.

    Parameters
    ----------
    deadline
        ``time.perf_counter()`` value by which to give up.
    quick
        Stop at the first candidate found (the elastic one where there are minimum
        lots), for callers that improve the start afterwards
        (:func:`optimizer.improve.improve`).
    """
    lp = model.lp
    if not lp.is_mip or not len(model.y_routing):
        return None
    ycols = model.y.ravel()
    xcols = model.x[model.y_routing].ravel()
    T = model.data.T
    min_lot = np.repeat(model.data.min_lot[model.y_routing], T)
    continuous = np.zeros(lp.num_cols, dtype=bool)

    def solve(m: LinearModel, crash: Basis | None = None) -> np.ndarray | None:
        left = deadline - time.perf_counter()
        if left <= 0.05:
            return None
        sol = backend.solve(m, SolveOptions(time_limit=left, threads=threads, crash=crash))
        return sol.values if sol.status.has_solution else None

    # the relaxation from the just-in-time basis (m with setups: 4,766 iterations
    # instead of 11,472)
    relaxed = solve(dataclasses.replace(lp, integer=continuous), starting_basis(model))
    if relaxed is None:
        return idle_plan(model)
    allowed = lp.upper[ycols] > 0.5
    no_min_lot = _without_rows(lp, "min_lot")
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    batched = _batch(relaxed[xcols].reshape(-1, T), min_lot.reshape(-1, T)).ravel()
    if (min_lot > 0).any() and "min_lot" in lp.constraints:
        # minimum lots kept, but elastic: a lot that cannot reach its minimum (capacity,
        # material) shows up as a penalised shortfall, and its setup is closed
        elastic, shortfall_of = _elastic_min_lots(lp, ycols)
        n = lp.num_cols
        open_ = _fits(model, batched, allowed)
        values = None
        for round_ in range(MAX_ROUNDS):
            trial = solve(_fix(elastic, ycols, open_, np.zeros(elastic.num_cols, dtype=bool)))
            if trial is None:
                values = None
                break
            short_lot = shortfall_of(trial) > 1e-6
            close = open_ & (short_lot | (trial[xcols] <= 1e-6))
            logger.debug(
                "mip start elastic round %d: %d open, %d closed", round_, open_.sum(), close.sum()
            )
            open_ &= ~close
            values = trial[:n] if not close.any() else None
            if not close.any():
                break
        if values is not None:
            obj = float(lp.cost @ values)
            logger.debug("mip start candidate (elastic): %.2f", obj)
            best = (obj, values, open_.copy())
    for lots in (batched, relaxed[xcols]):
        if quick and best is not None:
            break
        open_ = _fits(model, lots, allowed)
        values = None
        for round_ in range(MAX_ROUNDS):
            values = solve(_fix(no_min_lot, ycols, open_, continuous))
            if values is None:
                break
            x = values[xcols]
            close = open_ & ((x <= 1e-6) | (x < min_lot - 1e-6))
            logger.debug(
                "mip start round %d: %d setups open, %d closed", round_, open_.sum(), close.sum()
            )
            open_ &= ~close
            if not close.any():
                break
        if values is not None and (min_lot > 0).any():
            values = solve(_fix(lp, ycols, open_, continuous))
        if values is not None:
            obj = float(lp.cost @ values)
            logger.debug("mip start candidate: %.2f", obj)
            if best is None or obj < best[0]:
                best = (obj, values, open_)
    if best is None:
        return idle_plan(model)
    _, values, open_ = best
    # setups that make nothing are closed (saves their cost and hours)
    idle = open_ & (values[xcols] <= 1e-6)
    if idle.any():
        open_ &= ~idle
        again = solve(_fix(lp, ycols, open_, continuous))
        if again is not None:
            values = again
    values = values.copy()
    values[ycols] = open_.astype(np.float64)
    return values


def setup_free_start(
    model: AllocationModel, deadline: float, threads: int = 0
) -> tuple[np.ndarray, WarmLp, float] | None:
    """A first plan for a MILP too large for its relaxation to solve in time, the HiGHS
    instance that found it (for :func:`optimizer.improve.improve` to go on from), and a
    lower bound on the MILP's objective: the setup-free LP's optimum (with the offset).
    That LP is a relaxation of the MILP: any plan of the MILP, its setups taken away,
    is a plan of it that costs no more (no setup cost, fewer hours used).

    1. The setup-free LP: every setup closed and its link and minimum-lot rows left out,
       so production is free of setups. It has the pure LP's rows and speed, and is
       solved with the capacity rows last, as a pure LP is.
    2. Its production batched into lots of at least the minimum, and per line and week
       as many setups opened as fit in the hours (run hours plus setup).
    3. With those setups fixed (production between 0 and its bound where open, 0 where
       closed), the LP re-solved from the last basis, closing the setups whose lot comes
       out below its minimum, until none does: the last solution then meets every
       minimum lot and is feasible.

    ``None`` when highspy is missing or the time runs out first.
    """
    try:
        from optimizer.improve import LINKS, REDUNDANT, WarmLp, relaxed, setup_columns
    except ImportError:  # pragma: no cover - highspy is a dependency
        return None
    if deadline - time.perf_counter() <= 0.05:
        return None
    lp = model.lp
    T = model.data.T
    ycols, xcols, min_lot, x_upper, allowed = setup_columns(model)
    warm = WarmLp(relaxed(lp), threads, drop=REDUNDANT + LINKS)
    closed = np.zeros(len(ycols))
    warm.set_bounds(ycols, closed, closed)
    result = warm.solve_staged(
        deadline - time.perf_counter(), lp, "capacity", crash=starting_basis(model)
    )
    if result is None:
        return None
    bound = result[0] + lp.offset
    lots = _batch(result[1][xcols].reshape(-1, T), min_lot.reshape(-1, T)).ravel()
    columns = (ycols, xcols, min_lot, x_upper)
    values = _with_setups(columns, warm, _fits(model, lots, allowed), deadline)
    return None if values is None else (values, warm, bound)


def previous_setups_start(
    model: AllocationModel, production: pd.DataFrame, deadline: float, threads: int = 0
) -> tuple[np.ndarray, WarmLp] | None:
    """A first plan for a MILP from the setups of a previous plan (its ``production``
    table: ``product``, ``line``, ``period``, ``setup``), as a what-if of it has, and
    the HiGHS instance that found it (for :func:`optimizer.improve.improve`).

    The previous plan's setups are matched to this model's by label; those this model
    has no binary for, or that cannot open here (a minimum lot above what the line can
    make in the week), are left out. The LP with them fixed is then solved, and settled
    as in :func:`setup_free_start` (lots below their minimum closed until none is).
    ``None`` when no setup matches, highspy is missing or the time runs out first."""
    try:
        from optimizer.improve import LINKS, REDUNDANT, WarmLp, relaxed, setup_columns
    except ImportError:  # pragma: no cover - highspy is a dependency
        return None
    block = model.lp.variables.get("setup")
    if block is None or block.size == 0 or production.empty:
        return None
    keys = ["product", "line", "period"]
    was_open = production.loc[production["setup"].astype(bool), keys]
    known, rows = label_keys(was_open, block.index[keys])
    opened = np.zeros(model.lp.num_cols, dtype=bool)
    opened[block.start + np.flatnonzero(known.get_indexer(rows) >= 0)] = True
    ycols, xcols, min_lot, x_upper, allowed = setup_columns(model)
    open_ = opened[ycols] & allowed
    if not open_.any() or deadline - time.perf_counter() <= 0.05:
        return None
    warm = WarmLp(relaxed(model.lp), threads, drop=REDUNDANT + LINKS)
    columns = (ycols, xcols, min_lot, x_upper)
    values = _with_setups(columns, warm, open_, deadline, keep_lots=True)
    return None if values is None else (values, warm)


def _with_setups(
    columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    warm: WarmLp,
    open_: np.ndarray,
    deadline: float,
    *,
    keep_lots: bool = False,
) -> np.ndarray | None:
    """The plan with the setups ``open_`` (per ``model.y`` raveled) fixed, solved in
    ``warm`` (the search's LP, without the setup rows: production between 0 and its
    bound where open, 0 where closed), closing the setups whose lot comes out below its
    minimum (or at 0) and solving again until none does; ``None`` if the time runs out
    first. ``columns``: the setup columns, their production's, minimum lots and
    production bounds (the first four of :func:`optimizer.improve.setup_columns`).

    ``keep_lots`` (setups of a previous plan, whose lots were at least their minimum):
    each open lot starts at its minimum, and from 0 only if that LP is infeasible (the
    change leaves a lot no room). From 0, the LP moved output off lots it had no reason
    to keep at their minimum, and closing those cascaded: re-planning generated m with
    setups from its own plan of 3.21 M started at 4.53 M."""
    ycols, xcols, min_lot, x_upper = columns
    open_ = open_.copy()
    floor = min_lot if keep_lots else np.zeros(len(xcols))
    for _ in range(MAX_ROUNDS * 2):
        v = open_.astype(np.float64)
        warm.set_bounds(ycols, v, v)
        warm.set_bounds(xcols, np.where(open_, floor, 0.0), np.where(open_, x_upper, 0.0))
        result = warm.solve(deadline - time.perf_counter())
        if result is None and floor.any():  # infeasible at the minimum lots (or late)
            floor = np.zeros(len(xcols))
            continue
        if result is None:
            return None
        x = result[1][xcols]
        close = open_ & ((x <= 1e-6) | (x < min_lot - 1e-6))
        logger.debug("fixed setups: %d open, %d closed", open_.sum(), close.sum())
        if not close.any():
            values = result[1].copy()
            values[ycols] = v
            return values
        open_ &= ~close
    return None


def idle_plan(model: AllocationModel) -> np.ndarray:
    """The plan that makes and ships nothing: always feasible (MODEL.md), and the
    fallback start that lets a MILP search report a plan and a gap whatever happens."""
    d = model.data
    lp = model.lp
    v = np.zeros(lp.num_cols)
    v[model.short] = model.demand
    model.with_closing(v, np.repeat(d.I0[:, None], d.T, axis=1))
    if len(d.material_ids):
        v[model.z] = d.Z0[:, None] + np.cumsum(d.Q, axis=1)
    if model.chg.size:
        v[model.chg_down] = d.prev[:, d.T - model.chg.shape[1] :]
    return v


def _batch(lots: np.ndarray, min_lot: np.ndarray) -> np.ndarray:
    """(routings, T): the relaxation's production gathered into lots of at least the
    minimum, each made in the first period it serves (earlier is feasible, later not)."""
    out = np.zeros_like(lots)
    for r in np.flatnonzero((lots > 1e-6).any(axis=1)):
        acc = 0.0
        first = -1
        for t in range(lots.shape[1]):
            q = lots[r, t]
            if q <= 1e-6:
                continue
            if first < 0:
                first = t
            acc += q
            if acc >= min_lot[r, t]:
                out[r, first] = acc
                acc, first = 0.0, -1
        if first >= 0:
            out[r, first] = max(acc, min_lot[r, first])
    return out


def _fits(model: AllocationModel, lots: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Setups to open: per line and period, the relaxation's largest lots first, as many
    as fit in the hours (run hours of the lot plus the setup)."""
    d = model.data
    T = d.T
    routing = np.repeat(model.y_routing, T)
    period = np.tile(np.arange(T), len(model.y_routing))
    line = d.rl[routing]
    hours = lots / d.rate[routing] + d.setup_hours[routing]
    cand = allowed & (lots > 1e-6)
    idx = np.flatnonzero(cand)
    # order by line, period, then lot size descending
    order = idx[np.lexsort((-lots[idx], period[idx], line[idx]))]
    key = line[order] * T + period[order]
    h = hours[order]
    csum = np.cumsum(h)
    first = np.r_[True, key[1:] != key[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))
    before = np.r_[0.0, csum][group_start]
    used = csum - before
    capacity = (d.H + d.OT)[line[order], period[order]]
    chosen = np.zeros(len(lots), dtype=bool)
    chosen[order[used <= capacity + 1e-9]] = True
    return chosen


def _elastic_min_lots(
    lp: LinearModel, ycols: np.ndarray
) -> tuple[LinearModel, Callable[[np.ndarray], np.ndarray]]:
    """``lp`` with a penalised slack ``e`` in every minimum-lot row (``x - m y + e >= 0``).

    Returns the model and a function giving, per setup column (``ycols`` order), the
    slack its minimum lot needed in a solution of that model.
    """
    block = lp.constraints["min_lot"]
    n = lp.num_cols
    rows = np.arange(block.start, block.stop)
    # the setup column of each minimum-lot row: its one nonzero among the setup columns
    counts = np.diff(lp.a_start)
    col_of = np.repeat(np.arange(n), counts)
    in_block = (lp.a_index >= block.start) & (lp.a_index < block.stop)
    position = np.full(n, -1, dtype=np.int64)
    position[ycols] = np.arange(len(ycols))
    is_y = in_block & (position[col_of] >= 0)
    row_to_setup = np.full(block.size, -1, dtype=np.int64)
    row_to_setup[lp.a_index[is_y] - block.start] = position[col_of[is_y]]
    penalty = 10.0 * max(1.0, float(np.abs(lp.cost).max()))
    k = block.size
    elastic = dataclasses.replace(
        lp,
        cost=np.concatenate([lp.cost, np.full(k, penalty)]),
        lower=np.concatenate([lp.lower, np.zeros(k)]),
        upper=np.concatenate([lp.upper, np.full(k, np.inf)]),
        integer=np.concatenate([lp.integer, np.zeros(k, dtype=bool)]),
        a_start=np.concatenate([lp.a_start, lp.a_start[-1] + np.arange(1, k + 1)]),
        a_index=np.concatenate([lp.a_index, rows.astype(lp.a_index.dtype)]),
        a_value=np.concatenate([lp.a_value, np.ones(k)]),
    )

    def shortfall_of(values: np.ndarray) -> np.ndarray:
        out = np.zeros(len(ycols))
        ok = row_to_setup >= 0
        out[row_to_setup[ok]] = values[n:][ok]
        return out

    return elastic, shortfall_of


def _fix(lp: LinearModel, cols: np.ndarray, on: np.ndarray, continuous: np.ndarray) -> LinearModel:
    lower = lp.lower.copy()
    upper = lp.upper.copy()
    lower[cols] = upper[cols] = on.astype(np.float64)
    return dataclasses.replace(lp, lower=lower, upper=upper, integer=continuous)


def _without_rows(lp: LinearModel, name: str) -> LinearModel:
    """The model with one constraint family switched off (bounds opened)."""
    block = lp.constraints.get(name)
    if block is None:
        return lp
    lo = lp.row_lower.copy()
    up = lp.row_upper.copy()
    lo[block.slice] = -np.inf
    up[block.slice] = np.inf
    return dataclasses.replace(lp, row_lower=lo, row_upper=up)
