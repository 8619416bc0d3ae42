"""Exceptions: am I out of stock now, and do I expect to be within the next periods?

Read straight from the plan's service table, so the flags always agree with it:

* ``out_of_stock_now``: a demand entry due in the first period that the plan leaves
  unmet or ships late;
* ``projected_out_of_stock``: the same for entries due in the next
  ``settings.exceptions.horizon_periods`` periods (default 2) after the first.

``quantity`` is the entry's unmet plus late quantity. ``in_stock`` is what the plan
keeps in stock of the product at the end of the due period, up to ``quantity``: an
entry short while its product is in stock is not out of stock, the plan keeps that
stock for later (demand or safety stock). ``indifferent`` marks those the costs do
not require: holding the product costs nothing (nor does a safety stock shortfall),
and the plan serves a later entry of the product of the same or a lower tier (priced
no higher), so a plan as good serves this entry and shorts that one; which of them
is short is the solver's choice. An exception is flagged
``escalate`` when it hits priority-1 demand, or when its value (quantity times the
product's shortage cost) exceeds ``settings.exceptions.escalate_value`` (0 = off).
Rows are ordered priority 1 first, then now before projected, then by period and
the largest quantity first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.analysis._util import TOL
from optimizer.dataset import Dataset
from optimizer.results import Plan

COLUMNS = [
    "kind",
    "entry",
    "product",
    "customer",
    "priority",
    "period",
    "quantity",
    "in_stock",
    "escalate",
]
"""The columns of ``exceptions.csv`` (``in_stock``: the stock kept while the entry is
short, so a planner reading the file sees what the reports say)."""

NOW = "out_of_stock_now"
PROJECTED = "projected_out_of_stock"


def stock_held(
    plan: Plan, products: pd.Series, periods: pd.Series, short: np.ndarray
) -> np.ndarray:
    """The stock the plan keeps of each product at the end of each period, up to what
    is ``short`` then (0 where that is below :data:`TOL`): an entry short while its
    product is in stock, the stock kept for later demand or safety stock."""
    inv = plan.inventory
    # (product, period) as one number, so a few entries find their row among all the
    # plan's without a MultiIndex of every row (generated l: 2.6 ms against 4.8 ms)
    p_codes, p_ids = pd.factorize(inv["product"].to_numpy(dtype=object))
    t_codes, t_ids = pd.factorize(inv["period"].to_numpy(dtype=object))
    n = max(len(t_ids), 1)
    qp = pd.Index(p_ids, dtype=object).get_indexer(np.asarray(products, dtype=object))
    qt = pd.Index(t_ids, dtype=object).get_indexer(np.asarray(periods, dtype=object))
    at = pd.Index(p_codes * n + t_codes).get_indexer(qp * n + qt)
    at[(qp < 0) | (qt < 0)] = -1
    closing = inv["closing"].to_numpy(dtype=np.float64)
    held = np.where(at >= 0, closing[at], 0.0)
    out = np.minimum(np.nan_to_num(held), short)
    return np.where(out > TOL, out, 0.0)


def exceptions(dataset: Dataset, plan: Plan) -> pd.DataFrame:
    """The exceptions of a plan.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS` plus ``unmet``, ``late``, ``value`` (quantity times shortage
        cost), ``family``, ``demand`` (the entry's kind: ``order`` or ``forecast``;
        an order may have a blank customer) and ``indifferent`` (see the module
        docstring) for the reports.
    """
    order = dataset.period_ids
    horizon = dataset.settings.exceptions.horizon_periods
    limit = dataset.settings.exceptions.escalate_value
    svc = plan.service
    pos = pd.Index(order, dtype=object).get_indexer(svc["due"].to_numpy(dtype=object))
    missing = (svc["unmet"] + svc["late"]).to_numpy(dtype=np.float64)
    hit = (missing > TOL) & (pos >= 0) & (pos <= horizon)
    rows = svc[hit]
    products = dataset.products.set_index("product")
    cost = rows["product"].map(products["shortage_cost"]).to_numpy(dtype=np.float64)
    in_stock = stock_held(plan, rows["product"], rows["due"], missing[hit])
    free = (products["holding_cost"] <= 0) & (
        (products["safety_stock"] <= 0) | (products["safety_stock_cost"] <= 0)
    )
    # held stock a later entry of the product of the same or a lower tier gets
    served = ((svc["on_time"] + svc["late"]) > TOL).to_numpy()
    tiers = svc["priority"].to_numpy(dtype=np.int64)
    of = svc["product"].to_numpy(dtype=object)
    indifferent = np.zeros(len(rows), dtype=bool)
    for i, (product, tier, t) in enumerate(
        zip(rows["product"], rows["priority"], pos[hit], strict=True)
    ):
        if in_stock[i] > 0 and bool(free.get(product, False)):
            indifferent[i] = bool((served & (pos > t) & (tiers >= tier) & (of == product)).any())
    out = pd.DataFrame(
        {
            "kind": np.where(pos[hit] == 0, NOW, PROJECTED),
            "entry": rows["entry"].to_numpy(dtype=object),
            "product": rows["product"].to_numpy(dtype=object),
            "customer": rows["customer"].fillna("").to_numpy(dtype=object),
            "priority": rows["priority"].to_numpy(dtype=np.int64),
            "period": rows["due"].to_numpy(dtype=object),
            "quantity": missing[hit],
            "in_stock": in_stock,
            "escalate": False,
            "unmet": rows["unmet"].to_numpy(dtype=np.float64),
            "late": rows["late"].to_numpy(dtype=np.float64),
            "value": missing[hit] * cost,
            "family": rows["product"].map(products["family"]).fillna("").to_numpy(dtype=object),
            "demand": rows["kind"].to_numpy(dtype=object),
            "indifferent": indifferent,
            "_t": pos[hit],
        }
    )
    out["escalate"] = (out["priority"] == 1) | ((limit > 0) & (out["value"] > limit))
    out["_k"] = (out["kind"] != NOW).astype(np.int64)
    out = out.sort_values(
        ["priority", "_k", "_t", "quantity", "entry"],
        ascending=[True, True, True, False, True],
        kind="stable",
        ignore_index=True,
    )
    return out.drop(columns=["_t", "_k"])
