"""Seeded, realistic planning datasets for benchmarks.

:func:`generate` writes a dataset folder in the DATASET.md format (CSV files and a
``settings.toml``) that looks like a weekly S&OE planning problem of a packaged
consumer-goods maker:

* weekly periods labelled with ISO weeks (``2026-W02``, ...), starting on a Monday;
* products (ids with leading zeros, kept as strings) in families of about five that
  share a packaging material, plus bulk raw materials shared across families;
* every family has a primary line and up to two alternative lines, slower and
  dearer to run; line speed, product and line factors vary the rates;
* a forecast for every product and period (seasonal, noisy), and firm orders for
  about 30% of the product-periods (more in the first weeks), from customers in three
  priority tiers, with due dates as ISO dates and a few past-due orders;
* a line calendar with maintenance weeks and the Easter holidays, overtime on
  about half the lines;
* safety stocks, holding, safety-stock, shortage and lateness costs, a few
  storage limits (``max_inventory``);
* material receipts from purchase orders; a few materials are tight (low stock
  and a late receipt) so that the plan has real shortages;
* demand scaled so that the load of each line (at its primary rate) is about
  95-110% of its regular hours.

By default the dataset is a pure LP (no setup hours, setup cost or minimum lot).
``setups=True`` adds setup hours, setup costs and minimum lots to every routing
(a MILP) and ``stability=True`` a ``previous_plan.csv`` with a frozen fence and a
change cost; both leave every other table unchanged (they draw from separate
random streams), so the LP and MILP variants of a seed share their data.

The generator is deterministic for ``(size, seed, setups, stability)`` and built
from numpy arrays: the ``xl`` size (3,000 products, 40 lines, 26 weeks) takes a
couple of seconds.

Examples
--------
>>> import tempfile
>>> folder = generate("s", seed=1, out=Path(tempfile.mkdtemp()) / "s1")
>>> sorted(p.name for p in folder.iterdir())[:3]
['bom.csv', 'customers.csv', 'forecast.csv']
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SIZES", "Size", "generate", "main"]


@dataclass(frozen=True)
class Size:
    """Dimensions of a generated dataset.

    Parameters
    ----------
    products
        Number of finished goods.
    lines
        Number of production lines.
    periods
        Number of weekly periods.
    time_limit_s
        Solve time limit written to ``settings.toml``.
    """

    products: int
    lines: int
    periods: int
    time_limit_s: float


SIZES: dict[str, Size] = {
    "s": Size(20, 3, 8, 60.0),
    "m": Size(200, 8, 13, 120.0),
    "l": Size(1_000, 20, 26, 300.0),
    "xl": Size(3_000, 40, 26, 600.0),
}
"""The benchmark sizes: products x lines x weekly periods."""

FIRST_MONDAY = dt.date(2026, 1, 5)
"""Start of the first period (ISO week 2026-W02)."""

HOLIDAYS = (dt.date(2026, 4, 3), dt.date(2026, 4, 6))
"""Good Friday and Easter Monday: the weeks holding them lose a fifth of their hours."""

SHIFT_HOURS = np.array([80.0, 120.0, 120.0, 144.0])
"""Regular weekly hours of a line: two shifts, three shifts (twice as likely), 3+ shifts."""

_STREAM_SETUPS = 1
_STREAM_STABILITY = 2


def generate(
    size: str,
    seed: int,
    out: Path,
    setups: bool = False,
    stability: bool = False,
) -> Path:
    """Write a generated dataset folder.

    Parameters
    ----------
    size
        One of :data:`SIZES`: ``"s"``, ``"m"``, ``"l"`` or ``"xl"``.
    seed
        Seed of the numpy random generator; the same seed gives the same files.
    out
        Folder to write (created if missing; files of the same name are replaced).
    setups
        Add setup hours, setup costs and minimum lots to the routings (a MILP).
    stability
        Add a ``previous_plan.csv`` with a two-period frozen fence and a change cost.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ValueError
        If ``size`` is unknown.
    """
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}: choose one of {', '.join(SIZES)}")
    tables, settings = _build(SIZES[size], seed, setups=setups, stability=stability)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    (out / "settings.toml").write_text(settings, encoding="utf-8")
    return out


def load_ratio(folder: Path) -> float:
    """Demand hours over regular capacity hours of a generated dataset.

    Demand hours count, for every product and period, ``max(forecast, orders)`` at
    the product's fastest rate; capacity is the calendar's regular hours (no
    overtime). It is the figure the generator aims at 0.95-1.10.

    Parameters
    ----------
    folder
        A dataset folder written by :func:`generate`.

    Returns
    -------
    float
        The load ratio.
    """
    read = {"dtype": {"product": str, "line": str, "period": str}}
    periods = pd.read_csv(folder / "periods.csv", dtype=str)
    routings = pd.read_csv(folder / "routings.csv", **read)
    forecast = pd.read_csv(folder / "forecast.csv", **read)
    orders = pd.read_csv(folder / "orders.csv", **read)
    lines = pd.read_csv(folder / "lines.csv", **read)
    calendar = pd.read_csv(folder / "line_calendar.csv", **read)

    starts = pd.to_datetime(periods["start"])
    due = pd.to_datetime(orders["period"])
    index = np.searchsorted(starts.to_numpy(), due.to_numpy(), side="right") - 1
    orders["period"] = periods["period"].to_numpy()[np.clip(index, 0, len(periods) - 1)]
    demand = (
        forecast.groupby(["product", "period"])["quantity"]
        .sum()
        .to_frame("F")
        .join(orders.groupby(["product", "period"])["quantity"].sum().rename("O"), how="outer")
        .fillna(0.0)
    )
    fastest = routings.groupby("product")["rate"].max()
    rate = fastest.reindex(demand.index.get_level_values(0)).to_numpy()
    hours_needed = float((demand.max(axis=1).to_numpy() / rate).sum())

    grid = pd.MultiIndex.from_product([lines["line"], periods["period"]], names=["line", "period"])
    regular = pd.Series(
        lines.set_index("line")["hours"].reindex(grid.get_level_values(0)).to_numpy(), index=grid
    )
    regular.update(calendar.set_index(["line", "period"])["hours"])
    return float(hours_needed / regular.sum())


# --------------------------------------------------------------------------- build


def _build(
    spec: Size, seed: int, *, setups: bool, stability: bool
) -> tuple[dict[str, pd.DataFrame], str]:
    """Draw every table; returns the tables by file stem and the settings text."""
    rng = np.random.default_rng(seed)
    n_prod, n_line, n_per = spec.products, spec.lines, spec.periods

    periods, starts = _periods(n_per)
    period_ids = periods["period"].to_numpy()

    # Lines, plants, shifts, overtime.
    line_ids = np.array([f"L{j + 1:02d}" for j in range(n_line)])
    n_plants = math.ceil(n_line / 5)
    plant = np.array([f"PLANT-{j % n_plants + 1}" for j in range(n_line)])
    hours = rng.choice(SHIFT_HOURS, size=n_line)
    has_ot = rng.random(n_line) < 0.5
    ot_hours = np.where(has_ot, np.minimum(rng.choice([8.0, 16.0, 24.0], n_line), 168 - hours), 0.0)
    ot_cost = np.where(has_ot, np.round(rng.uniform(60.0, 150.0, n_line), 2), 0.0)
    line_speed = rng.uniform(0.8, 1.25, n_line)

    # Calendar: maintenance weeks (about one per quarter on 60% of the lines) and holidays.
    cal_hours = np.tile(hours[:, None], (1, n_per))
    cal_ot = np.tile(ot_hours[:, None], (1, n_per))
    touched = np.zeros((n_line, n_per), dtype=bool)
    n_maint = np.where(rng.random(n_line) < 0.6, max(1, n_per // 13), 0)
    for_line = np.repeat(np.arange(n_line), n_maint)
    week = rng.integers(0, n_per, for_line.size)
    half = rng.uniform(size=for_line.size) < 0.5  # half the stops take half a week
    cal_hours[for_line, week] = np.where(half, 0.5 * hours[for_line], 0.0)
    cal_ot[for_line, week] = 0.0
    touched[for_line, week] = True
    for holiday in HOLIDAYS:
        w = (holiday - FIRST_MONDAY).days // 7
        if 0 <= w < n_per:
            cal_hours[:, w] = np.where(touched[:, w], cal_hours[:, w], 0.8 * hours)
            touched[:, w] = True

    # Families, their lines and rates.
    sizes = 1 + rng.poisson(4.0, size=n_prod)
    n_fam = int(np.searchsorted(np.cumsum(sizes), n_prod) + 1)
    family_of = np.repeat(np.arange(n_fam), sizes[:n_fam])[:n_prod]
    n_fam = int(family_of.max()) + 1
    primary = rng.integers(0, n_line, n_fam)
    primary[: min(n_fam, n_line)] = rng.permutation(n_line)[: min(n_fam, n_line)]
    n_routes = np.minimum(rng.choice([1, 2, 3], size=n_fam, p=[0.35, 0.45, 0.2]), n_line)
    keys = rng.random((n_fam, n_line))
    keys[np.arange(n_fam), primary] = -1.0  # the primary line sorts first
    route_lines = np.argsort(keys, axis=1)  # family x rank -> line
    fam_rate = np.exp(rng.normal(np.log(200.0), 0.5, n_fam))

    # Products: volume (relative for now), value, family.
    product_ids = np.array([f"{100_000 + 10 * i:07d}" for i in range(n_prod)])
    volume = np.exp(rng.normal(0.0, 1.0, n_prod))
    prod_rate_noise = np.exp(rng.normal(0.0, 0.15, n_prod))

    # Routings: one row per product and family route.
    per_product = n_routes[family_of]
    r_prod = np.repeat(np.arange(n_prod), per_product)
    r_rank = np.arange(r_prod.size) - np.repeat(np.cumsum(per_product) - per_product, per_product)
    r_line = route_lines[family_of[r_prod], r_rank]
    r_factor = np.where(r_rank == 0, 1.0, rng.uniform(0.6, 0.95, r_prod.size))
    r_rate = np.maximum(
        np.round(
            fam_rate[family_of[r_prod]] * prod_rate_noise[r_prod] * line_speed[r_line] * r_factor, 1
        ),
        1.0,
    )
    primary_rate = r_rate[r_rank == 0]  # r_prod is sorted and rank 0 comes first

    # Forecast: seasonal and noisy, every product and period (relative volumes for now).
    fam_amp = rng.uniform(0.0, 0.2, n_fam)
    fam_phase = rng.uniform(0.0, 2 * np.pi, n_fam)
    t = np.arange(n_per)
    season = 1.0 + fam_amp[family_of, None] * np.sin(
        2 * np.pi * t / 26 + fam_phase[family_of, None]
    )
    noise = np.exp(rng.normal(-0.02, 0.2, (n_prod, n_per)))
    relative = volume[:, None] * season * noise

    # Scale so that each line's primary load is its target share of its regular hours
    # (orders above forecast add a few percent on top).
    target = rng.uniform(0.98, 1.06) * rng.uniform(0.95, 1.05, n_line)
    prim_line = primary[family_of]
    load = np.bincount(prim_line, weights=relative.sum(axis=1) / primary_rate, minlength=n_line)
    scale = np.divide(target * cal_hours.sum(axis=1), load, out=np.zeros(n_line), where=load > 0)
    mean_demand = volume * scale[prim_line]
    forecast_q = np.rint(relative * scale[prim_line, None])

    # Product data.
    value = np.exp(rng.normal(np.log(20.0), 0.6, n_prod))
    holding = value * 0.2 / 52
    top = volume >= np.quantile(volume, 0.8)
    initial = np.where(
        rng.random(n_prod) < 0.15, 0.0, np.rint(mean_demand * rng.uniform(0, 1.5, n_prod))
    )
    safety = np.where(
        rng.random(n_prod) < 0.7, np.rint(mean_demand * rng.uniform(0.5, 1.5, n_prod)), 0.0
    )
    max_inv = np.where(
        rng.random(n_prod) < 0.1,
        np.ceil(np.maximum(mean_demand * rng.uniform(3.0, 6.0, n_prod), initial + safety)),
        np.nan,
    )
    shortage = value * rng.uniform(0.3, 0.6, n_prod)
    products = pd.DataFrame(
        {
            "product": product_ids,
            "family": np.array([f"FAM-{f + 1:03d}" for f in range(n_fam)])[family_of],
            "priority": np.where(top, 2, 3),
            "initial_inventory": initial.astype(np.int64),
            "safety_stock": safety.astype(np.int64),
            "safety_stock_cost": np.round(holding * rng.uniform(1.5, 4.0, n_prod), 4),
            "holding_cost": np.round(holding, 4),
            "shortage_cost": np.round(shortage, 4),
            "lateness_cost": np.round(shortage * rng.uniform(0.05, 0.15, n_prod), 4),
            "max_inventory": pd.array(max_inv, dtype="Int64"),
        }
    )

    routings = pd.DataFrame(
        {
            "product": product_ids[r_prod],
            "line": line_ids[r_line],
            "rate": r_rate,
            "setup_hours": 0.0,
            "setup_cost": 0.0,
            "run_cost": np.round(
                value[r_prod]
                * rng.uniform(0.02, 0.06, r_prod.size)
                * np.where(r_rank == 0, 1.0, rng.uniform(1.1, 1.4, r_prod.size)),
                4,
            ),
            "min_lot": 0.0,
        }
    )
    if setups:
        _add_setups(routings, np.random.default_rng([seed, _STREAM_SETUPS]))

    lines = pd.DataFrame(
        {
            "line": line_ids,
            "plant": plant,
            "hours": hours,
            "overtime_hours": ot_hours,
            "overtime_cost": ot_cost,
        }
    )
    li, pi = np.nonzero(touched)
    line_calendar = pd.DataFrame(
        {
            "line": line_ids[li],
            "period": period_ids[pi],
            "hours": cal_hours[li, pi],
            "overtime_hours": cal_ot[li, pi],
        }
    )

    customers, orders, order_q = _orders(rng, forecast_q, product_ids, starts)
    materials, bom, receipts = _materials(
        rng, n_fam, family_of, product_ids, np.maximum(forecast_q, order_q), starts
    )

    fi, ft = np.nonzero(np.ones_like(forecast_q, dtype=bool))
    forecast = pd.DataFrame(
        {
            "product": product_ids[fi],
            "period": period_ids[ft],
            "quantity": forecast_q[fi, ft].astype(np.int64),
        }
    )

    tables = {
        "periods": periods,
        "products": products,
        "lines": lines,
        "line_calendar": line_calendar,
        "routings": routings,
        "materials": materials,
        "bom": bom,
        "receipts": receipts,
        "customers": customers,
        "forecast": forecast,
        "orders": orders,
    }
    if stability:
        tables["previous_plan"] = _previous_plan(
            np.random.default_rng([seed, _STREAM_STABILITY]),
            forecast_q,
            product_ids,
            line_ids[primary[family_of]],
            period_ids,
        )
    return tables, _settings(spec, stability)


def _periods(n_per: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Weekly periods labelled by ISO week, and their start dates."""
    starts = np.array([FIRST_MONDAY + dt.timedelta(weeks=k) for k in range(n_per)])
    labels = [f"{d.isocalendar().year}-W{d.isocalendar().week:02d}" for d in starts]
    periods = pd.DataFrame(
        {
            "period": labels,
            "start": [d.isoformat() for d in starts],
            "end": [(d + dt.timedelta(days=7)).isoformat() for d in starts],
        }
    )
    return periods, starts


def _orders(
    rng: np.random.Generator,
    forecast_q: np.ndarray,
    product_ids: np.ndarray,
    starts: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Customers in three tiers and firm orders; also the order quantity per product-period."""
    n_prod, n_per = forecast_q.shape
    n_cust = max(6, n_prod // 10)
    tier = rng.choice([1, 2, 3], size=n_cust, p=[0.15, 0.35, 0.5])
    tier[:3] = [1, 2, 3]
    customer_ids = np.array([f"C{70_000 + i:06d}" for i in range(n_cust)])
    customers = pd.DataFrame({"customer": customer_ids, "priority": tier})
    weight = 1.0 / np.arange(1, n_cust + 1) ** 0.8
    weight = rng.permutation(weight / weight.sum())

    # Which product-periods have orders: many in the first weeks, few at the end.
    t = np.arange(n_per)
    booked = 0.55 - 0.5 * t / max(n_per - 1, 1)
    has = (rng.random((n_prod, n_per)) < booked) & (forecast_q > 0)
    pi, ti = np.nonzero(has)
    cover = np.exp(rng.normal(np.log(0.85 - 0.35 * ti / max(n_per - 1, 1)), 0.35))
    total = np.maximum(np.rint(forecast_q[pi, ti] * cover), 1.0)

    # Split each product-period's total into 1-4 orders (gamma shares).
    n_orders = np.minimum(1 + rng.poisson(0.7, pi.size), 4)
    group = np.repeat(np.arange(pi.size), n_orders)
    share = rng.gamma(2.0, size=group.size)
    share /= np.bincount(group, weights=share)[group]
    qty = np.maximum(np.rint(total[group] * share), 1.0)
    order_q = np.zeros_like(forecast_q)
    np.add.at(order_q, (pi[group], ti[group]), qty)

    # Due dates: a weekday of the due week; about 15% of first-week orders are past due.
    offset = rng.integers(0, 5, group.size)
    past_due = (ti[group] == 0) & (rng.random(group.size) < 0.15)
    offset = np.where(past_due, -rng.integers(2, 15, group.size), offset)
    due = np.array(starts, dtype="datetime64[D]")[ti[group]] + offset.astype("timedelta64[D]")
    expedite = rng.random(group.size) < 0.03

    order_frame = pd.DataFrame(
        {
            "customer": customer_ids[rng.choice(n_cust, size=group.size, p=weight)],
            "product": product_ids[pi[group]],
            "period": np.datetime_as_string(due, unit="D"),
            "quantity": qty.astype(np.int64),
            "priority": pd.array(np.where(expedite, 1, 0), dtype="Int64"),
        }
    )
    order_frame.loc[~expedite, "priority"] = pd.NA
    order_frame = order_frame.sort_values(["period", "customer", "product"], kind="stable")
    order_frame.insert(0, "order", [f"SO-{5_000_000 + i}" for i in range(len(order_frame))])
    return customers, order_frame.reset_index(drop=True), order_q


def _materials(
    rng: np.random.Generator,
    n_fam: int,
    family_of: np.ndarray,
    product_ids: np.ndarray,
    demand: np.ndarray,
    starts: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Packaging per family, shared raw materials, BOM and purchase-order receipts."""
    n_prod, n_per = demand.shape
    n_raw = max(2, n_prod // 25)
    pack_ids = [f"PK-{k + 1:05d}" for k in range(n_fam)]
    raw_ids = [f"RM-{k + 1:04d}" for k in range(n_raw)]
    material_ids = np.array(pack_ids + raw_ids)
    n_mat = material_ids.size

    per_case = rng.choice([1.0, 1.0, 0.5, 0.25, 0.1], size=n_fam)
    fam_raw = rng.integers(0, n_raw, n_fam)
    second = rng.random(n_prod) < 0.25
    second_raw = (fam_raw[family_of] + 1 + rng.integers(0, n_raw - 1, n_prod)) % n_raw
    prods = np.arange(n_prod)
    bom_p = np.concatenate([prods, prods, prods[second]])
    bom_k = np.concatenate([family_of, n_fam + fam_raw[family_of], n_fam + second_raw[second]])
    bom_q = np.concatenate(
        [
            per_case[family_of],
            np.round(rng.uniform(0.05, 0.8, n_prod), 3),
            np.round(rng.uniform(0.01, 0.2, int(np.count_nonzero(second))), 3),
        ]
    )
    bom = pd.DataFrame(
        {"product": product_ids[bom_p], "material": material_ids[bom_k], "quantity_per_unit": bom_q}
    )

    usage = np.zeros((n_mat, n_per))
    np.add.at(usage, bom_k, bom_q[:, None] * demand[bom_p])
    mean_use = np.maximum(usage.mean(axis=1), 1.0)

    tight = np.zeros(n_mat, dtype=bool)
    tight[rng.choice(n_mat, size=max(1, round(0.08 * n_mat)), replace=False)] = True
    initial = np.ceil(
        mean_use * np.where(tight, rng.uniform(0.2, 0.6, n_mat), rng.uniform(0.8, 2.5, n_mat))
    )
    is_pack = np.arange(n_mat) < n_fam
    materials = pd.DataFrame(
        {
            "material": material_ids,
            "initial_inventory": initial.astype(np.int64),
            "holding_cost": np.round(
                np.where(is_pack, rng.uniform(0.001, 0.01, n_mat), rng.uniform(0.002, 0.02, n_mat)),
                4,
            ),
        }
    )

    # Receipts: weekly or biweekly POs covering usage with some margin.
    cadence = rng.choice([1, 2], size=n_mat)
    first = rng.integers(0, 2, n_mat) % cadence
    mi, ti = np.nonzero((np.arange(n_per)[None, :] - first[:, None]) % cadence[:, None] == 0)
    qty = np.ceil(cadence[mi] * mean_use[mi] * rng.uniform(1.0, 1.2, mi.size) / 10.0) * 10.0
    # A tight material's receipts due before its late week all arrive in that week.
    late_week = rng.integers(2, 5, n_mat).clip(max=n_per - 1)
    ti = np.where(tight[mi] & (ti < late_week[mi]), late_week[mi], ti)
    days = rng.integers(0, 5, mi.size)
    # Overdue POs (dated before the horizon: they arrive in the first week).
    overdue = np.nonzero(rng.random(n_mat) < 0.05)[0]
    mi = np.concatenate([mi, overdue])
    ti = np.concatenate([ti, np.zeros(overdue.size, dtype=int)])
    days = np.concatenate([days, -rng.integers(3, 11, overdue.size)])
    qty = np.concatenate([qty, np.ceil(mean_use[overdue] / 10.0) * 10.0])
    date = np.array(starts, dtype="datetime64[D]")[ti] + days.astype("timedelta64[D]")

    n_sup = max(3, n_mat // 10)
    supplier = rng.integers(0, n_sup, n_mat)
    receipts = pd.DataFrame(
        {
            "material": material_ids[mi],
            "period": np.datetime_as_string(date, unit="D"),
            "quantity": qty.astype(np.int64),
            "supplier": np.array([f"SUP-{s + 1:03d}" for s in range(n_sup)])[supplier[mi]],
        }
    ).sort_values(["period", "material"], kind="stable")
    receipts.insert(3, "po", [f"45{10_000_000 + i}" for i in range(len(receipts))])
    return materials, bom, receipts.reset_index(drop=True)


def _add_setups(routings: pd.DataFrame, rng: np.random.Generator) -> None:
    """Setup hours, setup costs and minimum lots on every routing (in place)."""
    n = len(routings)
    setup_hours = rng.choice([0.25, 0.5, 1.0, 1.5], size=n)
    routings["setup_hours"] = setup_hours
    routings["setup_cost"] = np.round(
        setup_hours * rng.uniform(60.0, 120.0, n) + rng.uniform(20.0, 200.0, n), 2
    )
    routings["min_lot"] = np.ceil(routings["rate"].to_numpy() * rng.uniform(1.0, 4.0, n) / 10) * 10


def _previous_plan(
    rng: np.random.Generator,
    forecast_q: np.ndarray,
    product_ids: np.ndarray,
    primary_line: np.ndarray,
    period_ids: np.ndarray,
) -> pd.DataFrame:
    """Last cycle's plan: about the forecast, on the primary line, zero rows left out."""
    qty = np.rint(forecast_q * rng.uniform(0.85, 1.1, forecast_q.shape))
    pi, ti = np.nonzero(qty > 0)
    return pd.DataFrame(
        {
            "product": product_ids[pi],
            "line": primary_line[pi],
            "period": period_ids[ti],
            "quantity": qty[pi, ti].astype(np.int64),
        }
    )


def _settings(spec: Size, stability: bool) -> str:
    """``settings.toml`` text."""
    frozen, frozen_cost, change = (2, 1.0, 0.05) if stability else (0, 0.0, 0.0)
    return f"""\
[solve]
solver = "highs"
time_limit_s = {spec.time_limit_s:g}
mip_gap = 0.001
threads = 0

[demand]
signal = "max"
max_lateness = 1

[priority]
mode = "weighted"
tier_weight_base = 10

[stability]
frozen_periods = {frozen}
frozen_shortfall_cost = {frozen_cost:g}
change_cost = {change:g}
"""


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m benchmarks.generate --size l --seed 1 --out DIR``.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code (0).
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate", description="Write a seeded benchmark dataset."
    )
    parser.add_argument("--size", choices=list(SIZES), default="s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.add_argument("--setups", action="store_true", help="setup times/costs, min lots (MILP)")
    parser.add_argument("--stability", action="store_true", help="previous plan, frozen fence")
    args = parser.parse_args(argv)
    folder = generate(args.size, args.seed, args.out, setups=args.setups, stability=args.stability)
    counts = {
        p.stem: sum(1 for _ in p.open(encoding="utf-8")) - 1 for p in sorted(folder.glob("*.csv"))
    }
    print(f"wrote {folder}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"load: {load_ratio(folder):.3f} of regular line hours")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
