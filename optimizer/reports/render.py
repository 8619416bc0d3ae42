"""``tradeoffs.md`` and ``report.html``: the analysis rendered through Jinja2 templates.

Jinja2 keeps the page structure in templates (``templates/``) with HTML escaping on
by default; plotly draws the charts. The HTML report inlines plotly.js once, in the
page head, so it is one file that opens offline.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from optimizer.analysis import Analysis
from optimizer.reports import charts
from optimizer.reports.context import build_context
from optimizer.results import Plan


def _cell(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


@cache
def environment() -> jinja2.Environment:
    """The template environment (HTML templates are auto-escaped)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["cell"] = _cell
    return env


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def markdown(analysis: Analysis, context: dict[str, Any] | None = None) -> str:
    """The one-page S&OP summary as Markdown."""
    context = context if context is not None else build_context(analysis)
    text = environment().get_template("tradeoffs.md.j2").render(**context)
    # collapse the blank lines the template's blocks leave behind
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


def html(analysis: Analysis, plan: Plan, context: dict[str, Any] | None = None) -> str:
    """The self-contained HTML report, charts included."""
    context = context if context is not None else build_context(analysis)
    figures = {
        "fill": charts.to_div(charts.fill_by_tier(analysis), "fill"),
        "waterfall": charts.to_div(charts.shortage_waterfall(analysis), "waterfall"),
        "load": charts.to_div(charts.line_load(analysis, plan), "load"),
        "inventory": charts.to_div(charts.inventory_at_risk(analysis, plan), "inventory"),
    }
    template = environment().get_template("report.html.j2")
    return template.render(**context, charts=figures, plotly_js=_plotly_js())


def write_markdown(analysis: Analysis, path: Path, context: dict[str, Any] | None = None) -> Path:
    """Write ``tradeoffs.md``."""
    path.write_text(markdown(analysis, context), encoding="utf-8")
    return path


def write_html(
    analysis: Analysis, plan: Plan, path: Path, context: dict[str, Any] | None = None
) -> Path:
    """Write ``report.html``."""
    path.write_text(html(analysis, plan, context), encoding="utf-8")
    return path
