"""Reports written with a plan: the S&OP trade-off summary, HTML charts, workbook."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optimizer.dataset import Dataset
    from optimizer.results import Plan


def write_reports(dataset: Dataset, plan: Plan, folder: Path) -> None:
    """Write the reports into a plan folder (called before the folder is renamed)."""
    from optimizer.reports.excel import write_workbook

    write_workbook(Path(folder) / "plan.xlsx", plan.tables(), plan.summary)


def report_from_folder(dataset: Dataset, plan_folder: Path, out: Path) -> Path:
    """Reports for a plan folder written earlier (``soe report``)."""
    raise NotImplementedError("soe report is not built yet")
