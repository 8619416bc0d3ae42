"""The tables of a planning dataset, declared once (DATASET.md "Input").

Every table is a :class:`Table` of :class:`Column` s. Loading, validation, defaults and
the docs all read these declarations, so a column's meaning is written in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["id", "text", "number", "priority", "date", "period", "period_or_date"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()
"""Default of a column that must be present and non-blank."""

NONE = None
"""Default of a column whose blank cells stay blank (``NaN`` for numbers)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its kind, its default for a blank cell, and its range."""

    name: str
    kind: ColumnKind
    default: object = REQUIRED
    positive: bool = False
    """Numbers must be > 0 (else >= 0)."""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True, slots=True)
class Table:
    """One input table (a CSV file, or a sheet of the workbook)."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    """Columns that identify a row; a duplicate key is an error."""
    summed: bool = False
    """Duplicate rows are summed (forecast, receipts, previous plan) instead."""

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, kind: ColumnKind, default: object = REQUIRED, positive: bool = False) -> Column:
    return Column(name, kind, default, positive)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "periods",
            True,
            (_c("period", "id"), _c("start", "date"), _c("end", "date", NONE)),
            key=("period",),
        ),
        Table(
            "products",
            True,
            (
                _c("product", "id"),
                _c("family", "text", ""),
                _c("priority", "priority", 1),
                _c("initial_inventory", "number", 0.0),
                _c("safety_stock", "number", 0.0),
                _c("safety_stock_cost", "number", 0.0),
                _c("holding_cost", "number", 0.0),
                _c("shortage_cost", "number"),
                _c("lateness_cost", "number", 0.0),
                _c("max_inventory", "number", NONE),
            ),
            key=("product",),
        ),
        Table(
            "lines",
            True,
            (
                _c("line", "id"),
                _c("plant", "text", ""),
                _c("hours", "number"),
                _c("overtime_hours", "number", 0.0),
                _c("overtime_cost", "number", 0.0),
            ),
            key=("line",),
        ),
        Table(
            "line_calendar",
            False,
            (
                _c("line", "id"),
                _c("period", "period"),
                _c("hours", "number"),
                _c("overtime_hours", "number", NONE),
            ),
            key=("line", "period"),
        ),
        Table(
            "routings",
            True,
            (
                _c("product", "id"),
                _c("line", "id"),
                _c("rate", "number", positive=True),
                _c("setup_hours", "number", 0.0),
                _c("setup_cost", "number", 0.0),
                _c("run_cost", "number", 0.0),
                _c("min_lot", "number", 0.0),
            ),
            key=("product", "line"),
        ),
        Table(
            "materials",
            False,
            (
                _c("material", "id"),
                _c("initial_inventory", "number", 0.0),
                _c("holding_cost", "number", 0.0),
            ),
            key=("material",),
        ),
        Table(
            "bom",
            False,
            (
                _c("product", "id"),
                _c("material", "id"),
                _c("quantity_per_unit", "number", positive=True),
            ),
            key=("product", "material"),
        ),
        Table(
            "receipts",
            False,
            (
                _c("material", "id"),
                _c("period", "period_or_date"),
                _c("quantity", "number"),
                _c("po", "text", ""),
                _c("supplier", "text", ""),
            ),
            summed=True,
        ),
        Table(
            "customers",
            False,
            (_c("customer", "id"), _c("priority", "priority")),
            key=("customer",),
        ),
        Table(
            "forecast",
            False,
            (_c("product", "id"), _c("period", "period"), _c("quantity", "number")),
            summed=True,
        ),
        Table(
            "orders",
            False,
            (
                _c("order", "id"),
                _c("customer", "id", ""),
                _c("product", "id"),
                _c("period", "period_or_date"),
                _c("quantity", "number"),
                _c("priority", "priority", NONE),
            ),
            key=("order",),
        ),
        Table(
            "previous_plan",
            False,
            (
                _c("product", "id"),
                _c("line", "id"),
                _c("period", "period"),
                _c("quantity", "number"),
            ),
            summed=True,
        ),
    )
}

OBJECTIVE_TERMS = (
    "shortage",
    "lateness",
    "holding",
    "safety_stock",
    "material_holding",
    "production",
    "stability",
)
"""MODEL.md's cost terms, in order, as ``summary.json``'s ``objective_terms`` names them;
``production`` is split further into ``PRODUCTION_TERMS``."""

PRODUCTION_TERMS = ("run", "setup", "overtime")

MAX_MAGNITUDE = 1e12
"""Largest quantity or cost accepted: beyond it double-precision LP solvers lose the
digits a plan needs (a 10^15 demand beside a 0.5 holding cost cannot be solved
reliably). A documented departure from DATASET.md, which sets no upper limit."""
