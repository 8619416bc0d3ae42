"""Why short: the binding lines and materials that stop each short entry being served.

For a demand entry of product ``p`` due in ``t`` that the plan leaves unmet (or ships
late), one more unit could have been made on any routing ``(p, l)`` in any period
``u`` up to the last one it may ship in (``t + max_lateness``; ``t`` for the late
part). Each such *slot* is blocked by the shadow prices of the resources it would
use (:mod:`optimizer.analysis.duals`): the line's hour (``value / rate`` per unit),
each material of the bill (``quantity_per_unit * value``), the absence of a planned
setup, the frozen fence, a full store (``max_inventory``). At the optimum of the
fixed-setup LP, every slot's blocking prices plus its running cost are at least what
the unit is worth, so the resources with a positive price across the slots are the
causes. A cause's share of the entry's shortage is its share of the summed prices;
an entry whose slots are blocked by nothing is short because serving it costs more
than its shortage cost (``cost``).

When the duals are unavailable, a resource counts as blocking where the plan uses it
up (line at capacity with its overtime, material consumed down to zero).

Rows of ``shortage_causes.csv``: ``entry``, ``period`` (its due period),
``quantity`` (its short quantity times the cause's share), ``cause_kind`` (``line``,
``material``, ``setup``, ``frozen``, ``storage``, ``cost``, ``no_routing``),
``resource``, ``cause_period`` (when the resource binds: the run-out period of a
material, the binding period of a line nearest the due period) and an
``explanation`` worded for a planner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from formulations.allocation import AllocationData
from optimizer.analysis._util import (
    TOL,
    bom_of,
    extra_column,
    grid,
    money,
    num,
    period_ranges,
    routings_of,
)
from optimizer.analysis.duals import ShadowPrices
from optimizer.dataset import Dataset
from optimizer.results import Plan

COLUMNS = [
    "entry",
    "period",
    "quantity",
    "cause_kind",
    "resource",
    "cause_period",
    "explanation",
]
"""The columns of ``shortage_causes.csv``."""

MIN_SHARE = 0.01
"""Causes with a smaller share of an entry's blocking prices are left out."""

ORIGINAL_DATE_COLUMNS = (
    "original_period",
    "original_date",
    "requested_period",
    "requested_date",
    "promised_period",
    "promised_date",
    "planned_period",
    "confirmed_period",
)
"""Optional receipts.csv columns holding the date a receipt was first due."""


@dataclass
class _Cause:
    kind: str
    index: int
    weight: float
    periods: set[int] = field(default_factory=set)


class _Prices:
    """Blocking prices per resource, from the duals or, without them, from the plan."""

    def __init__(self, shadow: ShadowPrices, plan: Plan) -> None:
        d = shadow.data
        per = d.period_ids
        self.line_used = grid(plan.lines, "line", d.line_ids, per, "used_hours")
        self.overtime = grid(plan.lines, "line", d.line_ids, per, "overtime_hours")
        if len(d.material_ids):
            self.closing = grid(plan.materials, "material", d.material_ids, per, "closing")
            self.consumed = grid(plan.materials, "material", d.material_ids, per, "consumed")
        else:
            self.closing = self.consumed = np.zeros((0, d.T))
        if shadow.available:
            self.capacity = shadow.capacity
            self.material = shadow.material
            self.setup = shadow.setup_block
            self.fence = shadow.fence_block
            self.storage = shadow.storage_block
        else:
            full = self.line_used >= (d.H + d.OT) * (1 - 1e-6) - TOL
            self.capacity = full.astype(np.float64)
            out = self.closing <= TOL * np.maximum(1.0, self.consumed)
            # a unit received before the run-out would have helped too
            self.material = np.flip(np.maximum.accumulate(np.flip(out, 1), 1), 1).astype(float)
            self.setup = np.zeros((len(d.rp), d.T))
            self.fence = np.zeros((len(d.rp), d.T))
            self.storage = np.zeros((len(d.product_ids), d.T))


def shortage_causes(dataset: Dataset, plan: Plan, shadow: ShadowPrices) -> pd.DataFrame:
    """The causes of every short entry of a plan.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS` plus ``product``, ``customer``, ``priority``, ``share``,
        ``unmet`` and ``late`` (the quantity split), ``unit_value`` (what one more
        unit served is worth: the entry's dual) and ``binding_periods`` (the periods
        the cause binds in, for the reports). Ordered by priority, due period, entry,
        then the largest share first.
    """
    d = shadow.data
    prices = _Prices(shadow, plan)
    words = _Words(dataset, shadow, prices)
    svc = plan.service.set_index("entry")
    ent = d.entries
    unmet = svc["unmet"].reindex(ent["entry"]).fillna(0.0).to_numpy(dtype=np.float64)
    late = svc["late"].reindex(ent["entry"]).fillna(0.0).to_numpy(dtype=np.float64)
    short = unmet + late
    # what one more unit served is worth: the entry's dual, else its shortage price
    unit_value = shadow.entry if shadow.available else d.c_short * d.weight
    routings = routings_of(d)
    bom = bom_of(d)
    cache: dict[tuple[int, int, int], list[_Cause]] = {}
    rows: list[dict[str, object]] = []
    for e in np.flatnonzero(short > TOL):
        p, t = int(d.ep[e]), int(d.et[e])
        last = t if unmet[e] <= TOL else min(d.T - 1, t + d.max_lateness)
        key = (p, t, last)
        if key not in cache:
            cache[key] = _causes(d, prices, routings.get(p), bom, p, t, last)
        for cause in cache[key]:
            share = cause.weight
            resource, cause_period, text = words.explain(cause, p, t, last)
            rows.append(
                {
                    "entry": ent["entry"].iat[e],
                    "period": d.period_ids[t],
                    "quantity": short[e] * share,
                    "cause_kind": cause.kind,
                    "resource": resource,
                    "cause_period": cause_period,
                    "explanation": text,
                    "product": d.product_ids[p],
                    "customer": ent["customer"].iat[e],
                    "priority": int(d.tier[e]),
                    "share": share,
                    "unmet": unmet[e] * share,
                    "late": late[e] * share,
                    "unit_value": unit_value[e],
                    "binding_periods": ";".join(d.period_ids[sorted(cause.periods)]),
                    "_t": t,
                    "_e": e,
                }
            )
    extra = [
        "product",
        "customer",
        "priority",
        "share",
        "unmet",
        "late",
        "unit_value",
        "binding_periods",
    ]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS + extra})
    out = pd.DataFrame(rows)
    out = out.sort_values(
        ["priority", "_t", "_e", "share"], ascending=[True, True, True, False], kind="stable"
    )
    return out.drop(columns=["_t", "_e"]).reset_index(drop=True)


def _causes(
    d: AllocationData,
    prices: _Prices,
    routings: np.ndarray | None,
    bom: dict[int, list[tuple[int, float]]],
    p: int,
    t: int,
    last: int,
) -> list[_Cause]:
    """Causes of one product's shortage due in ``t`` that may ship until ``last``."""
    if routings is None or len(routings) == 0:
        return [_Cause("no_routing", p, 1.0)]
    found: dict[tuple[str, int], _Cause] = {}
    window = slice(0, last + 1)
    tol = TOL

    def add(kind: str, index: int, values: np.ndarray) -> None:
        hit = np.flatnonzero(values > tol)
        if not len(hit):
            return
        cause = found.setdefault((kind, index), _Cause(kind, index, 0.0))
        cause.weight += float(values[hit].sum())
        cause.periods.update(int(u) for u in hit)

    for r in routings:
        r = int(r)
        line = int(d.rl[r])
        add("line", line, prices.capacity[line, window] / d.rate[r])
        for k, a in bom.get(r, []):
            add("material", k, a * prices.material[k, window])
        add("setup", r, prices.setup[r, window])
        add("frozen", r, prices.fence[r, window])
    # storage: a unit made in u < t waits in stock from u to t - 1
    store = prices.storage[p, :t]
    if (store > tol).any():
        waits = np.cumsum(store[::-1])[::-1][: last + 1]  # waits[u] = sum of store[u:t]
        found[("storage", p)] = _Cause(
            "storage",
            p,
            float(waits.sum()) * len(routings),
            {int(v) for v in np.flatnonzero(store > tol)},
        )
    total = sum(c.weight for c in found.values())
    if total <= tol:
        return [_Cause("cost", p, 1.0)]
    kept = [c for c in found.values() if c.weight / total >= MIN_SHARE]
    kept_total = sum(c.weight for c in kept)
    for c in kept:
        c.weight = c.weight / kept_total
    kept.sort(key=lambda c: -c.weight)
    return kept


class _Words:
    """Planner wording of causes: names, descriptions, receipts, calendar reasons."""

    def __init__(self, dataset: Dataset, shadow: ShadowPrices, prices: _Prices) -> None:
        self.d = shadow.data
        self.shadow = shadow
        self.prices = prices
        self.order = list(self.d.period_ids)
        self.pos = {p: i for i, p in enumerate(self.order)}
        mats = dataset.materials
        self.mat_desc = (
            dict(zip(mats["material"], mats["description"].fillna(""), strict=True))
            if "description" in mats.columns
            else {}
        )
        rc = dataset.receipts.copy()
        rc["_t"] = rc["period"].map(self.pos)
        rc = rc.sort_values(["material", "_t"], kind="stable")
        # a material's receipts in time order, looked up for each of its causes (on l,
        # filtering all receipts each time was most of the causes' time)
        self.receipts_of = dict(tuple(rc.groupby("material", sort=False)))
        self.original = extra_column(rc, ORIGINAL_DATE_COLUMNS)
        cal = dataset.line_calendar
        self.reason: dict[tuple[str, str], str] = {}
        if "reason" in cal.columns:
            for line, period, reason in zip(
                cal["line"], cal["period"], cal["reason"].fillna(""), strict=True
            ):
                if str(reason).strip():
                    self.reason[(line, period)] = str(reason).strip()
        prods = dataset.products.set_index("product")
        self.imax = prods["max_inventory"]
        self.c_short = prods["shortage_cost"]

    def explain(self, cause: _Cause, p: int, t: int, last: int) -> tuple[str, str, str]:
        """``(resource, cause_period, explanation)`` of a cause."""
        d = self.d
        per = d.period_ids
        product = str(d.product_ids[p])
        periods = sorted(cause.periods)
        if cause.kind == "no_routing":
            return product, per[t], f"{product} has no routing: it can only ship from stock"
        if cause.kind == "cost":
            return (
                product,
                per[t],
                f"no line or material stops it: making and holding {product} for it would cost"
                f" more than its shortage cost ({money(float(self.c_short[product]))} per unit)",
            )
        if cause.kind == "line":
            return self._line(cause.index, periods)
        if cause.kind == "material":
            return self._material(cause.index, periods)
        if cause.kind == "storage":
            cap = float(self.imax[product])
            return (
                product,
                per[periods[-1]],
                f"the store for {product} is full (max_inventory {num(cap)}) in "
                f"{period_ranges(per[periods], self.order)}: it cannot be built ahead",
            )
        line = str(d.line_ids[d.rl[cause.index]])
        weeks = period_ranges(per[periods], self.order)
        if cause.kind == "setup":
            s, c = float(d.setup_hours[cause.index]), float(d.setup_cost[cause.index])
            return (
                line,
                per[periods[-1]],
                f"no setup of {product} on line {line} is planned in {weeks}"
                f" (a setup takes {num(s)} h and costs {money(c)})",
            )
        return (
            line,
            per[periods[-1]],
            f"the frozen fence holds {product} on line {line} to the previous plan in {weeks}",
        )

    def _line(self, line: int, periods: list[int]) -> tuple[str, str, str]:
        d = self.d
        per = d.period_ids
        name = str(d.line_ids[line])
        down = [u for u in periods if d.H[line, u] + d.OT[line, u] <= TOL]
        full = [u for u in periods if u not in down]
        parts = []
        if full:
            ot = [u for u in full if d.OT[line, u] > 0]
            what = "at capacity, overtime included," if ot else "at capacity"
            parts.append(f"is {what} in {period_ranges(per[full], self.order)}")
        if down:
            reasons = sorted({self.reason.get((name, per[u]), "") for u in down} - {""})
            why = f" ({'; '.join(reasons)})" if reasons else ""
            parts.append(f"has no hours in {period_ranges(per[down], self.order)}{why}")
        best = max(periods, key=lambda u: (self.prices.capacity[line, u], u))
        text = f"line {name} " + " and ".join(parts)
        if self.shadow.available:
            text += (
                f"; one more hour in {per[best]} is worth"
                f" {money(float(self.shadow.capacity[line, best]))}"
            )
        return name, per[periods[-1]], text

    def _material(self, k: int, periods: list[int]) -> tuple[str, str, str]:
        d = self.d
        per = d.period_ids
        name = str(d.material_ids[k])
        desc = self.mat_desc.get(name, "")
        label = name if not desc else f"{name} ({desc})" if "(" not in desc else f"{name}, {desc},"
        closing = self.prices.closing[k]
        # the first week it runs out, from the first week it is priced on: a unit is
        # worth something in W03 when the stock it would join runs out in W04 (the
        # binding weeks alone missed that, and said "short in W03" with stock left)
        out = [
            u
            for u in range(periods[0], len(per))
            if closing[u] <= TOL * max(1.0, self.prices.consumed[k, u])
        ]
        when = out[0] if out else periods[-1]
        text = f"{label} runs out in {per[when]}" if out else f"{label} is scarce in {per[when]}"
        rc = self.receipts_of.get(name)
        if rc is not None:
            rc = rc[rc["_t"].to_numpy() > when]
        if rc is not None and len(rc):
            first = rc.iloc[0]
            po = str(first["po"]).strip()
            supplier = str(first["supplier"]).strip()
            what = "the next receipt"
            if po:
                what += f", PO {po}"
            if supplier:
                what += f" from {supplier}"
            text += f": {what} ({num(float(first['quantity']))}), arrives in {first['period']}"
            if self.original is not None:
                was = str(first[self.original]).strip()
                if was and was.lower() != "nan" and was != first["period"]:
                    text += f", moved from {was}"
        else:
            text += ": no receipt of it is due before the end of the horizon"
        if self.shadow.available:
            text += (
                f"; one more unit received by {per[when]} is worth"
                f" {money(float(self.shadow.material[k, when]))}"
            )
        return name, per[when], text
