"""``tradeoffs.md`` and ``report.html``: the analysis rendered through Jinja2 templates.

Jinja2 keeps the page structure in templates (``templates/``); every value a
template writes is escaped, as HTML in ``report.html`` and as Markdown in
``tradeoffs.md`` (:func:`md_escape`), so that the planner's names read literally.
Plotly draws the charts. The HTML report inlines plotly.js once, in the
page head, so it is one file that opens offline.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from optimizer.analysis import Analysis
from optimizer.reports import charts
from optimizer.reports.context import build_context
from optimizer.results import Plan

TEMPLATES = Path(__file__).parent / "templates"


_MD_SPECIAL = frozenset("\\`*[]<>#|~$")
"""Characters a name may hold that Markdown (CommonMark with GitHub's tables,
strikethrough and math) reads as syntax anywhere in a line."""

_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
"""An ``&`` that starts an entity reference (``&amp;``, ``&#42;``); a lone one is text."""

_MD_AUTOLINK = re.compile(r"(?<=[A-Za-z])(?=://)|(?<=\bwww)(?=\.)", re.IGNORECASE)
"""Where GitHub would start a link of its own (``http://x``, ``www.x``): a backslash
before the ``:`` or ``.`` keeps the text a text."""

_MD_LEADING = re.compile(r"^(\s*)(?:([-+])(?![\d.])|(\d{1,9})([.)])(?=\s|$))")
"""A list marker at the start of a value (``- x``, ``+x``, ``1. x``), not a signed number."""


def md_escape(value: object) -> str:
    """``value`` as literal Markdown text, on one line.

    Backslash-escapes what Markdown would read as syntax: emphasis, code, links, raw
    HTML, headings, table bars, strikethrough, math, an entity reference, a bare URL
    (GitHub links it) and a list marker at the start (``- 1. B``). An ``_`` between
    two letters or digits cannot start or end emphasis and is kept as it is
    (``Cap_A``), as are letters, digits, spaces, hyphens inside words and signed
    numbers (``-1.40``).
    """
    text = " ".join(str(value).splitlines())
    out: list[str] = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch in _MD_SPECIAL:
            out.append("\\" + ch)
        elif ch == "_" and not (0 < i < last and text[i - 1].isalnum() and text[i + 1].isalnum()):
            out.append("\\_")
        elif ch == "&" and _MD_ENTITY.match(text, i):
            out.append("\\&")
        else:
            out.append(ch)
    escaped = _MD_AUTOLINK.sub("\\\\", "".join(out))
    if m := _MD_LEADING.match(escaped):
        space, sign, digits, mark = m.groups()
        marker = f"\\{sign}" if sign else f"{digits}\\{mark}"
        escaped = space + marker + escaped[m.end() :]
    return escaped


def _md_finalize(value: object) -> Markup:
    """What a ``{{ }}`` of the Markdown template writes: data escaped (:func:`md_escape`),
    the output of a macro or of :func:`_code` as it is."""
    return value if isinstance(value, Markup) else Markup(md_escape(value))


def _code(value: object) -> Markup:
    """A file or sheet name as a Markdown code span (a name of the package's own)."""
    text = str(value)
    if "`" in text:
        raise ValueError(f"no code span for {text!r}")
    return Markup(f"`{text}`")


@cache
def environment() -> jinja2.Environment:
    """The HTML template environment (every value auto-escaped)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


@cache
def markdown_environment() -> jinja2.Environment:
    """The Markdown template environment: every value is escaped as Markdown
    (:func:`md_escape`), so that a product, customer, line, material or period name
    reads literally; template text and macros keep their syntax. (Jinja writes
    ``escape(finalize(value))``: the finalized value is markup, left as it is.)"""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=_md_finalize,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["code"] = _code
    return env


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def markdown(analysis: Analysis, context: dict[str, Any] | None = None) -> str:
    """The one-page S&OP summary as Markdown."""
    context = context if context is not None else build_context(analysis)
    text = markdown_environment().get_template("tradeoffs.md.j2").render(**context)
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
