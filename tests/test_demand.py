"""Demand entries (DATASET.md "Demand entries"), each rule pinned with hand-made numbers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from optimizer import Dataset
from optimizer.demand import COLUMNS, entries

PRODUCTS = "product,priority,shortage_cost\nA,2,5\nB,3,5"
CUSTOMERS = "customer,priority\nRETAIL,1\nSHOP,2"
# A in W1: orders 10 (RETAIL, past due) + 15 (SHOP) = 25 against a forecast of 60
# A in W2: order 70 (no customer, own priority 1) against a forecast of 60: no remainder
# B in W1: forecast 60, no orders; B in W2: order 5 (unknown-customer-free, product's tier)
ORDERS = (
    "order,customer,product,period,quantity,priority\n"
    "O1,RETAIL,A,2026-11-01,10,\n"
    "O2,SHOP,A,W1,15,\n"
    "O3,,A,2026-12-08,70,1\n"
    "O4,,B,W2,5,\n"
    "O5,SHOP,B,2027-05-01,99,\n"
)


@pytest.fixture
def ds(make: Callable[..., Dataset]) -> Dataset:
    return make(
        products=PRODUCTS,
        customers=CUSTOMERS,
        orders=ORDERS,
        routings="product,line,rate\nA,L1,10\nB,L1,10",
    )


def _by_entry(dataset: Dataset) -> dict[str, tuple[object, ...]]:
    e = entries(dataset)
    assert list(e.columns) == COLUMNS
    return {
        row.entry: (row.kind, row.customer, row.product, row.priority, row.due, row.quantity)
        for row in e.itertuples(index=False)
    }


def test_max_signal(ds: Dataset) -> None:
    assert _by_entry(ds) == {
        # past due: due in the first period; priority from the customer
        "O1": ("order", "RETAIL", "A", 1, "W1", 10.0),
        "O2": ("order", "SHOP", "A", 2, "W1", 15.0),
        # F - O = 60 - 25 = 35, the product's priority
        "forecast:A:W1": ("forecast", "", "A", 2, "W1", 35.0),
        # the order's own priority wins; O = 70 >= F = 60: no forecast entry
        "O3": ("order", "", "A", 1, "W2", 70.0),
        "forecast:B:W1": ("forecast", "", "B", 3, "W1", 60.0),
        # no customer, no priority: the product's; F - O = 60 - 5
        "O4": ("order", "", "B", 3, "W2", 5.0),
        "forecast:B:W2": ("forecast", "", "B", 3, "W2", 55.0),
        # O5 is after the horizon: left out
    }


def test_orders_signal(ds: Dataset) -> None:
    ds = ds.replace(settings=ds.settings.with_overrides(demand__signal="orders"))
    assert sorted(_by_entry(ds)) == ["O1", "O2", "O3", "O4"]


def test_forecast_signal(ds: Dataset) -> None:
    ds = ds.replace(settings=ds.settings.with_overrides(demand__signal="forecast"))
    got = _by_entry(ds)
    assert got == {
        "forecast:A:W1": ("forecast", "", "A", 2, "W1", 60.0),
        "forecast:A:W2": ("forecast", "", "A", 2, "W2", 60.0),
        "forecast:B:W1": ("forecast", "", "B", 3, "W1", 60.0),
        "forecast:B:W2": ("forecast", "", "B", 3, "W2", 60.0),
    }


def test_entries_ordered_by_due_then_product(ds: Dataset) -> None:
    e = entries(ds)
    assert e["entry"].tolist() == [
        "O1",
        "O2",
        "forecast:A:W1",
        "forecast:B:W1",
        "O3",
        "O4",
        "forecast:B:W2",
    ]


def test_zero_forecast_makes_no_entry(make: Callable[..., Dataset]) -> None:
    ds = make(forecast="product,period,quantity\nA,W1,0\nB,W1,3")
    assert entries(ds)["entry"].tolist() == ["forecast:B:W1"]


def test_customer_without_customers_file_has_no_priority(make: Callable[..., Dataset]) -> None:
    ds = make(orders="order,customer,product,period,quantity\nO1,ANY,B,W1,5")
    e = entries(ds).set_index("entry")
    assert e.loc["O1", "priority"] == 2  # B's own tier
    assert any("customers.csv is missing" in w for w in ds.warnings)


def test_entries_follow_a_changed_copy_of_the_dataset(ds: Dataset) -> None:
    """Entries are computed once per tables and signal: a copy with other settings or
    other orders gets its own, and a caller changing the returned frame changes
    nothing for the next caller."""
    first = entries(ds)
    first.loc[:, "quantity"] = -1.0
    assert (entries(ds)["quantity"] > 0).all()
    orders_only = ds.replace(settings=ds.settings.with_overrides(demand__signal="orders"))
    assert set(entries(orders_only)["kind"]) == {"order"}
    assert "forecast" in set(entries(ds)["kind"])
    fewer = ds.replace(orders=ds.orders[ds.orders["order"] != "O2"])
    assert "O2" not in set(entries(fewer)["entry"])
    assert "O2" in set(entries(ds)["entry"])
