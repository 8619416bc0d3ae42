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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from formulations.lp import Block, LinearModel

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


SHARED_COLUMNS = 0.9
"""The share of a model's columns a basis of another model must have (matched by
label) to start it: a what-if of the same dataset shares all but a few (generated l
with a line down for a week and a receipt a week late: all but one; 10% more forecast:
99.9%)."""


MATCH_MIN_ROWS = 2_000
"""Models with fewer rows are not started from a basis matched by label: matching
takes longer than they take to solve (generated s, 400 rows: a what-if in 0.034 s from
scratch, 0.059 s from the matched basis; m, 6,000 rows: 0.20 s and 0.10 s)."""


@dataclass(frozen=True)
class Basis:
    """An optimal simplex basis of an LP: the status of every column and row, in
    HiGHS's codes (0 at lower bound, 1 basic, 2 at upper bound, 3 zero, 4 nonbasic),
    with the column bounds it was found under.

    It warm-starts an LP whose bounds, costs or row bounds differ (the report's dual
    LP, a what-if): the solver starts from it under ``lower``/``upper``, then moves to
    the new bounds, a few hundred iterations instead of a solve from scratch. A model
    with other columns or rows (a what-if that takes a line-week's overtime away, adds
    an order of a new tier) starts from what it shares with the basis's model, matched
    by the blocks' labels (:meth:`for_model`).
    """

    col_status: np.ndarray
    row_status: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    variables: Mapping[str, Block] = field(default_factory=dict)
    """The column blocks of the model it was found on (that model's own objects, not
    copies), ``{}`` if unknown."""
    constraints: Mapping[str, Block] = field(default_factory=dict)
    """Its row blocks, likewise."""
    alien: bool = False
    """Put together by label (:meth:`for_model`): it may have more or fewer basic
    columns and rows than the model has rows, which the solver then makes good."""

    def fits(self, model: LinearModel) -> bool:
        """Whether the basis can start ``model`` as it is: the same columns, and the same
        rows or rows added after them (a lexicographic stage's limit; their slacks start
        basic); where both know their blocks, each block of the basis in the same place
        in ``model``."""
        if len(self.col_status) != model.num_cols or len(self.row_status) > model.num_rows:
            return False
        if not self.variables or not model.variables:
            return True
        return _same_places(self.variables, model.variables) and _same_places(
            self.constraints, model.constraints
        )

    def for_model(self, model: LinearModel) -> Basis | None:
        """A basis to start ``model`` from: this one where it :meth:`fits`, else one put
        together from the statuses and bounds of the columns and rows ``model`` shares
        with this basis's model, matched block by block by their labels (a block whose
        labels are not unique is left out). Columns it does not share start at a finite
        bound of their own (at zero if free), rows it does not share with their slacks
        basic. ``None`` if either does not know its blocks, if ``model`` has fewer than
        :data:`MATCH_MIN_ROWS` rows, or if they share less than
        :data:`SHARED_COLUMNS` of ``model``'s columns (another dataset, not a what-if of
        this one: from a generated l's basis another seed's l took 10.4 s, where it
        solves in 5.5 s from scratch, sharing 66% of its columns)."""
        if self.fits(model):
            return self
        if not self.variables or not model.variables or model.num_rows < MATCH_MIN_ROWS:
            return None
        shared = list(_shared(model.variables, self.variables))
        if sum(len(new) for new, _ in shared) < SHARED_COLUMNS * model.num_cols:
            return None
        col_status = np.where(
            np.isfinite(model.lower), 0, np.where(np.isfinite(model.upper), 2, 3)
        ).astype(self.col_status.dtype)
        lower, upper = model.lower.copy(), model.upper.copy()
        for new, old in shared:
            col_status[new] = self.col_status[old]
            lower[new], upper[new] = self.lower[old], self.upper[old]
        row_status = np.ones(model.num_rows, dtype=self.row_status.dtype)
        for new, old in _shared(model.constraints, self.constraints):
            row_status[new] = self.row_status[old]
        return Basis(
            col_status,
            row_status,
            lower,
            upper,
            variables=model.variables,
            constraints=model.constraints,
            alien=True,
        )

    def rows_for(self, model: LinearModel) -> np.ndarray:
        """Row statuses for ``model``: rows added after this basis's are basic (1)."""
        extra = model.num_rows - len(self.row_status)
        return np.concatenate([self.row_status, np.ones(extra, dtype=self.row_status.dtype)])


def _same_places(blocks: Mapping[str, Block], other: Mapping[str, Block]) -> bool:
    """Whether every block of ``blocks`` is in ``other`` at the same rows or columns."""
    for name, block in blocks.items():
        there = other.get(name)
        if there is None or (there.start, there.size) != (block.start, block.size):
            return False
    return True


def _shared(
    blocks: Mapping[str, Block], old: Mapping[str, Block]
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """For each block of ``blocks`` also in ``old`` with the same label columns: the
    positions (columns or rows) of its members that ``old``'s block has too, and
    theirs there."""
    for name, block in blocks.items():
        before = old.get(name)
        if before is None or block.size == 0 or before.size == 0:
            continue
        labels = list(block.index.columns)
        if not labels or labels != list(before.index.columns):
            continue
        known, keys = label_keys(before.index, block.index)
        if not known.is_unique:
            continue
        at = known.get_indexer(keys)
        hit = np.flatnonzero(at >= 0)
        yield block.start + hit, before.start + at[hit]


def label_keys(old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.Index, pd.Index]:
    """One key per row of ``old`` and of ``new`` (frames with the same columns), equal
    where their labels are: each column's labels numbered over both frames, the numbers
    combined into one integer (half the time of matching the rows as a MultiIndex:
    47 ms against 94 ms for generated l's model), or the rows as a MultiIndex where
    those integers would not fit in 62 bits or a label is missing."""
    old_key = np.zeros(len(old), dtype=np.int64)
    new_key = np.zeros(len(new), dtype=np.int64)
    span = 1
    for column in old.columns:
        both = np.concatenate([old[column].to_numpy(object), new[column].to_numpy(object)])
        codes, distinct = pd.factorize(both)
        span *= max(len(distinct), 1)
        if span >= 2**62 or (codes < 0).any():  # too many labels, or a missing one
            return pd.MultiIndex.from_frame(old), pd.MultiIndex.from_frame(new)
        old_key = old_key * len(distinct) + codes[: len(old)]
        new_key = new_key * len(distinct) + codes[len(old) :]
    return pd.Index(old_key), pd.Index(new_key)


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
    """A basis to start an LP from (HiGHS; matched by label where the model's columns or
    rows differ from its own, unused where too little is shared: :meth:`Basis.for_model`)."""
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
