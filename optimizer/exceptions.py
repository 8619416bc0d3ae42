"""Errors and warnings raised by soe.

Every problem found in a dataset is a :class:`Problem` that names where it is (file or
sheet, row as a planner sees it in a spreadsheet, column) and what is wrong in a
planner's words. :class:`DatasetError` carries all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a dataset.

    Parameters
    ----------
    file
        File name (``products.csv``) or workbook sheet (``plan.xlsx[products]``).
    row
        Line number a planner sees in a spreadsheet (the header is row 1), or ``None``
        when the problem concerns the whole file or column.
    column
        Column (or settings key) at fault, or ``None``.
    message
        What is wrong, in a planner's words.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class SoeError(Exception):
    """Base class of all errors raised by soe."""


class DatasetError(SoeError, ValueError):
    """A dataset that cannot be planned; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the dataset:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])

    def __str__(self) -> str:
        return self._text()


class DatasetWarning(UserWarning):
    """Valid but suspicious input (a product with demand but no routing, an order
    after the horizon, an unknown file)."""


class SolverError(SoeError, RuntimeError):
    """The solver failed (crashed, or returned something we cannot use)."""


class BackendUnavailable(SoeError, ImportError):
    """A solver backend whose package is not installed."""


class NoSolutionError(SoeError, RuntimeError):
    """Reading a solution that does not exist (the solver stopped without one)."""


NOT_CHECKED = (
    "the constraints were not checked: the rows above name what the dataset does not have,"
    " or repeat a row (is the plan of another dataset, or edited?)"
)
"""The last violation when a plan's rows cannot all be placed in the dataset."""


class VerificationError(SoeError, RuntimeError):
    """A plan that breaks the model's constraints; ``violations`` lists them."""

    def __init__(self, violations: Iterable[str]) -> None:
        self.violations: tuple[str, ...] = tuple(violations)
        n = len(self.violations)
        if n and self.violations[-1] == NOT_CHECKED:
            lines = ["the plan cannot be checked against the dataset:"]
        else:
            lines = [f"the plan breaks {n} constraint{'s' if n != 1 else ''}:"]
        lines += [f"  - {v}" for v in self.violations[:50]]
        if n > 50:
            lines.append(f"  ... and {n - 50} more")
        super().__init__("\n".join(lines))
