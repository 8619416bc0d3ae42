"""Adversarial tests of :mod:`optimizer.verify`: one constraint broken, everything else kept.

The corruptions of ``test_verify.py`` change one cell, which a derived column usually
betrays (a wrong closing stock, a wrong cost). Here a plan's *decisions* are changed
(production, setups, shipments, overtime) and every derived table and figure of
``summary.json`` is rebuilt from them by :func:`_rebuild`, a third implementation of the
plan's arithmetic (pandas, written for this file). The result is a plan that is
consistent in every table and figure and breaks exactly one constraint of MODEL.md, so
only that constraint's check can catch it; the message must say which row, which
constraint and by how much.

The plans are the optimal plans of ``data/tiny``, ``data/bodywash`` and a generated
dataset with setups (``generate --size s --seed 3 --setups``, solved for a few seconds),
each solved once per module. Rebuilt without a mutation, each plan must verify, which
also checks :func:`_rebuild` against soe's own tables.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from benchmarks.generate import generate
from optimizer.dataset import Dataset, load_dataset
from optimizer.demand import entries as demand_entries
from optimizer.results import Plan
from optimizer.solve import plan
from optimizer.verify import verify_tables
from tests.conftest import DATA

Tables = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Decisions:
    """What a plan decides: production and setups, shipments, overtime used."""

    production: pd.DataFrame  # product, line, period, quantity, setup (bool)
    shipments: pd.DataFrame  # entry, period, quantity
    overtime: pd.DataFrame  # line, period, overtime_hours


def _decisions(p: Plan) -> Decisions:
    return Decisions(
        p.production[["product", "line", "period", "quantity", "setup"]].copy(),
        p.shipments[["entry", "period", "quantity"]].copy(),
        p.lines[["line", "period", "overtime_hours"]].copy(),
    )


def _hours(ds: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regular and overtime hours, lines x periods (calendar over the line's values)."""
    periods = list(ds.periods["period"])
    lines = ds.lines.set_index("line")
    H = pd.DataFrame({t: lines["hours"] for t in periods}, dtype=float)
    OT = pd.DataFrame({t: lines["overtime_hours"] for t in periods}, dtype=float)
    for row in ds.line_calendar.itertuples():
        H.loc[row.line, row.period] = row.hours
        if not pd.isna(row.overtime_hours):
            OT.loc[row.line, row.period] = row.overtime_hours
    return H, OT


def _wide(
    frame: pd.DataFrame, value: str, index: str | list[str], rows: pd.Index, periods: list[str]
) -> pd.DataFrame:
    """``frame[value]`` summed by ``index`` (rows ``rows``) and period (columns)."""
    return (
        frame.pivot_table(value, index, "period", aggfunc="sum")
        .reindex(index=rows, columns=periods)
        .fillna(0.0)
    )


def _chain(start: pd.Series, inflow: pd.DataFrame, outflow: pd.DataFrame) -> pd.DataFrame:
    closing = (inflow - outflow).cumsum(axis=1).add(start, axis=0)
    return closing


def _long(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    out = frame.stack()
    out.index.names = [key, "period"]
    return out.rename(value)


def _rebuild(ds: Dataset, dec: Decisions, summary: dict[str, Any]) -> tuple[Tables, dict[str, Any]]:
    """Every table and figure of the plan made of ``dec`` (DATASET.md "Output")."""
    periods = list(ds.periods["period"])
    due_pos = {t: i for i, t in enumerate(periods)}
    s = ds.settings
    rt = ds.routings.set_index(["product", "line"])
    ent = demand_entries(ds).set_index("entry")
    products = ds.products.set_index("product")

    prod = dec.production.copy()
    prod["quantity"] = prod["quantity"].astype(float)
    prod["setup"] = prod["setup"].astype(bool)
    key = pd.MultiIndex.from_frame(prod[["product", "line"]])
    routing = rt.reindex(key)
    prod["hours"] = prod["quantity"].to_numpy() / routing["rate"].fillna(1.0).to_numpy() + (
        routing["setup_hours"].fillna(0.0).to_numpy() * prod["setup"].to_numpy()
    )
    produced = _wide(prod, "quantity", "product", products.index, periods)

    ship = dec.shipments.copy()
    ship["quantity"] = ship["quantity"].astype(float)
    ship["product"] = ent["product"].reindex(ship["entry"]).to_numpy()
    ship["late_by"] = (
        ship["period"].map(due_pos) - ent["due"].reindex(ship["entry"]).map(due_pos).to_numpy()
    )
    shipped = _wide(ship, "quantity", "product", products.index, periods)
    closing = _chain(products["initial_inventory"], produced, shipped)
    opening = closing.shift(1, axis=1).fillna(0.0)
    opening[periods[0]] = products["initial_inventory"]
    ss = pd.DataFrame({t: products["safety_stock"] for t in periods})
    below = (ss - closing).clip(lower=0.0)
    inventory = pd.concat(
        [
            _long(opening, "product", "opening"),
            _long(produced, "product", "produced"),
            _long(shipped, "product", "shipped"),
            _long(closing, "product", "closing"),
            _long(ss, "product", "safety_stock"),
            _long(below, "product", "below_safety_stock"),
        ],
        axis=1,
    ).reset_index()

    mats = ds.materials.set_index("material")
    use = ds.bom.merge(produced.reset_index().melt("product", var_name="period"), on="product")
    use["consumed"] = use["quantity_per_unit"] * use["value"]
    consumed = _wide(use, "consumed", "material", mats.index, periods)
    received = (
        _wide(ds.receipts, "quantity", "material", mats.index, periods)
        if len(ds.receipts)
        else consumed * 0.0
    )
    z_close = _chain(mats["initial_inventory"], received, consumed)
    z_open = z_close.shift(1, axis=1).fillna(0.0)
    if len(mats):
        z_open[periods[0]] = mats["initial_inventory"]
    materials = pd.concat(
        [
            _long(z_open, "material", "opening"),
            _long(received, "material", "received"),
            _long(consumed, "material", "consumed"),
            _long(z_close, "material", "closing"),
        ],
        axis=1,
    ).reset_index()

    H, OT = _hours(ds)
    used = _wide(prod, "hours", "line", H.index, periods)
    overtime = _wide(dec.overtime, "overtime_hours", "line", H.index, periods)
    lines = pd.concat(
        [
            _long(H, "line", "available_hours"),
            _long(overtime, "line", "overtime_hours"),
            _long(used, "line", "used_hours"),
            _long((used / H).where(H > 0), "line", "utilization"),
        ],
        axis=1,
    ).reset_index()

    service = ent.reset_index()
    by_entry = ship.groupby("entry")
    on_time = ship[ship["late_by"] == 0].groupby("entry")["quantity"].sum()
    late = ship[ship["late_by"] > 0].groupby("entry")["quantity"].sum()
    service["on_time"] = on_time.reindex(service["entry"]).fillna(0.0).to_numpy()
    service["late"] = late.reindex(service["entry"]).fillna(0.0).to_numpy()
    service["unmet"] = service["quantity"].to_numpy() - (
        by_entry["quantity"].sum().reindex(service["entry"]).fillna(0.0).to_numpy()
    )

    # the objective, term by term (MODEL.md "Objective")
    prod_r = prod.join(
        routing.reset_index(drop=True).set_index(prod.index)[["run_cost", "setup_cost"]]
    )
    weighted = summary.get("mode", s.priority.mode) == "weighted"
    top = int(service["priority"].max())
    weight = s.priority.tier_weight_base ** (top - service["priority"]) if weighted else 1.0
    c_short = products["shortage_cost"].reindex(service["product"]).to_numpy()
    c_late = products["lateness_cost"].reindex(ship["product"]).to_numpy()
    ot_cost = ds.lines.set_index("line")["overtime_cost"]
    prev = _wide(ds.previous_plan, "quantity", ["product", "line"], rt.index, periods)
    x = _wide(prod, "quantity", ["product", "line"], rt.index, periods)
    F = min(s.stability.frozen_periods, len(periods))
    stability = s.stability.frozen_shortfall_cost * float(
        (prev.iloc[:, :F] - x.iloc[:, :F]).clip(lower=0.0).to_numpy().sum()
    ) + s.stability.change_cost * float((x.iloc[:, F:] - prev.iloc[:, F:]).abs().to_numpy().sum())
    run = float((prod_r["run_cost"].fillna(0.0) * prod_r["quantity"]).sum())
    setup = float((prod_r["setup_cost"].fillna(0.0) * prod_r["setup"]).sum())
    ot = float(overtime.mul(ot_cost, axis=0).to_numpy().sum())
    terms = {
        "shortage": float((c_short * weight * service["unmet"]).sum()),
        "lateness": float((c_late * ship["late_by"] * ship["quantity"]).sum()),
        "holding": float(closing.mul(products["holding_cost"], axis=0).to_numpy().sum()),
        "safety_stock": float(below.mul(products["safety_stock_cost"], axis=0).to_numpy().sum()),
        "material_holding": float(z_close.mul(mats["holding_cost"], axis=0).to_numpy().sum()),
        "production": run + setup + ot,
        "stability": stability,
        "run": run,
        "setup": setup,
        "overtime": ot,
    }
    objective = sum(v for k, v in terms.items() if k not in ("run", "setup", "overtime"))
    demand = service.groupby("priority")["quantity"].sum()
    served = (service["quantity"] - service["unmet"]).groupby(service["priority"]).sum()
    timely = service.groupby("priority")["on_time"].sum()
    fill = {
        "overall": served.sum() / demand.sum(),
        **{str(k): served[k] / demand[k] for k in demand.index},
    }
    ontime = {
        "overall": timely.sum() / demand.sum(),
        **{str(k): timely[k] / demand[k] for k in demand.index},
    }

    prod["setup"] = prod["setup"].map({True: "true", False: "false"})
    tables = {
        "production": prod[["product", "line", "period", "quantity", "hours", "setup"]],
        "inventory": inventory,
        "service": service[
            ["entry", "kind", "order", "customer", "product", "priority", "due", "quantity"]
            + ["on_time", "late", "unmet"]
        ],
        "shipments": dec.shipments,
        "lines": lines,
        "materials": materials,
    }
    bound = summary.get("bound")
    new = {
        **summary,
        "objective": objective,
        "objective_terms": terms,
        "fill_rate": {k: float(v) for k, v in fill.items()},
        "on_time_rate": {k: float(v) for k, v in ontime.items()},
        "bound": None if bound is None else min(bound, objective),
        "gap": None if bound is None else (objective - min(bound, objective)) / max(1.0, objective),
        "stages": [],
    }
    return {k: v.reset_index(drop=True) for k, v in tables.items()}, new


# --------------------------------------------------------------------------- the plans


def _generated(folder: Path) -> Dataset:
    generate("s", 3, folder, setups=True)
    ds = load_dataset(folder)
    return ds.replace(settings=ds.settings.with_overrides(solve__time_limit_s=5.0))


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Dataset, Plan]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        datasets = {
            "tiny": load_dataset(DATA / "tiny"),
            "bodywash": load_dataset(DATA / "bodywash"),
            "s3": _generated(tmp_path_factory.mktemp("s3") / "ds"),
        }
        return {name: (ds, plan(ds, verify=False)) for name, ds in datasets.items()}


# --------------------------------------------------------------------------- mutations


class NotApplicable(Exception):
    """The plan has nothing this mutation can change (reported as a skip)."""


Mutation = Callable[[Dataset, Decisions, Tables], tuple[Dataset, Decisions, str]]
"""``(dataset, decisions, soe's tables) -> (dataset, decisions, expected message part)``."""


def _setup_rows(ds: Dataset, dec: Decisions) -> pd.DataFrame:
    """Production rows of routings with a setup variable, with the routing's data."""
    rt = ds.routings
    need = rt[(rt["setup_hours"] > 0) | (rt["setup_cost"] > 0) | (rt["min_lot"] > 0)]
    rows = dec.production.reset_index().merge(need, on=["product", "line"])
    return rows.set_index("index")


def _with(dec: Decisions, **frames: pd.DataFrame) -> Decisions:
    return replace(dec, **frames)


def _no_routing(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    """The largest lot moved to a line the product has no routing on (a new line if need be)."""
    prod = dec.production.copy()
    i = prod["quantity"].idxmax()
    product = prod.loc[i, "product"]
    routed = set(ds.routings.loc[ds.routings["product"] == product, "line"])
    others = [line for line in ds.lines["line"] if line not in routed]
    if not others:
        ds = ds.replace(lines=pd.concat([ds.lines, ds.lines.iloc[[0]].assign(line="LX")]))
        others = ["LX"]
    prod.loc[i, "line"] = others[0]
    return ds, _with(dec, production=prod), f"product {product} is made on line {others[0]}"


def _overtime_cut(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    """0.01 h less overtime than the hours used need (or none where it is needed)."""
    lines = t["lines"]
    need = lines["used_hours"] - lines["available_hours"]
    j = need.idxmax()
    if need[j] <= 0.02:
        raise NotApplicable("no line works overtime")
    ot = dec.overtime.copy()
    ot.loc[j, "overtime_hours"] = need[j] - 0.01
    line, period = lines.loc[j, "line"], lines.loc[j, "period"]
    return ds, _with(dec, overtime=ot), f"line {line}, period {period}: "


def _more_production(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    """The busiest line-period made 0.01 h more than its hours and overtime allow."""
    lines = t["lines"]
    slack = lines["available_hours"] + lines["overtime_hours"] - lines["used_hours"]
    j = slack.idxmin()
    line, period = lines.loc[j, "line"], lines.loc[j, "period"]
    prod = dec.production.copy()
    on = prod.index[(prod["line"] == line) & (prod["period"] == period)]
    if not len(on):
        raise NotApplicable("the busiest line makes nothing")
    i = on[0]
    rate = ds.routings.set_index(["product", "line"]).loc[(prod.loc[i, "product"], line), "rate"]
    prod.loc[i, "quantity"] += (slack[j] + 0.01) * rate
    return ds, _with(dec, production=prod), f"line {line}, period {period}: "


def _setup_dropped(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    rows = _setup_rows(ds, dec)
    rows = rows[rows["quantity"] > 0]
    if not len(rows):
        raise NotApplicable("no routing with a setup produces")
    i = rows.index[0]
    prod = dec.production.copy()
    prod.loc[i, "setup"] = False
    r = prod.loc[i]
    return (
        ds,
        _with(dec, production=prod),
        f"product {r['product']} on line {r['line']}, period {r['period']}: "
        f"{r['quantity']:.10g} produced without a setup",
    )


def _below_min_lot(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    """A setup routing's lot cut to half a unit below its minimum."""
    rows = _setup_rows(ds, dec)
    rows = rows[(rows["min_lot"] > 1) & (rows["quantity"] > 0)]
    if not len(rows):
        raise NotApplicable("no minimum lot")
    i = rows.index[0]
    m = rows.loc[i, "min_lot"]
    prod = dec.production.copy()
    prod.loc[i, "quantity"] = m - 0.5
    return ds, _with(dec, production=prod), f"{m - 0.5:.10g} produced, below the minimum lot"


def _idle_setup(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    """A setup with nothing made on a routing with a minimum lot."""
    rt = ds.routings[ds.routings["min_lot"] > 0]
    if not len(rt):
        raise NotApplicable("no minimum lot")
    r = rt.iloc[0]
    made = dec.production[
        (dec.production["product"] == r["product"]) & (dec.production["line"] == r["line"])
    ]
    free = [p for p in ds.periods["period"] if p not in set(made["period"])]
    if not free:
        raise NotApplicable("the routing produces in every period")
    row = pd.DataFrame([[r["product"], r["line"], free[0], 0.0, True]], columns=made.columns)
    prod = pd.concat([dec.production, row], ignore_index=True)
    return ds, _with(dec, production=prod), "0 produced, below the minimum lot"


def _shipment_moved(ds: Dataset, dec: Decisions, by: int, expect: str) -> tuple[Decisions, str]:
    periods = list(ds.periods["period"])
    pos = {p: i for i, p in enumerate(periods)}
    ship = dec.shipments.copy()
    moved = ship["period"].map(pos) + by
    ok = ship.index[(moved >= 0) & (moved < len(periods)) & (ship["quantity"] > 0)]
    if not len(ok):
        raise NotApplicable("no shipment can move")
    i = ok[0]
    ship.loc[i, "period"] = periods[moved[i]]
    return _with(dec, shipments=ship), f"entry {ship.loc[i, 'entry']} " if expect else ""


def _shipped_early(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    periods = list(ds.periods["period"])
    ship = dec.shipments.copy()
    ok = ship.index[(ship["period"] != periods[0]) & (ship["quantity"] > 0)]
    if not len(ok):
        raise NotApplicable("every shipment is in the first period")
    i = ok[-1]
    ship.loc[i, "period"] = periods[periods.index(ship.loc[i, "period"]) - 1]
    return ds, _with(dec, shipments=ship), f"entry {ship.loc[i, 'entry']} " and "before its due"


def _shipped_too_late(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    """A shipment one period past the entry's window (max_lateness)."""
    periods = list(ds.periods["period"])
    L = ds.settings.demand.max_lateness
    svc = t["service"].set_index("entry")
    ship = dec.shipments.copy()
    after = ship["entry"].map(svc["due"]).map(periods.index) + L + 1
    ok = ship.index[(after < len(periods)) & (ship["quantity"] > 0)]
    if not len(ok):
        raise NotApplicable("no entry has a period past its window")
    i = ok[0]
    ship.loc[i, "period"] = periods[after[i]]
    words = "after its due period" if L == 0 else f"(max_lateness {L})"
    return ds, _with(dec, shipments=ship), words


def _over_demand(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    """Half a unit more than demanded shipped to an entry served in full."""
    svc = t["service"]
    full = svc[(svc["unmet"] == 0) & (svc["quantity"] > 0)]
    if not len(full):
        raise NotApplicable("no entry is served in full")
    entry = full["entry"].iloc[0]
    ship = dec.shipments.copy()
    i = ship.index[ship["entry"] == entry][-1]
    ship.loc[i, "quantity"] += 0.5
    q = full["quantity"].iloc[0]
    return ds, _with(dec, shipments=ship), f"entry {entry} (product "  # + shipped of demanded
    f"{full['product'].iloc[0]}): {q + 0.5:.10g} shipped of {q:.10g} demanded"


def _stock_overdrawn(last: bool) -> Mutation:
    """An entry short of stock (the first or the last) shipped half a unit more than its
    product has then."""

    def mutate(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
        return _overdraw(ds, dec, t, last)

    return mutate


def _overdraw(ds: Dataset, dec: Decisions, t: Tables, last: bool) -> tuple[Dataset, Decisions, str]:
    svc, inv = t["service"], t["inventory"]
    short = svc[svc["unmet"] >= 1]
    for row in (short.iloc[::-1] if last else short).itertuples():
        stock = inv[inv["product"] == row.product].set_index("period")["closing"]
        periods = list(stock.index)
        later = stock.iloc[periods.index(row.due) :]
        extra = later.min() + 0.5
        if extra <= row.unmet:
            ship = (
                pd.concat(
                    [
                        dec.shipments,
                        pd.DataFrame(
                            [[row.entry, row.due, extra]], columns=["entry", "period", "quantity"]
                        ),
                    ],
                    ignore_index=True,
                )
                .groupby(["entry", "period"], as_index=False, sort=False)["quantity"]
                .sum()
            )
            return (
                ds,
                _with(dec, shipments=ship),
                f"product {row.product}, period {later.idxmin()}: ",
            )
    raise NotApplicable("no entry is short")


def _material_short(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    """The dataset's initial stock of the tightest material half a unit below what the plan uses."""
    mat = t["materials"]
    if not len(mat):
        raise NotApplicable("no materials")
    low = mat.groupby("material")["closing"].min()
    k = low.idxmin()
    z0 = ds.materials.set_index("material")["initial_inventory"]
    if low[k] + 0.5 > z0[k]:
        raise NotApplicable("the tightest material has no initial stock to take")
    first = mat[(mat["material"] == k) & (mat["closing"] == low[k])]["period"].iloc[0]
    # the earliest period at the lowest point: a later one left as low is no new violation
    cut = ds.materials.assign(
        initial_inventory=np.where(
            ds.materials["material"] == k, z0[k] - low[k] - 0.5, ds.materials["initial_inventory"]
        )
    )
    return ds.replace(materials=cut), dec, f"material {k}, period {first}: production consumes"


def _above_max(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    """The dataset's storage cap of the product with the most stock half a unit below it."""
    inv = t["inventory"]
    peak = inv.groupby("product")["closing"].max()
    products = ds.products.set_index("product")
    room = peak[peak - 0.5 >= products["initial_inventory"].reindex(peak.index)]
    if not len(room):
        raise NotApplicable("no stock above the initial inventory")
    p = room.index[-1]
    cap = room[p] - 0.5
    capped = ds.products.assign(
        max_inventory=np.where(ds.products["product"] == p, cap, ds.products["max_inventory"])
    )
    return ds.replace(products=capped), dec, f"above the maximum of {cap:.10g}"


def _overtime_beyond(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    """Half an hour more overtime than the line has."""
    H, OT = _hours(ds)
    ot = dec.overtime.copy()
    limit = np.array([OT.loc[r.line, r.period] for r in ot.itertuples()])
    i = ot.index[int(np.argmax(limit))]
    ot.loc[i, "overtime_hours"] = limit.max() + 0.5
    return (
        ds,
        _with(dec, overtime=ot),
        (
            f"line {ot.loc[i, 'line']}, period {ot.loc[i, 'period']}: {limit.max() + 0.5:.10g} h "
            f"overtime used of {limit.max():.10g} h available"
        ),
    )


def _frozen(ds: Dataset, dec: Decisions, slack: float) -> Dataset:
    """The plan's first-period production as last cycle's plan, frozen, ``slack`` below it
    on the largest lot."""
    first = ds.periods["period"].iloc[0]
    prev = dec.production[dec.production["period"] == first][
        ["product", "line", "period", "quantity"]
    ]
    prev = prev.copy().reset_index(drop=True)
    if not len(prev):
        raise NotApplicable("nothing made in the first period")
    prev.loc[prev["quantity"].idxmax(), "quantity"] -= slack
    settings = ds.settings.with_overrides(
        stability__frozen_periods=1, stability__frozen_shortfall_cost=2.0
    )
    return ds.replace(previous_plan=prev, settings=settings)


def _fence_broken(ds: Dataset, dec: Decisions, t: Tables) -> tuple[Dataset, Decisions, str]:
    return _frozen(ds, dec, 0.5), dec, "inside the frozen fence (the first period)"


MUTATIONS: dict[str, Mutation] = {
    "no routing": _no_routing,
    "overtime cut": _overtime_cut,
    "more production": _more_production,
    "setup dropped": _setup_dropped,
    "below min lot": _below_min_lot,
    "idle setup": _idle_setup,
    "shipped early": _shipped_early,
    "shipped too late": _shipped_too_late,
    "over demand": _over_demand,
    "stock overdrawn": _stock_overdrawn(last=False),
    "stock overdrawn late": _stock_overdrawn(last=True),
    "above max inventory": _above_max,
    "material short": _material_short,
    "overtime beyond": _overtime_beyond,
    "frozen fence": _fence_broken,
}


Edit = Callable[[Tables, dict[str, Any]], str]
"""Changes a plan's tables or summary in place; returns the expected message part."""


def _term_off(name: str) -> Edit:
    def edit(t: Tables, s: dict[str, Any]) -> str:
        s["objective_terms"][name] += 1e-5 * max(1.0, s["objective"]) + 0.5
        return f"summary objective term {name} is"

    return edit


def _objective_off(t: Tables, s: dict[str, Any]) -> str:
    s["objective"] += 1e-5 * max(1.0, s["objective"]) + 0.5
    return "summary objective is"


def _bound_above(t: Tables, s: dict[str, Any]) -> str:
    s["bound"], s["gap"] = s["objective"] * 1.01 + 1, 0.0
    return "is above the plan's objective"


def _gap_off(t: Tables, s: dict[str, Any]) -> str:
    s["bound"] = s["objective"] * 0.9 - 1
    return "summary gap is"


def _drop_row(name: str) -> Edit:
    def edit(t: Tables, s: dict[str, Any]) -> str:
        t[name] = t[name].iloc[1:]
        return f"{name}.csv has no row for"

    return edit


def _repeat_row(name: str) -> Edit:
    def edit(t: Tables, s: dict[str, Any]) -> str:
        t[name] = pd.concat([t[name], t[name].iloc[[0]]], ignore_index=True)
        return f"{name}.csv, row {len(t[name]) + 1}: a second row for"

    return edit


def _cell(name: str, column: str, value: Any, expect: str) -> Edit:
    def edit(t: Tables, s: dict[str, Any]) -> str:
        frame = t[name] = t[name].astype({column: object})
        frame.loc[0, column] = value
        return f"{name}.csv, row 2{expect}"

    return edit


def _flow_off(name: str, column: str) -> Edit:
    """Half a unit more in a period's flow, in the last period that has one: a cell
    judged against its own size, not against the stock chain before it."""

    def edit(t: Tables, s: dict[str, Any]) -> str:
        frame = t[name]
        i = frame.index[frame[column] > 0][-1]
        frame.loc[i, column] += 0.5
        return f"{name}.csv says {column} {frame.loc[i, column]:.10g}, expected"

    return edit


def _gap_without_bound(t: Tables, s: dict[str, Any]) -> str:
    s["bound"], s["gap"] = None, 0.01
    return "summary gap is 0.01 without a bound"


EDITS: dict[str, Edit] = {
    "produced cell": _flow_off("inventory", "produced"),
    "shipped cell": _flow_off("inventory", "shipped"),
    "consumed cell": _flow_off("materials", "consumed"),
    "gap without bound": _gap_without_bound,
    **{f"term {n}": _term_off(n) for n in ("shortage", "holding", "production", "stability")},
    "objective": _objective_off,
    "bound above objective": _bound_above,
    "gap": _gap_off,
    **{f"{n} row dropped": _drop_row(n) for n in ("inventory", "lines", "materials")},
    **{f"{n} row repeated": _repeat_row(n) for n in ("production", "shipments", "service")},
    "nan quantity": _cell("production", "quantity", np.nan, ", column quantity: is blank"),
    "text closing": _cell("inventory", "closing", "12,5", ", column closing: '12,5' is not a"),
    "infinite hours": _cell("lines", "overtime_hours", "inf", ", column overtime_hours: 'inf'"),
    "unknown product": _cell("inventory", "product", "NOPE", ": unknown product 'NOPE'"),
    "unknown entry": _cell("shipments", "entry", "O-404", ": unknown demand entry 'O-404'"),
    "unknown period": _cell("production", "period", "W99", ": unknown period 'W99'"),
}


# --------------------------------------------------------------------------- tests

PLANS = ("tiny", "bodywash", "s3")

NOT_IN_TINY = {"overtime cut", "setup dropped", "below min lot", "idle setup"}
NOT_IN_TINY |= {"material short", "above max inventory", "materials row dropped", "consumed cell"}
"""data/tiny has one line without overtime or setups, and no materials."""


def _grid(names: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p, n) for p in PLANS for n in names if not (p == "tiny" and n in NOT_IN_TINY)]


def _copy(p: Plan) -> tuple[Tables, dict[str, Any]]:
    return {k: v.copy() for k, v in p.tables().items()}, p.summary.model_dump()


@pytest.mark.parametrize("name", PLANS)
def test_plans_and_their_rebuilds_verify(
    solved: dict[str, tuple[Dataset, Plan]], name: str
) -> None:
    ds, p = solved[name]
    assert verify_tables(ds, *_copy(p)) == []
    assert verify_tables(ds, *_rebuild(ds, _decisions(p), p.summary.model_dump())) == []


@pytest.mark.parametrize(("name", "mutation"), _grid(MUTATIONS))
def test_one_broken_constraint_is_reported(
    solved: dict[str, tuple[Dataset, Plan]], name: str, mutation: str
) -> None:
    """Every table and figure consistent with the changed decisions: only the broken
    constraint's check can see it."""
    ds, p = solved[name]
    ds, dec, expected = MUTATIONS[mutation](ds, _decisions(p), p.tables())
    violations = verify_tables(ds, *_rebuild(ds, dec, p.summary.model_dump()))
    assert any(expected in v for v in violations), violations


@pytest.mark.parametrize(("name", "edit"), _grid(EDITS))
def test_edited_plan_is_reported(
    solved: dict[str, tuple[Dataset, Plan]], name: str, edit: str
) -> None:
    ds, p = solved[name]
    tables, summary = _copy(p)
    expected = EDITS[edit](tables, summary)
    violations = verify_tables(ds, tables, summary)
    assert any(expected in v for v in violations), violations


@pytest.mark.parametrize("name", PLANS)
def test_solver_noise_is_no_violation(solved: dict[str, tuple[Dataset, Plan]], name: str) -> None:
    """Every number of every table and of the summary off by up to 1e-8 relative (and
    1e-9 absolute), as another solver's round-off would leave them: no violation."""
    ds, p = solved[name]
    tables, summary = _copy(p)
    rng = np.random.default_rng(7)
    for frame in tables.values():
        for col in frame.columns:
            if pd.api.types.is_float_dtype(frame[col]):
                noise = rng.uniform(-1, 1, len(frame))
                frame[col] = frame[col] * (1 + 1e-8 * noise) + 1e-9 * np.abs(noise)
    summary["objective"] *= 1 + 1e-8
    summary["objective_terms"] = {k: v * (1 - 1e-8) for k, v in summary["objective_terms"].items()}
    assert verify_tables(ds, tables, summary) == []


@pytest.mark.parametrize("name", PLANS)
def test_stability_terms_are_recomputed(solved: dict[str, tuple[Dataset, Plan]], name: str) -> None:
    """Checked against last cycle's plan (its first period frozen, half a unit below the
    largest lot there: `_frozen`) with a change cost, the plan's rebuilt figures hold, and
    a stability term above what the tables give is reported."""
    ds, p = solved[name]
    dec = _decisions(p)
    frozen = _frozen(ds, dec, -0.5)  # half a unit *above*: a shortfall of 0.5, no violation
    frozen = frozen.replace(settings=frozen.settings.with_overrides(stability__change_cost=0.25))
    tables, summary = _rebuild(frozen, dec, p.summary.model_dump())
    assert summary["objective_terms"]["stability"] > 0
    assert verify_tables(frozen, tables, summary) == []
    more = 1e-5 * summary["objective"] + 1.0  # beyond the objective's 1e-6 relative
    summary["objective_terms"]["stability"] += more
    summary["objective"] += more
    assert any(
        "summary objective term stability is" in v for v in verify_tables(frozen, tables, summary)
    )
