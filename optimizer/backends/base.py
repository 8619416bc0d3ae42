"""The small interface every solver backend implements.

Raw solver status codes never leave ``backends/``: each backend maps them once to
:class:`SolveStatus` plus the :class:`Limit` that stopped the solve, as MathOpt's
``TerminationReason``/``Limit`` do.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from formulations.lp import LinearModel

logger = logging.getLogger("optimizer.solver")


class SolveStatus(enum.StrEnum):
    """Our own solve outcome, the same for every backend."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a plan, stopped by a limit before proving optimality
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"  # stopped by a limit with no plan
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


class Limit(enum.StrEnum):
    """What stopped a solve short of optimality."""

    TIME = "time"
    ITERATION = "iteration"
    INTERRUPTED = "interrupted"
    OTHER = "other"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the solve refuses impossible combinations up front."""

    integers: bool = True
    duals: bool = False
    time_limit: bool = True
    warm_start: bool = False


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float | None = None
    mip_gap: float = 0.0
    threads: int = 0
    log: Callable[[str], None] | None = None
    """Receives the solver's log lines (``--verbose``); ``None`` keeps it quiet."""
    want_duals: bool = False
    progress: Callable[[str], None] | None = None
    """Receives a short line when a MIP finds a better plan or every ~10 s of search."""
    start: np.ndarray | None = None
    """A feasible solution to start a MIP from (used where ``warm_start`` is supported)."""


@dataclass
class Solution:
    """What a backend returns: status, values, objective, bound and gap."""

    status: SolveStatus
    limit: Limit | None = None
    values: np.ndarray | None = None
    objective: float = float("nan")
    bound: float = float("nan")
    gap: float = float("nan")
    seconds: float = 0.0
    duals: np.ndarray | None = None
    message: str = ""


class Backend(Protocol):
    """A solver: takes a :class:`LinearModel`, gives a :class:`Solution`."""

    name: str
    capabilities: Capabilities

    def solve(self, model: LinearModel, options: SolveOptions) -> Solution:
        """Solve ``model`` (minimise) under ``options``."""
        ...


def relative_gap(objective: float, bound: float) -> float:
    """``|objective - bound| / max(1, |objective|)`` (0 when they agree)."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    return abs(objective - bound) / max(1.0, abs(objective))
