"""The allocation model written by hand in plain PuLP: the yardstick for soe.

This is the model a competent analyst would write instead of using soe: it reads a
dataset folder (DATASET.md) with pandas, builds MODEL.md's weighted-priority model
with ``LpVariable.dicts``-style dictionaries keyed by tuples and ``lpSum``, and
solves it with CBC or HiGHS through PuLP. It does not import soe, so it is an
independent implementation against which soe's objective is cross-checked.

Sets
----
``T`` periods in start order, ``P`` products, ``L`` lines, ``R`` routings ``(p, l)``,
``K`` materials, ``E`` demand entries (DATASET.md "Demand entries"), ``R_s`` the
routings with setup hours, setup cost or a minimum lot (the only ones with a setup
binary), and ``U(e) = {t(e), ..., min(T, t(e) + max_lateness)}``.

Variables (all non-negative)
----------------------------
``x[p,l,t]`` production, ``y[p,l,t]`` setup (binary, ``(p,l)`` in ``R_s``),
``o[l,t] <= OT[l,t]`` overtime hours, ``f[e,u]`` shipments of entry ``e`` in
``u`` in ``U(e)``, ``short[e]`` unserved quantity, ``I[p,t] <= Imax[p]`` closing
inventory, ``S[p,t]`` safety stock shortfall, ``Z[k,t]`` closing material stock,
``dev[p,l,t]`` frozen shortfall and ``chg[p,l,t]`` change against the previous plan.

Objective (minimise)
--------------------
shortage ``sum pi(e) short[e]`` with ``pi(e) = shortage_cost * base**(K - k(e))``;
lateness ``sum c_late (u - t(e)) f[e,u]``; holding ``sum h I``; safety stock
``sum c_ss S``; material holding ``sum h_k Z``; production ``sum c_r x + c_s y +
c_ot o``; stability ``frozen_shortfall_cost * sum dev + change_cost * sum chg``.

Constraints
-----------
1. ``capacity[l,t]``: run hours plus setup hours within regular plus overtime hours.
2. ``setup_ub[p,l,t]`` / ``min_lot[p,l,t]``: production only on a setup, at most what
   the line can make after the setup, at least the minimum lot.
3. ``material[k,t]``: material stock balance; production consumes its BOM.
4. ``inventory[p,t]``: product stock balance; production in, shipments out.
5. ``service[e]``: every entry is shipped (on time or late) or short.
6. ``safety[p,t]``: shortfall below the safety stock.
7. ``frozen_ub[p,l,t]`` / ``frozen_dev[p,l,t]``: inside the frozen fence no more than
   the previous plan; shortfall against it is counted.
8. ``change_up[p,l,t]`` / ``change_down[p,l,t]``: after the fence, the absolute change
   against the previous plan (only when ``change_cost > 0``).

Only the weighted priority mode is implemented; a dataset asking for lexicographic
mode is refused.

Examples
--------
>>> result = solve_baseline("data/example", solver="highs")  # doctest: +SKIP
>>> result.status, round(result.objective, 2)  # doctest: +SKIP
('optimal', 1234.5)
"""

from __future__ import annotations

import argparse
import logging
import math
import time
import tomllib
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pulp

__all__ = ["BaselineResult", "Instance", "TERMS", "main", "read_instance", "solve_baseline"]

logger = logging.getLogger(__name__)

TERMS = (
    "shortage",
    "lateness",
    "holding",
    "safety_stock",
    "material_holding",
    "production",
    "stability",
)
"""Objective terms, named as in MODEL.md and summary.json."""

_DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "solve": {"solver": "highs", "time_limit_s": 60.0, "mip_gap": 0.005, "threads": 0},
    "demand": {"signal": "max", "max_lateness": 0},
    "priority": {"mode": "weighted", "tier_weight_base": 10.0, "tolerance": 0.0},
    "stability": {"frozen_periods": 0, "frozen_shortfall_cost": 0.0, "change_cost": 0.0},
}

_EPS = 1e-9


@dataclass(frozen=True)
class BaselineResult:
    """What the baseline found.

    Attributes
    ----------
    status
        ``optimal``, ``feasible`` (a solution, optimality not proven, e.g. time limit),
        ``infeasible``, ``no_solution`` or ``error``.
    objective
        Objective value of the solution (``None`` without one).
    objective_terms
        One value per MODEL.md objective term (:data:`TERMS`).
    build_seconds
        Wall time to build the PuLP model (after reading the files).
    solve_seconds
        Wall time of ``LpProblem.solve`` (hand-over to the solver included).
    production
        Production quantities: columns ``product``, ``line``, ``period``, ``quantity``
        (rows with a positive quantity only).
    read_seconds
        Wall time to read the dataset folder and derive the demand entries.
    bound
        Best proven bound on the objective (HiGHS MIP), the objective when optimal,
        else ``None``.
    solver
        ``cbc`` or ``highs``.
    variables, constraints, integer_variables
        Model size.
    """

    status: str
    objective: float | None
    objective_terms: dict[str, float]
    build_seconds: float
    solve_seconds: float
    production: pd.DataFrame
    read_seconds: float = 0.0
    bound: float | None = None
    solver: str = "cbc"
    variables: int = 0
    constraints: int = 0
    integer_variables: int = 0


@dataclass
class Instance:
    """A dataset folder read into plain Python dictionaries keyed by tuples.

    Attributes
    ----------
    periods
        Period ids in time order.
    settings
        ``settings.toml`` merged over DATASET.md's defaults.
    products
        ``products.csv`` indexed by product, defaults filled (``max_inventory`` NaN
        when none).
    hours, overtime
        Regular and overtime hours by ``(line, period)``, calendar overrides applied.
    overtime_cost
        Cost per overtime hour by line.
    routings
        ``routings.csv`` indexed by ``(product, line)``, defaults filled.
    material_stock, material_holding
        Initial stock and holding cost by material.
    bom
        Quantity per unit by ``(product, material)``.
    receipts
        Received quantity by ``(material, period)`` (summed).
    entries
        Demand entries: columns ``entry``, ``kind``, ``product``, ``due`` (period index,
        0-based), ``quantity``, ``tier``.
    previous
        Previous plan quantity by ``(product, line, period)`` (summed).
    """

    periods: list[str]
    settings: dict[str, dict[str, Any]]
    products: pd.DataFrame
    hours: dict[tuple[str, str], float]
    overtime: dict[tuple[str, str], float]
    overtime_cost: dict[str, float]
    routings: pd.DataFrame
    material_stock: dict[str, float]
    material_holding: dict[str, float]
    bom: dict[tuple[str, str], float]
    receipts: dict[tuple[str, str], float]
    entries: pd.DataFrame
    previous: dict[tuple[str, str, str], float] = field(default_factory=dict)


# --------------------------------------------------------------------------- reading


def _read_csv(folder: Path, name: str, required: bool = False) -> pd.DataFrame | None:
    """Read ``name.csv`` with every cell a string and blank cells missing."""
    path = folder / f"{name}.csv"
    if not path.exists():
        if required:
            raise FileNotFoundError(f"{path} is required")
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")


def _number(frame: pd.DataFrame, column: str, default: float | None) -> pd.Series:
    """Numeric column with blanks (or a missing column) at ``default``."""
    if column not in frame.columns:
        if default is None:
            raise ValueError(f"column {column!r} is required")
        return pd.Series(default, index=frame.index, dtype=float)
    values = pd.to_numeric(frame[column]).astype(float)
    return values if default is None else values.fillna(default)


def _read_settings(folder: Path) -> dict[str, dict[str, Any]]:
    """``settings.toml`` merged over the defaults."""
    settings = {section: dict(values) for section, values in _DEFAULT_SETTINGS.items()}
    path = folder / "settings.toml"
    if path.exists():
        with path.open("rb") as handle:
            for section, values in tomllib.load(handle).items():
                if isinstance(values, dict):
                    settings.setdefault(section, {}).update(values)
    return settings


def _period_index(
    values: pd.Series, period_ids: list[str], starts: np.ndarray, horizon_end: np.datetime64
) -> pd.Series:
    """0-based period index of period ids or ISO dates; before the horizon -> 0, after -> NA.

    Parameters
    ----------
    values
        Period ids or ISO dates.
    period_ids
        Period ids in time order.
    starts
        Period start dates (``datetime64[D]``), in the same order.
    horizon_end
        End of the last period.
    """
    position = {period: i for i, period in enumerate(period_ids)}
    index = values.map(position)
    dated = index.isna() & values.notna()
    if dated.any():
        days = pd.to_datetime(values[dated], format="ISO8601").to_numpy().astype("datetime64[D]")
        found = np.searchsorted(starts, days, side="right") - 1
        index[dated] = np.where(days >= horizon_end, np.nan, np.maximum(found, 0))
    return index.astype("Int64")


def read_instance(folder: str | Path) -> Instance:
    """Read a dataset folder (DATASET.md) into an :class:`Instance`.

    Parameters
    ----------
    folder
        The dataset folder (CSV files and an optional ``settings.toml``).

    Returns
    -------
    Instance
        The data, defaults filled, periods resolved, demand entries made.
    """
    folder = Path(folder)
    settings = _read_settings(folder)

    periods = _read_csv(folder, "periods", required=True)
    assert periods is not None
    periods["start"] = pd.to_datetime(periods["start"], format="ISO8601")
    periods = periods.sort_values("start", kind="stable").reset_index(drop=True)
    period_ids = periods["period"].tolist()
    starts = periods["start"].to_numpy().astype("datetime64[D]")
    if "end" in periods.columns and pd.notna(periods["end"].iloc[-1]):
        horizon_end = np.datetime64(pd.Timestamp(periods["end"].iloc[-1]).date(), "D")
    elif len(starts) > 1:
        horizon_end = starts[-1] + (starts[-1] - starts[-2])
    else:
        horizon_end = starts[-1] + np.timedelta64(7, "D")

    def index_of(values: pd.Series) -> pd.Series:
        return _period_index(values, period_ids, starts, horizon_end)

    products = _read_csv(folder, "products", required=True)
    assert products is not None
    products = pd.DataFrame(
        {
            "priority": _number(products, "priority", 1.0).astype(int).to_numpy(),
            "initial_inventory": _number(products, "initial_inventory", 0.0).to_numpy(),
            "safety_stock": _number(products, "safety_stock", 0.0).to_numpy(),
            "safety_stock_cost": _number(products, "safety_stock_cost", 0.0).to_numpy(),
            "holding_cost": _number(products, "holding_cost", 0.0).to_numpy(),
            "shortage_cost": _number(products, "shortage_cost", None).to_numpy(),
            "lateness_cost": _number(products, "lateness_cost", 0.0).to_numpy(),
            "max_inventory": _number(products, "max_inventory", math.nan).to_numpy(),
        },
        index=pd.Index(products["product"], name="product"),
    )

    lines = _read_csv(folder, "lines", required=True)
    assert lines is not None
    line_hours = dict(zip(lines["line"], _number(lines, "hours", None), strict=True))
    line_ot = dict(zip(lines["line"], _number(lines, "overtime_hours", 0.0), strict=True))
    overtime_cost = dict(zip(lines["line"], _number(lines, "overtime_cost", 0.0), strict=True))
    hours = {(line, t): line_hours[line] for line in line_hours for t in period_ids}
    overtime = {(line, t): line_ot[line] for line in line_ot for t in period_ids}
    calendar = _read_csv(folder, "line_calendar")
    if calendar is not None and len(calendar):
        # A blank cell keeps the line's own value.
        cal_hours = _number(calendar, "hours", math.nan)
        cal_ot = _number(calendar, "overtime_hours", math.nan)
        for line, period, h, ot in zip(
            calendar["line"], calendar["period"], cal_hours, cal_ot, strict=True
        ):
            if not math.isnan(h):
                hours[line, period] = h
            if not math.isnan(ot):
                overtime[line, period] = ot

    routings = _read_csv(folder, "routings", required=True)
    assert routings is not None
    routings = pd.DataFrame(
        {
            "rate": _number(routings, "rate", None).to_numpy(),
            "setup_hours": _number(routings, "setup_hours", 0.0).to_numpy(),
            "setup_cost": _number(routings, "setup_cost", 0.0).to_numpy(),
            "run_cost": _number(routings, "run_cost", 0.0).to_numpy(),
            "min_lot": _number(routings, "min_lot", 0.0).to_numpy(),
        },
        index=pd.MultiIndex.from_arrays(
            [routings["product"], routings["line"]], names=["product", "line"]
        ),
    )

    material_stock: dict[str, float] = {}
    material_holding: dict[str, float] = {}
    materials = _read_csv(folder, "materials")
    if materials is not None:
        material_stock = dict(
            zip(materials["material"], _number(materials, "initial_inventory", 0.0), strict=True)
        )
        material_holding = dict(
            zip(materials["material"], _number(materials, "holding_cost", 0.0), strict=True)
        )
    bom_frame = _read_csv(folder, "bom")
    bom: dict[tuple[str, str], float] = {}
    if bom_frame is not None:
        bom = dict(
            zip(
                zip(bom_frame["product"], bom_frame["material"], strict=True),
                _number(bom_frame, "quantity_per_unit", None),
                strict=True,
            )
        )
    receipts: dict[tuple[str, str], float] = {}
    receipt_frame = _read_csv(folder, "receipts")
    if receipt_frame is not None and len(receipt_frame):
        t_index = index_of(receipt_frame["period"])
        kept = receipt_frame.assign(
            quantity=_number(receipt_frame, "quantity", None), t=t_index
        ).dropna(subset=["t"])
        if len(kept) < len(receipt_frame):
            logger.warning("%d receipts after the horizon left out", len(receipt_frame) - len(kept))
        summed = kept.groupby(["material", "t"])["quantity"].sum()
        receipts = {(k, period_ids[int(t)]): float(q) for (k, t), q in summed.items()}

    entries = _demand_entries(folder, settings, products, period_ids, index_of)

    previous: dict[tuple[str, str, str], float] = {}
    prev_frame = _read_csv(folder, "previous_plan")
    stability = settings["stability"]
    if prev_frame is not None and len(prev_frame):
        prev_frame = prev_frame.assign(quantity=_number(prev_frame, "quantity", None))
        known = prev_frame["period"].isin(period_ids) & pd.MultiIndex.from_frame(
            prev_frame[["product", "line"]]
        ).isin(routings.index)
        if not known.all():
            logger.warning("%d previous-plan rows left out", int((~known).sum()))
        summed = prev_frame[known].groupby(["product", "line", "period"])["quantity"].sum()
        previous = {key: float(q) for key, q in summed.items()}
    elif prev_frame is None and (stability["frozen_periods"] > 0 or stability["change_cost"] > 0):
        raise ValueError("frozen_periods > 0 or change_cost > 0 needs previous_plan.csv")

    return Instance(
        periods=period_ids,
        settings=settings,
        products=products,
        hours=hours,
        overtime=overtime,
        overtime_cost=overtime_cost,
        routings=routings,
        material_stock=material_stock,
        material_holding=material_holding,
        bom=bom,
        receipts=receipts,
        entries=entries,
        previous=previous,
    )


def _demand_entries(
    folder: Path,
    settings: dict[str, dict[str, Any]],
    products: pd.DataFrame,
    period_ids: list[str],
    index_of: Any,
) -> pd.DataFrame:
    """DATASET.md "Demand entries": orders, plus forecast above orders (signal ``max``)."""
    columns = ["entry", "kind", "product", "due", "quantity", "tier"]
    signal = settings["demand"]["signal"]

    orders = _read_csv(folder, "orders")
    if orders is None or signal == "forecast":
        orders = pd.DataFrame(columns=["order", "customer", "product", "period", "quantity"])
    orders = orders.assign(
        quantity=_number(orders, "quantity", None), due=index_of(orders["period"])
    )
    late = orders["due"].isna() & orders["period"].notna()
    if late.any():
        logger.warning("%d orders due after the horizon left out", int(late.sum()))
    orders = orders[~late]
    # Priority: the order's, else its customer's, else the product's.
    tier = _number(orders, "priority", math.nan)
    customers = _read_csv(folder, "customers")
    if customers is not None and "customer" in orders.columns:
        by_customer = dict(
            zip(customers["customer"], _number(customers, "priority", math.nan), strict=True)
        )
        tier = tier.fillna(orders["customer"].map(by_customer))
    tier = tier.fillna(orders["product"].map(products["priority"]))
    order_entries = pd.DataFrame(
        {
            "entry": orders["order"],
            "kind": "order",
            "product": orders["product"],
            "due": orders["due"].astype(int),
            "quantity": orders["quantity"],
            "tier": tier.astype(int),
        },
        columns=columns,
    )

    forecast = _read_csv(folder, "forecast")
    if forecast is None or signal == "orders":
        forecast = pd.DataFrame(columns=["product", "period", "quantity"])
    forecast = forecast.assign(quantity=_number(forecast, "quantity", None))
    known = forecast["period"].isin(period_ids)
    if not known.all():
        logger.warning("%d forecast rows outside the horizon left out", int((~known).sum()))
    position = {period: i for i, period in enumerate(period_ids)}
    total_f = (
        forecast[known]
        .assign(due=forecast.loc[known, "period"].map(position))
        .groupby(["product", "due"])["quantity"]
        .sum()
    )
    total_o = order_entries.groupby(["product", "due"])["quantity"].sum()
    remainder = total_f.sub(total_o.reindex(total_f.index, fill_value=0.0))
    remainder = remainder[remainder > 0]
    prods = remainder.index.get_level_values("product")
    dues = remainder.index.get_level_values("due").astype(int)
    forecast_entries = pd.DataFrame(
        {
            "entry": [f"forecast:{p}:{period_ids[t]}" for p, t in zip(prods, dues, strict=True)],
            "kind": "forecast",
            "product": prods,
            "due": dues,
            "quantity": remainder.to_numpy(),
            "tier": products["priority"].reindex(prods).to_numpy(),
        },
        columns=columns,
    )
    entries = pd.concat([order_entries, forecast_entries], ignore_index=True)
    if entries.empty:
        raise ValueError(f"the demand signal {signal!r} yields no demand entry")
    return entries


# --------------------------------------------------------------------------- model


def _variables(
    prob: pulp.LpProblem,
    name: str,
    keys: Iterable[Hashable],
    cat: str = pulp.LpContinuous,
) -> dict[Any, pulp.LpVariable]:
    """Non-negative variables keyed like ``LpVariable.dicts``, named ``name_0, name_1, ...``.

    ``LpVariable.dicts`` builds names from the keys and maps characters such as ``-``
    and spaces to ``_``, so two distinct ids (``A-1``, ``A_1``) can collide; plain
    numbered names avoid that.
    """
    return {
        key: prob.add_variable(f"{name}_{i}", lowBound=0, cat=cat) for i, key in enumerate(keys)
    }


class _Constraints:
    """Adds constraints named by domain labels (``capacity[L01,2026-W02]``).

    PuLP maps ``-``, ``+``, ``[``, ``]``, space, ``>`` and ``/`` in names to ``_`` and
    refuses a repeated name, so ids that differ only in those characters would
    collide; such a name gets a ``#2``, ``#3``, ... suffix.
    """

    def __init__(self, prob: pulp.LpProblem) -> None:
        self.prob = prob

    def __call__(self, constraint: pulp.LpConstraint, name: str) -> None:
        unique, n = name, 1
        while self.prob.get_constraint_by_name(unique.translate(pulp.LpElement.trans)) is not None:
            n += 1
            unique = f"{name}#{n}"
        self.prob += constraint, unique


def build_model(
    data: Instance,
) -> tuple[pulp.LpProblem, dict[str, pulp.LpAffineExpression], dict[str, dict[Any, Any]]]:
    """Build MODEL.md's weighted model in PuLP.

    Parameters
    ----------
    data
        The instance read by :func:`read_instance`.

    Returns
    -------
    prob
        The PuLP problem (objective set, all constraints added).
    terms
        The objective terms (:data:`TERMS`) as PuLP expressions.
    variables
        The variable dictionaries by name (``x``, ``y``, ``f``, ``short``, ...).
    """
    settings = data.settings
    if settings["priority"]["mode"] != "weighted":
        raise ValueError("the PuLP baseline implements the weighted priority mode only")
    periods = data.periods
    n_periods = len(periods)
    stability = settings["stability"]
    frozen = int(stability["frozen_periods"])
    frozen_cost = float(stability["frozen_shortfall_cost"])
    change_cost = float(stability["change_cost"])
    max_lateness = int(settings["demand"]["max_lateness"])
    base = float(settings["priority"]["tier_weight_base"])

    products = data.products
    routings = data.routings
    entries = data.entries
    lines = sorted({line for line, _ in data.hours})
    materials = list(data.material_stock)
    routes = list(routings.index)
    rate = routings["rate"].to_dict()
    setup_hours = routings["setup_hours"].to_dict()
    setup_cost = routings["setup_cost"].to_dict()
    run_cost = routings["run_cost"].to_dict()
    min_lot = routings["min_lot"].to_dict()
    with_setup = [r for r in routes if setup_hours[r] > 0 or setup_cost[r] > 0 or min_lot[r] > 0]

    lines_of: dict[str, list[str]] = defaultdict(list)
    products_on: dict[str, list[str]] = defaultdict(list)
    for p, line in routes:
        lines_of[p].append(line)
        products_on[line].append(p)
    users: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (p, k), a in data.bom.items():
        users[k].append((p, a))

    prob = pulp.LpProblem("soe_baseline", pulp.LpMinimize)

    # Variables.
    x = _variables(prob, "x", ((p, line, t) for p, line in routes for t in periods))
    y = _variables(
        prob, "y", ((p, line, t) for p, line in with_setup for t in periods), pulp.LpBinary
    )
    o = _variables(prob, "o", (lt for lt, ot in data.overtime.items() if ot > 0))
    for lt, var in o.items():
        var.upBound = data.overtime[lt]

    entry_ids = entries["entry"].tolist()
    entry_product = dict(zip(entry_ids, entries["product"], strict=True))
    entry_due = dict(zip(entry_ids, entries["due"].astype(int), strict=True))
    entry_qty = dict(zip(entry_ids, entries["quantity"].astype(float), strict=True))
    tier_max = int(entries["tier"].max())
    entry_weight = dict(
        zip(
            entry_ids,
            entries["product"].map(products["shortage_cost"]).to_numpy()
            * base ** (tier_max - entries["tier"].to_numpy()),
            strict=True,
        )
    )
    ship_periods = {
        e: range(entry_due[e], min(n_periods, entry_due[e] + max_lateness + 1)) for e in entry_ids
    }
    f = _variables(prob, "f", ((e, u) for e in entry_ids for u in ship_periods[e]))
    short = _variables(prob, "short", entry_ids)

    product_ids = products.index.tolist()
    inv = _variables(prob, "I", ((p, t) for p in product_ids for t in periods))
    max_inventory = products["max_inventory"]
    for p in max_inventory[max_inventory.notna()].index:
        for t in periods:
            inv[p, t].upBound = float(max_inventory[p])
    needs_ss = products.index[(products["safety_stock"] > 0) & (products["safety_stock_cost"] > 0)]
    ss_short = _variables(prob, "S", ((p, t) for p in needs_ss for t in periods))
    stock = _variables(prob, "Z", ((k, t) for k in materials for t in periods))

    frozen_keys = [(p, line, t) for p, line in routes for t in periods[:frozen]]
    dev = _variables(prob, "dev", frozen_keys if frozen_cost > 0 else [])
    chg = _variables(
        prob,
        "chg",
        ((p, line, t) for p, line in routes for t in periods[frozen:]) if change_cost > 0 else [],
    )

    # Objective terms.
    shipped_by: dict[tuple[str, int], list[str]] = defaultdict(list)
    for e in entry_ids:
        for u in ship_periods[e]:
            shipped_by[entry_product[e], u].append(e)
    lateness_cost = products["lateness_cost"]
    terms = {
        "shortage": pulp.lpSum(entry_weight[e] * short[e] for e in entry_ids),
        "lateness": pulp.lpSum(
            lateness_cost[entry_product[e]] * (u - entry_due[e]) * f[e, u]
            for e in entry_ids
            for u in ship_periods[e]
            if u > entry_due[e] and lateness_cost[entry_product[e]] > 0
        ),
        "holding": pulp.lpSum(
            products.at[p, "holding_cost"] * inv[p, t]
            for p in product_ids
            if products.at[p, "holding_cost"] > 0
            for t in periods
        ),
        "safety_stock": pulp.lpSum(
            products.at[p, "safety_stock_cost"] * var for (p, _), var in ss_short.items()
        ),
        "material_holding": pulp.lpSum(
            data.material_holding[k] * var
            for (k, _), var in stock.items()
            if data.material_holding[k] > 0
        ),
        "production": pulp.lpSum(
            run_cost[p, line] * var for (p, line, _), var in x.items() if run_cost[p, line] > 0
        )
        + pulp.lpSum(
            setup_cost[p, line] * var for (p, line, _), var in y.items() if setup_cost[p, line] > 0
        )
        + pulp.lpSum(data.overtime_cost[line] * var for (line, _), var in o.items()),
        "stability": frozen_cost * pulp.lpSum(dev.values())
        + change_cost * pulp.lpSum(chg.values()),
    }
    prob += pulp.lpSum(terms.values())

    add = _Constraints(prob)

    # 1. Capacity, and 2. setup link.
    for line in lines:
        if not products_on[line]:
            continue
        for t in periods:
            add(
                pulp.lpSum(x[p, line, t] * (1.0 / rate[p, line]) for p in products_on[line])
                + pulp.lpSum(
                    setup_hours[p, line] * y[p, line, t]
                    for p in products_on[line]
                    if (p, line, t) in y and setup_hours[p, line] > 0
                )
                <= data.hours[line, t] + (o[line, t] if (line, t) in o else 0),
                f"capacity[{line},{t}]",
            )
    for p, line in with_setup:
        for t in periods:
            most = rate[p, line] * (
                data.hours[line, t] + data.overtime[line, t] - setup_hours[p, line]
            )
            add(x[p, line, t] <= max(most, 0.0) * y[p, line, t], f"setup_ub[{p},{line},{t}]")
            if min_lot[p, line] > 0:
                add(x[p, line, t] >= min_lot[p, line] * y[p, line, t], f"min_lot[{p},{line},{t}]")

    # 3. Material balance.
    for k in materials:
        previous_stock: float | pulp.LpVariable = data.material_stock[k]
        for t in periods:
            add(
                stock[k, t]
                == previous_stock
                + data.receipts.get((k, t), 0.0)
                - pulp.lpSum(a * x[p, line, t] for p, a in users[k] for line in lines_of[p]),
                f"material[{k},{t}]",
            )
            previous_stock = stock[k, t]

    # 4. Product balance, and 6. safety stock.
    for p in product_ids:
        opening: float | pulp.LpVariable = float(products.at[p, "initial_inventory"])
        for u, t in enumerate(periods):
            add(
                inv[p, t]
                == opening
                + pulp.lpSum(x[p, line, t] for line in lines_of[p])
                - pulp.lpSum(f[e, u] for e in shipped_by[p, u]),
                f"inventory[{p},{t}]",
            )
            opening = inv[p, t]
            if (p, t) in ss_short:
                add(
                    ss_short[p, t] >= products.at[p, "safety_stock"] - inv[p, t], f"safety[{p},{t}]"
                )

    # 5. Service.
    for e in entry_ids:
        add(
            pulp.lpSum(f[e, u] for u in ship_periods[e]) + short[e] == entry_qty[e], f"service[{e}]"
        )

    # 7. Frozen fence, and 8. change against the previous plan.
    for key in frozen_keys:
        prev = data.previous.get(key, 0.0)
        add(x[key] <= prev, f"frozen_ub[{','.join(key)}]")
        if key in dev:
            add(dev[key] >= prev - x[key], f"frozen_dev[{','.join(key)}]")
    for key, var in chg.items():
        prev = data.previous.get(key, 0.0)
        add(var >= x[key] - prev, f"change_up[{','.join(key)}]")
        add(var >= prev - x[key], f"change_down[{','.join(key)}]")

    variables = {
        "x": x, "y": y, "o": o, "f": f, "short": short, "I": inv, "S": ss_short,
        "Z": stock, "dev": dev, "chg": chg,
    }  # fmt: skip
    return prob, terms, variables


# --------------------------------------------------------------------------- solve


def _solver(
    name: str, time_limit: float | None, gap: float | None, threads: int, msg: bool
) -> pulp.LpSolver:
    """The PuLP solver object for ``cbc`` (bundled binary) or ``highs`` (highspy)."""
    options: dict[str, Any] = {"msg": msg, "timeLimit": time_limit, "gapRel": gap}
    if threads > 0:
        options["threads"] = threads
    if name == "cbc":
        return pulp.PULP_CBC_CMD(**options)
    if name == "highs":
        return pulp.HiGHS(**options)
    raise ValueError(f"unknown solver {name!r}: use 'cbc' or 'highs'")


def _status(prob: pulp.LpProblem) -> str:
    """Our status from PuLP's ``sol_status`` (``status`` says Optimal on a time limit)."""
    return {
        pulp.LpSolutionOptimal: "optimal",
        pulp.LpSolutionIntegerFeasible: "feasible",
        pulp.LpSolutionInfeasible: "infeasible",
        pulp.LpSolutionUnbounded: "error",
        pulp.LpSolutionNoSolutionFound: "no_solution",
    }.get(prob.sol_status, "error")


def solve_baseline(
    dataset_dir: str | Path,
    solver: str = "cbc",
    time_limit: float | None = None,
    gap: float | None = None,
    msg: bool = False,
) -> BaselineResult:
    """Read a dataset folder, build the model in PuLP and solve it.

    Parameters
    ----------
    dataset_dir
        A dataset folder (DATASET.md).
    solver
        ``"cbc"`` (PuLP's bundled CBC) or ``"highs"`` (HiGHS through highspy).
    time_limit
        Seconds for the solver; ``None`` takes ``solve.time_limit_s`` from the
        dataset's settings (60 by default).
    gap
        Relative MIP gap; ``None`` takes ``solve.mip_gap`` from the settings.
    msg
        Show the solver log.

    Returns
    -------
    BaselineResult
        Status, objective and its terms, timings, production.
    """
    started = time.perf_counter()
    data = read_instance(dataset_dir)
    read_seconds = time.perf_counter() - started

    started = time.perf_counter()
    prob, terms, variables = build_model(data)
    build_seconds = time.perf_counter() - started

    solve_settings = data.settings["solve"]
    limit = float(solve_settings["time_limit_s"]) if time_limit is None else time_limit
    rel_gap = float(solve_settings["mip_gap"]) if gap is None else gap
    threads = int(solve_settings.get("threads", 0))
    started = time.perf_counter()
    prob.solve(_solver(solver, limit, rel_gap, threads, msg))
    solve_seconds = time.perf_counter() - started

    status = _status(prob)
    has_solution = status in ("optimal", "feasible")
    objective = float(pulp.value(prob.objective) or 0.0) if has_solution else None
    term_values = {
        name: float(pulp.value(expr) or 0.0) if has_solution else math.nan
        for name, expr in terms.items()
    }
    bound: float | None = objective if status == "optimal" else None
    if solver == "highs" and has_solution and variables["y"]:
        bound = float(prob.solverModel.getInfo().mip_dual_bound)

    rows = (
        [(p, line, t, var.varValue) for (p, line, t), var in variables["x"].items()]
        if has_solution
        else []
    )
    production = pd.DataFrame(rows, columns=["product", "line", "period", "quantity"])
    production = production[production["quantity"] > _EPS].reset_index(drop=True)
    return BaselineResult(
        status=status,
        objective=objective,
        objective_terms=term_values,
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        production=production,
        read_seconds=read_seconds,
        bound=bound,
        solver=solver,
        variables=prob.numVariables(),
        constraints=prob.numConstraints(),
        integer_variables=len(variables["y"]),
    )


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m benchmarks.baseline_pulp DIR --solver cbc``.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 with a solution, 1 without.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.baseline_pulp",
        description="Solve a dataset with the hand-written PuLP model (MODEL.md, weighted).",
    )
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--solver", choices=["cbc", "highs"], default="cbc")
    parser.add_argument(
        "--time-limit", type=float, default=None, help="seconds (default: settings)"
    )
    parser.add_argument(
        "--gap", type=float, default=None, help="relative MIP gap (default: settings)"
    )
    parser.add_argument("--msg", action="store_true", help="show the solver log")
    parser.add_argument("--production", type=Path, default=None, help="write production CSV here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    result = solve_baseline(args.dataset, args.solver, args.time_limit, args.gap, args.msg)
    print(f"status      {result.status}")
    print(f"objective   {result.objective}")
    print(f"bound       {result.bound}")
    for name in TERMS:
        print(f"  {name:<17} {result.objective_terms[name]:.6f}")
    print(
        f"size        {result.variables} variables ({result.integer_variables} integer), "
        f"{result.constraints} constraints"
    )
    print(
        f"seconds     read {result.read_seconds:.2f}  build {result.build_seconds:.2f}  "
        f"solve {result.solve_seconds:.2f}  ({result.solver})"
    )
    if args.production is not None:
        result.production.to_csv(args.production, index=False)
    return 0 if result.objective is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
