"""``plan()``'s solve orchestration: soe's own search beside branch and cut."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from optimizer import Dataset, plan
from optimizer import solve as solve_module
from optimizer.backends import Solution, SolveStatus
from optimizer.backends.highs import HighsBackend
from optimizer.exceptions import SolverError


@pytest.fixture(scope="module")
def alone(bodywash: Dataset) -> Any:
    """The demo's plan by branch and cut alone (its model is below the search's size)."""
    result = plan(bodywash)
    assert result.summary.status == "optimal"
    return result


@pytest.fixture
def side_by_side(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the demo's model big enough for soe's search to run beside branch and cut."""
    monkeypatch.setattr(solve_module, "SEARCH_MIN_SETUPS", 0)
    from optimizer import improve

    monkeypatch.setattr(improve, "SEARCH_MIN_SETUPS", 0)


def test_the_demo_is_solved_alone_by_default(bodywash: Dataset) -> None:
    from formulations.allocation import build

    model = build(bodywash)
    backend = HighsBackend()
    assert not solve_module._concurrent(model, backend, bodywash.settings)


def test_search_beside_branch_and_cut_finds_the_same_optimum(
    bodywash: Dataset, alone: Any, side_by_side: None
) -> None:
    lines: list[str] = []
    result = plan(bodywash, progress=lines.append)  # verified inside plan()
    assert result.summary.status == "optimal"
    gap = bodywash.settings.solve.mip_gap
    assert result.summary.objective == pytest.approx(alone.summary.objective, rel=gap)
    assert result.summary.bound is not None and result.summary.objective is not None
    assert result.summary.bound <= result.summary.objective + 1e-6
    assert any(
        "first plan from LP rounding" in line or "first plan from the setup-free LP" in line
        for line in lines
    )


def test_first_plan_is_the_cheaper_start_when_time_allows(bodywash: Dataset) -> None:
    """With time to spare, both starts are made and the cheaper returned; the floor is
    the setup-free LP's optimum either way (a bound on the MILP)."""
    import time

    from formulations.allocation import build
    from optimizer.heuristics import mip_start, setup_free_start

    model = build(bodywash)
    backend = HighsBackend()
    deadline = time.perf_counter() + 60
    free = setup_free_start(model, deadline, 1)
    rounded = mip_start(model, backend, deadline, 1, quick=True)
    assert free is not None and rounded is not None
    start, _, what, floor = solve_module._first_plan(model, backend, deadline, 1)
    assert start is not None
    cost = model.lp.cost
    assert cost @ start == pytest.approx(min(cost @ free[0], cost @ rounded))
    assert ("setup-free" in what) == bool(cost @ free[0] <= cost @ rounded)
    assert floor == pytest.approx(free[2])
    assert floor <= cost @ start + model.lp.offset


def test_first_plan_skips_rounding_when_time_is_short(
    bodywash: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A time limit shorter than ``ROUNDING_PAYS`` setup-free starts keeps the
    setup-free plan and leaves the rest of the time to the search (generated m with
    setups at 5 s: 3.97 M from it, 4.97 M from rounding)."""
    import time

    from formulations.allocation import build

    def no_rounding(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("LP rounding was tried")

    monkeypatch.setattr(solve_module, "ROUNDING_PAYS", 1e9)
    monkeypatch.setattr(solve_module, "mip_start", no_rounding)
    model = build(bodywash)
    start, warm, what, floor = solve_module._first_plan(
        model, HighsBackend(), time.perf_counter() + 60, 1
    )
    assert start is not None and warm is not None and np.isfinite(floor)
    assert what == "first plan from the setup-free LP"


def test_one_thread_keeps_the_search_before_branch_and_cut(
    bodywash: Dataset, side_by_side: None
) -> None:
    from formulations.allocation import build

    settings = bodywash.settings.with_overrides(solve__threads=1)
    assert not solve_module._concurrent(build(bodywash), HighsBackend(), settings)


def test_the_search_plan_stands_when_branch_and_cut_finds_none(
    bodywash: Dataset, alone: Any, side_by_side: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = HighsBackend.solve

    def no_plan(self: HighsBackend, model: Any, options: Any) -> Solution:
        if options.incumbents is not None:  # the branch and cut beside the search
            return Solution(SolveStatus.NO_SOLUTION, bound=float("-inf"))
        return real(self, model, options)

    monkeypatch.setattr(HighsBackend, "solve", no_plan)
    result = plan(bodywash)  # the search's plan, verified
    assert result.summary.status == "feasible"
    assert result.summary.objective >= alone.summary.objective * (1 - 1e-9)
    assert result.summary.gap is None or result.summary.gap > 0


def test_a_branch_and_cut_failure_reaches_the_caller(
    bodywash: Dataset, side_by_side: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = HighsBackend.solve

    def broken(self: HighsBackend, model: Any, options: Any) -> Solution:
        if options.incumbents is not None:
            raise RuntimeError("solver crashed")
        return real(self, model, options)

    monkeypatch.setattr(HighsBackend, "solve", broken)
    with pytest.raises(SolverError, match="solver crashed"):
        plan(bodywash)


class _Interrupted(BaseException):
    """Stands for Ctrl-C (a ``KeyboardInterrupt`` would stop pytest itself)."""


def test_an_interrupted_search_stops_the_branch_and_cut_beside_it(
    bodywash: Dataset, side_by_side: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    seen: list[bool] = []
    real = HighsBackend.solve

    def waits_for_cancel(self: HighsBackend, model: Any, options: Any) -> Solution:
        if options.incumbents is None:
            return real(self, model, options)
        until = time.perf_counter() + 30
        while time.perf_counter() < until and not options.cancel():
            threading.Event().wait(0.01)
        seen.append(options.cancel())
        return Solution(SolveStatus.NO_SOLUTION)

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise _Interrupted

    monkeypatch.setattr(HighsBackend, "solve", waits_for_cancel)
    monkeypatch.setattr(solve_module, "improve", interrupted)
    with pytest.raises(_Interrupted):
        plan(bodywash)
    assert seen == [True]  # told to stop, not left to run to its 30 s


def _branch_and_cut_ending(status: SolveStatus, monkeypatch: pytest.MonkeyPatch) -> None:
    """The branch and cut beside the search ends as soon as the search has a plan: with
    that plan (``FEASIBLE``, as if stopped by the time limit a round of cuts early, or
    ``OPTIMAL``) or with none (``NO_SOLUTION``)."""
    import threading
    import time

    real = HighsBackend.solve

    def ends(self: HighsBackend, model: Any, options: Any) -> Solution:
        if options.incumbents is None:
            return real(self, model, options)
        until = time.perf_counter() + 30
        while options.incumbents.best()[1] is None and time.perf_counter() < until:
            threading.Event().wait(0.01)
        objective, values = options.incumbents.best()
        if status is SolveStatus.NO_SOLUTION or values is None:
            return Solution(SolveStatus.NO_SOLUTION)
        return Solution(status, values=values.copy(), objective=objective, bound=0.0, gap=1.0)

    monkeypatch.setattr(HighsBackend, "solve", ends)


@pytest.mark.parametrize(
    ("status", "search_goes_on"),
    [(SolveStatus.FEASIBLE, True), (SolveStatus.NO_SOLUTION, True), (SolveStatus.OPTIMAL, False)],
)
def test_the_search_goes_on_when_the_branch_and_cut_stops_early(
    bodywash: Dataset,
    side_by_side: None,
    monkeypatch: pytest.MonkeyPatch,
    status: SolveStatus,
    search_goes_on: bool,
) -> None:
    """HiGHS stops a round of root cuts before the time limit when the next round would
    end after it; the search stopped with it, and a 10 s limit on generated m with
    setups ended at 8 s. Now only a proven (or failed) branch and cut stops it."""
    import threading

    _branch_and_cut_ending(status, monkeypatch)
    seen: list[bool] = []
    real_improve = solve_module.improve

    def watched(*args: Any, stop: Any, **kwargs: Any) -> Any:
        for _ in range(3000):  # until the branch and cut has ended (at most 30 s)
            if not any(t.name == "soe-branch-and-cut" for t in threading.enumerate()):
                break
            threading.Event().wait(0.01)
        seen.append(stop())
        return real_improve(*args, stop=stop, **kwargs)

    monkeypatch.setattr(solve_module, "improve", watched)
    result = plan(bodywash)  # verified inside plan()
    assert result.has_solution
    assert seen == [not search_goes_on]


def test_a_tie_keeps_the_searchs_plan_unpolished(
    bodywash: Dataset, side_by_side: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The branch and cut returning the search's own plan (it took it as its incumbent)
    used to send that plan through the polish LP again (1.4 s on generated m with
    setups, after the time limit): a tie now keeps the search's plan, an LP optimum for
    its setups already."""
    _branch_and_cut_ending(SolveStatus.FEASIBLE, monkeypatch)
    monkeypatch.setattr(solve_module, "improve", lambda model, start, *a, **k: start)

    def no_polish(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the search's plan was polished again")

    monkeypatch.setattr(solve_module, "_polish", no_polish)
    result = plan(bodywash)
    assert result.has_solution and result.summary.status == "feasible"


def test_a_plan_the_sub_mip_found_as_it_went_is_polished(
    bodywash: Dataset, side_by_side: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search's plans are LP optima for their setups and are kept as they are; one
    the sub-MIP reported as it went is not (the search solves its LP after, unless the
    time ran out first), so it is polished."""
    from optimizer.improve import SUBMIP_FOUND

    _branch_and_cut_ending(SolveStatus.FEASIBLE, monkeypatch)

    def sub_mip_plan(model: Any, start: Any, *args: Any, report: Any = None, **kwargs: Any) -> Any:
        report(start, float(model.lp.cost @ start + model.lp.offset) - 1e-3, SUBMIP_FOUND)
        return start

    monkeypatch.setattr(solve_module, "improve", sub_mip_plan)
    polished: list[bool] = []
    real = solve_module._polish

    def spy(*args: Any, **kwargs: Any) -> Any:
        polished.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(solve_module, "_polish", spy)
    result = plan(bodywash)
    assert result.has_solution and polished == [True]


def test_a_bound_soe_found_itself_raises_the_solvers_where_it_is_lower() -> None:
    from optimizer.backends.base import Limit
    from optimizer.solve import _with_floor

    values = np.zeros(2)
    unknown = Solution(SolveStatus.FEASIBLE, values=values, objective=110.0, limit=Limit.TIME)
    raised = _with_floor(unknown, 100.0, mip_gap=0.001)
    assert raised.bound == 100.0 and raised.gap == pytest.approx(10 / 110)
    assert raised.status is SolveStatus.FEASIBLE and raised.limit is Limit.TIME
    stronger = dataclasses.replace(unknown, bound=105.0, gap=5 / 110)
    assert _with_floor(stronger, 100.0, mip_gap=0.001) is stronger
    assert _with_floor(unknown, -np.inf, mip_gap=0.001) is unknown
    closed = _with_floor(unknown, 109.95, mip_gap=0.001)
    assert closed.status is SolveStatus.OPTIMAL and closed.limit is None
    nothing = Solution(SolveStatus.NO_SOLUTION)
    assert _with_floor(nothing, 100.0, mip_gap=0.001).bound == 100.0


def test_threads_beyond_the_cores_are_capped(
    bodywash: Dataset, alone: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``threads = 5000`` reaches the solver as the cores there are (HiGHS started 5,000
    threads and took 28 s on data/tiny); the plan is the same."""
    asked: list[int] = []
    real = HighsBackend.solve

    def counting(self: HighsBackend, model: Any, options: Any) -> Solution:
        asked.append(options.threads)
        return real(self, model, options)

    monkeypatch.setattr(HighsBackend, "solve", counting)
    monkeypatch.setattr(solve_module, "usable_cores", lambda: 2)
    result = plan(bodywash, bodywash.settings.with_overrides(solve__threads=5000))
    assert asked and set(asked) == {2}
    assert result.summary.objective == pytest.approx(alone.summary.objective, rel=1e-9)
    asked.clear()
    plan(bodywash, bodywash.settings.with_overrides(solve__threads=1))
    assert set(asked) == {1}  # at most the cores: as asked


def test_branch_and_cut_sees_shortage_bounded_by_the_first_plans_cost(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sets up at 30 and is short at 100 a unit, B needs no setup and is short at 1:
    the optimum makes A's 20 in W1 with one setup (30) and B's 10 beside it. A plan
    no dearer than 30 can leave at most 30 / 100 of a unit of each A entry short, so
    that is the bound branch and cut gets (with a margin); B's 10 could be
    left short at 10 and keeps its bound. The plan is the same."""
    from formulations.allocation import build

    ds = make(
        products="product,priority,shortage_cost\nA,1,100\nB,1,1",
        routings="product,line,rate,setup_cost\nA,L1,10,30\nB,L1,10,0",
        forecast="product,period,quantity\nA,W1,10\nA,W2,10\nB,W1,10",
    )
    model = build(ds)
    short = model.lp.variables["short"].index
    a, b = (short["product"] == "A").to_numpy(), (short["product"] == "B").to_numpy()
    optimum = HighsBackend().solve(model.lp, solve_module.SolveOptions(mip_gap=0.0))
    assert optimum.values is not None
    assert optimum.objective == pytest.approx(30.0)
    upper = solve_module._shortage_cutoff(model, optimum.values).upper[model.short]
    np.testing.assert_allclose(upper[a], 0.3 * (1 + 1e-6) + solve_module.SHORT_MARGIN)
    np.testing.assert_array_equal(upper[b], [10.0])
    idle = solve_module.idle_plan(model)  # 2,010: every entry may be left short in full
    np.testing.assert_array_equal(solve_module._shortage_cutoff(model, idle).upper, model.lp.upper)

    seen: list[np.ndarray] = []
    real = HighsBackend.solve

    def spying(self: HighsBackend, lp: Any, options: Any) -> Solution:
        if lp.is_mip:
            seen.append(lp.upper[model.short])
        return real(self, lp, options)

    monkeypatch.setattr(HighsBackend, "solve", spying)
    result = plan(ds)
    assert result.summary.status == "optimal"
    assert result.summary.objective == pytest.approx(30.0)
    assert result.summary.objective_terms["shortage"] == 0.0
    assert seen and np.all(seen[-1][a] < 1.0) and seen[-1][b][0] == 10.0
