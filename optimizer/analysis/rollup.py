"""Family roll-up (products.csv ``family``): the S&OP view of service and stock."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.analysis._util import TOL
from optimizer.dataset import Dataset
from optimizer.results import Plan

COLUMNS = [
    "family",
    "products",
    "demand",
    "on_time",
    "late",
    "unmet",
    "fill_rate",
    "on_time_rate",
    "unmet_top_tier",
    "produced",
    "end_inventory",
    "end_safety_stock",
    "periods_below_safety_stock",
]


def families(dataset: Dataset, plan: Plan) -> pd.DataFrame:
    """Demand, service, production and stock per product family.

    Products without a family are rolled up as ``(no family)``. ``unmet_top_tier``
    is the unmet demand of the highest priority tier present;
    ``periods_below_safety_stock`` counts product-periods below safety stock.
    """
    fam = dataset.products.set_index("product")["family"].fillna("").replace("", "(no family)")
    svc = plan.service.assign(family=lambda f: f["product"].map(fam))
    top = int(svc["priority"].min()) if len(svc) else 1
    svc = svc.assign(unmet_top=np.where(svc["priority"] == top, svc["unmet"], 0.0))
    service = svc.groupby("family", sort=False).agg(
        demand=("quantity", "sum"),
        on_time=("on_time", "sum"),
        late=("late", "sum"),
        unmet=("unmet", "sum"),
        unmet_top_tier=("unmet_top", "sum"),
    )
    inv = plan.inventory.assign(family=lambda f: f["product"].map(fam))
    last = dataset.period_ids[-1]
    end = inv[inv["period"] == last].groupby("family", sort=False)
    stock = pd.DataFrame(
        {
            "end_inventory": end["closing"].sum(),
            "end_safety_stock": end["safety_stock"].sum(),
        }
    )
    below = (inv["below_safety_stock"] > TOL).groupby(inv["family"], sort=False).sum().rename("b")
    prod = plan.production.assign(family=lambda f: f["product"].map(fam))
    produced = prod.groupby("family", sort=False)["quantity"].sum().rename("produced")
    count = fam.reset_index().groupby("family", sort=False)["product"].count().rename("products")
    out = pd.concat([count, service, produced, stock, below], axis=1).fillna(0.0)
    out = out.rename(columns={"b": "periods_below_safety_stock"})
    with np.errstate(divide="ignore", invalid="ignore"):
        out["fill_rate"] = np.where(
            out["demand"] > 0, (out["on_time"] + out["late"]) / out["demand"], np.nan
        )
        out["on_time_rate"] = np.where(out["demand"] > 0, out["on_time"] / out["demand"], np.nan)
    out["products"] = out["products"].astype(np.int64)
    out["periods_below_safety_stock"] = out["periods_below_safety_stock"].astype(np.int64)
    out = out.rename_axis("family").reset_index()
    return out[COLUMNS].sort_values("family", kind="stable", ignore_index=True)
