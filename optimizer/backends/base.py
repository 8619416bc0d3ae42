"""The small interface every solver backend implements.

Raw solver status codes never leave ``backends/``: each backend maps them once to
:class:`SolveStatus` plus the :class:`Limit` that stopped the solve, as MathOpt's
``TerminationReason``/``Limit`` do.
"""

from __future__ import annotations

import enum
import functools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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
    incumbents: bool = False
    """Takes plans found elsewhere while its MIP search runs (:class:`Incumbents`)."""


@dataclass(frozen=True)
class Basis:
    """An optimal simplex basis of an LP: the status of every column and row, in
    HiGHS's codes (0 at lower bound, 1 basic, 2 at upper bound, 3 zero, 4 nonbasic),
    with the column bounds it was found under.

    It warm-starts an LP with the same columns and rows whose bounds, costs or row
    bounds differ (the report's dual LP, a what-if): the solver starts from it under
    ``lower``/``upper``, then moves to the new bounds, a few hundred iterations
    instead of a solve from scratch.
    """

    col_status: np.ndarray
    row_status: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    def fits(self, model: LinearModel) -> bool:
        """Whether the basis can start ``model``: the same columns, and the same rows or
        rows added after them (a lexicographic stage's limit; their slacks start basic)."""
        return len(self.col_status) == model.num_cols and len(self.row_status) <= model.num_rows

    def rows_for(self, model: LinearModel) -> np.ndarray:
        """Row statuses for ``model``: rows added after this basis's are basic (1)."""
        extra = model.num_rows - len(self.row_status)
        return np.concatenate([self.row_status, np.ones(extra, dtype=self.row_status.dtype)])


class Incumbents:
    """Plans found outside the solver while its MIP search runs, handed over as they
    come (thread-safe).

    soe's own search (:mod:`optimizer.heuristics`, :mod:`optimizer.improve`) runs
    beside the solver's branch and cut and :meth:`offer` s every better plan; a backend
    that supports it (``Capabilities.incumbents``) :meth:`take` s them at its next
    chance, so its search prunes with the best plan known and its bound and our plans
    improve at the same time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objective = float("inf")
        self._values: np.ndarray | None = None
        self._taken = True

    def offer(self, values: np.ndarray, objective: float) -> bool:
        """Offer a feasible plan; kept if it is the cheapest so far (returns whether)."""
        with self._lock:
            if not objective < self._objective:
                return False
            self._objective = objective
            self._values = values.copy()
            self._taken = False
            return True

    def take(self, worse_than: float = float("inf")) -> np.ndarray | None:
        """The cheapest plan offered, once, if it costs less than ``worse_than`` (the
        solver's own best)."""
        with self._lock:
            if self._taken or self._values is None or not self._objective < worse_than:
                return None
            self._taken = True
            return self._values

    def best(self) -> tuple[float, np.ndarray | None]:
        """Objective and values of the cheapest plan offered (``inf, None`` if none)."""
        with self._lock:
            return self._objective, self._values


class SolveThread:
    """A solve in a thread of its own, beside the caller's work (highspy releases
    Python's lock while HiGHS runs): the branch and cut beside soe's search, the search's
    sub-MIP. A Ctrl-C then reaches the caller's thread, never one of HiGHS's callbacks;
    the solve's ``cancel`` asks :attr:`cancelled`, which the caller sets when
    interrupted (:meth:`wait` does), so the solve stops at its next check."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cancelled = threading.Event()
        self._outcome: dict[str, Any] = {}
        self._thread: threading.Thread | None = None

    def start(self, solve: Callable[[], Solution]) -> None:
        def run() -> None:
            try:
                self._outcome["solution"] = solve()
            except BaseException as exc:  # re-raised in the caller's thread (result)
                self._outcome["error"] = exc

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def solution(self) -> Solution | None:
        """The solve's result once it has ended; ``None`` before, or if it failed."""
        return None if self.running else self._outcome.get("solution")

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def wait(self) -> None:
        """Until the solve ends; interrupted, it cancels the solve, waits for it to stop
        and re-raises."""
        try:
            while self.running:
                assert self._thread is not None
                self._thread.join(0.1)  # short waits: a Ctrl-C is taken between them
        except BaseException:
            self.cancelled.set()
            self.join()
            raise

    def result(self) -> Solution:
        """The solve's result once it has ended; its exception, raised here."""
        self.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        solution: Solution = self._outcome["solution"]
        return solution


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
    incumbents: Incumbents | None = None
    """Plans found beside the MIP search, for it to take as they come (where
    ``Capabilities.incumbents`` is supported)."""
    cancel: Callable[[], bool] | None = None
    """Asked at the MIP search's checks (HiGHS: between rounds of root cuts, before
    dives): ``True`` stops it as a time limit would (the caller was interrupted)."""
    found: Incumbents | None = None
    """Where the MIP search offers each better plan of its own as it finds it (for the
    search beside it to go on from; same support)."""
    basis: Basis | None = None
    """A basis to start an LP from (HiGHS; ignored where it does not fit the model)."""
    crash: Basis | None = None
    """Where an LP without a :attr:`basis` starts its simplex (HiGHS): a basis of this
    very model (its column bounds), made by the formulation (e.g.
    :meth:`~formulations.allocation.AllocationModel.crash_basis`); kept through
    :attr:`relax_first`'s first run, whose rows it leaves basic."""
    want_basis: bool = False
    """Return the optimal basis of an LP (HiGHS) in :attr:`Solution.basis`."""
    lp_method: str = ""
    """``"ipm"`` to solve an LP by the interior point method (with crossover to a
    vertex; HiGHS), ``""`` for the backend's default (HiGHS: dual simplex)."""
    clock: float | None = None
    """``time.perf_counter()`` value the progress lines count seconds from (default: the
    solve's own start), for a solve that starts after other work of the same plan."""
    bound_floor: float = float("-inf")
    """A lower bound known before the solve (soe's setup-free LP): progress lines show
    the better of it and the solver's."""
    relax_first: tuple[str, ...] = ()
    """Row blocks (names in ``LinearModel.constraints``) an LP without a :attr:`basis`
    is first solved without (from its :attr:`crash` where given): HiGHS solves it with
    those rows free, then restores them and goes on from the basis it found. Same
    optimum; on soe's allocation LP the capacity rows, which tie every product of a line
    together, are what makes the dual simplex's late iterations slow (size l: 13 s in
    one go, 7 s in two)."""


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
    basis: Basis | None = None
    iterations: int = 0
    """Simplex iterations of an LP solve (HiGHS; 0 where not reported)."""


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


@functools.cache
def cgroup_cpus() -> float | None:
    """CPUs a cgroup quota allows (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), or None."""
    try:
        text = Path("/sys/fs/cgroup/cpu.max").read_text(encoding="ascii").split()
        return None if text[0] == "max" else float(text[0]) / float(text[1])
    except (OSError, IndexError, ValueError):
        pass
    try:
        base = "/sys/fs/cgroup/cpu/cpu.cfs_"
        quota = float(Path(base + "quota_us").read_text(encoding="ascii"))
        period = float(Path(base + "period_us").read_text(encoding="ascii"))
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity (else the machine's count),
    capped by a cgroup CPU quota's whole CPUs (as ``highs.spare_cores`` counts them); at
    least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    quota = cgroup_cpus()
    if quota is not None:
        cpus = min(cpus, int(quota))
    return max(1, cpus)
