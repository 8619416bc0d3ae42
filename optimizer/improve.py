"""Improve a MILP plan's setups by local search, each move priced by a warm-started LP.

With its setups fixed the allocation MILP is an LP, and the LP of a neighbouring setup
pattern (one setup opened or closed) re-solves from the previous basis in about a
hundredth of a second on generated m (4,823 setups). That makes a plain local search
affordable on models where branch and cut spends the whole time limit at the root:

1. every open setup that makes nothing is closed (saves its cost and hours);
2. moves are ranked by the LP's reduced cost of the setup variables (a first-order
   estimate of what opening or closing them would save) and the most promising are
   priced exactly by re-solving the LP; a move that lowers the cost is kept. Single
   setups first; once ``STALL`` in a row fail, pairs (a lot moved one period earlier
   or later, or to another line of the product);
3. beside branch and cut (:func:`search` with ``stop``), on models up to
   ``SUBMIP_MAX_ROWS`` rows, after ``SUBMIP_AFTER`` of the time: a sub-MIP that lets
   HiGHS choose which of the open setups to keep and which of the ``SUBMIP_OPENINGS``
   best-ranked closed ones to open, every other setup staying closed
   (:meth:`_Search.sub_mip`), then the descent again from its plan, while time is
   left;
4. when the descent stops, blocks of setups (one line, ``KICK_PERIODS`` periods) are
   re-chosen from the LP with them relaxed and the descent rerun, kept when cheaper.

Every plan this returns is an optimal LP solution for a fixed 0/1 setup pattern (the
plans the sub-MIP reports as it goes are only plans of the model: :data:`SUBMIP_FOUND`),
so it is feasible for the MILP (the LP is the MILP with its integers fixed; the (l,S) rows
left out of the search's LPs cut no such plan).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from formulations.allocation import AllocationModel
from formulations.lp import LinearModel
from optimizer.backends.base import Basis

logger = logging.getLogger(__name__)

BATCH = 100
"""Moves priced per ranking (reduced costs go stale as moves are kept)."""
STALL = 50
"""Moves priced in a row without a better plan before single moves give way to pairs,
and pairs to the end of the search."""
SEARCH_MIN_SETUPS = 1000
""":func:`improve` searches only models with at least this many setup binaries. Below,
branch and cut's own heuristics find plans near the optimum within seconds (Trigeiro's
instances, up to a few hundred setups), and a different start only perturbs its search:
G53 took 14-16 s with the LP-rounding start, 16-29 s with the searched one."""
LINKS = ("setup", "min_lot")
"""The rows of (2): with the setups fixed, bounds on the production (:class:`_Search`)."""
REDUNDANT = ("lot_window", "lot_window_safety")
"""Valid inequalities that cut nothing once the setups are fixed: the search's LPs
leave them out (a third of the rows on generated m)."""
KICK_PERIODS = 4
"""Periods of the blocks of setups :func:`local_search` re-chooses to leave a local
optimum."""

INFEASIBLE_RETRY = 25
"""Better plans kept before a move whose LP was infeasible is priced again (on
generated m, two in five of the best-ranked openings were: a minimum lot the
materials cannot make; their reduced costs rank them first again after every move)."""

SUBMIP_AFTER = 0.4
"""Share of the search's time (beside branch and cut) for the first descent; the
sub-MIP around its setups starts then. On generated m with setups (seed 97) the
descent gains 0.3% from 25 s to 60 s; from its 60 s plan, the sub-MIP gained 0.8% in
20 s (4.854 M to 4.816 M), from its 15 s plan 1.0% in 21 s: it pays from a plan whose
setups are already good, and needs time (its first better plan came after 19-21 s;
with :data:`SUBMIP_OPENINGS`, 19-26 s)."""
SUBMIP_MIN_SECONDS = 15.0
"""No sub-MIP starts with less time left than this: on generated m its first better
plan came after 19-21 s."""
SUBMIP_MAX_ROWS = 60_000
"""The sub-MIP runs on models up to this many rows (as
:data:`optimizer.heuristics.SETUP_FREE_ROWS`: beyond, the relaxation alone is slow).
On generated l with setups (155,738 rows), 120 s: its one better plan came at 65 s, and
the plan ended at 36.9 M against 32.8 M with the descent going on instead (and 0.4 GB
more memory)."""
SUBMIP_STALL = 30.0
"""A sub-MIP that found no better plan for this long (since it started, or since its
last one) stops, and the descent goes on from its plan, then a sub-MIP around the new
setups. Under a 60 s limit it hardly applies: on generated m the sub-MIP starts at about
26 s and its first better plan came 19-26 s later (seed 97: 24.9 s, after which the time
limit's rule for a step that would overrun it stopped the sub-MIP, and the descent took
the plan from 4.847 M to 4.821 M in the last 9 s). Over longer limits it keeps the
neighbourhood moving: at 300 s on seed 97, one sub-MIP found its last better plan at
104 s and then searched its neighbourhood to the limit."""
SUBMIP_OPENINGS = 200
"""Closed setups the sub-MIP may also open: those the LP's reduced costs rank best for
opening (:meth:`_Search.reduced_costs`, negative only), at most this many. Closing
alone, the sub-MIP's own bound showed its neighbourhood spent: on generated m with
setups (seed 97) 4.820 M, where the best plan known costs 4.783 M. With 200 openings, at
60 s (two or three runs, against one closing only): seed 22 2.34-2.59% against 2.81%,
51 1.95-2.03% against 3.04%, 71 1.81-1.83% against 2.71%, 97 1.38-1.55% against 1.62%.
More make its MIP slower to a first plan: 300 found theirs at 55-58 s (seeds 22, 97),
600 none in the time."""
SUBMIP_GAP = 1e-4
"""Relative gap at which a sub-MIP stops (its plan is then as good as that neighbourhood
gets, for the purpose)."""
RESTORE_SECONDS = 1.0
"""Kept back from a sub-MIP's time limit to re-solve the LP of the setups it chose."""

SUBMIP_FOUND = "sub-MIP around the plan's setups"
"""What :data:`Report` is told of a plan the sub-MIP found as it went: a plan of the
model, but not yet the LP optimum of its setups (the search solves that LP after)."""

Report = Callable[[np.ndarray, float, str], None]
"""Receives each better plan found (values, objective with the offset, what found it)."""
Stop = Callable[[], bool]
"""Asked between moves: ``True`` ends the search early (the MIP it feeds has ended)."""
Adopt = Callable[[float], np.ndarray | None]
"""Asked between batches with the search's best objective (with the offset): a plan
found elsewhere that costs less (the branch and cut beside the search), or ``None``;
the search goes on from its setups."""


def setup_columns(
    model: AllocationModel,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per setup binary (``model.y`` raveled): its column, its production's column, the
    minimum lot, the most the production may be (its bound, which the link row repeats)
    and whether it may open at all (a minimum lot above that bound never can)."""
    ycols = model.y.ravel()
    xcols = model.x[model.y_routing].ravel()
    min_lot = np.repeat(model.data.min_lot[model.y_routing], model.data.T)
    x_upper = model.lp.upper[xcols]
    allowed = (model.lp.upper[ycols] > 0.5) & (min_lot <= x_upper + 1e-9)
    return ycols, xcols, min_lot, x_upper, allowed


class WarmLp:
    """One HiGHS instance kept across solves, so bound changes re-solve from the last
    basis (dual simplex) instead of from scratch."""

    def __init__(self, lp: LinearModel, threads: int = 0, drop: tuple[str, ...] = ()) -> None:
        import highspy

        self._hp = highspy
        from optimizer.backends.highs import _new_highs, pass_model

        h = _new_highs(highspy)
        h.setOptionValue("output_flag", False)
        self.threads = threads
        h.setOptionValue("random_seed", 0)
        pass_model(highspy, h, lp, integers=False)
        rows = [
            np.arange(lp.constraints[n].start, lp.constraints[n].stop)
            for n in drop
            if n in lp.constraints
        ]
        self.dropped = tuple(drop)
        self.row_of = np.arange(lp.num_rows)  # the model's rows -> this instance's (-1: gone)
        if rows:
            gone = np.unique(np.concatenate(rows)).astype(np.int32)  # HiGHS wants them sorted
            h.deleteRows(len(gone), gone)
            kept = np.ones(lp.num_rows, dtype=bool)
            kept[gone] = False
            self.row_of = np.where(kept, np.cumsum(kept) - 1, -1)
        self.h: Any = h
        self.lower = lp.lower.copy()
        self.upper = lp.upper.copy()

    def set_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        if not len(cols):
            return
        lower = np.broadcast_to(np.asarray(lower, dtype=np.float64), cols.shape).copy()
        upper = np.broadcast_to(np.asarray(upper, dtype=np.float64), cols.shape).copy()
        self.lower[cols] = lower
        self.upper[cols] = upper
        self.h.changeColsBounds(len(cols), cols, lower, upper)

    def solve_staged(
        self,
        time_limit: float,
        lp: LinearModel,
        block: str,
        crash: Basis | None = None,
    ) -> tuple[float, np.ndarray, np.ndarray] | None:
        """:meth:`solve` with the rows of ``block`` (of ``lp``, the model this instance
        was made from) first left free, then restored and solved on from that basis, as
        a pure LP's capacity rows are (docs/model.md); the first run starts from
        ``crash``, a basis of ``lp`` (:func:`optimizer.heuristics.starting_basis`) whose
        rows this instance left out have their slacks basic."""
        stop = time.perf_counter() + time_limit
        if crash is not None:
            from optimizer.backends.highs import install_basis

            install_basis(self._hp, self.h, crash.col_status, crash.row_status[self.row_of >= 0])
        if block in lp.constraints:
            rows = np.arange(lp.constraints[block].start, lp.constraints[block].stop)
            rows = rows[self.row_of[rows] >= 0]
            mine = self.row_of[rows].astype(np.int32)
            free = np.full(len(rows), np.inf)
            self.h.changeRowsBounds(len(rows), mine, -free, free)
            if self.solve(stop - time.perf_counter()) is None:
                return None
            self.h.changeRowsBounds(len(rows), mine, lp.row_lower[rows], lp.row_upper[rows])
        return self.solve(stop - time.perf_counter())

    def solve(self, time_limit: float) -> tuple[float, np.ndarray, np.ndarray] | None:
        """Objective (without offset), values and reduced costs; ``None`` when the LP
        is infeasible or the time ran out."""
        h = self.h
        # HiGHS's time limit counts the instance's run time over all its solves
        h.setOptionValue("time_limit", float(h.getRunTime() + max(time_limit, 0.01)))
        from optimizer.backends.highs import SCHEDULER, _parallel_simplex

        # the parallel dual simplex where a core is idle (a large MILP's setup-free LP,
        # before its branch and cut starts); serial beside a running solve
        h.setOptionValue("simplex_strategy", 2 if _parallel_simplex(self.threads) else 1)

        SCHEDULER.run(self._hp, h, self.threads)
        if h.getModelStatus() != self._hp.HighsModelStatus.kOptimal:
            return None
        sol = h.getSolution()
        values = np.asarray(sol.col_value, dtype=np.float64)
        duals = np.asarray(sol.col_dual, dtype=np.float64)
        obj = float(h.getInfo().objective_function_value) - float(h.getLp().offset_)
        return obj, values, duals


def local_search(
    model: AllocationModel,
    start: np.ndarray,
    deadline: float,
    threads: int = 0,
    warm: WarmLp | None = None,
    report: Report | None = None,
    stop: Stop | None = None,
    adopt: Adopt | None = None,
) -> np.ndarray:
    """A plan at least as cheap as ``start`` (a feasible MILP solution of
    ``model.lp``), found by opening and closing setups until ``deadline``
    (:func:`search`)."""
    if not len(model.y_routing):
        return start
    ycols = model.y.ravel()
    found = search(
        model,
        np.round(start[ycols]) > 0.5,
        deadline,
        threads,
        warm,
        report=report,
        stop=stop,
        adopt=adopt,
    )
    if found is None or found[0] >= float(model.lp.cost @ start):
        return start
    return found[1]


def search(
    model: AllocationModel,
    is_open: np.ndarray,
    deadline: float,
    threads: int = 0,
    warm: WarmLp | None = None,
    *,
    report: Report | None = None,
    stop: Stop | None = None,
    adopt: Adopt | None = None,
) -> tuple[float, np.ndarray] | None:
    """The cost (without the offset) and values of the best plan found from the setup
    pattern ``is_open`` (``model.y`` raveled), ``None`` when its LP is infeasible.
    ``report`` receives every plan cheaper than all before it, as it is found; ``stop``
    ends the search early; ``adopt`` hands it cheaper plans found elsewhere to go on
    from.

    A descent (:class:`_Search`) first. Beside branch and cut (``stop`` given) and up
    to ``SUBMIP_MAX_ROWS`` rows, the descent gets ``SUBMIP_AFTER`` of the time; then
    sub-MIPs around the plan's setups (:meth:`_Search.sub_mip`), each followed by the
    descent from its plan, while they find better plans and time is left. Then, for as
    long again as the first descent at most (until ``deadline`` when ``stop`` is given),
    iterated: the setups of one line in a few periods are re-chosen from the LP with
    those setups relaxed, and the descent is run again; the result is kept when it is
    cheaper. Stops when every block has been tried since the last better plan.
    """
    run = _Search(model, is_open, deadline, threads, warm, report, stop, adopt)
    if run.values is None:
        return None
    start_cost = run.cost
    began = time.perf_counter()
    sub_mip = stop is not None and model.lp.num_rows <= SUBMIP_MAX_ROWS
    if sub_mip:
        run.deadline = began + SUBMIP_AFTER * (deadline - began)
    run.descend()
    run.deadline = deadline
    while sub_mip and run.left() >= SUBMIP_MIN_SECONDS and run.sub_mip():
        run.descend()
    if stop is None:
        # before branch and cut, kicks get as long as the first descent took, at most:
        # it makes better use of the time; beside it (``stop`` given) they get it all
        run.deadline = min(deadline, time.perf_counter() + (time.perf_counter() - began))
    best_cost, best_open, best_values = run.cost, run.is_open.copy(), run.values
    kicks = kept = 0
    blocks = run.blocks()
    since = 0  # kicks since the last better plan
    while run.left() > 0.5 and since < len(blocks):
        block = blocks[kicks % len(blocks)]
        kicks += 1
        since += 1
        if not run.kick(block):
            run.restore(best_open)
            continue
        run.descend()
        if run.cost < best_cost - 1e-7 * max(1.0, abs(best_cost)):
            best_cost, best_open, best_values = run.cost, run.is_open.copy(), run.values
            kept += 1
            since = 0
        elif run.left() > 0.5:
            run.restore(best_open)
        logger.debug("local search kick %d: %.2f (best %.2f)", kicks, run.cost, best_cost)
    logger.debug(
        "local search: %d moves priced, %d kept, %d kicks, %d kept; %.2f -> %.2f",
        run.tried,
        run.accepted,
        kicks,
        kept,
        start_cost,
        best_cost,
    )
    out = best_values.copy()
    ycols = model.y.ravel()
    out[ycols] = best_open.astype(np.float64)
    return best_cost, out


class _Search:
    """The setup pattern, its LP and the moves of :func:`local_search`."""

    def __init__(
        self,
        model: AllocationModel,
        is_open: np.ndarray,
        deadline: float,
        threads: int,
        warm: WarmLp | None,
        report: Report | None = None,
        stop: Stop | None = None,
        adopt: Adopt | None = None,
    ) -> None:
        lp = model.lp
        self.model = model
        self.deadline = deadline
        self.report = report
        self.stop = stop
        self.adopt = adopt
        self.best_seen = float("inf")
        self.T = model.data.T
        self.ycols, self.xcols, self.min_lot, self.x_upper, self.allowed = setup_columns(model)
        # with its setups fixed, the setup link and minimum lot of (2) are bounds on the
        # production: x = 0 where closed, m <= x <= its bound where open, so the search's
        # LP leaves those rows out and sets the bounds (a third of the rows on generated
        # m with setups, 1.3x faster moves)
        if warm is None:
            warm = WarmLp(relaxed(lp), threads, drop=REDUNDANT + LINKS)
        self.bounded = set(LINKS) <= set(warm.dropped)
        self.lp = warm
        self.is_open = is_open & self.allowed
        self.siblings = _siblings(model)
        self.tried = self.accepted = 0
        self.fix(np.arange(len(self.ycols)))
        res = self.lp.solve(self.left())
        self.values: np.ndarray | None = None
        if res is not None:
            self.cost, self.values, self.duals = res

    def left(self) -> float:
        if self.stop is not None and self.stop():
            return 0.0
        return self.deadline - time.perf_counter()

    def found(self) -> None:
        """Pass the current plan to ``report`` if it is the cheapest seen."""
        if self.report is None or self.values is None or not self.cost < self.best_seen:
            return
        self.best_seen = self.cost
        values = self.values.copy()
        values[self.ycols] = self.is_open.astype(np.float64)
        self.report(values, self.cost + self.model.lp.offset, "setup local search")

    def sub_mip(self) -> bool:
        """Re-choose the setups near the current plan by a MIP: HiGHS decides which
        open setups to keep and which of the :data:`SUBMIP_OPENINGS` closed ones ranked
        best for opening to open (and the plan with them), every other setup staying
        closed, from the current plan, until the time left (less ``RESTORE_SECONDS``) or
        ``stop``. Its better plans go to ``report`` as it finds them; its last one's
        setups are then taken and their LP solved. Whether the plan got cheaper.

        A plan of this MIP is a plan of the model (the same rows, some setups fixed
        closed). One setup at a time, the descent misses plans that close many at once
        and move their lots, or open some and close others; branch and cut on the
        whole model finds them only after its root cuts (generated m with setups: after
        108 s of HiGHS alone). Over the open setups (977 of 4,862 on seed 97) and a few
        hundred more, the MIP is small enough for HiGHS's own heuristics to find them in
        the time: 4.854 M to 4.816 M in 20 s over the open setups alone.
        """
        from optimizer.backends.base import Incumbents, SolveOptions, SolveThread
        from optimizer.backends.highs import HighsBackend

        assert self.values is not None
        lp = self.model.lp
        free = self.is_open | self.openings()
        upper = lp.upper.copy()
        upper[self.ycols[~free]] = 0.0
        sub = dataclasses.replace(lp, upper=upper)
        start = self.values.copy()
        start[self.ycols] = self.is_open.astype(np.float64)
        before = self.cost + lp.offset
        report = self.report
        last = [time.perf_counter()]  # the sub-MIP's start, then its last better plan

        class Relay(Incumbents):
            """Passes the sub-MIP's better plans on as HiGHS finds them."""

            def offer(self, values: np.ndarray, objective: float) -> bool:
                better = super().offer(values, objective)
                # HiGHS hands back the start first, at its cost or a rounding below
                if better and objective < before - 1e-9 * max(1.0, abs(before)):
                    last[0] = time.perf_counter()
                    if report is not None:
                        report(values, objective, SUBMIP_FOUND)
                return better

        def stalled() -> bool:
            return time.perf_counter() - last[0] > SUBMIP_STALL

        stop = self.stop
        worker = SolveThread("soe-sub-mip")
        options = SolveOptions(
            time_limit=self.left() - RESTORE_SECONDS,
            mip_gap=SUBMIP_GAP,
            threads=self.lp.threads,
            start=start,
            found=Relay(),
            cancel=lambda: worker.cancelled.is_set() or stalled() or (stop is not None and stop()),
        )
        worker.start(lambda: HighsBackend().solve(sub, options))
        worker.wait()  # in a thread of its own, as the branch and cut is (Ctrl-C)
        solution = worker.result()
        logger.debug(
            "sub-MIP over %d open and %d closed setups: %s, %.2f -> %.2f (bound %.2f)",
            int(self.is_open.sum()),
            int((free & ~self.is_open).sum()),
            solution.status.value,
            before,
            solution.objective,
            solution.bound,
        )
        if solution.values is None or not solution.objective < before - 1e-7 * max(
            1.0, abs(before)
        ):
            return False
        previous = self.is_open
        self.is_open = np.round(solution.values[self.ycols]) > 0.5
        changed = np.flatnonzero(self.is_open != previous)
        self.fix(changed)
        res = self.lp.solve(self.left())
        if res is None:  # out of time: the sub-MIP's plan has been reported already
            self.is_open = previous
            self.fix(changed)
            return False
        self.cost, self.values, self.duals = res
        self.found()
        return True

    def openings(self) -> np.ndarray:
        """The closed setups (a mask over ``ycols``) the sub-MIP may open: the
        :data:`SUBMIP_OPENINGS` whose opening the LP's reduced costs price lowest,
        among those priced below zero."""
        out = np.zeros(len(self.ycols), dtype=bool)
        if SUBMIP_OPENINGS <= 0 or self.values is None:
            return out
        rc = self.reduced_costs()
        closed = np.flatnonzero(~self.is_open & self.allowed & (rc < 0))
        out[closed[np.argsort(rc[closed], kind="stable")[:SUBMIP_OPENINGS]]] = True
        return out

    def fix(self, cols: np.ndarray) -> None:
        """Bounds of setups ``cols`` (positions in ``ycols``) to their ``is_open``, and
        of their production where the link rows are left out."""
        is_open = self.is_open[cols]
        v = is_open.astype(np.float64)
        self.lp.set_bounds(self.ycols[cols], v, v)
        if self.bounded:
            self.lp.set_bounds(
                self.xcols[cols],
                np.where(is_open, self.min_lot[cols], 0.0),
                np.where(is_open, self.x_upper[cols], 0.0),
            )

    def reduced_costs(self) -> np.ndarray:
        """Per setup, the LP's first-order cost of opening it (or saving of closing it):
        the setup column's reduced cost, plus, where its production sits at a bound
        (closed, or open at the most it may make), that bound times the production's
        reduced cost, as the link row's dual would add if it were in the LP."""
        rc = self.duals[self.ycols]
        if not self.bounded:
            return rc  # type: ignore[no-any-return]
        return rc + self.x_upper * np.minimum(self.duals[self.xcols], 0.0)  # type: ignore[no-any-return]

    def restore(self, is_open: np.ndarray) -> None:
        changed = np.flatnonzero(is_open != self.is_open)
        self.is_open = is_open.copy()
        self.fix(changed)
        res = self.lp.solve(self.left())
        if res is not None:
            self.cost, self.values, self.duals = res

    def blocks(self) -> list[np.ndarray]:
        """Setups of one line in a window of ``KICK_PERIODS`` periods, the blocks that
        :meth:`kick` re-chooses, in an order that spreads lines and periods."""
        d = self.model.data
        line = np.repeat(d.rl[self.model.y_routing], self.T)
        period = np.tile(np.arange(self.T), len(self.model.y_routing))
        out = []
        starts = list(range(0, max(1, self.T - KICK_PERIODS + 1), max(1, KICK_PERIODS // 2)))
        for a in starts:
            for line_no in range(len(d.line_ids)):
                j = np.flatnonzero(
                    self.allowed & (line == line_no) & (period >= a) & (period < a + KICK_PERIODS)
                )
                if len(j):
                    out.append(j)
        rng = np.random.default_rng(0)
        return [out[i] for i in rng.permutation(len(out))]

    def kick(self, block: np.ndarray) -> bool:
        """Re-choose the setups ``block``: relax them, solve, open those the relaxation
        produces on (largest first, as many as the line's hours hold)."""
        from optimizer.heuristics import _fits

        ycols = self.ycols[block]
        if self.bounded:  # no link rows: the block's setups are free of cost and hours
            self.lp.set_bounds(ycols, np.zeros(len(block)), np.zeros(len(block)))
            self.lp.set_bounds(self.xcols[block], np.zeros(len(block)), self.x_upper[block])
        else:
            self.lp.set_bounds(ycols, np.zeros(len(block)), np.ones(len(block)))
        res = self.lp.solve(self.left())
        if res is None:
            self.fix(block)
            return False
        lots = np.zeros(len(self.ycols))
        made = res[1][self.xcols[block]]
        # only lots the relaxation makes to their minimum, packed into the line's hours
        # by what they make: the relaxation's quantities stay a plan for those setups
        ok = (made > 1e-6) & (made >= self.min_lot[block] - 1e-6)
        lots[block] = np.where(ok, made, 0.0)
        mask = np.zeros(len(self.ycols), dtype=bool)
        mask[block] = True
        chosen = _fits(self.model, lots, mask & self.allowed)
        self.is_open[block] = chosen[block]
        self.fix(block)
        res = self.lp.solve(self.left())
        if res is None:
            return False
        self.cost, self.values, self.duals = res
        return True

    def _merges(self, rc: np.ndarray) -> np.ndarray:
        """Open setups whose routing has another open setup in the ``MERGE_BACK``
        periods before, smallest lots for what their setup costs first.

        Closing such a setup moves its lot into the earlier one: it saves the setup's
        cost and hours and costs some holding and the earlier week's hours. The
        reduced costs miss this (closing a setup looks as good for a large lot as for
        a small one), and the descent by them leaves plans with a setup nearly every
        week: on generated m, merges ranked this way took a descended plan from
        3.33 M to 3.20 M (1,285 setups to 1,003), most of it in the first 150 moves.
        The rank is a lot's hours over its setup's hours plus its cost in hours, at the
        value of an hour the LP puts on the open setups (``rc = c_s + s u``).
        """
        T = self.T
        d = self.model.data
        routing = self.model.y_routing
        open_ = np.flatnonzero(self.is_open)
        period = open_ % T
        before = np.zeros(len(open_), dtype=bool)
        for back in range(1, MERGE_BACK + 1):
            ok = period >= back
            before[ok] |= self.is_open[open_[ok] - back]
        cand = open_[before]
        if not len(cand):
            return cand
        r = routing[cand // T]
        hours, cost = d.setup_hours[r], d.setup_cost[r]
        with np.errstate(divide="ignore", invalid="ignore"):
            per_hour = np.where(hours > 0, (rc[cand] - cost) / hours, np.nan)
        value = float(np.nanmedian(per_hour)) if np.isfinite(per_hour).any() else 0.0
        value = max(value, 1.0)
        assert self.values is not None
        lot_hours = self.values[self.xcols[cand]] / d.rate[r]
        score = lot_hours / (hours + cost / value)
        return cand[np.argsort(score, kind="stable")]

    def descend(self) -> None:
        """Moves until none of those priced lowers the cost (or the time is up).

        Three kinds of move, each priced exactly by the LP and kept when it lowers the
        cost, best-ranked first (the ranking is refreshed after each batch): single
        setups opened or closed, ranked by the LP's reduced costs; merges
        (:meth:`_merges`); pairs (a lot moved a period earlier or later, or to another
        line of the product). A kind gives way to the next after ``STALL`` misses in a
        row; the descent ends when a whole round of the three found nothing.
        """
        failed: set[tuple[int, ...]] = set()
        # moves whose LP was infeasible (a minimum lot that the materials or hours
        # cannot make): they stay out for INFEASIBLE_RETRY better plans, not just one
        infeasible: dict[tuple[int, ...], int] = {}
        kind, misses, fruitless = 0, 0, 0  # fruitless: kinds in a row that found nothing
        rounds = 0
        assert self.values is not None
        while self.left() > 0.05:
            rounds += 1
            if self._adopted():
                failed.clear()
                fruitless = 0
            # setups that make nothing close for free
            idle = np.flatnonzero(self.is_open & (self.values[self.xcols] <= 1e-6))
            if len(idle):
                self.is_open[idle] = False
                self.fix(idle)
                res = self.lp.solve(self.left())
                if res is None:
                    self.is_open[idle] = True
                    self.fix(idle)
                    break
                self.cost, self.values, self.duals = res
                self.found()
            moves = [m for m in self._moves(MOVES[kind]) if m not in failed and m not in infeasible]
            if not moves:
                kind, misses = (kind + 1) % len(MOVES), 0
                fruitless += 1
                if fruitless > len(MOVES):
                    break
                continue
            improved = False
            for move in moves[:BATCH]:
                if self.left() <= 0.05 or misses >= STALL:
                    break
                self.tried += 1
                idx = np.asarray(move)
                self.is_open[idx] = ~self.is_open[idx]
                self.fix(idx)
                res = self.lp.solve(self.left())
                if res is not None and res[0] < self.cost - 1e-7 * max(1.0, abs(self.cost)):
                    self.cost, self.values, self.duals = res
                    self.accepted += 1
                    improved = True
                    misses = 0
                    self.found()
                    continue
                self.is_open[idx] = ~self.is_open[idx]
                self.fix(idx)
                if res is None:
                    infeasible[move] = self.accepted
                else:
                    failed.add(move)
                misses += 1
            logger.debug(
                "local search round %d: %.2f, %d open, %d %s moves",
                rounds,
                self.cost,
                self.is_open.sum(),
                len(moves),
                MOVES[kind],
            )
            if improved:
                # what failed against the old pattern may pay against the new one
                failed.clear()
                infeasible = {
                    k: v for k, v in infeasible.items() if self.accepted - v < INFEASIBLE_RETRY
                }
                fruitless = 0
            else:
                fruitless += 1
                if fruitless > len(MOVES):
                    break
            # the kinds take turns, a batch each
            kind, misses = (kind + 1) % len(MOVES), 0

    def _adopted(self) -> bool:
        """Go on from a cheaper plan found elsewhere, if ``adopt`` has one: its setups,
        with the LP's plan for them. Returns whether it did."""
        if self.adopt is None:
            return False
        offset = self.model.lp.offset
        plan = self.adopt(min(self.cost, self.best_seen) + offset)
        if plan is None:
            return False
        is_open = (np.round(plan[self.ycols]) > 0.5) & self.allowed
        before = self.is_open.copy(), self.cost, self.values, self.duals
        self.restore(is_open)
        if self.cost < before[1] - 1e-7 * max(1.0, abs(before[1])):
            self.best_seen = min(self.best_seen, self.cost)
            logger.debug("local search: went on from a plan found elsewhere, %.2f", self.cost)
            return True
        self.is_open, self.cost, self.values, self.duals = before  # no better for us
        self.fix(np.flatnonzero(is_open != self.is_open))
        return False

    def _moves(self, kind: str) -> list[tuple[int, ...]]:
        """Candidate moves of one kind, best-ranked first (setups as positions in
        ``ycols``; a move flips each of its setups)."""
        rc = self.reduced_costs()
        if kind == "single":
            gain = np.where(self.is_open, rc, -rc)  # closing saves rc, opening -rc
            cand = np.flatnonzero(self.allowed & (gain > 1e-7))
            cand = cand[np.argsort(-gain[cand], kind="stable")]
            return [(int(j),) for j in cand]
        if kind == "merge":
            return [(int(j),) for j in self._merges(rc)]
        pj, pk, pg = _pair_moves(self.is_open, self.allowed, rc, self.T, self.siblings)
        order = np.argsort(-pg, kind="stable")
        return [(int(pj[i]), int(pk[i])) for i in order if pg[i] > 1e-7]


MOVES = ("single", "merge", "pair")
"""The kinds of move of :meth:`_Search.descend`, in the order they take turns."""

MERGE_BACK = 2
"""A merge closes a setup whose routing has another open setup at most this many
periods before it: the lot is then made there (or elsewhere) instead."""


def _siblings(model: AllocationModel) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(a, b)`` of setup rows (``model.y``) of one product on different lines,
    both orders."""
    product = model.data.rp[model.y_routing]
    order = np.argsort(product, kind="stable")
    a_list, b_list = [], []
    for group in np.split(order, np.flatnonzero(np.diff(product[order])) + 1):
        for i in group:
            for j in group:
                if i != j:
                    a_list.append(i)
                    b_list.append(j)
    return np.asarray(a_list, dtype=np.int64), np.asarray(b_list, dtype=np.int64)


def _pair_moves(
    is_open: np.ndarray,
    allowed: np.ndarray,
    rc: np.ndarray,
    T: int,
    siblings: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moves closing an open setup ``j`` and opening a closed one ``k`` of the same
    routing one period apart, or of the same product and period on another line; with
    their first-order gain ``rc[j] - rc[k]`` (setups indexed ``row * T + period``)."""
    js, ks = [], []
    open_ = np.flatnonzero(is_open)
    period = open_ % T
    for step in (-1, 1):
        ok = (period + step >= 0) & (period + step < T)
        j = open_[ok]
        k = j + step
        keep = allowed[k] & ~is_open[k]
        js.append(j[keep])
        ks.append(k[keep])
    a, b = siblings
    if len(a):
        j = (a[:, None] * T + np.arange(T)).ravel()
        k = (b[:, None] * T + np.arange(T)).ravel()
        keep = is_open[j] & ~is_open[k] & allowed[k]
        js.append(j[keep])
        ks.append(k[keep])
    j = np.concatenate(js)
    k = np.concatenate(ks)
    return j, k, rc[j] - rc[k]


def relaxed(lp: LinearModel) -> LinearModel:
    """``lp`` with every column continuous."""
    import dataclasses

    return dataclasses.replace(lp, integer=np.zeros(lp.num_cols, dtype=bool))


def improve(
    model: AllocationModel,
    start: np.ndarray,
    deadline: float,
    threads: int = 0,
    report: Report | None = None,
    stop: Stop | None = None,
    adopt: Adopt | None = None,
    warm: WarmLp | None = None,
) -> np.ndarray:
    """``start`` improved by :func:`local_search` until ``deadline`` (HiGHS's LP, from
    highspy, whatever the MIP backend); ``start`` itself when highspy is missing or the
    model has fewer than ``SEARCH_MIN_SETUPS`` setup binaries. ``report`` receives each
    better plan as it is found; ``stop`` ends the search early; ``adopt`` hands it
    cheaper plans found elsewhere; ``warm``: the HiGHS instance ``start`` came from
    (:func:`optimizer.heuristics.setup_free_start`), to go on from its basis."""
    if (
        not model.lp.is_mip
        or model.y.size < SEARCH_MIN_SETUPS
        or deadline - time.perf_counter() < 0.2
    ):
        return start
    try:
        import highspy  # noqa: F401
    except ImportError:  # pragma: no cover - highspy is a dependency
        return start
    return local_search(
        model, start, deadline, threads, warm, report=report, stop=stop, adopt=adopt
    )
