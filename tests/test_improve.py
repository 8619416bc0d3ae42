"""The setup local search: feasible plans, never worse than the start."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from formulations.allocation import build
from optimizer import Dataset
from optimizer.backends import get_backend
from optimizer.heuristics import idle_plan, mip_start
from optimizer.improve import improve, local_search
from tests.test_heuristics import RICH, _feasible

TIGHT = dict(
    products="product,priority,shortage_cost,holding_cost\nA,1,50,0.1\nB,2,20,0.1\nC,3,10,0.1",
    lines="line,hours,overtime_hours,overtime_cost\nL1,10,0,0\nL2,8,0,0",
    routings="product,line,rate,setup_hours,setup_cost,min_lot\n"
    "A,L1,10,2,5,20\nA,L2,8,1,5,10\nB,L1,10,2,5,20\nC,L2,8,1,5,10",
)


def test_local_search_from_idle_is_feasible_and_better(make: Callable[..., Dataset]) -> None:
    for spec in (RICH, TIGHT):
        model = build(make(**spec))
        idle = idle_plan(model)
        v = local_search(model, idle, time.perf_counter() + 20)
        assert _feasible(model.lp, v)
        assert model.lp.cost @ v < model.lp.cost @ idle - 1e-6


def test_improve_never_worse_than_the_start(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    from optimizer import improve as improve_module

    model = build(make(**TIGHT))
    start = mip_start(model, get_backend("highs"), time.perf_counter() + 20)
    assert start is not None
    # small models are left to branch and cut ...
    assert improve(model, start, time.perf_counter() + 20) is start
    # ... unless the threshold says otherwise
    monkeypatch.setattr(improve_module, "SEARCH_MIN_SETUPS", 0)
    v = improve(model, start, time.perf_counter() + 20)
    assert _feasible(model.lp, v)
    assert model.lp.cost @ v <= model.lp.cost @ start + 1e-6


def test_the_search_reports_each_better_plan(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    from optimizer import improve as improve_module

    monkeypatch.setattr(improve_module, "SEARCH_MIN_SETUPS", 0)
    model = build(make(**TIGHT))
    lp = model.lp
    idle = idle_plan(model)
    seen: list[tuple[np.ndarray, float]] = []
    v = improve(
        model, idle, time.perf_counter() + 20, report=lambda x, obj, _what: seen.append((x, obj))
    )
    assert seen
    objectives = [obj for _, obj in seen]
    assert all(b < a for a, b in zip(objectives, objectives[1:], strict=False))
    for values, obj in seen:
        assert _feasible(lp, values)
        assert float(lp.cost @ values + lp.offset) == pytest.approx(obj, rel=1e-9)
    assert float(lp.cost @ v + lp.offset) == pytest.approx(objectives[-1], rel=1e-9)


def test_the_search_stops_when_asked(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    from optimizer import improve as improve_module

    monkeypatch.setattr(improve_module, "SEARCH_MIN_SETUPS", 0)
    model = build(make(**TIGHT))
    idle = idle_plan(model)
    assert improve(model, idle, time.perf_counter() + 20, stop=lambda: True) is idle


def test_improve_out_of_time_returns_the_start(make: Callable[..., Dataset]) -> None:
    model = build(make(**TIGHT))
    idle = idle_plan(model)
    assert improve(model, idle, time.perf_counter() - 1) is idle


SAFETY = dict(
    products="product,priority,shortage_cost,holding_cost,safety_stock,safety_stock_cost,"
    "initial_inventory\nA,1,50,0.1,15,2,5\nB,2,20,0.1,10,1,0\nC,3,10,0.1,0,0,0",
    lines="line,hours,overtime_hours,overtime_cost\nL1,10,2,30\nL2,8,0,0",
    routings="product,line,rate,setup_hours,setup_cost,min_lot\n"
    "A,L1,10,2,5,20\nA,L2,8,1,5,10\nB,L1,10,2,5,20\nB,L2,6,1,8,0\nC,L2,8,1,5,10",
)


def test_safety_lot_windows_keep_the_optimum(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """(9') cuts no integer plan: the MILP optimum is the same with and without it."""
    from formulations import allocation
    from optimizer.backends import SolveOptions

    dataset = make(**SAFETY)
    objectives = []
    for flag in (False, True):
        monkeypatch.setattr(allocation, "SAFETY_LOT_WINDOWS", flag)
        model = build(dataset)
        assert ("lot_window_safety" in model.lp.constraints) == flag
        sol = get_backend("highs").solve(model.lp, SolveOptions(mip_gap=0.0))
        assert sol.status.value == "optimal", sol.message
        objectives.append(sol.objective)
    assert objectives[0] == pytest.approx(objectives[1], rel=1e-9, abs=1e-6)


WEEKLY = dict(
    base=False,
    periods="period,start\nW1,2026-11-30\nW2,2026-12-07\nW3,2026-12-14\nW4,2026-12-21",
    products="product,shortage_cost,holding_cost\nA,100,1",
    lines="line,hours\nL1,100",
    routings="product,line,rate,setup_cost\nA,L1,10,50",
    forecast="product,period,quantity\nA,W1,10\nA,W2,10\nA,W3,10\nA,W4,10",
)
"""10 a week of A, a setup costs 50 and a unit-week of stock 1. Weekly lots cost 200;
one lot of 40 in W1 costs 50 + 30 + 20 + 10 = 110; two lots (W1 and W3) cost
100 + 10 + 10 = 120. The optimum is one lot: 110."""


def test_merges_close_setups_with_an_open_one_just_before(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    from optimizer import improve as improve_module

    model = build(make(**WEEKLY))
    weekly = np.ones(4, dtype=bool)
    run = improve_module._Search(model, weekly, time.perf_counter() + 20, 0, None)
    assert run.cost + model.lp.offset == pytest.approx(200.0)
    # W2, W3 and W4 each have an open setup a week or two before; W1 has none
    assert sorted(run._merges(run.reduced_costs()).tolist()) == [1, 2, 3]
    run.descend()
    assert run.is_open.tolist() == [True, False, False, False]
    assert run.cost + model.lp.offset == pytest.approx(110.0)


def test_the_search_goes_on_from_a_cheaper_plan_found_elsewhere(
    make: Callable[..., Dataset],
) -> None:
    from optimizer import improve as improve_module

    model = build(make(**WEEKLY))
    lp = model.lp
    ycols = model.y.ravel()
    one_lot = np.zeros(lp.num_cols)
    one_lot[ycols] = [1.0, 0.0, 0.0, 0.0]  # only the setups matter: the LP does the rest
    offered: list[float] = []

    def adopt(best: float) -> np.ndarray | None:
        offered.append(best)
        return one_lot if best > 110.0 + 1e-6 else None

    weekly = np.ones(4, dtype=bool)
    run = improve_module._Search(model, weekly, time.perf_counter() + 20, 0, None, adopt=adopt)
    assert run._adopted()
    assert offered == [pytest.approx(200.0)]
    assert run.is_open.tolist() == [True, False, False, False]
    assert run.cost + lp.offset == pytest.approx(110.0)
    assert not run._adopted()  # nothing cheaper on offer now

    # a plan that is dearer for the search than its own is not taken
    run = improve_module._Search(
        model,
        np.array([True, False, False, False]),
        time.perf_counter() + 20,
        0,
        None,
        adopt=lambda best: np.where(np.isin(np.arange(lp.num_cols), ycols), 1.0, 0.0),
    )
    assert not run._adopted()
    assert run.is_open.tolist() == [True, False, False, False]
    assert run.cost + lp.offset == pytest.approx(110.0)


def test_the_sub_mip_over_every_setup_is_the_milp(make: Callable[..., Dataset]) -> None:
    """With every setup open, :meth:`sub_mip`'s neighbourhood is the whole model:
    its plan costs the MILP's optimum, found by CBC on its own."""
    from optimizer import improve as improve_module
    from optimizer.backends import SolveOptions

    for spec in (RICH, TIGHT):
        model = build(make(**spec))
        lp = model.lp
        optimum = get_backend("cbc").solve(lp, SolveOptions(time_limit=60, mip_gap=0.0))
        assert optimum.status.value == "optimal"
        seen: list[tuple[np.ndarray, float, str]] = []

        def report(v: np.ndarray, obj: float, what: str, seen: list[Any] = seen) -> None:
            seen.append((v, obj, what))

        run = improve_module._Search(
            model,
            np.ones(model.y.size, dtype=bool),
            time.perf_counter() + 60,
            0,
            None,
            report=report,
        )
        before = run.cost
        assert run.sub_mip() == (before + lp.offset > optimum.objective + 1e-6)
        assert run.cost + lp.offset == pytest.approx(optimum.objective, rel=1e-6, abs=1e-6)
        assert seen
        for values, obj, _ in seen:
            assert _feasible(lp, values)
            assert float(lp.cost @ values + lp.offset) == pytest.approx(obj, rel=1e-9)
        assert {what for *_, what in seen} <= {
            improve_module.SUBMIP_FOUND,
            "setup local search",
        }


def test_without_openings_the_sub_mip_only_closes_setups(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no openings allowed, closed setups stay closed, even where opening one pays
    (W1, the model's optimum, 110); the plan is the best with setups among the open
    ones (every subset priced here) and the LP optimum of its setups."""
    from itertools import product as subsets

    from optimizer import improve as improve_module

    monkeypatch.setattr(improve_module, "SUBMIP_OPENINGS", 0)
    model = build(make(**WEEKLY))
    lp = model.lp
    is_open = np.array([False, True, True, True])  # weekly lots from W2: W1 goes short
    run = improve_module._Search(model, is_open, time.perf_counter() + 60, 0, None)
    assert run.cost + lp.offset == pytest.approx(1150.0)  # 3 setups + 1,000 short in W1
    assert run.sub_mip()
    assert not (run.is_open & ~is_open).any()

    def cost_of(pattern: np.ndarray) -> float:
        other = improve_module._Search(model, pattern, time.perf_counter() + 60, 0, None)
        return float("inf") if other.values is None else other.cost

    best = min(cost_of(np.array(bits, dtype=bool) & is_open) for bits in subsets((0, 1), repeat=4))
    assert run.cost == pytest.approx(best, rel=1e-9)
    # one lot of 30 in W2: 50 + 20 + 10 held, 1,000 short in W1
    assert run.is_open.tolist() == [False, True, False, False]
    assert run.cost + lp.offset == pytest.approx(1080.0)
    assert cost_of(run.is_open) == pytest.approx(run.cost, rel=1e-9)
    assert not run.sub_mip()  # nothing left to gain in that neighbourhood


def test_the_sub_mip_opens_the_closed_setups_ranked_best(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sub-MIP may also open the ``SUBMIP_OPENINGS`` closed setups whose opening
    the LP's reduced costs price lowest, and only those. WEEKLY from weekly lots in
    W2-W4 (1,150: W1 goes short): W1, the one closed setup, is priced below zero, and
    with it the sub-MIP reaches the model's optimum, one lot of 40 in W1 (110). From a
    lot in W4 alone, with one opening allowed, only the best-ranked closed setup may
    open."""
    from optimizer import improve as improve_module

    model = build(make(**WEEKLY))
    lp = model.lp
    run = improve_module._Search(
        model, np.array([False, True, True, True]), time.perf_counter() + 60, 0, None
    )
    assert run.openings().tolist() == [True, False, False, False]
    assert run.sub_mip()
    assert run.is_open.tolist() == [True, False, False, False]
    assert run.cost + lp.offset == pytest.approx(110.0)

    monkeypatch.setattr(improve_module, "SUBMIP_OPENINGS", 1)
    late = np.array([False, False, False, True])
    run = improve_module._Search(model, late, time.perf_counter() + 60, 0, None)
    rc = run.reduced_costs()
    best = int(np.argmin(np.where(late, np.inf, rc)))
    assert rc[best] < 0
    assert run.openings().tolist() == [i == best for i in range(4)]
    assert run.sub_mip()
    assert not (run.is_open & ~late & (np.arange(4) != best)).any()
    # an open setup is never an opening, whatever its reduced cost
    run = improve_module._Search(model, np.ones(4, dtype=bool), time.perf_counter() + 60, 0, None)
    assert not run.openings().any()


def test_the_search_runs_the_sub_mip_beside_branch_and_cut(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given ``stop`` (the search runs beside branch and cut), the descent gets
    ``SUBMIP_AFTER`` of the time, then the sub-MIP runs; without, or on a model over
    ``SUBMIP_MAX_ROWS`` rows, it does not."""
    from optimizer import improve as improve_module

    calls: list[int] = []
    real = improve_module._Search.sub_mip

    def spy(self: improve_module._Search) -> bool:
        calls.append(int(self.is_open.sum()))
        return real(self)

    monkeypatch.setattr(improve_module._Search, "sub_mip", spy)
    monkeypatch.setattr(improve_module, "SUBMIP_MIN_SECONDS", 0.5)
    model = build(make(**TIGHT))
    start = idle_plan(model)
    improve_module.search(model, start[model.y.ravel()] > 0.5, time.perf_counter() + 2)
    assert calls == []
    found = improve_module.search(
        model, start[model.y.ravel()] > 0.5, time.perf_counter() + 3, stop=lambda: False
    )
    assert calls
    assert found is not None and _feasible(model.lp, found[1])
    calls.clear()
    monkeypatch.setattr(improve_module, "SUBMIP_MAX_ROWS", model.lp.num_rows - 1)
    improve_module.search(
        model, start[model.y.ravel()] > 0.5, time.perf_counter() + 2, stop=lambda: False
    )
    assert calls == []  # too large for the sub-MIP to pay


def test_a_sub_mip_without_a_better_plan_for_long_stops(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sub-MIP is told to stop once ``SUBMIP_STALL`` seconds passed without a better
    plan (since its start here), and not before."""
    from optimizer import improve as improve_module
    from optimizer.backends.highs import HighsBackend

    asked: list[bool] = []
    real = HighsBackend.solve

    def records(self: HighsBackend, model: Any, options: Any) -> Any:
        asked.append(options.cancel())
        return real(self, model, options)

    monkeypatch.setattr(HighsBackend, "solve", records)
    model = build(make(**WEEKLY))
    for stall, stops in ((1e9, False), (-1.0, True)):
        monkeypatch.setattr(improve_module, "SUBMIP_STALL", stall)
        run = improve_module._Search(
            model, np.ones(4, dtype=bool), time.perf_counter() + 60, 0, None, stop=lambda: False
        )
        asked.clear()
        run.sub_mip()
        assert asked == [stops]
