"""Names from the planner's CSVs read literally in every report.

Products, customers, lines, materials, periods and families are the planner's own
strings: ``tradeoffs.md`` must not read ``*Cap_A*`` as emphasis, ``L|1`` as a table
bar or ``- 1. B`` as a list, ``report.html`` must not read ``<b>Acme</b> & Co`` as
markup, and neither must plotly.js in the charts' titles and ticks.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from optimizer import Dataset, load_dataset
from optimizer.analysis import Analysis, analyse
from optimizer.reports import charts, tradeoffs_frame
from optimizer.reports.context import build_context
from optimizer.reports.render import html, markdown, md_escape
from optimizer.results import Plan
from optimizer.solve import plan as solve
from tests.conftest import write_tables

PRODUCT = "*Cap_A*"
LISTED = "- 1. <B>"  # a list item, an ordered list and a tag when a line starts with it
CUSTOMER = "<b>Acme</b> & Co"
LINE = "L|1"
MATERIAL = "<M>"
FAMILY = "[soap](http://e.x)"
PERIODS = ("W|1", "W*2*", "#W3")

# L|1 makes 100 a week (10 h at 10 an hour, 2 h of overtime at 1) of *Cap_A*'s (tier
# 1) and "- 1. <B>"'s (tier 2) 80 a week; "- 1. <B>" also needs a cap <M> a unit: 30
# in stock, the next 100 arrive in #W3. Acme's order of 20 "- 1. <B>" due in W|1 is
# tier 3: cut first, and escalated (worth 100, over 90). "- 1. <B>" is short in W|1 and
# W*2*, its safety stock drawn down.
HOSTILE = {
    "periods": "period,start\n"
    + "\n".join(f"{p},2026-{d}" for p, d in zip(PERIODS, ("11-30", "12-07", "12-14"), strict=True)),
    "products": "product,family,priority,initial_inventory,safety_stock,safety_stock_cost,"
    f"holding_cost,shortage_cost\n{PRODUCT},{FAMILY},1,0,0,0,0.01,5\n"
    f"{LISTED},<i>gel</i>,2,20,20,1,0.01,5",
    "lines": f"line,hours,overtime_hours,overtime_cost\n{LINE},10,2,1",
    "routings": f"product,line,rate\n{PRODUCT},{LINE},10\n{LISTED},{LINE},10",
    "materials": f"material,initial_inventory,holding_cost\n{MATERIAL},30,0.01",
    "bom": f"product,material,quantity_per_unit\n{LISTED},{MATERIAL},1",
    "receipts": f"material,period,quantity,po,supplier\n{MATERIAL},#W3,100,PO_1*,`Sup`",
    "customers": f'customer,priority\n"{CUSTOMER}",3',
    "orders": f'order,customer,product,period,quantity\nO_1,"{CUSTOMER}",{LISTED},W|1,20',
    "forecast": "product,period,quantity\n"
    + "\n".join(f"{p},{t},80" for p in (PRODUCT, LISTED) for t in PERIODS),
    "settings": "[exceptions]\nescalate_value = 90",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dataset, Plan, Analysis]]:
    folder = write_tables(tmp_path_factory.mktemp("names") / "*plan* #1", HOSTILE)
    ds = load_dataset(folder)
    result = solve(ds, verify=False)
    yield ds, result, analyse(ds, result)


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("Cap_A", "Cap_A"),  # an _ between letters starts no emphasis: kept
        ("soap bar-2 Größe_1", "soap bar-2 Größe_1"),
        ("*Cap_A*", "\\*Cap_A\\*"),
        ("_x_", "\\_x\\_"),
        ("L|1", "L\\|1"),
        ("`W3`", "\\`W3\\`"),
        ("[x](y)", "\\[x\\](y)"),
        ("<b>Acme</b> & Co", "\\<b\\>Acme\\</b\\> & Co"),
        ("C&amp;D", "C\\&amp;D"),
        ("#W3", "\\#W3"),
        ("~~old~~ $5", "\\~\\~old\\~\\~ \\$5"),
        ("a\\*b", "a\\\\\\*b"),
        ("- 1. B", "\\- 1. B"),
        ("+ x", "\\+ x"),
        ("1. B", "1\\. B"),
        ("2) B", "2\\) B"),
        ("> B", "\\> B"),
        ("-1.40", "-1.40"),  # a signed number is no list marker
        ("+0.40", "+0.40"),
        ("1.5 units", "1.5 units"),
        ("two\nlines # x", "two lines \\# x"),
        ("see http://e.x or www.e.x", "see http\\://e.x or www\\.e.x"),
    ],
)
def test_md_escape(name: str, escaped: str) -> None:
    assert md_escape(name) == escaped


def test_markdown_shows_every_name_literally(hostile: tuple[Dataset, Plan, Analysis]) -> None:
    """The page printed the names as they are: ``*Cap_A*`` in italics, ``W|1`` split
    its cell, "- - 1. <B> is below its safety stock" a list in a list with a tag in it,
    Acme's order a bold "Acme" (raw HTML), ``[soap](http://e.x)`` a link."""
    _, _, a = hostile
    page = markdown(a)
    lines = page.splitlines()
    assert lines[0] == "# S&OP trade-offs: \\*plan\\* \\#1"
    assert lines[2].startswith("Plan for W\\|1 to \\#W3 (3 periods): **optimal**")
    assert (
        "| **escalate** | now (20 in stock) | W\\|1 | 3 | \\- 1. \\<B\\>"
        " | \\<b\\>Acme\\</b\\> & Co | 20 | 0 |" in page
    )
    assert "| line **L\\|1** |" in page and "| material **\\<M\\>** |" in page
    assert "| \\[soap\\](http\\://e.x) | 1 |" in page
    assert any(
        line.startswith("- \\- 1. \\<B\\> is below its safety stock of 20") for line in lines
    )
    assert any(line.startswith("- \\*Cap_A\\* builds") for line in lines)
    assert "(PO PO_1\\*, \\`Sup\\`)" in page  # a what-if's description
    for raw in (PRODUCT, LISTED, CUSTOMER, LINE, MATERIAL, FAMILY, "W*2*", "`Sup`"):
        assert raw not in page, raw
    # every table keeps its columns: no row has an unescaped bar more or less
    for table in re.split(r"\n(?!\|)", page):
        rows = [r for r in table.splitlines() if r.startswith("|")]
        assert len({len(re.split(r"(?<!\\)\|", r)) for r in rows}) <= 1, table
    # the template's own syntax is kept: code spans, bold
    assert "`exceptions.csv`" in page and "**optimal**" in page


def test_markdown_renders_the_names_as_text(hostile: tuple[Dataset, Plan, Analysis]) -> None:
    """GitHub's own Markdown (cmark-gfm) shows each name as it is, as text."""
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="GitHub's cmark-gfm bindings")
    _, _, a = hostile
    page = cmarkgfm.github_flavored_markdown_to_html(markdown(a))
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", page))
    for name in (PRODUCT, LISTED, CUSTOMER, LINE, MATERIAL, FAMILY, *PERIODS, "`Sup`"):
        assert name in text, name
    assert "<em>" not in page.replace("<em>Notes:</em>", "")  # the template's own
    assert "<a " not in page and "<ol" not in page
    assert "<b>Acme" not in page and "<i>gel" not in page
    assert page.count("<h1>") == 1 and page.count("<table>") == 5
    for row in re.findall(r"<tr>.*?</tr>", page, flags=re.S):
        assert row.count("<td") in (0, 5, 4, 6, 9), row


def test_html_escapes_every_name(hostile: tuple[Dataset, Plan, Analysis]) -> None:
    """Jinja escapes every value of ``report.html.j2`` (only plotly's own output is
    ``| safe``, and its JSON writes ``<`` as ``\\u003c``): this was right already, and
    guards both."""
    _, result, a = hostile
    page = html(a, result)
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert "<td>&lt;b&gt;Acme&lt;/b&gt; &amp; Co</td><td>O_1</td>" in text
    assert "<td>- 1. &lt;B&gt;</td>" in text and "<td>&lt;i&gt;gel&lt;/i&gt;</td>" in text
    assert "<b>&lt;M&gt;</b>" in text and "<b>L|1</b>" in text
    assert "<title>S&amp;OP trade-offs: *plan* #1</title>" in text
    # nowhere as markup, the charts' data (in scripts) included
    for raw in (CUSTOMER, LISTED, "<i>gel</i>", MATERIAL):
        assert raw not in page, raw


def test_chart_labels_are_entities_plotly_shows_literally(
    hostile: tuple[Dataset, Plan, Analysis],
) -> None:
    """plotly.js reads its tags (``<b>``, ``<i>``, ``<br>``, ``<a>``...; case aside)
    and entities in titles, ticks and hover labels: the subplot title of product
    "- 1. <B>" read "- 1. " (``<B>`` taken for bold), a ``C&amp;D`` would read "C&D".
    ``<M>``, no tag of plotly's, showed as it is, and still does."""
    _, result, a = hostile
    fall = charts.shortage_waterfall(a)
    assert "material &lt;M&gt;" in list(fall["data"][0]["x"])
    load = charts.line_load(a, result)
    assert [ann["text"] for ann in load["layout"]["annotations"]] == ["line L|1"]
    assert list(load["data"][0]["x"]) == list(PERIODS)
    inv = charts.inventory_at_risk(a, result)
    assert "- 1. &lt;B&gt;" in [ann["text"] for ann in inv["layout"]["annotations"]]


def test_workbook_text_keeps_names_raw(hostile: tuple[Dataset, Plan, Analysis]) -> None:
    """Escaping is for Markdown only: the ``tradeoffs`` sheet and the CSVs hold the
    names as the planner wrote them."""
    _, _, a = hostile
    sheet = tradeoffs_frame(build_context(a))
    text = "\n".join(sheet["text"])
    assert f"{LISTED} is below its safety stock" in text and "\\" not in text
    assert set(a.exceptions["customer"]) >= {CUSTOMER}


def test_period_ids_stay_categories_in_charts(tmp_path: Path) -> None:
    """Period ids are strings (DATASET.md keeps leading zeros): plotly read "01", "02"
    as the numbers 1 and 2 and drew a numeric axis."""
    folder = write_tables(
        tmp_path / "ds",
        {
            "periods": "period,start\n01,2026-11-30\n02,2026-12-07",
            "products": "product,priority,shortage_cost\nA,1,5",
            "lines": "line,hours\nL1,10",
            "routings": "product,line,rate\nA,L1,10",
            "forecast": "product,period,quantity\nA,01,120\nA,02,120",
        },
    )
    ds = load_dataset(folder)
    result = solve(ds, verify=False)
    a = analyse(ds, result, what_ifs=False)
    load = charts.line_load(a, result)
    assert load["layout"]["xaxis"]["type"] == "category"
    assert list(load["data"][0]["x"]) == ["01", "02"]
    inv = charts.inventory_at_risk(a, result)
    assert inv["layout"]["xaxis"]["type"] == "category"


@pytest.mark.parametrize(
    ("rows", "cols", "shared_x"),
    [(1, 1, True), (3, 1, True), (6, 1, True), (2, 2, False), (3, 2, False)],
)
def test_subplots_are_laid_out_as_plotly_lays_them_out(
    rows: int, cols: int, shared_x: bool
) -> None:
    """The charts' grid of plots (built as data, without plotly's figure objects) has
    the axes, domains and titles of plotly's own ``make_subplots``."""
    from plotly.subplots import make_subplots

    titles = [f"t{i}" for i in range(rows * cols - 1)]  # one plot untitled
    vs, hs = 0.08, 0.08
    theirs = make_subplots(
        rows=rows,
        cols=cols,
        shared_xaxes=shared_x,
        subplot_titles=titles,
        vertical_spacing=vs,
        horizontal_spacing=hs,
    ).to_plotly_json()["layout"]
    ours = charts._subplots(
        rows, cols, titles, vertical_spacing=vs, horizontal_spacing=hs, shared_x=shared_x
    )["layout"]
    axes = sorted(k for k in theirs if k.startswith(("xaxis", "yaxis")))
    assert sorted(k for k in ours if k.startswith(("xaxis", "yaxis"))) == axes
    for key in axes:
        assert ours[key]["anchor"] == theirs[key]["anchor"], key
        assert ours[key]["domain"] == pytest.approx(list(theirs[key]["domain"])), key
        for prop in ("matches", "showticklabels"):
            assert ours[key].get(prop) == theirs[key].get(prop), (key, prop)
    assert len(ours["annotations"]) == len(theirs.get("annotations", ()))
    for mine, their in zip(ours["annotations"], theirs.get("annotations", ()), strict=True):
        assert mine["text"] == their["text"]
        assert (mine["x"], mine["y"]) == pytest.approx((their["x"], their["y"]))
