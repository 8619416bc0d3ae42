"""Shadow prices of a plan: what one more hour, unit of material or unit of stock is worth.

The allocation model is a MILP when some routing has a setup. Its duals are read from
the linear program left when every setup decision is fixed to the plan's value
(the usual way to price a MIP solution): every statement about marginal values is
then "given this plan's setups". For a pure LP the duals are the LP's own.

Before solving, the fixed LP is cleaned of rows and bounds that only repeat another
constraint, so that a binding resource carries its own dual instead of sharing it
with a redundant twin (a degenerate LP splits a price arbitrarily between them):

* production upper bounds repeat the capacity row: kept only as ``x = 0`` where no
  setup is planned (or the line has no hours) and as the frozen fence ``x <= prev``;
  the model's bound of what output can still be useful (some optimal plan stays
  below it) is dropped too, so the LP is MODEL.md's;
* setup links with ``y`` fixed are ``x <= 0`` (the bound above) or ``x <= M``
  (implied by the capacity row);
* the (l,S) windows are valid inequalities implied by the other rows.

Sign convention: a *value* is the decrease of the objective per extra unit of the
resource (hour, unit of material received, unit in stock), positive when more would
help. HiGHS reports ``d objective / d rhs`` as the row dual, so ``value = -dual``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from formulations.allocation import AllocationData, AllocationModel, build
from formulations.lp import INF, LinearModel
from optimizer.backends import SolveOptions, SolveStatus, get_backend
from optimizer.backends.base import Basis
from optimizer.dataset import Dataset
from optimizer.results import Plan

logger = logging.getLogger(__name__)

TOL = 1e-6
"""Values, slacks and quantities below this are treated as zero."""


@dataclass(frozen=True)
class ShadowPrices:
    """Marginal values of a plan's resources, as arrays in the model's positions.

    Attributes
    ----------
    data
        The model's data (ids of periods, products, lines, materials; rates, BOM).
    available
        Whether the duals were obtained; when not, every value array is zero and
        :attr:`note` says why.
    is_mip
        The model has setup decisions: values are those of the LP with the plan's
        setups fixed.
    objective
        Objective of the fixed LP (equal to the plan's when the plan is optimal).
    capacity
        ``(L, T)`` value of one more regular hour on line ``l`` in period ``t``.
    material
        ``(K, T)`` value of one more unit of material ``k`` received in ``t`` (it
        can be used in ``t`` or any later period).
    stock
        ``(P, T)`` value of one more unit of product ``p`` in stock at the end of ``t``.
    entry
        ``(E,)`` cost of one more unit demanded by entry ``e`` (its shortage price
        when short).
    production
        ``(R, T)`` reduced cost of one more unit of routing ``r`` in ``t``: what it
        would cost (positive) or save (negative) to make one more unit there.
    setup_block
        ``(R, T)`` value per unit of lifting the "no setup planned" limit ``x <= 0``
        (zero where the plan has a setup or the routing needs none).
    fence_block
        ``(R, T)`` value per unit of lifting the frozen fence ``x <= prev``.
    storage_block
        ``(P, T)`` value of one more unit of storage (``max_inventory``) for product
        ``p`` at the end of ``t``.
    overtime_used
        ``(L, T)`` overtime hours the plan uses.
    setups
        ``(R, T)`` the plan's setup decisions (1 where a setup is planned or the
        routing needs none).
    note
        How the values were obtained, for the report.
    plan_basis
        For an LP plan that came without its basis (read back from its folder): the
        basis of its LP found here, which the what-ifs then start from.
    seconds
        How long the values took (building the model and solving its LP): about what a
        MILP what-if's first plan, the LP with the plan's setups fixed, takes.
    """

    data: AllocationData
    available: bool
    is_mip: bool
    objective: float
    capacity: np.ndarray
    material: np.ndarray
    stock: np.ndarray
    entry: np.ndarray
    production: np.ndarray
    setup_block: np.ndarray
    fence_block: np.ndarray
    storage_block: np.ndarray
    overtime_used: np.ndarray
    setups: np.ndarray
    note: str
    plan_basis: Basis | None = None
    seconds: float = 0.0

    def overtime_value(self) -> np.ndarray:
        """``(L, T)`` value of one more allowed overtime hour (net of its cost)."""
        d = self.data
        value: np.ndarray = np.maximum(0.0, self.capacity - d.c_ot[:, None]) * (d.OT > 0)
        return value


def plan_setups(data: AllocationData, plan: Plan) -> np.ndarray:
    """``(R, T)`` 0/1 setup decisions of a plan, read from ``production.setup``."""
    R, T = len(data.rp), data.T
    y = np.zeros((R, T))
    prod = plan.production
    if len(prod) and R:
        key = pd.MultiIndex.from_arrays(
            [data.product_ids[data.rp], data.line_ids[data.rl]], names=["product", "line"]
        )
        ri = key.get_indexer(pd.MultiIndex.from_arrays([prod["product"], prod["line"]]))
        ti = pd.Index(data.period_ids).get_indexer(prod["period"])
        on = prod["setup"].astype(bool).to_numpy() & (ri >= 0) & (ti >= 0)
        y[ri[on], ti[on]] = 1.0
    return y


def shadow_prices(
    dataset: Dataset,
    plan: Plan,
    *,
    time_limit: float = 10.0,
    model: AllocationModel | None = None,
) -> ShadowPrices:
    """Solve the plan's fixed-setup LP with HiGHS and read its duals.

    Parameters
    ----------
    dataset
        The dataset the plan was made from (its settings decide the objective).
    plan
        A plan with tables.
    time_limit
        Seconds for the LP solve.
    model
        A model already built from ``dataset`` (built here otherwise).

    Returns
    -------
    ShadowPrices
        With ``available`` false (and zero values) when the LP could not be solved.
    """
    started = time.perf_counter()
    model = model if model is not None else build(dataset, window=0)
    d = model.data
    R, T = len(d.rp), d.T
    y_plan = plan_setups(d, plan)
    lp, blocked = _fixed_lp(model, y_plan)
    lexicographic = dataset.settings.priority.mode == "lexicographic"
    if lexicographic:
        lp = _with_tier_limits(model, lp, plan, dataset.settings.priority.tolerance)
    setups = np.ones((R, T))
    if len(model.y_routing):
        setups[model.y_routing] = y_plan[model.y_routing]
    try:
        backend = get_backend("highs")
        # the plan's own basis (LP models): this LP differs from the plan's only in
        # bounds (and the tier limits' values), so it re-solves in a few hundred
        # iterations instead of from scratch
        basis = plan.basis
        found = None
        if basis is None or not basis.fits(lp):
            basis = found = _boxed_basis(model, lp, backend, time_limit)
        left = max(0.1, time_limit - (time.perf_counter() - started))
        sol = backend.solve(lp, SolveOptions(time_limit=left, want_duals=True, basis=basis))
    except Exception as exc:  # the report must not fail because a dual could not be had
        logger.warning("shadow prices unavailable: %s", exc)
        return _unavailable(d, setups, f"marginal values unavailable ({exc})")
    if sol.status != SolveStatus.OPTIMAL or sol.duals is None or sol.values is None:
        note = f"marginal values unavailable: the fixed-setup LP ended {sol.status.value}"
        logger.warning(note)
        return _unavailable(d, setups, note)

    dual = sol.duals
    value = -dual
    cons = lp.constraints
    capacity = value[cons["capacity"].slice].reshape(len(d.line_ids), T)
    K = len(d.material_ids)
    material = (
        value[cons["material"].slice].reshape(K, T) if "material" in cons else np.zeros((K, T))
    )
    stock = value[cons["balance"].slice].reshape(len(d.product_ids), T)
    # one more unit of an entry: its service group's row value, unless its class is
    # shorted whole (the row is then worth more than the class's own shortage price)
    entry = np.minimum(
        dual[cons["service"].slice][d.class_group[d.group]], lp.cost[model.short][d.group]
    )
    reduced = _reduced_costs(lp, dual)
    production = reduced[model.x]
    # x <= 0 where no setup is planned: what lifting it would be worth per unit
    setup_block = np.where(blocked, np.maximum(-production, 0.0), 0.0)
    fence_block = np.zeros((R, T))
    if d.frozen:
        at_fence = np.isfinite(lp.upper[model.x[:, : d.frozen]]) & ~blocked[:, : d.frozen]
        fence_block[:, : d.frozen] = np.where(
            at_fence, np.maximum(-production[:, : d.frozen], 0.0), 0.0
        )
    # the column that meets max_inventory: the part up to the safety stock where that
    # is the whole room (max_inventory <= safety stock), else the (part above) inventory
    stock = model.inv.copy()
    if len(model.ss_product):
        within = d.Imax[model.ss_product] <= d.ss[model.ss_product]
        stock[model.ss_product[within]] = model.ssv[within]
    storage_block = np.where(np.isfinite(d.Imax)[:, None], np.maximum(-reduced[stock], 0.0), 0.0)
    overtime = np.zeros((len(d.line_ids), T))
    overtime[model.o_line, model.o_period] = sol.values[model.o]
    objective = float(sol.objective)
    kind = (
        "the LP with this plan's setups fixed (the model is a MILP)"
        if model.lp.is_mip
        else "the LP (the model has no setup decisions)"
    )
    note = f"marginal values are duals of {kind}"
    if lexicographic:
        note += ", final lexicographic stage with the tiers' limits"
    if plan.summary.objective is not None and not lexicographic:
        diff = abs(objective - plan.summary.objective)
        if diff > 1e-6 * max(1.0, abs(plan.summary.objective)) + 1e-6:
            note += (
                f"; the fixed LP's optimum ({objective:,.2f}) differs from the plan's objective"
                f" ({plan.summary.objective:,.2f}) because the plan was not proven optimal"
            )
    logger.info("shadow prices in %.2f s: %s", time.perf_counter() - started, note)
    return ShadowPrices(
        data=d,
        available=True,
        is_mip=model.lp.is_mip,
        objective=objective,
        capacity=_clean(capacity),
        material=_clean(material),
        stock=_clean(stock),
        entry=_clean(entry),
        production=_clean(production),
        setup_block=_clean(setup_block),
        fence_block=_clean(fence_block),
        storage_block=_clean(storage_block),
        overtime_used=overtime,
        setups=setups,
        note=note,
        plan_basis=found if not model.lp.is_mip and not lexicographic else None,
        seconds=time.perf_counter() - started,
    )


def _unavailable(d: AllocationData, setups: np.ndarray, note: str) -> ShadowPrices:
    """Zero values, for a plan whose LP could not be solved."""
    L, T, K, P, R = len(d.line_ids), d.T, len(d.material_ids), len(d.product_ids), len(d.rp)
    return ShadowPrices(
        data=d,
        available=False,
        is_mip=bool(d.needs_setup.any()),
        objective=float("nan"),
        capacity=np.zeros((L, T)),
        material=np.zeros((K, T)),
        stock=np.zeros((P, T)),
        entry=np.zeros(len(d.ed)),
        production=np.zeros((R, T)),
        setup_block=np.zeros((R, T)),
        fence_block=np.zeros((R, T)),
        storage_block=np.zeros((P, T)),
        overtime_used=np.zeros((L, T)),
        setups=setups,
        note=note,
    )


def _clean(a: np.ndarray) -> np.ndarray:
    """Solver noise taken off: values below 1e-7 (relative to the largest value) set to
    zero, the rest rounded to 1e-9 of the largest, so that values equal but for the
    path the solver took (from scratch or from a basis) tie, and sort, alike."""
    out = np.asarray(a, dtype=np.float64).copy()
    scale = max(1.0, float(np.abs(out).max())) if out.size else 1.0
    out[np.abs(out) < 1e-9 * scale + 1e-7] = 0.0
    decimals = max(0, 9 - int(np.floor(np.log10(scale))))
    return np.round(out, decimals)


def fixed_setup_lp(model: AllocationModel, y_plan: np.ndarray) -> LinearModel:
    """The model as an LP with every setup fixed to ``y_plan`` and redundant rows relaxed.

    Parameters
    ----------
    model
        A built allocation model.
    y_plan
        ``(R, T)`` 0/1 setup decisions (only the routings with setups are read).
    """
    return _fixed_lp(model, y_plan)[0]


def _fixed_lp(model: AllocationModel, y_plan: np.ndarray) -> tuple[LinearModel, np.ndarray]:
    lp = model.lp
    d = model.data
    R, T = len(d.rp), d.T
    lower = lp.lower.copy()
    # the builder's boxes are implied by rows that change here (x loses its useful-
    # output bound): the data's bounds instead, so that no dual value lands on them
    upper = model.unboxed_upper()
    row_lower = lp.row_lower.copy()
    row_upper = lp.row_upper.copy()
    closed = np.zeros((R, T), dtype=bool)  # routings with a setup, none planned
    if len(model.y_routing):
        fixed = np.minimum(y_plan[model.y_routing], lp.upper[model.y])
        lower[model.y.ravel()] = fixed.ravel()
        upper[model.y.ravel()] = fixed.ravel()
        closed[model.y_routing] = fixed < 0.5
    # production bounds: x = 0 without a planned setup, the frozen fence where it is
    # tighter than the line; the rest only repeats the capacity row
    cap = d.rate[:, None] * np.maximum(
        0.0, d.H[d.rl] + d.OT[d.rl] - np.where(d.needs_setup, d.setup_hours, 0.0)[:, None]
    )
    frozen = np.zeros((R, T), dtype=bool)
    frozen[:, : d.frozen] = True
    fence = frozen & (d.prev[:, :T] < cap)
    hours = (d.H + d.OT)[d.rl] > 0
    # no setup planned, or a setup longer than the hours: x = 0 (a line with no hours
    # at all is left to its capacity row, which then carries the value of an hour)
    blocked = (closed & (cap > 0)) | ((cap <= 0) & hours)
    new_ub = np.where(fence, d.prev[:, :T], INF)
    new_ub = np.where(blocked, 0.0, new_ub)
    upper[model.x.ravel()] = new_ub.ravel()
    # setup links (with y fixed: x <= 0, done by the bound, or x <= M, implied by the
    # capacity row) and the (l,S) windows (valid inequalities) are relaxed
    for name, block in lp.constraints.items():
        if name == "setup" or name.startswith("lot_window"):
            row_lower[block.slice] = -INF
            row_upper[block.slice] = INF
    fixed_lp = dataclasses.replace(
        lp,
        lower=lower,
        upper=upper,
        integer=np.zeros(lp.num_cols, dtype=bool),
        row_lower=row_lower,
        row_upper=row_upper,
    )
    return fixed_lp, blocked


def _with_tier_limits(
    model: AllocationModel, lp: LinearModel, plan: Plan, tolerance: float
) -> LinearModel:
    """Lexicographic mode: the final stage's LP, each tier held to the plan's value."""
    values = model.demand_values(plan.shipments, plan.service)
    for k in model.tiers():
        cols, vals = model.tier_row(k)
        u_star = float(vals @ values[cols])
        limit = u_star * (1 + tolerance) + 1e-6 * max(1.0, abs(u_star))
        lp = lp.with_rows(
            [cols],
            [vals],
            np.array([-INF]),
            np.array([limit]),
            f"tier_limit_{k}",
            pd.DataFrame({"tier": [k]}),
        )
    return dataclasses.replace(lp, cost=model.final_objective())


def _boxed_basis(
    model: AllocationModel, lp: LinearModel, backend: Any, time_limit: float
) -> Basis | None:
    """A basis for ``lp`` when the plan brings none (a plan read back from its folder):
    that of ``lp`` with the builder's implied bounds put back, solved as ``plan()``
    solves an LP. From scratch the unboxed LP took three times as long (size l: 21 s
    against 7 s, then 0.2 s from the basis)."""
    from optimizer.solve import RELAX_FIRST

    boxed = dataclasses.replace(lp, upper=np.minimum(lp.upper, model.lp.upper))
    relax = () if model.lp.is_mip else RELAX_FIRST
    sol = backend.solve(
        boxed, SolveOptions(time_limit=time_limit, want_basis=True, relax_first=relax)
    )
    return sol.basis  # type: ignore[no-any-return]


def _reduced_costs(lp: LinearModel, dual: np.ndarray) -> np.ndarray:
    """``c - A^T y`` for every column."""
    cols = np.repeat(np.arange(lp.num_cols), np.diff(lp.a_start))
    aty = np.bincount(cols, weights=lp.a_value * dual[lp.a_index], minlength=lp.num_cols)
    return np.asarray(lp.cost - aty, dtype=np.float64)
