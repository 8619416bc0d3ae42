"""Inventory builds and depletions against safety stock.

* A *build* is a run of periods in which a product's closing stock rises above its
  safety stock. It pre-builds for the first later period in which the stock is
  drawn down; the constraint it pre-builds for is a resource of the product that
  binds between the build's end and that drawdown: a line with no hours
  (maintenance, holidays), a line at capacity (the highest marginal value), or a
  material that runs short.
* A *depletion* is a run of periods with closing stock below safety stock: the
  plan draws the safety stock down, with the binding resources of the product at
  that time as the reason (or that it has no routing to make more). The text names
  the periods at the lowest point when they are not the whole run.

Either reason reads ``<kind> <name> <state> in <period>``, after "ahead of" in a
build and after the colon in a depletion: ``lines L1 and L2 with no hours in W51``
(every line of the product), ``line L2 with no hours in W51``, ``line L2 at
capacity (overtime only) in W51`` (no regular hours), ``line L2 at capacity in
W52``, ``material CAP-38 short in W51``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.analysis._util import TOL, bom_of, grid, num, period_ranges, routings_of
from optimizer.analysis.duals import ShadowPrices
from optimizer.dataset import Dataset
from optimizer.results import Plan

BUILD_COLUMNS = [
    "product",
    "family",
    "periods",
    "built",
    "peak",
    "safety_stock",
    "drawn_in",
    "for_kind",
    "for_resource",
    "for_period",
    "explanation",
]
DEPLETION_COLUMNS = [
    "product",
    "family",
    "periods",
    "lowest",
    "safety_stock",
    "shortfall",
    "explanation",
]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` of each run of ``True`` in a 1-D mask."""
    out: list[tuple[int, int]] = []
    start = None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        elif not m and start is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(mask) - 1))
    return out


class _Binding:
    """The binding resources of a product in a period, best first."""

    def __init__(self, shadow: ShadowPrices, plan: Plan) -> None:
        d = shadow.data
        self.d = d
        self.shadow = shadow
        used = grid(plan.lines, "line", d.line_ids, d.period_ids, "used_hours")
        self.full = used >= (d.H + d.OT) * (1 - 1e-6) - TOL
        if len(d.material_ids):
            closing = grid(plan.materials, "material", d.material_ids, d.period_ids, "closing")
        else:
            closing = np.zeros((0, d.T))
        self.out = closing <= TOL
        self.routings = routings_of(d)
        self.bom = bom_of(d)

    def find(self, p: int, periods: range) -> tuple[str, str, str, str] | None:
        """``(kind, resource, period, words)`` of the main binding resource, if any.

        A line with no hours at all for the product comes first; otherwise the
        resource whose marginal value per unit of the product is highest.
        """
        d = self.d
        routings = [int(r) for r in self.routings.get(p, [])]
        if not routings:
            return None
        lines = sorted({int(d.rl[r]) for r in routings})
        for u in periods:
            down = [str(d.line_ids[li]) for li in lines if d.H[li, u] + d.OT[li, u] <= TOL]
            if len(down) == len(lines):
                period = str(d.period_ids[u])
                words = f"{_lines(down)} with no hours in {period}"
                return "line", ", ".join(down), period, words
        best: tuple[float, str, str, str, str] | None = None
        priced = self.shadow.available
        for u in periods:
            for r in routings:
                li = int(d.rl[r])
                v = self.shadow.capacity[li, u] / d.rate[r] if priced else float(self.full[li, u])
                if v > TOL and (best is None or v > best[0]):
                    if d.H[li, u] + d.OT[li, u] <= TOL:
                        word = "with no hours"
                    elif d.H[li, u] <= TOL:
                        word = "at capacity (overtime only)"
                    else:
                        word = "at capacity"
                    best = (float(v), "line", str(d.line_ids[li]), str(d.period_ids[u]), word)
                for k, a in self.bom.get(r, []):
                    v = a * self.shadow.material[k, u] if priced else float(self.out[k, u])
                    if v > TOL and (best is None or v > best[0]):
                        name = str(d.material_ids[k])
                        best = (float(v), "material", name, str(d.period_ids[u]), "short")
        if best is None:
            return None
        _, kind, resource, period, word = best
        return kind, resource, period, f"{kind} {resource} {word} in {period}"


def _lines(names: list[str]) -> str:
    """``line L2``, ``lines L1 and L2``, ``lines L1, L2 and L3``."""
    if len(names) == 1:
        return f"line {names[0]}"
    return f"lines {', '.join(names[:-1])} and {names[-1]}"


def stock_moves(
    dataset: Dataset, plan: Plan, shadow: ShadowPrices
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Builds above and depletions below safety stock.

    Returns
    -------
    tuple of pandas.DataFrame
        Builds (:data:`BUILD_COLUMNS`) and depletions (:data:`DEPLETION_COLUMNS`).
    """
    d = shadow.data
    order = list(d.period_ids)
    T = d.T
    inv = plan.inventory
    closing = grid(inv, "product", d.product_ids, d.period_ids, "closing")
    opening = np.concatenate([d.I0[:, None], closing[:, :-1]], axis=1)
    family = dict(zip(dataset.products["product"], dataset.products["family"], strict=True))
    binding = _Binding(shadow, plan)
    builds: list[dict[str, object]] = []
    depletions: list[dict[str, object]] = []
    for p in range(len(d.product_ids)):
        ss = float(d.ss[p])
        name = str(d.product_ids[p])
        tol = TOL * max(1.0, ss)
        rising = (closing[p] > ss + tol) & (closing[p] > opening[p] + tol)
        for a, b in _runs(rising):
            peak = float(closing[p, b])
            built = peak - max(float(opening[p, a]), ss)
            drawn = [u for u in range(b + 1, T) if closing[p, u] < opening[p, u] - tol]
            found = binding.find(p, range(b + 1, drawn[0] + 1)) if drawn else None
            weeks = period_ranges(order[a : b + 1], order)
            text = f"{name} builds {num(built)} above safety stock in {weeks}"
            if drawn:
                text += f", drawn down from {order[drawn[0]]}"
            if found:
                text += f": ahead of {found[3]}"
            elif drawn:
                text += ": cheaper than making it later"
            builds.append(
                {
                    "product": name,
                    "family": family.get(name, ""),
                    "periods": weeks,
                    "built": built,
                    "peak": peak,
                    "safety_stock": ss,
                    "drawn_in": order[drawn[0]] if drawn else "",
                    "for_kind": found[0] if found else "",
                    "for_resource": found[1] if found else "",
                    "for_period": found[2] if found else "",
                    "explanation": text,
                }
            )
        if ss <= 0:
            continue
        below = closing[p] < ss - tol
        for a, b in _runs(below):
            low = float(closing[p, a : b + 1].min())
            found = binding.find(p, range(a, b + 1))
            weeks = period_ranges(order[a : b + 1], order)
            lowest = period_ranges(
                [order[u] for u in range(a, b + 1) if closing[p, u] <= low + tol], order
            )
            if lowest == weeks:
                text = f"{name} is drawn to {num(low)} (safety stock {num(ss)}) in {weeks}"
            else:
                text = (
                    f"{name} is below its safety stock of {num(ss)} in {weeks}, down to"
                    f" {num(low)} in {lowest}"
                )
            if found:
                text += f": {found[3]}"
            elif p not in binding.routings:
                text += ": it has no routing, so it can only ship from stock"
            else:
                text += ": cheaper than keeping the safety stock"
            depletions.append(
                {
                    "product": name,
                    "family": family.get(name, ""),
                    "periods": weeks,
                    "lowest": low,
                    "safety_stock": ss,
                    "shortfall": ss - low,
                    "explanation": text,
                }
            )
    b_frame = pd.DataFrame(builds, columns=BUILD_COLUMNS)
    d_frame = pd.DataFrame(depletions, columns=DEPLETION_COLUMNS)
    b_frame = b_frame.sort_values("built", ascending=False, kind="stable", ignore_index=True)
    d_frame = d_frame.sort_values("shortfall", ascending=False, kind="stable", ignore_index=True)
    return b_frame, d_frame
