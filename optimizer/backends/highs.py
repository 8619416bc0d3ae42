"""HiGHS through highspy (the default backend)."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from formulations.lp import LinearModel
from optimizer.backends.base import (
    Basis,
    Capabilities,
    Incumbents,
    Limit,
    Solution,
    SolveOptions,
    SolveStatus,
    cgroup_cpus,
    relative_gap,
)
from optimizer.exceptions import BackendUnavailable

logger = logging.getLogger(__name__)

_banner_shown = False
_banner_lock = threading.Lock()


def _new_highs(hp: Any) -> Any:
    """A ``Highs`` instance; the copyright banner HiGHS prints on the first one in a
    process goes to the void, so only our own output reaches the planner's terminal
    (under a lock: a MILP's search and its branch and cut start instances in two
    threads)."""
    global _banner_shown
    if _banner_shown:
        return hp.Highs()
    with _banner_lock:
        if _banner_shown:
            return hp.Highs()
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                return hp.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            _banner_shown = True


class _Scheduler:
    """HiGHS keeps a pool of worker threads for each thread that calls ``run()``,
    started by that thread's first solve with the solve's ``threads``; a later solve in
    the same thread that asks for another number (not 0, which takes the pool as it is)
    fails with status "Not Set". So every solve of soe's runs through :meth:`run`,
    which knows the pool of each calling thread and restarts it with the number asked
    for when no other HiGHS solve of this process is running (an integrator planning
    with ``threads = 0``, then ``1``), and otherwise asks for 0, the pool as it is
    (which changes the solve's speed, not its answer). Should HiGHS still refuse, the
    solve runs again with 0."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()  # .size: threads this thread's pool started with
        self._active = 0

    def run(self, hp: Any, h: Any, threads: int) -> None:
        """``h.run()`` with ``threads`` applied as far as this thread's pool allows."""
        size: int | None = getattr(self._local, "size", None)
        with self._lock:
            if threads and size is not None and size != threads:
                if self._active == 0:
                    hp.Highs.resetGlobalScheduler(True)
                    size = None
                else:
                    threads = 0
            if size is None:
                self._local.size = threads
            h.setOptionValue("threads", int(threads))
            self._active += 1
        try:
            status = h.run()
            if threads and status == hp.HighsStatus.kError and _refused_threads(hp, h):
                h.setOptionValue("threads", 0)
                h.run()
        finally:
            with self._lock:
                self._active -= 1

    @property
    def busy(self) -> bool:
        """Whether a HiGHS solve of this process is running."""
        with self._lock:
            return self._active > 0


SCHEDULER = _Scheduler()


def _refused_threads(hp: Any, h: Any) -> bool:
    """Whether HiGHS refused a run before starting it (its pool has another size)."""
    return bool(h.getModelStatus() == hp.HighsModelStatus.kNotset)


def spare_cores() -> int:
    """Cores idle at this moment besides the caller's own: the CPUs this process may
    use (its affinity, capped by a cgroup CPU quota) less the tasks the kernel has
    runnable (``/proc/loadavg``, which counts the reader itself). 0 where Linux's
    figures cannot be read."""
    try:
        cpus = len(os.sched_getaffinity(0))
        loadavg = Path("/proc/loadavg").read_text(encoding="ascii")
    except (AttributeError, OSError):
        return 0
    return _spare(cpus, loadavg, cgroup_cpus())


def _spare(cpus: int, loadavg: str, quota: float | None) -> int:
    """:func:`spare_cores` from its readings (``loadavg``: the text of /proc/loadavg,
    whose fourth field is ``runnable/total``)."""
    try:
        runnable = int(loadavg.split()[3].split("/")[0])
    except (IndexError, ValueError):
        return 0
    if quota is not None:
        cpus = min(cpus, int(quota))
    return max(0, cpus - max(runnable, 1))


def _parallel_simplex(threads: int) -> bool:
    """HiGHS's parallel dual simplex for an LP, never beside another HiGHS solve of this
    process (a MILP's search shares the cores with its branch and cut): asked for
    (``threads`` 2 or more), or chosen (``threads = 0``) when a core is idle. It follows
    the same pivots as the serial one (the same plan, same iterations, on every LP
    measured) and is 10-30% faster with a core to spare, but up to 3x slower when the
    cores are busy with other work, so the choice is made as the solve starts."""
    if SCHEDULER.busy:
        return False
    return threads > 1 or (threads == 0 and spare_cores() >= 1)


def _subscribe_progress(
    h: Any,
    progress: Callable[[str], None],
    clock: float | None = None,
    floor: float = float("-inf"),
) -> None:
    """Report each better plan, and the search every ~10 s, as one short line: seconds
    from ``clock`` (default: HiGHS's own run time), the bound no lower than ``floor``."""
    last = [time.perf_counter()]

    def line(event: Any, what: str) -> None:
        out = event.data_out
        primal = float(out.mip_primal_bound)
        dual = max(float(out.mip_dual_bound), floor)
        gap = relative_gap(primal, dual)
        plan = f"plan {primal:,.2f}" if np.isfinite(primal) else "no plan yet"
        bound = f"bound {dual:,.2f}" if np.isfinite(dual) else "no bound yet"
        seconds = out.running_time if clock is None else time.perf_counter() - clock
        progress(
            f"  {seconds:6.1f} s  {what:<9} {plan}, {bound}"
            + (f", gap {gap:.2%}" if np.isfinite(gap) else "")
        )
        last[0] = time.perf_counter()

    def improving(event: Any) -> None:
        line(event, "better")

    def logging_(event: Any) -> None:
        if time.perf_counter() - last[0] >= 10.0:
            line(event, "searching")

    h.cbMipImprovingSolution.subscribe(improving)
    h.cbMipLogging.subscribe(logging_)
    h.cbMipInterrupt.subscribe(logging_)  # also between rounds of root cuts


def _subscribe_incumbents(h: Any, incumbents: Incumbents) -> None:
    """Hand HiGHS's MIP search every better plan offered to ``incumbents`` (HiGHS asks
    after each round of root cuts and before each dive)."""

    def on_user_solution(event: Any) -> None:
        values = incumbents.take(float(event.data_out.mip_primal_bound))
        if values is not None:
            event.data_in.setSolution(np.ascontiguousarray(values, dtype=np.float64))

    h.cbMipUserSolution.subscribe(on_user_solution)


def _subscribe_found(h: Any, found: Incumbents, model: LinearModel) -> None:
    """Offer every plan HiGHS's MIP search finds to ``found`` (which keeps the better
    ones), valued by its own values.

    Not by the objective HiGHS reports beside them: in HiGHS 1.16 the first call of
    either solution callback of a solve can carry the previous plan's values (the
    start's) beside the new plan's objective (a 1,238.5 start reported at 1,236.5, the
    new plan's cost). Both callbacks are taken, so that the new plan's values arrive
    with the next call."""

    def on_solution(event: Any) -> None:
        values = np.array(event.data_out.mip_solution, dtype=np.float64)
        if len(values) == model.num_cols:
            found.offer(values, float(model.cost @ values + model.offset))

    h.cbMipImprovingSolution.subscribe(on_solution)
    h.cbMipSolution.subscribe(on_solution)


def _subscribe_cancel(h: Any, cancel: Callable[[], bool]) -> None:
    """Stop the MIP search at its next check once ``cancel()`` says so."""

    def on_interrupt(event: Any) -> None:
        if cancel():
            event.data_in.user_interrupt = True

    h.cbMipInterrupt.subscribe(on_interrupt)


DEADLINE_GRACE = 0.02
"""Share of the time limit a MIP solve may run over it before being stopped."""


def _subscribe_deadline(
    h: Any, deadline: float, stopped: list[bool], clock: Callable[[], float] = time.perf_counter
) -> None:
    """Stop the MIP search before ``deadline`` when its next step would end after it.

    HiGHS checks its time limit only between steps of its search, and at the root of a
    large model one round of cuts can take ten seconds or more (generated m with
    setups: a 60 s limit ran to 69-81 s). So at every check, when the step just ended
    took longer than the time left (plus a little grace), the search stops now rather
    than overrun: the time limit is then honoured to within the grace, at the price of
    at most one step."""
    grace = DEADLINE_GRACE * max(deadline - clock(), 0.0)
    last = [clock()]

    def on_interrupt(event: Any) -> None:
        now = clock()
        step, last[0] = now - last[0], now
        if now + step > deadline + grace:
            event.data_in.user_interrupt = True
            stopped[0] = True

    h.cbMipInterrupt.subscribe(on_interrupt)


_ITERATION_LINE = re.compile(r"^\s*(\d+)\s+\S+\s+(?:Ph1|Ph2|Pr|Du)\b")


def _subscribe_lp_progress(h: Any, progress: Callable[[str], None], logged: bool) -> None:
    """A line every ~10 s of a long LP solve, with the simplex iterations so far.

    Read from HiGHS's own iteration lines (it logs one every few seconds), not from a
    per-iteration callback: that one costs about 1.6 µs of Python an iteration, a tenth
    of the solve on generated m. ``logged``: the caller already has HiGHS log.
    """
    started = time.perf_counter()
    last = [started]
    count = [0, 0]  # iterations of the runs before this one; the latest count logged

    def on_log(event: Any) -> None:
        found = _ITERATION_LINE.match(str(getattr(event, "message", "")))
        if found is None:
            return
        iterations = int(found[1])
        if iterations < count[1]:  # a new run (the capacity rows restored) counts from 0
            count[0] += count[1]
        count[1] = iterations
        now = time.perf_counter()
        if now - last[0] < 10.0:
            return
        last[0] = now
        total = count[0] + iterations
        progress(f"  {now - started:6.1f} s  solving the LP: {total:,} iterations")

    h.cbLogging.subscribe(on_log)
    if not logged:
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)


def pass_model(hp: Any, h: Any, model: LinearModel, *, integers: bool = True) -> Any:
    """Give ``model`` to HiGHS instance ``h`` (``integers=False``: its LP relaxation);
    HiGHS's status. The arrays go in one call: filling a ``HighsLp`` field by field
    took 20 ms on generated m, this takes 1 ms."""
    integrality = (
        model.integer.astype(np.int32)  # HighsVarType: 0 continuous, 1 integer
        if integers and model.is_mip
        else np.zeros(model.num_cols, dtype=np.int32)
    )
    return h.passModel(
        model.num_cols,
        model.num_rows,
        model.num_nonzeros,
        int(hp.MatrixFormat.kColwise.value),
        int(hp.ObjSense.kMinimize.value),
        model.offset,
        model.cost,
        model.lower,
        model.upper,
        model.row_lower,
        model.row_upper,
        model.a_start.astype(np.int32),
        model.a_index.astype(np.int32),
        model.a_value,
        integrality,
    )


class HighsBackend:
    """HiGHS: simplex/IPM for LPs, branch and cut for MILPs; gives duals for LPs."""

    name = "highs"
    capabilities = Capabilities(
        integers=True, duals=True, time_limit=True, warm_start=True, incumbents=True
    )

    def __init__(self) -> None:
        try:
            import highspy
        except ImportError as exc:  # pragma: no cover - highspy is a dependency
            raise BackendUnavailable(
                "the highs backend needs highspy: pip install highspy"
            ) from exc
        self._highspy = highspy

    def solve(self, model: LinearModel, options: SolveOptions) -> Solution:
        solution = self._solve(model, options)
        if model.is_mip and options.start is not None and _start_kept(solution, options):
            # HiGHS called the start "optimal" at a bound the plan it returned does not
            # reach (it valued the start in its presolved space, then handed back the
            # start itself: 460 "optimal" at bound 300 on a frozen fence below a
            # minimum lot); the same MIP without the start finds the optimum
            logger.info("HiGHS kept a start its bound does not prove; solving without it")
            left = None if options.time_limit is None else options.time_limit - solution.seconds
            if left is None or left > 0:
                again = self._solve(
                    model, dataclasses.replace(options, start=None, time_limit=left)
                )
                again = dataclasses.replace(again, seconds=again.seconds + solution.seconds)
                if again.status.has_solution and again.objective <= solution.objective:
                    return again
            return dataclasses.replace(solution, status=SolveStatus.FEASIBLE)
        started = options.basis is not None or options.crash is not None or options.relax_first
        if solution.status is not SolveStatus.ERROR or model.is_mip or not started:
            return solution
        # HiGHS failed from soe's start (a staged solve of an LP whose shortage prices
        # reach the 1e12 limit: "ratio test failed due to excessive dual values"); the
        # same LP from HiGHS's own start solves
        logger.info("HiGHS failed (%s) from soe's start; solving from its own", solution.message)
        left = None if options.time_limit is None else options.time_limit - solution.seconds
        if left is not None and left <= 0:
            return solution
        again = self._solve(
            model,
            dataclasses.replace(options, basis=None, crash=None, relax_first=(), time_limit=left),
        )
        return dataclasses.replace(again, seconds=again.seconds + solution.seconds)

    def _solve(self, model: LinearModel, options: SolveOptions) -> Solution:
        hp = self._highspy
        h = _new_highs(hp)
        h.setOptionValue("output_flag", options.log is not None)
        if options.log is not None:
            h.setOptionValue("log_to_console", False)
            log = options.log

            def on_log(event: object) -> None:
                for line in str(getattr(event, "message", "")).rstrip("\n").splitlines():
                    log(line)

            h.cbLogging.subscribe(on_log)
        if options.progress is not None:
            if model.is_mip:
                _subscribe_progress(h, options.progress, options.clock, options.bound_floor)
            else:
                _subscribe_lp_progress(h, options.progress, logged=options.log is not None)
        if options.time_limit is not None:
            h.setOptionValue("time_limit", float(max(options.time_limit, 0.01)))
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
        h.setOptionValue("random_seed", 0)
        if not model.is_mip:
            # soe's LPs arrive reduced (no empty rows, useful-output bounds, every column
            # boxed): HiGHS's presolve finds little and costs more than it saves (size l:
            # 27 s with it, 20 s without)
            h.setOptionValue("presolve", "off")
            if options.lp_method != "ipm" and _parallel_simplex(options.threads):
                h.setOptionValue("simplex_strategy", 2)
            if options.lp_method == "ipm":
                h.setOptionValue("presolve", "on")
                h.setOptionValue("solver", "ipm")

        warm = None
        if options.basis is not None and not model.is_mip:
            warm = options.basis.for_model(model)
        crash = None
        staged = np.zeros(0, dtype=np.int32)
        if warm is None and not model.is_mip and options.lp_method != "ipm":
            if options.crash is not None and options.crash.fits(model):
                crash = options.crash
            blocks = [model.constraints[n] for n in options.relax_first if n in model.constraints]
            if blocks:
                staged = np.concatenate([np.arange(b.start, b.stop) for b in blocks])
                staged = staged.astype(np.int32)
        first = model
        if warm is not None:  # a basis starts under its bounds, then moves to the model's
            first = _with_bounds(model, warm)
        elif len(staged):
            first = _without_rows(model, staged)
        started = time.perf_counter()
        status = pass_model(hp, h, first)
        if status == hp.HighsStatus.kError:
            return Solution(SolveStatus.ERROR, message="HiGHS rejected the model")
        if warm is not None:
            _set_basis(hp, h, warm, model)
        elif crash is not None:
            _set_basis(hp, h, crash, model)  # the staged rows stay basic, as they start
        if options.start is not None and model.is_mip:
            start = hp.HighsSolution()
            start.col_value = list(options.start)
            h.setSolution(start)
        stopped: list[bool] = [False]
        if model.is_mip:
            if options.incumbents is not None:
                _subscribe_incumbents(h, options.incumbents)
            if options.found is not None:
                _subscribe_found(h, options.found, model)
            if options.time_limit is not None:
                _subscribe_deadline(h, time.perf_counter() + options.time_limit, stopped)
            if options.cancel is not None:
                _subscribe_cancel(h, options.cancel)
        SCHEDULER.run(hp, h, options.threads)
        first_iterations = 0
        if len(staged):
            first_iterations = int(h.getInfo().simplex_iteration_count)
            # the rows back, and on from the basis found without them (HiGHS's time
            # limit counts both runs)
            if options.log is not None:
                options.log(f"soe: {len(staged):,} rows restored, solving on from that basis")
            h.changeRowsBounds(
                len(staged), staged, model.row_lower[staged], model.row_upper[staged]
            )
            SCHEDULER.run(hp, h, options.threads)
        seconds = time.perf_counter() - started
        ms = h.getModelStatus()
        info = h.getInfo()
        M = hp.HighsModelStatus
        has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if len(staged) and ms != hp.HighsModelStatus.kOptimal:
            # stopped before the restored rows were met: the point is not a plan
            has_primal = False
        limit = None
        if ms == M.kOptimal:
            status_ = SolveStatus.OPTIMAL
        elif ms == M.kInfeasible:
            status_ = SolveStatus.INFEASIBLE
        elif ms in (M.kTimeLimit, M.kIterationLimit, M.kInterrupt, M.kSolutionLimit):
            limit = {M.kTimeLimit: Limit.TIME, M.kIterationLimit: Limit.ITERATION}.get(
                ms, Limit.INTERRUPTED
            )
            if ms == M.kInterrupt and stopped[0]:
                limit = Limit.TIME  # stopped by _subscribe_deadline
            status_ = SolveStatus.FEASIBLE if has_primal else SolveStatus.NO_SOLUTION
        else:
            return Solution(
                SolveStatus.ERROR, seconds=seconds, message=f"HiGHS: {h.modelStatusToString(ms)}"
            )
        if not status_.has_solution:
            return Solution(status_, limit, seconds=seconds)
        sol = h.getSolution()
        values = np.asarray(sol.col_value, dtype=np.float64)
        objective = float(info.objective_function_value)
        if model.is_mip:
            objective = float(model.cost @ values + model.offset)  # the plan's, as returned
            bound = float(info.mip_dual_bound)
            gap = relative_gap(objective, bound)
        elif status_ is SolveStatus.OPTIMAL:
            bound, gap = objective, 0.0
        else:  # an LP stopped by a limit with a feasible point: no proven bound
            bound, gap = float("nan"), float("inf")
        duals = None
        if options.want_duals and not model.is_mip and sol.dual_valid:
            duals = np.asarray(sol.row_dual, dtype=np.float64)
        basis = None
        if options.want_basis and not model.is_mip and status_ is SolveStatus.OPTIMAL:
            basis = _get_basis(hp, h, model, sol, values)
        return Solution(
            status_,
            limit,
            values,
            objective,
            bound,
            gap,
            seconds,
            duals,
            basis=basis,
            iterations=first_iterations + int(info.simplex_iteration_count),
        )


def _start_kept(solution: Solution, options: SolveOptions) -> bool:
    """Whether a MIP solve ended "optimal" with a plan its bound does not prove."""
    return (
        solution.status is SolveStatus.OPTIMAL
        and solution.gap > options.mip_gap + 1e-9
        and np.isfinite(solution.bound)
    )


def _get_basis(
    hp: Any, h: Any, model: LinearModel, sol: Any, col_value: np.ndarray
) -> Basis | None:
    """HiGHS's optimal basis, rebuilt from its basic variables and the solution
    (reading ``getBasis()``'s statuses makes a Python object of each: 14 ms on generated
    m). A nonbasic column or row is at the bound its value sits on; one whose bounds are
    equal takes the bound the sign of its dual says, as HiGHS sets it; free ones are
    "zero". The tests compare this with ``getBasis()``. ``col_value``: the solution's
    column values, already read (each read of ``sol.col_value`` converts the whole
    vector again: about 6 ms on generated l, where four such reads took 24-28 ms)."""
    if not h.getBasis().valid:
        return None
    status, basic = h.getBasicVariables()
    if status != hp.HighsStatus.kOk:
        return None
    basic = np.asarray(basic, dtype=np.int64)
    row_dual = np.asarray(sol.row_dual, dtype=np.float64)
    col_status = _nonbasic_status(
        col_value, model.lower, model.upper, _negative_reduced_cost(model, row_dual, sol)
    )
    row_status = _nonbasic_status(
        np.asarray(sol.row_value),
        model.row_lower,
        model.row_upper,
        row_dual > 0,  # HiGHS's row duals have the opposite sign
    )
    col_status[basic[basic >= 0]] = 1
    row_status[-1 - basic[basic < 0]] = 1
    return Basis(
        col_status,
        row_status,
        lower=model.lower.copy(),
        upper=model.upper.copy(),
        variables=model.variables,
        constraints=model.constraints,
    )


def _negative_reduced_cost(model: LinearModel, row_dual: np.ndarray, sol: Any) -> np.ndarray:
    """Whether each column's reduced cost is negative, where it matters: the fixed
    columns, whose side HiGHS takes from that sign. Computed from the row duals
    (``c - A'y`` over those columns' entries) rather than read: highspy hands the
    column duals over as a Python list, 15 ms on generated l. Where a fixed column's
    reduced cost is too near 0 for its sign to be sure, HiGHS's own duals are read."""
    out = np.zeros(model.num_cols, dtype=bool)
    cols = np.flatnonzero(model.lower == model.upper)
    if not len(cols):
        return out
    first = model.a_start[cols]
    lens = model.a_start[cols + 1] - first
    entries = np.repeat(first - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    ay = np.bincount(
        np.repeat(np.arange(len(cols)), lens),
        weights=model.a_value[entries] * row_dual[model.a_index[entries]],
        minlength=len(cols),
    )
    cost = model.cost[cols]
    reduced = cost - ay
    if (np.abs(reduced) <= 1e-9 * (1.0 + np.abs(cost) + np.abs(ay))).any():
        return np.asarray(sol.col_dual, dtype=np.float64) < 0
    out[cols] = reduced < 0
    return out


def _nonbasic_status(
    value: np.ndarray, lower: np.ndarray, upper: np.ndarray, upper_if_fixed: np.ndarray
) -> np.ndarray:
    """HiGHS's code for each entry as if nonbasic: 0 at lower, 2 at upper, 3 free."""
    with np.errstate(invalid="ignore"):
        at_upper = np.abs(value - upper) < np.abs(value - lower)
    fixed = lower == upper
    at_upper = np.where(fixed, upper_if_fixed, at_upper)
    status = np.where(at_upper, 2, 0).astype(np.int8)
    status[np.isinf(lower) & np.isinf(upper)] = 3
    return status


def _without_rows(model: LinearModel, rows: np.ndarray) -> LinearModel:
    """``model`` with ``rows`` free (bounds -inf, inf)."""
    lower, upper = model.row_lower.copy(), model.row_upper.copy()
    lower[rows] = -np.inf
    upper[rows] = np.inf
    return dataclasses.replace(model, row_lower=lower, row_upper=upper)


def _with_bounds(model: LinearModel, basis: Basis) -> LinearModel:
    return dataclasses.replace(model, lower=basis.lower, upper=basis.upper)


def install_basis(
    hp: Any, h: Any, col_status: np.ndarray, row_status: np.ndarray, alien: bool = False
) -> bool:
    """Give HiGHS instance ``h`` a basis in HiGHS's status codes; whether it took it
    (if not, its next solve starts from scratch, as without one). ``alien``: the
    statuses need not make a basis (too many or too few basic); HiGHS completes them
    to one as it factorizes."""
    codes = np.array([hp.HighsBasisStatus(i) for i in range(5)], dtype=object)
    b = hp.HighsBasis()
    b.col_status = codes[col_status].tolist()  # a take: twice as fast as a comprehension
    b.row_status = codes[row_status].tolist()
    b.valid = True
    b.alien = alien
    if h.setBasis(b) != hp.HighsStatus.kOk:
        logger.debug("HiGHS refused the starting basis")
        return False
    return True


def _set_basis(hp: Any, h: Any, basis: Basis, model: LinearModel) -> None:
    """Install ``basis`` (found under its own bounds, which the model in ``h`` has),
    then change the bounds to ``model``'s. HiGHS keeps the basis across the change (if
    it refuses the basis, the solve starts from scratch, as without one)."""
    install_basis(hp, h, basis.col_status, basis.rows_for(model), alien=basis.alien)
    changed = np.flatnonzero((basis.lower != model.lower) | (basis.upper != model.upper))
    if len(changed):
        cols = changed.astype(np.int32)
        h.changeColsBounds(len(cols), cols, model.lower[cols], model.upper[cols])
