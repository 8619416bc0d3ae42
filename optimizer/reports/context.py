"""What the S&OP reports show, as plain values ready for a template.

:func:`build_context` turns an :class:`~optimizer.analysis.Analysis` into a dict of
short lists of formatted rows (the five-minute view), with what each list leaves out
and where to find it all (``more``): the Markdown page, the HTML report and the
workbook's ``tradeoffs`` sheet all render the same context, so they always say the
same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimizer.analysis import Analysis
from optimizer.analysis._util import TOL, money, num, period_ranges
from optimizer.reports.text import customer_label
from optimizer.schema import OBJECTIVE_TERMS

TOP = 8
"""Rows shown per section (the tables in the plan folder hold them all)."""

TOP_STOCK = 5
"""Builds and depletions shown (the workbook's sheets hold them all)."""

NO_FILL = "not available: the plan's summary.json gives no fill rates"
"""What the reports say for a plan whose summary has none (a hand-written one)."""

WORKBOOK = "plan.xlsx"
"""The workbook whose sheets hold every row of every section."""


def pct(x: float | None) -> str:
    """``98.4%`` (``n/a`` for a missing rate)."""
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:.1%}"


def signed(x: float, unit: str = "", *, quantity: bool = False) -> str:
    """``+1,200`` / ``-3,400`` / ``+0.40`` (``0`` without a sign, for no more than
    :data:`~optimizer.analysis._util.TOL`); a value as :func:`money`, a ``quantity``
    as :func:`num` (so that a small one keeps its digits: ``+0.004``)."""
    if not np.isfinite(x):
        return "n/a"
    if abs(x) <= TOL:
        return f"0{unit}"
    return f"{'+' if x > 0 else '-'}{(num if quantity else money)(abs(x))}{unit}"


def build_context(analysis: Analysis) -> dict[str, Any]:
    """The report context of an analysis (see the module docstring)."""
    a = analysis
    s = a.summary
    order = list(a.periods)
    fill = [
        {
            "tier": "overall" if k == "overall" else f"tier {k}",
            "fill": pct(v),
            "on_time": pct(s.on_time_rate.get(k)),
        }
        for k, v in s.fill_rate.items()
    ]
    headline = {
        "dataset": a.dataset_name,
        "horizon": f"{order[0]} to {order[-1]} ({len(order)} periods)" if order else "",
        "status": s.status,
        "gap": "" if s.gap is None else pct(s.gap),
        "objective": money(s.objective) if s.objective is not None else "n/a",
        "solver": s.solver,
        "mode": s.mode,
        "fill": fill,
        "no_fill": NO_FILL,
        "terms": [
            {"term": k.replace("_", " "), "value": money(v)}
            for k, v in s.objective_terms.items()
            if k in OBJECTIVE_TERMS and abs(v) > 0.005
        ],
    }
    exceptions = _exceptions(a)
    causes = _causes(a, order)
    bottlenecks = _bottlenecks(a, order)
    return {
        "headline": headline,
        "exceptions": exceptions,
        "causes": causes[:TOP],
        "bottlenecks": bottlenecks[:TOP],
        "priorities": [
            {"tier": int(r.tier_cut), "text": str(r.explanation)}
            for r in a.priorities.head(TOP).itertuples(index=False)
        ],
        "builds": [str(t) for t in a.builds["explanation"].head(TOP_STOCK)],
        "depletions": [str(t) for t in a.depletions["explanation"].head(TOP_STOCK)],
        "more": {
            "exceptions": _left_out(len(a.exceptions), len(exceptions["rows"]), "exceptions"),
            "causes": _left_out(len(causes), TOP, "shortage_causes", what="cause"),
            "bottlenecks": _left_out(len(bottlenecks), TOP, "bottlenecks", what="resource"),
            "priorities": _left_out(len(a.priorities), TOP, "priority_decisions", csv=False),
            "builds": _left_out(len(a.builds), TOP_STOCK, "stock_builds", csv=False),
            "depletions": _left_out(len(a.depletions), TOP_STOCK, "stock_depletions", csv=False),
        },
        "counts": {
            "builds": len(a.builds),
            "depletions": len(a.depletions),
            "bottlenecks": len(a.bottlenecks),
            "causes": len(a.causes),
        },
        "options": _options(a),
        "families": [
            {
                "family": r.family,
                "products": int(r.products),
                "demand": num(r.demand),
                "fill": pct(r.fill_rate),
                "on_time": pct(r.on_time_rate),
                "late": num(r.late),
                "unmet": num(r.unmet),
                "unmet_top": num(r.unmet_top_tier),
                "below_ss": int(r.periods_below_safety_stock),
            }
            for r in a.families.itertuples(index=False)
        ],
        "notes": list(a.notes),
    }


def _left_out(
    total: int, shown: int, table: str, *, csv: bool = True, what: str = ""
) -> dict[str, Any]:
    """What a section of ``total`` rows showing at most ``shown`` leaves out.

    ``count`` rows (0 when none) of ``what`` (a noun when a row sums rows of the
    table, plural when ``count`` is), all of them in ``file`` (``table.csv`` in the
    plan folder, ``None`` when ``csv`` is false) and in the ``sheet`` of
    ``workbook``. The pages say "… and 3 more resources in ``bottlenecks.csv``", or
    "in the ``stock_builds`` sheet of ``plan.xlsx``" when no CSV holds them; the
    workbook names its sheet.
    """
    count = max(0, total - shown)
    return {
        "count": count,
        "what": f"{what}s" if what and count > 1 else what,
        "file": f"{table}.csv" if csv else None,
        "sheet": table,
        "workbook": WORKBOOK,
    }


def _exceptions(a: Analysis) -> dict[str, Any]:
    exc = a.exceptions
    now = (exc["kind"] == "out_of_stock_now").to_numpy()
    # short while the product is in stock: the plan keeps that stock for later
    held = (exc["in_stock"] > TOL).to_numpy()
    rows = [
        {
            "when": ("now" if r.kind == "out_of_stock_now" else "projected")
            + (f" ({num(r.in_stock)} in stock)" if r.in_stock > TOL else ""),
            "period": r.period,
            "priority": int(r.priority),
            "product": r.product,
            "customer": customer_label(r.customer, r.demand),
            "entry": r.entry,
            "unmet": num(r.unmet),
            "late": num(r.late),
            "value": money(r.value),
            "escalate": bool(r.escalate),
        }
        for r in exc.head(TOP + 4).itertuples(index=False)
    ]
    # the projected window: the periods after the first, as far as the plan goes
    horizon = max(0, min(a.horizon_periods, len(a.periods) - 1))
    n_now, n_projected = int((now & ~held).sum()), int((~now & ~held).sum())
    n_escalated = int(exc["escalate"].sum())
    sentence = ""
    ahead = "period" if horizon == 1 else f"{horizon} periods"
    units = f" ({num(float(exc.loc[~held, 'quantity'].sum()))} units)"
    if n_now == 0 and n_projected and horizon:  # not "0 entries are out of stock now"
        are = "is" if n_projected == 1 else "are"
        sentence = f"{_entries(n_projected)} {are} projected out of stock in the next {ahead}"
        sentence += units
    elif n_now + n_projected or not held.any():
        sentence = f"{_entries(n_now)} {'is' if n_now == 1 else 'are'} out of stock now"
        if horizon:
            sentence += f" and {n_projected} projected out of stock in the next {ahead}"
        sentence += units
    if held.any():
        n_held = int(held.sum())
        products = sorted(set(exc.loc[held, "product"]))
        sentence += "; " if sentence else ""
        whose = "its" if n_held == 1 else "their"
        sentence += (
            f"{_entries(n_held)} {'is' if n_held == 1 else 'are'} short while"
            f" {whose} product{' is' if len(products) == 1 else 's are'} in stock"
            f" ({num(float(exc.loc[held, 'quantity'].sum()))} units short), kept for later demand"
            " or safety stock"
        )
        tied = exc["indifferent"].to_numpy(dtype=bool)
        if tied.any():
            free = sorted(set(exc.loc[tied, "product"]))
            names = ", ".join(free[:3]) + (f" and {len(free) - 3} more" if len(free) > 3 else "")
            n_tied = int(tied.sum())
            sentence += (
                f"; for {n_tied if n_tied < n_held else 'all'} of them the costs do not say"
                f" which period to short: holding {names} costs nothing and later demand of"
                " the same tier is served, so a plan as good may serve these and short it instead"
            )
    return {
        "count": len(exc),
        "escalated": n_escalated,
        "sentence": sentence,
        "decide": f"{n_escalated} need{'s' if n_escalated == 1 else ''} an executive decision",
        "rows": rows,
    }


def _entries(n: int) -> str:
    """``1 entry``, ``2 entries``."""
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def _causes(a: Analysis, order: list[str]) -> list[dict[str, Any]]:
    """Causes summed over entries: one row per resource, the most units first (all)."""
    c = a.causes
    if c.empty:
        return []
    groups = c.groupby(["cause_kind", "resource"], sort=False)
    out = []
    for (kind, resource), g in groups:
        top = g.sort_values("quantity", ascending=False).iloc[0]
        periods = {p for ps in g["binding_periods"] for p in str(ps).split(";") if p}
        out.append(
            {
                "kind": kind,
                "resource": resource,
                "units": float(g["quantity"].sum()),
                "split": _split(float(g["unmet"].sum()), float(g["late"].sum())),
                "entries": int(g["entry"].nunique()),
                "tiers": ", ".join(str(t) for t in sorted(g["priority"].unique())),
                "periods": period_ranges(sorted(periods), order) if periods else top.cause_period,
                "explanation": str(top.explanation),
            }
        )
    out.sort(key=lambda r: -r["units"])
    for r in out:
        r["units"] = num(r["units"])
    return out


def _split(unmet: float, late: float) -> str:
    parts = []
    if unmet > TOL:
        parts.append(f"{num(unmet)} unmet")
    if late > TOL:
        parts.append(f"{num(late)} late")
    return ", ".join(parts)


def _bottlenecks(a: Analysis, order: list[str]) -> list[dict[str, Any]]:
    """Bottlenecks per resource: the periods they bind in and the best marginal value (all)."""
    b = a.bottlenecks
    if b.empty:
        return []
    out = []
    for (kind, resource), g in b.groupby(["kind", "resource"], sort=False):
        valued = g[g["marginal_value"] > 0]
        best = g.iloc[int(np.argmax(g["marginal_value"].to_numpy()))]
        unit = "hour" if kind in ("line", "overtime") else "unit"
        helps = float(best.marginal_value) > TOL
        out.append(
            {
                "kind": kind,
                "resource": resource,
                "periods": period_ranges(list(g["period"]), order),
                "valued": period_ranges(list(valued["period"]), order) or "none",
                "best_period": best.period if helps else "–",
                # used up, but one more would not lower the cost (what is short lies
                # elsewhere): "worth 0 per hour" read as a price
                "worth": f"{money(float(best.marginal_value))} per {unit}"
                if helps
                else "0: more would not help",
                "helps": helps,
                "_v": float(g["marginal_value"].max()),
                "_s": float(g["marginal_value"].sum()),
            }
        )
    out.sort(key=lambda r: (-r["_v"], -r["_s"]))
    return out


def _options(a: Analysis) -> list[dict[str, Any]]:
    o = a.options
    if o.empty:
        return []
    tiers = [c for c in o.columns if c.startswith("recovered_tier_")]
    rows = []
    for r in o.to_dict("records"):
        ok = r.get("status") in ("optimal", "feasible")
        per_tier = ", ".join(
            f"tier {c.removeprefix('recovered_tier_')} {signed(float(r[c]), quantity=True)}"
            for c in tiers
            if ok and pd.notna(r[c]) and abs(float(r[c])) > TOL
        )
        rows.append(
            {
                "option": r["option"],
                "description": r["description"],
                "status": r.get("status", ""),
                "units": signed(float(r["units_recovered"]), quantity=True) if ok else "n/a",
                "per_tier": per_tier or ("none" if ok else "n/a"),
                "on_time": signed(float(r["on_time_recovered"]), quantity=True) if ok else "n/a",
                "objective": signed(float(r["objective_change"])) if ok else "n/a",
                "spend": signed(float(r["spend_change"])) if ok else "n/a",
            }
        )
    return rows
