"""The report's charts: plotly figures as plain data, drawn by plotly.js in the page.

A figure is the JSON plotly.js draws (``{"data": [traces], "layout": {...}}``), built
here as dicts. Plotly's Python figure objects validate every property as it is set,
which took 0.2-0.3 s for these four charts (a tenth of ``soe plan`` on a 200-product
plan) for figures whose every property is ours. :func:`to_div` writes a figure as an
HTML fragment with a stable id; the page inlines plotly.js once (from the plotly
package), so it opens offline.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from optimizer.analysis import Analysis
from optimizer.analysis._util import grid
from optimizer.reports.context import NO_FILL
from optimizer.results import Plan

Figure = dict[str, Any]
"""A plotly.js figure: ``data`` (a list of traces) and ``layout``."""

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


def to_div(fig: Figure, name: str) -> str:
    """An HTML fragment for a figure (plotly.js is loaded once by the page)."""
    div = f"chart-{name}"
    height = fig["layout"].get("height", 450)
    data, layout = _json(fig["data"]), _json(fig["layout"])
    return (
        f'<div id="{div}" class="plotly-graph-div" style="height:{height}px; width:100%;">'
        f'</div><script>if (document.getElementById("{div}")) {{ Plotly.newPlot("{div}", '
        f'{data}, {layout}, {{"displaylogo": false, "responsive": true}}); }}</script>'
    )


def _json(value: object) -> str:
    """JSON that is safe inside ``<script>``: no ``<``, ``>`` or ``/`` as such (a name
    holding ``</script>`` cannot end the script), a missing number as ``null``."""
    text = json.dumps(_plain(value), ensure_ascii=True, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("/", "\\u002f")


def _plain(value: object) -> object:
    """``value`` with numpy and pandas values as Python ones, NaN as ``None``."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Series | pd.Index):
        return [_plain(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_STYLE: dict[str, Any] = {
    "font": {"family": "system-ui, sans-serif", "size": 12, "color": "#2a3f5f"},
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "hovermode": "closest",
    "hoverlabel": {"align": "left"},
}
"""Plotly's ``plotly_white`` look: the part of that template these charts use."""

_AXIS: dict[str, Any] = {
    "gridcolor": "#EBF0F8",
    "linecolor": "#EBF0F8",
    "zerolinecolor": "#EBF0F8",
    "zerolinewidth": 2,
    "ticks": "",
    "automargin": True,
}


def _layout(fig: Figure, title: str, height: int) -> Figure:
    layout = fig["layout"]
    layout.update(
        title={"text": title, "x": 0},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.08},
        **_STYLE,
    )
    for key in [k for k in layout if k.startswith(("xaxis", "yaxis"))] or ["xaxis", "yaxis"]:
        layout[key] = {**_AXIS, **layout.get(key, {})}
    return fig


def _subplots(
    rows: int,
    cols: int,
    titles: Sequence[str],
    *,
    vertical_spacing: float,
    horizontal_spacing: float = 0.2,
    shared_x: bool = False,
) -> Figure:
    """A figure of ``rows`` x ``cols`` empty plots, titled, laid out as plotly's
    ``make_subplots`` lays them out: equal cells, spacing as fractions of the figure,
    the first row on top, each title centred above its plot. With ``shared_x`` (one
    column) every x axis follows the bottom one, which alone has tick labels."""
    height = (1.0 - vertical_spacing * (rows - 1)) / rows
    width = (1.0 - horizontal_spacing * (cols - 1)) / cols
    layout: dict[str, Any] = {}
    annotations = []
    cells = rows * cols
    for i in range(cells):
        r, c = divmod(i, cols)
        top = 1.0 - r * (height + vertical_spacing)
        left = c * (width + horizontal_spacing)
        x, y = (f"{a}axis{'' if i == 0 else i + 1}" for a in "xy")
        ref = _axes(i)
        layout[x] = {"anchor": ref["yaxis"], "domain": [left, left + width]}
        if shared_x and i + 1 < cells:
            layout[x].update(matches=_axes(cells - 1)["xaxis"], showticklabels=False)
        layout[y] = {"anchor": ref["xaxis"], "domain": [max(0.0, top - height), top]}
        if i < len(titles):
            annotations.append(
                {
                    "text": titles[i],
                    "x": left + width / 2,
                    "y": top,
                    "xref": "paper",
                    "yref": "paper",
                    "xanchor": "center",
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"size": 16},
                }
            )
    layout["annotations"] = annotations
    return {"data": [], "layout": layout}


def _axes(i: int) -> dict[str, str]:
    """The axes of subplot ``i`` (0 is the first), as a trace names them."""
    n = "" if i == 0 else str(i + 1)
    return {"xaxis": f"x{n}", "yaxis": f"y{n}"}


def _every_axis(fig: Figure, letter: str, **props: object) -> None:
    """Set ``props`` on every x (``letter="x"``) or y axis of ``fig``."""
    layout = fig["layout"]
    for key in [k for k in layout if k.startswith(f"{letter}axis")] or [f"{letter}axis"]:
        layout[key] = {**layout.get(key, {}), **props}


def _shown(title: str, shown: int, total: int, what: str, table: str) -> str:
    """``title``, saying which ``shown`` of ``total`` it draws when it leaves some out."""
    if shown >= total:
        return title
    return f"{title} (the {shown} {what} of {total}; all in {table})"


def line_load(analysis: Analysis, plan: Plan) -> Figure:
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
    fig = _subplots(
        max(1, len(show)),
        1,
        [f"line {_label(d.line_ids[i])}" for i in show],
        vertical_spacing=0.08 if len(show) > 1 else 0.1,
        shared_x=True,
    )
    traces = fig["data"]
    for row, i in enumerate(show):
        first = row == 0
        axes = _axes(row)
        traces += [
            {
                "type": "bar",
                "x": per,
                "y": used[i] - ot[i],
                "name": "regular hours used",
                "marker": {"color": COLORS["regular"]},
                "legendgroup": "regular",
                "showlegend": first,
                **axes,
            },
            {
                "type": "bar",
                "x": per,
                "y": ot[i],
                "name": "overtime used",
                "marker": {"color": COLORS["overtime"]},
                "legendgroup": "overtime",
                "showlegend": first,
                **axes,
            },
            {
                "type": "scatter",
                "x": per,
                "y": d.H[i],
                "name": "regular capacity",
                "mode": "lines",
                "line": {"color": COLORS["capacity"], "shape": "hvh"},
                "legendgroup": "cap",
                "showlegend": first,
                **axes,
            },
        ]
        if (d.OT[i] > 0).any():
            traces.append(
                {
                    "type": "scatter",
                    "x": per,
                    "y": cap[i],
                    "name": "with overtime",
                    "mode": "lines",
                    "line": {"color": COLORS["capacity"], "dash": "dot", "shape": "hvh"},
                    "legendgroup": "cap_ot",
                    "showlegend": first,
                    **axes,
                }
            )
    fig["layout"]["barmode"] = "stack"
    _every_axis(fig, "y", title={"text": "hours"})
    _every_axis(fig, "x", type="category")  # period ids as they are ("01", "2026-02")
    title = _shown(
        "Line load by week vs capacity", len(show), len(d.line_ids), "most loaded", "lines.csv"
    )
    return _layout(fig, title, 160 + 190 * max(1, len(show)))


def fill_by_tier(analysis: Analysis) -> Figure:
    """Fill rate and on-time rate per priority tier (and overall)."""
    s = analysis.summary
    keys = [k for k in s.fill_rate if k != "overall"] + (
        ["overall"] if "overall" in s.fill_rate else []
    )
    labels = _labels(k if k == "overall" else f"tier {k}" for k in keys)
    fill = [s.fill_rate[k] for k in keys]
    on_time = [s.on_time_rate.get(k, math.nan) for k in keys]
    fig: Figure = {
        "data": [
            {
                "type": "bar",
                "x": labels,
                "y": rates,
                "name": name,
                "marker": {"color": COLORS[color]},
                "text": [f"{v:.1%}" for v in rates],
                "textposition": "outside",
            }
            for name, rates, color in (("fill rate", fill, "fill"), ("on time", on_time, "on_time"))
        ],
        "layout": {"barmode": "group", "yaxis": {"tickformat": ".0%", "range": [0, 1.12]}},
    }
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


def inventory_at_risk(analysis: Analysis, plan: Plan) -> Figure:
    """Closing stock against safety stock for the products at risk.

    Shows the most exposed (at most :data:`MAX_PRODUCTS`; the title says so when
    there are more).
    """
    at_risk = products_at_risk(analysis)
    products = at_risk[:MAX_PRODUCTS]
    inv = plan.inventory
    cols = 2 if len(products) > 1 else 1
    rows = max(1, int(np.ceil(len(products) / cols)))
    fig = _subplots(
        rows,
        cols,
        _labels(products) or ["no product at risk"],
        vertical_spacing=0.12,
        horizontal_spacing=0.08,
    )
    for i, product in enumerate(products):
        rows_p = inv[inv["product"] == product]
        first = i == 0
        periods = _labels(rows_p["period"])
        fig["data"] += [
            {
                "type": "scatter",
                "x": periods,
                "y": rows_p["closing"],
                "name": "closing stock",
                "mode": "lines+markers",
                "line": {"color": COLORS["stock"]},
                "legendgroup": "stock",
                "showlegend": first,
                **_axes(i),
            },
            {
                "type": "scatter",
                "x": periods,
                "y": rows_p["safety_stock"],
                "name": "safety stock",
                "mode": "lines",
                "line": {"color": COLORS["safety"], "dash": "dash"},
                "legendgroup": "safety",
                "showlegend": first,
                **_axes(i),
            },
        ]
    _every_axis(fig, "x", type="category")
    title = _shown(
        "Inventory vs safety stock: products at risk",
        len(products),
        len(at_risk),
        "most exposed",
        "inventory.csv",
    )
    return _layout(fig, title, 160 + 230 * rows)


def shortage_waterfall(analysis: Analysis) -> Figure:
    """Units short (unmet or late) by cause, adding up to the total."""
    c = analysis.causes
    if c.empty:
        by = pd.Series(dtype=np.float64)
    else:
        label = c["cause_kind"].astype(str) + " " + c["resource"].astype(str)
        by = c.groupby(label, sort=False)["quantity"].sum().sort_values(ascending=False)
    fig: Figure = {
        "data": [
            {
                "type": "waterfall",
                "x": [*_labels(by.index), "total short"],
                "y": [*by.to_numpy(dtype=np.float64), 0.0],
                "measure": ["relative"] * len(by) + ["total"],
                "text": [f"{v:,.0f}" for v in by.to_numpy()] + [f"{float(by.sum()):,.0f}"],
                "textposition": "outside",
                "connector": {"line": {"color": "#999999"}},
                "increasing": {"marker": {"color": COLORS["safety"]}},
                "totals": {"marker": {"color": COLORS["capacity"]}},
            }
        ],
        "layout": {
            "xaxis": {"type": "category"},
            "yaxis": {"title": {"text": "units short (unmet or late)"}},
        },
    }
    return _layout(fig, "Shortage by cause", 420)
