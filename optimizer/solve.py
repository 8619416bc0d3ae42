"""``plan()``: build the allocation model, solve it, read and verify the plan.

``plan`` is a pure function of a dataset and settings: the same input gives the same
plan, nothing global is changed, and the result is a picklable :class:`Plan`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from formulations.allocation import AllocationModel, build
from formulations.lp import LinearModel
from optimizer.backends import Backend, Solution, SolveOptions, SolveStatus, get_backend
from optimizer.backends.base import (
    Basis,
    Incumbents,
    Limit,
    SolveThread,
    relative_gap,
    usable_cores,
)
from optimizer.dataset import Dataset
from optimizer.exceptions import BackendUnavailable, SoeError, SolverError, VerificationError
from optimizer.heuristics import (
    SETUP_FREE_ROWS,
    idle_plan,
    mip_start,
    previous_setups_start,
    setup_free_start,
    starting_basis,
)
from optimizer.improve import SEARCH_MIN_SETUPS, SUBMIP_FOUND, WarmLp, improve
from optimizer.results import Plan, Summary
from optimizer.schema import OBJECTIVE_TERMS
from optimizer.settings import Settings

logger = logging.getLogger(__name__)

HEURISTIC_SHARE = 0.5
"""Share of a MILP's time limit for soe's own first plan and its local search
(:mod:`optimizer.heuristics`, :mod:`optimizer.improve`); branch and cut gets the rest,
starting from that plan (it proves the bound, and may still improve the plan)."""

_STATUS_RANK = {
    SolveStatus.OPTIMAL: 0,
    SolveStatus.FEASIBLE: 1,
    SolveStatus.NO_SOLUTION: 2,
    SolveStatus.INFEASIBLE: 3,
    SolveStatus.ERROR: 4,
}


TIER_STAGE_METHOD = "ipm"
"""LP method of the lexicographic tier stages (:attr:`SolveOptions.lp_method`)."""

NOISE = 1e-9
"""Below this a plan's value is solver noise (the plan folder writes it as 0)."""

RELAX_FIRST = ("capacity",)
"""Row blocks an LP model is first solved without (:attr:`SolveOptions.relax_first`)."""


def plan(
    dataset: Dataset,
    settings: Settings | None = None,
    *,
    log: Callable[[str], None] | None = None,
    progress: Callable[[str], None] | None = None,
    verify: bool = True,
    basis: Basis | None = None,
    start: Plan | None = None,
) -> Plan:
    """Plan a dataset: the optimal allocation of MODEL.md.

    Parameters
    ----------
    dataset
        A validated dataset (:func:`optimizer.load_dataset`).
    settings
        Settings to use instead of ``dataset.settings``.
    log
        Receives the solver's log lines, for progress on long solves.
    progress
        Receives a short line when the MIP search finds a better plan, and every
        ~10 s of search (HiGHS).
    verify
        Check the plan against every constraint with :mod:`optimizer.verify` (code
        independent of the formulation) before returning it.
    basis
        Where to start an LP model's simplex (HiGHS): the :attr:`Plan.basis` of a plan
        of a similar dataset, as what-ifs and weekly re-plans have (capacities,
        receipts, quantities and costs may differ). Where the models' columns or rows
        differ (a line-week's overtime gone, an order of a new tier), the columns and
        rows they share are matched by label (:meth:`Basis.for_model`); it is not used
        when they share under 90% of the columns, nor for a model under 2,000 rows.
        The optimal objective is the same with or without it; where the LP has
        several optimal plans, the one returned may differ.
    start
        A previous plan of a similar dataset (a what-if's plan, last week's): an LP
        starts from its basis (as ``basis``, which wins where both are given), a MILP's
        search from its setups, matched by product, line and period (weighted mode;
        its first plan is the one with those setups, where they make one).

    Returns
    -------
    Plan
        With ``summary.status`` optimal or feasible (a time limit stopped the solve;
        ``summary.gap`` says how far from proven), or without tables when the solver
        found no plan.

    Raises
    ------
    VerificationError
        The plan breaks a constraint of the model (a solver or formulation defect).
    BackendUnavailable
        The chosen solver's package is not installed.
    """
    if settings is not None and settings != dataset.settings:
        dataset = dataset.replace(settings=settings)
    settings = dataset.settings
    if start is not None and basis is None:
        basis = start.basis
    previous = start.production if start is not None and start.has_solution else None
    if settings.solve.threads > (cores := usable_cores()):
        # more threads than cores only slow the solver down (threads = 5,000 took 28 s
        # on data/tiny); the plan is the same
        settings = settings.with_overrides(solve__threads=cores)
    started = time.perf_counter()
    settled = False  # the plan is already an optimal LP plan for its setups
    model = build(dataset)
    build_seconds = time.perf_counter() - started
    backend = get_backend(settings.solve.solver)
    deadline = time.perf_counter() + settings.solve.time_limit_s

    try:
        if settings.priority.mode == "lexicographic":
            solution, cost, stages = _solve_lexicographic(
                model, backend, settings, deadline, log, progress
            )
        elif _concurrent(model, backend, settings):
            cost = model.lp.cost
            solution, settled = _solve_concurrently(
                model, backend, settings, deadline, log, progress, previous
            )
            stages = []
        else:
            cost = model.lp.cost
            first: np.ndarray | None = None
            floor = -np.inf
            limit = settings.solve.time_limit_s
            if model.lp.is_mip and backend.capabilities.warm_start:
                budget = min(deadline, started + build_seconds + HEURISTIC_SHARE * limit)
                first, warm, what, floor = _first_plan(
                    model, backend, budget, settings.solve.threads, previous
                )
                if first is not None and log is not None:
                    value = float(cost @ first + model.lp.offset)
                    log(f"soe: starting with the {what}, objective {value:,.2f}")
                if first is not None:
                    first = improve(model, first, budget, settings.solve.threads, warm=warm)
                    if log is not None:
                        value = float(cost @ first + model.lp.offset)
                        log(f"soe: after setup local search, objective {value:,.2f}")
            options = _options(settings, deadline, log, first, progress)
            lp = model.lp if first is None else _shortage_cutoff(model, first)
            solution = backend.solve(
                lp, dataclasses.replace(options, basis=basis, crash=_crash(model))
            )
            solution = _with_floor(solution, floor, settings.solve.mip_gap)
            stages = []
        if (
            model.lp.is_mip
            and not settled
            and solution.status.has_solution
            and solution.values is not None
        ):
            final = dataclasses.replace(model.lp, cost=cost)
            solution = _polish(final, solution, backend, settings, deadline)
    except SoeError:
        raise
    except Exception as exc:  # a solver's own failure, in a planner's words
        raise SolverError(f"the {backend.name} solver failed: {type(exc).__name__}: {exc}") from exc
    solve_seconds = time.perf_counter() - started - build_seconds
    lp = model.lp
    base: dict[str, Any] = dict(
        solver=backend.name,
        mode=settings.priority.mode,
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        variables=lp.num_cols,
        constraints=lp.num_rows,
        integer_variables=lp.num_integers,
        nonzeros=lp.num_nonzeros,
        limit=solution.limit.value if solution.limit else None,
        stages=stages,
        warnings=list(dataset.warnings),
    )
    if not solution.status.has_solution or solution.values is None:
        summary = Summary(status=solution.status.value, message=solution.message, **base)
        return Plan(summary, None, dataset.name)

    values = model.settle(clean(lp, solution.values))
    tables = model.tables(values)
    terms = model.objective_terms(values, cost)
    objective = float(sum(terms[t] for t in OBJECTIVE_TERMS))
    fill, on_time = rates(tables["service"])
    summary = Summary(
        status=solution.status.value,
        objective=objective,
        bound=solution.bound,
        gap=solution.gap,
        objective_terms=terms,
        fill_rate=fill,
        on_time_rate=on_time,
        message=solution.message,
        **base,
    )
    result = Plan(summary, tables, dataset.name, basis=solution.basis)
    if verify:
        from optimizer.verify import verify_plan

        violations = verify_plan(dataset, result)
        if violations:
            raise VerificationError(violations)
    return result


PROGRESS_EVERY = 2.0
"""Seconds between two progress lines of soe's own search (it finds a better plan
every few moves)."""


def _concurrent(model: AllocationModel, backend: Any, settings: Settings) -> bool:
    """Whether a weighted MILP is solved by soe's own search beside branch and cut
    (:func:`_solve_concurrently`): a backend that takes plans as they come, a model with
    enough setups for the search to pay (:data:`optimizer.improve.SEARCH_MIN_SETUPS`),
    and more than one thread allowed."""
    return (
        model.lp.is_mip
        and backend.capabilities.incumbents
        and model.y.size >= SEARCH_MIN_SETUPS
        and settings.solve.threads != 1
    )


ROUNDING_PAYS = 30.0
"""LP rounding's first plan is tried after the setup-free one when the time left is at
least this many times what the setup-free start took (generated m with setups: the
setup-free start takes 0.5 s, LP rounding 3 s for a better first plan; the setup-free
start ended better at 5 and 10 s limits, 3.97 M against 4.97 M and 3.65 M against
4.07 M, rounding at 20 s and 60 s)."""


def _first_plan(
    model: AllocationModel,
    backend: Backend,
    deadline: float,
    threads: int,
    previous: pd.DataFrame | None = None,
) -> tuple[np.ndarray | None, WarmLp | None, str, float]:
    """The search's first plan, the HiGHS instance it came from (or ``None``), what it
    is, and a lower bound found on the way (``-inf``: none).

    Given a previous plan's ``production`` table (``plan(start=...)``), the plan with
    its setups (:func:`previous_setups_start`) where they make one: a what-if's plan
    differs from its plan in few setups, and no start of ours comes as close.

    The setup-free LP's plan first (:func:`setup_free_start`, as fast as the pure LP);
    then, on MILPs up to ``SETUP_FREE_ROWS`` rows (larger ones' relaxation is too slow
    to wait for) and when the time left is at least :data:`ROUNDING_PAYS` times what
    that took, rounding the relaxation, which usually starts the search lower; the
    cheaper of the two is returned."""
    if previous is not None:
        kept = previous_setups_start(model, previous, deadline, threads)
        if kept is not None:
            return kept[0], kept[1], "first plan from the previous plan's setups", -np.inf
    began = time.perf_counter()
    fast = setup_free_start(model, deadline, threads)
    took = time.perf_counter() - began
    floor = fast[2] if fast is not None else -np.inf
    if fast is not None and (
        model.lp.num_rows > SETUP_FREE_ROWS or deadline - time.perf_counter() < ROUNDING_PAYS * took
    ):
        return fast[0], fast[1], "first plan from the setup-free LP", floor
    start = mip_start(model, backend, deadline, threads, quick=True)
    if fast is not None and (start is None or model.lp.cost @ fast[0] <= model.lp.cost @ start):
        return fast[0], fast[1], "first plan from the setup-free LP", floor
    if start is not None and np.array_equal(start, idle_plan(model)):
        return start, None, "the idle plan: the LP relaxation took too long", floor
    return start, None, "first plan from LP rounding", floor


SHORT_MARGIN = 1e-3
"""Units of shortage added to each bound :func:`_shortage_cutoff` derives."""


def _shortage_cutoff(model: AllocationModel, plan: np.ndarray) -> LinearModel:
    """``model.lp`` with each shortage column bounded by what a plan no dearer than
    ``plan`` can afford: every MODEL.md term is a non-negative cost times a
    non-negative quantity, so such a plan has ``pi(e) short[e] <= z`` (``z``: the
    plan's objective). Only plans dearer than ``plan`` are cut, so the optimum and any
    bound on it are the model's own. Where an entry cannot be shorted in full at that
    price (an entry that must be served in effect), branch and cut can then see that
    leaving a week without its setup needs stock from before."""
    lp = model.lp
    z = float(lp.cost @ plan + lp.offset)
    price = lp.cost[model.short]
    upper = lp.upper.copy()
    afford = np.full(len(price), np.inf)
    np.divide(z, price, out=afford, where=price > 0)
    # a margin, so that the plan itself is inside the bound and no bound is within
    # HiGHS's tolerances of 0: its presolve fixed a column bounded by 1e-6 at that
    # bound (a plan of 0 valued at 0.002), and with a start on a bound 1e-9 above it
    # returned an "optimum" 1e-9 above the start. Looser bounds are as valid.
    upper[model.short] = np.minimum(upper[model.short], afford * (1 + 1e-6) + SHORT_MARGIN)
    return dataclasses.replace(lp, upper=upper)


def _with_floor(solution: Solution, floor: float, mip_gap: float) -> Solution:
    """``solution`` with its bound raised to ``floor`` (a lower bound soe found itself)
    where the solver's is lower or unknown, and its gap and status to match."""
    if not np.isfinite(floor) or (np.isfinite(solution.bound) and solution.bound >= floor):
        return solution
    if solution.values is None:
        return dataclasses.replace(solution, bound=floor)
    gap = relative_gap(solution.objective, floor)
    optimal = gap <= mip_gap
    return dataclasses.replace(
        solution,
        bound=floor,
        gap=gap,
        status=SolveStatus.OPTIMAL if optimal else solution.status,
        limit=None if optimal else solution.limit,
    )


def _solve_concurrently(
    model: AllocationModel,
    backend: Any,
    settings: Settings,
    deadline: float,
    log: Callable[[str], None] | None,
    progress: Callable[[str], None] | None,
    previous: pd.DataFrame | None = None,
) -> tuple[Solution, bool]:
    """Branch and cut for the whole time limit in one thread (it proves the bound), and
    in this one soe's first plan and local search over setups, each better plan handed
    to the branch and cut as it is found (:class:`Incumbents`).

    On a large MILP the solver spends most of a time limit cutting at its root, where
    its own heuristics find few plans, while the local search finds good plans but no
    bound: side by side, on two cores, each gets the whole limit. The plan returned is
    the cheaper of the solver's and the search's last one; the flag says it is the
    search's (an optimal LP plan for its setups already: it needs no polish).
    """
    incumbents = Incumbents()
    lp = model.lp
    began = time.perf_counter()
    shown = [-PROGRESS_EVERY]

    polished = [True]  # the best plan offered is an LP optimum for its setups

    def offer(values: np.ndarray, objective: float, what: str) -> None:
        if not incumbents.offer(values, objective):
            return
        polished[0] = what != SUBMIP_FOUND
        now = time.perf_counter() - began
        if progress is not None and now - shown[0] >= PROGRESS_EVERY:
            shown[0] = now
            progress(f"  {now:6.1f} s  better    plan {objective:,.2f} ({what})")
        if log is not None:
            log(f"soe: {what}, objective {objective:,.2f}")

    threads = settings.solve.threads
    first = None
    if lp.num_rows > SETUP_FREE_ROWS:
        # a large MILP's first plan comes before its branch and cut starts: the
        # setup-free LP gets both cores (the parallel simplex), the solver the plan
        first = _first_plan(model, backend, deadline, threads, previous)
    found = Incumbents()  # the branch and cut's own better plans, for the search
    worker = SolveThread("soe-branch-and-cut")
    options = dataclasses.replace(
        _options(settings, deadline, log, first[0] if first else None, progress),
        incumbents=incumbents,
        found=found,
        cancel=worker.cancelled.is_set,
        clock=began,
        bound_floor=first[3] if first else float("-inf"),
    )
    worker.start(lambda: backend.solve(lp, options))

    def done() -> bool:
        """Whether the search may stop: the branch and cut has ended with the plan proven
        (or failed). Stopped by the time limit a round of cuts early (HiGHS's next round
        would end after it), it leaves the search the rest of the time."""
        if worker.running:
            return False
        solution = worker.solution
        return solution is None or solution.status not in (
            SolveStatus.FEASIBLE,
            SolveStatus.NO_SOLUTION,
        )

    try:
        start, warm, what, floor = first or _first_plan(model, backend, deadline, threads, previous)
        if start is not None:
            offer(start, float(lp.cost @ start + lp.offset), what)
        if start is not None and not done():
            improve(
                model,
                start,
                deadline,
                threads,
                report=offer,
                stop=done,
                adopt=lambda best: found.take(worse_than=best),
                warm=warm,
            )
    except BaseException:
        worker.cancelled.set()  # the branch and cut stops at its next check, not at the limit
        raise
    finally:
        worker.join()
    solution = _with_floor(worker.result(), floor, settings.solve.mip_gap)
    objective, values = incumbents.best()
    # on a tie the search's plan (HiGHS had taken it as its incumbent): it is an LP
    # optimum for its setups already, where the solver's copy would be polished again
    # (1.4 s on generated m with setups, after the time limit)
    ours = values is not None and (
        solution.values is None or objective <= solution.objective + 1e-9 * max(1.0, abs(objective))
    )
    if ours and values is not None:
        # the search's last plan came after the solver's last look
        bound = solution.bound if np.isfinite(solution.bound) else float("-inf")
        gap = relative_gap(objective, bound)
        status = SolveStatus.OPTIMAL if gap <= settings.solve.mip_gap else SolveStatus.FEASIBLE
        solution = dataclasses.replace(
            solution,
            status=status,
            values=values,
            objective=objective,
            gap=gap,
            limit=None if status is SolveStatus.OPTIMAL else solution.limit,
        )
    # the idle plan is no LP optimum (it ships nothing, not even from stock), nor is a
    # plan the sub-MIP found as it went (its own LP comes after): polish them
    if not (ours and polished[0]) or values is None:
        return solution, False
    return solution, not np.array_equal(values, idle_plan(model))


def _crash(model: AllocationModel) -> Basis | None:
    """An LP model's starting basis when no basis is given (a MILP's branch and cut
    takes none)."""
    return None if model.lp.is_mip else starting_basis(model)


def _options(
    settings: Settings,
    deadline: float,
    log: Callable[[str], None] | None,
    start: np.ndarray | None = None,
    progress: Callable[[str], None] | None = None,
) -> SolveOptions:
    return SolveOptions(
        time_limit=max(deadline - time.perf_counter(), 0.01),
        mip_gap=settings.solve.mip_gap,
        threads=settings.solve.threads,
        log=log,
        start=start,
        progress=progress,
        want_basis=True,
        relax_first=RELAX_FIRST,
    )


def _solve_lexicographic(
    model: AllocationModel,
    backend: Any,
    settings: Settings,
    deadline: float,
    log: Callable[[str], None] | None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Solution, np.ndarray, list[dict[str, Any]]]:
    """MODEL.md's lexicographic mode: one solve per tier, then the full objective.

    Each stage minimises ``U_k`` (tier ``k``'s shortage at ``c_short`` plus its
    lateness) under ``U_j <= U_j* (1 + tolerance) + 1e-6 max(1, U_j*)`` for every
    earlier tier ``j``; the last stage minimises the full objective with
    ``pi(e) = c_short`` under all the limits. A stage that finds no plan ends the
    sequence with the last plan found (still feasible for the model).
    """
    tol = settings.priority.tolerance
    lp: LinearModel = model.lp
    stages: list[dict[str, Any]] = []
    best: Solution | None = None
    worst = SolveStatus.OPTIMAL
    stopped: Limit | None = None
    tiers = model.tiers()
    for k in [*tiers, None]:
        cost = model.final_objective() if k is None else model.tier_cost(k)
        stage_lp = LinearModel(**{**lp.__dict__, "cost": cost})
        if k is None:
            stage_lp.offset = lp.offset
        else:
            stage_lp.offset = 0.0
        start = best.values if best is not None else None
        if start is None and lp.is_mip and backend.capabilities.warm_start:
            start = mip_start(
                model,
                backend,
                time.perf_counter() + 0.3 * (deadline - time.perf_counter()),
                settings.solve.threads,
            )
        if progress is not None:
            progress(f"  stage {'final' if k is None else f'tier {k}'}")
        options = _options(settings, deadline, log, start, progress)
        if k is not None:
            # a tier's LP prices only that tier's shortage and lateness: nearly every
            # column costs nothing, and the dual simplex stalls on it (generated l: no
            # answer in 300 s); the interior point method solves it in seconds
            options = dataclasses.replace(options, lp_method=TIER_STAGE_METHOD)
        else:
            # the final stage of an LP starts as a weighted LP does, from the just-in-
            # time basis with the capacity rows last (the limit rows start basic):
            # generated l, 31 s, where from the last tier's optimal vertex it took 67-100 s
            options = dataclasses.replace(options, crash=_crash(model))
        sol = backend.solve(stage_lp, options)
        name = "final" if k is None else f"tier {k}"
        stages.append(
            {
                "stage": name,
                "status": sol.status.value,
                "objective": sol.objective,
                "bound": sol.bound,
                "seconds": sol.seconds,
            }
        )
        if _STATUS_RANK[sol.status] > _STATUS_RANK[worst]:
            worst = sol.status
        stopped = stopped or sol.limit  # the first limit that cut a stage short
        if not sol.status.has_solution or sol.values is None:
            logger.warning("lexicographic stage %s ended %s", name, sol.status.value)
            break
        best = sol
        if k is not None:
            cols, vals = model.tier_row(k)
            if (np.abs(sol.values[cols]) <= NOISE).all():
                # tier k loses nothing: its loss columns are fixed at 0 instead of a
                # row "U_k <= 1e-6" (large coefficients, a right-hand side at the
                # solver's tolerances: HiGHS's MIP presolve drew wrong conclusions
                # from it and proved a tier-2 "optimum" three times too high)
                upper = lp.upper.copy()
                upper[cols] = 0.0
                lp = dataclasses.replace(lp, upper=upper)
            else:
                u_star = float(vals @ sol.values[cols])
                limit = u_star * (1 + tol) + 1e-6 * max(1.0, abs(u_star))
                index = pd.DataFrame({"tier": [k]})
                lp = lp.with_rows(
                    [cols], [vals], np.array([-np.inf]), np.array([limit]), f"tier_limit_{k}", index
                )
            model.lp = lp
    final_cost = model.final_objective()
    if best is None or best.values is None:
        return Solution(worst, stopped), final_cost, stages
    status = worst if worst.has_solution else SolveStatus.FEASIBLE
    if stages[-1]["stage"] != "final" or stages[-1]["status"] not in ("optimal", "feasible"):
        best = Solution(
            status,
            stopped,
            best.values,
            float("nan"),
            float("nan"),
            float("inf"),
            best.seconds,
            message="a lexicographic stage found no plan",
        )
    else:
        best = Solution(
            status,
            stopped,
            best.values,
            best.objective,
            best.bound,
            best.gap,
            best.seconds,
            basis=best.basis,
        )
    return best, final_cost, stages


def _polish(
    lp: LinearModel,
    solution: Solution,
    backend: Any,
    settings: Settings,
    deadline: float,
) -> Solution:
    """Re-solve the LP with the setups of a MIP solution fixed (with HiGHS when installed).

    A MIP solver may return continuous values that are feasible but not the best for
    its setups (a safety-stock shortfall left above what the stock implies, say). With
    the setups fixed the rest is an LP: solving it makes the plan's quantities the
    cheapest for those setups, so the tables, the objective and its terms agree.
    Gets at least a few seconds even when the time limit is spent.
    """
    assert solution.values is not None
    ints = lp.integer
    fixed = np.round(np.clip(solution.values[ints], lp.lower[ints], lp.upper[ints]))
    lower = lp.lower.copy()
    upper = lp.upper.copy()
    lower[ints] = upper[ints] = fixed
    relaxed = dataclasses.replace(lp, lower=lower, upper=upper, integer=np.zeros_like(ints))
    left = max(deadline - time.perf_counter(), min(10.0, 0.2 * settings.solve.time_limit_s))
    try:  # HiGHS's LP is the most precise at hand (CBC's MIP values can be off by 1e-8
        # relative, which a stock of zero cannot absorb); any backend will do otherwise
        lp_backend = get_backend("highs")
    except BackendUnavailable:
        lp_backend = backend
    polished = lp_backend.solve(
        relaxed, SolveOptions(time_limit=left, threads=settings.solve.threads)
    )
    if polished.status is not SolveStatus.OPTIMAL or polished.values is None:
        return solution
    before = float(lp.cost @ solution.values)
    after = float(lp.cost @ polished.values)
    if after > before + 1e-9 * max(1.0, abs(before)):
        return solution
    values = polished.values.copy()
    values[ints] = fixed
    objective = after + lp.offset
    bound = min(solution.bound, objective) if np.isfinite(solution.bound) else solution.bound
    gap = relative_gap(objective, bound) if np.isfinite(bound) else solution.gap
    return dataclasses.replace(solution, values=values, objective=objective, bound=bound, gap=gap)


def clean(lp: LinearModel, values: np.ndarray) -> np.ndarray:
    """Solver values within bounds, integers rounded, and noise set to zero: a value whose
    effect on each of its rows is below 1e-9 (the value times its column's largest
    coefficient, or the value alone where no coefficient is above 1).

    Scaled so: with 10^9 units of a material per unit of a product and half a unit of
    it in stock, the LP makes 5e-10 units of the product (it saves holding the
    material); a plain 1e-9 cut took that production away but left its consumption,
    and the plan failed verification."""
    v = np.clip(values, lp.lower, lp.upper)
    v = np.where(lp.integer, np.round(v), v)
    v[np.abs(v) * _column_scale(lp) < 1e-9] = 0.0
    return np.asarray(v, dtype=np.float64)


def _column_scale(lp: LinearModel) -> np.ndarray:
    """Each column's largest absolute coefficient, at least 1."""
    scale = np.ones(lp.num_cols)
    starts = np.asarray(lp.a_start[: lp.num_cols], dtype=np.int64)
    filled = np.diff(np.append(starts, len(lp.a_value))) > 0
    if filled.any():
        largest = np.maximum.reduceat(np.abs(lp.a_value), starts[filled])
        scale[filled] = np.maximum(largest, 1.0)
    return scale


def rates(service: pd.DataFrame) -> tuple[dict[str, float], dict[str, float]]:
    """Fill rate and on-time rate, overall and per tier (tiers without demand left out)."""
    q = service["quantity"].to_numpy(dtype=np.float64)
    shipped = service["on_time"].to_numpy(dtype=np.float64) + service["late"].to_numpy(
        dtype=np.float64
    )
    on_time = service["on_time"].to_numpy(dtype=np.float64)
    fill: dict[str, float] = {}
    ontime: dict[str, float] = {}
    total = q.sum()
    if total > 0:
        fill["overall"] = float(shipped.sum() / total)
        ontime["overall"] = float(on_time.sum() / total)
    tiers = service["priority"].to_numpy()
    for k in sorted(set(tiers.tolist())):
        m = tiers == k
        d = q[m].sum()
        if d > 0:
            fill[str(k)] = float(shipped[m].sum() / d)
            ontime[str(k)] = float(on_time[m].sum() / d)
    return fill, ontime
