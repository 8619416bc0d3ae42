"""The report's charts, made with plotly (figures as data, rendered by plotly.js).

Plotly is a well-kept library whose figures are JSON rendered by one JavaScript
bundle; the report inlines that bundle once, so the page opens offline. Each
function returns a :class:`plotly.graph_objects.Figure`; :func:`to_div` renders it as
an HTML fragment with a stable id.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optimizer.analysis import Analysis
from optimizer.analysis._util import grid
from optimizer.reports.context import NO_FILL
from optimizer.results import Plan

MAX_LINES = 6
MAX_PRODUCTS = 6
COLORS = {
    "regular": "#4C78A8",
    "overtime": "#F58518",
    "capacity": "#222222",
    "fill": "#54A24B",
    "on_time": "#4C78A8",
    "stock": "#4C78A8",
    "safety": "#E45756",
}


def _label(value: object) -> str:
    """A name as plotly.js shows it literally: it reads its tags (``<b>``, ``<br>``,
    ``<a href>``...) and entities in every title, tick and hover label, so ``<``, ``>``
    and ``&`` are written as entities, which it decodes."""
    return html.escape(str(value), quote=False)


def _labels(values: Iterable[object]) -> list[str]:
    return [_label(v) for v in values]


def to_div(fig: go.Figure, name: str) -> str:
    """An HTML fragment for a figure (plotly.js is loaded once by the page)."""
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{name}",
            config={"displaylogo": False, "responsive": True},
        )
    )


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.08},
        font={"family": "system-ui, sans-serif", "size": 12},
    )
    return fig


def _shown(title: str, shown: int, total: int, what: str, table: str) -> str:
    """``title``, saying which ``shown`` of ``total`` it draws when it leaves some out."""
    if shown >= total:
        return title
    return f"{title} (the {shown} {what} of {total}; all in {table})"


def line_load(analysis: Analysis, plan: Plan) -> go.Figure:
    """Hours used per line and week (regular and overtime) against capacity.

    Shows the lines with the highest peak load (at most :data:`MAX_LINES`; the title
    says so when there are more).
    """
    d = analysis.shadow.data
    per = _labels(d.period_ids)
    lines = plan.lines
    used = grid(lines, "line", d.line_ids, d.period_ids, "used_hours")
    ot = grid(lines, "line", d.line_ids, d.period_ids, "overtime_hours")
    cap = d.H + d.OT
    with np.errstate(divide="ignore", invalid="ignore"):
        load = np.where(cap > 0, used / np.where(cap > 0, cap, 1.0), 0.0)
    peak = load.max(axis=1) if load.size else np.zeros(0)
    show = list(np.argsort(-peak, kind="stable")[:MAX_LINES])
    show.sort()
    fig = make_subplots(
        rows=max(1, len(show)),
        cols=1,
        shared_xaxes=True,
        subplot_titles=[f"line {_label(d.line_ids[i])}" for i in show],
        vertical_spacing=0.08 if len(show) > 1 else 0.1,
    )
    for row, i in enumerate(show, start=1):
        first = row == 1
        fig.add_trace(
            go.Bar(
                x=per,
                y=used[i] - ot[i],
                name="regular hours used",
                marker_color=COLORS["regular"],
                legendgroup="regular",
                showlegend=first,
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=per,
                y=ot[i],
                name="overtime used",
                marker_color=COLORS["overtime"],
                legendgroup="overtime",
                showlegend=first,
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=per,
                y=d.H[i],
                name="regular capacity",
                mode="lines",
                line={"color": COLORS["capacity"], "shape": "hvh"},
                legendgroup="cap",
                showlegend=first,
            ),
            row=row,
            col=1,
        )
        if (d.OT[i] > 0).any():
            fig.add_trace(
                go.Scatter(
                    x=per,
                    y=cap[i],
                    name="with overtime",
                    mode="lines",
                    line={"color": COLORS["capacity"], "dash": "dot", "shape": "hvh"},
                    legendgroup="cap_ot",
                    showlegend=first,
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text="hours", row=row, col=1)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")  # period ids as they are ("01", "2026-02")
    title = _shown(
        "Line load by week vs capacity", len(show), len(d.line_ids), "most loaded", "lines.csv"
    )
    return _layout(fig, title, 160 + 190 * max(1, len(show)))


def fill_by_tier(analysis: Analysis) -> go.Figure:
    """Fill rate and on-time rate per priority tier (and overall)."""
    s = analysis.summary
    keys = [k for k in s.fill_rate if k != "overall"] + (
        ["overall"] if "overall" in s.fill_rate else []
    )
    labels = _labels(k if k == "overall" else f"tier {k}" for k in keys)
    fig = go.Figure(
        [
            go.Bar(
                x=labels,
                y=[s.fill_rate[k] for k in keys],
                name="fill rate",
                marker_color=COLORS["fill"],
                text=[f"{s.fill_rate[k]:.1%}" for k in keys],
                textposition="outside",
            ),
            go.Bar(
                x=labels,
                y=[s.on_time_rate.get(k, np.nan) for k in keys],
                name="on time",
                marker_color=COLORS["on_time"],
                text=[f"{s.on_time_rate.get(k, np.nan):.1%}" for k in keys],
                textposition="outside",
            ),
        ]
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.12])
    fig.update_layout(barmode="group")
    title = "Fill rate by priority tier"
    if not keys:
        title += f" ({NO_FILL})"
    return _layout(fig, title, 380)


def products_at_risk(analysis: Analysis) -> list[str]:
    """Products with exceptions or stock below safety stock, the most exposed first (all)."""
    exposed: dict[str, float] = {}
    for r in analysis.exceptions.itertuples(index=False):
        exposed[str(r.product)] = exposed.get(str(r.product), 0.0) + float(r.value) + 1.0
    for r in analysis.depletions.itertuples(index=False):
        exposed.setdefault(str(r.product), 0.0)
        exposed[str(r.product)] += float(r.shortfall) * 1e-6
    return [p for p, _ in sorted(exposed.items(), key=lambda kv: -kv[1])]


def inventory_at_risk(analysis: Analysis, plan: Plan) -> go.Figure:
    """Closing stock against safety stock for the products at risk.

    Shows the most exposed (at most :data:`MAX_PRODUCTS`; the title says so when
    there are more).
    """
    at_risk = products_at_risk(analysis)
    products = at_risk[:MAX_PRODUCTS]
    inv = plan.inventory
    cols = 2 if len(products) > 1 else 1
    rows = max(1, int(np.ceil(len(products) / cols)))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=_labels(products) or ["no product at risk"],
        vertical_spacing=0.12,
        horizontal_spacing=0.08,
    )
    for i, product in enumerate(products):
        r, c = i // cols + 1, i % cols + 1
        rows_p = inv[inv["product"] == product]
        first = i == 0
        fig.add_trace(
            go.Scatter(
                x=_labels(rows_p["period"]),
                y=rows_p["closing"],
                name="closing stock",
                mode="lines+markers",
                line={"color": COLORS["stock"]},
                legendgroup="stock",
                showlegend=first,
            ),
            row=r,
            col=c,
        )
        fig.add_trace(
            go.Scatter(
                x=_labels(rows_p["period"]),
                y=rows_p["safety_stock"],
                name="safety stock",
                mode="lines",
                line={"color": COLORS["safety"], "dash": "dash"},
                legendgroup="safety",
                showlegend=first,
            ),
            row=r,
            col=c,
        )
    fig.update_xaxes(type="category")
    title = _shown(
        "Inventory vs safety stock: products at risk",
        len(products),
        len(at_risk),
        "most exposed",
        "inventory.csv",
    )
    return _layout(fig, title, 160 + 230 * rows)


def shortage_waterfall(analysis: Analysis) -> go.Figure:
    """Units short (unmet or late) by cause, adding up to the total."""
    c = analysis.causes
    if c.empty:
        by = pd.Series(dtype=np.float64)
    else:
        label = c["cause_kind"].astype(str) + " " + c["resource"].astype(str)
        by = c.groupby(label, sort=False)["quantity"].sum().sort_values(ascending=False)
    x = [*_labels(by.index), "total short"]
    y = [*by.to_numpy(dtype=np.float64), 0.0]
    fig = go.Figure(
        go.Waterfall(
            x=x,
            y=y,
            measure=["relative"] * len(by) + ["total"],
            text=[f"{v:,.0f}" for v in by.to_numpy()] + [f"{float(by.sum()):,.0f}"],
            textposition="outside",
            connector={"line": {"color": "#999999"}},
            increasing={"marker": {"color": COLORS["safety"]}},
            totals={"marker": {"color": COLORS["capacity"]}},
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="units short (unmet or late)")
    return _layout(fig, "Shortage by cause", 420)
