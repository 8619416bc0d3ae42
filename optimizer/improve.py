"""Improve a MILP plan's setups by local search, each move priced by a warm-started LP.

With its setups fixed the allocation MILP is an LP, and the LP of a neighbouring setup
pattern (one setup opened or closed) re-solves from the previous basis in a few
hundredths of a second. That makes a plain local search affordable on models where
branch and cut spends the whole time limit at the root:

1. every open setup that makes nothing is closed (saves its cost and hours);
2. moves are ranked by the LP's reduced cost of the setup variable (a first-order
   estimate of what opening or closing it would save), and the most promising are
   priced exactly by re-solving the LP; a move that lowers the cost is kept;
3. when a whole pass finds nothing, or the time is up, the best plan is returned.

Every plan this returns is an optimal LP solution for a fixed 0/1 setup pattern, so it
is feasible for the MILP (the LP is the MILP with its integers fixed).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from formulations.allocation import AllocationModel
from formulations.lp import LinearModel

logger = logging.getLogger(__name__)

BATCH = 100
"""Moves priced per ranking (reduced costs go stale as moves are kept)."""
STALL = 300
"""Moves priced in a row without a better plan before single moves give way to pairs,
and pairs to the end of the search."""


class WarmLp:
    """One HiGHS instance kept across solves, so bound changes re-solve from the last
    basis (dual simplex) instead of from scratch."""

    def __init__(self, lp: LinearModel, threads: int = 0) -> None:
        import highspy

        self._hp = highspy
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        if threads:
            h.setOptionValue("threads", int(threads))
        h.setOptionValue("random_seed", 0)
        m = highspy.HighsLp()
        m.num_col_ = lp.num_cols
        m.num_row_ = lp.num_rows
        m.col_cost_ = lp.cost
        m.col_lower_ = lp.lower
        m.col_upper_ = lp.upper
        m.row_lower_ = lp.row_lower
        m.row_upper_ = lp.row_upper
        m.offset_ = lp.offset
        m.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        m.a_matrix_.start_ = lp.a_start.astype(np.int32)
        m.a_matrix_.index_ = lp.a_index.astype(np.int32)
        m.a_matrix_.value_ = lp.a_value
        m.a_matrix_.num_col_ = lp.num_cols
        m.a_matrix_.num_row_ = lp.num_rows
        h.passModel(m)
        self.h: Any = h
        self.lower = lp.lower.copy()
        self.upper = lp.upper.copy()

    def set_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        if not len(cols):
            return
        lower = np.broadcast_to(np.asarray(lower, dtype=np.float64), cols.shape).copy()
        upper = np.broadcast_to(np.asarray(upper, dtype=np.float64), cols.shape).copy()
        self.lower[cols] = lower
        self.upper[cols] = upper
        self.h.changeColsBounds(len(cols), cols, lower, upper)

    def solve(self, time_limit: float) -> tuple[float, np.ndarray, np.ndarray] | None:
        """Objective (without offset), values and reduced costs; ``None`` when the LP
        is infeasible or the time ran out."""
        h = self.h
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
        h.run()
        if h.getModelStatus() != self._hp.HighsModelStatus.kOptimal:
            return None
        sol = h.getSolution()
        values = np.asarray(sol.col_value, dtype=np.float64)
        duals = np.asarray(sol.col_dual, dtype=np.float64)
        obj = float(h.getInfo().objective_function_value) - float(h.getLp().offset_)
        return obj, values, duals


def local_search(
    model: AllocationModel,
    start: np.ndarray,
    deadline: float,
    threads: int = 0,
    warm: WarmLp | None = None,
) -> np.ndarray:
    """A plan at least as cheap as ``start`` (a feasible MILP solution of
    ``model.lp``), found by opening and closing setups until ``deadline``."""
    lp = model.lp
    ycols = model.y.ravel()
    if not len(ycols):
        return start
    T = model.data.T
    xcols = model.x[model.y_routing].ravel()
    allowed = lp.upper[ycols] > 0.5
    lp_ = warm if warm is not None else WarmLp(_relaxed(lp), threads)
    is_open = np.round(start[ycols]) > 0.5
    is_open &= allowed

    def left() -> float:
        return deadline - time.perf_counter()

    def fix(cols: np.ndarray, on: np.ndarray) -> None:
        v = on.astype(np.float64)
        lp_.set_bounds(ycols[cols], v, v)

    fix(np.arange(len(ycols)), is_open)
    res = lp_.solve(left())
    start_cost = float(lp.cost @ start)
    if res is None:
        return start
    cost, values, duals = res
    best_cost, best_values = cost, values
    rounds = tried = accepted = 0
    failed: set[tuple[int, ...]] = set()
    siblings = _siblings(model)
    phase, misses = "single", 0
    while left() > 0.05:
        rounds += 1
        # 1. setups that make nothing close for free
        idle = np.flatnonzero(is_open & (values[xcols] <= 1e-6))
        if len(idle):
            is_open[idle] = False
            fix(idle, is_open[idle])
            res = lp_.solve(left())
            if res is None:
                is_open[idle] = True
                fix(idle, is_open[idle])
                break
            cost, values, duals = res
            best_cost, best_values = cost, values
        # 2. candidate moves, by first-order gain; the best few priced exactly, each
        # kept when it lowers the cost (the ranking is refreshed after each batch):
        # single setups opened or closed first, then pairs (a lot moved one period
        # earlier or later, or to another line of the product) once no single move pays
        rc = duals[ycols]
        gain = np.where(is_open, rc, -rc)  # closing saves rc, opening saves -rc
        cand = np.flatnonzero(allowed & (gain > 1e-7))
        cand = cand[np.argsort(-gain[cand], kind="stable")]
        moves: list[tuple[int, ...]] = []
        if phase == "single":
            moves = [(int(j),) for j in cand if (int(j),) not in failed]
            if not moves or misses >= STALL:
                phase, misses, moves = "pair", 0, []
        if phase == "pair":
            pj, pk, pg = _pair_moves(is_open, allowed, rc, T, siblings)
            order = np.argsort(-pg, kind="stable")
            moves = [
                (int(pj[i]), int(pk[i]))
                for i in order
                if pg[i] > 1e-7 and (int(pj[i]), int(pk[i])) not in failed
            ]
            if misses >= STALL:
                moves = []
        improved = False
        for move in moves[:BATCH]:
            if left() <= 0.05:
                break
            tried += 1
            idx = np.asarray(move)
            is_open[idx] = ~is_open[idx]
            fix(idx, is_open[idx])
            res = lp_.solve(left())
            if res is not None and res[0] < best_cost - 1e-7 * max(1.0, abs(best_cost)):
                cost, values, duals = res
                best_cost, best_values = cost, values
                accepted += 1
                improved = True
                continue
            is_open[idx] = ~is_open[idx]
            fix(idx, is_open[idx])
            failed.add(move)
            misses += 1
        logger.debug(
            "local search round %d: %.2f, %d open, %d %s moves",
            rounds,
            best_cost,
            is_open.sum(),
            len(moves),
            phase,
        )
        if improved:
            # what failed against the old pattern may pay against the new one
            failed.clear()
            phase, misses = "single", 0
        elif not moves:
            break
    logger.debug(
        "local search: %d rounds, %d moves priced, %d kept; %.2f -> %.2f",
        rounds,
        tried,
        accepted,
        start_cost,
        best_cost,
    )
    if best_cost >= start_cost:
        return start
    out = best_values.copy()
    out[ycols] = np.round(out[ycols])
    del T
    return out


def _siblings(model: AllocationModel) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(a, b)`` of setup rows (``model.y``) of one product on different lines,
    both orders."""
    product = model.data.rp[model.y_routing]
    order = np.argsort(product, kind="stable")
    a_list, b_list = [], []
    for group in np.split(order, np.flatnonzero(np.diff(product[order])) + 1):
        for i in group:
            for j in group:
                if i != j:
                    a_list.append(i)
                    b_list.append(j)
    return np.asarray(a_list, dtype=np.int64), np.asarray(b_list, dtype=np.int64)


def _pair_moves(
    is_open: np.ndarray,
    allowed: np.ndarray,
    rc: np.ndarray,
    T: int,
    siblings: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moves closing an open setup ``j`` and opening a closed one ``k`` of the same
    routing one period apart, or of the same product and period on another line; with
    their first-order gain ``rc[j] - rc[k]`` (setups indexed ``row * T + period``)."""
    js, ks = [], []
    open_ = np.flatnonzero(is_open)
    period = open_ % T
    for step in (-1, 1):
        ok = (period + step >= 0) & (period + step < T)
        j = open_[ok]
        k = j + step
        keep = allowed[k] & ~is_open[k]
        js.append(j[keep])
        ks.append(k[keep])
    a, b = siblings
    if len(a):
        j = (a[:, None] * T + np.arange(T)).ravel()
        k = (b[:, None] * T + np.arange(T)).ravel()
        keep = is_open[j] & ~is_open[k] & allowed[k]
        js.append(j[keep])
        ks.append(k[keep])
    j = np.concatenate(js)
    k = np.concatenate(ks)
    return j, k, rc[j] - rc[k]


def _relaxed(lp: LinearModel) -> LinearModel:
    import dataclasses

    return dataclasses.replace(lp, integer=np.zeros(lp.num_cols, dtype=bool))


def improve(
    model: AllocationModel,
    start: np.ndarray,
    deadline: float,
    threads: int = 0,
) -> np.ndarray:
    """``start`` improved by :func:`local_search` until ``deadline`` (HiGHS's LP, from
    highspy, whatever the MIP backend); ``start`` itself when highspy is missing."""
    if not model.lp.is_mip or not len(model.y_routing) or deadline - time.perf_counter() < 0.2:
        return start
    try:
        import highspy  # noqa: F401
    except ImportError:  # pragma: no cover - highspy is a dependency
        return start
    return local_search(model, start, deadline, threads)
