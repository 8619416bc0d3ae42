"""The MILP start: the idle plan and LP rounding give plans feasible for the model."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from formulations.allocation import build
from formulations.lp import LinearModel
from optimizer import Dataset, load_dataset
from optimizer.backends import SolveOptions, get_backend
from optimizer.heuristics import idle_plan, mip_start, starting_basis

RICH = dict(
    products="product,priority,shortage_cost,safety_stock,safety_stock_cost,initial_inventory\n"
    "A,1,5,20,1,5\nB,2,5,0,0,0",
    lines="line,hours,overtime_hours,overtime_cost\nL1,10,2,3",
    routings="product,line,rate,setup_hours,setup_cost,min_lot\nA,L1,10,1,5,30\nB,L1,10,0.5,2,0",
    materials="material,initial_inventory,holding_cost\nCAP,50,0.1",
    bom="product,material,quantity_per_unit\nA,CAP,1",
    receipts="material,period,quantity,po\nCAP,W2,100,PO-9",
    previous_plan="product,line,period,quantity\nA,L1,W1,40\nB,L1,W2,10",
    settings="[stability]\nfrozen_periods = 1\nfrozen_shortfall_cost = 1\nchange_cost = 0.5",
)


def _feasible(lp: LinearModel, v: np.ndarray) -> bool:
    act = lp.row_activity(v)
    tol = 1e-6
    return bool(
        np.all(v >= lp.lower - tol)
        and np.all(v <= lp.upper + tol)
        and np.all(act >= lp.row_lower - tol)
        and np.all(act <= lp.row_upper + tol)
        and np.all(np.abs(v[lp.integer] - np.round(v[lp.integer])) < tol)
    )


def test_idle_plan_is_feasible(make: Callable[..., Dataset]) -> None:
    model = build(make(**RICH))
    assert model.lp.is_mip
    v = idle_plan(model)
    assert _feasible(model.lp, v)
    # nothing made, every entry short
    assert v[model.x].sum() == 0
    assert v[model.short].sum() == pytest.approx(240)


def test_mip_start_is_feasible_and_beats_idle(make: Callable[..., Dataset]) -> None:
    model = build(make(**RICH))
    v = mip_start(model, get_backend("highs"), time.perf_counter() + 30)
    assert v is not None
    assert _feasible(model.lp, v)
    assert model.lp.cost @ v < model.lp.cost @ idle_plan(model)


def test_mip_start_out_of_time_falls_back_to_idle(make: Callable[..., Dataset]) -> None:
    model = build(make(**RICH))
    v = mip_start(model, get_backend("highs"), time.perf_counter() - 1)
    assert v is not None
    np.testing.assert_array_equal(v, idle_plan(model))


def test_setup_free_start_is_feasible_and_meets_the_minimum_lots(
    make: Callable[..., Dataset],
) -> None:
    from optimizer.heuristics import setup_free_start

    model = build(make(**RICH))
    found = setup_free_start(model, time.perf_counter() + 30)
    assert found is not None
    v, warm, bound = found
    assert _feasible(model.lp, v)
    assert model.lp.cost @ v < model.lp.cost @ idle_plan(model)
    # A's setups open only with a lot of at least its minimum (30)
    T = model.data.T
    x = v[model.x[model.y_routing].ravel()]
    y = v[model.y.ravel()]
    min_lot = np.repeat(model.data.min_lot[model.y_routing], T)
    assert np.all(x[y > 0.5] >= min_lot[y > 0.5] - 1e-6)
    assert np.all(x[y < 0.5] <= 1e-9)
    assert set(warm.dropped) >= {"setup", "min_lot"}
    # the setup-free LP is a relaxation: its optimum bounds the MILP's from below
    exact = get_backend("highs").solve(model.lp, SolveOptions(mip_gap=0.0))
    assert exact.status.value == "optimal"
    assert bound <= exact.objective + 1e-6
    assert bound <= model.lp.cost @ v + model.lp.offset


def test_setup_free_start_out_of_time(make: Callable[..., Dataset]) -> None:
    from optimizer.heuristics import setup_free_start

    assert setup_free_start(build(make(**RICH)), time.perf_counter() - 1) is None


@pytest.mark.parametrize("threads", [1, 0])
def test_large_milps_plan_from_the_setup_free_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, threads: int
) -> None:
    """A MILP over ``SETUP_FREE_ROWS`` rows (lowered here to a generated s) starts from
    the setup-free LP, on its own (``threads = 1``) or beside branch and cut (lowered
    ``SEARCH_MIN_SETUPS``); the plan passes the independent check inside ``plan()``
    and costs no more than the start."""
    import optimizer.improve
    import optimizer.solve
    from benchmarks.generate import generate
    from optimizer import load_dataset, plan

    monkeypatch.setattr(optimizer.solve, "SETUP_FREE_ROWS", 0)
    monkeypatch.setattr(optimizer.solve, "SEARCH_MIN_SETUPS", 1)
    monkeypatch.setattr(optimizer.improve, "SEARCH_MIN_SETUPS", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load_dataset(generate("s", seed=1, out=tmp_path / "s1", setups=True))
    lines: list[str] = []
    settings = ds.settings.with_overrides(solve__threads=threads, solve__time_limit_s=5)
    result = plan(ds, settings, progress=lines.append, log=lines.append)
    assert result.summary.status in ("optimal", "feasible")
    assert any("setup-free LP" in line for line in lines), lines
    idle = float(build(ds).lp.cost @ idle_plan(build(ds)) + build(ds).lp.offset)
    assert result.summary.objective is not None and result.summary.objective < idle


@pytest.mark.parametrize("seed", [1, 2])
def test_the_setup_free_lp_from_the_crash_basis(seed: int, tmp_path: Path) -> None:
    """The setup-free LP (setups closed, their rows left out) starts from the
    formulation's crash basis, mapped to the rows it keeps: the same optimum as from
    HiGHS's slack basis."""
    from benchmarks.generate import generate
    from optimizer.improve import LINKS, REDUNDANT, WarmLp, relaxed, setup_columns

    model = build(load_dataset(generate("s", seed, tmp_path / "s", setups=True)))
    ycols = setup_columns(model)[0]
    values = []
    for crash in (None, starting_basis(model)):
        warm = WarmLp(relaxed(model.lp), 1, drop=REDUNDANT + LINKS)
        warm.set_bounds(ycols, 0.0, 0.0)
        result = warm.solve_staged(30.0, model.lp, "capacity", crash=crash)
        assert result is not None
        values.append(result[0])
    assert values[1] == pytest.approx(values[0], rel=1e-9)
    # HiGHS takes the crash mapped to the rows the instance keeps, and not unmapped
    import highspy

    from optimizer.backends.highs import install_basis

    col, row = model.crash_basis()
    assert len(row) > warm.h.getNumRow()
    assert install_basis(highspy, warm.h, col, row[warm.row_of >= 0])
    assert not install_basis(highspy, warm.h, col, row)
