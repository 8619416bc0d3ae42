"""Reports written with a plan: the S&OP trade-off summary, HTML charts, workbook.

:func:`write_reports` runs the analysis (:mod:`optimizer.analysis`) and writes, into a
plan folder beside DATASET.md's files:

* ``exceptions.csv``, ``bottlenecks.csv``, ``shortage_causes.csv``: the
  machine-readable tables;
* ``tradeoffs.md``: the one-page S&OP summary;
* ``report.html``: one self-contained page with charts (plotly, inlined);
* ``plan.xlsx``: the plan tables plus the exceptions and trade-offs, formatted.

:func:`report_from_folder` does the same for a plan folder written earlier
(``soe report DATASET PLAN --out DIR``).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from optimizer.analysis import Analysis
    from optimizer.dataset import Dataset
    from optimizer.results import Plan

logger = logging.getLogger(__name__)

REPORT_FILES = (
    "exceptions.csv",
    "bottlenecks.csv",
    "shortage_causes.csv",
    "tradeoffs.md",
    "report.html",
    "plan.xlsx",
)


def write_reports(
    dataset: Dataset,
    plan: Plan,
    folder: Path,
    *,
    what_ifs: bool = True,
    what_if_seconds: float | None = None,
    strict: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Analysis | None:
    """Write the reports of a plan into ``folder`` (called before the folder is renamed).

    Parameters
    ----------
    dataset
        The dataset the plan was made from.
    plan
        A plan with tables.
    folder
        The plan folder (or any folder) to write into.
    what_ifs
        Re-solve the automatic what-ifs (:mod:`optimizer.analysis.whatif`).
    what_if_seconds
        Time limit of each what-if; default ``min(10 s, the plan's time limit)``, and
        the what-ifs are skipped when the plan itself took longer than that, unless
        they can start from the plan's basis (:attr:`Plan.basis`, LP plans).
    strict
        Raise when the analysis fails. By default a failing analysis is logged as an
        error and only ``plan.xlsx`` (the plan tables) is written, so that a report
        never costs the planner the plan itself.
    progress
        Called with a short line as each step starts (the analysis, its what-ifs, the
        files), for a console: on a large plan the reports take tens of seconds.

    Returns
    -------
    Analysis or None
        The analysis the reports show (``None`` when it failed).
    """
    from optimizer.analysis import analyse
    from optimizer.reports.excel import write_workbook

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        if progress is not None:
            progress("the reports: marginal values, shortage causes, stock moves")
        analysis = analyse(
            dataset,
            plan,
            what_ifs=what_ifs,
            what_if_seconds=what_if_seconds,
            progress=progress,
        )
    except Exception:
        if strict:
            raise
        logger.exception("the trade-off analysis failed; only plan.xlsx is written")
        write_workbook(folder / "plan.xlsx", plan.tables(), plan.summary)
        return None
    from optimizer.reports.context import build_context
    from optimizer.reports.render import write_html, write_markdown

    if progress is not None:
        progress("the reports: tradeoffs.md, report.html, plan.xlsx")
    context = build_context(analysis)
    analysis.write_tables(folder)
    write_markdown(analysis, folder / "tradeoffs.md", context)
    write_html(analysis, plan, folder / "report.html", context)
    write_workbook(folder / "plan.xlsx", workbook_sheets(analysis, plan, context), plan.summary)
    logger.info("reports written in %.2f s", time.perf_counter() - started)
    return analysis


def workbook_sheets(
    analysis: Analysis, plan: Plan, context: dict[str, Any] | None = None
) -> dict[str, pd.DataFrame]:
    """The sheets of ``plan.xlsx`` after ``summary``: trade-offs first, then the plan."""
    from optimizer.analysis import BOTTLENECK_COLUMNS, CAUSE_COLUMNS, EXCEPTION_COLUMNS
    from optimizer.reports.context import build_context

    context = context if context is not None else build_context(analysis)
    exc_extra = ["unmet", "late", "value", "family"]
    cause_extra = ["product", "customer", "priority", "share"]
    sheets = {
        "tradeoffs": tradeoffs_frame(context),
        "exceptions": analysis.exceptions[EXCEPTION_COLUMNS + exc_extra],
        "shortage_causes": analysis.causes[CAUSE_COLUMNS + cause_extra],
        "bottlenecks": analysis.bottlenecks[BOTTLENECK_COLUMNS],
        "options": analysis.options,
        "priority_decisions": analysis.priorities,
        "stock_builds": analysis.builds,
        "stock_depletions": analysis.depletions,
        "families": analysis.families,
    }
    sheets.update(plan.tables())
    return sheets


def tradeoffs_frame(context: dict[str, Any]) -> pd.DataFrame:
    """The one-page summary as rows of ``section`` and ``text`` for a sheet."""
    rows: list[tuple[str, str]] = []
    more = context["more"]

    def left_out(section: str, key: str) -> None:
        m = more[key]
        if m["count"]:
            what = f" {m['what']}" if m["what"] else ""
            rows.append((section, f"… and {m['count']} more{what} in the {m['sheet']} sheet"))

    h = context["headline"]
    fill = ", ".join(f"{f['tier']} {f['fill']} (on time {f['on_time']})" for f in h["fill"])
    rows.append(
        ("plan", f"{h['dataset']}, {h['horizon']}: {h['status']}, objective {h['objective']}")
    )
    rows.append(("fill rate", fill or h["no_fill"]))
    e = context["exceptions"]
    rows.append(("step in now", f"{e['sentence']}; {e['decide']}"))
    for c in context["causes"]:
        rows.append(
            (
                "why short",
                f"{c['kind']} {c['resource']}: {c['units']} units short. {c['explanation']}",
            )
        )
    left_out("why short", "causes")
    for b in context["bottlenecks"]:
        rows.append(
            (
                "bottleneck",
                f"{b['kind']} {b['resource']} binding in {b['periods']}: "
                + (
                    f"up to {b['worth']} ({b['best_period']})"
                    if b["helps"]
                    else "used up, but more would not lower the cost"
                ),
            )
        )
    left_out("bottleneck", "bottlenecks")
    for p in context["priorities"]:
        rows.append(("priority decision", p["text"]))
    left_out("priority decision", "priorities")
    for t in context["builds"]:
        rows.append(("stock build", t))
    left_out("stock build", "builds")
    for t in context["depletions"]:
        rows.append(("safety stock drawn", t))
    left_out("safety stock drawn", "depletions")
    for o in context["options"]:
        rows.append(
            (
                "option",
                f"{o['description']}: units {o['units']} ({o['per_tier']}), objective"
                f" {o['objective']}, spend {o['spend']}",
            )
        )
    for n in context["notes"]:
        rows.append(("note", n))
    return pd.DataFrame(rows, columns=["section", "text"])


# ------------------------------------------------------------------ reading a plan folder

_NUMERIC = {
    "production": ("quantity", "hours"),
    "inventory": (
        "opening",
        "produced",
        "shipped",
        "closing",
        "safety_stock",
        "below_safety_stock",
    ),
    "service": ("quantity", "on_time", "late", "unmet"),
    "shipments": ("quantity",),
    "lines": ("available_hours", "overtime_hours", "used_hours", "utilization"),
    "materials": ("opening", "received", "consumed", "closing"),
}


def read_plan(folder: str | Path) -> Plan:
    """Read a plan folder (DATASET.md "Output") back into a :class:`Plan`.

    Ids stay strings (leading zeros kept); quantities are floats, ``setup`` a bool
    and ``priority`` an int.

    Raises
    ------
    SoeError
        A table or ``summary.json`` is missing.
    """
    from optimizer.exceptions import SoeError
    from optimizer.results import TABLE_NAMES, Plan, Summary

    folder = Path(folder)
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLE_NAMES:
        path = folder / f"{name}.csv"
        if not path.is_file():
            raise SoeError(f"{folder}: no {name}.csv; is it a plan folder?")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in _NUMERIC[name]:
            frame[col] = pd.to_numeric(frame[col].replace("", None), errors="coerce").astype(
                "float64"
            )
        if name == "production":
            frame["setup"] = frame["setup"].str.strip().str.lower().isin(["true", "1"])
        if name == "service":
            frame["priority"] = frame["priority"].astype("int64")
        tables[name] = frame
    path = folder / "summary.json"
    if not path.is_file():
        raise SoeError(f"{folder}: no summary.json; is it a plan folder?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("objective_terms", "fill_rate", "on_time_rate"):
            data[key] = {k: v for k, v in (data.get(key) or {}).items() if v is not None}
        summary = Summary.model_validate(data)
    except (ValueError, TypeError, AttributeError) as exc:  # JSON, or not a summary
        raise SoeError(f"{path}: not a plan summary: {exc}") from None
    return Plan(summary, tables, folder.name)


def report_from_folder(
    dataset: Dataset,
    plan_folder: Path,
    out: Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Reports for a plan folder written earlier (``soe report``).

    Parameters
    ----------
    dataset
        The dataset the plan was made from.
    plan_folder
        A folder written by ``soe plan`` (or :meth:`Plan.write`).
    out
        Folder to write the reports into, atomically as a plan folder is (a hidden
        temporary folder beside it, renamed into place once complete): a new or empty
        folder, or an earlier report's, which is replaced as a whole; or
        ``plan_folder`` itself, whose files are kept and the reports added (see
        :func:`report_folder_problem`). The what-ifs get the plan's time limit each
        (not the 10 s of ``soe plan``).
    progress
        Called with a short line as each step of the reports starts
        (:func:`write_reports`).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    VerificationError
        The plan folder does not hold the dataset's constraints (it was made for
        another dataset, or edited since): its report would be about another plan.
    NotADirectoryError
        ``out`` is a file.
    FileExistsError
        ``out`` holds other files (another plan folder among them).
    """
    from optimizer.exceptions import VerificationError
    from optimizer.results import write_folder
    from optimizer.verify import verify_folder

    plan_folder, out = Path(plan_folder), Path(out)
    if problem := report_folder_problem(out, plan_folder):
        raise (NotADirectoryError if out.is_file() else FileExistsError)(f"{out} {problem}")
    if violations := verify_folder(dataset, plan_folder):
        raise VerificationError(violations)
    plan = read_plan(plan_folder)
    if not plan.summary.has_solution:
        from optimizer.exceptions import NoSolutionError

        raise NoSolutionError(f"{plan_folder}: the plan ended '{plan.summary.status}'")
    # a report asked for on its own may take the plan's time limit for each what-if
    limit = dataset.settings.solve.time_limit_s
    into_plan = out.resolve() == plan_folder.resolve()

    def fill(tmp: Path) -> None:
        if into_plan:  # the plan's own files go with it into the new folder
            shutil.copytree(plan_folder, tmp, dirs_exist_ok=True)
        write_reports(dataset, plan, tmp, what_if_seconds=limit, strict=True, progress=progress)

    write_folder(out, fill)
    return out


def report_folder_problem(out: Path, plan_folder: Path) -> str | None:
    """Why ``soe report`` must not write its reports into ``out``, or ``None``.

    ``out`` is replaced as a whole, so it must not exist, be empty, hold an earlier
    report only (files named in :data:`REPORT_FILES`), or be ``plan_folder`` itself.
    Another plan's folder is refused: its tables would sit beside this plan's report.
    """
    from optimizer.results import own_files

    if not out.exists():
        return None
    if not out.is_dir():
        return "is a file, not a folder"
    if out.resolve() == Path(plan_folder).resolve():
        return None
    if (out / "summary.json").is_file():
        return (
            "is another plan's folder; its tables would sit beside this plan's report."
            " Give a new or empty folder, an earlier report's, or the plan folder itself"
        )
    names = {p.name for p in own_files(out)}
    if names <= set(REPORT_FILES) and all((out / n).is_file() for n in names):
        return None
    return (
        "holds files that are not an earlier report's; the report replaces its folder as a"
        " whole, so give a new or empty folder, an earlier report's, or the plan folder itself"
    )


__all__ = [
    "REPORT_FILES",
    "read_plan",
    "report_folder_problem",
    "report_from_folder",
    "workbook_sheets",
    "write_reports",
]
