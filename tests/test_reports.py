"""The reports written with a plan: tables, one-page summary, HTML charts, workbook.

The HTML report is opened in a real headless Chromium (Debian's ``chromium``
package) and must draw its plotly charts from the inlined bundle, offline.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from optimizer import Dataset, DatasetWarning, load_dataset
from optimizer.analysis import (
    BOTTLENECK_COLUMNS,
    CAUSE_COLUMNS,
    EXCEPTION_COLUMNS,
    Analysis,
    analyse,
)
from optimizer.cli import main
from optimizer.exceptions import SoeError
from optimizer.reports import (
    REPORT_FILES,
    charts,
    read_plan,
    report_from_folder,
    tradeoffs_frame,
    write_reports,
)
from optimizer.reports.context import build_context
from optimizer.reports.render import html, markdown
from optimizer.results import Plan
from optimizer.solve import plan as solve
from tests.conftest import DATA, write_tables

# A (tier 1) and B (tier 2) share line L1 (10 h at 10 units/h: 100 a week for 120 of
# demand); B also needs a cap M per unit: 30 in stock, the next 100 arrive in W3 with
# PO 4500001182 from CapCo. B's order 0045 of customer SHOP is due in W1.
CAPS = {
    "periods": "period,start\nW1,2026-11-30\nW2,2026-12-07\nW3,2026-12-14",
    "products": "product,family,priority,shortage_cost\nA,soap,1,5\nB,soap,2,5",
    "lines": "line,hours\nL1,10",
    "routings": "product,line,rate\nA,L1,10\nB,L1,10",
    "materials": "material,initial_inventory,holding_cost,description\nM,30,0.01,flip cap",
    "bom": "product,material,quantity_per_unit\nB,M,1",
    "receipts": "material,period,quantity,po,supplier\nM,W3,100,4500001182,CapCo",
    "customers": "customer,priority\nSHOP,2",
    "orders": "order,customer,product,period,quantity\n0045,SHOP,B,W1,20",
    "forecast": "product,period,quantity\n"
    + "\n".join(f"{p},W{t},60" for p in "AB" for t in (1, 2, 3)),
}

# LINE_WEEKS: L1 makes 100 a week (10 h at 10 an hour) of A's (tier 1) and B's (tier 2)
# 60 in each of W8-W11: B is 20 short every week (holding, at 0.01, builds nothing ahead).
LINE_WEEKS = {
    "base": False,
    "periods": "period,start\n" + "\n".join(f"W{w},2026-03-{w + 1:02d}" for w in range(8, 12)),
    "products": "product,priority,shortage_cost,holding_cost\nA,1,5,0.01\nB,2,5,0.01",
    "lines": "line,hours\nL1,10",
    "routings": "product,line,rate\nA,L1,10\nB,L1,10",
    "forecast": "product,period,quantity\n"
    + "\n".join(f"{p},W{w},60" for p in "AB" for w in range(8, 12)),
}

SHEETS = [
    "summary",
    "tradeoffs",
    "exceptions",
    "shortage_causes",
    "bottlenecks",
    "options",
    "priority_decisions",
    "stock_builds",
    "stock_depletions",
    "families",
    "production",
    "inventory",
    "service",
    "shipments",
    "lines",
    "materials",
]


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, Plan, Path]:
    """The CAPS dataset, its plan, and the plan folder written with its reports."""
    root = tmp_path_factory.mktemp("reports")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load_dataset(write_tables(root / "caps", CAPS))
    result = solve(ds, verify=False)
    folder = result.write(
        root / "plan", extra=lambda tmp: write_reports(ds, result, tmp, strict=True)
    )
    return ds, result, folder


def test_plan_folder_holds_every_report(planned: tuple[Dataset, Plan, Path]) -> None:
    _, _, folder = planned
    for name in REPORT_FILES:
        assert (folder / name).is_file(), name
    for name, columns in (
        ("exceptions.csv", EXCEPTION_COLUMNS),
        ("bottlenecks.csv", BOTTLENECK_COLUMNS),
        ("shortage_causes.csv", CAUSE_COLUMNS),
    ):
        frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        assert list(frame.columns) == columns, name
    exc = pd.read_csv(folder / "exceptions.csv", dtype=str, keep_default_na=False)
    assert "0045" in set(exc["entry"])  # ids keep their leading zeros
    assert set(exc["escalate"]) <= {"true", "false"}


def test_tradeoffs_page_names_the_bottleneck_and_the_receipt(
    planned: tuple[Dataset, Plan, Path],
) -> None:
    _, _, folder = planned
    text = (folder / "tradeoffs.md").read_text()
    assert text.startswith("# S&OP trade-offs: caps")
    for section in (
        "Step in now",
        "Why we are short",
        "Bottlenecks",
        "Priority decisions",
        "Inventory",
        "Options",
        "Families",
    ):
        assert section in text
    assert "line **L1**" in text
    assert "material **M**" in text
    assert "PO 4500001182 from CapCo" in text
    assert len(text.splitlines()) < 90  # one page


@pytest.fixture(scope="module")
def bodywash_analysed(bodywash: Dataset) -> tuple[Plan, Analysis]:
    """The demo's plan and its analysis (without the what-ifs)."""
    result = solve(bodywash)
    return result, analyse(bodywash, result, what_ifs=False)


_MORE = re.compile(r"… and (\d+) more(?: \w+)? in (.+?)\.?")


def _shown_and_more(rows: list[str]) -> tuple[int, int, str]:
    """Rows listed, the count a "… and N more in X." line adds and its X ("" if none)."""
    pointers = [m for r in rows if (m := _MORE.fullmatch(r.strip()))]
    assert len(pointers) <= 1, pointers
    listed = len(rows) - len(pointers)
    return (listed, int(pointers[0][1]), pointers[0][2]) if pointers else (listed, 0, "")


def test_every_cut_list_says_how_many_more_and_where(
    bodywash_analysed: tuple[Plan, Analysis], monkeypatch: pytest.MonkeyPatch
) -> None:
    """tradeoffs.md announced "Builds (6):" and listed 5, and "Safety stock drawn down
    (12):" listed 5, with no word of the others (only section 1 said "… and 17 more in
    `exceptions.csv`"); causes, bottlenecks and priority decisions were cut at 8 the
    same way, and so were report.html and the workbook's tradeoffs sheet. Now every cut
    list ends with how many more there are and the file (or sheet) that holds them all.
    With 1 row a section every section of the demo is cut."""
    result, a = bodywash_analysed
    monkeypatch.setattr("optimizer.reports.context.TOP", 1)
    context = build_context(a)
    # section: (rows in all, the CSV holding them or None, the sheet of plan.xlsx)
    held = {
        "exceptions": (len(a.exceptions), "exceptions.csv", "exceptions"),
        "causes": (
            a.causes.groupby(["cause_kind", "resource"]).ngroups,
            "shortage_causes.csv",
            "shortage_causes",
        ),
        "bottlenecks": (
            a.bottlenecks.groupby(["kind", "resource"]).ngroups,
            "bottlenecks.csv",
            "bottlenecks",
        ),
        "priorities": (len(a.priorities), None, "priority_decisions"),
        "builds": (len(a.builds), None, "stock_builds"),
        "depletions": (len(a.depletions), None, "stock_depletions"),
    }
    builds_total, depletions_total = held["builds"][0], held["depletions"][0]
    assert min(builds_total, depletions_total) > 5  # more than tradeoffs.md lists
    assert min(n for n, _, _ in held.values()) > 1 and held["exceptions"][0] > 5  # 1 + 4 shown

    # tradeoffs.md: the table rows and bullets of each section
    text = markdown(a, context)
    body = re.split(r"^## \d\. .*$", text, flags=re.MULTILINE)
    builds, depletions = body[5].split("Safety stock drawn down")
    assert f"Builds ({builds_total}):" in builds and f"({depletions_total}):" in depletions
    for (name, (total, csv, sheet)), block in zip(
        held.items(), [*body[1:5], builds, depletions], strict=True
    ):
        lines = block.splitlines()
        table = [r for r in lines if r.startswith("|")][2:]  # below the header
        listed, more, at = _shown_and_more(table + [r for r in lines if r.startswith(("- ", "…"))])
        assert listed + more == total, name
        assert at == (f"`{csv}`" if csv else f"the `{sheet}` sheet of `plan.xlsx`"), name

    # report.html: the rows and items of each section
    page = html(a, result, context)
    sections = dict(re.findall(r'<section id="(\w+)">(.*?)</section>', page, flags=re.DOTALL))
    builds, depletions = sections["inventory"].split("Safety stock drawn down")
    blocks = [sections[k] for k in ("exceptions", "causes", "bottlenecks", "priorities")]
    for (name, (total, csv, sheet)), block in zip(
        held.items(), [*blocks, builds, depletions], strict=True
    ):
        rows = re.findall(r"<(?:tr><td|li)>(.*?)</(?:tr|li)>", block, flags=re.DOTALL)
        listed, more, at = _shown_and_more(rows + re.findall(r">(… .*?)</p>", block))
        assert listed + more == total, name
        assert at == (csv or f"the {sheet} sheet of plan.xlsx"), name

    # the workbook's tradeoffs sheet (exceptions are counted there, never listed)
    rows = tradeoffs_frame(context)
    for name, section in (
        ("causes", "why short"),
        ("bottlenecks", "bottleneck"),
        ("priorities", "priority decision"),
        ("builds", "stock build"),
        ("depletions", "safety stock drawn"),
    ):
        total, _, sheet = held[name]
        listed, more, at = _shown_and_more(list(rows.loc[rows["section"] == section, "text"]))
        assert (listed + more, at) == (total, f"the {sheet} sheet"), name


def test_charts_say_which_lines_and_products_they_leave_out(
    bodywash_analysed: tuple[Plan, Analysis], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line-load and inventory charts draw at most 6 lines and products: a title
    that leaves some out says which it draws, of how many, and where all of them are."""
    result, a = bodywash_analysed
    load = charts.line_load(a, result)["layout"]["title"]["text"]
    assert load == "Line load by week vs capacity"  # the demo's 3 lines, all drawn
    monkeypatch.setattr(charts, "MAX_LINES", 2)
    monkeypatch.setattr(charts, "MAX_PRODUCTS", 2)
    load = charts.line_load(a, result)["layout"]["title"]["text"]
    assert load.endswith("(the 2 most loaded of 3; all in lines.csv)")
    at_risk = len(charts.products_at_risk(a))
    assert at_risk > 2
    stock = charts.inventory_at_risk(a, result)["layout"]["title"]["text"]
    assert stock.endswith(f"(the 2 most exposed of {at_risk}; all in inventory.csv)")


# A reason a stock move is planned, as it reads after "ahead of" and after the colon
_REASON = re.compile(
    r"(line \S+|lines \S+(?:, \S+)* and \S+) (with no hours|at capacity"
    r"(?: \(overtime only\))?)|material \S+ short"
)


def test_stock_moves_give_their_reasons_in_one_grammar(
    bodywash_analysed: tuple[Plan, Analysis],
) -> None:
    """A build of the demo read "ahead of line L2 no hours in 2026-W51" under one that
    read "ahead of no hours on L2": the reason a line gives reads "line L2 with no
    hours", as "line L1 at capacity" and "material CAP-38 short" do."""
    _, a = bodywash_analysed
    builds = dict(zip(a.builds["product"], a.builds["explanation"], strict=True))
    # L2 is down in 2026-W51: what it makes is built ahead (which products the plan
    # builds the week before and which two weeks before is a tie of their costs)
    ahead_of_l2 = [
        t for t in builds.values() if t.endswith(": ahead of line L2 with no hours in 2026-W51")
    ]
    assert ahead_of_l2, builds
    for text in [*a.builds["explanation"], *a.depletions["explanation"]]:
        reason = text.split(": ahead of " if " builds " in text else ": ")[-1]
        period = reason.rsplit(" in ", 1)[-1]
        assert _REASON.fullmatch(reason.removesuffix(f" in {period}")), text


# A is due 50 in W1 and 150 (or 250) in W2, shortage 10, holding 0.01; on L2 alone
# it is made at 100 a week, 150 with the overtime (at 1 an hour)
_BUILD = {
    "periods": "period,start\nW1,2026-11-30\nW2,2026-12-07",
    "products": "product,shortage_cost,holding_cost\nA,10,0.01",
    "lines": "line,hours,overtime_hours,overtime_cost\nL1,100,0,0\nL2,10,5,1",
    "routings": "product,line,rate\nA,L2,10",
    "forecast": "product,period,quantity\nA,W1,50\nA,W2,150",
}
_DUE_250 = "product,period,quantity\nA,W1,50\nA,W2,250"


@pytest.mark.parametrize(
    ("tables", "reason"),
    [
        # on L1 or L2, both down in W2: W1 makes W2's 150 too
        (
            {
                "routings": "product,line,rate\nA,L1,10\nA,L2,10",
                "line_calendar": "line,period,hours,overtime_hours\nL1,W2,0,0\nL2,W2,0,0",
            },
            "lines L1 and L2 with no hours in W2",
        ),
        # L2 (run cost 1) down in W2, L1 (run cost 5) not: W1 fills L2 for W2
        (
            {
                "routings": "product,line,rate,run_cost\nA,L1,10,5\nA,L2,10,1",
                "line_calendar": "line,period,hours,overtime_hours\nL2,W2,0,0",
            },
            "line L2 with no hours in W2",
        ),
        # L2 on its 5 h of overtime alone in W2 (50 units) while 250 are due
        (
            {
                "line_calendar": "line,period,hours,overtime_hours\nL2,W2,0,5",
                "forecast": _DUE_250,
            },
            "line L2 at capacity (overtime only) in W2",
        ),
        # L2 makes 150 a week with its overtime, 250 are due in W2
        ({"forecast": _DUE_250}, "line L2 at capacity in W2"),
        # 150 caps M in all (held at 0.05 a week, an A at 0.01): used up in W1
        (
            {
                "materials": "material,initial_inventory,holding_cost\nM,150,0.05",
                "bom": "product,material,quantity_per_unit\nA,M,1",
            },
            "material M short in W2",
        ),
    ],
)
def test_every_reason_of_a_build_reads_the_same_way(
    make: Callable[..., Dataset], tables: dict[str, str], reason: str
) -> None:
    """A build's reason is a line down (every line of the product, or the one whose
    hour is worth most), a line at capacity (on overtime alone, or not) or a material
    short: each reads "<kind> <name> <state> in <period>" after "ahead of"."""
    ds = make(base=False, **{**_BUILD, **tables})
    result = solve(ds, verify=False)
    build = analyse(ds, result, what_ifs=False).builds.iloc[0]
    assert build["explanation"].endswith(f", drawn down from W2: ahead of {reason}")


def test_workbook_has_plan_and_tradeoff_sheets(planned: tuple[Dataset, Plan, Path]) -> None:
    _, _, folder = planned
    wb = openpyxl.load_workbook(folder / "plan.xlsx")
    try:
        assert wb.sheetnames == SHEETS
        for name in SHEETS:
            assert wb[name].freeze_panes == "A2", name
        exc = wb["exceptions"]
        header = [c.value for c in exc[1]]
        assert header[: len(EXCEPTION_COLUMNS)] == EXCEPTION_COLUMNS
        qty = header.index("quantity") + 1
        assert exc.cell(row=2, column=qty).number_format == "#,##0.00"
        texts = [c.value for c in wb["tradeoffs"]["B"][1:]]
        assert any("PO 4500001182" in str(t) for t in texts)
        assert wb["tradeoffs"].column_dimensions["B"].width >= 60
    finally:
        wb.close()


def test_report_for_an_existing_plan_folder(
    planned: tuple[Dataset, Plan, Path], tmp_path: Path
) -> None:
    ds, _, folder = planned
    out = report_from_folder(ds, folder, tmp_path / "again")
    for name in ("exceptions.csv", "bottlenecks.csv", "shortage_causes.csv"):
        first = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        again = pd.read_csv(out / name, dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(first, again)
    assert (out / "report.html").is_file() and (out / "plan.xlsx").is_file()


def test_read_plan_round_trip(planned: tuple[Dataset, Plan, Path]) -> None:
    _, result, folder = planned
    back = read_plan(folder)
    assert back.summary == result.summary
    pd.testing.assert_frame_equal(
        back.service[["entry", "priority", "unmet"]], result.service[["entry", "priority", "unmet"]]
    )
    assert back.production["setup"].dtype == bool


def test_cli_report(
    planned: tuple[Dataset, Plan, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``soe report`` writes the reports, saying each step as it starts (it does
    nothing else, and a large plan's report takes a while: generated l's, 11 s)."""
    _, _, folder = planned
    dataset = folder.parent / "caps"
    assert main(["report", str(dataset), str(folder), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "tradeoffs.md").is_file()
    err = capsys.readouterr().err
    assert "s  the reports: marginal values, shortage causes, stock moves" in err
    assert "s  the reports: tradeoffs.md, report.html, plan.xlsx" in err
    assert main(["report", str(dataset), str(tmp_path / "nothing"), "--out", str(tmp_path)]) != 0


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name to bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _siblings(folder: Path) -> set[str]:
    return {p.name for p in folder.parent.iterdir()}


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("workbook folder", "holds the dataset; give another folder (the report replaces"),
        ("csv dataset", "is the dataset; give another folder (the report replaces"),
        ("other plan", "is another plan's folder"),
        ("other files", "holds files that are not an earlier report's"),
        ("file", "is a file, not a folder"),
    ],
)
def test_report_refuses_the_folders_plan_refuses(
    planned: tuple[Dataset, Plan, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    message: str,
) -> None:
    """``soe report --out`` wrote into any folder: over a dataset workbook named
    ``plan.xlsx`` (the dataset was lost), among a CSV dataset's files, into another
    plan's folder (its tables beside this plan's report), and an existing file gave
    "internal error: FileExistsError". Now each is refused with exit 2, untouched."""
    _, _, folder = planned
    caps = folder.parent / "caps"
    dataset = caps
    if case == "workbook folder":
        out = tmp_path / "wb"
        out.mkdir()
        with pd.ExcelWriter(out / "plan.xlsx") as book:
            for csv in sorted(caps.glob("*.csv")):
                pd.read_csv(csv, dtype=str).to_excel(book, sheet_name=csv.stem, index=False)
        dataset = out / "plan.xlsx"
    elif case == "csv dataset":
        out = dataset = Path(shutil.copytree(caps, tmp_path / "caps"))
    elif case == "other plan":
        out = Path(shutil.copytree(folder, tmp_path / "other"))
        (out / "service.csv").write_text("entry\n")  # not this plan's tables
    elif case == "other files":
        out = tmp_path / "mine"
        out.mkdir()
        (out / "notes.txt").write_text("keep me")
    else:
        out = tmp_path / "afile"
        out.write_text("keep me")
    before = _snapshot(out) if out.is_dir() else {"": out.read_bytes()}
    assert main(["report", str(dataset), str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"error: --out {out}: {message}" in err and "internal error" not in err
    assert (_snapshot(out) if out.is_dir() else {"": out.read_bytes()}) == before
    assert not [n for n in _siblings(out) if n.startswith(".")]  # no temporary folder left


def test_report_replaces_an_earlier_report_or_joins_its_plan(
    planned: tuple[Dataset, Plan, Path], tmp_path: Path
) -> None:
    """A second ``soe report`` into the same folder replaces the first report; given
    the plan folder itself, the reports are added beside the plan's own files."""
    _, _, folder = planned
    dataset = folder.parent / "caps"
    out = tmp_path / "r"
    assert main(["report", str(dataset), str(folder), "--out", str(out)]) == 0
    (out / "tradeoffs.md").write_text("stale")
    assert main(["report", str(dataset), str(folder), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    assert (out / "tradeoffs.md").read_text().startswith("# S&OP trade-offs")
    plan = Path(shutil.copytree(folder, tmp_path / "plan"))
    for name in REPORT_FILES:
        (plan / name).unlink()
    tables = _snapshot(plan)
    assert main(["report", str(dataset), str(plan), "--out", str(plan)]) == 0
    after = _snapshot(plan)
    assert {k: after[k] for k in tables} == tables
    assert set(after) == set(tables) | set(REPORT_FILES)
    assert (plan / "tradeoffs.md").read_bytes() == (out / "tradeoffs.md").read_bytes()
    assert sorted(_siblings(plan)) == ["plan", "r"]


@pytest.mark.parametrize("into_plan", [False, True])
def test_a_failed_report_leaves_the_folder_as_it_was(
    planned: tuple[Dataset, Plan, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    into_plan: bool,
) -> None:
    """``soe report`` wrote its files one by one into ``--out``: one that failed half
    way left a mix of new and old files. Now they are written beside it first."""
    import optimizer.reports

    _, _, folder = planned
    dataset = folder.parent / "caps"
    work = tmp_path / "work"
    work.mkdir()
    plan = Path(shutil.copytree(folder, work / "plan"))
    out = plan if into_plan else work / "r"
    if not into_plan:
        out.mkdir()
        (out / "tradeoffs.md").write_text("the earlier report")
    before = _snapshot(out)
    write = optimizer.reports.write_reports

    def broken(dataset: Dataset, plan: Plan, folder: Path, **kwargs: object) -> None:
        write(dataset, plan, folder, what_ifs=False, strict=True)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(optimizer.reports, "write_reports", broken)
    assert main(["report", str(dataset), str(plan), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write the report folder {out}" in err and "nothing was written" in err
    assert _snapshot(out) == before
    assert sorted(p.name for p in work.iterdir()) == sorted({"plan", out.name})


def test_report_on_a_missing_plan_folder_is_an_input_error(
    planned: tuple[Dataset, Plan, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "the plan breaks 1 constraint: ... no such plan folder"."""
    _, _, folder = planned
    missing = tmp_path / "nothing"
    out = tmp_path / "r"
    assert main(["report", str(folder.parent / "caps"), str(missing), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {missing}: no such plan folder; no report was written.\n"
    assert not out.exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (None, "the plan cannot be checked against the dataset"),  # of another dataset
        ({"summary.json": "{"}, "summary.json cannot be read"),
        (
            {"production.csv": "product,line,period,quantity,hours,setup\nA,L1,W1,abc,1,true\n"},
            "'abc' is not a finite number",
        ),
    ],
)
def test_report_refuses_a_plan_that_does_not_hold(
    planned: tuple[Dataset, Plan, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: dict[str, str] | None,
    message: str,
) -> None:
    """``soe report`` wrote a report for any plan folder: one made for another dataset,
    or edited since, gave a report about a plan that is not there (or an internal error
    for a damaged summary). Now it checks the folder first: exit 2, nothing written."""
    ds, _, folder = planned
    dataset = folder.parent / "caps"
    if damage is None:
        dataset = DATA / "tiny"
    else:
        folder = Path(shutil.copytree(folder, tmp_path / "edited"))
        for name, text in damage.items():
            (folder / name).write_text(text)
    out = tmp_path / "r"
    assert main(["report", str(dataset), str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "no report was written" in err and "internal error" not in err
    assert not out.exists()
    if damage and "summary.json" in damage:
        with pytest.raises(SoeError, match="not a plan summary"):
            read_plan(folder)


def test_a_failed_analysis_still_writes_the_plan_workbook(
    planned: tuple[Dataset, Plan, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ds, result, _ = planned

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("optimizer.analysis.analyse", broken)
    with caplog.at_level(logging.ERROR):
        assert write_reports(ds, result, tmp_path) is None
    assert (tmp_path / "plan.xlsx").is_file()
    assert not (tmp_path / "report.html").exists()
    assert "analysis failed" in caplog.text
    with pytest.raises(RuntimeError):
        write_reports(ds, result, tmp_path, strict=True)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_html_report_is_self_contained(planned: tuple[Dataset, Plan, Path]) -> None:
    _, _, folder = planned
    html = (folder / "report.html").read_text()
    assert not re.search(r"<script[^>]+src=", html)  # plotly.js is inline
    assert not re.search(r"<link[^>]+href=\"https?:", html)
    assert html.count('class="plotly-graph-div"') == 4


@pytest.mark.skipif(
    _chromium() is None,
    reason="headless Chromium is not installed (Debian package 'chromium'; .ci/run installs it)",
)
def test_html_charts_render_in_headless_chromium(
    planned: tuple[Dataset, Plan, Path], tmp_path: Path
) -> None:
    _, _, folder = planned
    exe = _chromium()
    assert exe is not None
    run = subprocess.run(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            (folder / "report.html").resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = run.stdout
    assert run.returncode == 0, run.stderr[-2000:]
    # plotly.js ran: each chart div became a plot with its SVG layers
    assert dom.count("js-plotly-plot") >= 4
    assert dom.count('class="main-svg"') >= 8
    for chart in ("chart-fill", "chart-waterfall", "chart-load", "chart-inventory"):
        assert f'id="{chart}"' in dom
    assert "Line load by week vs capacity" in dom


def test_plan_workbook_formats(planned: tuple[Dataset, Plan, Path], tmp_path: Path) -> None:
    """The plan tables' workbook (``Plan.to_excel``, ``--excel`` without reports)."""
    from optimizer.reports.excel import write_workbook

    _, result, _ = planned
    path = write_workbook(tmp_path / "plan.xlsx", result.tables(), result.summary)
    wb = openpyxl.load_workbook(path)
    try:
        assert wb.sheetnames == ["summary", *SHEETS[-6:]]
        lines = wb["lines"]
        assert lines.freeze_panes == "A2"
        assert lines["A1"].font.b
        header = [c.value for c in lines[1]]
        util = header.index("utilization") + 1
        assert lines.cell(row=2, column=util).number_format == "0.0%"
        assert lines.auto_filter.ref is not None
        service = wb["service"]
        entries = [c.value for c in service["A"][1:]]
        assert "0045" in entries  # an id stays text
    finally:
        wb.close()


def test_the_what_ifs_do_not_repeat_the_datasets_warnings(
    bodywash: Dataset, tmp_path: Path
) -> None:
    """Each what-if re-validates a changed copy of the dataset, which warned again (to
    stderr, with file and line) about what the dataset's own warnings said already: a
    product with demand and no routing gave six more lines under ``soe plan``."""
    keep = ~bodywash.routings["product"].isin(["HS-ALOE-REF", "HS-CITRUS-REF"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = bodywash.replace(routings=bodywash.routings[keep])
    assert any("has demand but no routing" in w for w in ds.warnings)
    result = solve(ds)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        write_reports(ds, result, tmp_path, strict=True)
    assert [str(w.message) for w in seen if issubclass(w.category, DatasetWarning)] == []
    assert (tmp_path / "tradeoffs.md").is_file()


def test_an_order_without_a_customer_is_not_called_forecast(
    make: Callable[..., Dataset],
) -> None:
    """Order O1 has a blank customer (DATASET.md allows it); tradeoffs.md and report.html
    called it "(forecast)" and the console "forecast". L1 makes 10 a week of the 30 of
    O1 and the 30 of B's forecast due in W1 (nothing may ship late): A, dearer, gets
    them, O1 is 20 short and B 30."""
    from optimizer.reports.text import plan_summary

    ds = make(
        base=False,
        products="product,priority,shortage_cost\nA,2,5\nB,2,4",
        lines="line,hours\nL1,1",
        routings="product,line,rate\nA,L1,10\nB,L1,10",
        orders="order,customer,product,period,quantity\nO1,,A,W1,30",
        forecast="product,period,quantity\nB,W1,30",
    )
    result = solve(ds, verify=False)
    a = analyse(ds, result, what_ifs=False)
    assert list(a.exceptions["entry"]) == ["forecast:B:W1", "O1"]  # the larger first
    page = markdown(a)
    assert "| now | W1 | 2 | A | (no customer) | 20 | 0 | 100 |" in page
    assert "| now | W1 | 2 | B | (forecast) | 30 | 0 | 120 |" in page
    page = html(a, result)
    assert "<td>A</td><td>(no customer)</td><td>O1</td>" in page
    assert "<td>B</td><td>(forecast)</td><td>forecast:B:W1</td>" in page
    console = plan_summary(ds, result)
    assert "W1         tier 2  A            (no customer)  30 due: 20 unmet" in console
    assert "W1         tier 2  B            (forecast)     30 due: 30 unmet" in console


def test_quantities_below_half_a_unit_are_shown(make: Callable[..., Dataset]) -> None:
    """Quantities in thousands: L1 makes 1 a week (0.1 h at 10 an hour) of A's and B's
    0.6; A (tier 1) gets 0.6, B is 0.2 short in W1 and W2. The shift what-if serves
    both, at 5 a unit, run 1 a unit and holding 1: objective -2.00 + 0.60 = -1.40. The
    option read "0 | none | 0" and "of which" was blank: everything below 0.5 was 0."""
    ds = make(
        base=False,
        products="product,priority,holding_cost,shortage_cost\nA,1,1,5\nB,2,1,5",
        lines="line,hours\nL1,0.1",
        routings="product,line,rate,run_cost\nA,L1,10,1\nB,L1,10,1",
        forecast="product,period,quantity\nA,W1,0.6\nA,W2,0.6\nB,W1,0.6\nB,W2,0.6",
    )
    a = analyse(ds, solve(ds, verify=False))
    page = markdown(a)
    assert "| line **L1** | 0.40 | 0.40 unmet | 2 (tier 2) |" in page
    assert "| +0.40 | tier 2 +0.40 | +0.40 | -1.40 | +0.60 |" in page


@pytest.mark.parametrize(
    ("horizon", "heading", "dues"),
    [
        (None, "short in the first 3 periods, the exceptions window (W8–W10; 3 entries):", 3),
        (0, "short in the first period, the exceptions window (W8; 1 entry):", 1),
    ],
)
def test_console_shortages_cover_the_exceptions_window(
    make: Callable[..., Dataset], horizon: int | None, heading: str, dues: int
) -> None:
    """The console listed "the first two periods" whatever ``[exceptions]
    horizon_periods`` said (the report's exceptions cover the first period and the 2
    after it by default), sorted them as text (W10 before W8) and said "1 entries".
    L1 makes 100 a week of A's and B's 60: B (tier 2) is 20 short every week."""
    from optimizer.reports.text import plan_summary

    settings = {} if horizon is None else {"settings": f"[exceptions]\nhorizon_periods = {horizon}"}
    ds = make(
        **{
            **LINE_WEEKS,
            **settings,
        }
    )
    result = solve(ds, verify=False)
    text = plan_summary(ds, result).splitlines()
    at = text.index(heading)
    rows = [line.split()[0] for line in text[at + 1 : at + 1 + dues]]
    assert rows == ["W8", "W9", "W10"][:dues]
    assert text[at + 1] == "  W8         tier 2  B            (forecast)     60 due: 20 unmet"
    assert len(text) == at + 1 + dues  # W11 is not in the window
    assert len(analyse(ds, result, what_ifs=False).exceptions) == dues


def test_every_markdown_table_cell_escapes_a_bar(make: Callable[..., Dataset]) -> None:
    """Only customers and explanations were escaped: a product, line, family or period
    id with a ``|`` gave its row of the exceptions, causes, bottlenecks and families
    tables an extra column."""
    ds = make(
        base=False,
        periods="period,start\nW|1,2026-11-30\nW|2,2026-12-07",
        products="product,family,priority,shortage_cost\nA|1,f|g,1,5\nB|2,f|g,2,5",
        lines="line,hours\nL|1,10",
        routings="product,line,rate\nA|1,L|1,10\nB|2,L|1,10",
        forecast="product,period,quantity\nA|1,W|1,60\nA|1,W|2,60\nB|2,W|1,60\nB|2,W|2,60",
    )
    page = markdown(analyse(ds, solve(ds, verify=False), what_ifs=False))
    rows = [line for line in page.splitlines() if line.startswith("|")]
    assert any("B\\|2" in r for r in rows) and any("L\\|1" in r for r in rows)
    assert any(r.startswith("| f\\|g |") for r in rows)
    for table in re.split(r"\n(?!\|)", "\n".join(page.splitlines())):
        cells = [len(re.split(r"(?<!\\)\|", r)) for r in table.splitlines() if r.startswith("|")]
        assert len(set(cells)) <= 1, table


@pytest.mark.parametrize(
    ("periods", "sentence"),
    [
        (
            "period,start\nW1,2026-11-30",
            "1 entry is out of stock now (20 units); **1 needs an executive decision**.",
        ),
        (
            "period,start\nW1,2026-11-30\nW2,2026-12-07",
            "1 entry is out of stock now and 1 projected out of stock in the next period"
            " (40 units); **2 need an executive decision**.",
        ),
    ],
)
def test_exceptions_sentence_counts_the_periods_the_plan_has(
    make: Callable[..., Dataset], periods: str, sentence: str
) -> None:
    """A one-period plan said "1 entries are out of stock now and 0 projected out of
    stock in the next 2 periods". B (tier 1 here) is 20 short a week: L1 makes 100
    of A's and B's 60 each (holding at 0.01: nothing built ahead)."""
    ds = make(
        base=False,
        periods=periods,
        products="product,priority,shortage_cost,holding_cost\nA,1,6,0.01\nB,1,5,0.01",
        lines="line,hours\nL1,10",
        routings="product,line,rate\nA,L1,10\nB,L1,10",
        forecast="product,period,quantity\n"
        + "\n".join(f"{p},{t}" for p in "AB" for t in ("W1,60", "W2,60")[: periods.count("W")]),
    )
    page = markdown(analyse(ds, solve(ds, verify=False), what_ifs=False))
    assert sentence in page.splitlines()


def test_a_summary_without_fill_rates_says_so(
    planned: tuple[Dataset, Plan, Path], tmp_path: Path
) -> None:
    """A hand-written summary.json may leave the rates out (``soe check`` accepts it);
    the report printed "Fill rate (on time): ." and an empty chart without a word."""
    ds, _, folder = planned
    plan = Path(shutil.copytree(folder, tmp_path / "plan"))
    summary = json.loads((plan / "summary.json").read_text())
    del summary["fill_rate"], summary["on_time_rate"]
    (plan / "summary.json").write_text(json.dumps(summary))
    out = report_from_folder(ds, plan, tmp_path / "r")
    page = (out / "tradeoffs.md").read_text()
    assert (
        "Fill rate (on time): not available: the plan's summary.json gives no fill rates."
        in page.splitlines()
    )
    report = (out / "report.html").read_text()
    assert (
        '<div class="kpi">fill rate<b>n/a</b><span class="muted">not available: the'
        " plan&#39;s summary.json gives no fill rates</span></div>"
    ) in report
    sheet = pd.read_excel(out / "plan.xlsx", sheet_name="tradeoffs")
    fill = sheet.loc[sheet["section"] == "fill rate", "text"].tolist()
    assert fill == ["not available: the plan's summary.json gives no fill rates"]


@pytest.mark.parametrize(
    ("value", "quantity", "shown"),
    [
        (0.4, True, "+0.40"),
        (-0.3, False, "-0.30"),
        (0.004, True, "+0.004"),
        (-0.00012345, False, "-0.00012"),
        (1e-9, True, "0"),
        (1234.4, True, "+1,234"),
    ],
)
def test_signed_keeps_small_values(value: float, quantity: bool, shown: str) -> None:
    from optimizer.reports.context import signed

    assert signed(value, quantity=quantity) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (37.0, "37"),
        (36.9999999, "37"),
        (26.5, "26.50"),
        (0.25, "0.25"),
        (1234.4, "1,234"),
        (0.0, "0"),
        (0.004, "0.004"),
        (-7e-7, "0"),
        (7e-7, "0"),
        (2.0000008, "2"),
    ],
)
def test_quantities_drop_decimals_of_whole_numbers(value: float, shown: str) -> None:
    """The console's own ``_n`` printed ``0.00`` for 0.004 and ``-0`` for -1e-7; it is
    :func:`num` now. ``num`` printed ``0.00`` / ``-0.00`` for noise between 5e-7 and
    :data:`TOL` (``_small`` only starts above it)."""
    from optimizer.analysis._util import num

    assert num(value) == shown


def test_console_shows_shortages_below_a_hundredth(make: Callable[..., Dataset]) -> None:
    """Quantities in thousands of tonnes: L1 makes 0.006 a week (0.0006 h at 10 an
    hour) of A's and B's 0.004; A (tier 1) gets 0.004, B 0.002, so B is 0.002 short in
    W1 and W2. The console printed "0.00 due: 0.00 unmet" (the reports said 0.002)."""
    from optimizer.reports.text import plan_summary

    ds = make(
        base=False,
        products="product,priority,holding_cost,shortage_cost\nA,1,1,5\nB,2,1,5",
        lines="line,hours\nL1,0.0006",
        routings="product,line,rate,run_cost\nA,L1,10,1\nB,L1,10,1",
        forecast="product,period,quantity\nA,W1,0.004\nA,W2,0.004\nB,W1,0.004\nB,W2,0.004",
    )
    text = plan_summary(ds, solve(ds, verify=False)).splitlines()
    assert "  W1         tier 2  B            (forecast)     0.004 due: 0.002 unmet" in text
    assert "  W2         tier 2  B            (forecast)     0.004 due: 0.002 unmet" in text


def test_a_line_used_up_that_more_hours_would_not_help_is_not_priced(
    make: Callable[..., Dataset],
) -> None:
    """L1 makes exactly the 100 due each week in its 10 hours: used up, but an hour more
    lowers no cost. The reports say so instead of '0 per hour' in the first week."""
    ds = make(
        products="product,priority,shortage_cost\nA,1,5",
        routings="product,line,rate\nA,L1,10",
        forecast="product,period,quantity\nA,W1,100\nA,W2,100",
    )
    result = solve(ds)
    a = analyse(ds, result, what_ifs=False)
    line = a.bottlenecks[a.bottlenecks["kind"] == "line"]
    assert list(line["slack"]) == [0, 0] and list(line["marginal_value"]) == [0, 0]
    context = build_context(a)
    (row,) = context["bottlenecks"]
    assert (row["worth"], row["best_period"], row["helps"]) == (
        "0: more would not help",
        "–",
        False,
    )
    assert "| line **L1** | W1–W2 | 0: more would not help | – |" in markdown(a)
    sheet = tradeoffs_frame(context)
    assert "line L1 binding in W1–W2: used up, but more would not lower the cost" in list(
        sheet["text"]
    )
