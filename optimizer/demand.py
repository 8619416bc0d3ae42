"""Demand entries: the demand signal the model serves (DATASET.md "Demand entries").

For each product and period, with ``O`` the sum of its orders and ``F`` its forecast:
every order is an entry (priority: the order's, else its customer's, else the
product's); when ``F > O`` the remainder ``F - O`` is one more entry
``forecast:PRODUCT:PERIOD`` with the product's priority. ``settings.demand.signal``
``orders`` keeps the orders only, ``forecast`` the forecast only (one entry per product
and period with ``F > 0``). Past-due orders are due in the first period; orders after
the horizon were left out when the dataset was loaded.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from optimizer.dataset import Dataset

COLUMNS = ["entry", "kind", "order", "customer", "product", "priority", "due", "quantity"]


_CACHE: list[tuple[str, tuple[weakref.ref[Any], ...], pd.DataFrame]] = []
"""The last few results: loading validates the entries, then the model, the verifier and
the reports read them again, often through copies of the dataset with other settings.
A result is reused only for the very same table objects and demand signal (held by
weak references, so the cache keeps no dataset alive)."""

_TABLES = ("periods", "products", "customers", "orders", "forecast")


def entries(dataset: Dataset) -> pd.DataFrame:
    """The demand entries of a dataset (a fresh copy per call).

    Returns
    -------
    pandas.DataFrame
        Columns ``entry, kind, order, customer, product, priority, due, quantity``;
        ``kind`` is ``order`` or ``forecast``, ``due`` a period id, ``priority`` an
        int. Ordered by due period, then products.csv order, orders before the
        forecast remainder, orders in file order.
    """
    signal = dataset.settings.demand.signal
    tables = [getattr(dataset, name) for name in _TABLES]
    for sig, refs, out in _CACHE:
        if sig == signal and all(r() is t for r, t in zip(refs, tables, strict=True)):
            return out.copy()
    out = _entries(dataset)
    try:
        refs = tuple(weakref.ref(t) for t in tables)
    except TypeError:  # pragma: no cover - tables that cannot be weakly referenced
        return out
    _CACHE.insert(0, (signal, refs, out.copy()))
    del _CACHE[4:]
    return out


def _entries(dataset: Dataset) -> pd.DataFrame:
    signal = dataset.settings.demand.signal
    products = dataset.products
    parts: list[pd.DataFrame] = []

    orders = dataset.orders
    if signal in ("max", "orders") and len(orders):
        prio = orders["priority"].to_numpy(dtype=np.float64).copy()
        missing = np.isnan(prio)
        if missing.any():
            customers = dataset.customers
            prio = np.where(
                missing,
                _lookup(customers["customer"], customers["priority"], orders["customer"]),
                prio,
            )
            missing = np.isnan(prio)
            prio = np.where(
                missing, _lookup(products["product"], products["priority"], orders["product"]), prio
            )
        parts.append(
            pd.DataFrame(
                {
                    "entry": orders["order"].to_numpy(dtype=object),
                    "kind": "order",
                    "order": orders["order"].to_numpy(dtype=object),
                    "customer": orders["customer"].to_numpy(dtype=object),
                    "product": orders["product"].to_numpy(dtype=object),
                    "priority": prio.astype(np.int64),
                    "due": orders["period"].to_numpy(dtype=object),
                    "quantity": orders["quantity"].to_numpy(dtype=np.float64),
                    "_seq": np.arange(len(orders)),
                }
            )
        )

    if signal in ("max", "forecast") and len(dataset.forecast):
        forecast = dataset.forecast
        # (product, period) as one integer, the same for the forecast and the orders: a
        # groupby on it takes about half the time of one on the two text columns
        with_orders = signal == "max" and len(orders) > 0
        ours = [forecast] + ([orders] if with_orders else [])
        p_codes, p_ids = pd.factorize(
            np.concatenate([f["product"].to_numpy(dtype=object) for f in ours])
        )
        t_codes, t_ids = pd.factorize(
            np.concatenate([f["period"].to_numpy(dtype=object) for f in ours])
        )
        width = max(len(t_ids), 1)
        key = p_codes * width + t_codes
        n = len(forecast)
        fc = forecast["quantity"].groupby(key[:n], sort=False).sum()
        if with_orders:
            ordered = orders["quantity"].groupby(key[n:], sort=False).sum()
            rest = fc.sub(ordered.reindex(fc.index, fill_value=0.0))
        else:
            rest = fc
        rest = rest[rest > 0]
        if len(rest):
            pc, tc = np.divmod(rest.index.to_numpy(dtype=np.int64), width)
            prod = np.asarray(p_ids, dtype=object)[pc]
            per = np.asarray(t_ids, dtype=object)[tc]
            # "forecast:PRODUCT:" once per product, then the period added on
            prefix = np.array([f"forecast:{p}:" for p in p_ids.tolist()], dtype=object)
            ids = prefix[pc] + per
            parts.append(
                pd.DataFrame(
                    {
                        "entry": ids,
                        "kind": "forecast",
                        "order": "",
                        "customer": "",
                        "product": prod,
                        "priority": _lookup(
                            products["product"], products["priority"], pd.Series(prod)
                        ).astype(np.int64),
                        "due": per,
                        "quantity": rest.to_numpy(dtype=np.float64),
                        "_seq": np.arange(len(rest)),
                    }
                )
            )

    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    # by due period, then products.csv order, orders before the forecast remainder,
    # then file order (one stable lexsort: a four-key sort_values took twice as long)
    order = np.lexsort(
        (
            out["_seq"].to_numpy(),
            (out["kind"] == "forecast").to_numpy(),
            pd.Index(products["product"]).get_indexer(out["product"]),
            pd.Index(dataset.periods["period"]).get_indexer(out["due"]),
        )
    )
    return out[COLUMNS].take(order).reset_index(drop=True)


def _lookup(keys: pd.Series, values: pd.Series, of: pd.Series) -> np.ndarray:
    """``values`` by ``keys`` for each of ``of``, NaN where a key is missing (as
    ``Series.map`` of a dict, by index: a third of its time)."""
    at = pd.Index(keys).get_indexer(of)
    found = values.to_numpy(dtype=np.float64)
    out = np.full(len(at), np.nan)
    out[at >= 0] = found[at[at >= 0]]
    return out


def _dtype(column: str) -> str:
    return {"priority": "int64", "quantity": "float64"}.get(column, "object")
