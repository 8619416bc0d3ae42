r"""The canonical weekly S&OE allocation model (``shared/spec/MODEL.md``).

Sets
----
``t = 1..T`` periods; ``p`` products; ``l`` lines; routings ``(p, l)``; materials
``k``; demand entries ``e`` (:func:`optimizer.demand.entries`), each with product
``p(e)``, due period ``t(e)``, quantity ``d(e)`` and tier ``k(e)``; ``L`` periods of
allowed lateness; ``F`` frozen periods.

Data
----
``H[l,t]``, ``OT[l,t]`` regular and overtime hours (calendar override, else the
line's), ``c_ot[l]``; routing rate ``r``, setup hours ``s``, setup cost ``c_s``, run
cost ``c_r``, minimum lot ``m``; material stock ``Z0[k]``, receipts ``Q[k,t]``,
holding ``h_k``, bill of materials ``a[p,k]``; product ``I0``, ``ss``, ``h``,
``c_ss``, ``c_short``, ``c_late``, ``Imax``; previous plan ``prev[p,l,t]``.
Weighted shortage cost ``pi(e) = c_short[p(e)] * base^(K - k(e))``.

Variables (non-negative)
------------------------
``x[p,l,t]`` production; ``y[p,l,t]`` in {0,1}, only for routings with ``s > 0``,
``c_s > 0`` or ``m > 0``; ``o[l,t] <= OT[l,t]`` overtime hours; ``f[e,u]`` shipment of
``e`` in ``t(e) <= u <= min(T, t(e)+L)``; ``short[e]``; ``I[p,t] <= Imax`` closing
inventory; ``S[p,t]`` safety-stock shortfall; ``Z[k,t]`` closing material stock;
``chg[p,l,t]`` absolute change against the previous plan.

Objective (minimise)
--------------------
.. math::

    \sum_e \pi_e\,short_e + \sum_{e,u} c^{late}_{p(e)} (u - t(e)) f_{eu}
    + \sum_{p,t} (h_p I_{pt} + c^{ss}_p S_{pt}) + \sum_{k,t} h_k Z_{kt}
    + \sum (c_r x + c_s y) + \sum_{l,t} c^{ot}_l o_{lt}
    + c^{frz} \sum_{t \le F} (prev - x) + c^{chg} \sum_{t > F} chg

Constraints
-----------
1. ``capacity[line, period]``: ``sum_p (x/r + s y) - o <= H``.
2. ``setup[product, line, period]``: ``x <= r (H + OT - s) y`` (``x = 0`` where that is
   not positive) and ``min_lot[...]``: ``x >= m y``.
3. ``material[material, period]``: ``Z_t - Z_{t-1} + sum_p a sum_l x = Q_t``
   (``Z_0 = Z0``).
4. ``balance[product, period]``: ``I_t - I_{t-1} - sum_l x + sum_e f[e, t] = 0``
   (``I_0 = I0``).
5. ``service[group]``: ``sum_u f[e,u] + short[e] = d(e)``, summed over a *service
   group*. Entries of one product, due period and tier (a demand class) cost the same
   in every mode, so a class has one shortage column. In weighted mode the classes of
   one product and due period differ only in their shortage price, so they also share
   the shipment columns and the row: ``sum_u f[g,u] + sum_k short[k] = sum_k d(k)``
   with ``short[k] <= d(k)`` (any plan of MODEL.md sums to one of these at the same
   cost, and each of these splits back into one). In lexicographic mode, which prices
   each tier's lateness apart, each class is a group of its own.
   :meth:`AllocationModel.entry_shipments` does the split: a class's shortage falls on
   its last entries, then the group's shipments, earliest first, fill the served
   entries by tier and entry order.
6. Safety stock, ``S >= ss - I``: stated without a row. Where ``ss > 0`` and ``c_ss > 0``
   the inventory is two columns, ``I = I_low + I_high`` with ``I_low <= ss`` costing
   ``h - c_ss`` and ``I_high`` costing ``h``, and ``S = ss - I_low`` (the constant
   ``c_ss ss`` goes to the offset): the cheaper part fills first, so at an optimum
   ``S = max(0, ss - I)``; :meth:`AllocationModel.settle` makes it so for any plan.
   Elsewhere ``S`` has no cost and is reported as ``max(0, ss - I)``. (A row
   ``S + I >= ss`` per product and period would do the same; on size l it was a fifth
   of the rows and the dual simplex's iterations.)
7. Frozen fence, ``t <= F``: the bound ``x <= prev``; the shortfall
   ``dev = prev - x`` is substituted into the objective (exact, since ``x <= prev``).
8. ``change[product, line, period]``, ``t > F`` and ``change_cost > 0``:
   ``x - up + down = prev``, ``chg = up + down`` (both cost ``c_chg``; an optimum never
   has both, so ``chg = |x - prev|``; :meth:`AllocationModel.settle` makes it so for
   any plan), ``up <= ub(x) - prev``, ``down <= prev``. One row per routing and period
   instead of two.

Valid inequalities (MILP only; they cut no integer plan, so the optimum is MODEL.md's):

9. ``lot_window[product, line, period, to]``: the (l,S) inequality
   ``x[p,l,t] <= D(p,t..u) y[p,l,t] + I[p,u]`` for ``u`` in a window after ``t`` and
   ``u = T``, where ``D(p,t..u)`` is the demand that can ship in ``t..u`` (entries due
   in ``t-L..u``): what line ``l`` makes in ``t`` either ships by ``u`` or is still in
   stock at the end of ``u``. Added only where it is tighter than (2).

Lexicographic mode solves a sequence of objectives on the same constraints (see
:meth:`AllocationModel.stage_objective` and :meth:`AllocationModel.tier_row`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from formulations.lp import INF, LinearModel, ModelBuilder
from optimizer.schema import OBJECTIVE_TERMS, PRODUCTION_TERMS

if TYPE_CHECKING:
    from optimizer.dataset import Dataset


@dataclass(frozen=True)
class AllocationData:
    """The dataset as arrays indexed by position, made once per build."""

    period_ids: np.ndarray
    product_ids: np.ndarray
    line_ids: np.ndarray
    material_ids: np.ndarray
    H: np.ndarray  # (L, T) regular hours
    OT: np.ndarray  # (L, T) overtime hours
    c_ot: np.ndarray  # (L,)
    rp: np.ndarray  # routing -> product position
    rl: np.ndarray  # routing -> line position
    rate: np.ndarray
    setup_hours: np.ndarray
    setup_cost: np.ndarray
    run_cost: np.ndarray
    min_lot: np.ndarray
    needs_setup: np.ndarray
    Z0: np.ndarray
    h_mat: np.ndarray
    Q: np.ndarray  # (K, T) receipts
    bom_k: np.ndarray  # (material position, routing position, quantity per unit) triples
    bom_r: np.ndarray
    bom_a: np.ndarray
    entries: pd.DataFrame
    ep: np.ndarray
    et: np.ndarray
    ed: np.ndarray
    tier: np.ndarray
    c_short: np.ndarray
    c_late: np.ndarray
    weight: np.ndarray  # base^(K - k(e))
    group: np.ndarray  # entry -> demand class (same product, due period and tier)
    g_entry: np.ndarray  # class -> its first entry (whose product, due, tier, costs it has)
    gd: np.ndarray  # class quantity
    class_group: np.ndarray  # class -> service group (product and due period in weighted mode)
    I0: np.ndarray
    ss: np.ndarray
    c_ss: np.ndarray
    h: np.ndarray
    Imax: np.ndarray
    prev: np.ndarray  # (R, T)
    max_lateness: int
    frozen: int
    frozen_cost: float
    change_cost: float
    lexicographic: bool

    @property
    def T(self) -> int:
        return len(self.period_ids)


def prepare(dataset: Dataset) -> AllocationData:
    """Arrays of a validated dataset, in the model's notation."""
    from optimizer.demand import entries  # the demand signal is part of the dataset layer

    s = dataset.settings
    period_ids = dataset.periods["period"].to_numpy(dtype=object)
    T = len(period_ids)
    tpos = pd.Index(period_ids)
    products = dataset.products
    product_ids = products["product"].to_numpy(dtype=object)
    ppos = pd.Index(product_ids)
    lines = dataset.lines
    line_ids = lines["line"].to_numpy(dtype=object)
    lpos = pd.Index(line_ids)
    materials = dataset.materials
    material_ids = materials["material"].to_numpy(dtype=object)
    kpos = pd.Index(material_ids)

    H = np.repeat(lines["hours"].to_numpy(dtype=np.float64)[:, None], T, axis=1)
    OT = np.repeat(lines["overtime_hours"].to_numpy(dtype=np.float64)[:, None], T, axis=1)
    cal = dataset.line_calendar
    if len(cal):
        li = lpos.get_indexer(cal["line"])
        ti = tpos.get_indexer(cal["period"])
        H[li, ti] = cal["hours"].to_numpy(dtype=np.float64)
        ot = cal["overtime_hours"].to_numpy(dtype=np.float64)
        has = ~np.isnan(ot)
        OT[li[has], ti[has]] = ot[has]

    rt = dataset.routings
    rp = ppos.get_indexer(rt["product"])
    rl = lpos.get_indexer(rt["line"])
    setup_hours = rt["setup_hours"].to_numpy(dtype=np.float64)
    setup_cost = rt["setup_cost"].to_numpy(dtype=np.float64)
    min_lot = rt["min_lot"].to_numpy(dtype=np.float64)

    Q = np.zeros((len(material_ids), T))
    rc = dataset.receipts
    if len(rc):
        np.add.at(
            Q,
            (kpos.get_indexer(rc["material"]), tpos.get_indexer(rc["period"])),
            rc["quantity"].to_numpy(dtype=np.float64),
        )

    bom = dataset.bom
    if len(bom) and len(rt):
        pairs = bom.merge(
            pd.DataFrame(
                {"product": rt["product"].to_numpy(dtype=object), "_r": np.arange(len(rt))}
            ),
            on="product",
        )
        bom_k = kpos.get_indexer(pairs["material"])
        bom_r = pairs["_r"].to_numpy(dtype=np.int64)
        bom_a = pairs["quantity_per_unit"].to_numpy(dtype=np.float64)
    else:
        bom_k = bom_r = np.zeros(0, dtype=np.int64)
        bom_a = np.zeros(0)

    ent = entries(dataset)
    ep = ppos.get_indexer(ent["product"])
    et = tpos.get_indexer(ent["due"])
    tier = ent["priority"].to_numpy(dtype=np.int64)
    K = int(tier.max()) if len(tier) else 1
    c_short = products["shortage_cost"].to_numpy(dtype=np.float64)[ep]
    c_late = products["lateness_cost"].to_numpy(dtype=np.float64)[ep]
    weight = float(s.priority.tier_weight_base) ** (K - tier).astype(np.float64)

    # demand classes: entries of one product, due period and tier cost the same in every
    # mode, so the model ships and shorts them as one; the plan shares a class's
    # shipments out in entry order (orders in file order, then the forecast remainder)
    ed = ent["quantity"].to_numpy(dtype=np.float64)
    # numbered in order of first appearance, as a groupby's ngroup without sorting
    # (one integer key factorized: the build 7 ms faster on generated l than by groupby)
    product_due = (ep + 1) * (T + 1) + (et + 1)
    group = pd.factorize(product_due * (K + 1) + np.clip(tier, 0, K))[0].astype(np.int64)
    G = int(group.max()) + 1 if len(group) else 0
    g_entry = np.unique(group, return_index=True)[1] if G else np.zeros(0, dtype=np.int64)
    # weighted mode: the classes of one product and due period differ only in their
    # shortage price, so they share one service row and one set of shipment columns
    # (each keeps its own shortage column, bounded by its quantity); lexicographic mode
    # prices each tier's lateness apart, so there every class is a group of its own
    if s.priority.mode == "weighted" and G:
        class_group = pd.factorize(product_due[g_entry])[0].astype(np.int64)
    else:
        class_group = np.arange(G, dtype=np.int64)

    prev = np.zeros((len(rt), T))
    pp = dataset.previous_plan
    if len(pp) and len(rt):
        key = pd.MultiIndex.from_arrays([rt["product"], rt["line"]])
        ri = key.get_indexer(pd.MultiIndex.from_arrays([pp["product"], pp["line"]]))
        ok = ri >= 0
        np.add.at(
            prev,
            (ri[ok], tpos.get_indexer(pp["period"])[ok]),
            pp["quantity"].to_numpy(dtype=np.float64)[ok],
        )

    imax = products["max_inventory"].to_numpy(dtype=np.float64)
    return AllocationData(
        period_ids=period_ids,
        product_ids=product_ids,
        line_ids=line_ids,
        material_ids=material_ids,
        H=H,
        OT=OT,
        c_ot=lines["overtime_cost"].to_numpy(dtype=np.float64),
        rp=rp,
        rl=rl,
        rate=rt["rate"].to_numpy(dtype=np.float64),
        setup_hours=setup_hours,
        setup_cost=setup_cost,
        run_cost=rt["run_cost"].to_numpy(dtype=np.float64),
        min_lot=min_lot,
        needs_setup=(setup_hours > 0) | (setup_cost > 0) | (min_lot > 0),
        Z0=materials["initial_inventory"].to_numpy(dtype=np.float64),
        h_mat=materials["holding_cost"].to_numpy(dtype=np.float64),
        Q=Q,
        bom_k=bom_k,
        bom_r=bom_r,
        bom_a=bom_a,
        entries=ent,
        ep=ep,
        et=et,
        ed=ed,
        tier=tier,
        c_short=c_short,
        c_late=c_late,
        weight=weight,
        group=group,
        g_entry=g_entry,
        gd=np.bincount(group, weights=ed, minlength=G),
        class_group=class_group,
        I0=products["initial_inventory"].to_numpy(dtype=np.float64),
        ss=products["safety_stock"].to_numpy(dtype=np.float64),
        c_ss=products["safety_stock_cost"].to_numpy(dtype=np.float64),
        h=products["holding_cost"].to_numpy(dtype=np.float64),
        Imax=np.where(np.isnan(imax), INF, imax),
        prev=prev,
        max_lateness=s.demand.max_lateness,
        frozen=min(s.stability.frozen_periods, T),
        frozen_cost=s.stability.frozen_shortfall_cost,
        change_cost=s.stability.change_cost,
        lexicographic=s.priority.mode == "lexicographic",
    )


@dataclass
class AllocationModel:
    """The built model: the linear program plus what is needed to read a solution."""

    data: AllocationData
    lp: LinearModel
    x: np.ndarray  # (R, T) column numbers
    y: np.ndarray  # (Rs, T) column numbers of setup binaries
    y_routing: np.ndarray  # routing position of each setup row
    o: np.ndarray  # column numbers of overtime variables
    o_line: np.ndarray
    o_period: np.ndarray
    f: np.ndarray  # column numbers of shipments, one per service group and period
    f_group: np.ndarray  # service group of each shipment column
    f_period: np.ndarray
    group_entry: np.ndarray  # service group -> its first entry (product, due period)
    short: np.ndarray  # one per demand class
    demand: np.ndarray  # quantity of each demand class
    inv: np.ndarray  # (P, T) inventory; above the safety stock where ``ssv`` is split off
    ssv: np.ndarray  # (Ps, T) inventory up to the safety stock, products ``ss_product``
    ss_product: np.ndarray
    z: np.ndarray  # (K, T)
    chg: np.ndarray  # (R, T - F) or empty: change up, max(0, x - prev)
    chg_down: np.ndarray  # (R, T - F) or empty: change down, max(0, prev - x)
    run_cost: np.ndarray  # per column: the production part of the cost
    stability_cost: np.ndarray
    ss_offset: float = 0.0  # the constant sum c_ss ss of the split safety stock (6)

    # ------------------------------------------------------------------ objectives

    def weighted_objective(self) -> np.ndarray:
        """The cost vector of weighted mode (``pi(e) = c_short * base^(K-k)``)."""
        return self.lp.cost

    def tier_cost(self, tier: int) -> np.ndarray:
        """Cost vector of ``U_k``: tier ``k``'s shortage (at ``c_short``) and lateness."""
        d = self.data
        if len(self.group_entry) < len(d.g_entry):
            raise ValueError("tier costs need a model built for lexicographic mode")
        c = np.zeros(self.lp.num_cols)
        ge = d.g_entry
        in_tier = d.tier[ge] == tier
        c[self.short[in_tier]] = d.c_short[ge][in_tier]
        f_in = in_tier[self.f_group]  # one group per class here
        fe = ge[self.f_group]
        late = d.c_late[fe] * (self.f_period - d.et[fe])
        c[self.f[f_in]] = late[f_in]
        return c

    def final_objective(self) -> np.ndarray:
        """Lexicographic final stage: the full objective with ``pi(e) = c_short``."""
        c = self.lp.cost.copy()
        c[self.short] = self.data.c_short[self.data.g_entry]
        return c

    def tiers(self) -> list[int]:
        return sorted({int(k) for k in self.data.tier})

    # ------------------------------------------------------------------ solving

    def crash_basis(self) -> tuple[np.ndarray, np.ndarray]:
        """A starting basis for the LP's simplex: every demand served just in time from
        the cheapest line, capacity and materials aside.

        Each product-period's balance row has the production of the routing that
        costs least that period basic (its closing stock where no routing can make
        anything that period), each service row its on-time shipment, every other row
        its slack; every other column sits at the bound its cost favours. Priced by
        that basis, each due week's demand is worth what making it on time costs, so
        the dual simplex starts near the optimum without capacity and material rows
        and spends its iterations on those rows: on generated m 2,182 iterations
        instead of 8,715 from the slack basis; the optimum is the same.

        The basis is never singular: ordered service rows first, then each product's
        balance rows by period, every basic column has its own row on the diagonal
        (a shipment its service row, a production its balance row, a closing stock
        its period's balance row) and other entries only in rows after it or in rows
        whose slack is basic.

        Returns
        -------
        tuple of numpy.ndarray
            Column and row statuses in HiGHS's codes (0 at lower bound, 1 basic, 2 at
            upper bound, 3 free at zero).
        """
        lp, d = self.lp, self.data
        col = np.where(np.isfinite(lp.lower), 0, np.where(np.isfinite(lp.upper), 2, 3))
        col[(lp.cost < 0) & np.isfinite(lp.upper)] = 2
        row = np.ones(lp.num_rows, dtype=np.int8)
        basic = self.inv.copy()  # (P, T)
        if self.x.size:
            cost = np.where(lp.upper[self.x] > 0, lp.cost[self.x], np.inf)  # (R, T)
            product = np.broadcast_to(d.rp[:, None], cost.shape)
            order = np.lexsort((cost, product), axis=0)  # by product, then cost
            ranked = d.rp[order]
            first = np.ones(ranked.shape, dtype=bool)
            first[1:] = ranked[1:] != ranked[:-1]
            r_at, t = np.nonzero(first)
            r = order[r_at, t]
            can = np.isfinite(cost[r, t])
            basic[d.rp[r[can]], t[can]] = self.x[r[can], t[can]]
        col[basic.ravel()] = 1
        balance = lp.constraints["balance"]
        row[balance.start : balance.stop] = 0
        on_time = self.f_period == d.et[self.group_entry][self.f_group]
        col[self.f[on_time]] = 1
        row[lp.constraints["service"].start + self.f_group[on_time]] = 0
        return col.astype(np.int8), row

    def tier_row(self, tier: int) -> tuple[np.ndarray, np.ndarray]:
        """Columns and coefficients of ``U_k`` (for the limit rows of later stages)."""
        c = self.tier_cost(tier)
        cols = np.flatnonzero(c)
        return cols, c[cols]

    # ------------------------------------------------------------------ reading

    def objective_terms(
        self, values: np.ndarray, cost: np.ndarray | None = None
    ) -> dict[str, float]:
        """Each MODEL.md cost term for a solution vector (``cost``: the shortage prices)."""
        cost = self.lp.cost if cost is None else cost
        d = self.data
        ps = self.ss_product
        low = values[self.ssv]
        terms = {
            "shortage": float(cost[self.short] @ values[self.short]),
            "lateness": float(cost[self.f] @ values[self.f]),
            "holding": float((d.h[:, None] * self.closing(values)).sum()),
            "safety_stock": float((d.c_ss[ps][:, None] * (d.ss[ps][:, None] - low)).sum()),
            "material_holding": float(cost[self.z.ravel()] @ values[self.z.ravel()]),
            "run": float(self.run_cost @ values),
            "setup": float(cost[self.y.ravel()] @ values[self.y.ravel()]),
            "overtime": float(cost[self.o] @ values[self.o]),
            "stability": float(self.stability_cost @ values + self.lp.offset - self.ss_offset),
        }
        terms["production"] = terms["run"] + terms["setup"] + terms["overtime"]
        return {k: terms[k] for k in (*OBJECTIVE_TERMS, *PRODUCTION_TERMS)}

    def settle(self, values: np.ndarray) -> np.ndarray:
        """``values`` with the slack-like variables at the least their rows allow: the
        inventory up to the safety stock filled first (so the shortfall is
        ``S = max(0, ss - I)``) and change ``chg = |x - prev|``.

        This keeps every constraint and never raises the cost. It matters for a plan
        that was not optimised for the full objective (a lexicographic tier stage's plan
        returned when the final stage found none, a MIP plan within its gap): its tables
        and terms then agree with MODEL.md's.
        """
        d = self.data
        v = self.with_closing(values.copy(), self.closing(values))
        if self.chg.size:
            F = d.T - self.chg.shape[1]
            change = v[self.x[:, F:]] - d.prev[:, F:]
            v[self.chg] = np.maximum(change, 0.0)
            v[self.chg_down] = np.maximum(-change, 0.0)
        return v

    def unboxed_upper(self) -> np.ndarray:
        """The LP's upper bounds without the boxes the builder adds only to speed up the
        dual simplex (shipments, shortage, inventory and material stock bounded by what
        their rows imply): the data's bounds (``Imax``, split at the safety stock) or
        none. For LPs whose rows change (the report's fixed-setup LP)."""
        d = self.data
        upper = self.lp.upper.copy()
        high = np.repeat(d.Imax[:, None], d.T, axis=1)
        ps = self.ss_product
        if len(ps):
            low = np.minimum(d.ss[ps][:, None], high[ps])
            upper[self.ssv.ravel()] = low.ravel()
            high[ps] -= low
        upper[self.inv.ravel()] = high.ravel()
        upper[self.z.ravel()] = INF
        upper[self.f] = INF
        # a class's shortage bound is implied by its service row only where the class
        # has the row to itself
        alone = np.bincount(d.class_group)[d.class_group] == 1
        upper[self.short[alone]] = INF
        return upper

    def closing(self, values: np.ndarray) -> np.ndarray:
        """(P, T) closing inventory of a solution vector (both parts where split)."""
        closing: np.ndarray = values[self.inv]
        closing[self.ss_product] += values[self.ssv]
        return closing

    def with_closing(self, values: np.ndarray, closing: np.ndarray) -> np.ndarray:
        """``values`` (changed in place) holding the (P, T) inventory ``closing``, the part
        up to the safety stock filled first."""
        ps = self.ss_product
        values[self.inv] = closing
        if len(ps):
            low = np.minimum(closing[ps], self.lp.upper[self.ssv])
            values[self.ssv] = low
            values[self.inv[ps]] = closing[ps] - low
        return values

    def entry_shipments(self, values: np.ndarray) -> np.ndarray:
        """(E, W) what each demand entry receives ``0..W-1`` periods after its due one.

        A class serves its entries in entry order (orders in file order, then the
        forecast remainder): its shortage falls on the last. A service group's
        shipments, earliest first, then fill the served quantities of its entries by
        tier, then entry order: tier 1 gets the on-time units first. (They cost the
        same, so any split is optimal; this one is the planner's.)
        """
        d = self.data
        S = len(self.group_entry)
        E = len(d.ed)
        lag = self.f_period - d.et[self.group_entry[self.f_group]]
        W = int(lag.max()) + 1 if len(lag) else 1
        by_lag = np.zeros((S, W))
        by_lag[self.f_group, lag] = values[self.f]
        upto = np.zeros((S, W + 1))
        upto[:, 1:] = np.cumsum(by_lag, axis=1)
        # served quantity of each entry: its class's, to the entries in entry order
        served_class = np.maximum(d.gd - values[self.short], 0.0)
        in_class = pd.Series(d.ed).groupby(d.group).cumsum().to_numpy(dtype=np.float64) - d.ed
        served = np.clip(served_class[d.group] - in_class, 0.0, d.ed)
        # the group's shipments over its entries, by tier then entry order
        sgroup = d.class_group[d.group]
        order = np.lexsort((np.arange(E), d.tier, sgroup))
        end = np.zeros(E)
        end[order] = pd.Series(served[order]).groupby(sgroup[order]).cumsum().to_numpy()
        start = end - served
        c = upto[sgroup]
        return np.clip(  # type: ignore[no-any-return]
            np.minimum(end[:, None], c[:, 1:]) - np.maximum(start[:, None], c[:, :-1]),
            0.0,
            None,
        )

    def demand_values(self, shipments: pd.DataFrame, service: pd.DataFrame) -> np.ndarray:
        """A column vector holding a plan's shipments and unmet quantities (DATASET.md
        tables, per entry) in the model's demand-class columns; zero elsewhere."""
        d = self.data
        v = np.zeros(self.lp.num_cols)
        col = np.full((len(self.group_entry), d.T), -1, dtype=np.int64)
        col[self.f_group, self.f_period] = self.f
        e = pd.Index(d.entries["entry"]).get_indexer(shipments["entry"])
        t = pd.Index(d.period_ids).get_indexer(shipments["period"])
        known = (e >= 0) & (t >= 0)
        c = col[d.class_group[d.group[e[known]]], t[known]]
        q = shipments["quantity"].to_numpy(dtype=np.float64)[known]
        np.add.at(v, c[c >= 0], q[c >= 0])
        unmet = service.set_index("entry")["unmet"].reindex(d.entries["entry"]).fillna(0.0)
        np.add.at(v, self.short[d.group], unmet.to_numpy(dtype=np.float64))
        return v

    def tables(self, values: np.ndarray) -> dict[str, pd.DataFrame]:
        """The plan tables of DATASET.md "Output" for a solution vector."""
        d = self.data
        T = d.T
        per = d.period_ids
        x = values[self.x]  # (R, T)
        ymat = np.zeros_like(x)
        if len(self.y_routing):
            ymat[self.y_routing] = np.round(values[self.y])
        setup_flag = np.where(d.needs_setup[:, None], ymat > 0.5, x > 0)
        hours = x / d.rate[:, None] + d.setup_hours[:, None] * ymat
        keep = (x > 0) | setup_flag
        ri, ti = np.nonzero(keep)
        production = pd.DataFrame(
            {
                "product": d.product_ids[d.rp[ri]],
                "line": d.line_ids[d.rl[ri]],
                "period": per[ti],
                "quantity": x[ri, ti],
                "hours": hours[ri, ti],
                "setup": setup_flag[ri, ti],
            }
        )

        P = len(d.product_ids)
        produced = np.zeros((P, T))
        np.add.at(produced, d.rp, x)
        fq = values[self.f]
        shipped = np.zeros((P, T))
        np.add.at(shipped, (d.ep[self.group_entry[self.f_group]], self.f_period), fq)
        closing = self.closing(values)
        opening = np.concatenate([d.I0[:, None], closing[:, :-1]], axis=1)
        inventory = pd.DataFrame(
            {
                "product": np.repeat(d.product_ids, T),
                "period": np.tile(per, P),
                "opening": opening.ravel(),
                "produced": produced.ravel(),
                "shipped": shipped.ravel(),
                "closing": closing.ravel(),
                "safety_stock": np.repeat(d.ss, T),
                "below_safety_stock": _noise_free(
                    d.ss[:, None] - closing, np.broadcast_to(d.ss[:, None], closing.shape)
                ).ravel(),
            }
        )

        amount = self.entry_shipments(values)  # (E, W): by periods after the due one
        service = d.entries.copy()
        service["on_time"] = amount[:, 0]
        service["late"] = amount[:, 1:].sum(axis=1)
        service["unmet"] = _noise_free(d.ed - amount.sum(axis=1), d.ed)
        ei, lag = np.nonzero(amount > 0)
        shipments = pd.DataFrame(
            {
                "entry": d.entries["entry"].to_numpy(dtype=object)[ei],
                "period": per[d.et[ei] + lag],
                "quantity": amount[ei, lag],
            }
        )

        L = len(d.line_ids)
        used = np.zeros((L, T))
        np.add.at(used, d.rl, hours)
        ot = np.zeros((L, T))
        ot[self.o_line, self.o_period] = values[self.o]
        with np.errstate(divide="ignore", invalid="ignore"):
            util = np.where(d.H > 0, used / d.H, np.nan)
        lines = pd.DataFrame(
            {
                "line": np.repeat(d.line_ids, T),
                "period": np.tile(per, L),
                "available_hours": d.H.ravel(),
                "overtime_hours": ot.ravel(),
                "used_hours": used.ravel(),
                "utilization": util.ravel(),
            }
        )

        K = len(d.material_ids)
        consumed = np.zeros((K, T))
        if len(d.bom_k):
            np.add.at(consumed, d.bom_k, d.bom_a[:, None] * x[d.bom_r])
        zc = values[self.z] if K else np.zeros((0, T))
        zo = np.concatenate([d.Z0[:, None], zc[:, :-1]], axis=1) if K else zc
        materials = pd.DataFrame(
            {
                "material": np.repeat(d.material_ids, T),
                "period": np.tile(per, K),
                "opening": zo.ravel(),
                "received": d.Q.ravel(),
                "consumed": consumed.ravel(),
                "closing": zc.ravel(),
            }
        )
        return {
            "production": production,
            "inventory": inventory,
            "service": service,
            "shipments": shipments,
            "lines": lines,
            "materials": materials,
        }


FULL_WINDOW_ROWS = 20_000
"""Up to this many (l,S) rows, every window is added (small MILPs such as the
Trigeiro instances solve faster with all of them); beyond, only ``u = t`` and
``u = T``, which give most of the bound at a fraction of the LP size."""


def build(dataset: Dataset, *, window: int | None = None) -> AllocationModel:
    """Build the allocation model of a validated dataset.

    Parameters
    ----------
    dataset
        A validated :class:`~optimizer.dataset.Dataset`.
    window
        Periods after ``t`` for which the (l,S) inequalities (9) are added, besides
        the horizon's end; 0 adds ``u = t`` and ``u = T`` only, -1 none, ``None``
        chooses (every window while that stays under ``FULL_WINDOW_ROWS`` rows, else
        0). MILP only.
    """
    d = prepare(dataset)
    return build_from_data(d, window=window)


def build_from_data(d: AllocationData, *, window: int | None = None) -> AllocationModel:
    """:func:`build` from :class:`AllocationData` (for callers that changed the arrays)."""
    if window is None:
        setups = int(d.needs_setup.sum())
        window = d.T if setups * d.T * (d.T + 1) // 2 <= FULL_WINDOW_ROWS else -1
    b = ModelBuilder()
    T = d.T
    R = len(d.rp)
    P = len(d.product_ids)
    L = len(d.line_ids)
    K = len(d.material_ids)
    per = d.period_ids
    tt = np.arange(T)
    F = d.frozen

    # ---------------------------------------------------------------- variables
    cap_units = d.rate[:, None] * np.maximum(
        0.0, d.H[d.rl] + d.OT[d.rl] - np.where(d.needs_setup, d.setup_hours, 0.0)[:, None]
    )  # (R, T): most a line can make of a routing in a period
    shippable = _shippable(d)
    never_pays = _excess_never_pays(d)
    cap_units = np.minimum(cap_units, _useful_units(d, shippable, never_pays))
    x_ub = cap_units.copy()
    x_cost = np.repeat(d.run_cost[:, None], T, axis=1)
    stab_cost = np.zeros((R, T))
    if F:
        x_ub[:, :F] = np.minimum(x_ub[:, :F], d.prev[:, :F])
        stab_cost[:, :F] = -d.frozen_cost
        b.offset += d.frozen_cost * float(d.prev[:, :F].sum())
    routing_index = pd.DataFrame(
        {
            "product": np.repeat(d.product_ids[d.rp], T),
            "line": np.repeat(d.line_ids[d.rl], T),
            "period": np.tile(per, R),
        }
    )
    x = b.add_vars(
        "production", routing_index, 0.0, x_ub.ravel(), (x_cost + stab_cost).ravel()
    ).reshape(R, T)

    rs = np.flatnonzero(d.needs_setup)
    y_open = cap_units[rs] > 0
    y = b.add_vars(
        "setup",
        routing_index.iloc[(rs[:, None] * T + tt).ravel()],
        0.0,
        y_open.astype(np.float64).ravel(),
        np.repeat(d.setup_cost[rs][:, None], T, axis=1).ravel(),
        integer=True,
    ).reshape(len(rs), T)

    ol, ot_ = np.nonzero(d.OT > 0)
    o = b.add_vars(
        "overtime",
        pd.DataFrame({"line": d.line_ids[ol], "period": per[ot_]}),
        0.0,
        d.OT[ol, ot_],
        d.c_ot[ol],
    )

    ge = d.g_entry
    cg = d.class_group
    S = int(cg.max()) + 1 if len(cg) else 0
    se = ge[np.unique(cg, return_index=True)[1]] if S else np.zeros(0, dtype=np.int64)
    sp, st = d.ep[se], d.et[se]  # each service group's product and due period
    last = np.minimum(T - 1, st + d.max_lateness)
    width = np.maximum(last - st + 1, 0)
    f_group = np.repeat(np.arange(S), width)
    f_period = st[f_group] + (np.arange(len(f_group)) - np.repeat(np.cumsum(width) - width, width))
    demand_class = pd.DataFrame(
        {"product": d.product_ids[d.ep[ge]], "due": per[d.et[ge]], "tier": d.tier[ge]}
    )
    merged = S < len(ge)
    service_group = (
        pd.DataFrame({"product": d.product_ids[sp], "due": per[st]}) if merged else demand_class
    )
    group_demand = np.bincount(cg, weights=d.gd, minlength=S)
    # every column is boxed by a bound its rows imply (shipments and shortage by the
    # group's or class's quantity, stocks by what can have come in): the dual simplex
    # then starts dual feasible and flips bounds instead of running a phase 1
    f = b.add_vars(
        "shipment",
        service_group.iloc[f_group].reset_index(drop=True).assign(period=per[f_period]),
        0.0,
        group_demand[f_group],
        d.c_late[se][f_group] * (f_period - st[f_group]),
    )
    short = b.add_vars("short", demand_class, 0.0, d.gd, d.c_short[ge] * d.weight[ge])

    product_period = pd.DataFrame(
        {"product": np.repeat(d.product_ids, T), "period": np.tile(per, P)}
    )
    made = np.zeros((P, T))
    np.add.at(made, d.rp, x_ub)
    inv_ub = np.minimum(d.Imax[:, None], d.I0[:, None] + np.cumsum(made, axis=1))
    inv_ub = np.minimum(inv_ub, _useful_stock(d, shippable, never_pays))
    # (6) where safety stock costs something, inventory up to it is a column of its own
    ps = np.flatnonzero((d.ss > 0) & (d.c_ss > 0))
    low_ub = np.minimum(d.ss[ps][:, None], inv_ub[ps])
    high_ub = inv_ub.copy()
    high_ub[ps] -= low_ub
    inv = b.add_vars("inventory", product_period, 0.0, high_ub.ravel(), np.repeat(d.h, T)).reshape(
        P, T
    )
    ssv = b.add_vars(
        "inventory_to_safety_stock",
        product_period.iloc[(ps[:, None] * T + tt).ravel()],
        0.0,
        low_ub.ravel(),
        np.repeat(d.h[ps] - d.c_ss[ps], T),
    ).reshape(len(ps), T)
    ss_offset = float(d.c_ss[ps] @ d.ss[ps]) * T
    b.offset += ss_offset
    z = b.add_vars(
        "material_stock",
        pd.DataFrame({"material": np.repeat(d.material_ids, T), "period": np.tile(per, K)}),
        0.0,
        (d.Z0[:, None] + np.cumsum(d.Q, axis=1)).ravel(),
        np.repeat(d.h_mat, T),
    ).reshape(K, T)

    if d.change_cost > 0 and F < T:
        # |x - prev| as two parts, x - prev = up - down; boxed by what an optimal plan
        # uses (never both parts at once): up <= x's bound - prev, down <= prev
        cr = (np.arange(R)[:, None] * T + np.arange(F, T)).ravel()
        prev_after = d.prev[:, F:]
        chg = b.add_vars(
            "change",
            routing_index.iloc[cr],
            0.0,
            np.maximum(x_ub[:, F:] - prev_after, 0.0).ravel(),
            d.change_cost,
        ).reshape(R, T - F)
        chg_down = b.add_vars(
            "change_down", routing_index.iloc[cr], 0.0, prev_after.ravel(), d.change_cost
        ).reshape(R, T - F)
    else:
        chg = chg_down = np.zeros((R, 0), dtype=np.int64)

    # ---------------------------------------------------------------- constraints
    line_period = pd.DataFrame({"line": np.repeat(d.line_ids, T), "period": np.tile(per, L)})
    cap = b.add_rows("capacity", line_period, -INF, d.H.ravel()).reshape(L, T)
    b.add_coefs(cap[d.rl], x, np.repeat(1.0 / d.rate[:, None], T, axis=1))
    if len(rs):
        b.add_coefs(cap[d.rl[rs]], y, np.repeat(d.setup_hours[rs][:, None], T, axis=1))
    b.add_coefs(cap[ol, ot_], o, -1.0)

    # (2) setup link and minimum lot, where the setup can be open at all
    if len(rs):
        yr, yt = np.nonzero(y_open)
        link = b.add_rows("setup", routing_index.iloc[rs[yr] * T + yt], -INF, 0.0)
        b.add_coefs(link, x[rs[yr], yt], 1.0)
        b.add_coefs(link, y[yr, yt], -cap_units[rs[yr], yt])
        lot = d.min_lot[rs][yr] > 0
        if lot.any():
            lr, lt = yr[lot], yt[lot]
            rows = b.add_rows("min_lot", routing_index.iloc[rs[lr] * T + lt], 0.0, INF)
            b.add_coefs(rows, x[rs[lr], lt], 1.0)
            b.add_coefs(rows, y[lr, lt], -d.min_lot[rs[lr]])
        if window >= 0:
            low = np.full((P, T), -1, dtype=np.int64)
            low[ps] = ssv
            _add_lot_windows(b, d, x, y, rs, yr, yt, cap_units, inv, routing_index, window, low=low)

    # (3) material balance
    if K:
        rhs = d.Q.copy()
        rhs[:, 0] += d.Z0
        mat = b.add_rows(
            "material",
            pd.DataFrame({"material": np.repeat(d.material_ids, T), "period": np.tile(per, K)}),
            rhs.ravel(),
            rhs.ravel(),
        ).reshape(K, T)
        b.add_coefs(mat, z, 1.0)
        b.add_coefs(mat[:, 1:], z[:, :-1], -1.0)
        if len(d.bom_k):
            b.add_coefs(mat[d.bom_k], x[d.bom_r], np.repeat(d.bom_a[:, None], T, axis=1))

    # (4) product balance
    rhs = np.zeros((P, T))
    rhs[:, 0] = d.I0
    bal = b.add_rows("balance", product_period, rhs.ravel(), rhs.ravel()).reshape(P, T)
    b.add_coefs(bal, inv, 1.0)
    b.add_coefs(bal[:, 1:], inv[:, :-1], -1.0)
    b.add_coefs(bal[ps], ssv, 1.0)
    b.add_coefs(bal[ps][:, 1:], ssv[:, :-1], -1.0)
    b.add_coefs(bal[d.rp], x, -1.0)
    b.add_coefs(bal[sp[f_group], f_period], f, 1.0)

    # (5) service, per service group (its classes' shortage columns share the row)
    svc = b.add_rows("service", service_group, group_demand, group_demand)
    b.add_coefs(svc[f_group], f, 1.0)
    b.add_coefs(svc[cg], short, 1.0)

    # (8) change against the previous plan
    if chg.size:
        idx = routing_index.iloc[(np.arange(R)[:, None] * T + np.arange(F, T)).ravel()]
        prev = d.prev[:, F:].ravel()
        rows = b.add_rows("change", idx, prev, prev)  # x - up + down = prev
        b.add_coefs(rows, x[:, F:].ravel(), 1.0)
        b.add_coefs(rows, chg.ravel(), -1.0)
        b.add_coefs(rows, chg_down.ravel(), 1.0)

    lp = b.build()
    run_cost = np.zeros(lp.num_cols)
    run_cost[x.ravel()] = x_cost.ravel()
    stability_cost = np.zeros(lp.num_cols)
    stability_cost[x.ravel()] = stab_cost.ravel()
    stability_cost[chg.ravel()] = d.change_cost
    stability_cost[chg_down.ravel()] = d.change_cost
    return AllocationModel(
        data=d,
        lp=lp,
        x=x,
        y=y,
        y_routing=rs,
        o=o,
        o_line=ol,
        o_period=ot_,
        f=f,
        f_group=f_group,
        f_period=f_period,
        group_entry=se,
        short=short,
        demand=d.gd,
        inv=inv,
        ssv=ssv,
        ss_product=ps,
        ss_offset=ss_offset,
        z=z,
        chg=chg,
        chg_down=chg_down,
        run_cost=run_cost,
        stability_cost=stability_cost,
    )


def _demand_cumsum(d: AllocationData) -> np.ndarray:
    """``cum[p, j]``: demand of product ``p`` due before period ``j`` (``j = 0..T``)."""
    P = len(d.product_ids)
    dem = np.zeros((P, d.T))
    np.add.at(dem, (d.ep, d.et), d.ed)
    cum = np.zeros((P, d.T + 1))
    cum[:, 1:] = np.cumsum(dem, axis=1)
    return cum


def _shippable(d: AllocationData) -> np.ndarray:
    """``(P, T + 1)``: demand of each product that can still ship in periods ``t..T``
    (entries due from ``t - L`` on); 0 for ``t = T``, after the last period."""
    cum = _demand_cumsum(d)
    start = np.maximum(0, np.arange(d.T + 1) - d.max_lateness)
    shippable: np.ndarray = cum[:, d.T][:, None] - cum[:, start]
    shippable[:, d.T] = 0.0
    return shippable


def _useful_units(d: AllocationData, shippable: np.ndarray, never_pays: np.ndarray) -> np.ndarray:
    """(R, T): most of a routing's output in a period that some optimal plan uses.

    Making more than ``max(m, D(p, t..T) + ss)`` (``D``: demand that can still ship
    from ``t``, entries due from ``t - L`` on) only adds stock that never ships: the
    excess stays in stock from ``t`` to the horizon's end, above the safety stock. Not
    making it costs no more where :func:`_excess_never_pays` (``never_pays``, computed
    once per build). Elsewhere (materials dearer to hold than what consumes them), and
    below the previous plan where the frozen fence or change cost rewards following it,
    the line's capacity is the bound.
    """
    remaining = shippable[:, : d.T]
    useful = np.maximum(d.min_lot[:, None], remaining[d.rp] + d.ss[d.rp][:, None])
    if d.frozen_cost > 0 or d.change_cost > 0:
        useful = np.maximum(useful, d.prev)
    bound: np.ndarray = np.where(never_pays, useful, np.inf)
    return bound


def _excess_never_pays(d: AllocationData) -> np.ndarray:
    """(R, T): whether a unit a routing makes in a period and that stays in stock to the
    horizon's end costs at least what not making it does. Not making it saves its run
    cost and ``h[p]`` a period, and keeps its materials in stock, which costs
    ``sum_k a[p,k] h_k`` a period; hours only come free. So:
    ``c_r + (T - t) (h[p] - sum_k a[p,k] h_k) >= 0``."""
    material_holding = np.zeros(len(d.rp))  # per unit made and period, of what it takes
    np.add.at(material_holding, d.bom_r, d.bom_a * d.h_mat[d.bom_k])
    periods_held = d.T - np.arange(d.T)
    saved = d.run_cost[:, None] + np.outer(d.h[d.rp] - material_holding, periods_held)
    return np.asarray(saved >= 0)


def _useful_stock(d: AllocationData, shippable: np.ndarray, never_pays: np.ndarray) -> np.ndarray:
    """(P, T): most closing stock some optimal plan of a pure LP keeps:
    ``max(I0, A(p, t) + ss)``, ``A(p, t)`` the demand that can still ship after ``t``
    (entries due from ``t + 1 - L`` on; none after the last period). Stock above it
    never ships and sits above the safety stock to the end: take it out of the latest
    production before ``t`` (stock only falls between that period and ``t``, so it
    stays above the safety stock throughout), and earlier production the same way
    while some is left, which costs no more where :func:`_excess_never_pays`; without
    production before ``t`` the stock is at most ``I0``. Not where a minimum lot can
    keep output from falling, the frozen fence or change cost rewards output, or a
    routing of the product fails that test (there ``inf``). Nor in lexicographic mode:
    HiGHS's interior point method, which solves its tier stages, took generated l's
    third tier from 57 s to over 249 s with it.
    """
    T = d.T
    P = len(d.product_ids)
    if d.needs_setup.any() or d.frozen_cost > 0 or d.change_cost > 0 or d.lexicographic:
        return np.full((P, T), np.inf)
    after = shippable[:, 1:]
    stock: np.ndarray = np.maximum(d.I0[:, None], after + d.ss[:, None])
    paying = np.zeros(P, dtype=bool)
    paying[d.rp[~never_pays.all(axis=1)]] = True
    stock[paying] = np.inf
    return stock


def _add_lot_windows(
    b: ModelBuilder,
    d: AllocationData,
    x: np.ndarray,
    y: np.ndarray,
    rs: np.ndarray,
    yr: np.ndarray,
    yt: np.ndarray,
    cap_units: np.ndarray,
    inv: np.ndarray,
    routing_index: pd.DataFrame,
    window: int,
    low: np.ndarray | None = None,
) -> None:
    """(9): ``x[r,t] <= D(p, t..u) y[r,t] + I[p,u]`` where tighter than the big-M link."""
    T = d.T
    cum = _demand_cumsum(d)
    L = d.max_lateness
    rows_r, rows_t, rows_u = [], [], []
    for k in range(window + 1):
        rows_r.append(yr)
        rows_t.append(yt)
        rows_u.append(np.minimum(yt + k, T - 1))
    rows_r.append(yr)
    rows_t.append(yt)
    rows_u.append(np.full(len(yt), T - 1))
    r = np.concatenate(rows_r)
    t = np.concatenate(rows_t)
    u = np.concatenate(rows_u)
    key = np.unique(np.stack([r, t, u]), axis=1)
    r, t, u = key
    routing = rs[r]
    p = d.rp[routing]
    D = cum[p, u + 1] - cum[p, np.maximum(0, t - L)]
    split = low[p, u] >= 0 if low is not None else np.zeros(len(r), dtype=bool)
    # (9) over the whole inventory (both parts where it is split at the safety stock)
    stock = [inv[p, u]] + ([np.where(split, low[p, u], -1)] if low is not None else [])
    _add_window_rows(b, "lot_window", d, x, y, r, routing, t, u, D, stock, cap_units, routing_index)
    if SAFETY_LOT_WINDOWS and split.any():
        ks = np.flatnonzero(split)
        _add_window_rows(
            b,
            "lot_window_safety",
            d,
            x,
            y,
            r[ks],
            routing[ks],
            t[ks],
            u[ks],
            D[ks] + d.ss[p[ks]],
            [inv[p[ks], u[ks]]],
            cap_units,
            routing_index,
        )


SAFETY_LOT_WINDOWS = True
"""Add (9') beside (9) for products whose inventory is split at the safety stock:
``x[r,t] <= (D(p, t..u) + ss[p]) y[r,t] + I_high[p,u]``. Valid for every plan: (9)
gives ``x <= D + I_low + I_high`` and ``I_low <= ss``; with ``y = 0``, ``x = 0``. Where a
plan keeps no more than the safety stock in ``u`` (``I_high = 0``), (9) lets the
relaxation make ``ss`` units for free of any setup; (9') charges them ``1 / (D + ss)``
of one."""


def _add_window_rows(
    b: ModelBuilder,
    name: str,
    d: AllocationData,
    x: np.ndarray,
    y: np.ndarray,
    r: np.ndarray,
    routing: np.ndarray,
    t: np.ndarray,
    u: np.ndarray,
    D: np.ndarray,
    stock: list[np.ndarray],
    cap_units: np.ndarray,
    routing_index: pd.DataFrame,
) -> None:
    """Rows ``x[routing,t] - D y[r,t] - sum(stock) <= 0``, only where ``D`` is below the
    big-M of the setup link (2) (elsewhere they would be weaker than it); ``stock``
    holds column numbers per row, -1 for none."""
    keep = np.flatnonzero(D < cap_units[routing, t] * (1 - 1e-9))
    if not len(keep):
        return
    r, routing, t, u, D = r[keep], routing[keep], t[keep], u[keep], D[keep]
    index = routing_index.iloc[routing * d.T + t].reset_index(drop=True)
    rows = b.add_rows(name, index.assign(to=d.period_ids[u]), -INF, 0.0)
    b.add_coefs(rows, x[routing, t], 1.0)
    b.add_coefs(rows, y[r, t], -D)
    for cols in stock:
        cols = cols[keep]
        b.add_coefs(rows[cols >= 0], cols[cols >= 0], -1.0)


def _noise_free(difference: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """A shortfall worked out as a difference of plan quantities (demand less shipped),
    at least 0, with round-off (below ``1e-9`` of ``max(1, scale)``) written as 0: 99
    units due and 98.99999999999999 shipped is no unit unmet."""
    out: np.ndarray = np.maximum(0.0, difference)
    out[out <= 1e-9 * np.maximum(1.0, np.abs(scale))] = 0.0
    return out
